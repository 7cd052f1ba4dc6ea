#include "controller/reconciler.h"

#include <spdlog/spdlog.h>

#include "admission/rollback.h"
#include "reconcile/status.h"
#include "store/run_history.h"
#include "util/log_fields.h"
#include "util/text.h"

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

// Kept in status by keelson 0.1; now the controller's memory.
constexpr const char* kLegacyMemory[] = {"failureStreak", "lastFailureAt", "updateStartedAt",
                                         "updateGeneration", "builtGeneration", "pulledAt"};

bool Says(const Error& e, std::initializer_list<const char*> words) {
  for (const char* w : words) {
    if (e.message.find(w) != std::string::npos) return true;
  }
  return false;
}

// Whether a settled pass may be trusted until the object, its containers,
// or the networks, volumes and images change: the kinds whose desired state
// comes from those alone (Images re-check registries; Policies audit every
// object), with a spec that reads no file (an env file may change without
// an event) and takes no other object's spec (imageRef: an Image's ref may
// change while it stays Ready). Other objects' Ready flips wake their
// dependents without a resync (Manager::Process).
bool Settles(const model::Object& o) {
  const json* runner = nullptr;
  switch (o.kind) {
    case model::Kind::kNetwork:
    case model::Kind::kVolume:
      return true;
    case model::Kind::kRunner:
      runner = &o.spec;
      break;
    case model::Kind::kRunnerPool:
      if (o.spec.is_object() && o.spec.contains("autoscaling")) return false;  // its jobs change without an event
      if (o.spec.is_object() && o.spec.contains("template")) runner = &o.spec["template"];
      break;
    default:
      return false;
  }
  if (!runner || !runner->is_object()) return false;
  if (runner->contains("imageRef")) return false;
  auto env = runner->find("env");
  if (env == runner->end() || !env->is_array()) return true;
  for (const auto& e : *env) {
    if (e.is_object() && e.contains("valueFrom")) return false;
  }
  return true;
}

}  // namespace

Failure Classify(const reconcile::Action* action, const Error& e) {
  // Pulls are retried with backoff whatever went wrong (a tag may be pushed,
  // a registry may come back, credentials may be fixed), as Kubernetes'
  // ImagePullBackOff does; each cause has its own reason.
  if (e.message.rfind(kNoSlotPrefix, 0) == 0) return {"WaitingForPullSlot", false, true};
  if (action && std::holds_alternative<reconcile::PullImage>(*action)) {
    const char* reason = e.code == ErrorCode::kNotFound       ? "ImageNotFound"
                         : e.code == ErrorCode::kUnauthorized ? "RegistryUnauthorized"
                         : e.transient()                      ? "RegistryUnavailable"
                                                              : "ErrImagePull";
    return {reason, true, true};
  }
  if (Says(e, {"port is already allocated", "address already in use"})) return {"PortInUse", true, true};
  // The GitHub API (a runner's registration): retried with backoff, since
  // GitHub comes back and credentials files get fixed.
  if (e.message.rfind("github ", 0) == 0 || e.message.rfind("github: ", 0) == 0) {
    const char* reason = e.code == ErrorCode::kUnauthorized ? "GitHubUnauthorized"
                         : e.transient()                    ? "GitHubUnavailable"
                                                            : "GitHubRefused";
    return {reason, !e.transient(), true};
  }
  if (e.transient()) return {"EngineUnavailable", false, true};
  return {e.code == ErrorCode::kConflict ? "Conflict" : "InvalidSpec", true, false};
}

namespace {

// The last line of `text` that says something, at most 200 bytes: a failed
// run's summary in its event.
std::string LastLine(const std::string& text) {
  size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return "";
  size_t start = text.rfind('\n', end);
  start = start == std::string::npos ? 0 : start + 1;
  std::string line = text.substr(start, end - start + 1);
  if (line.size() > 200) line = std::string(Utf8Prefix(line, 200)) + "...";
  return line;
}

}  // namespace

