#pragma once
// What a planner decides: a closed set of action types (one struct per thing
// keelson does to the engine), so an action cannot be built without what it
// needs, and the executor is one visit. Why an action is needed travels as
// typed fields; the words users read (plan, events, logs) are rendered from
// them by Describe.

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "docker/types.h"
#include "model/specs.h"

namespace keelson::reconcile {

/// Why a container is created.
enum class CreateWhy {
  kMissing,       ///< a Runner has no container
  kRemovedOutside,///< a Runner's container was removed outside keelson: a repair
  kScaleUp,       ///< a pool has fewer replicas than wanted
  kReplaceRun,    ///< an ephemeral replica's run ended: a fresh one
  kRollingUpdate, ///< a new template's replica, within maxSurge
  kRecreate,      ///< a new template's replica after strategy Recreate removed the old
};

/// Why a container is removed.
enum class RemoveWhy {
  kOwnerDeleted,   ///< the object is being deleted
  kNotTheRunners,  ///< a Runner's uid labels a container with another name
  kRunEnded,       ///< an ephemeral replica's run ended
  kScaleDown,
  kRollingUpdate,  ///< an old template's replica, within maxUnavailable
  kRecreate,       ///< an old template's replica, strategy Recreate
  kOrphan,         ///< its owner is no longer in the store
  kDead,           ///< the engine marked it dead: it can never start again
  kNeverOnline,    ///< its GitHub runner did not come online within spec.github.registrationTimeout
};

/// An ephemeral replica's finished run, counted as its container goes.
struct FinishedRun {
  int exit_code = 0;
  bool quick_failure = false;  ///< non-zero within kStableRun: counts toward crash-loop backoff
  std::string container;       ///< the replica's name
  std::string started_at, finished_at;
  std::string output;  ///< the tail of what it printed: read by the executor before it removes the replica
  int keep_succeeded = 0, keep_failed = 0;  ///< the pool's history limits for kept runs
};

struct PullImage {
  std::string ref;
  bool absent = false;  ///< not on the engine: keelson brings it (and may remove it again)
  std::optional<model::RegistryAuthSpec> auth;
};
struct BuildImage {
  std::string ref;
  model::ImageBuildSpec build;
  bool absent = false;
};
struct PushImage {
  std::string ref;
  std::optional<model::RegistryAuthSpec> auth;
};
struct RemoveImage {
  std::string ref;
};

struct CreateContainer {
  docker::ContainerSpec spec;
  CreateWhy why = CreateWhy::kMissing;
  /// A pool whose GitHub runners keelson manages: register the replica
  /// first (a just-in-time configuration, into its environment only).
  std::optional<model::GitHubSpec> register_runner;
};
struct StartContainer {
  std::string id, name;
  /// The run that ended (a restart, counted in status.restarts), or nullopt
  /// for a container that was created and never started.
  std::optional<int> exit_code;
  bool oom_killed = false;
  model::RestartPolicy policy = model::RestartPolicy::kAlways;
  /// Stopped outside keelson (docker stop): a repair, not a restart.
  bool stopped_outside = false;
};
struct RecreateContainer {
  std::string id;
  docker::ContainerSpec spec;
  int stop_timeout_s = 10;
  std::vector<std::string> changes;  ///< field by field: image "a" -> "b", env[TOKEN] changed
};
struct RemoveContainer {
  std::string id, name;
  int stop_timeout_s = 10;
  RemoveWhy why = RemoveWhy::kOwnerDeleted;
  std::optional<FinishedRun> run;  ///< kRunEnded
  /// Its GitHub runner registration, deleted once the container is gone.
  std::optional<model::GitHubSpec> deregister_runner;
  int64_t runner_id = 0;
};
struct ConnectContainer {
  std::string id, name;
  docker::NetworkAttachment attachment;
  std::string change;
};
struct DisconnectContainer {
  std::string id, name;
  docker::NetworkAttachment attachment;
  std::string change;
};

struct CreateNetwork {
  docker::NetworkSpec spec;
};
struct ReplaceNetwork {
  std::string id;
  docker::NetworkSpec spec;
  std::vector<std::string> changes;
};
struct RemoveNetwork {
  std::string id, name;
  bool orphan = false;
};
struct CreateVolume {
  docker::VolumeSpec spec;
};
struct ReplaceVolume {
  docker::VolumeSpec spec;
  std::vector<std::string> changes;
};
struct RemoveVolume {
  std::string name;
  bool orphan = false;
};

using Action = std::variant<PullImage, BuildImage, PushImage, RemoveImage, CreateContainer, StartContainer,
                            RecreateContainer, RemoveContainer, ConnectContainer, DisconnectContainer,
                            CreateNetwork, ReplaceNetwork, RemoveNetwork, CreateVolume, ReplaceVolume, RemoveVolume>;

/// As `plan` prints it: "recreate container default.web: env[LOG_LEVEL] changed".
std::string Describe(const Action& action);

/// The event an action that succeeded records: its type (Normal, or Warning
/// for a run that failed), a CamelCase reason and a sentence.
struct EventText {
  std::string type, reason, message;
};
EventText Done(const Action& action);

/// What the action does, without why: "pull image x:1", "start container default.web".
std::string Attempt(const Action& action);

/// Container creates, and container removes, are independent of each other:
/// a run of them may go in parallel.
bool Parallel(const Action& a, const Action& b);

}  // namespace keelson::reconcile
