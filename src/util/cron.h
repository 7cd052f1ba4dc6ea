#pragma once
// Cron schedules as robfig/cron's standard parser reads them (the parser
// KEDA's cron scaler uses): five fields, minute hour day-of-month month
// day-of-week, each `*`, a value, a range `a-b`, a step `*/n` or `a-b/n`,
// or a comma-separated list of those; months JAN-DEC and weekdays SUN-SAT
// by name (any case), weekdays 0 (Sunday) to 6; `?` as `*`; a single value
// with a step (`5/15`) runs to the field's end; and the descriptors @yearly
// (@annually), @monthly, @weekly, @daily (@midnight), @hourly. When both
// day fields are restricted a day matches either (as cron does); when one
// is `*` or `?` (or `*/1`), both must match.

#include <bitset>
#include <string>
#include <string_view>

#include "util/result.h"

namespace keelson {

/// Broken-down local time, as cron compares it.
struct CronTime {
  int minute = 0, hour = 0, day = 1, month = 1, weekday = 0;  ///< day 1-31, month 1-12, weekday 0 (Sunday) - 6
};

class CronSchedule {
 public:
  /// kInvalid with what is wrong: `minute field: 61 is above 59`.
  static Result<CronSchedule> Parse(std::string_view text);
  bool Matches(const CronTime& t) const;

 private:
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;
  std::bitset<13> months_;
  std::bitset<8> weekdays_;
  bool days_star_ = false, weekdays_star_ = false;
};

}  // namespace keelson
