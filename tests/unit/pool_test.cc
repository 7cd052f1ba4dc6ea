// RunnerPools: the pure planner's ordering and bounds, and the reconciler on
// FakeEngine through scale, update, ephemeral runs and deletion.

#include <doctest/doctest.h>

#include "controller_fixture.h"
#include "reconcile/labels.h"
#include "manifest/decode.h"
#include "reconcile/pool.h"
#include "store/jobs.h"
#include "store/run_history.h"

using namespace keelson;
using keelson::testing::ControllerFixture;

namespace {

std::string Pool(int replicas, const std::string& version, const std::string& extra = "") {
  return "apiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\nmetadata: {name: ci}\nspec:\n  replicas: " +
         std::to_string(replicas) + "\n" + extra +
         "  template:\n    image: keelson-test/busybox:1\n    command: [sleep, '3600']\n"
         "    env: [{name: VERSION, value: '" + version + "'}]\n";
}

docker::Container Replica(const std::string& name, const std::string& hash, bool running, int64_t created) {
  docker::Container c;
  c.id = name + "-id";
  c.name = name;
  c.created = std::to_string(created);
  c.config.labels = {{reconcile::kSpecHashLabel, hash}};
  c.state.running = running;
  c.state.status = running ? "running" : "created";
  return c;
}

std::vector<std::string> Removed(const reconcile::Plan& p) {
  std::vector<std::string> out;
  for (const auto& a : p.actions) {
    if (const auto* rm = std::get_if<reconcile::RemoveContainer>(&a)) out.push_back(rm->name);
  }
  return out;
}

struct PoolFixture : ControllerFixture {
  int Running() {
    int n = 0;
    for (const auto& c : Containers()) n += c.state == "running";
    return n;
  }
};

}  // namespace

TEST_CASE("PlanPool: scale down removes not-ready replicas first, then old-template ones, then the newest") {
  model::RunnerPoolSpec spec;
  spec.replicas = 2;
  spec.max_surge = {1, false};
  docker::ContainerSpec want;
  want.labels[reconcile::kSpecHashLabel] = "new";
  std::vector<docker::Container> replicas = {
      Replica("p.a", "new", true, 1), Replica("p.b", "new", true, 5), Replica("p.c", "new", false, 2),
      Replica("p.d", "new", true, 3), Replica("p.e", "new", true, 4)};
  auto plan = reconcile::PlanPool(spec, want, "p", replicas, TimePoint{}, [] { return std::string("x"); });
  CHECK(Removed(plan.plan) == std::vector<std::string>{"p.c", "p.b", "p.e"});
  // An autoscaled pool takes idle replicas oldest first, and never a busy one.
  spec.autoscaling = model::AutoscalingSpec{};
  plan = reconcile::PlanPool(spec, want, "p", replicas, TimePoint{}, [] { return std::string("x"); }, {}, {"p.a"});
  CHECK(Removed(plan.plan) == std::vector<std::string>{"p.c", "p.d", "p.e"});
}

TEST_CASE("RunnerPool decode: an autoscaled pool's replicas get 90s to stop unless it says; busyProbe is read and not hashed") {
  auto decode = [](const nlohmann::json& spec) {
    model::Object o;
    o.kind = model::Kind::kRunnerPool;
    o.spec = spec;
    auto d = manifest::DecodeSpecAs<model::RunnerPoolSpec>(o);
    REQUIRE(d.has_value());
    return *d;
  };
  nlohmann::json tmpl = {{"image", "x:1"}};
  CHECK(decode({{"template", tmpl}}).template_.stop_timeout == std::chrono::seconds(10));
  auto scaled = decode({{"template", tmpl}, {"autoscaling", {{"maxReplicas", 3}}}});
  CHECK(scaled.template_.stop_timeout == std::chrono::seconds(90));
  CHECK_FALSE(scaled.busy_probe);
  tmpl["stopTimeout"] = "30s";
  CHECK(decode({{"template", tmpl}, {"autoscaling", {{"maxReplicas", 3}}}}).template_.stop_timeout ==
        std::chrono::seconds(30));
  auto plain = decode({{"template", tmpl}});
  tmpl["busyProbe"] = {{"exec", {{"command", {"test", "-f", "/tmp/job"}}}}, {"periodSeconds", 2}};
  auto probed = decode({{"template", tmpl}});
  REQUIRE(probed.busy_probe);
  CHECK(probed.busy_probe->command == std::vector<std::string>{"test", "-f", "/tmp/job"});
  CHECK(probed.busy_probe->period == std::chrono::seconds(2));
  CHECK(probed.busy_probe->timeout == std::chrono::seconds(1));
  CHECK(probed.template_.hash_basis == plain.template_.hash_basis);  // no replica is replaced for it
}

