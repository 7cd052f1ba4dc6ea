#include "controller/cache.h"

#include <algorithm>

#include "reconcile/labels.h"

namespace keelson::controller {

docker::ListFilter ManagedFilter() {
  return docker::ListFilter{{std::string(reconcile::kManagedByLabel) + "=" + reconcile::kManagedByValue}, true};
}

Result<void> Cache::Resync() {
  auto list = engine_.ListContainers(ManagedFilter());
  if (!list) return Unexpected(list.error());
  auto networks = engine_.ListNetworks(ManagedFilter());
  if (!networks) return Unexpected(networks.error());
  auto volumes = engine_.ListVolumes(ManagedFilter());
  if (!volumes) return Unexpected(volumes.error());
  // A container is inspected again only when its list row changed: the status
  // text ("Up 5 minutes (healthy)") moves with state, health and restarts.
  std::map<std::string, docker::Container> containers;
  std::map<std::string, std::string> status;
  std::vector<std::string> inspected;  // ids inspected anew: their owners changed
  for (const auto& s : *list) {
    std::string summary = s.state + "|" + s.status.substr(0, s.status.find(' ')) + "|" + s.health;
    {
      std::lock_guard lock(mu_);
      auto it = containers_.find(s.id);
      if (it != containers_.end() && container_status_[s.id] == summary) {
        containers[s.id] = it->second;
        status[s.id] = summary;
        continue;
      }
    }
    auto c = engine_.InspectContainer(s.id);
    if (!c) {
      if (c.error().code == ErrorCode::kNotFound) continue;  // gone since the list
      return Unexpected(c.error());
    }
    containers[s.id] = std::move(*c);
    status[s.id] = summary;
    inspected.push_back(s.id);
  }
  std::map<std::string, docker::Network> nets;
  for (auto& n : *networks) nets[n.spec.name] = std::move(n);
  std::map<std::string, docker::Volume> vols;
  for (auto& v : *volumes) vols[v.spec.name] = std::move(v);
  std::lock_guard lock(mu_);
  for (const auto& id : inspected) TouchOwner(containers.at(id));
  for (const auto& [id, c] : containers_) {
    if (!containers.count(id)) TouchOwner(c);  // gone
  }
  auto same_nets = [](const auto& a, const auto& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](const auto& x, const auto& y) {
             return x.first == y.first && x.second.id == y.second.id && x.second.spec == y.second.spec;
           });
  };
  auto same_vols = [](const auto& a, const auto& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](const auto& x, const auto& y) {
             return x.first == y.first && x.second.created == y.second.created && x.second.spec == y.second.spec;
           });
  };
  if (!same_nets(networks_, nets) || !same_vols(volumes_, vols)) TouchShared();
  containers_ = std::move(containers);
  by_uid_stale_ = true;
  container_status_ = std::move(status);
  if (owner_stamps_.size() > 2 * containers_.size() + 1024) {
    // Owners long gone: keep the stamps of those with containers, and make
    // every remembered stamp stale (so none of them is trusted after this).
    std::set<std::string> present;
    for (const auto& [id, c] : containers_) {
      if (auto it = c.config.labels.find(reconcile::kUidLabel); it != c.config.labels.end()) present.insert(it->second);
    }
    std::erase_if(owner_stamps_, [&](const auto& e) { return !present.count(e.first); });
    TouchShared();
  }
  networks_ = std::move(nets);
  volumes_ = std::move(vols);
  return {};
}

Result<void> Cache::RefreshContainer(const std::string& ref) {
  auto c = engine_.InspectContainer(ref);
  std::lock_guard lock(mu_);
  if (!c) {
    if (c.error().code != ErrorCode::kNotFound) return Unexpected(c.error());
    by_uid_stale_ = true;
    for (auto it = containers_.begin(); it != containers_.end();) {
      bool match = it->first == ref || it->second.name == ref;
      if (match) container_status_.erase(it->first), TouchOwner(it->second);
      it = match ? containers_.erase(it) : std::next(it);
    }
    return {};
  }
  if (!reconcile::IsManaged(c->config.labels)) return {};
  container_status_.erase(c->id);  // the next resync inspects it again
  TouchOwner(*c);
  containers_[c->id] = std::move(*c);
  by_uid_stale_ = true;
  return {};
}

