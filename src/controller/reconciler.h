#pragma once
// Reconcile(key): read the object, let its kind's reconciler observe and
// plan (reconcile/kinds.h), execute the actions, observe again, write status
// and the controller's memory. Level-based and idempotent: it never knows
// which event woke it. It knows kinds only through reconcile::ReconcilerFor.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "controller/cache.h"
#include "controller/cache_world.h"
#include "controller/executor.h"
#include "controller/metrics.h"
#include "controller/source_sync.h"
#include "git/mirror.h"
#include "controller/work_queue.h"
#include "docker/engine.h"
#include "model/object.h"
#include "reconcile/kinds.h"
#include "store/object_store.h"
#include "util/clock.h"

namespace keelson::controller {

/// What every worker shares. All members are thread-safe.
struct Shared {
  docker::Engine& engine;
  Cache& cache;
  const Clock& clock;
  Metrics& metrics;
  std::chrono::seconds image_recheck{300};  ///< pullPolicy Always: pull again after this long
  StatusWrites* status_writes = nullptr;     ///< told of every status write, when set
  LongOperationSlots* long_ops = nullptr;    ///< bounds pulls and builds in flight, when set
  const Fence* fence = nullptr;              ///< asked before every engine action and store write, when set
  ProgressBoard* progress = nullptr;         ///< where pulls and builds report progress, when set
  Sources* sources = nullptr;                ///< git sources' mirrors and fetch times, when set
  const BusyBoard* busy = nullptr;           ///< replicas running a job, when set
  const QueuePoller* queues = nullptr;       ///< polled queue depths, when set
  GitHubRunners* github = nullptr;           ///< GitHub runner registrations, when set
  const RunnerSightings* sightings = nullptr;  ///< GitHub runners seen online, when set
};

/// What a converged pass saw, for a resync to tell whether anything the
/// object depends on changed since (Manager::EnqueueAll).
struct Settled {
  std::string uid;
  int64_t resource_version = 0;  ///< the object's, after the pass's own status write
  uint64_t owner_stamp = 0;      ///< Cache::OwnerStamp(uid) when the pass began
  uint64_t shared_stamp = 0;     ///< Cache::SharedStamp() when the pass began
};

struct Outcome {
  /// Set when the pass failed: transient errors retry with backoff, terminal
  /// ones (an invalid spec) are in the status and wait for a change.
  std::optional<Error> error;
  std::optional<std::chrono::milliseconds> requeue_after;
  bool ready_changed = false;  ///< Ready flipped: objects that depend on this one look again
  /// Set when the pass found the object converged with nothing left to do
  /// or to wait for, and its desired state depends only on the store and
  /// the cache (no file it reads).
  std::optional<Settled> settled;
};

/// What a failed pass means for the object: the condition's reason, whether
/// it is Degraded, and whether it is retried with the object's backoff.
struct Failure {
  const char* reason;
  bool degraded;
  bool retry;
};
/// By the action that failed (nullptr: planning failed) and the engine's error.
Failure Classify(const reconcile::Action* action, const Error& e);

class Reconciler {
 public:
  /// `store` is this worker's own (a store is one thread's).
  Reconciler(Shared& shared, store::ObjectStore& store)
      : s_(shared),
        store_(store),
        world_(shared.engine, shared.cache, store, shared.clock, shared.image_recheck, shared.busy,
               shared.queues, shared.sightings),
        executor_(shared.engine, shared.cache, shared.metrics, shared.long_ops, shared.fence, shared.progress,
                  shared.github) {}

  Outcome Reconcile(const std::string& key);

  /// Removes managed engine objects of this store whose owner uid is not in
  /// the store (containers first, then networks and volumes). Returns how many.
  Result<int> RemoveOrphans();

  reconcile::World& world() { return world_; }

 private:
  /// A fence is set and down: this controller must not act or write.
  bool Fenced() const { return s_.fence && !s_.fence->Held(); }
  Outcome Pass(const model::Object& o);
  /// A GitRepository's pass (source_sync.cc).
  Outcome SyncSource(const model::Object& o);
  /// After a source applied a revision: Ready once what it applied is Ready,
  /// HealthCheckFailed after spec.timeout; the outcome while still waiting
  /// or failed, nullopt once healthy (the pass goes on). Writes the status.
  std::optional<Outcome> WaitForHealth(const model::Object& o, const model::GitRepositorySpec& spec,
                                       nlohmann::json& status);
  /// spec.mode report: what the fetched revision would change, in status
  /// (Ready InSync or DriftDetected), nothing stored.
  Outcome Report(const model::Object& o, const model::GitRepositorySpec& spec, nlohmann::json& status,
                 git::Mirror& mirror, const git::Fetched& fetched, const std::filesystem::path& home,
                 const std::string& handled);
  /// A GitRepository being deleted: with spec.prune, what it applied goes too.
  void PruneSourceInventory(const model::Object& o);
  Outcome Delete(const model::Object& o);
  /// Runs the actions, recording an event for each; fills `ledger`.
  /// `failed`, when given, gets the first action that failed.
  Result<void> Act(const model::Object& o, const std::vector<reconcile::Action>& actions, reconcile::Ledger& ledger,
                   std::optional<reconcile::Action>* failed);
  Outcome Finish(const model::Object& o, const Result<reconcile::Plan>& after, nlohmann::json status,
                 const reconcile::Memory& memory, std::optional<Failure> failure = std::nullopt,
                 int64_t* rv = nullptr);
  nlohmann::json BuildStatus(const model::Object& o, const Result<reconcile::Plan>& after, nlohmann::json status,
                             reconcile::Memory& memory, std::optional<Failure> failure);
  void TransitionEvents(const model::Object& o, const nlohmann::json& before, const nlohmann::json& after);
  void RollBack(const model::Object& o);
  /// Writes status and memory conditionally on `o`'s resourceVersion; on a
  /// conflict, once more on the object as it is now (see the .cc).
  /// `rv`, when given, gets the object's resourceVersion after the write
  /// (its own when nothing was written).
  Result<bool> WriteStatus(const model::Object& o, const nlohmann::json& status, const nlohmann::json& memory,
                           int64_t* rv = nullptr);
  void Event(const model::Object& o, const std::string& type, const std::string& reason, const std::string& message);
  /// Keeps the output of the ephemeral runs the actions ended (RunHistory).
  void KeepRuns(const model::Object& o, const reconcile::Ledger& ledger);

  Shared& s_;
  store::ObjectStore& store_;
  CacheWorld world_;
  Executor executor_;
};

}  // namespace keelson::controller