TEST_CASE("PlanPool: maxSurge and maxUnavailable as counts and percentages") {
  CHECK(model::IntOrPercent{25, true}.Resolve(10, true) == 3);
  CHECK(model::IntOrPercent{25, true}.Resolve(10, false) == 2);
  CHECK(model::IntOrPercent{2, false}.Resolve(10, false) == 2);
  auto spec = manifest::DecodeSpec(
      model::Kind::kRunnerPool,
      {{"replicas", 4}, {"template", {{"image", "x:1"}}}, {"strategy", {{"maxSurge", 0}, {"maxUnavailable", "25%"}}}});
  REQUIRE(spec);
  const auto& pool = std::get<model::RunnerPoolSpec>(*spec);
  CHECK(pool.max_unavailable.Resolve(4, false) == 1);
  CHECK(reconcile::Bounds(pool).max_surge == 0);
  auto both_zero = manifest::DecodeSpec(
      model::Kind::kRunnerPool,
      {{"replicas", 4}, {"template", {{"image", "x:1"}}}, {"strategy", {{"maxSurge", 0}, {"maxUnavailable", 0}}}});
  CHECK(reconcile::Bounds(std::get<model::RunnerPoolSpec>(*both_zero)).max_surge == 1);  // both zero could never progress
}

TEST_CASE_FIXTURE(PoolFixture, "RunnerPoolReconciler: scales up in parallel, names replicas NAMESPACE.POOL.SUFFIX, scales to 0 and back") {
  Apply(Pool(5, "1"));
  Converge("RunnerPool/default/ci");
  auto containers = Containers();
  REQUIRE(containers.size() == 5);
  for (const auto& c : containers) {
    CHECK(c.name.rfind("default.ci.", 0) == 0);
    CHECK(c.name.size() == std::string("default.ci.").size() + 5);
    CHECK(c.labels.at("dev.keelson.kind") == "RunnerPool");
  }
  CHECK(Ready("RunnerPool/default/ci"));
  CHECK(Get("RunnerPool/default/ci").status["readyReplicas"] == 5);
  engine.ResetCalls();
  reconciler.Reconcile("RunnerPool/default/ci");
  CHECK(engine.TotalCalls() == 0);
  Apply(Pool(0, "1"));
  Converge("RunnerPool/default/ci");
  CHECK(Containers().empty());
  CHECK(Ready("RunnerPool/default/ci"));
  Apply(Pool(2, "1"));
  Converge("RunnerPool/default/ci");
  CHECK(Running() == 2);
}

TEST_CASE_FIXTURE(PoolFixture, "RunnerPoolReconciler: a rolling update holds maxSurge and maxUnavailable at every step") {
  struct Case {
    std::string strategy;
    int max_total, min_ready;
  };
  for (const auto& c : {Case{"  strategy: {maxSurge: 1, maxUnavailable: 0}\n", 5, 4},
                        Case{"  strategy: {maxSurge: 0, maxUnavailable: 1}\n", 4, 3},
                        Case{"  strategy: {maxSurge: 2, maxUnavailable: 1}\n", 6, 3}}) {
    CAPTURE(c.strategy);
    Apply(Pool(4, "1", c.strategy));
    Converge("RunnerPool/default/ci");
    REQUIRE(Running() == 4);
    Apply(Pool(4, "2", c.strategy));
    REQUIRE(cache.Resync());
    int steps = 0;
    while (!Ready("RunnerPool/default/ci") && steps < 20) {
      reconciler.Reconcile("RunnerPool/default/ci");
      ++steps;
      CHECK(static_cast<int>(Containers().size()) <= c.max_total);
      CHECK(Running() >= c.min_ready);
    }
    CHECK(Ready("RunnerPool/default/ci"));
    CHECK(steps > 1);  // it took steps, not one replace-all
    for (const auto& ctr : Containers()) {
      auto env = engine.InspectContainer(ctr.id)->config.env;
      CHECK(std::count(env.begin(), env.end(), "VERSION=2") == 1);
    }
    // Back to version 1 for the next case.
    Apply(Pool(4, "1", c.strategy));
    Converge("RunnerPool/default/ci", 20);
  }
}

