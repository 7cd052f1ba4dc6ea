#pragma once
// The polled queue depths of autoscaled pools (spec.autoscaling.queue):
// each pool's endpoint asked every interval, the last reading kept for the
// pool's reconciler (World::QueueOf). A failed poll keeps the last depth
// and says why; a changed queue spec is polled at once.

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/specs.h"
#include "reconcile/autoscale.h"
#include "util/clock.h"
#include "util/result.h"

namespace keelson::controller {

struct QueueTarget {
  std::string key;  ///< the pool's work-queue key
  std::string uid;
  model::QueueSpec queue;
};

/// Asks one queue for its depth (ci::PollQueueDepth; tests give another).
using PollQueue = std::function<Result<int64_t>(const model::QueueSpec&)>;

class QueuePoller {
 public:
  QueuePoller(const Clock& clock, PollQueue poll) : clock_(clock), poll_(std::move(poll)) {}

  /// Polls the targets that are due, one after another, and forgets pools
  /// that are no longer targets. Returns the keys of pools whose reading
  /// changed. One thread ticks it.
  std::set<std::string> Tick(const std::vector<QueueTarget>& targets);
  /// The pool's last reading; nullopt before its first poll. Thread-safe.
  std::optional<reconcile::QueueReading> Of(const std::string& uid) const;

 private:
  struct State {
    reconcile::QueueReading reading;
    TimePoint polled_at;
    std::string asked;  ///< what was polled (url, path or query), to poll a changed spec at once
  };
  const Clock& clock_;
  PollQueue poll_;
  mutable std::mutex mu_;
  std::map<std::string, State> by_uid_;
};

}  // namespace keelson::controller