Outcome Reconciler::Reconcile(const std::string& key) {
  if (Fenced()) return Outcome{Error{ErrorCode::kUnavailable, kFencedMessage}, {}, false, std::nullopt};
  auto ref = model::ParseKey(key);
  if (!ref) return Outcome{Error{ErrorCode::kInternal, "not an object key: " + key}, {}, false, std::nullopt};
  logfields::Scope fields({{"kind", std::string(model::Info(ref->kind).name)}, {"namespace", ref->namespace_},
                           {"name", ref->name}});
  auto found = store_.Get(ref->kind, ref->namespace_, ref->name);
  if (!found) return Outcome{found.error(), {}, false, std::nullopt};
  if (!*found) {
    // Gone from the store (forced delete): what it owned is now an orphan.
    auto r = RemoveOrphans();
    return Outcome{r ? std::nullopt : std::optional<Error>(r.error()), {}, false, std::nullopt};
  }
  const bool source = ref->kind == model::Kind::kGitRepository;
  if ((*found)->meta.deletion_timestamp) {
    if (source) PruneSourceInventory(**found);
    return Delete(**found);
  }
  return source ? SyncSource(**found) : Pass(**found);
}

Outcome Reconciler::Pass(const model::Object& o) {
  const reconcile::KindReconciler& kind = reconcile::ReconcilerFor(o.kind);
  // Read before observing: a change the pass may have missed moves them on.
  const uint64_t owner_stamp = s_.cache.OwnerStamp(o.meta.uid), shared_stamp = s_.cache.SharedStamp();
  reconcile::Memory memory = reconcile::DecodeMemory(o.controller_state, o.status);
  json status = o.status.is_object() ? o.status : json::object();
  auto plan = kind.PlanFor(o, memory, world_);
  if (plan && !plan->actions.empty()) {
    reconcile::Ledger ledger;
    std::optional<reconcile::Action> failed;
    auto acted = Act(o, plan->actions, ledger, &failed);
    kind.Record(o, ledger, s_.clock.Now(), memory, status);
    KeepRuns(o, ledger);
    if (!acted) {
      const Failure why = Classify(failed ? &*failed : nullptr, acted.error());
      Outcome out = Finish(o, Unexpected(acted.error()), std::move(status), memory, why);
      // Retried with the object's backoff, or left for a change of the spec.
      out.error = Error{why.retry ? ErrorCode::kUnavailable : acted.error().code, acted.error().message};
      return out;
    }
    // Observe again, for the status, with what the actions recorded.
    model::Object seen = o;
    seen.status = status;
    plan = kind.PlanFor(seen, memory, world_);
  }
  const bool acted = plan && !plan->actions.empty();
  int64_t rv = 0;
  Outcome out = Finish(o, plan, std::move(status), memory, std::nullopt, &rv);
  if (!plan) out.error = plan.error();
  if (plan && plan->roll_back) RollBack(o);
  if (plan && !acted && !plan->blocked && !plan->roll_back && !out.error && !out.requeue_after && rv > 0 &&
      Settles(o)) {
    out.settled = Settled{o.meta.uid, rv, owner_stamp, shared_stamp};
  }
  return out;
}

Result<void> Reconciler::Act(const model::Object& o, const std::vector<reconcile::Action>& actions,
                             reconcile::Ledger& ledger, std::optional<reconcile::Action>* failed) {
  return executor_.Run(actions, ledger, [&](const reconcile::Action& a, const Result<void>& r) {
    if (!r) {
      if (failed && !*failed) *failed = a;
      logfields::Scope action({{"action", reconcile::Attempt(a)}});
      Event(o, "Warning", "Failed", "Failed to " + reconcile::Attempt(a) + ": " + r.error().message);
      return;
    }
    const auto* create = std::get_if<reconcile::CreateContainer>(&a);
    const auto* start = std::get_if<reconcile::StartContainer>(&a);
    if ((create && create->why == reconcile::CreateWhy::kRemovedOutside) || (start && start->stopped_outside)) {
      s_.metrics.DriftRepaired(std::string(model::Info(o.kind).name));
    }
    auto done = reconcile::Done(a);
    logfields::Scope action({{"action", reconcile::Attempt(a)}});
    const auto* rm = std::get_if<reconcile::RemoveContainer>(&a);
    if (rm && rm->run && rm->run->exit_code != 0) {
      // What the failed run said last (the executor kept its output).
      for (const auto& run : ledger.runs) {
        if (run.container != rm->name) continue;
        if (std::string last = LastLine(run.output); !last.empty()) done.message += "; it printed last: " + last;
      }
    }
    Event(o, done.type, done.reason, done.message);
  });
}

