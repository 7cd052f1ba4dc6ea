#include "util/clock.h"

#include <cstdio>
#include <ctime>

namespace keelson {

std::string FormatTimestamp(TimePoint t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool ParseTimestamp(const std::string& s, TimePoint* out) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return false;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  *out = std::chrono::system_clock::from_time_t(timegm(&tm));
  return true;
}

std::string FormatAge(TimePoint then, TimePoint now) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(now - then).count();
  if (secs < 0) secs = 0;
  char buf[32];
  if (secs < 120) {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(secs));
  } else if (secs < 2 * 3600) {
    std::snprintf(buf, sizeof buf, "%lldm", static_cast<long long>(secs / 60));
  } else if (secs < 48 * 3600) {
    std::snprintf(buf, sizeof buf, "%lldh", static_cast<long long>(secs / 3600));
  } else {
    std::snprintf(buf, sizeof buf, "%lldd", static_cast<long long>(secs / 86400));
  }
  return buf;
}

}  // namespace keelson
