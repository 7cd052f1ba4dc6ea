// Volume: one engine volume NAMESPACE.NAME with the spec's driver and options.

#include "manifest/decode.h"
#include "reconcile/desired.h"
#include "reconcile/kinds_impl.h"
#include "reconcile/labels.h"

namespace keelson::reconcile {

Result<Plan> VolumeReconciler::PlanFor(const model::Object& o, const Memory&, World& world) const {
  auto spec = manifest::DecodeSpecAs<model::VolumeSpec>(o);
  if (!spec) return Unexpected(spec.error());
  auto store_id = world.StoreId();
  if (!store_id) return Unexpected(store_id.error());
  const docker::VolumeSpec want = DesiredVolume(o, *spec, *store_id);
  return PlanVolume(want, world.Volume(want.name), !world.ContainersMounting(want.name).empty());
}

Result<Plan> VolumeReconciler::PlanDeletion(const model::Object& o, World& world) const {
  auto store_id = world.StoreId();
  if (!store_id) return Unexpected(store_id.error());
  auto v = world.Volume(EngineName(o));
  if (!v || !OwnedBy(v->spec.labels, *store_id, o.meta.uid)) return Plan{};
  if (auto wait = WaitForContainers(world.ContainersMounting(v->spec.name), "volume " + v->spec.name)) return *wait;
  return PlanRemoval({}, {}, {*v}, 0);
}

void VolumeReconciler::Status(const model::Object& o, const Plan*, bool, World& world, Memory&,
                              nlohmann::json& status) const {
  if (auto v = world.Volume(EngineName(o))) status["mountpoint"] = v->mountpoint;
}

}  // namespace keelson::reconcile
