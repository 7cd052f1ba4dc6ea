#include "reconcile/pool.h"

#include <algorithm>
#include <random>

#include "reconcile/desired.h"
#include "reconcile/labels.h"

namespace keelson::reconcile {
namespace {

struct Replica {
  const docker::Container* c;
  bool current = false;  ///< on the current template
  bool ready = false;
  bool available = false;
  bool exited = false;
  bool busy = false;  ///< running a job: never removed by scale-down or an update
};

bool IsReadyContainer(const docker::Container& c) {
  return c.state.running && (c.state.health.empty() || c.state.health == "healthy");
}

RemoveContainer Remove(const docker::Container& c, RemoveWhy why, int stop_timeout) {
  return RemoveContainer{c.id, c.name, stop_timeout, why, std::nullopt, std::nullopt, 0};
}

// Which replicas go first when there are too many: idle before busy, then
// not ready, then old, then newest (as a ReplicaSet) or, in an autoscaled
// pool, oldest (a long-idle runner is the likeliest to be stale).
void SortForRemoval(std::vector<Replica>* rs, bool oldest_first) {
  std::stable_sort(rs->begin(), rs->end(), [oldest_first](const Replica& a, const Replica& b) {
    if (a.busy != b.busy) return !a.busy;
    if (a.ready != b.ready) return !a.ready;
    if (a.current != b.current) return !a.current;
    return oldest_first ? a.c->created < b.c->created : a.c->created > b.c->created;
  });
}

}  // namespace

RolloutBounds Bounds(const model::RunnerPoolSpec& spec) {
  RolloutBounds b{spec.max_surge.Resolve(spec.replicas, true), spec.max_unavailable.Resolve(spec.replicas, false)};
  if (b.max_surge == 0 && b.max_unavailable == 0) b.max_surge = 1;
  return b;
}

std::string RandomSuffix() {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string s(5, 'a');
  for (auto& ch : s) ch = kChars[rng() % 36];
  return s;
}

PoolPlan PlanPool(const model::RunnerPoolSpec& spec, const docker::ContainerSpec& want, const std::string& prefix,
                  const std::vector<docker::Container>& containers, TimePoint now,
                  const std::function<std::string()>& suffix, const PoolHistory& history,
                  const std::set<std::string>& busy) {
  PoolPlan out;
  Plan& plan = out.plan;
  const int stop = want.stop_timeout.value_or(10);
  const std::string hash = want.labels.count(kSpecHashLabel) ? want.labels.at(kSpecHashLabel) : "";
  std::vector<Replica> live;
  int streak = history.failure_streak;
  TimePoint last_failure;
  bool known_last = ParseTimestamp(history.last_failure_at, &last_failure);
  for (const auto& c : containers) {
    Replica r{&c};
    r.busy = busy.count(c.name) > 0;
    auto h = c.config.labels.find(kSpecHashLabel);
    r.current = h != c.config.labels.end() && h->second == hash;
    r.exited = !c.state.running && c.state.status != "created" && c.state.status != "restarting";
    if (spec.ephemeral && r.exited) {
      // One job per runner: a finished run is removed and replaced.
      (c.state.exit_code == 0 ? out.counts.completed : out.counts.failed)++;
      auto a = Remove(c, RemoveWhy::kRunEnded, stop);
      TimePoint started, finished;
      const bool quick = c.state.exit_code != 0 && ParseTimestamp(c.state.started_at, &started) &&
                         ParseTimestamp(c.state.finished_at, &finished) && finished - started < kStableRun;
      a.run = FinishedRun{c.state.exit_code, quick,           c.name, c.state.started_at, c.state.finished_at, {},
                          spec.successful_runs_kept, spec.failed_runs_kept};
      streak = quick ? streak + 1 : 0;
      if (quick) last_failure = now, known_last = true;
      plan.actions.push_back(std::move(a));
      continue;
    }
    if (c.state.status == "dead") {
      // Left so by an engine that stopped uncleanly: replaced, not started.
      plan.actions.push_back(Remove(c, RemoveWhy::kDead, 0));
      continue;
    }
    r.ready = IsReadyContainer(c);
    TimePoint started;
    r.available = r.ready && (spec.min_ready.count() == 0 ||
                              (ParseTimestamp(c.state.started_at, &started) && now - started >= spec.min_ready));
    if (!spec.ephemeral && !c.state.running && !StaysDown(c, spec.template_.restart_policy)) {
      StartContainer a{c.id, c.name, std::nullopt, c.state.oom_killed, spec.template_.restart_policy};
      if (c.state.status != "created") a.exit_code = c.state.exit_code;
      plan.actions.push_back(std::move(a));
    }
    live.push_back(r);
  }
  auto count = [&](auto pred) { return static_cast<int>(std::count_if(live.begin(), live.end(), pred)); };
  const int current = count([](const Replica& r) { return r.current; });
  const int old = static_cast<int>(live.size()) - current;
  int ready = count([](const Replica& r) { return r.ready; });
  out.counts = {static_cast<int>(live.size()), ready, current, count([](const Replica& r) { return r.available; }),
                out.counts.completed, out.counts.failed};

  // A template whose runs keep failing at once waits before the next ones:
  // the first failure is replaced at once, then 1 s, 2 s, ... up to 5 min.
  std::chrono::milliseconds wait{0};
  if (spec.ephemeral && streak >= 2 && known_last) {
    auto delay = std::min<std::chrono::milliseconds>(std::chrono::milliseconds(1000LL << std::min(streak - 2, 9)),
                                                     kMaxRestartDelay);
    wait = std::chrono::duration_cast<std::chrono::milliseconds>(last_failure + delay - now);
  }
  auto create = [&](int n, CreateWhy why) {
    if (n > 0 && wait.count() > 0) {
      plan.requeue_after = wait;
      plan.Block(Blocker::kCrashLoopBackOff, std::to_string(streak) + " run(s) in a row failed within " +
                                                 std::to_string(kStableRun.count()) + "s; next replica in " +
                                                 std::to_string((wait.count() + 999) / 1000) + "s");
      return;
    }
    for (int i = 0; i < n; ++i) {
      CreateContainer a{want, why, std::nullopt};
      a.spec.name = prefix + "." + suffix();
      plan.actions.push_back(std::move(a));
    }
  };
  const RolloutBounds bounds = Bounds(spec);
  plan.counts = out.counts;
  SortForRemoval(&live, spec.autoscaling.has_value());
  if (old == 0) {
    if (current < spec.replicas) create(spec.replicas - current,
                                          out.counts.completed + out.counts.failed > 0 ? CreateWhy::kReplaceRun
                                                                                       : CreateWhy::kScaleUp);
    for (int i = 0, extra = current - spec.replicas; i < static_cast<int>(live.size()) && extra > 0; ++i, --extra) {
      if (live[i].busy) break;  // sorted last: only busy ones are left
      plan.actions.push_back(Remove(*live[i].c, RemoveWhy::kScaleDown, stop));
    }
    return out;
  }
  // An ephemeral replica on an old template may be running a job: it is never
  // stopped by an update, but replaced by the new template when its run ends.
  auto keep_running = [&](const Replica& r) { return r.busy || (spec.ephemeral && r.c->state.running); };
  if (spec.recreate) {
    for (const auto& r : live) {
      if (!r.current && !keep_running(r)) plan.actions.push_back(Remove(*r.c, RemoveWhy::kRecreate, stop));
    }
    if (old == static_cast<int>(live.size())) create(spec.replicas, CreateWhy::kRecreate);
    return out;
  }
  // RollingUpdate: never more than replicas + maxSurge containers, never
  // fewer than replicas - maxUnavailable ready.
  const int total = static_cast<int>(live.size());
  const int max_total = spec.replicas + bounds.max_surge;
  const int min_ready = std::max(0, spec.replicas - bounds.max_unavailable);
  int to_create = std::min(max_total - total, spec.replicas - current);
  if (to_create > 0) create(to_create, CreateWhy::kRollingUpdate);
  int removable_ready = ready - min_ready;
  for (const auto& r : live) {
    if (r.current || keep_running(r)) continue;
    if (r.ready) {
      if (removable_ready <= 0) continue;
      --removable_ready;
    }
    plan.actions.push_back(Remove(*r.c, RemoveWhy::kRollingUpdate, stop));
  }
  return out;
}

}  // namespace keelson::reconcile
