#include "util/units.h"

#include <cmath>
#include <cstdlib>
#include <string>

namespace keelson {
namespace {

// Reads a non-negative decimal "12", "1.5", ".5" from the front of `text`.
// Returns the number of characters consumed (0 when none).
size_t ReadDecimal(std::string_view text, long double* value) {
  size_t i = 0;
  long double v = 0;
  bool digits = false;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    v = v * 10 + (text[i++] - '0');
    digits = true;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    long double scale = 0.1L;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      v += (text[i++] - '0') * scale;
      scale /= 10;
      digits = true;
    }
  }
  if (!digits) return 0;
  *value = v;
  return i;
}

std::optional<long double> DurationUnit(std::string_view unit) {
  if (unit == "ns") return 1.0L;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1e3L;
  if (unit == "ms") return 1e6L;
  if (unit == "s") return 1e9L;
  if (unit == "m") return 60e9L;
  if (unit == "h") return 3600e9L;
  return std::nullopt;
}

bool IsUnitChar(char c) { return !(c >= '0' && c <= '9') && c != '.'; }

}  // namespace

std::optional<std::chrono::nanoseconds> ParseDuration(std::string_view text) {
  if (text == "0") return std::chrono::nanoseconds(0);
  if (text.empty() || text.size() > 64) return std::nullopt;
  long double total = 0;
  while (!text.empty()) {
    long double v = 0;
    size_t n = ReadDecimal(text, &v);
    if (n == 0) return std::nullopt;
    text.remove_prefix(n);
    size_t u = 0;
    while (u < text.size() && IsUnitChar(text[u])) ++u;
    auto scale = DurationUnit(text.substr(0, u));
    if (!scale) return std::nullopt;
    text.remove_prefix(u);
    total += v * *scale;
  }
  if (total > 9.2e18L) return std::nullopt;
  return std::chrono::nanoseconds(static_cast<int64_t>(std::llround(total)));
}

std::optional<int64_t> ParseMemoryQuantity(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  long double v = 0;
  size_t n = ReadDecimal(text, &v);
  if (n == 0) return std::nullopt;
  std::string_view suffix = text.substr(n);
  long double scale = 1;
  if (!suffix.empty() && (suffix[0] == 'e' || suffix[0] == 'E')) {
    char* end = nullptr;
    std::string exp(suffix.substr(1));
    long e = std::strtol(exp.c_str(), &end, 10);
    if (exp.empty() || *end != '\0' || e < 0 || e > 18) return std::nullopt;
    scale = std::pow(10.0L, e);
  } else if (!suffix.empty()) {
    static constexpr std::pair<std::string_view, long double> kSuffixes[] = {
        {"Ki", 1024.0L}, {"Mi", 1048576.0L}, {"Gi", 1073741824.0L},
        {"Ti", 1099511627776.0L}, {"Pi", 1125899906842624.0L}, {"Ei", 1152921504606846976.0L},
        {"k", 1e3L}, {"M", 1e6L}, {"G", 1e9L}, {"T", 1e12L}, {"P", 1e15L}, {"E", 1e18L},
    };
    bool found = false;
    for (const auto& [s, mult] : kSuffixes) {
      if (suffix == s) {
        scale = mult;
        found = true;
      }
    }
    if (!found) return std::nullopt;
  }
  long double bytes = std::ceil(v * scale);
  if (bytes > 9.2e18L) return std::nullopt;
  return static_cast<int64_t>(bytes);
}

std::optional<int64_t> ParseCpus(std::string_view text) {
  if (text.empty() || text.size() > 32) return std::nullopt;
  long double v = 0;
  size_t n = ReadDecimal(text, &v);
  if (n == 0) return std::nullopt;
  std::string_view suffix = text.substr(n);
  long double nanos = 0;
  if (suffix.empty()) {
    nanos = v * 1e9L;
  } else if (suffix == "m") {
    nanos = v * 1e6L;
  } else {
    return std::nullopt;
  }
  if (nanos < 1 || nanos > 1e15L) return std::nullopt;  // > 0 and at most 1M CPUs
  return static_cast<int64_t>(std::llround(nanos));
}

}  // namespace keelson
