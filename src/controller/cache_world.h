#pragma once
// The World the controller and `keelson plan` reconcile against: the engine
// as the Cache holds it, the store as this thread's ObjectStore reads it.

#include <string>

#include "controller/busy_board.h"
#include "controller/cache.h"
#include "controller/github_runners.h"
#include "controller/queue_poller.h"
#include "docker/engine.h"
#include "reconcile/world.h"
#include "store/object_store.h"

namespace keelson::controller {

class CacheWorld final : public reconcile::World {
 public:
  /// All must outlive it. Not thread-safe (the store is one thread's).
  /// `busy`, when set, answers BusyContainers; `queues`, QueueOf.
  CacheWorld(docker::Engine& engine, Cache& cache, store::ObjectStore& store, const Clock& clock,
             std::chrono::seconds image_recheck = std::chrono::seconds(300), const BusyBoard* busy = nullptr,
             const QueuePoller* queues = nullptr, const RunnerSightings* sightings = nullptr)
      : engine_(engine),
        cache_(cache),
        store_(store),
        clock_(clock),
        image_recheck_(image_recheck),
        busy_(busy),
        queues_(queues),
        sightings_(sightings) {}

  TimePoint Now() const override { return clock_.Now(); }
  Result<std::string> StoreId() override;
  std::chrono::seconds ImageRecheck() const override { return image_recheck_; }

  Result<std::vector<docker::Container>> ContainersOf(const std::string& uid) override;
  std::vector<docker::Container> Containers() override { return cache_.Containers(); }
  std::vector<docker::Network> Networks() override { return cache_.Networks(); }
  std::vector<docker::Volume> Volumes() override { return cache_.Volumes(); }
  Result<std::optional<docker::Network>> Network(const std::string& name, bool fresh) override;
  std::optional<docker::Volume> Volume(const std::string& name) override { return cache_.Volume(name); }
  std::vector<std::string> ContainersOn(const std::string& network) override { return cache_.ContainersOn(network); }
  std::vector<std::string> ContainersMounting(const std::string& volume) override {
    return cache_.ContainersMounting(volume);
  }
  bool StopRequested(const std::string& id) override { return cache_.StopRequested(id); }
  Result<std::optional<docker::Image>> Image(const std::string& ref) override { return cache_.Image(ref); }
  Result<std::vector<docker::ContainerSummary>> AllContainers() override { return engine_.ListContainers({{}, true}); }

  Result<std::optional<model::Object>> Get(model::Kind kind, const std::string& ns, const std::string& name) override {
    return store_.Get(kind, ns, name);
  }
  Result<std::vector<model::Object>> List(model::Kind kind) override {
    return store_.List({kind, std::nullopt, nullptr});
  }
  Result<std::set<std::string>> Uids() override { return store_.Uids(); }
  Result<std::vector<reconcile::PoolJob>> JobsOf(const std::string& uid) override;
  std::optional<reconcile::QueueReading> QueueOf(const std::string& uid) override {
    return queues_ ? queues_->Of(uid) : std::nullopt;
  }
  std::optional<std::set<std::string>> RunnersNeverOnline(const std::string& uid) override {
    return sightings_ ? sightings_->NeverOnline(uid, clock_.Now()) : std::nullopt;
  }
  std::set<std::string> BusyContainers(const std::string& uid) override {
    return busy_ ? busy_->BusyOf(uid) : std::set<std::string>{};
  }

 private:
  docker::Engine& engine_;
  Cache& cache_;
  store::ObjectStore& store_;
  const Clock& clock_;
  std::chrono::seconds image_recheck_;
  const BusyBoard* busy_;
  const QueuePoller* queues_;
  const RunnerSightings* sightings_;
  std::string store_id_;  ///< read once
};

}  // namespace keelson::controller
