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
  auto store_id = world.StoreId();
  if (!store_id) return Unexpected(store_id.error());
  auto n = world.Network(EngineName(o), false);
  if (!n) return Unexpected(n.error());
  if (!*n || !OwnedBy((*n)->spec.labels, *store_id, o.meta.uid)) return Plan{};
  const std::string& name = (*n)->spec.name;
  // Containers of objects deleted in the same breath (a fleet going) are
  // waited for; those of objects that stay (delete --ignore-users) are
  // disconnected, so the network can go and be applied again later.
  Plan plan;
  std::vector<std::string> going;
  for (const auto& c : world.Containers()) {
    bool attached = false;
    for (const auto& a : c.config.networks) attached |= a.network == name;
    if (!attached) continue;
    auto ref = model::ParseKey(OwnerKey(c.config.labels));
    auto owner = ref ? world.Get(ref->kind, ref->namespace_, ref->name) : Result<std::optional<model::Object>>(std::nullopt);
    if (!owner) return Unexpected(owner.error());
    if (*owner && !(*owner)->meta.deletion_timestamp) {
      plan.actions.push_back(DisconnectContainer{c.id, c.name, {name, {}}, "network " + name + " is being deleted"});
    } else {
      going.push_back(c.name);
    }
  }
  if (auto wait = WaitForContainers(going, "network " + name)) return *wait;
  for (auto& a : PlanRemoval({}, {**n}, {}, 0).actions) plan.actions.push_back(std::move(a));
  return plan;
}

void NetworkReconciler::Status(const model::Object& o, const Plan*, bool, World& world, Memory&,
                               nlohmann::json& status) const {
  auto n = world.Network(EngineName(o), false);
  if (n && *n) status["id"] = (*n)->id;
}

}  // namespace keelson::reconcile