TEST_CASE_FIXTURE(PoolFixture, "RunnerPoolReconciler: Recreate removes every old replica before creating new ones") {
  Apply(Pool(3, "1", "  strategy: {type: Recreate}\n"));
  Converge("RunnerPool/default/ci");
  Apply(Pool(3, "2", "  strategy: {type: Recreate}\n"));
  REQUIRE(cache.Resync());
  engine.ResetCalls();
  reconciler.Reconcile("RunnerPool/default/ci");
  CHECK(Running() == 3);
  for (const auto& ctr : Containers()) {
    auto env = engine.InspectContainer(ctr.id)->config.env;
    CHECK(std::count(env.begin(), env.end(), "VERSION=2") == 1);
  }
  CHECK(engine.Calls()["RemoveContainer"] == 3);
  CHECK(engine.Calls()["CreateContainer"] == 3);
}

TEST_CASE("PlanPool: Recreate plans every removal before the first create") {
  model::RunnerPoolSpec spec;
  spec.replicas = 2;
  spec.recreate = true;
  docker::ContainerSpec want;
  want.labels[reconcile::kSpecHashLabel] = "new";
  auto plan = reconcile::PlanPool(spec, want, "p", {Replica("p.a", "old", true, 1), Replica("p.b", "old", true, 2)},
                                  TimePoint{}, [] { return std::string("x"); });
  std::string verbs;
  for (const auto& a : plan.plan.actions) verbs += std::holds_alternative<reconcile::RemoveContainer>(a) ? 'R' : 'C';
  CHECK(verbs == "RRCC");
}

TEST_CASE_FIXTURE(PoolFixture, "RunnerPoolReconciler: an ephemeral replica that exits is removed, counted and replaced") {
  Apply(Pool(3, "1", "  ephemeral: true\n"));
  Converge("RunnerPool/default/ci");
  auto before = Containers();
  REQUIRE(before.size() == 3);
  engine.ExitContainer(before[0].id, 0);
  engine.ExitContainer(before[1].id, 2);
  REQUIRE(cache.Resync());
  reconciler.Reconcile("RunnerPool/default/ci");
  auto after = Containers();
  CHECK(after.size() == 3);
  CHECK(Running() == 3);
  CHECK_FALSE(engine.InspectContainer(before[0].id).has_value());
  CHECK_FALSE(engine.InspectContainer(before[1].id).has_value());
  CHECK(engine.InspectContainer(before[2].id).has_value());
  auto status = Get("RunnerPool/default/ci").status;
  CHECK(status["completedRuns"] == 1);
  CHECK(status["failedRuns"] == 1);
  auto metrics = this->metrics.Render();
  CHECK(metrics.find("keelson_ephemeral_runs_total{result=\"completed\"} 1") != std::string::npos);
  CHECK(metrics.find("keelson_ephemeral_runs_total{result=\"failed\"} 1") != std::string::npos);
}

