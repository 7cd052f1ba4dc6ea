#include "util/cron.h"

#include <array>
#include <cctype>
#include <charconv>
#include <vector>

namespace keelson {
namespace {

struct Field {
  const char* name;
  int min, max;
  std::array<const char*, 12> names;  ///< index + min is the value; empty when none
};

constexpr Field kMinute{"minute", 0, 59, {}};
constexpr Field kHour{"hour", 0, 23, {}};
constexpr Field kDay{"day-of-month", 1, 31, {}};
constexpr Field kMonth{"month", 1, 12, {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}};
constexpr Field kWeekday{"day-of-week", 0, 6, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}};

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (size_t start = 0;;) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

Result<int> Value(std::string_view text, const Field& f) {
  std::string lower(text);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (size_t i = 0; i < f.names.size(); ++i) {
    if (f.names[i] && lower == f.names[i]) return f.min + static_cast<int>(i);
  }
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Unexpected(ErrorCode::kInvalid, std::string(f.name) + " field: not a number: \"" + std::string(text) + "\"");
  }
  return v;
}

// One comma-separated part of a field into `bits`; `star` when it is `*`
// or `?` without a step above 1.
template <size_t N>
Result<void> Part(std::string_view part, const Field& f, std::bitset<N>& bits, bool& star) {
  auto range_step = Split(part, '/');
  if (range_step.size() > 2) {
    return Unexpected(ErrorCode::kInvalid, std::string(f.name) + " field: too many slashes: \"" + std::string(part) + "\"");
  }
  int start = 0, end = 0, step = 1;
  const std::string_view range = range_step[0];
  bool is_star = false;
  if (range == "*" || range == "?") {
    start = f.min, end = f.max, is_star = true;
  } else {
    auto bounds = Split(range, '-');
    if (bounds.size() > 2) {
      return Unexpected(ErrorCode::kInvalid, std::string(f.name) + " field: too many hyphens: \"" + std::string(range) + "\"");
    }
    auto lo = Value(bounds[0], f);
    if (!lo) return Unexpected(lo.error());
    start = end = *lo;
    if (bounds.size() == 2) {
      auto hi = Value(bounds[1], f);
      if (!hi) return Unexpected(hi.error());
      end = *hi;
    }
  }
  if (range_step.size() == 2) {
    auto s = Value(range_step[1], Field{f.name, 0, 0, {}});
    if (!s || *s <= 0) {
      return Unexpected(ErrorCode::kInvalid, std::string(f.name) + " field: the step of \"" + std::string(part) +
                                                 "\" must be a positive number");
    }
    step = *s;
    if (!is_star && range.find('-') == std::string_view::npos) end = f.max;  // "5/15": from 5 to the end
    if (step > 1) is_star = false;
  }
  if (start < f.min) {
    return Unexpected(ErrorCode::kInvalid, std::string(f.name) + " field: " + std::to_string(start) +
                                               " is below " + std::to_string(f.min));
  }
  if (end > f.max) {
    return Unexpected(ErrorCode::kInvalid, std::string(f.name) + " field: " + std::to_string(end) + " is above " +
                                               std::to_string(f.max));
  }
  if (start > end) {
    return Unexpected(ErrorCode::kInvalid, std::string(f.name) + " field: \"" + std::string(range) +
                                               "\" ends before it starts");
  }
  for (int v = start; v <= end; v += step) bits.set(static_cast<size_t>(v));
  star = star || is_star;
  return {};
}

template <size_t N>
Result<void> FieldBits(std::string_view text, const Field& f, std::bitset<N>& bits, bool& star) {
  for (auto part : Split(text, ',')) {
    if (auto r = Part(part, f, bits, star); !r) return r;
  }
  return {};
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (!text.empty() && text.front() == '@') {
    static constexpr std::pair<std::string_view, std::string_view> kDescriptors[] = {
        {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
        {"@daily", "0 0 * * *"},  {"@midnight", "0 0 * * *"}, {"@hourly", "0 * * * *"}};
    for (const auto& [name, expansion] : kDescriptors) {
      if (text == name) return Parse(expansion);
    }
    return Unexpected(ErrorCode::kInvalid, "unrecognized descriptor: " + std::string(text));
  }
  std::vector<std::string_view> fields;
  for (size_t i = 0; i < text.size();) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i) fields.push_back(text.substr(i, j - i));
    i = j;
  }
  if (fields.size() != 5) {
    return Unexpected(ErrorCode::kInvalid,
                      "expected exactly 5 fields (minute hour day-of-month month day-of-week), found " +
                          std::to_string(fields.size()));
  }
  CronSchedule c;
  bool ignored = false;
  if (auto r = FieldBits(fields[0], kMinute, c.minutes_, ignored); !r) return Unexpected(r.error());
  if (auto r = FieldBits(fields[1], kHour, c.hours_, ignored); !r) return Unexpected(r.error());
  if (auto r = FieldBits(fields[2], kDay, c.days_, c.days_star_); !r) return Unexpected(r.error());
  if (auto r = FieldBits(fields[3], kMonth, c.months_, ignored); !r) return Unexpected(r.error());
  if (auto r = FieldBits(fields[4], kWeekday, c.weekdays_, c.weekdays_star_); !r) return Unexpected(r.error());
  return c;
}

bool CronSchedule::Matches(const CronTime& t) const {
  if (!minutes_[static_cast<size_t>(t.minute)] || !hours_[static_cast<size_t>(t.hour)] ||
      !months_[static_cast<size_t>(t.month)]) {
    return false;
  }
  const bool day = days_[static_cast<size_t>(t.day)], weekday = weekdays_[static_cast<size_t>(t.weekday)];
  if (days_star_ || weekdays_star_) return day && weekday;
  return day || weekday;
}

}  // namespace keelson
