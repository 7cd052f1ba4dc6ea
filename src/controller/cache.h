#pragma once
// The observed engine state keelson cares about: its own containers (full
// inspect), its networks and volumes, and the images its objects name. Filled
// by a resync's list calls, kept current by engine events and by the
// controller's own actions, so a pass over converged objects reads memory,
// not the engine.

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "docker/engine.h"

namespace keelson::controller {

/// Thread-safe; values are returned by copy.
class Cache {
 public:
  explicit Cache(docker::Engine& engine) : engine_(engine) {}

  /// Lists managed containers, networks and volumes (3 engine calls) and
  /// inspects only containers that are new or whose state changed since the
  /// last sync. Errors leave the previous contents.
  Result<void> Resync();

  /// Inspects the container again (or forgets it if gone): after an event or
  /// an action of ours.
  Result<void> RefreshContainer(const std::string& id_or_name);
  void ForgetContainer(const std::string& id_or_name);
  /// Someone asked the engine to stop the container (its "stop" event): when
  /// it is found stopped, that is drift, not a crash. Cleared when it starts.
  void NoteStopRequested(const std::string& id, bool requested);
  bool StopRequested(const std::string& id) const;
  /// The controller is about to `action` ("create", "start", "stop", ...)
  /// the container `ref` (its name or id) and will inspect or forget it
  /// after: the engine's event for that action then tells nothing new, and
  /// the event handler takes it with TakeExpected instead of inspecting.
  /// Expectations not met within kExpectFor lapse. `repeats`: every such
  /// event until then (a stop sends "kill" twice when the signal is not
  /// heeded; for a container about to be removed), else only the first.
  void Expect(const std::string& ref, std::initializer_list<const char*> actions, bool repeats = false);
  /// The action failed: its event will not come.
  void Unexpect(const std::string& ref, std::initializer_list<const char*> actions);
  /// True when an event for `action` on the container `id` (named `name`)
  /// was expected.
  bool TakeExpected(const std::string& id, const std::string& name, const std::string& action);
  Result<void> RefreshNetwork(const std::string& name);
  Result<void> RefreshVolume(const std::string& name);

  /// Containers made for the object `uid` of store `store_id`.
  std::vector<docker::Container> ContainersOf(const std::string& store_id, const std::string& uid) const;
  /// Change stamps, for a resync to leave alone what nothing changed: the
  /// stamp of the last change the cache saw to the containers of owner
  /// `uid` (one added, gone, or inspected anew), and to the networks,
  /// volumes and images (shared by every owner). Stamps only grow; 0 is
  /// "never changed".
  uint64_t OwnerStamp(const std::string& uid) const;
  uint64_t SharedStamp() const;

  /// Every managed container, network and volume.
  std::vector<docker::Container> Containers() const;
  std::vector<docker::Network> Networks() const;
  std::vector<docker::Volume> Volumes() const;
  std::optional<docker::Network> Network(const std::string& name) const;
  std::optional<docker::Volume> Volume(const std::string& name) const;
  /// The labels of a cached ("container", id), ("network", name) or
  /// ("volume", name); nullopt when not cached.
  std::optional<docker::Labels> LabelsOf(const std::string& type, const std::string& ref) const;
  /// True when some cached container mounts volume `name`.
  bool VolumeInUse(const std::string& name) const { return !ContainersMounting(name).empty(); }
  /// Names of the cached containers that mount volume `name`, sorted.
  std::vector<std::string> ContainersMounting(const std::string& volume) const;
  /// Names of the cached containers attached to network `name`, sorted.
  std::vector<std::string> ContainersOn(const std::string& network) const;

  /// The image `ref` names, inspected once and remembered (an image's config
  /// never changes under its id); nullopt when absent. Forget it after a
  /// pull, build or an image event.
  Result<std::optional<docker::Image>> Image(const std::string& ref);
  void ForgetImage(const std::string& ref);
  void ForgetImages();

 private:
  std::vector<std::string> ContainersMatching(const std::function<bool(const docker::Container&)>& uses) const;

  docker::Engine& engine_;
  mutable std::mutex mu_;
  std::map<std::string, docker::Container> containers_;  ///< by id
  /// Container ids by owner uid label: rebuilt on the first lookup after a change.
  mutable std::map<std::string, std::vector<std::string>> by_uid_;
  mutable bool by_uid_stale_ = true;
  std::map<std::string, std::string> container_status_;  ///< id -> list status, to skip re-inspects
  void TouchOwner(const docker::Container& c);  ///< mu_ held
  void TouchShared() { shared_stamp_ = ++stamp_; }  ///< mu_ held

  uint64_t stamp_ = 0, shared_stamp_ = 0;
  std::map<std::string, uint64_t> owner_stamps_;  ///< by owner uid
  std::map<std::string, docker::Network> networks_;      ///< by name
  std::map<std::string, docker::Volume> volumes_;        ///< by name
  std::map<std::string, std::optional<docker::Image>> images_;  ///< by ref
  std::set<std::string> stop_requested_;                        ///< container ids
  struct Expected {
    std::chrono::steady_clock::time_point until;
    bool repeats = false;
  };
  std::map<std::pair<std::string, std::string>, Expected> expected_;  ///< by (container name or id, action)
};

/// How long an expected event (Cache::Expect) is waited for.
inline constexpr std::chrono::seconds kExpectFor{30};

/// The list filter for keelson's own objects.
docker::ListFilter ManagedFilter();

}  // namespace keelson::controller