TEST_CASE_FIXTURE(PoolFixture, "RunnerPoolReconciler: a finished run's output is kept, bounded, and summarised in its event") {
  Apply(Pool(1, "1", "  ephemeral: true\n  successfulRunsHistoryLimit: 2\n  failedRunsHistoryLimit: 1\n"));
  Converge("RunnerPool/default/ci");
  // Four runs: ok, fails, ok, ok, and then one more failure.
  const std::vector<int> codes = {0, 1, 0, 0, 3};
  for (size_t i = 0; i < codes.size(); ++i) {
    auto live = Containers();
    REQUIRE(live.size() == 1);
    std::string many;
    for (int l = 0; l < 150; ++l) many += "line " + std::to_string(l) + "\n";
    engine.AppendLogs(live[0].id, many + "run " + std::to_string(i) + " out\n",
                      codes[i] ? "cannot register runner: bad token \xff\n" : "");
    engine.ExitContainer(live[0].id, codes[i]);
    REQUIRE(cache.Resync());
    reconciler.Reconcile("RunnerPool/default/ci");
  }
  const auto pool = Get("RunnerPool/default/ci");
  auto kept = store::RunHistory(*db).List(pool.meta.uid);
  REQUIRE(kept);
  std::vector<int> kept_codes;
  for (const auto& r : *kept) kept_codes.push_back(r.exit_code);
  CHECK(kept_codes == std::vector<int>{0, 0, 3});  // the newest 2 that succeeded, the newest failure
  const auto& failed = kept->back();
  CHECK(failed.container.rfind("default.ci.", 0) == 0);
  CHECK(failed.output.find("run 4 out\n") != std::string::npos);
  CHECK(failed.output.find("bad token \xEF\xBF\xBD\n") != std::string::npos);  // valid UTF-8 only
  CHECK(failed.output.find("line 49\n") == std::string::npos);  // the last 100 lines of each stream only
  CHECK_FALSE(failed.finished_at.empty());
  store::EventFilter filter;
  filter.uid = pool.meta.uid;
  auto events = *store.Events(filter);
  bool summarised = false;
  for (const auto& e : events) {
    if (e.reason == "RunFailed" && e.message.find("exit code 3; it printed last: cannot register runner: bad token") !=
                                       std::string::npos) {
      summarised = true;
    }
  }
  CHECK(summarised);
  // Gone with the pool.
  REQUIRE(store.Delete(model::Kind::kRunnerPool, "default", "ci", false));
  Converge("RunnerPool/default/ci");
  CHECK(store::RunHistory(*db).List(pool.meta.uid)->empty());
}

TEST_CASE_FIXTURE(PoolFixture, "RunnerPoolReconciler: deleting a pool mid-update removes every replica, old and new") {
  Apply(Pool(4, "1"));
  Converge("RunnerPool/default/ci");
  Apply(Pool(4, "2"));
  REQUIRE(cache.Resync());
  reconciler.Reconcile("RunnerPool/default/ci");  // one surge replica on the new template
  REQUIRE(Containers().size() == 5);
  REQUIRE(store.Delete(model::Kind::kRunnerPool, "default", "ci", false));
  Converge("RunnerPool/default/ci");
  CHECK(Containers().empty());
  CHECK_FALSE(store.Get(model::Kind::kRunnerPool, "default", "ci")->has_value());
}

TEST_CASE_FIXTURE(PoolFixture, "RunnerPoolReconciler: creates and removes of replicas run side by side") {
  // Each engine call takes a while, as a stop waiting out its timeout does:
  // replicas are created, scaled down and deleted several at a time.
  engine.SetLatency(std::chrono::milliseconds(30));
  Apply(Pool(6, "1"));
  Converge("RunnerPool/default/ci");
  REQUIRE(Running() == 6);
  CHECK(engine.PeakConcurrency("CreateContainer") > 1);
  Apply(Pool(3, "1"));
  Converge("RunnerPool/default/ci");
  CHECK(Running() == 3);
  CHECK(engine.PeakConcurrency("StopContainer") > 1);
  CHECK(engine.PeakConcurrency("StopContainer") <= static_cast<int>(controller::kParallelActions));
  REQUIRE(store.Delete(model::Kind::kRunnerPool, "default", "ci", false));
  Converge("RunnerPool/default/ci");
  CHECK(Containers().empty());
  CHECK_FALSE(store.Get(model::Kind::kRunnerPool, "default", "ci")->has_value());
}