void Reconciler::KeepRuns(const model::Object& o, const reconcile::Ledger& ledger) {
  if (ledger.runs.empty() || Fenced()) return;
  store::RunHistory history(store_.db());
  for (const auto& run : ledger.runs) {
    store::FinishedRunRecord record{run.container, run.exit_code, run.started_at, run.finished_at, run.output};
    if (auto r = history.Record(o.meta.uid, record, run.keep_succeeded, run.keep_failed); !r) {
      spdlog::warn("{}: keeping the output of run {}: {}", model::Key(o), run.container, r.error().message);
    }
  }
}

Outcome Reconciler::Finish(const model::Object& o, const Result<Plan>& after, json status,
                           const reconcile::Memory& memory, std::optional<Failure> failure, int64_t* rv) {
  Outcome out;
  reconcile::Memory next_memory = memory;
  json next = BuildStatus(o, after, std::move(status), next_memory, failure);
  const bool was_ready = reconcile::ReadyIn(o.status), ready = reconcile::ReadyIn(next);
  auto written = WriteStatus(o, next, reconcile::EncodeMemory(next_memory), rv);
  if (!written) out.error = written.error();
  out.ready_changed = was_ready != ready;
  if (written && *written) TransitionEvents(o, o.status, next);
  if (after && after->requeue_after) out.requeue_after = after->requeue_after;
  // Still actions pending after acting (a start that has not shown yet): look again soon.
  if (after && !after->actions.empty() && (!out.requeue_after || *out.requeue_after > kProgressRecheck)) {
    out.requeue_after = kProgressRecheck;
  }
  return out;
}

json Reconciler::BuildStatus(const model::Object& o, const Result<Plan>& after, json status,
                             reconcile::Memory& memory, std::optional<Failure> failure) {
  const reconcile::KindReconciler& kind = reconcile::ReconcilerFor(o.kind);
  for (const char* key : kLegacyMemory) status.erase(key);
  const TimePoint now = s_.clock.Now();
  const int64_t gen = o.meta.generation;
  if (!after) {
    const Error& e = after.error();
    const Failure why = failure.value_or(Classify(nullptr, e));
    reconcile::SetConditions(status, false, why.reason, e.message, why.degraded, gen, now);
    kind.Status(o, nullptr, false, world_, memory, status);
    return status;
  }
  const Plan& p = *after;
  const bool converged = p.actions.empty() && !p.blocked;
  if (p.blocked) {
    reconcile::SetConditions(status, false, reconcile::ReasonOf(p.blocked->why), p.blocked->message,
                             reconcile::Degrades(p.blocked->why), gen, now);
  } else if (converged) {
    reconcile::SetConditions(status, true, kind.ReadyReason(), "matches the spec", false, gen, now);
  } else {
    reconcile::SetConditions(status, false, "Converging", reconcile::Describe(p.actions.front()), false, gen, now);
  }
  kind.Status(o, &p, converged, world_, memory, status);
  return status;
}

