// Network: one engine network NAMESPACE.NAME with the spec's config.

#include "manifest/decode.h"
#include "reconcile/desired.h"
#include "reconcile/kinds_impl.h"
#include "reconcile/labels.h"

namespace keelson::reconcile {

Result<Plan> NetworkReconciler::PlanFor(const model::Object& o, const Memory&, World& world) const {
  auto spec = manifest::DecodeSpecAs<model::NetworkSpec>(o);
  if (!spec) return Unexpected(spec.error());
  auto store_id = world.StoreId();
  if (!store_id) return Unexpected(store_id.error());
  const docker::NetworkSpec want = DesiredNetwork(o, *spec, *store_id);
  auto have = world.Network(want.name, false);
  if (!have) return Unexpected(have.error());
  Plan plan = PlanNetwork(want, *have);
  if (plan.actions.empty() || !std::holds_alternative<ReplaceNetwork>(plan.actions.front())) return plan;
  // Replacing needs the network unused: ask the engine, not the cache.
  auto fresh = world.Network(want.name, true);
  if (!fresh) return Unexpected(fresh.error());
  return PlanNetwork(want, *fresh);
}

Result<Plan> NetworkReconciler::PlanDeletion(const model::Object& o, World& world) const {
  // A network still used by keelson's containers (typically of Runners
  // deleted in the same breath) waits for them, rather than failing against
  // the engine and backing off.
  auto n = world.Network(EngineName(o), false);
  if (!n) return Unexpected(n.error());
  if (!*n || !IsManaged((*n)->spec.labels) || LabelValue((*n)->spec.labels, kUidLabel) != o.meta.uid) return Plan{};
  if (auto wait = WaitForContainers(world.ContainersOn((*n)->spec.name), "network " + (*n)->spec.name)) return *wait;
  return PlanRemoval({}, {**n}, {}, 0);
}

void NetworkReconciler::Status(const model::Object& o, const Plan*, bool, World& world, Memory&,
                               nlohmann::json& status) const {
  auto n = world.Network(EngineName(o), false);
  if (n && *n) status["id"] = (*n)->id;
}

}  // namespace keelson::reconcile