void Cache::TouchOwner(const docker::Container& c) {
  auto it = c.config.labels.find(reconcile::kUidLabel);
  if (it != c.config.labels.end()) owner_stamps_[it->second] = ++stamp_;
}

uint64_t Cache::OwnerStamp(const std::string& uid) const {
  std::lock_guard lock(mu_);
  auto it = owner_stamps_.find(uid);
  return it == owner_stamps_.end() ? 0 : it->second;
}

uint64_t Cache::SharedStamp() const {
  std::lock_guard lock(mu_);
  return shared_stamp_;
}

void Cache::Expect(const std::string& ref, std::initializer_list<const char*> actions, bool repeats) {
  const auto until = std::chrono::steady_clock::now() + kExpectFor;
  std::lock_guard lock(mu_);
  for (const char* a : actions) expected_[{ref, a}] = Expected{until, repeats};
}

void Cache::Unexpect(const std::string& ref, std::initializer_list<const char*> actions) {
  std::lock_guard lock(mu_);
  for (const char* a : actions) expected_.erase({ref, a});
}

bool Cache::TakeExpected(const std::string& id, const std::string& name, const std::string& action) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  std::erase_if(expected_, [&](const auto& e) { return e.second.until < now; });
  for (const std::string* ref : {&id, &name}) {
    if (ref->empty()) continue;
    auto it = expected_.find({*ref, action});
    if (it == expected_.end()) continue;
    if (!it->second.repeats) expected_.erase(it);
    return true;
  }
  return false;
}

void Cache::NoteStopRequested(const std::string& id, bool requested) {
  std::lock_guard lock(mu_);
  if (requested) {
    stop_requested_.insert(id);
  } else {
    stop_requested_.erase(id);
  }
}

bool Cache::StopRequested(const std::string& id) const {
  std::lock_guard lock(mu_);
  return stop_requested_.count(id) > 0;
}

void Cache::ForgetContainer(const std::string& ref) {
  std::lock_guard lock(mu_);
  by_uid_stale_ = true;
  for (auto it = containers_.begin(); it != containers_.end();) {
    bool match = it->first == ref || it->second.name == ref;
    if (match) container_status_.erase(it->first), stop_requested_.erase(it->first), TouchOwner(it->second);
    it = match ? containers_.erase(it) : std::next(it);
  }
}

Result<void> Cache::RefreshNetwork(const std::string& name) {
  auto n = engine_.InspectNetwork(name);
  std::lock_guard lock(mu_);
  if (!n) {
    if (n.error().code != ErrorCode::kNotFound) return Unexpected(n.error());
    if (networks_.erase(name)) TouchShared();
    return {};
  }
  if (reconcile::IsManaged(n->spec.labels)) {
    TouchShared();
    networks_[n->spec.name] = std::move(*n);
  }
  return {};
}

Result<void> Cache::RefreshVolume(const std::string& name) {
  auto v = engine_.InspectVolume(name);
  std::lock_guard lock(mu_);
  if (!v) {
    if (v.error().code != ErrorCode::kNotFound) return Unexpected(v.error());
    if (volumes_.erase(name)) TouchShared();
    return {};
  }
  if (reconcile::IsManaged(v->spec.labels)) {
    TouchShared();
    volumes_[v->spec.name] = std::move(*v);
  }
  return {};
}

