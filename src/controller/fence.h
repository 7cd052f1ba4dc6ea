#pragma once
// The lease fence: whether this controller may act on the engine and write
// the store right now. The lease loop extends it after each renewal, to the
// time the lease was renewed for (measured on the monotonic clock from
// before the renewal began, less a margin); it revokes it when a renewal
// fails or the lease is lost. Every engine action and every status or event
// write asks first, so a controller that was frozen (SIGSTOP, a stalled VM)
// and resumes after a standby took over acts on nothing from its stale view.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace keelson::controller {

class Fence {
 public:
  using Clock = std::chrono::steady_clock;

  /// True while the lease is known to be held: now is before the deadline.
  bool Held() const { return Clock::now().time_since_epoch().count() < until_.load(); }
  /// The lease was renewed, for `ttl` from `renewal_began` (taken before the
  /// store was asked, so the deadline is never later than the store's).
  void Extend(Clock::time_point renewal_began, std::chrono::milliseconds ttl) {
    until_ = (renewal_began + ttl - ttl / 10).time_since_epoch().count();
  }
  /// A renewal failed, or the lease was lost: nothing acts until it is renewed.
  void Revoke() { until_ = 0; }

 private:
  std::atomic<int64_t> until_{0};
};

/// The error an action or write gets when the fence is down: transient, so
/// the object is retried once the lease is renewed (or by the next leader).
inline constexpr const char* kFencedMessage =
    "not acting: this controller's lease is not known to be held (a renewal is late or failed)";

}  // namespace keelson::controller
