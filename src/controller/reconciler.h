#pragma once
// Reconcile(key): read the object, plan against the cached engine state with
// the pure planners, act, observe again, write status. Level-based and
// idempotent: it never knows which event woke it.

#include <chrono>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "controller/cache.h"
#include "controller/metrics.h"
#include "controller/work_queue.h"
#include "docker/engine.h"
#include "model/object.h"
#include "reconcile/plan.h"
#include "store/object_store.h"
#include "util/clock.h"

namespace keelson::controller {

/// Container creates, or container removes, one reconcile runs at once.
inline constexpr size_t kParallelActions = 8;

/// Objects a Policy's status names; status.violations counts them all.
inline constexpr size_t kViolatorsShown = 20;

/// What every worker shares. All members are thread-safe.
struct Shared {
  docker::Engine& engine;
  Cache& cache;
  const Clock& clock;
  Metrics& metrics;
  std::chrono::seconds image_recheck{300};  ///< pullPolicy Always: pull again after this long
  StatusWrites* status_writes = nullptr;     ///< told of every status write, when set
};

struct Outcome {
  /// Set when the pass failed: transient errors retry with backoff, terminal
  /// ones (an invalid spec) are in the status and wait for a change.
  std::optional<Error> error;
  std::optional<std::chrono::milliseconds> requeue_after;
  bool ready_changed = false;  ///< Ready flipped: objects that depend on this one look again
};

class Reconciler {
 public:
  /// `store` is this worker's own (a store is one thread's).
  Reconciler(Shared& shared, store::ObjectStore& store) : s_(shared), store_(store) {}

  Outcome Reconcile(const std::string& key);

  /// The actions Reconcile would take now, changing nothing (keelson plan).
  /// Deletions plan removals; blocked objects return a Plan with blocked_*.
  Result<reconcile::Plan> PlanFor(const model::Object& o);

  /// Removes managed engine objects whose owner uid is not in the store
  /// (containers first, then networks and volumes). Returns how many.
  Result<int> RemoveOrphans();
  /// The orphans RemoveOrphans would remove now, as "container NAME" etc.
  Result<std::vector<std::string>> Orphans();

 private:
  // Planning, per kind (reconciler_plan.cc).
  Result<reconcile::Plan> PlanRunner(const model::Object& o);
  Result<reconcile::Plan> PlanImage(const model::Object& o);
  Result<reconcile::Plan> PlanPool(const model::Object& o);
  Result<void> PullFirstIfMissing(const std::string& image, reconcile::Plan* plan);
  /// Why a pool's template change is past spec.progressDeadline, or "".
  std::string PastProgressDeadline(const model::Object& o);
  /// rollback: auto: restores the newest earlier template from the history.
  void RollBack(const model::Object& o);
  Result<reconcile::Plan> PlanDeletion(const model::Object& o);
  /// A Policy's audit of the stored objects it governs: status.violations
  /// and the first kViolatorsShown in status.violators.
  Result<reconcile::Plan> PlanPolicy(const model::Object& o);
  /// An Image object's deletion: removes the image if keelson brought it
  /// onto the engine (status.createdOnEngine) and nothing uses it.
  Result<reconcile::Plan> PlanImageRemoval(const model::Object& o);
  /// The image reference a Runner spec runs, or a blocked plan saying what it
  /// waits for (an Image, a Network, a Volume, a dependsOn object).
  Result<std::string> ResolveDependencies(const model::Object& o, const nlohmann::json& spec, reconcile::Plan* blocked);

  // Acting (reconciler_act.cc).
  Result<void> Execute(const model::Object& o, const reconcile::Action& a, nlohmann::json& status);
  Result<void> CreateAndStart(const model::Object& o, const reconcile::Action& a);
  /// Container creates and removes may run side by side (RunsInParallel).
  static bool RunsInParallel(const reconcile::Action& a);
  /// Several container creates, or removes, at once (a pool's scale-up,
  /// scale-down or deletion), at most kParallelActions in flight.
  Result<void> ExecuteInParallel(const model::Object& o, const std::vector<reconcile::Action>& batch,
                                 nlohmann::json& status);
  /// Runs the plan's actions in order; runs of container creates, or of
  /// container removes, go in parallel.
  Result<void> ExecuteAll(const model::Object& o, const std::vector<reconcile::Action>& actions,
                          nlohmann::json& status);
  /// An ephemeral replica's finished run, counted in the status as it goes.
  void CountRun(const reconcile::Action& a, nlohmann::json& status);
  /// store_.UpdateStatus, noting the write in s_.status_writes.
  Result<bool> WriteStatus(const model::Object& o, const nlohmann::json& status);
  /// The event for an action's result; returns the result.
  Result<void> Report(const model::Object& o, const reconcile::Action& a, const Result<void>& r);
  Result<void> RemoveContainer(const std::string& id, int stop_timeout_s);
  Result<void> Call(const char* operation, Result<void> r);
  void Event(const model::Object& o, const std::string& type, const std::string& reason, const std::string& message);

  // Status (reconciler.cc).
  nlohmann::json BuildStatus(const model::Object& o, const Result<reconcile::Plan>& after, const nlohmann::json& previous);
  void RunnerStatus(const model::Object& o, bool converged, nlohmann::json& status);
  void PoolStatus(const model::Object& o, const reconcile::Plan& p, nlohmann::json& status);
  Outcome Finish(const model::Object& o, const Result<reconcile::Plan>& after, nlohmann::json status);
  void TransitionEvents(const model::Object& o, const nlohmann::json& before, const nlohmann::json& after);
  Outcome Delete(const model::Object& o);

  /// This store's id (read once): the kStoreLabel value of what it creates.
  Result<std::string> StoreId();
  /// Managed by keelson for this store, owned by a uid the store no longer has.
  bool Orphan(const docker::Labels& labels, const std::set<std::string>& uids, const std::string& store_id) const;

  Shared& s_;
  store::ObjectStore& store_;
  std::string store_id_;
};

}  // namespace keelson::controller
