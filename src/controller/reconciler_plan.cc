// Reconciler: from a stored object and the cache to a reconcile::Plan.

#include "controller/reconciler.h"
#include "policy/policy.h"
#include "reconcile/desired.h"
#include "reconcile/labels.h"
#include "reconcile/pool.h"
#include "util/units.h"

#include <algorithm>

namespace keelson::controller {
namespace {

using nlohmann::json;
using reconcile::Plan;

void Block(Plan* plan, std::string reason, std::string message) {
  plan->blocked_reason = std::move(reason);
  plan->blocked_message = std::move(message);
}

std::string Display(model::Kind kind, const std::string& name) {
  return std::string(model::Info(kind).singular) + "/" + name;
}

}  // namespace

Result<Plan> Reconciler::PlanFor(const model::Object& o) {
  if (o.meta.deletion_timestamp) return PlanDeletion(o);
  auto store_id = StoreId();
  if (!store_id) return Unexpected(store_id.error());
  switch (o.kind) {
    case model::Kind::kNetwork: {
      const std::string name = reconcile::EngineName(o);
      auto plan = reconcile::PlanNetwork(reconcile::DesiredNetwork(o, *store_id), s_.cache.Network(name));
      if (plan.actions.empty() || plan.actions[0].verb != reconcile::Verb::kReplace) return plan;
      // Replacing needs the network unused: ask the engine, not the cache.
      if (auto r = s_.cache.RefreshNetwork(name); !r) return Unexpected(r.error());
      return reconcile::PlanNetwork(reconcile::DesiredNetwork(o, *store_id), s_.cache.Network(name));
    }
    case model::Kind::kVolume: {
      const std::string name = reconcile::EngineName(o);
      return reconcile::PlanVolume(reconcile::DesiredVolume(o, *store_id), s_.cache.Volume(name),
                                   s_.cache.VolumeInUse(name));
    }
    case model::Kind::kImage:
      return PlanImage(o);
    case model::Kind::kRunner:
      return PlanRunner(o);
    case model::Kind::kRunnerPool:
      return PlanPool(o);
    case model::Kind::kPolicy:
      return PlanPolicy(o);
  }
  return Plan{};
}

Result<std::string> Reconciler::ResolveDependencies(const model::Object& o, const json& spec, Plan* blocked) {
  const std::string& ns = o.meta.namespace_;
  // Each entry: the kind, the name, and the reason a wait on it reports.
  std::vector<std::tuple<model::Kind, std::string, const char*>> deps;
  if (spec.contains("imageRef")) deps.emplace_back(model::Kind::kImage, spec["imageRef"].get<std::string>(), "WaitingForImage");
  for (const auto& n : spec.value("networks", json::array())) {
    deps.emplace_back(model::Kind::kNetwork, n["name"].get<std::string>(), "WaitingForNetwork");
  }
  for (const auto& v : spec.value("volumes", json::array())) {
    deps.emplace_back(model::Kind::kVolume, v["name"].get<std::string>(), "WaitingForVolume");
  }
  for (const auto& d : o.spec.value("dependsOn", json::array())) {
    auto kind = model::KindFromManifestName(d["kind"].get<std::string>());
    if (kind) deps.emplace_back(*kind, d["name"].get<std::string>(), "WaitingForDependency");
  }
  std::string image = spec.value("image", "");
  for (const auto& [kind, name, reason] : deps) {
    auto dep = store_.Get(kind, ns, name);
    if (!dep) return Unexpected(dep.error());
    if (!*dep) {
      Block(blocked, reason, Display(kind, name) + " not found");
      return std::string();
    }
    if (!model::IsReady(**dep)) {
      Block(blocked, reason, Display(kind, name) + " is not Ready");
      return std::string();
    }
    if (kind == model::Kind::kImage && spec.contains("imageRef")) image = (*dep)->spec["ref"].get<std::string>();
  }
  return image;
}

// Create never pulls: when the plan creates containers of a missing image,
// the image is pulled first, as `docker run` does.
Result<void> Reconciler::PullFirstIfMissing(const std::string& image, Plan* plan) {
  bool creates = std::any_of(plan->actions.begin(), plan->actions.end(), [](const auto& a) {
    return a.verb == reconcile::Verb::kCreate || a.verb == reconcile::Verb::kRecreate;
  });
  if (!creates) return {};
  auto present = s_.cache.Image(image);
  if (!present) return Unexpected(present.error());
  if (*present) return {};
  reconcile::Action pull;
  pull.verb = reconcile::Verb::kPull;
  pull.target = reconcile::Target::kImage;
  pull.name = image;
  pull.reasons.push_back("not present");
  plan->actions.insert(plan->actions.begin(), std::move(pull));
  return {};
}

Result<Plan> Reconciler::PlanRunner(const model::Object& o) {
  Plan plan;
  auto image = ResolveDependencies(o, o.spec, &plan);
  if (!image) return Unexpected(image.error());
  if (!plan.blocked_reason.empty()) return plan;
  auto store_id = StoreId();
  if (!store_id) return Unexpected(store_id.error());
  auto want = reconcile::DesiredContainer(o, o.spec, reconcile::EngineName(o), *image, *store_id);
  if (!want) return Unexpected(want.error());
  reconcile::RunnerObserved observed;
  observed.containers = s_.cache.ContainersOf(o.meta.uid);
  observed.restarts = o.status.value("restarts", 0);
  observed.now = s_.clock.Now();
  std::optional<docker::Image> image_config;
  for (const auto& c : observed.containers) {
    if (c.name != want->name) continue;
    auto img = s_.cache.Image(c.image_id);
    if (!img) return Unexpected(img.error());
    image_config = std::move(*img);
  }
  observed.image = image_config ? &*image_config : nullptr;
  plan = reconcile::PlanRunner(*want, o.spec.value("restartPolicy", "Always"), observed);
  if (auto r = PullFirstIfMissing(*image, &plan); !r) return Unexpected(r.error());
  return plan;
}

Result<Plan> Reconciler::PlanPool(const model::Object& o) {
  Plan plan;
  const json tmpl = o.spec.value("template", json::object());
  auto image = ResolveDependencies(o, tmpl, &plan);
  if (!image) return Unexpected(image.error());
  if (!plan.blocked_reason.empty()) return plan;
  auto store_id = StoreId();
  if (!store_id) return Unexpected(store_id.error());
  auto want = reconcile::DesiredContainer(o, tmpl, "", *image, *store_id);
  if (!want) return Unexpected(want.error());
  if (auto late = PastProgressDeadline(o); !late.empty()) {
    Block(&plan, "ProgressDeadlineExceeded", late);
    return plan;
  }
  reconcile::PoolHistory history{o.status.value("failureStreak", 0), o.status.value("lastFailureAt", "")};
  auto pool = reconcile::PlanPool(reconcile::ParsePoolSpec(o.spec), *want, reconcile::EngineName(o),
                                  s_.cache.ContainersOf(o.meta.uid), s_.clock.Now(), reconcile::RandomSuffix, history);
  if (auto r = PullFirstIfMissing(*image, &pool.plan); !r) return Unexpected(r.error());
  return pool.plan;
}

std::string Reconciler::PastProgressDeadline(const model::Object& o) {
  TimePoint started;
  if (o.status.value("updateGeneration", int64_t{0}) != o.meta.generation ||
      !ParseTimestamp(o.status.value("updateStartedAt", ""), &started)) {
    return "";
  }
  auto deadline = ParseDuration(o.spec.value("progressDeadline", "10m")).value_or(std::chrono::minutes(10));
  if (s_.clock.Now() - started <= deadline) return "";
  return "the template of generation " + std::to_string(o.meta.generation) + " did not make every replica ready within " +
         o.spec.value("progressDeadline", "10m") + "; the update is stopped";
}

Result<Plan> Reconciler::PlanImage(const model::Object& o) {
  auto present = s_.cache.Image(o.spec["ref"].get<std::string>());
  if (!present) return Unexpected(present.error());
  reconcile::ImageObserved observed;
  observed.image = *present;
  observed.generation = o.meta.generation;
  observed.built_generation = o.status.value("builtGeneration", int64_t{0});
  observed.pulled_at = o.status.value("pulledAt", "");
  observed.recheck = s_.image_recheck;
  observed.now = s_.clock.Now();
  return reconcile::PlanImage(o.spec, observed);
}

Result<Plan> Reconciler::PlanPolicy(const model::Object& o) {
  // Admission happens at apply; this audits what is stored, including what
  // was stored before the policy existed. Nothing on the engine changes.
  std::vector<std::string> violators;
  for (auto kind : {model::Kind::kImage, model::Kind::kRunner, model::Kind::kRunnerPool}) {
    auto objects = store_.List({kind, std::nullopt, nullptr});
    if (!objects) return Unexpected(objects.error());
    for (const auto& obj : *objects) {
      if (obj.meta.deletion_timestamp) continue;
      auto verdicts = policy::Admit({o}, obj);
      if (verdicts.empty()) continue;
      std::string rules;
      for (const auto& v : verdicts) {
        if (rules.find(v.violation.rule) == std::string::npos) rules += (rules.empty() ? "" : ", ") + v.violation.rule;
      }
      std::string name = model::DisplayName(obj);
      if (obj.meta.namespace_ != o.meta.namespace_) name = obj.meta.namespace_ + "/" + name;
      violators.push_back(name + " (" + rules + ")");
    }
  }
  Plan plan;
  plan.status_fields["violations"] = violators.size();
  if (violators.size() > kViolatorsShown) violators.resize(kViolatorsShown);
  plan.status_fields["violators"] = violators;
  return plan;
}

namespace {

// A deletion that must wait for containers to go first: `what` is "network
// default.ci-net", "image x:1", ...
std::optional<Plan> WaitForContainers(const std::vector<std::string>& users, const std::string& what) {
  if (users.empty()) return std::nullopt;
  Plan plan;
  plan.blocked_reason = "WaitingForContainers";
  std::string names;
  for (size_t i = 0; i < users.size() && i < 3; ++i) names += (i ? ", " : "") + users[i];
  if (users.size() > 3) names += ", ...";
  plan.blocked_message = what + " is still used by " + std::to_string(users.size()) + " container(s) (" + names +
                         "); it is removed when they are gone";
  return plan;
}

}  // namespace

Result<Plan> Reconciler::PlanImageRemoval(const model::Object& o) {
  // Only an image keelson put on the engine, only while no container uses
  // it, and only if no other Image object still wants that reference.
  Plan plan;
  if (!o.status.value("createdOnEngine", false)) return plan;
  const std::string ref = o.spec["ref"].get<std::string>();
  auto image = s_.cache.Image(ref);
  if (!image) return Unexpected(image.error());
  if (!*image) return plan;
  auto images = store_.List({model::Kind::kImage, std::nullopt, nullptr});
  if (!images) return Unexpected(images.error());
  for (const auto& other : *images) {
    if (other.meta.uid != o.meta.uid && !other.meta.deletion_timestamp && other.spec.value("ref", "") == ref) {
      return plan;  // still wanted
    }
  }
  auto users = s_.engine.ListContainers({{}, true});  // every container, not only keelson's
  if (!users) return Unexpected(users.error());
  auto store_id = StoreId();
  if (!store_id) return Unexpected(store_id.error());
  std::vector<std::string> ours, theirs;
  for (const auto& c : *users) {
    if (c.image_id != (*image)->id) continue;
    const bool mine = reconcile::IsManaged(c.labels) && reconcile::LabelValue(c.labels, reconcile::kStoreLabel) == *store_id;
    (mine ? ours : theirs).push_back(c.name);
  }
  if (auto wait = WaitForContainers(ours, "image " + ref)) return *wait;
  if (!theirs.empty()) return plan;  // used by containers this store did not make: it stays
  reconcile::Action a;
  a.verb = reconcile::Verb::kRemove;
  a.target = reconcile::Target::kImage;
  a.name = ref;
  a.reasons.push_back("owner deleted; keelson pulled or built it and no container uses it");
  plan.actions.push_back(std::move(a));
  return plan;
}

Result<Plan> Reconciler::PlanDeletion(const model::Object& o) {
  std::vector<docker::Network> networks;
  std::vector<docker::Volume> volumes;
  auto owned = [&](const docker::Labels& labels) {
    auto it = labels.find(reconcile::kUidLabel);
    return reconcile::IsManaged(labels) && it != labels.end() && it->second == o.meta.uid;
  };
  // A network or volume still in use by keelson's containers (typically of
  // Runners deleted in the same breath) waits for them to go, rather than
  // failing against the engine and backing off.
  if (o.kind == model::Kind::kNetwork) {
    auto n = s_.cache.Network(reconcile::EngineName(o));
    if (n && owned(n->spec.labels)) {
      if (auto wait = WaitForContainers(s_.cache.ContainersOn(n->spec.name), "network " + n->spec.name)) return *wait;
      networks.push_back(*n);
    }
  }
  if (o.kind == model::Kind::kVolume) {
    auto v = s_.cache.Volume(reconcile::EngineName(o));
    if (v && owned(v->spec.labels)) {
      if (auto wait = WaitForContainers(s_.cache.ContainersMounting(v->spec.name), "volume " + v->spec.name)) return *wait;
      volumes.push_back(*v);
    }
  }
  if (o.kind == model::Kind::kImage) return PlanImageRemoval(o);
  int stop = reconcile::StopTimeoutSeconds(o.kind == model::Kind::kRunnerPool ? o.spec.value("template", json::object()) : o.spec);
  return reconcile::PlanRemoval(s_.cache.ContainersOf(o.meta.uid), networks, volumes, stop);
}

}  // namespace keelson::controller
