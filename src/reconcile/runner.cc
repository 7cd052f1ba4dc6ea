// Runner: one container NAMESPACE.NAME, running as the spec and restartPolicy say.

#include "manifest/decode.h"
#include "reconcile/desired.h"
#include "reconcile/kinds_impl.h"
#include "reconcile/labels.h"
#include "reconcile/status.h"

namespace keelson::reconcile {
namespace {

const docker::Container* Named(const std::vector<docker::Container>& cs, const std::string& name) {
  for (const auto& c : cs) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

// When the plan is done, the container decides Ready: running (and healthy,
// with a healthcheck), or down for good.
void ContainerConditions(const model::Object& o, const docker::Container& c, model::RestartPolicy policy,
                         TimePoint now, nlohmann::json& status) {
  const int64_t gen = o.meta.generation;
  const std::string& health = c.state.health;
  if (c.state.running && (health.empty() || health == "healthy")) {
    SetConditions(status, true, "Running", health.empty() ? "running" : "running and healthy", false, gen, now);
  } else if (c.state.running) {
    const bool unhealthy = health == "unhealthy";
    SetConditions(status, false, unhealthy ? "Unhealthy" : "Starting", "healthcheck: " + health, unhealthy, gen, now);
  } else {
    const bool failed = c.state.exit_code != 0;
    SetConditions(status, false, failed ? "Failed" : "Completed",
                  "exited with code " + std::to_string(c.state.exit_code) + " (restartPolicy " +
                      model::ToString(policy) + ")",
                  failed, gen, now);
  }
}

}  // namespace

Result<Plan> RunnerReconciler::PlanFor(const model::Object& o, const Memory&, World& world) const {
  auto spec = manifest::DecodeSpecAs<model::RunnerSpec>(o);
  if (!spec) return Unexpected(spec.error());
  Plan plan;
  auto image = ResolveDependencies(o, *spec, spec->depends_on, world, &plan);
  if (!image) return Unexpected(image.error());
  if (plan.blocked) return plan;
  auto store_id = world.StoreId();
  if (!store_id) return Unexpected(store_id.error());
  std::string legacy_hash;
  auto want = DesiredContainer(o, *spec, EngineName(o), *image, *store_id, &legacy_hash);
  if (!want) return Unexpected(want.error());
  RunnerObserved observed;
  auto containers = world.ContainersOf(o.meta.uid);
  if (!containers) return Unexpected(containers.error());
  observed.containers = std::move(*containers);
  observed.restarts = static_cast<int>(IntField(o.status, "restarts"));
  observed.had_container = !TextField(o.status, "containerID").empty();
  observed.now = world.Now();
  std::optional<docker::Image> image_config;
  if (const docker::Container* c = Named(observed.containers, want->name)) {
    observed.stop_requested = !c->state.running && world.StopRequested(c->id);
    auto img = world.Image(c->image_id);
    if (!img) return Unexpected(img.error());
    image_config = std::move(*img);
  }
  observed.image = image_config ? &*image_config : nullptr;
  plan = PlanRunner(*want, spec->restart_policy, observed, legacy_hash);
  if (auto r = PullFirstIfMissing(*image, world, &plan); !r) return Unexpected(r.error());
  return plan;
}

Result<Plan> RunnerReconciler::PlanDeletion(const model::Object& o, World& world) const {
  auto spec = manifest::DecodeSpecAs<model::RunnerSpec>(o);
  const int stop = spec ? static_cast<int>(spec->stop_timeout.count()) : 10;
  auto containers = world.ContainersOf(o.meta.uid);
  if (!containers) return Unexpected(containers.error());
  return PlanRemoval(*containers, {}, {}, stop);
}

void RunnerReconciler::Record(const model::Object&, const Ledger& ledger, TimePoint, Memory&,
                              nlohmann::json& status) const {
  status["restarts"] = IntField(status, "restarts") + ledger.restarts;
}

void RunnerReconciler::Status(const model::Object& o, const Plan*, bool converged, World& world, Memory&,
                              nlohmann::json& status) const {
  auto owned = world.ContainersOf(o.meta.uid);
  const std::vector<docker::Container> containers = owned ? std::move(*owned) : std::vector<docker::Container>{};
  const docker::Container* c = Named(containers, EngineName(o));
  status["restarts"] = IntField(status, "restarts");
  if (!c) {
    status.erase("containerID");
    status.erase("health");
    status["state"] = "absent";
    return;
  }
  status["containerID"] = c->id;
  status["state"] = c->state.status;
  if (c->state.health.empty()) {
    status.erase("health");
  } else {
    status["health"] = c->state.health;
  }
  if (!c->state.started_at.empty()) status["startedAt"] = c->state.started_at;
  if (!converged) return;
  auto spec = manifest::DecodeSpecAs<model::RunnerSpec>(o);
  ContainerConditions(o, *c, spec ? spec->restart_policy : model::RestartPolicy::kAlways, world.Now(), status);
}

}  // namespace keelson::reconcile
