// The autoscaling planner (reconcile/autoscale.h) on a fake clock, and the
// jobs it reads (store/jobs.h) in a real SQLite store.

#include "reconcile/autoscale.h"

#include <doctest/doctest.h>

#include <filesystem>

#include "store/db.h"
#include "controller/metrics.h"
#include "store/jobs.h"

namespace keelson {
namespace {

using reconcile::PoolJob;
using reconcile::PlanScale;
using reconcile::ScaleInput;
using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kT0 = TimePoint{} + std::chrono::hours(24 * 365 * 56);

model::AutoscalingSpec Spec(int min, int max, int idle = 0) {
  model::AutoscalingSpec s;
  s.min_replicas = min;
  s.max_replicas = max;
  s.min_idle = idle;
  return s;
}

PoolJob Queued(int64_t id, TimePoint at, std::string labels = "[linux, x64]") {
  return PoolJob{id, PoolJob::State::kQueued, at, at, "", std::move(labels)};
}
PoolJob Running(int64_t id, TimePoint at, std::string runner = "") {
  return PoolJob{id, PoolJob::State::kRunning, at, at, std::move(runner), "[linux, x64]"};
}
PoolJob Done(int64_t id, TimePoint at) { return PoolJob{id, PoolJob::State::kCompleted, at, at, "", ""}; }

TEST_CASE("autoscale: a burst of queued jobs asks for one replica each, on top of minIdle, within the bounds") {
  ScaleInput in{kT0, 0, std::nullopt, 0, {}, {}, std::nullopt, std::nullopt};
  for (int i = 0; i < 5; ++i) in.jobs.push_back(Queued(i, kT0));
  auto d = PlanScale(Spec(0, 10, 2), in);
  CHECK(d.desired == 7);
  CHECK(d.queued == 5);
  CHECK(d.scaled_up);
  CHECK(d.cause == "5 job(s) queued for labels [linux, x64], 0 running, minIdle 2");
  // The ceiling.
  auto capped = PlanScale(Spec(0, 4, 2), in);
  CHECK(capped.desired == 4);
  CHECK(capped.cause == "5 job(s) queued for labels [linux, x64], 0 running, minIdle 2 (capped at maxReplicas 4)");
  // The floor, with nothing queued.
  auto floor = PlanScale(Spec(3, 10), ScaleInput{kT0, std::nullopt, std::nullopt, 0, {}, {}, std::nullopt, std::nullopt});
  CHECK(floor.desired == 3);
  CHECK(floor.cause == "no job queued, 0 running (raised to minReplicas 3)");
  // minIdle alone keeps warm replicas; a completed job holds nothing.
  auto warm = PlanScale(Spec(0, 10, 2), ScaleInput{kT0, std::nullopt, std::nullopt, 0, {Done(1, kT0)}, {}, std::nullopt, std::nullopt});
  CHECK(warm.desired == 2);
}

TEST_CASE("autoscale: a running job holds its replica; busy replicas count when the queue lost track") {
  ScaleInput in{kT0, 3, kT0 - minutes(10), 0, {Queued(1, kT0), Running(2, kT0, "ci.ab12c"), Running(3, kT0)}, {}, std::nullopt, std::nullopt};
  auto d = PlanScale(Spec(0, 10), in);
  CHECK(d.desired == 3);
  CHECK(d.running == 2);
  CHECK_FALSE(d.scaled_up);
  in.busy = 4;  // a busy probe sees four at work, more than the queue says
  CHECK(PlanScale(Spec(0, 10), in).desired == 5);
}

TEST_CASE("autoscale: reservations expire, and the planner asks to look again when the next one does") {
  auto spec = Spec(0, 10);  // queuedJobTimeout 30m, runningJobTimeout 6h
  ScaleInput in{kT0 + minutes(20), std::nullopt, std::nullopt, 0,
                {Queued(1, kT0), Queued(2, kT0 + minutes(10)), Running(3, kT0)}, {}, std::nullopt, std::nullopt};
  auto d = PlanScale(spec, in);
  CHECK(d.desired == 3);
  REQUIRE(d.recheck_after);
  CHECK(*d.recheck_after == std::chrono::milliseconds(minutes(10)) + std::chrono::milliseconds(1));
  in.now = kT0 + minutes(30);  // the first queued job never started
  CHECK(PlanScale(spec, in).desired == 2);
  in.now = kT0 + minutes(40);
  CHECK(PlanScale(spec, in).desired == 1);
  in.now = kT0 + std::chrono::hours(6);  // nor did word of the running one come
  auto gone = PlanScale(spec, in);
  CHECK(gone.desired == 0);
  CHECK_FALSE(gone.recheck_after);
}

TEST_CASE("autoscale: no scale-down within scaleDownDelay of a scale-up, and then at once") {
  auto spec = Spec(0, 10);
  spec.scale_down_delay = minutes(5);
  // Scaled up to 4 at kT0; the jobs finished a minute later.
  ScaleInput in{kT0 + minutes(1), 4, kT0, 0, {Done(1, kT0 + minutes(1))}, {}, std::nullopt, std::nullopt};
  auto held = PlanScale(spec, in);
  CHECK(held.desired == 4);
  CHECK(held.cause.find("scale-down to 0 held until ") != std::string::npos);
  REQUIRE(held.recheck_after);
  CHECK(*held.recheck_after == std::chrono::milliseconds(minutes(4)) + std::chrono::milliseconds(1));
  in.now = kT0 + minutes(5);
  auto after = PlanScale(spec, in);
  CHECK(after.desired == 0);
  CHECK_FALSE(after.scaled_up);
  // A scale-up is never held.
  in.now = kT0 + minutes(1);
  in.jobs.push_back(Queued(9, kT0 + minutes(1)));
  in.jobs.push_back(Queued(10, kT0 + minutes(1)));
  in.jobs.push_back(Queued(11, kT0 + minutes(1)));
  in.jobs.push_back(Queued(12, kT0 + minutes(1)));
  in.jobs.push_back(Queued(13, kT0 + minutes(1)));
  auto up = PlanScale(spec, in);
  CHECK(up.desired == 5);
  CHECK(up.scaled_up);
}

TEST_CASE("autoscale: queued jobs are told apart by their labels in the cause") {
  ScaleInput in{kT0, std::nullopt, std::nullopt, 0,
                {Queued(1, kT0, "[linux, x64]"), Queued(2, kT0, "[gpu]"), Queued(3, kT0, "[linux, x64]")}, {}, std::nullopt, std::nullopt};
  CHECK(PlanScale(Spec(0, 10), in).cause == "1 job(s) queued for labels [gpu], 2 job(s) queued for labels [linux, x64], 0 running");
}

struct JobsFixture {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("keelson-jobs-" + std::to_string(::getpid()));
  std::unique_ptr<store::Db> db;
  JobsFixture() {
    std::filesystem::create_directories(dir);
    db = std::move(*store::Db::Open((dir / "s.db").string()));
  }
  ~JobsFixture() { std::filesystem::remove_all(dir); }
};

TEST_CASE_FIXTURE(JobsFixture, "jobs: states only move forward, deliveries out of order change nothing, changes are numbered") {
  store::Jobs jobs(*db);
  auto none = jobs.ChangedSince(0);
  REQUIRE(none);
  CHECK(none->first.empty());
  CHECK(*jobs.Note("u1", "runnerpool/default/ci", 7, "queued", "2026-11-24T10:00:00Z", "", "[linux]") == true);
  CHECK(*jobs.Note("u1", "runnerpool/default/ci", 7, "queued", "2026-11-24T10:00:01Z", "", "[linux]") == false);
  CHECK(*jobs.Note("u1", "runnerpool/default/ci", 8, "completed", "2026-11-24T10:00:02Z", "ci.x", "[linux]") == true);
  // The in_progress of job 8 arrives after its completed: ignored.
  CHECK(*jobs.Note("u1", "runnerpool/default/ci", 8, "in_progress", "2026-11-24T10:00:03Z", "ci.y", "[linux]") == false);
  CHECK(*jobs.Note("u1", "runnerpool/default/ci", 7, "in_progress", "2026-11-24T10:00:04Z", "ci.z", "[linux]") == true);
  auto of = jobs.Of("u1");
  REQUIRE(of);
  REQUIRE(of->size() == 2);
  CHECK((*of)[0].id == 7);
  CHECK((*of)[0].state == "in_progress");
  CHECK((*of)[0].queued_at == "2026-11-24T10:00:00Z");
  CHECK((*of)[0].updated_at == "2026-11-24T10:00:04Z");
  CHECK((*of)[0].runner == "ci.z");
  CHECK((*of)[1].state == "completed");
  CHECK((*of)[1].runner == "ci.x");

  auto changed = jobs.ChangedSince(0);
  REQUIRE(changed);
  CHECK(changed->first == std::vector<std::string>{"runnerpool/default/ci"});
  CHECK(changed->second == 3);
  CHECK(jobs.ChangedSince(changed->second)->first.empty());
  REQUIRE(jobs.Note("u2", "runnerpool/qa/gpu", 1, "queued", "2026-11-24T10:00:05Z", "", "[gpu]"));
  auto next = jobs.ChangedSince(changed->second);
  CHECK(next->first == std::vector<std::string>{"runnerpool/qa/gpu"});
  CHECK(next->second == 4);

  REQUIRE(jobs.Forget("u1", "2026-11-24T10:00:03Z"));
  of = jobs.Of("u1");
  REQUIRE(of->size() == 1);
  CHECK((*of)[0].id == 7);
}

}  // namespace
}  // namespace keelson

