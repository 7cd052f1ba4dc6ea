#pragma once
// A work queue of object keys, as client-go's: a key waits in the queue once
// however often it is added; a key being processed is never handed to a
// second worker (added again meanwhile, it comes back after Done); failures
// back off per key, exponentially with jitter; AddAfter plans re-checks.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>

#include "util/clock.h"

namespace keelson::controller {

struct Backoff {
  std::chrono::milliseconds base{100};  ///< delay after the first failure
  std::chrono::milliseconds cap{std::chrono::minutes(5)};
  double jitter = 0.2;  ///< each delay is stretched by a random factor in [1, 1 + jitter)
};

/// Thread-safe. Times come from `clock`, which must outlive the queue.
class WorkQueue {
 public:
  explicit WorkQueue(const Clock& clock, Backoff backoff = {}, uint64_t seed = std::random_device{}());

  /// Ready at once (a delayed copy of the key is superseded).
  void Add(const std::string& key);
  /// Like Add, unless the key failed and waits out its backoff: then its
  /// retry stays when it is. For sources that repeat what a failure already
  /// said (engine events while the engine fails, periodic resyncs), so they
  /// cannot turn a backoff into a storm.
  void AddUnlessBackingOff(const std::string& key);
  /// Ready after `delay`; an earlier pending time for the key wins.
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);
  /// After the key's next backoff delay; each call without Forget doubles it.
  /// Returns the delay chosen.
  std::chrono::milliseconds AddRateLimited(const std::string& key);
  /// Resets the key's backoff (call after a success).
  void Forget(const std::string& key);
  int Failures(const std::string& key) const;

  /// Blocks until a key is ready (then it is "processing" until Done) or the
  /// queue shuts down (nullopt). Delayed keys wait in real time.
  std::optional<std::string> Get();
  /// Like Get without blocking: nullopt when nothing is ready now.
  std::optional<std::string> TryGet();
  /// Marks the key processed; if it was added meanwhile it is queued again.
  void Done(const std::string& key);

  /// Wakes every Get with nullopt; later adds are ignored.
  void ShutDown();
  /// Keys ready or waiting for their time (not those being processed).
  size_t Depth() const;
  /// True when nothing is queued, delayed or processing.
  bool Idle() const;

 private:
  void PromoteDue();  ///< moves delayed keys whose time came into the queue; mu_ held
  void Enqueue(const std::string& key);  ///< mu_ held
  std::optional<std::string> Pop();      ///< mu_ held

  const Clock& clock_;
  Backoff backoff_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> queued_;      ///< in queue_
  std::set<std::string> processing_;  ///< handed out, not Done
  std::set<std::string> dirty_;       ///< added while processing
  std::map<std::string, TimePoint> delayed_;
  std::map<std::string, int> failures_;
  std::mt19937_64 rng_;
  bool shut_down_ = false;
};

/// The controller's own status writes, so the store watcher can tell them
/// from changes that need a reconcile (a status write is the end of one).
/// Thread-safe.
class StatusWrites {
 public:
  /// The worker wrote `key`'s status, giving it resourceVersion `rv`.
  void Note(const std::string& key, int64_t rv);
  /// The watcher saw `key` at `rv`: true if that is the controller's own
  /// write (nothing else changed it since). Forgets the note either way.
  bool Own(const std::string& key, int64_t rv);

 private:
  std::mutex mu_;
  std::map<std::string, int64_t> written_;
};

}  // namespace keelson::controller