// A status written anew: say what changed that a user would want to know,
// once per change (not on every pass that finds the same).
void Reconciler::TransitionEvents(const model::Object& o, const json& before, const json& after) {
  using reconcile::ConditionIn;
  using reconcile::TextField;
  const json* was = ConditionIn(before, "Degraded");
  const json* now = ConditionIn(after, "Degraded");
  const bool degraded = now && TextField(*now, "status") == "True";
  const bool moved = !was || TextField(*was, "reason") != TextField(*now, "reason") || TextField(*was, "status") != "True";
  if (degraded && moved) Event(o, "Warning", TextField(*now, "reason"), TextField(*now, "message"));
  if (reconcile::ReadyIn(after) && !reconcile::ReadyIn(before)) {
    Event(o, "Normal", "Ready", "Became Ready: " + TextField(*ConditionIn(after, "Ready"), "message"));
  }
  for (const auto& t : reconcile::ReconcilerFor(o.kind).Transitions(before, after)) Event(o, t.type, t.reason, t.message);
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
  json status = o.status.is_object() ? o.status : json::object();
  auto plan = reconcile::ReconcilerFor(o.kind).PlanDeletion(o, world_);
  if (!plan) return Outcome{plan.error(), {}, false, std::nullopt};
  if (plan->blocked) {
    reconcile::SetConditions(status, false, reconcile::ReasonOf(plan->blocked->why), plan->blocked->message, false,
                             o.meta.generation, s_.clock.Now());
    if (status != o.status) (void)WriteStatus(o, status, nullptr);
    return Outcome{std::nullopt, kDeletionPoll, false, std::nullopt};
  }
  reconcile::Ledger ledger;
  if (auto r = Act(o, plan->actions, ledger, nullptr); !r) {
    reconcile::SetConditions(status, false, "DeletionBlocked", r.error().message, true, o.meta.generation,
                             s_.clock.Now());
    (void)WriteStatus(o, status, nullptr);
    // In use (by a container keelson did not create) or transient: retry with backoff.
    return Outcome{r.error().code == ErrorCode::kConflict ? Error{ErrorCode::kUnavailable, r.error().message} : r.error(),
                   {}, false, std::nullopt};
  }
  auto done = store_.FinishDeletion(o);
  if (!done) return Outcome{done.error(), {}, false, std::nullopt};
  // The store records the Deleted event with the row it removes.
  if (*done) spdlog::info("{}: engine objects removed; object deleted", model::Key(o));
  return Outcome{std::nullopt, {}, true, std::nullopt};
}

Result<bool> Reconciler::WriteStatus(const model::Object& o, const json& status, const json& memory, int64_t* rv) {
  if (Fenced()) return Unexpected(ErrorCode::kUnavailable, kFencedMessage);
  auto written = store_.UpdateStatus(o, status, memory);
  if (written) {
    // Nothing else changed the object since it was read: the watcher may
    // skip exactly this version.
    if (*written && s_.status_writes) s_.status_writes->Note(model::Key(o), **written);
    if (rv) *rv = written->value_or(o.meta.resource_version);
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
  auto again = store_.UpdateStatus(**fresh, status, memory);
  if (!again) return Unexpected(again.error());
  return again->has_value();
}

void Reconciler::Event(const model::Object& o, const std::string& type, const std::string& reason,
                       const std::string& message) {
  logfields::Scope fields({{"reason", reason}, {"type", type}});
  if (type == "Warning") {
    spdlog::warn("{}: {}", model::Key(o), message);
  } else {
    spdlog::info("{}: {}", model::Key(o), message);
  }
  if (Fenced()) return;
  if (auto r = store_.RecordEvent(o, type, reason, message); !r) spdlog::warn("events: {}", r.error().message);
}

Result<int> Reconciler::RemoveOrphans() {
  auto orphans = reconcile::PlanOrphans(world_);
  if (!orphans) return Unexpected(orphans.error());
  for (const auto& a : *orphans) {
    if (auto r = executor_.Execute(a); !r) return Unexpected(r.error());
    spdlog::info("removed orphan: {}", reconcile::Describe(a));
  }
  return static_cast<int>(orphans->size());
}

}  // namespace keelson::controller
