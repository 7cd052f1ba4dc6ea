#pragma once
// Clock: the one seam to wall time, so tests run on a fake clock without sleeps.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace keelson {

using TimePoint = std::chrono::system_clock::time_point;

/// Abstract so it can be faked in tests. The real implementation is RealClock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

class RealClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

/// RFC 3339 UTC with second precision: "2026-11-23T10:04:05Z".
std::string FormatTimestamp(TimePoint t);
/// Parses FormatTimestamp's output (and a fractional-seconds variant); false on bad input.
bool ParseTimestamp(const std::string& s, TimePoint* out);
/// A strict RFC 3339 time ("2026-11-24T15:00:00Z", "...T16:00:00.5+01:00")
/// as unix seconds (the fraction dropped); nullopt when it is not one.
std::optional<int64_t> ParseRfc3339Seconds(const std::string& s);
/// A kubectl-style age: "45s", "12m", "3h", "5d".
std::string FormatAge(TimePoint then, TimePoint now);

}  // namespace keelson
