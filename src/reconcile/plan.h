#pragma once
// The pure planners: Plan(desired, observed) -> actions. The controller
// executes their actions; `keelson plan` prints them. Nothing here calls the
// engine or the store.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "docker/types.h"
#include "util/clock.h"

namespace keelson::reconcile {

enum class Verb { kPull, kBuild, kPush, kCreate, kStart, kRecreate, kReplace, kRemove, kConnect, kDisconnect };
enum class Target { kImage, kNetwork, kVolume, kContainer };

struct Action {
  Verb verb = Verb::kCreate;
  Target target = Target::kContainer;
  std::string name;  ///< engine name, or the image reference
  std::string id;    ///< engine id of the existing object, when there is one
  std::vector<std::string> reasons;  ///< why, field by field where a field decided it
  // What the verb needs; only the one matching `target` is set.
  docker::ContainerSpec container;
  docker::NetworkSpec network;
  docker::VolumeSpec volume;
  docker::NetworkAttachment attachment;  ///< kConnect
  int stop_timeout_s = 10;               ///< kRecreate, kRemove of a container
  /// kRemove of an ephemeral replica whose run ended: its exit code, and
  /// whether it failed quickly (non-zero within kStableRun), for crash-loop backoff.
  std::optional<int> run_exit_code;
  bool quick_failure = false;
};

/// "recreate container default.web: env[LOG_LEVEL] "info" -> "debug""
std::string Describe(const Action& action);

struct Plan {
  std::vector<Action> actions;
  /// Come back after this long even if nothing changes (a backoff running out).
  std::optional<std::chrono::milliseconds> requeue_after;
  /// Why the object cannot converge now, for its conditions ("" when it can).
  std::string blocked_reason, blocked_message;
  /// Kind-specific status fields the planner observed (a pool's replica counts).
  nlohmann::json status_fields = nlohmann::json::object();
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
  TimePoint now;
};

/// One container named want.name, running (as restartPolicy says), with
/// want's config; others owned by the runner are removed.
Plan PlanRunner(const docker::ContainerSpec& want, const std::string& restart_policy, const RunnerObserved& observed);

/// True when `c` exited and `restart_policy` says it stays down.
bool StaysDown(const docker::Container& c, const std::string& restart_policy);

// --- Network, Volume, Image ----------------------------------------------------------

Plan PlanNetwork(const docker::NetworkSpec& want, const std::optional<docker::Network>& have);
/// `in_use`: a container (any, running or not) mounts it, so it cannot be replaced.
Plan PlanVolume(const docker::VolumeSpec& want, const std::optional<docker::Volume>& have, bool in_use);

struct ImageObserved {
  std::optional<docker::Image> image;  ///< the image `spec.ref` names, if present
  int64_t generation = 0;              ///< the Image object's generation
  int64_t built_generation = 0;        ///< status.builtGeneration: the spec last built
  std::string pulled_at;               ///< status.pulledAt
  std::chrono::seconds recheck{300};   ///< pullPolicy Always: pull again after this long
  TimePoint now;
};
Plan PlanImage(const nlohmann::json& spec, const ImageObserved& observed);

// --- deletion ------------------------------------------------------------------------

/// Removes everything listed: containers first (stopped with their timeout).
Plan PlanRemoval(const std::vector<docker::Container>& containers, const std::vector<docker::Network>& networks,
                 const std::vector<docker::Volume>& volumes, int stop_timeout_s);

}  // namespace keelson::reconcile