TEST_CASE_FIXTURE(PoolFixture, "RunnerPoolReconciler: an ephemeral template that keeps failing at once backs off") {
  Apply(Pool(1, "1", "  ephemeral: true\n"));
  Converge("RunnerPool/default/ci");
  auto fail_current = [&] {
    auto cs = Containers();
    REQUIRE(cs.size() == 1);
    engine.ExitContainer(cs[0].id, 1);
    REQUIRE(cache.RefreshContainer(cs[0].id));
  };
  fail_current();
  auto first = reconciler.Reconcile("RunnerPool/default/ci");  // the first failure is replaced at once
  CHECK(Running() == 1);
  fail_current();
  auto second = reconciler.Reconcile("RunnerPool/default/ci");
  CHECK(Containers().empty());  // removed, not yet replaced
  REQUIRE(second.requeue_after);
  CHECK(second.requeue_after->count() == 1000);
  CHECK(Reason("RunnerPool/default/ci", "Degraded") == "CrashLoopBackOff");
  clock.Advance(*second.requeue_after);
  reconciler.Reconcile("RunnerPool/default/ci");
  CHECK(Running() == 1);
  fail_current();
  auto third = reconciler.Reconcile("RunnerPool/default/ci");
  REQUIRE(third.requeue_after);
  CHECK(third.requeue_after->count() == 2000);  // doubled
  CHECK(Get("RunnerPool/default/ci").status["failedRuns"] == 3);
  (void)first;
}

TEST_CASE_FIXTURE(PoolFixture, "RunnerPoolReconciler: past progressDeadline the update stops, and rollback: auto restores the template") {
  const std::string health = "    healthcheck: {test: [CMD, 'true']}\n";
  for (std::string rollback : {"none", "auto"}) {
    CAPTURE(rollback);
    std::string extra = "  progressDeadline: 30s\n  rollback: " + rollback + "\n";
    Apply(Pool(2, "1", extra));
    Converge("RunnerPool/default/ci");
    for (const auto& c : Containers()) engine.SetHealth(c.id, "healthy");
    REQUIRE(cache.Resync());
    reconciler.Reconcile("RunnerPool/default/ci");
    REQUIRE(Ready("RunnerPool/default/ci"));
    // Version 2's replicas never become healthy, so maxUnavailable 0 keeps the old ones.
    Apply(Pool(2, "2", extra) + health);
    REQUIRE(cache.Resync());
    reconciler.Reconcile("RunnerPool/default/ci");
    CHECK(Containers().size() == 3);
    // Nothing else would wake the pool: it asks to come back the moment the deadline passes.
    reconciler.Reconcile("RunnerPool/default/ci");
    clock.Advance(std::chrono::seconds(10));
    auto waiting = reconciler.Reconcile("RunnerPool/default/ci");
    REQUIRE(waiting.requeue_after);
    CHECK(*waiting.requeue_after > std::chrono::seconds(19));
    CHECK(*waiting.requeue_after <= std::chrono::seconds(21));
    clock.Advance(*waiting.requeue_after);
    reconciler.Reconcile("RunnerPool/default/ci");
    auto o = Get("RunnerPool/default/ci");
    if (rollback == "none") {
      CHECK(Reason("RunnerPool/default/ci", "Degraded") == "ProgressDeadlineExceeded");
      engine.ResetCalls();
      reconciler.Reconcile("RunnerPool/default/ci");
      CHECK(ChangingCalls() == 0);  // stopped
      CHECK(o.spec["template"]["env"][0]["value"] == "2");
    } else {
      CHECK(o.spec["template"]["env"][0]["value"] == "1");  // the previous template is back
      CHECK(o.spec["template"].contains("healthcheck") == false);
      Converge("RunnerPool/default/ci", 10);
      CHECK(Containers().size() == 2);
    }
    REQUIRE(store.Delete(model::Kind::kRunnerPool, "default", "ci", true));
    REQUIRE(cache.Resync());
    REQUIRE(reconciler.RemoveOrphans());
    REQUIRE(Containers().empty());
  }
}

