#include "cli/workload.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "cli/resolve.h"
#include "reconcile/labels.h"

namespace keelson::cli {

Result<std::vector<docker::ContainerSummary>> Workload::Containers() {
  docker::ListFilter filter;
  filter.labels = {std::string(reconcile::kManagedByLabel) + "=" + reconcile::kManagedByValue,
                   std::string(reconcile::kStoreLabel) + "=" + store_id,
                   std::string(reconcile::kUidLabel) + "=" + object.meta.uid};
  auto found = engine->ListContainers(filter);
  if (!found) return Unexpected(found.error());
  std::sort(found->begin(), found->end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return found;
}

Result<std::map<std::string, std::vector<docker::ContainerSummary>>> ContainersByOwner(docker::Engine& engine,
                                                                                       const std::string& store_id) {
  docker::ListFilter filter;
  filter.labels = {std::string(reconcile::kManagedByLabel) + "=" + reconcile::kManagedByValue,
                   std::string(reconcile::kStoreLabel) + "=" + store_id};
  auto found = engine.ListContainers(filter);
  if (!found) return Unexpected(found.error());
  std::map<std::string, std::vector<docker::ContainerSummary>> out;
  for (auto& c : *found) {
    auto uid = c.labels.find(reconcile::kUidLabel);
    if (uid != c.labels.end()) out[uid->second].push_back(std::move(c));
  }
  for (auto& [uid, cs] : out) {
    std::sort(cs.begin(), cs.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  }
  return out;
}

Result<std::map<std::string, docker::Stats>> StatsOf(docker::Engine& engine, const std::vector<std::string>& ids,
                                                     docker::StatsMode mode) {
  std::vector<Result<docker::Stats>> results(ids.size(), Unexpected(ErrorCode::kInternal, "not asked"));
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < std::min<size_t>(ids.size(), 16); ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < ids.size(); i = next++) results[i] = engine.ContainerStats(ids[i], mode);
    });
  }
  for (auto& t : threads) t.join();
  std::map<std::string, docker::Stats> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (results[i]) {
      out[ids[i]] = *results[i];
    } else if (results[i].error().code != ErrorCode::kNotFound) {
      return Unexpected(results[i].error());
    }
  }
  return out;
}

Result<Workload> OpenWorkload(const Globals& g, const std::vector<std::string>& words, const std::string& command) {
  const std::string usage = command + " takes one runner or runnerpool: keelson " + command + " runner/NAME";
  std::vector<std::string> named = words;
  if (named.size() == 1 && named[0].find('/') == std::string::npos) named.insert(named.begin(), "runner");
  auto refs = ParseRefs(named);
  if (!refs) return Unexpected(refs.error());
  if (refs->size() != 1 || refs->front().name.empty() ||
      (refs->front().kind != model::Kind::kRunner && refs->front().kind != model::Kind::kRunnerPool)) {
    return Unexpected(ErrorCode::kInvalid, usage);
  }
  const ObjectRef ref = refs->front();
  Workload w;
  auto session = OpenSession(g, Access::kRead);
  if (!session) return Unexpected(session.error());
  w.session = std::move(*session);
  auto o = w.session->objects->Get(ref.kind, g.namespace_, ref.name);
  if (!o) return Unexpected(o.error());
  if (!*o) {
    return Unexpected(ErrorCode::kNotFound, std::string(model::Info(ref.kind).singular) + " \"" + ref.name +
                                                "\" not found in namespace " + g.namespace_);
  }
  w.object = std::move(**o);
  auto id = w.session->objects->StoreId();
  if (!id) return Unexpected(id.error());
  w.store_id = *id;
  auto engine = OpenEngine(g);
  if (!engine) return Unexpected(engine.error());
  w.engine = std::move(*engine);
  return w;
}

}  // namespace keelson::cli
