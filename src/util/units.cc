#include "util/units.h"

#include <cmath>
#include <climits>
#include <cstdlib>
#include <string>

namespace keelson {
namespace {

// Reads a non-negative decimal "12", "1.5", ".5" from the front of `text` (CPUs).
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

constexpr uint64_t kMaxNanos = uint64_t{1} << 63;

std::optional<uint64_t> DurationUnit(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") return 1000;  // us, U+00B5 µs, U+03BC μs
  if (unit == "ms") return 1000000;
  if (unit == "s") return 1000000000;
  if (unit == "m") return 60000000000;
  if (unit == "h") return 3600000000000;
  return std::nullopt;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// [0-9]* as an integer; nullopt on overflow of int64's magnitude.
std::optional<uint64_t> LeadingInt(std::string_view* s) {
  uint64_t x = 0;
  size_t i = 0;
  for (; i < s->size() && IsDigit((*s)[i]); ++i) {
    if (x > (kMaxNanos - 1) / 10) return std::nullopt;
    x = x * 10 + static_cast<uint64_t>((*s)[i] - '0');
    if (x > kMaxNanos) return std::nullopt;
  }
  s->remove_prefix(i);
  return x;
}

// The digits after a '.': their value and 10^count, ignoring digits past what
// int64 can scale (as Go does).
void LeadingFraction(std::string_view* s, uint64_t* f, long double* scale) {
  size_t i = 0;
  bool overflow = false;
  *f = 0;
  *scale = 1;
  for (; i < s->size() && IsDigit((*s)[i]); ++i) {
    if (overflow) continue;
    if (*f > (kMaxNanos - 1) / 10) {
      overflow = true;
      continue;
    }
    uint64_t y = *f * 10 + static_cast<uint64_t>((*s)[i] - '0');
    if (y > kMaxNanos) {
      overflow = true;
      continue;
    }
    *f = y;
    *scale *= 10;
  }
  s->remove_prefix(i);
}

}  // namespace

std::optional<std::chrono::nanoseconds> ParseDuration(std::string_view s) {
  // Go's time.ParseDuration: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+, or "0".
  if (s.size() > 256) return std::nullopt;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return std::nullopt;
  uint64_t d = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || IsDigit(s[0]))) return std::nullopt;
    const size_t before = s.size();
    auto v = LeadingInt(&s);
    if (!v) return std::nullopt;
    const bool pre = before != s.size();
    bool post = false;
    uint64_t f = 0;
    long double scale = 1;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      const size_t at = s.size();
      LeadingFraction(&s, &f, &scale);
      post = at != s.size();
    }
    if (!pre && !post) return std::nullopt;  // ".s"
    size_t i = 0;
    while (i < s.size() && s[i] != '.' && !IsDigit(s[i])) ++i;
    if (i == 0) return std::nullopt;  // no unit
    auto unit = DurationUnit(s.substr(0, i));
    if (!unit) return std::nullopt;
    s.remove_prefix(i);
    if (*v > kMaxNanos / *unit) return std::nullopt;
    uint64_t x = *v * *unit;
    if (f > 0) {
      x += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(*unit) / static_cast<double>(scale)));
      if (x > kMaxNanos) return std::nullopt;
    }
    d += x;
    if (d > kMaxNanos) return std::nullopt;
  }
  if (neg) return std::chrono::nanoseconds(d == kMaxNanos ? INT64_MIN : -static_cast<int64_t>(d));
  if (d > kMaxNanos - 1) return std::nullopt;
  return std::chrono::nanoseconds(static_cast<int64_t>(d));
}

namespace {

__extension__ using Int128 = __int128;  // GCC and Clang on 64-bit targets

Int128 Pow(Int128 base, int n) {
  Int128 r = 1;
  while (n-- > 0) r *= base;
  return r;
}

// A quantity's suffix as base^power (binary 1024^n, decimal 10^n, or an
// exponent 10^n): nullopt when it is none of them.
std::optional<std::pair<int, int>> QuantitySuffix(std::string_view s) {
  static constexpr std::pair<std::string_view, std::pair<int, int>> kTable[] = {
      {"", {10, 0}},   {"k", {10, 3}},   {"M", {10, 6}},   {"G", {10, 9}},   {"T", {10, 12}},
      {"P", {10, 15}}, {"E", {10, 18}},  {"Ki", {2, 10}},  {"Mi", {2, 20}},  {"Gi", {2, 30}},
      {"Ti", {2, 40}}, {"Pi", {2, 50}},  {"Ei", {2, 60}},
  };
  for (const auto& [text, bp] : kTable) {
    if (s == text) return bp;
  }
  if (s.size() < 2 || (s[0] != 'e' && s[0] != 'E')) return std::nullopt;
  std::string_view exp = s.substr(1);
  bool neg = false;
  if (exp[0] == '+' || exp[0] == '-') {
    neg = exp[0] == '-';
    exp.remove_prefix(1);
  }
  if (exp.empty() || exp.size() > 2) return std::nullopt;
  int e = 0;
  for (char c : exp) {
    if (!IsDigit(c)) return std::nullopt;
    e = e * 10 + (c - '0');
  }
  return std::pair<int, int>{10, neg ? -e : e};
}

}  // namespace

std::optional<int64_t> ParseMemoryQuantity(std::string_view text) {
  // Kubernetes' quantity syntax, computed exactly: "8.1k" is 8100 bytes, and
  // a fraction of a byte rounds up (as Quantity.Value does). Negative
  // quantities and the sub-unit suffixes (n, u, m) are refused for bytes.
  if (text.empty() || text.size() > 64) return std::nullopt;
  if (text[0] == '+') text.remove_prefix(1);
  Int128 mant = 0;
  int frac = 0, digits = 0;
  bool any = false, point = false;
  size_t i = 0;
  for (; i < text.size() && (IsDigit(text[i]) || (text[i] == '.' && !point)); ++i) {
    if (text[i] == '.') {
      point = true;
      continue;
    }
    any = true;
    if (mant == 0 && text[i] == '0') {
      if (point) ++frac;
      continue;  // leading zeros are not significant
    }
    if (++digits > 19) return std::nullopt;  // beyond int64 whatever the suffix
    mant = mant * 10 + (text[i] - '0');
    if (point) ++frac;
  }
  if (!any) return std::nullopt;
  auto suffix = QuantitySuffix(text.substr(i));
  if (!suffix) return std::nullopt;
  auto [base, power] = *suffix;
  Int128 value;
  if (base == 2) {
    value = mant * (Int128{1} << power);
    Int128 div = Pow(10, frac);
    value = (value + div - 1) / div;
  } else {
    const int shift = power - frac;
    if (shift > 19) return mant == 0 ? std::optional<int64_t>(0) : std::nullopt;
    if (shift >= 0) {
      value = mant * Pow(10, shift);
    } else {
      if (-shift > 38) return mant == 0 ? 0 : 1;  // a tiny fraction of a byte: one
      Int128 div = Pow(10, -shift);
      value = (mant + div - 1) / div;
    }
  }
  if (value > INT64_MAX) return std::nullopt;
  return static_cast<int64_t>(value);
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
