#include "reconcile/kinds.h"

#include <algorithm>
#include <tuple>

#include "reconcile/kinds_impl.h"
#include "reconcile/labels.h"
#include "reconcile/status.h"

namespace keelson::reconcile {

const KindReconciler& ReconcilerFor(model::Kind kind) {
  static const ImageReconciler image;
  static const NetworkReconciler network;
  static const VolumeReconciler volume;
  static const RunnerReconciler runner;
  static const RunnerPoolReconciler pool;
  static const PolicyReconciler policy;
  static const GitRepositoryReconciler git_repository;
  switch (kind) {
    case model::Kind::kImage: return image;
    case model::Kind::kNetwork: return network;
    case model::Kind::kVolume: return volume;
    case model::Kind::kRunner: return runner;
    case model::Kind::kRunnerPool: return pool;
    case model::Kind::kPolicy: return policy;
    case model::Kind::kGitRepository: return git_repository;
  }
  return runner;  // unreachable: every kind is above
}

Memory DecodeMemory(const nlohmann::json& state, const nlohmann::json& legacy) {
  // Tolerant by design: memory is a hint; a field it cannot read starts afresh.
  auto pick = [&](const char* key) -> const nlohmann::json* {
    if (state.is_object() && state.contains(key)) return &state[key];
    if (legacy.is_object() && legacy.contains(key)) return &legacy[key];
    return nullptr;
  };
  auto integer = [&](const char* key) -> int64_t {
    const auto* v = pick(key);
    return v && v->is_number_integer() ? v->get<int64_t>() : 0;
  };
  auto text = [&](const char* key) -> std::string {
    const auto* v = pick(key);
    return v && v->is_string() ? v->get<std::string>() : "";
  };
  Memory m;
  m.failure_streak = static_cast<int>(integer("failureStreak"));
  m.last_failure_at = text("lastFailureAt");
  m.update_generation = integer("updateGeneration");
  m.update_started_at = text("updateStartedAt");
  m.built_generation = integer("builtGeneration");
  m.pulled_at = text("pulledAt");
  return m;
}

nlohmann::json EncodeMemory(const Memory& m) {
  nlohmann::json j = nlohmann::json::object();
  if (m.failure_streak) j["failureStreak"] = m.failure_streak;
  if (!m.last_failure_at.empty()) j["lastFailureAt"] = m.last_failure_at;
  if (m.update_generation) j["updateGeneration"] = m.update_generation;
  if (!m.update_started_at.empty()) j["updateStartedAt"] = m.update_started_at;
  if (m.built_generation) j["builtGeneration"] = m.built_generation;
  if (!m.pulled_at.empty()) j["pulledAt"] = m.pulled_at;
  return j;
}

Result<Plan> KindReconciler::PlanDeletion(const model::Object& o, World& world) const {
  auto containers = world.ContainersOf(o.meta.uid);
  if (!containers) return Unexpected(containers.error());
  return PlanRemoval(*containers, {}, {}, 10);
}

void SetConditions(nlohmann::json& status, bool ready, const std::string& reason, const std::string& message,
                   bool degraded, int64_t generation, TimePoint now) {
  SetStandardConditions(status, ready, reason, message, degraded, generation, now);
}

namespace {

std::string Display(model::Kind kind, const std::string& name) {
  return std::string(model::Info(kind).singular) + "/" + name;
}

// Managed by keelson for this store, owned by a uid the store no longer has.
bool Orphan(const docker::Labels& labels, const std::set<std::string>& uids, const std::string& store_id) {
  // Another store's objects are never ours to judge, whatever their uid.
  if (!IsManaged(labels) || LabelValue(labels, kStoreLabel) != store_id) return false;
  return !uids.count(LabelValue(labels, kUidLabel));
}

}  // namespace

Result<std::string> ResolveDependencies(const model::Object& o, const model::RunnerSpec& spec,
                                        const std::vector<model::DependencySpec>& depends_on, World& world,
                                        Plan* plan) {
  // Each entry: the kind, the name, and what a wait on it is.
  std::vector<std::tuple<model::Kind, std::string, Blocker>> deps;
  if (!spec.image_ref.empty()) deps.emplace_back(model::Kind::kImage, spec.image_ref, Blocker::kWaitingForImage);
  for (const auto& n : spec.networks) deps.emplace_back(model::Kind::kNetwork, n.name, Blocker::kWaitingForNetwork);
  for (const auto& v : spec.volumes) deps.emplace_back(model::Kind::kVolume, v.name, Blocker::kWaitingForVolume);
  for (const auto& d : depends_on) deps.emplace_back(d.kind, d.name, Blocker::kWaitingForDependency);
  std::string image = spec.image;
  for (const auto& [kind, name, why] : deps) {
    auto dep = world.Get(kind, o.meta.namespace_, name);
    if (!dep) return Unexpected(dep.error());
    if (!*dep) {
      plan->Block(why, Display(kind, name) + " not found");
      return std::string();
    }
    if (!model::IsReady(**dep)) {
      plan->Block(why, Display(kind, name) + " is not Ready");
      return std::string();
    }
    if (kind == model::Kind::kImage && !spec.image_ref.empty()) {
      auto ref = (*dep)->spec.find("ref");
      if (ref != (*dep)->spec.end() && ref->is_string()) image = ref->get<std::string>();
    }
  }
  return image;
}

Result<void> PullFirstIfMissing(const std::string& image, World& world, Plan* plan) {
  bool creates = std::any_of(plan->actions.begin(), plan->actions.end(), [](const Action& a) {
    return std::holds_alternative<CreateContainer>(a) || std::holds_alternative<RecreateContainer>(a);
  });
  if (!creates) return {};
  auto present = world.Image(image);
  if (!present) return Unexpected(present.error());
  if (*present) return {};
  plan->actions.insert(plan->actions.begin(), PullImage{image, true, std::nullopt});
  return {};
}

Result<std::vector<Action>> PlanOrphans(World& world) {
  // The engine state first, then the store: an object applied in between has
  // no engine objects in this snapshot, so nothing of it is taken for an orphan.
  auto containers = world.Containers();
  auto networks = world.Networks();
  auto volumes = world.Volumes();
  auto uids = world.Uids();
  if (!uids) return Unexpected(uids.error());
  auto id = world.StoreId();
  if (!id) return Unexpected(id.error());
  std::vector<Action> out;
  for (const auto& c : containers) {
    // Its owner is gone (deleted with --force): no grace period.
    if (Orphan(c.config.labels, *uids, *id)) out.push_back(RemoveContainer{c.id, c.name, 0, RemoveWhy::kOrphan, {}, std::nullopt, 0});
  }
  for (const auto& n : networks) {
    if (Orphan(n.spec.labels, *uids, *id)) out.push_back(RemoveNetwork{n.id, n.spec.name, true});
  }
  for (const auto& v : volumes) {
    if (Orphan(v.spec.labels, *uids, *id)) out.push_back(RemoveVolume{v.spec.name, true});
  }
  return out;
}

}  // namespace keelson::reconcile
