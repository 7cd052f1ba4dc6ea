#pragma once
// One reconciler per kind, behind one small interface, found through one
// table (ReconcilerFor). The controller and `keelson plan` know kinds only
// through it. A pass over an object is:
//
//   Plan(object, memory, world)   observe the world, then call the kind's pure planner
//   (the controller executes the plan's actions and fills a Ledger)
//   Record(ledger)                what the actions did, into status counters and memory
//   Status(...)                   the kind's status fields (and Ready, where the kind decides it)
//
// Adding a kind: a spec in model/specs.h and its decoder, a file here with
// its KindReconciler, a row in the table (kinds.cc).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/object.h"
#include "reconcile/plan.h"
#include "reconcile/world.h"
#include "util/clock.h"
#include "util/result.h"

namespace keelson::reconcile {

/// What the controller remembers about an object between passes that is not
/// status: stored beside it (objects.controller_state), never shown.
struct Memory {
  // RunnerPool: ephemeral runs in a row that failed within kStableRun, and
  // when the last ended (crash-loop backoff of the template).
  int failure_streak = 0;
  std::string last_failure_at;
  // RunnerPool: when replicas on an older template were first seen for
  // update_generation (the clock of spec.progressDeadline).
  int64_t update_generation = 0;
  std::string update_started_at;
  // Image: the generation last built, and when it was last pulled.
  int64_t built_generation = 0;
  std::string pulled_at;

  bool operator==(const Memory&) const = default;
};
/// `legacy_status`: a status written by keelson 0.1, which kept these there.
Memory DecodeMemory(const nlohmann::json& state, const nlohmann::json& legacy_status);
nlohmann::json EncodeMemory(const Memory& m);

/// What a pass's actions did, as the executor saw it.
struct Ledger {
  int restarts = 0;                 ///< stopped containers started again after a run ended
  std::vector<FinishedRun> runs;    ///< ephemeral runs whose containers were removed
  bool pulled = false, built = false;
  bool brought_image = false;       ///< pulled or built an image the engine did not have
};

/// An event a status change is worth.
struct Transition {
  std::string type, reason, message;
};

class KindReconciler {
 public:
  virtual ~KindReconciler() = default;

  /// Observes what the kind needs and plans. Errors: transient (the engine
  /// or store is unreachable) or kInvalid (the spec cannot be acted on).
  virtual Result<Plan> PlanFor(const model::Object& o, const Memory& memory, World& world) const = 0;
  /// What deleting the object takes: by default, removing its containers.
  virtual Result<Plan> PlanDeletion(const model::Object& o, World& world) const;
  /// Counts what the actions did in status and memory.
  virtual void Record(const model::Object&, const Ledger&, TimePoint, Memory&, nlohmann::json&) const {}
  /// The kind's status fields after a pass. `after` is the plan observed
  /// after acting, nullptr when the pass failed. `converged`: nothing left to
  /// do and not blocked; a kind whose readiness the world decides (a Runner's
  /// container) sets the conditions itself.
  virtual void Status(const model::Object& o, const Plan* after, bool converged, World& world, Memory& memory,
                      nlohmann::json& status) const = 0;
  /// Events a status change is worth, beyond Ready and Degraded.
  virtual std::vector<Transition> Transitions(const nlohmann::json&, const nlohmann::json&) const { return {}; }
  /// The Ready reason of a converged object.
  virtual const char* ReadyReason() const { return "Ready"; }
};

/// The one table of kinds: every model::Kind has its reconciler.
const KindReconciler& ReconcilerFor(model::Kind kind);

/// The orphans of `world`: managed engine objects of this store whose owner
/// uid is no longer stored, as removals (containers first).
Result<std::vector<Action>> PlanOrphans(World& world);

// Helpers the kinds share.

/// What a Runner spec waits for (an Image, Networks, Volumes, dependsOn
/// objects), in `o`'s namespace. Returns the image to run (spec.image, or
/// the resolved imageRef's ref); sets plan->blocked when something is not Ready.
Result<std::string> ResolveDependencies(const model::Object& o, const model::RunnerSpec& spec,
                                        const std::vector<model::DependencySpec>& depends_on, World& world,
                                        Plan* plan);
/// Create never pulls: when the plan creates containers of an absent image,
/// it is pulled first, as `docker run` does.
Result<void> PullFirstIfMissing(const std::string& image, World& world, Plan* plan);
/// Sets Ready, Progressing and Degraded at once (metav1.Condition semantics).
void SetConditions(nlohmann::json& status, bool ready, const std::string& reason, const std::string& message,
                   bool degraded, int64_t generation, TimePoint now);

}  // namespace keelson::reconcile
