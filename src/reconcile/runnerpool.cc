// RunnerPool: N replicas of one template (reconcile/pool.h plans them).

#include "manifest/decode.h"
#include "reconcile/autoscale.h"
#include "reconcile/desired.h"
#include "reconcile/kinds_impl.h"
#include "reconcile/labels.h"
#include "reconcile/pool.h"
#include "reconcile/status.h"

namespace keelson::reconcile {
namespace {

// Why the template change is past spec.progressDeadline, or "".
std::string PastProgressDeadline(const model::Object& o, const model::RunnerPoolSpec& spec, const Memory& memory,
                                 TimePoint now) {
  TimePoint started;
  if (memory.update_generation != o.meta.generation || !ParseTimestamp(memory.update_started_at, &started)) return "";
  if (now - started <= spec.progress_deadline) return "";
  return "the template of generation " + std::to_string(o.meta.generation) +
         " did not make every replica ready within " + spec.progress_deadline_text + "; the update is stopped";
}

// While replicas are on an older template, come back the moment the
// progress deadline passes, rather than at the next event or resync.
void WakeAtDeadline(const model::Object& o, const model::RunnerPoolSpec& spec, const Memory& memory,
                    const PoolCounts& counts, TimePoint now, Plan* plan) {
  if (counts.updated >= counts.replicas) return;
  TimePoint started = now;  // the clock starts with this pass when it has not yet
  if (memory.update_generation == o.meta.generation) (void)ParseTimestamp(memory.update_started_at, &started);
  // Timestamps have whole seconds: a second more, so the pass lands past it.
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(started + spec.progress_deadline - now) +
              std::chrono::seconds(1);
  if (left.count() < 1) left = std::chrono::milliseconds(1);
  if (!plan->requeue_after || left < *plan->requeue_after) plan->requeue_after = left;
}

// An autoscaled pool's replicas for now: the job queue's jobs, and which
// replicas are running one (busy: never removed by scale-down).
Result<ScaleDecision> Autoscale(const model::Object& o, const model::RunnerPoolSpec& pool,
                                const std::vector<docker::Container>& replicas, World& world,
                                std::set<std::string>* busy, std::optional<QueueReading>* queue) {
  const model::AutoscalingSpec& spec = *pool.autoscaling;
  auto jobs = world.JobsOf(o.meta.uid);
  if (!jobs) return Unexpected(jobs.error());
  std::set<std::string> names;
  for (const auto& c : replicas) names.insert(c.name);
  ScaleInput in;
  in.now = world.Now();
  const TimePoint running_since = in.now - std::chrono::duration_cast<TimePoint::duration>(spec.running_job_timeout);
  for (const auto& j : *jobs) {
    if (j.state == PoolJob::State::kRunning && names.count(j.runner) && j.updated_at > running_since) {
      busy->insert(j.runner);
    }
  }
  for (const auto& name : world.BusyContainers(o.meta.uid)) {
    if (names.count(name)) busy->insert(name);
  }
  in.busy = static_cast<int>(busy->size());
  in.jobs = std::move(*jobs);
  for (size_t i = 0; i < spec.schedules.size(); ++i) {
    auto st = EvaluateSchedule(spec.schedules[i], in.now);
    if (!st) {
      return Unexpected(ErrorCode::kInvalid,
                        "spec.autoscaling.schedules[" + std::to_string(i) + "]: " + st.error().message);
    }
    in.schedules.push_back(*st);
  }
  if (spec.queue) {
    *queue = world.QueueOf(o.meta.uid);
    if (*queue) in.polled = (*queue)->depth;
  }
  if (!spec.queue && !pool.github) in.requested = pool.stored_replicas;
  if (o.status.is_object() && o.status.contains("desiredReplicas") && o.status["desiredReplicas"].is_number_integer()) {
    in.previous = o.status["desiredReplicas"].get<int>();
  }
  TimePoint up;
  if (ParseTimestamp(reconcile::TextField(o.status.value("autoscaling", nlohmann::json::object()), "lastScaleUp"), &up)) {
    in.last_scale_up = up;
  }
  return PlanScale(spec, in);
}

// A pool whose GitHub runners keelson manages: each new replica is
// registered as it is made, each one removed is deregistered.
void WithRunnerRegistrations(const std::optional<model::GitHubSpec>& github,
                             const std::vector<docker::Container>& replicas, Plan* plan) {
  if (!github || !github->Manages()) return;
  for (auto& a : plan->actions) {
    if (auto* create = std::get_if<CreateContainer>(&a)) create->register_runner = *github;
    auto* remove = std::get_if<RemoveContainer>(&a);
    if (!remove) continue;
    for (const auto& c : replicas) {
      auto id = c.config.labels.find(kRunnerIdLabel);
      if (c.id != remove->id || id == c.config.labels.end()) continue;
      remove->deregister_runner = *github;
      remove->runner_id = std::atoll(id->second.c_str());
    }
  }
}

// Replicas whose GitHub runner has not come online within the
// registration timeout (a bad image, a JIT configuration GitHub refused):
// removed, and replaced by the next pass. Never on a stale runner list, and
// never a busy replica.
void ReplaceNeverOnline(const model::Object& o, const model::RunnerPoolSpec& spec,
                        const std::vector<docker::Container>& replicas, const std::set<std::string>& busy,
                        World& world, Plan* plan) {
  if (!spec.github || !spec.github->Manages()) return;
  auto never = world.RunnersNeverOnline(o.meta.uid);
  if (!never) return;
  std::set<std::string> going;
  for (const auto& a : plan->actions) {
    if (const auto* r = std::get_if<RemoveContainer>(&a)) going.insert(r->id);
  }
  const TimePoint now = world.Now();
  for (const auto& c : replicas) {
    TimePoint started;
    if (!c.state.running || going.count(c.id) || busy.count(c.name) || !never->count(c.name)) continue;
    if (!ParseTimestamp(c.state.started_at, &started) || now - started <= spec.github->registration_timeout) continue;
    plan->actions.push_back(RemoveContainer{c.id, c.name, static_cast<int>(spec.template_.stop_timeout.count()),
                                            RemoveWhy::kNeverOnline, std::nullopt, std::nullopt, 0});
  }
}

}  // namespace

Result<Plan> RunnerPoolReconciler::PlanFor(const model::Object& o, const Memory& memory, World& world) const {
  auto spec = manifest::DecodeSpecAs<model::RunnerPoolSpec>(o);
  if (!spec) return Unexpected(spec.error());
  Plan plan;
  auto image = ResolveDependencies(o, spec->template_, spec->depends_on, world, &plan);
  if (!image) return Unexpected(image.error());
  if (plan.blocked) return plan;
  auto store_id = world.StoreId();
  if (!store_id) return Unexpected(store_id.error());
  auto want = DesiredContainer(o, spec->template_, "", *image, *store_id);
  if (!want) return Unexpected(want.error());
  const TimePoint now = world.Now();
  if (auto late = PastProgressDeadline(o, *spec, memory, now); !late.empty()) {
    plan.Block(Blocker::kProgressDeadlineExceeded, late);
    plan.roll_back = spec->rollback_auto;
    return plan;
  }
  PoolHistory history{memory.failure_streak, memory.last_failure_at};
  auto replicas = world.ContainersOf(o.meta.uid);
  if (!replicas) return Unexpected(replicas.error());
  std::set<std::string> busy;
  std::optional<ScaleDecision> scale;
  std::optional<QueueReading> queue;
  if (spec->autoscaling) {
    auto d = Autoscale(o, *spec, *replicas, world, &busy, &queue);
    if (!d) return Unexpected(d.error());
    scale = *d;
    spec->replicas = d->desired;
  }
  auto pool = PlanPool(*spec, *want, EngineName(o), *replicas, now, RandomSuffix, history, busy);
  ReplaceNeverOnline(o, *spec, *replicas, busy, world, &pool.plan);
  WithRunnerRegistrations(spec->github, *replicas, &pool.plan);
  if (auto r = PullFirstIfMissing(*image, world, &pool.plan); !r) return Unexpected(r.error());
  WakeAtDeadline(o, *spec, memory, pool.counts, now, &pool.plan);
  if (scale) {
    pool.plan.scale = ScaleReport{scale->desired,   scale->queued, scale->running, static_cast<int>(busy.size()),
                                  scale->scaled_up, scale->cause,  queue ? queue->depth : std::nullopt,
                                  queue ? queue->error : ""};
    if (scale->recheck_after && (!pool.plan.requeue_after || *scale->recheck_after < *pool.plan.requeue_after)) {
      pool.plan.requeue_after = scale->recheck_after;
    }
  }
  return pool.plan;
}

Result<Plan> RunnerPoolReconciler::PlanDeletion(const model::Object& o, World& world) const {
  auto spec = manifest::DecodeSpecAs<model::RunnerPoolSpec>(o);
  const int stop = spec ? static_cast<int>(spec->template_.stop_timeout.count()) : 10;
  auto replicas = world.ContainersOf(o.meta.uid);
  if (!replicas) return Unexpected(replicas.error());
  auto plan = PlanRemoval(*replicas, {}, {}, stop);
  if (spec) WithRunnerRegistrations(spec->github, *replicas, &plan);
  return plan;
}

void RunnerPoolReconciler::Record(const model::Object&, const Ledger& ledger, TimePoint now, Memory& memory,
                                  nlohmann::json& status) const {
  // Each ephemeral run is counted once, as its container goes.
  for (const auto& run : ledger.runs) {
    const char* field = run.exit_code == 0 ? "completedRuns" : "failedRuns";
    status[field] = IntField(status, field) + 1;
    memory.failure_streak = run.quick_failure ? memory.failure_streak + 1 : 0;
    if (run.quick_failure) memory.last_failure_at = FormatTimestamp(now);
  }
}

void RunnerPoolReconciler::Status(const model::Object& o, const Plan* after, bool, World& world, Memory& memory,
                                  nlohmann::json& status) const {
  if (!after) return;  // the pass failed: the counts stay as they were
  const Plan& p = *after;
  const PoolCounts counts = p.counts.value_or(PoolCounts{});
  if (p.counts) {
    status["replicas"] = counts.replicas;
    status["readyReplicas"] = counts.ready;
    status["updatedReplicas"] = counts.updated;
    status["availableReplicas"] = counts.available;
  }
  // The clock of spec.progressDeadline: from the first pass that finds
  // replicas on an older template, for this generation.
  if (IntField(status, "updatedReplicas") < IntField(status, "replicas")) {
    if (memory.update_generation != o.meta.generation) {
      memory.update_generation = o.meta.generation;
      memory.update_started_at = FormatTimestamp(world.Now());
    }
  } else if (!p.blocked) {
    memory.update_generation = 0;
    memory.update_started_at.clear();
  }
  if (p.scale) {
    const ScaleReport& r = *p.scale;
    nlohmann::json a = status.value("autoscaling", nlohmann::json::object());
    if (r.scaled_up) a["lastScaleUp"] = FormatTimestamp(world.Now());
    a["queued"] = r.queued;
    a["running"] = r.running;
    a["busy"] = r.busy;
    a["idle"] = std::max(0, counts.replicas - r.busy);
    a["cause"] = r.cause;
    if (r.queue_depth) a["queueDepth"] = *r.queue_depth;
    else a.erase("queueDepth");
    if (!r.queue_error.empty()) a["queueError"] = r.queue_error;
    else a.erase("queueError");
    status["desiredReplicas"] = r.desired;
    status["autoscaling"] = std::move(a);
  }
  auto spec = manifest::DecodeSpecAs<model::RunnerPoolSpec>(o);
  if (spec && !spec->autoscaling) {
    status.erase("desiredReplicas");
    status.erase("autoscaling");
  }
  if (p.blocked) return;
  const int want = p.scale ? p.scale->desired : spec ? spec->replicas : 0;
  const int64_t available = IntField(status, "availableReplicas"), updated = IntField(status, "updatedReplicas");
  const int64_t total = IntField(status, "replicas");
  const bool ready = p.actions.empty() && available >= want && updated == total && total == want;
  SetConditions(status, ready, ready ? "Ready" : "ScalingOrUpdating",
                std::to_string(available) + "/" + std::to_string(want) + " available, " + std::to_string(updated) +
                    " on the current template",
                false, o.meta.generation, world.Now());
}

std::vector<Transition> RunnerPoolReconciler::Transitions(const nlohmann::json& before,
                                                          const nlohmann::json& after) const {
  auto desired = [](const nlohmann::json& st) -> std::optional<int64_t> {
    if (!st.is_object() || !st.contains("desiredReplicas") || !st["desiredReplicas"].is_number_integer()) {
      return std::nullopt;
    }
    return st["desiredReplicas"].get<int64_t>();
  };
  auto queue_error = [](const nlohmann::json& st) {
    return st.is_object() && st.contains("autoscaling") ? TextField(st["autoscaling"], "queueError") : std::string();
  };
  std::vector<Transition> out;
  if (std::string e = queue_error(after); !e.empty() && e != queue_error(before)) {
    out.push_back({"Warning", "QueuePollFailed", e + " (the last depth stands; polled again at the interval)"});
  }
  auto was = desired(before), now = desired(after);
  if (!now || was == now) return out;
  const std::string cause = after.contains("autoscaling") ? TextField(after["autoscaling"], "cause") : "";
  out.push_back({"Normal", "Scaled",
                 "desired replicas " + (was ? std::to_string(*was) : std::string("-")) + " -> " + std::to_string(*now) +
                     (cause.empty() ? "" : ": " + cause)});
  return out;
}

}  // namespace keelson::reconcile
