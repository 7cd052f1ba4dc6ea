#pragma once
// The pure planners: Plan(desired, observed) -> actions. The controller
// executes their actions; `keelson plan` prints them. Nothing here calls the
// engine or the store: the per-kind reconcilers (reconcile/kinds.h) gather
// what a planner observes and hand it over.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "docker/types.h"
#include "model/specs.h"
#include "reconcile/action.h"
#include "util/clock.h"

namespace keelson::reconcile {

/// Why an object cannot converge now. Waiting is normal (Progressing);
/// everything else needs someone to act (Degraded).
enum class Blocker {
  kWaitingForImage,
  kWaitingForNetwork,
  kWaitingForVolume,
  kWaitingForDependency,
  kWaitingForContainers,  ///< a deletion waiting for the containers that use the object
  kConflict,              ///< the engine name belongs to something keelson may not touch
  kInUse,                 ///< must be replaced, but containers use it
  kPaused,
  kCrashLoopBackOff,
  kImageMissing,
  kProgressDeadlineExceeded,
};
/// The condition reason: "WaitingForImage", ...
const char* ReasonOf(Blocker b);
/// Whether the object is Degraded while blocked so.
bool Degrades(Blocker b);

struct Blocked {
  Blocker why;
  std::string message;
};

/// A pool's replicas as its planner counted them.
struct PoolCounts {
  int replicas = 0;   ///< containers that exist
  int ready = 0;      ///< running (healthy, with a healthcheck)
  int updated = 0;    ///< on the current template
  int available = 0;  ///< ready for at least minReadySeconds
  int completed = 0;  ///< ephemeral runs that ended with code 0 (this pass)
  int failed = 0;     ///< ... with another code
};

/// An autoscaled pool's decision, for its status and events.
struct ScaleReport {
  int desired = 0, queued = 0, running = 0, busy = 0;
  bool scaled_up = false;
  std::string cause;
  std::optional<int64_t> queue_depth;  ///< spec.autoscaling.queue's last depth
  std::string queue_error;             ///< why its last poll failed
};

struct Plan {
  std::vector<Action> actions;
  /// An autoscaled pool's decision (reconcile/autoscale.h).
  std::optional<ScaleReport> scale;
  /// Come back after this long even if nothing changes (a backoff running out).
  std::optional<std::chrono::milliseconds> requeue_after;
  std::optional<Blocked> blocked;
  /// The pool missed its progressDeadline and its spec says rollback: auto.
  bool roll_back = false;
  /// A pool's replicas, for its status.
  std::optional<PoolCounts> counts;

  void Block(Blocker why, std::string message) { blocked = Blocked{why, std::move(message)}; }
};

// --- Runner -----------------------------------------------------------------------

/// Crash-loop backoff before the controller restarts an exited container:
/// none when its last run lasted kStableRun or more, else 1 s doubling with
/// each restart up to 5 min.
inline constexpr std::chrono::seconds kStableRun{10};
inline constexpr std::chrono::minutes kMaxRestartDelay{5};
std::chrono::milliseconds RestartDelay(int restarts, const std::string& started_at, const std::string& finished_at);

struct RunnerObserved {
  std::vector<docker::Container> containers;  ///< every container labelled with the runner's uid
  const docker::Image* image = nullptr;       ///< the image `want` runs, when known
  int restarts = 0;                           ///< status.restarts so far
  bool had_container = false;                 ///< status names a container: a missing one was removed outside keelson
  bool stop_requested = false;                ///< the container was stopped by request (docker stop), not by a crash
  TimePoint now;
};

/// One container named want.name, running (as the policy says), with want's
/// config; others owned by the runner are removed. `legacy_hash`: another
/// spec-hash value that also means "as wanted" (see DesiredContainer).
Plan PlanRunner(const docker::ContainerSpec& want, model::RestartPolicy policy, const RunnerObserved& observed,
                const std::string& legacy_hash = "");

/// True when `c` exited and `policy` says it stays down.
bool StaysDown(const docker::Container& c, model::RestartPolicy policy);

// --- Network, Volume, Image ----------------------------------------------------------

Plan PlanNetwork(const docker::NetworkSpec& want, const std::optional<docker::Network>& have);
/// `in_use`: a container (any, running or not) mounts it, so it cannot be replaced.
Plan PlanVolume(const docker::VolumeSpec& want, const std::optional<docker::Volume>& have, bool in_use);

struct ImageObserved {
  std::optional<docker::Image> image;  ///< the image `spec.ref` names, if present
  int64_t generation = 0;              ///< the Image object's generation
  int64_t built_generation = 0;        ///< the generation last built (controller memory)
  std::string pulled_at;               ///< when last pulled (controller memory)
  std::chrono::seconds recheck{300};   ///< pullPolicy Always: pull again after this long
  TimePoint now;
};
Plan PlanImage(const model::ImageSpec& spec, const ImageObserved& observed);

// --- deletion ------------------------------------------------------------------------

/// Removes everything listed: containers first (stopped with their timeout).
Plan PlanRemoval(const std::vector<docker::Container>& containers, const std::vector<docker::Network>& networks,
                 const std::vector<docker::Volume>& volumes, int stop_timeout_s);

/// A deletion that must wait for `users` (container names) to go first;
/// nullopt when there are none. `what`: "network default.ci-net", ...
std::optional<Plan> WaitForContainers(const std::vector<std::string>& users, const std::string& what);

}  // namespace keelson::reconcile
