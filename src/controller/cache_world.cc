#include "controller/cache_world.h"

#include "store/jobs.h"

namespace keelson::controller {

Result<std::string> CacheWorld::StoreId() {
  if (store_id_.empty()) {
    auto id = store_.StoreId();
    if (!id) return Unexpected(id.error());
    store_id_ = *id;
  }
  return store_id_;
}

Result<std::vector<docker::Container>> CacheWorld::ContainersOf(const std::string& uid) {
  auto id = StoreId();
  if (!id) return Unexpected(id.error());
  return cache_.ContainersOf(*id, uid);
}

Result<std::optional<docker::Network>> CacheWorld::Network(const std::string& name, bool fresh) {
  if (fresh) {
    if (auto r = cache_.RefreshNetwork(name); !r) return Unexpected(r.error());
  }
  return cache_.Network(name);
}

Result<std::vector<reconcile::PoolJob>> CacheWorld::JobsOf(const std::string& uid) {
  auto rows = store::Jobs(store_.db()).Of(uid);
  if (!rows) return Unexpected(rows.error());
  std::vector<reconcile::PoolJob> out;
  for (const auto& r : *rows) {
    reconcile::PoolJob j;
    j.id = r.id;
    j.state = r.state == "queued"        ? reconcile::PoolJob::State::kQueued
              : r.state == "in_progress" ? reconcile::PoolJob::State::kRunning
                                         : reconcile::PoolJob::State::kCompleted;
    (void)ParseTimestamp(r.queued_at, &j.queued_at);
    (void)ParseTimestamp(r.updated_at, &j.updated_at);
    j.runner = r.runner;
    j.labels = r.labels;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace keelson::controller