TEST_CASE_FIXTURE(PoolFixture, "RunnerPoolReconciler: an update never stops a running ephemeral replica; it is replaced when its run ends") {
  Apply(Pool(2, "1", "  ephemeral: true\n"));
  Converge("RunnerPool/default/ci");
  auto old = Containers();
  REQUIRE(old.size() == 2);
  Apply(Pool(2, "2", "  ephemeral: true\n"));
  Converge("RunnerPool/default/ci", 1);  // the jobs end well within the progress deadline
  for (const auto& c : old) CHECK(engine.InspectContainer(c.id)->state.running);  // both jobs go on
  CHECK(Containers().size() <= 3);                                               // replicas + maxSurge
  engine.ExitContainer(old[0].id, 0);
  REQUIRE(cache.Resync());
  Converge("RunnerPool/default/ci", 1);
  CHECK_FALSE(engine.InspectContainer(old[0].id).has_value());
  CHECK(engine.InspectContainer(old[1].id)->state.running);
  engine.ExitContainer(old[1].id, 0);
  REQUIRE(cache.Resync());
  Converge("RunnerPool/default/ci", 1);
  CHECK(Get("RunnerPool/default/ci").status["updatedReplicas"] == 2);
  CHECK(Ready("RunnerPool/default/ci"));
}

TEST_CASE_FIXTURE(PoolFixture, "RunnerPoolReconciler: a dead replica is replaced") {
  Apply(Pool(2, "1"));
  Converge("RunnerPool/default/ci");
  auto before = Containers();
  REQUIRE(before.size() == 2);
  engine.KillToDead(before[0].id);
  REQUIRE(cache.Resync());
  Converge("RunnerPool/default/ci");
  CHECK_FALSE(engine.InspectContainer(before[0].id).has_value());
  CHECK(Running() == 2);
  CHECK(Ready("RunnerPool/default/ci"));
}

TEST_CASE("PlanPool: scale-down removes idle replicas only; an update never stops a busy one") {
  model::RunnerPoolSpec spec;
  spec.replicas = 1;
  docker::ContainerSpec want;
  want.labels[reconcile::kSpecHashLabel] = "new";
  std::vector<docker::Container> replicas = {Replica("p.a", "new", true, 1), Replica("p.b", "new", true, 2),
                                             Replica("p.c", "new", true, 3)};
  // p.c (the newest) would go first; it is busy, so the idle ones go.
  auto plan = reconcile::PlanPool(spec, want, "p", replicas, TimePoint{}, [] { return std::string("x"); }, {},
                                  {"p.c"});
  CHECK(Removed(plan.plan) == std::vector<std::string>{"p.b", "p.a"});
  // All busy: nothing is removed, though there are too many.
  spec.replicas = 0;
  plan = reconcile::PlanPool(spec, want, "p", replicas, TimePoint{}, [] { return std::string("x"); }, {},
                             {"p.a", "p.b", "p.c"});
  CHECK(Removed(plan.plan).empty());
  // A template change: the busy replica on the old template stays until it is idle.
  spec.replicas = 2;
  std::vector<docker::Container> old = {Replica("p.a", "old", true, 1), Replica("p.b", "old", true, 2)};
  plan = reconcile::PlanPool(spec, want, "p", old, TimePoint{}, [] { return std::string("x"); }, {}, {"p.a"});
  CHECK(Removed(plan.plan).empty());  // maxUnavailable 0: the surge replica comes first
  spec.max_unavailable = {2, false};
  plan = reconcile::PlanPool(spec, want, "p", old, TimePoint{}, [] { return std::string("x"); }, {}, {"p.a"});
  CHECK(Removed(plan.plan) == std::vector<std::string>{"p.b"});
  spec.recreate = true;
  plan = reconcile::PlanPool(spec, want, "p", old, TimePoint{}, [] { return std::string("x"); }, {}, {"p.a"});
  CHECK(Removed(plan.plan) == std::vector<std::string>{"p.b"});
}

