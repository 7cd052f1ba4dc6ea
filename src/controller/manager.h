#pragma once
// The controller's run loop: a leader lease, event sources that only enqueue
// keys (store changes, engine events, a periodic resync), and N workers that
// Reconcile them.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "controller/cache.h"
#include "controller/metrics.h"
#include "controller/work_queue.h"
#include "docker/engine.h"
#include "store/object_store.h"
#include "util/clock.h"
#include "util/result.h"

namespace keelson::controller {

struct ManagerOptions {
  std::string db_path;
  int workers = 4;
  std::chrono::milliseconds resync{std::chrono::seconds(30)};
  std::chrono::milliseconds store_poll{100};
  std::chrono::milliseconds lease_ttl{std::chrono::seconds(10)};
  std::chrono::milliseconds lease_renew{std::chrono::seconds(2)};
  std::chrono::seconds image_recheck{300};
  Backoff backoff;
};

class Manager {
 public:
  /// `engine` and `clock` must outlive the manager; the clock must be a real
  /// one (threads sleep on it).
  Manager(docker::Engine& engine, const Clock& clock, ManagerOptions options);
  ~Manager();

  /// Waits for the lease (standby until then), then runs until Stop().
  /// Errors: the store cannot be opened, or the lease was lost.
  Result<void> Run();
  /// Asks Run to finish: in-flight reconciles complete, then it returns.
  /// Safe from any thread (not from a signal handler).
  void Stop();

  bool Leader() const { return leader_; }
  /// Lease held, engine reachable, first sync done.
  bool Ready() const { return leader_ && synced_ && engine_ok_; }
  std::string NotReadyReason() const;
  Metrics& metrics() { return metrics_; }

 private:
  void Worker();
  void WatchStore();
  void WatchEngine();
  void Resync(const char* why);
  void ResyncLoop();
  void OnEngineEvent(const docker::Event& e);
  void EnqueueAll();
  void EnqueueDependents(const std::string& key, store::ObjectStore& store);
  bool SleepFor(std::chrono::milliseconds d);  ///< false when stopping

  docker::Engine& engine_;
  const Clock& clock_;
  ManagerOptions opts_;
  Metrics metrics_;
  Cache cache_;
  WorkQueue queue_;
  StatusWrites status_writes_;  ///< the workers' own status writes, which the store watcher skips
  std::atomic<bool> stop_{false};
  std::atomic<bool> leader_{false}, synced_{false}, engine_ok_{false};
  docker::CancelFlag cancel_events_{false};
  std::mutex mu_;  ///< guards sleeping and resync
  std::condition_variable wake_;
  std::mutex resync_mu_;  ///< one resync at a time
  std::vector<std::thread> threads_;
};

/// A holder name for the lease: host, pid and a random part.
std::string LeaseHolderName();

}  // namespace keelson::controller
