#include "controller/cache_world.h"

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

}  // namespace keelson::controller
