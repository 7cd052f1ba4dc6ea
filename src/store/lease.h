#pragma once
// A leader lease in the store: one controller acts on a store at a time. The
// holder renews it well before it expires; a standby takes it over once it
// has expired (its holder died or hung).

#include <chrono>
#include <string>

#include "store/db.h"
#include "util/clock.h"
#include "util/result.h"

namespace keelson::store {

inline constexpr const char* kControllerLease = "controller";

class Lease {
 public:
  /// `db` and `clock` must outlive the lease; `holder` names this process
  /// (host:pid:random), `ttl` is how long a renewal holds.
  Lease(Db& db, const Clock& clock, std::string holder, std::chrono::milliseconds ttl)
      : db_(db), clock_(clock), holder_(std::move(holder)), ttl_(ttl) {}

  /// Takes the lease if it is free, expired or already ours, and extends it
  /// by ttl. True when held after the call. One IMMEDIATE transaction.
  Result<bool> TryAcquire();
  /// Gives it up if held, so a standby takes over at once.
  Result<void> Release();
  /// The current holder and whether its lease is still valid.
  Result<std::pair<std::string, bool>> Holder();

  const std::string& holder() const { return holder_; }

 private:
  int64_t NowMs() const;

  Db& db_;
  const Clock& clock_;
  std::string holder_;
  std::chrono::milliseconds ttl_;
};

}  // namespace keelson::store