TEST_CASE_FIXTURE(PoolFixture, "RunnerPoolReconciler: an autoscaled pool follows its jobs, keeps busy replicas, and says why") {
  Apply("apiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\nmetadata: {name: ci}\nspec:\n"
        "  autoscaling: {minReplicas: 0, maxReplicas: 4, minIdle: 1, scaleDownDelay: 0s}\n"
        "  template:\n    image: keelson-test/busybox:1\n    command: [sleep, '3600']\n");
  Converge("RunnerPool/default/ci");
  CHECK(Containers().size() == 1);  // minIdle
  auto pool = Get("RunnerPool/default/ci");
  CHECK(pool.status["desiredReplicas"] == 1);
  store::Jobs jobs(*db);
  const std::string key = "RunnerPool/default/ci";
  const std::string now = FormatTimestamp(clock.Now());
  for (int id = 1; id <= 5; ++id) REQUIRE(jobs.Note(pool.meta.uid, key, id, "queued", now, "", "[linux]"));
  // One pass at a time: Converge would move the clock on to the next
  // reservation's expiry, which the plan asks to be woken for.
  auto once = [&] {
    REQUIRE(cache.Resync());
    auto out = reconciler.Reconcile(key);
    REQUIRE(out.requeue_after);
    CHECK(*out.requeue_after <= std::chrono::hours(6) + std::chrono::milliseconds(1));  // a reservation expiring
  };
  once();
  CHECK(Containers().size() == 4);  // 1 + 5, capped at maxReplicas
  pool = Get(key);
  CHECK(pool.status["desiredReplicas"] == 4);
  CHECK(pool.status["autoscaling"]["queued"] == 5);
  CHECK(pool.status["autoscaling"]["cause"] == "5 job(s) queued for labels [linux], 0 running, minIdle 1 (capped at maxReplicas 4)");
  // Two jobs start on two replicas; the rest are cancelled (completed).
  auto live = Containers();
  REQUIRE(jobs.Note(pool.meta.uid, key, 1, "in_progress", now, live[0].name, "[linux]"));
  REQUIRE(jobs.Note(pool.meta.uid, key, 2, "in_progress", now, live[1].name, "[linux]"));
  for (int id = 3; id <= 5; ++id) REQUIRE(jobs.Note(pool.meta.uid, key, id, "completed", now, "", "[linux]"));
  once();
  auto after = Containers();
  REQUIRE(after.size() == 3);  // 2 busy + minIdle 1
  std::set<std::string> names;
  for (const auto& c : after) names.insert(c.name);
  CHECK(names.count(live[0].name) == 1);
  CHECK(names.count(live[1].name) == 1);
  pool = Get(key);
  CHECK(pool.status["autoscaling"]["busy"] == 2);
  CHECK(pool.status["autoscaling"]["idle"] == 1);
  store::EventFilter filter;
  bool scaled = false;
  for (const auto& e : *store.Events(filter)) scaled |= e.reason == "Scaled" && e.message.starts_with("desired replicas 4 -> 3: ");
  CHECK(scaled);
  // By hand: this pool has no other signal, so /scale is its signal; one
  // that follows GitHub or a polled queue refuses it.
  CHECK(model::AutoscaledScaleRefusal(pool).empty());
  pool.spec["github"] = {{"webhookSecretFile", "/s"}};
  CHECK(model::AutoscaledScaleRefusal(pool).find("is autoscaled") != std::string::npos);
  pool.spec.erase("github");
  pool.spec["autoscaling"]["queue"] = {{"url", "http://ci/q"}, {"jsonPath", "{.n}"}};
  CHECK(model::AutoscaledScaleRefusal(pool).find("is autoscaled") != std::string::npos);
}

TEST_CASE_FIXTURE(PoolFixture, "RunnerPoolReconciler: with neither GitHub nor a queue, /scale's replicas are a request kept within the bounds") {
  auto apply = [&](const std::string& replicas) {
    Apply("apiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\nmetadata: {name: ci}\nspec:\n" + replicas +
          "  autoscaling: {minReplicas: 1, maxReplicas: 4, scaleDownDelay: 0s}\n"
          "  template:\n    image: keelson-test/busybox:1\n    command: [sleep, '3600']\n");
  };
  const std::string key = "RunnerPool/default/ci";
  apply("");
  Converge(key);
  CHECK(Containers().size() == 1);  // no request: the floor
  apply("  replicas: 3\n");
  Converge(key);
  CHECK(Containers().size() == 3);
  CHECK(Get(key).status["autoscaling"]["cause"] == "no job queued, 0 running, 3 requested through /scale");
  apply("  replicas: 9\n");
  Converge(key);
  CHECK(Containers().size() == 4);  // capped at maxReplicas
  apply("  replicas: 0\n");
  Converge(key);
  CHECK(Containers().size() == 1);  // raised to minReplicas
}
