#pragma once
// The controller's run loop: a leader lease, event sources that only enqueue
// keys (store changes, engine events, a periodic resync), and N workers that
// Reconcile them.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "controller/busy_board.h"
#include "controller/busy_prober.h"
#include "controller/cache.h"
#include "controller/container_metrics.h"
#include "controller/progress_board.h"
#include "controller/queue_poller.h"
#include "controller/source_sync.h"
#include "controller/fence.h"
#include "controller/github_runners.h"
#include "controller/metrics.h"
#include "controller/reconciler.h"
#include "controller/work_queue.h"
#include "docker/engine.h"
#include "store/db.h"
#include "store/lease.h"
#include "store/object_store.h"
#include "util/clock.h"
#include "util/result.h"

namespace keelson::controller {

/// One thread's connection to the store: a Db is not shared between threads.
struct StoreSession {
  std::unique_ptr<store::Db> db;
  std::unique_ptr<store::ObjectStore> store;
};
/// Opens a StoreSession; each worker and watcher calls it once.
using StoreFactory = std::function<Result<StoreSession>()>;
/// The factory for the store file at `path`, with `clock`.
StoreFactory StoreAt(std::string path, const Clock& clock);

struct ManagerOptions {
  StoreFactory open_store;  ///< required
  int workers = 4;
  std::chrono::milliseconds resync{std::chrono::seconds(30)};
  std::chrono::milliseconds store_poll{100};
  std::chrono::milliseconds lease_ttl{std::chrono::seconds(10)};
  std::chrono::milliseconds lease_renew{std::chrono::seconds(2)};
  std::chrono::seconds image_recheck{300};
  /// Events last seen longer ago than this are deleted at each resync.
  std::chrono::milliseconds event_ttl{std::chrono::hours(1)};
  Backoff backoff;
  /// Where git sources keep their mirrors and worktrees; "": GitRepository
  /// objects are refused (InvalidSpec) by this controller.
  std::string source_dir;
  /// The keelson binary, to fetch in a helper process (controller/source_sync.h).
  std::string fetch_helper;
  /// What one fetch may receive and one checkout may write (--git-max-size).
  git::Limits git_limits;
  /// How often the runner lists of pools with GitHub credentials are read.
  std::chrono::milliseconds github_sync{std::chrono::seconds(10)};
  /// How GitHub is reached (tests give a stand-in's sender).
  ci::GitHubClient::Sender github_send = ci::Send;
};

class Manager {
 public:
  /// `engine` and `clock` must outlive the manager. Run's threads sleep in
  /// real time; the steps below (Resync, OnEngineEvent, PollStore, Drain)
  /// run on the caller's thread, so tests drive them on a fake clock.
  Manager(docker::Engine& engine, const Clock& clock, ManagerOptions options);
  ~Manager();

  /// Waits for the lease (standby until then), then runs until Stop().
  /// Errors: the store cannot be opened, or the lease was lost.
  Result<void> Run();
  /// Asks Run to finish: in-flight reconciles complete, then it returns.
  /// Safe from any thread (not from a signal handler).
  void Stop();

  bool Leader() const { return leader_; }
  /// Able to act now: the lease held (and its fence up), the first sync
  /// done, and the engine answering (a ping within kEngineAnswerWithin; a
  /// frozen or hung engine makes the controller not ready).
  bool Ready() const { return NotReadyReason().empty(); }
  std::string NotReadyReason() const;
  Metrics& metrics() { return metrics_; }
  /// Pulls and builds under way (controller --once shows them on a terminal).
  const ProgressBoard& progress() const { return progress_; }
  /// /metrics: the controller's own, then each container's (sampled while scraped).
  std::string RenderMetrics() { return metrics_.Render() + container_metrics_.Render(); }
  WorkQueue& queue() { return queue_; }
  /// Where busy probes (and the CI system) say which replicas run a job.
  BusyBoard& busy() { return busy_; }
  /// Someone in this process (the API server) wrote to the store: the store
  /// watcher looks now rather than at its next poll. Safe from any thread.
  void NudgeStoreWatcher();

  // The steps of the loop, each one callable alone.

