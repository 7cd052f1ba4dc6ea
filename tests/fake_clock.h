#pragma once
// A Clock that moves only when told to.

#include "util/clock.h"

namespace keelson::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::seconds(1'800'000'000))) : now_(start) {}
  TimePoint Now() const override { return now_; }
  void Advance(std::chrono::nanoseconds d) { now_ += std::chrono::duration_cast<TimePoint::duration>(d); }

 private:
  TimePoint now_;
};

}  // namespace keelson::testing