std::vector<docker::Container> Cache::ContainersOf(const std::string& store_id, const std::string& uid) const {
  std::lock_guard lock(mu_);
  if (by_uid_stale_) {
    // Rebuilt once after changes, so that a pass over N objects is N
    // lookups, not N scans of every container.
    by_uid_.clear();
    for (const auto& [id, c] : containers_) {
      auto it = c.config.labels.find(reconcile::kUidLabel);
      if (it != c.config.labels.end()) by_uid_[it->second].push_back(id);
    }
    by_uid_stale_ = false;
  }
  std::vector<docker::Container> out;
  auto ids = by_uid_.find(uid);
  if (ids == by_uid_.end()) return out;
  for (const auto& id : ids->second) {
    const docker::Container& c = containers_.at(id);
    if (reconcile::OwnedBy(c.config.labels, store_id, uid)) out.push_back(c);
  }
  return out;
}

std::vector<docker::Container> Cache::Containers() const {
  std::lock_guard lock(mu_);
  std::vector<docker::Container> out;
  for (const auto& [id, c] : containers_) out.push_back(c);
  return out;
}

std::vector<docker::Network> Cache::Networks() const {
  std::lock_guard lock(mu_);
  std::vector<docker::Network> out;
  for (const auto& [name, n] : networks_) out.push_back(n);
  return out;
}

std::vector<docker::Volume> Cache::Volumes() const {
  std::lock_guard lock(mu_);
  std::vector<docker::Volume> out;
  for (const auto& [name, v] : volumes_) out.push_back(v);
  return out;
}

std::optional<docker::Network> Cache::Network(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = networks_.find(name);
  if (it == networks_.end()) return std::nullopt;
  return it->second;
}

std::optional<docker::Volume> Cache::Volume(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = volumes_.find(name);
  if (it == volumes_.end()) return std::nullopt;
  return it->second;
}

std::optional<docker::Labels> Cache::LabelsOf(const std::string& type, const std::string& ref) const {
  std::lock_guard lock(mu_);
  if (type == "container") {
    auto it = containers_.find(ref);
    if (it != containers_.end()) return it->second.config.labels;
  } else if (type == "network") {
    auto it = networks_.find(ref);
    if (it != networks_.end()) return it->second.spec.labels;
  } else if (type == "volume") {
    auto it = volumes_.find(ref);
    if (it != volumes_.end()) return it->second.spec.labels;
  }
  return std::nullopt;
}

std::vector<std::string> Cache::ContainersMatching(const std::function<bool(const docker::Container&)>& uses) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [id, c] : containers_) {
    if (uses(c)) out.push_back(c.name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Cache::ContainersMounting(const std::string& volume) const {
  return ContainersMatching([&](const docker::Container& c) {
    return std::any_of(c.config.mounts.begin(), c.config.mounts.end(), [&](const docker::Mount& m) {
      return m.type == docker::Mount::Type::kVolume && m.source == volume;
    });
  });
}

std::vector<std::string> Cache::ContainersOn(const std::string& network) const {
  return ContainersMatching([&](const docker::Container& c) {
    return std::any_of(c.config.networks.begin(), c.config.networks.end(),
                       [&](const docker::NetworkAttachment& n) { return n.network == network; });
  });
}

Result<std::optional<docker::Image>> Cache::Image(const std::string& ref) {
  {
    std::lock_guard lock(mu_);
    auto it = images_.find(ref);
    if (it != images_.end()) return it->second;
  }
  auto img = engine_.InspectImage(ref);
  std::optional<docker::Image> value;
  if (img) {
    value = std::move(*img);
  } else if (img.error().code != ErrorCode::kNotFound) {
    return Unexpected(img.error());
  }
  std::lock_guard lock(mu_);
  images_[ref] = value;
  return value;
}

void Cache::ForgetImage(const std::string& ref) {
  std::lock_guard lock(mu_);
  if (images_.erase(ref)) TouchShared();
}

void Cache::ForgetImages() {
  std::lock_guard lock(mu_);
  if (!images_.empty()) TouchShared();
  images_.clear();
}

}  // namespace keelson::controller