  /// Lists the engine into the cache, removes orphans, enqueues every object:
  /// at once with `fresh_start` (the first sync, the engine back after a
  /// break), else leaving objects that wait out a failure's backoff be.
  void Resync(const char* why, bool fresh_start = false);
  /// Refreshes the cache for an engine event and enqueues the objects it
  /// concerns (controller/event_keys.h).
  void OnEngineEvent(const docker::Event& e);
  /// The store watcher's step: enqueues objects changed since `known`
  /// (which it updates), skipping the controller's own status writes.
  void PollStore(store::ObjectStore& store, std::map<std::string, int64_t>& known);
  /// Reconciles keys that are ready now, on this thread, until none is.
  /// Returns how many passes it made.
  int Drain();
  /// The busy prober's step: runs the busy probes that are due in the
  /// running replicas of autoscaled pools and enqueues the pools whose busy
  /// replicas changed.
  void ProbeBusy(store::ObjectStore& store, BusyProber& prober);
  /// The queue poller's step: polls the queues of autoscaled pools that are
  /// due and enqueues the pools whose reading changed.
  void PollQueues(store::ObjectStore& store);
  /// The GitHub runner watcher's step, for pools whose runners keelson
  /// manages: the runner list gives busy flags and who came online (pools
  /// whose replicas passed the registration timeout are enqueued), and
  /// offline registrations of the pool's with no replica are deleted.
  void SyncGitHubRunners(store::ObjectStore& store);
  /// How queues are polled (tests set another before Run).
  void SetQueuePoll(PollQueue poll) { queues_ = std::make_unique<QueuePoller>(clock_, std::move(poll)); }

 private:
  void Worker();
  /// One lease renewal: the fence goes up for the renewed term, or down.
  Result<bool> Renew(store::Lease& lease);
  /// Renews every lease_renew until Stop (ok), the lease is lost or a store
  /// fault is met (the error Run returns).
  Result<void> KeepLease(store::Lease& lease);
  /// A store fault a worker met: Run stops with it (the store is shared, so
  /// every worker would meet it too).
  void NoteFatal(const Error& e);
  std::optional<Error> Fatal();
  void Process(const std::string& key, Reconciler& reconciler, store::ObjectStore& store);
  void WatchStore();
  void WatchEngine();
  void ResyncLoop();
  void ProbeEngine();  ///< pings the engine every 2 s while leading
  void WatchBusy();    ///< ProbeBusy every second while leading
  void WatchQueues();  ///< PollQueues every second while leading
  void WatchGitHubRunners();  ///< SyncGitHubRunners every github_sync while leading
  /// The autoscaled pools of the store, decoded (those being deleted left out).
  std::vector<std::pair<model::Object, model::RunnerPoolSpec>> AutoscaledPools(store::ObjectStore& store);
  void EnqueueAll(bool fresh_start);
  bool SleepFor(std::chrono::milliseconds d);  ///< false when stopping
  /// SleepFor, cut short by NudgeStoreWatcher.
  bool SleepUntilNudged(std::chrono::milliseconds d);

  docker::Engine& engine_;
  const Clock& clock_;
  ManagerOptions opts_;
  Metrics metrics_;
  Cache cache_;
  ContainerMetrics container_metrics_{engine_, cache_, metrics_};
  ProgressBoard progress_;  ///< pulls and builds under way
  BusyBoard busy_;          ///< replicas of autoscaled pools running a job
  std::unique_ptr<QueuePoller> queues_;  ///< autoscaled pools' polled queue depths
  GitHubRunners github_{clock_, opts_.github_send};         ///< pools' GitHub runner registrations
  RunnerSightings sightings_;            ///< which of their replicas' runners came online
  WorkQueue queue_;
  StatusWrites status_writes_;  ///< the workers' own status writes, which the store watcher skips
  LongOperationSlots long_ops_;  ///< pulls and builds: one worker fewer than there are
  Sources sources_;              ///< git sources' mirrors and fetch times
  Fence fence_;                  ///< up while the lease is known to be held
  const Fence* active_fence_ = nullptr;  ///< &fence_ once Run leads; the steps alone (tests) are unfenced
  std::optional<Error> fatal_;   ///< a store fault a worker met: Run ends with it
  std::mutex fatal_mu_;
  std::atomic<bool> stop_{false};
  bool nudged_ = false;  ///< under mu_: NudgeStoreWatcher was called
  int64_t jobs_seen_ = 0;  ///< the store watcher's: the last change of the jobs table it saw
  std::atomic<bool> leader_{false}, synced_{false}, engine_ok_{false};
  std::atomic<int64_t> engine_answered_{0};  ///< steady_clock ticks of the last ping answered
  docker::CancelFlag cancel_events_{false};
  std::mutex mu_;  ///< guards sleeping and resync
  std::condition_variable wake_;
  std::mutex resync_mu_;  ///< one resync at a time
  /// Objects whose last pass settled (Outcome::settled), by key: a periodic
  /// resync leaves them alone while their resourceVersion and the cache's
  /// stamps for them are as that pass saw them.
  std::map<std::string, Settled> settled_;
  std::mutex settled_mu_;
  std::vector<std::thread> threads_;
  /// This store's id once Run leads: events about another store's engine
  /// objects wake nothing here. Empty (every event counts) for the steps alone.
  std::string store_id_;
  std::mutex store_id_mu_;
  std::string StoreIdForEvents();
};

/// How recently the engine must have answered a ping for /readyz.
inline constexpr std::chrono::seconds kEngineAnswerWithin{5};

/// A holder name for the lease: host, pid and a random part.
std::string LeaseHolderName();

}  // namespace keelson::controller
