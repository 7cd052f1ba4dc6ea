#include "cli/workload.h"

#include <algorithm>

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
