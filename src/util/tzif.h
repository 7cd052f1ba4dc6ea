#pragma once
// IANA time zones from the system's compiled tz database (TZif files under
// $TZDIR, else /usr/share/zoneinfo, as glibc finds them; Debian's tzdata).
// Only what schedules need: the UTC offset in force at an instant. Times
// after a zone's last listed transition keep its last offset (Debian's
// files list transitions through 2037).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace keelson {

class TimeZone {
 public:
  /// "UTC", "Europe/Berlin", "America/New_York". Loaded once per name and
  /// shared. kInvalid for a name that is not a zone's, kNotFound when the
  /// database has no such zone.
  static Result<std::shared_ptr<const TimeZone>> Load(std::string_view name);
  /// Parses the bytes of a TZif file (versions 1 to 4).
  static Result<std::shared_ptr<const TimeZone>> FromTzif(std::string_view bytes);

  /// Seconds east of UTC in force at `unix_seconds`.
  int32_t OffsetAt(int64_t unix_seconds) const;

 private:
  std::vector<int64_t> transitions_;  ///< ascending
  std::vector<int32_t> offsets_;      ///< in force from each transition
  int32_t initial_ = 0;               ///< before the first
};

}  // namespace keelson
