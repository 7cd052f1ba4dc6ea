#include "controller/reconciler.h"

#include <spdlog/spdlog.h>

#include "admission/rollback.h"
#include "reconcile/labels.h"
#include "reconcile/status.h"

namespace keelson::controller {
namespace {

using nlohmann::json;
using reconcile::Plan;
using std::chrono::milliseconds;

// While actions are under way, look again soon: a started container's health
// or a backoff decides the next step.
constexpr milliseconds kProgressRecheck{1000};
// How often a deletion waiting for containers to go looks again (cache only).
constexpr milliseconds kDeletionPoll{1000};

const json* ConditionOf(const json& status, const char* type) {
  if (!status.contains("conditions")) return nullptr;
  for (const auto& c : status["conditions"]) {
    if (c.value("type", "") == type) return &c;
  }
  return nullptr;
}

bool ReadyOf(const json& status) {
  // Callers compare one object's statuses, so the generation is the same.
  for (const auto& c : status.value("conditions", json::array())) {
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

const docker::Container* Named(const std::vector<docker::Container>& cs, const std::string& name) {
  for (const auto& c : cs) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

}  // namespace

Outcome Reconciler::Reconcile(const std::string& key) {
  auto ref = model::ParseKey(key);
  if (!ref) return Outcome{Error{ErrorCode::kInternal, "not an object key: " + key}, {}, false};
  auto found = store_.Get(ref->kind, ref->namespace_, ref->name);
  if (!found) return Outcome{found.error(), {}, false};
  if (!*found) {
    // Gone from the store (forced delete): what it owned is now an orphan.
    auto r = RemoveOrphans();
    return Outcome{r ? std::nullopt : std::optional<Error>(r.error()), {}, false};
  }
  const model::Object& o = **found;
  if (o.meta.deletion_timestamp) return Delete(o);
  json status = o.status;
  auto plan = PlanFor(o);
  if (plan) {
    if (auto r = ExecuteAll(o, plan->actions, status); !r) {
      auto after = Result<Plan>(Unexpected(r.error()));
      Outcome out = Finish(o, after, std::move(status));
      out.error = r.error();
      return out;
    }
    if (!plan->actions.empty()) {
      // Observe again, for the status: with what the actions recorded (restarts, runs).
      model::Object acted = o;
      acted.status = status;
      plan = PlanFor(acted);
    }
  }
  Outcome out = Finish(o, plan, std::move(status));
  if (!plan) out.error = plan.error();
  if (plan && plan->blocked_reason == "ProgressDeadlineExceeded" && o.spec.value("rollback", "none") == "auto") RollBack(o);
  return out;
}

// A status written anew: say what changed that a user would want to know,
// once per change (not on every pass that finds the same).
void Reconciler::TransitionEvents(const model::Object& o, const json& before, const json& after) {
  const json* was = ConditionOf(before, "Degraded");
  const json* now = ConditionOf(after, "Degraded");
  bool degraded = now && now->value("status", "") == "True";
  bool reason_moved = !was || was->value("reason", "") != now->value("reason", "") || was->value("status", "") != "True";
  if (degraded && reason_moved) Event(o, "Warning", now->value("reason", ""), now->value("message", ""));
  const json* ready = ConditionOf(after, "Ready");
  if (ready && ready->value("status", "") == "True" && !ReadyOf(before)) Event(o, "Normal", "Ready", ready->value("message", ""));
  const json no_one = json::array();
  const json& was_violating = before.contains("violators") ? before["violators"] : no_one;
  const json& violating = after.contains("violators") ? after["violators"] : no_one;
  if (o.kind == model::Kind::kPolicy && violating != was_violating && !violating.empty()) {
    std::string names;
    for (const auto& v : violating) names += (names.empty() ? "" : "; ") + v.get<std::string>();
    Event(o, "Warning", "Violations",
          std::to_string(after.value("violations", 0)) + " stored object(s) break this policy: " + names);
  }
  std::string old_digest = before.value("repoDigest", ""), new_digest = after.value("repoDigest", "");
  if (o.kind == model::Kind::kImage && !old_digest.empty() && old_digest != new_digest) {
    Event(o, "Normal", "DigestChanged", "repo digest " + old_digest + " -> " + new_digest);
  }
}

Result<void> Reconciler::ExecuteAll(const model::Object& o, const std::vector<reconcile::Action>& actions,
                                    json& status) {
  // Runs of creates, or of container removes, go in parallel; anything else,
  // and the order between runs, as planned.
  for (size_t i = 0; i < actions.size();) {
    size_t j = i;
    while (j < actions.size() && RunsInParallel(actions[j]) && actions[j].verb == actions[i].verb) ++j;
    if (j - i > 1) {
      std::vector<reconcile::Action> batch(actions.begin() + static_cast<long>(i), actions.begin() + static_cast<long>(j));
      if (auto r = ExecuteInParallel(o, batch, status); !r) return r;
      i = j;
      continue;
    }
    if (auto r = Execute(o, actions[i], status); !r) return r;
    ++i;
  }
  return {};
}

Outcome Reconciler::Finish(const model::Object& o, const Result<Plan>& after, json status) {
  Outcome out;
  json next = BuildStatus(o, after, status);
  bool was_ready = ReadyOf(o.status), ready = ReadyOf(next);
  auto written = WriteStatus(o, next);
  if (!written) out.error = written.error();
  out.ready_changed = was_ready != ready;
  if (written && *written) TransitionEvents(o, o.status, next);
  if (after && after->requeue_after) out.requeue_after = after->requeue_after;
  // Still actions pending after acting (a start that has not shown yet): look again soon.
  if (after && !after->actions.empty() && !out.requeue_after) out.requeue_after = kProgressRecheck;
  return out;
}

json Reconciler::BuildStatus(const model::Object& o, const Result<Plan>& after, const json& previous) {
  json status = previous.is_object() ? previous : json::object();
  const TimePoint now = s_.clock.Now();
  const int64_t gen = o.meta.generation;
  if (!after) {
    const Error& e = after.error();
    const char* reason = e.transient() ? "EngineUnavailable" : e.code == ErrorCode::kConflict ? "Conflict" : "InvalidSpec";
    reconcile::SetStandardConditions(status, false, reason, e.message, !e.transient(), gen, now);
    if (o.kind == model::Kind::kRunner) RunnerStatus(o, false, status);
    return status;
  }
  const Plan& p = *after;
  bool converged = p.actions.empty() && p.blocked_reason.empty();
  if (!p.blocked_reason.empty()) {
    bool waiting = p.blocked_reason.rfind("Waiting", 0) == 0 || p.blocked_reason == "NotImplemented";
    reconcile::SetStandardConditions(status, false, p.blocked_reason, p.blocked_message, !waiting, gen, now);
  } else if (converged) {
    reconcile::SetStandardConditions(status, true, o.kind == model::Kind::kPolicy ? "Accepted" : "Ready",
                                     "matches the spec", false, gen, now);
  } else {
    reconcile::SetStandardConditions(status, false, "Converging", reconcile::Describe(p.actions.front()), false, gen, now);
  }
  switch (o.kind) {
    case model::Kind::kNetwork:
      if (auto n = s_.cache.Network(reconcile::EngineName(o))) status["id"] = n->id;
      break;
    case model::Kind::kVolume:
      if (auto v = s_.cache.Volume(reconcile::EngineName(o))) status["mountpoint"] = v->mountpoint;
      break;
    case model::Kind::kImage:
      if (auto img = s_.cache.Image(o.spec["ref"].get<std::string>()); img && *img) {
        status["id"] = (*img)->id;
        status["size"] = (*img)->size;
        if (!(*img)->repo_digests.empty()) status["repoDigest"] = (*img)->repo_digests.front();
      }
      break;
    case model::Kind::kRunner:
      RunnerStatus(o, converged, status);
      break;
    case model::Kind::kRunnerPool:
      PoolStatus(o, p, status);
      break;
    case model::Kind::kPolicy:
      for (const auto& [k, v] : p.status_fields.items()) status[k] = v;
      break;
  }
  return status;
}

// The container's fields; and when the plan is done, the container decides
// Ready: running (and healthy, with a healthcheck), or down for good.
void Reconciler::RunnerStatus(const model::Object& o, bool converged, json& status) {
  auto containers = s_.cache.ContainersOf(o.meta.uid);
  const docker::Container* c = Named(containers, reconcile::EngineName(o));
  status["restarts"] = status.value("restarts", 0);
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
  const TimePoint now = s_.clock.Now();
  const int64_t gen = o.meta.generation;
  const std::string& health = c->state.health;
  if (c->state.running && (health.empty() || health == "healthy")) {
    reconcile::SetStandardConditions(status, true, "Running", health.empty() ? "running" : "running and healthy", false,
                                     gen, now);
  } else if (c->state.running) {
    bool unhealthy = health == "unhealthy";
    reconcile::SetStandardConditions(status, false, unhealthy ? "Unhealthy" : "Starting", "healthcheck: " + health,
                                     unhealthy, gen, now);
  } else {
    bool failed = c->state.exit_code != 0;
    reconcile::SetStandardConditions(
        status, false, failed ? "Failed" : "Completed",
        "exited with code " + std::to_string(c->state.exit_code) + " (restartPolicy " +
            o.spec.value("restartPolicy", "Always") + ")",
        failed, gen, now);
  }
}

// Counts from the planner; Ready when every desired replica is on the
// current template and available, and nothing is left to do.
void Reconciler::PoolStatus(const model::Object& o, const Plan& p, json& status) {
  for (const auto& [k, v] : p.status_fields.items()) status[k] = v;
  // The clock of spec.progressDeadline: from the first pass that finds
  // replicas on an older template, for this generation.
  if (status.value("updatedReplicas", 0) < status.value("replicas", 0)) {
    if (status.value("updateGeneration", int64_t{0}) != o.meta.generation) {
      status["updateGeneration"] = o.meta.generation;
      status["updateStartedAt"] = FormatTimestamp(s_.clock.Now());
    }
  } else if (p.blocked_reason.empty()) {
    status.erase("updateGeneration");
    status.erase("updateStartedAt");
  }
  if (!p.blocked_reason.empty()) return;
  const int want = o.spec.value("replicas", 1);
  const int available = status.value("availableReplicas", 0), updated = status.value("updatedReplicas", 0);
  const int total = status.value("replicas", 0);
  bool ready = p.actions.empty() && available >= want && updated == total && total == want;
  std::string message = std::to_string(available) + "/" + std::to_string(want) + " available, " +
                        std::to_string(updated) + " on the current template";
  reconcile::SetStandardConditions(status, ready, ready ? "Ready" : "ScalingOrUpdating", message, false,
                                   o.meta.generation, s_.clock.Now());
}

void Reconciler::RollBack(const model::Object& o) {
  // Only while the pool is still at the generation that missed its deadline:
  // a change applied since is the user's newer word.
  auto restored = admission::RestorePreviousTemplate(store_, o.meta.namespace_, o.meta.name, "rollback: auto",
                                                     o.meta.generation);
  if (!restored) {
    spdlog::warn("{}: rollback: {}", model::Key(o), restored.error().message);
    return;
  }
  if (!*restored) return;
  Event(o, "Warning", "RolledBack",
        "progress deadline exceeded: restored the template of generation " + std::to_string(**restored));
}

Outcome Reconciler::Delete(const model::Object& o) {
  json status = o.status;
  auto plan = PlanDeletion(o);
  if (!plan) return Outcome{plan.error(), {}, false};
  if (!plan->blocked_reason.empty()) {
    reconcile::SetStandardConditions(status, false, plan->blocked_reason, plan->blocked_message, false,
                                     o.meta.generation, s_.clock.Now());
    if (status != o.status) (void)WriteStatus(o, status);
    return Outcome{std::nullopt, kDeletionPoll, false};
  }
  if (auto r = ExecuteAll(o, plan->actions, status); !r) {
    reconcile::SetStandardConditions(status, false, "DeletionBlocked", r.error().message, true, o.meta.generation,
                                     s_.clock.Now());
    (void)WriteStatus(o, status);
    // In use (by a container keelson did not create) or transient: retry with backoff.
    return Outcome{r.error().code == ErrorCode::kConflict ? Error{ErrorCode::kUnavailable, r.error().message} : r.error(),
                   {}, false};
  }
  auto done = store_.FinishDeletion(o);
  if (!done) return Outcome{done.error(), {}, false};
  // The store records the Deleted event with the row it removes.
  if (*done) spdlog::info("{}: engine objects removed; object deleted", model::Key(o));
  return Outcome{std::nullopt, {}, true};
}

Result<bool> Reconciler::WriteStatus(const model::Object& o, const json& status) {
  auto written = store_.UpdateStatus(o, status);
  if (written) {
    // Nothing else changed the object since it was read: the watcher may
    // skip exactly this version.
    if (*written && s_.status_writes) s_.status_writes->Note(model::Key(o), **written);
    return written->has_value();
  }
  if (written.error().code != ErrorCode::kConflict) return Unexpected(written.error());
  // A spec, label or deletion landed since the read. The status is the
  // controller's alone and says which generation it observed, so it is still
  // true: write it on the object as it is now. The watcher has seen (or will
  // see) the other change, which brings the object back.
  auto fresh = store_.Get(o.kind, o.meta.namespace_, o.meta.name);
  if (!fresh) return Unexpected(fresh.error());
  if (!*fresh || (*fresh)->meta.uid != o.meta.uid) return false;
  auto again = store_.UpdateStatus(**fresh, status);
  if (!again) return Unexpected(again.error());
  return again->has_value();
}

Result<std::string> Reconciler::StoreId() {
  if (store_id_.empty()) {
    auto id = store_.StoreId();
    if (!id) return Unexpected(id.error());
    store_id_ = *id;
  }
  return store_id_;
}

bool Reconciler::Orphan(const docker::Labels& labels, const std::set<std::string>& uids,
                        const std::string& store_id) const {
  // Another store's objects are never ours to judge, whatever their uid.
  if (!reconcile::IsManaged(labels) || reconcile::LabelValue(labels, reconcile::kStoreLabel) != store_id) return false;
  return !uids.count(reconcile::LabelValue(labels, reconcile::kUidLabel));
}

Result<std::vector<std::string>> Reconciler::Orphans() {
  // The engine state first, then the store: an object applied in between has
  // no engine objects in this snapshot, so nothing of it is taken for an orphan.
  auto containers = s_.cache.Containers();
  auto networks = s_.cache.Networks();
  auto volumes = s_.cache.Volumes();
  auto uids = store_.Uids();
  if (!uids) return Unexpected(uids.error());
  auto id = StoreId();
  if (!id) return Unexpected(id.error());
  std::vector<std::string> out;
  for (const auto& c : containers) {
    if (Orphan(c.config.labels, *uids, *id)) out.push_back("container " + c.name);
  }
  for (const auto& n : networks) {
    if (Orphan(n.spec.labels, *uids, *id)) out.push_back("network " + n.spec.name);
  }
  for (const auto& v : volumes) {
    if (Orphan(v.spec.labels, *uids, *id)) out.push_back("volume " + v.spec.name);
  }
  return out;
}

Result<int> Reconciler::RemoveOrphans() {
  auto orphans = Orphans();
  if (!orphans) return Unexpected(orphans.error());
  for (const auto& what : *orphans) {
    auto space = what.find(' ');
    std::string type = what.substr(0, space), name = what.substr(space + 1);
    Result<void> r;
    if (type == "container") {
      // Its owner is gone (deleted with --force): no grace period.
      r = RemoveContainer(name, 0);
    } else if (type == "network") {
      r = Call("remove_network", s_.engine.RemoveNetwork(name));
      if (!r && r.error().code == ErrorCode::kNotFound) r = {};
      (void)s_.cache.RefreshNetwork(name);
    } else {
      r = Call("remove_volume", s_.engine.RemoveVolume(name, false));
      if (!r && r.error().code == ErrorCode::kNotFound) r = {};
      (void)s_.cache.RefreshVolume(name);
    }
    if (!r) return Unexpected(r.error());
    spdlog::info("removed orphan {} (its owner is no longer in the store)", what);
  }
  return static_cast<int>(orphans->size());
}

}  // namespace keelson::controller