namespace keelson {
namespace {

TEST_CASE("metrics: job pickup latency and duration as Prometheus histograms, by pool") {
  controller::Metrics m;
  m.JobPickedUp("default/ci", 0.4);
  m.JobPickedUp("default/ci", 7);
  m.JobFinished("default/ci", 95);
  const std::string out = m.Render();
  CHECK(out.find("# TYPE keelson_job_pickup_seconds histogram\n") != std::string::npos);
  CHECK(out.find("keelson_job_pickup_seconds_bucket{pool=\"default/ci\",le=\"0.25\"} 0\n") != std::string::npos);
  CHECK(out.find("keelson_job_pickup_seconds_bucket{pool=\"default/ci\",le=\"0.5\"} 1\n") != std::string::npos);
  CHECK(out.find("keelson_job_pickup_seconds_bucket{pool=\"default/ci\",le=\"10\"} 2\n") != std::string::npos);
  CHECK(out.find("keelson_job_pickup_seconds_bucket{pool=\"default/ci\",le=\"+Inf\"} 2\n") != std::string::npos);
  CHECK(out.find("keelson_job_pickup_seconds_sum{pool=\"default/ci\"} 7.4\n") != std::string::npos);
  CHECK(out.find("keelson_job_pickup_seconds_count{pool=\"default/ci\"} 2\n") != std::string::npos);
  CHECK(out.find("keelson_job_duration_seconds_bucket{pool=\"default/ci\",le=\"60\"} 0\n") != std::string::npos);
  CHECK(out.find("keelson_job_duration_seconds_bucket{pool=\"default/ci\",le=\"300\"} 1\n") != std::string::npos);
}

}  // namespace
}  // namespace keelson
