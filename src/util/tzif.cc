#include "util/tzif.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>

namespace keelson {
namespace {

uint32_t Be32(std::string_view b, size_t at) {
  return (uint32_t(uint8_t(b[at])) << 24) | (uint32_t(uint8_t(b[at + 1])) << 16) | (uint32_t(uint8_t(b[at + 2])) << 8) |
         uint32_t(uint8_t(b[at + 3]));
}

int64_t Be64(std::string_view b, size_t at) {
  return static_cast<int64_t>((uint64_t(Be32(b, at)) << 32) | Be32(b, at + 4));
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '/' || name.back() == '/') return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '+' && c != '/') return false;
  }
  for (size_t start = 0; start <= name.size();) {
    size_t end = name.find('/', start);
    std::string_view part = name.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return true;
}

}  // namespace

Result<std::shared_ptr<const TimeZone>> TimeZone::FromTzif(std::string_view b) {
  auto bad = [] { return Unexpected(ErrorCode::kInvalid, "not a TZif file"); };
  if (b.size() < 44 || b.substr(0, 4) != "TZif") return bad();
  const char version = b[4];
  size_t at = 0;
  auto counts = [&](size_t h, uint32_t* c) {
    for (int i = 0; i < 6; ++i) c[i] = Be32(b, h + 20 + 4 * static_cast<size_t>(i));
  };
  uint32_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  counts(0, c);
  size_t time_size = 4;
  if (version >= '2') {
    // Skip the 32-bit block to the 64-bit one.
    const size_t v1 = 44 + c[3] * 4ull + c[3] + c[4] * 6ull + c[5] + c[2] * 8ull + c[1] + c[0];
    if (b.size() < v1 + 44 || b.substr(v1, 4) != "TZif") return bad();
    at = v1;
    counts(at, c);
    time_size = 8;
  }
  const uint32_t timecnt = c[3], typecnt = c[4];
  size_t p = at + 44;
  const size_t need = p + timecnt * (time_size + 1) + typecnt * 6ull;
  if (typecnt == 0 || need > b.size()) return bad();
  auto tz = std::make_shared<TimeZone>();
  std::vector<uint8_t> types(timecnt);
  for (uint32_t i = 0; i < timecnt; ++i) {
    tz->transitions_.push_back(time_size == 8 ? Be64(b, p + i * 8ull) : static_cast<int32_t>(Be32(b, p + i * 4ull)));
  }
  p += timecnt * time_size;
  for (uint32_t i = 0; i < timecnt; ++i) types[i] = static_cast<uint8_t>(b[p + i]);
  p += timecnt;
  std::vector<int32_t> offsets(typecnt);
  for (uint32_t i = 0; i < typecnt; ++i) offsets[i] = static_cast<int32_t>(Be32(b, p + i * 6ull));
  for (uint32_t i = 0; i < timecnt; ++i) {
    if (types[i] >= typecnt) return bad();
    tz->offsets_.push_back(offsets[types[i]]);
  }
  if (!std::is_sorted(tz->transitions_.begin(), tz->transitions_.end())) return bad();
  tz->initial_ = offsets[0];  // RFC 8536: type 0 before the first transition
  return std::shared_ptr<const TimeZone>(std::move(tz));
}

Result<std::shared_ptr<const TimeZone>> TimeZone::Load(std::string_view name) {
  if (!ValidName(name)) return Unexpected(ErrorCode::kInvalid, "not a time zone name: \"" + std::string(name) + "\"");
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const TimeZone>, std::less<>> loaded;
  std::lock_guard lock(mu);
  if (auto it = loaded.find(name); it != loaded.end()) return it->second;
  const char* dir = std::getenv("TZDIR");
  const std::string path = std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unexpected(ErrorCode::kNotFound, "unknown time zone \"" + std::string(name) + "\" (no " + path + ")");
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  auto tz = FromTzif(bytes);
  if (!tz) return Unexpected(ErrorCode::kInvalid, "time zone \"" + std::string(name) + "\": " + path + " is " + tz.error().message);
  loaded.emplace(std::string(name), *tz);
  return *tz;
}

int32_t TimeZone::OffsetAt(int64_t t) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  if (it == transitions_.begin()) return initial_;
  return offsets_[static_cast<size_t>(it - transitions_.begin() - 1)];
}

}  // namespace keelson
