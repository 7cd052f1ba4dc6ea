#pragma once
// World: what a reconciler may look at. The engine as observed (the
// controller's cache), the stored desired state, the time. Abstract so that
// the controller (controller/cache_world.h) and `keelson plan` share the
// per-kind reconcilers, and tests can hand them any world. Nothing here
// changes anything.

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "docker/types.h"
#include "model/object.h"
#include "reconcile/autoscale.h"
#include "util/clock.h"
#include "util/result.h"

namespace keelson::reconcile {

class World {
 public:
  virtual ~World() = default;

  virtual TimePoint Now() const = 0;
  /// The id of the store whose objects are reconciled (dev.keelson.store).
  virtual Result<std::string> StoreId() = 0;
  /// pullPolicy Always: pull again after this long.
  virtual std::chrono::seconds ImageRecheck() const = 0;

  // The engine, as observed.
  /// Containers made for the object `uid` of this store (OwnedBy).
  virtual Result<std::vector<docker::Container>> ContainersOf(const std::string& uid) = 0;
  /// Every container, network and volume keelson manages (any store).
  virtual std::vector<docker::Container> Containers() = 0;
  virtual std::vector<docker::Network> Networks() = 0;
  virtual std::vector<docker::Volume> Volumes() = 0;
  /// `fresh`: ask the engine rather than the cache (before a replace).
  virtual Result<std::optional<docker::Network>> Network(const std::string& name, bool fresh) = 0;
  virtual std::optional<docker::Volume> Volume(const std::string& name) = 0;
  /// Names of managed containers attached to a network, or mounting a volume.
  virtual std::vector<std::string> ContainersOn(const std::string& network) = 0;
  virtual std::vector<std::string> ContainersMounting(const std::string& volume) = 0;
  /// Someone asked the engine to stop this container (docker stop): found
  /// stopped, it is drift to repair, not a crash to back off from.
  virtual bool StopRequested(const std::string& container_id) = 0;
  /// The image `ref` names; nullopt when absent.
  virtual Result<std::optional<docker::Image>> Image(const std::string& ref) = 0;
  /// Every container on the engine, keelson's or not.
  virtual Result<std::vector<docker::ContainerSummary>> AllContainers() = 0;

  // The desired state.
  virtual Result<std::optional<model::Object>> Get(model::Kind kind, const std::string& ns,
                                                   const std::string& name) = 0;
  virtual Result<std::vector<model::Object>> List(model::Kind kind) = 0;
  virtual Result<std::set<std::string>> Uids() = 0;
  /// The CI jobs the queue gave the pool `uid` (store/jobs.h); none by default.
  virtual Result<std::vector<PoolJob>> JobsOf(const std::string& uid) {
    (void)uid;
    return std::vector<PoolJob>{};
  }
  /// The pool's polled queue depth (spec.autoscaling.queue) as last read;
  /// nullopt before the first poll.
  virtual std::optional<QueueReading> QueueOf(const std::string& uid) {
    (void)uid;
    return std::nullopt;
  }
  /// A pool whose GitHub runners keelson manages: its replicas whose runner
  /// GitHub has never shown online, per a recent runner list; nullopt when
  /// there is none (GitHub away: nothing is replaced for it).
  virtual std::optional<std::set<std::string>> RunnersNeverOnline(const std::string& uid) {
    (void)uid;
    return std::nullopt;
  }
  /// Replicas of the pool `uid` that a busy probe or the CI system says are
  /// running a job (container names); none by default.
  virtual std::set<std::string> BusyContainers(const std::string& uid) {
    (void)uid;
    return {};
  }
};

}  // namespace keelson::reconcile
