#pragma once
// The autoscaling planner of a RunnerPool: how many replicas the job queue
// asks for now. Pure: the jobs, the replicas known to be busy and the time
// come from the caller, so that every rule is tested on a fake clock.
//
//   desired = clamp(minIdle + queued + max(running, busy), minReplicas, maxReplicas)
//
// where queued counts the webhooks' queued jobs and a polled queue depth;
// a pool driven through /scale asks for at least what was written there.
//
// A queued job reserves a replica until it starts, completes, or its
// reservation expires (spec.autoscaling.queuedJobTimeout, default 30m:
// webhook delivery is not guaranteed, so a lost "in_progress" or "completed"
// must not hold a runner for ever). A running job holds its replica until it
// completes or runningJobTimeout (default 6h) passes. No scale-down within
// scaleDownDelay (default 5m) of the last scale-up.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "model/specs.h"
#include "util/result.h"
#include "util/clock.h"

namespace keelson::reconcile {

/// A CI job a pool is to run, as the job queue last said.
struct PoolJob {
  enum class State { kQueued, kRunning, kCompleted };
  int64_t id = 0;
  State state = State::kQueued;
  TimePoint queued_at;   ///< when the queue first said "queued"
  TimePoint updated_at;  ///< the last change of state
  std::string runner;    ///< the replica running it (a container name), once running
  std::string labels;    ///< as the job asked, for messages: "[linux, x64]"
};

/// A schedule at an instant: open or not, and when that next changes.
struct ScheduleState {
  bool open = false;
  std::optional<TimePoint> next_change;  ///< within 8 days, else none
};

/// Where `schedule` stands at `now`: open when its start matched more
/// recently than its end, looking back at most 8 days (a start and an end
/// in the same minute close it). kInvalid or kNotFound for a cron
/// expression or time zone that does not parse or exist.
Result<ScheduleState> EvaluateSchedule(const model::ScheduleSpec& schedule, TimePoint now);

/// A polled queue depth: the last number read, and why the last poll
/// failed ("" when it did not; the last depth stands).
struct QueueReading {
  std::optional<int64_t> depth;
  std::string error;
  bool operator==(const QueueReading&) const = default;
};

struct ScaleInput {
  TimePoint now;
  /// What the planner decided last time (status.desiredReplicas); nullopt
  /// for a pool that was never scaled.
  std::optional<int> previous;
  std::optional<TimePoint> last_scale_up;  ///< when `previous` last grew
  int busy = 0;  ///< replicas known to be busy (a busy probe, the CI system)
  std::vector<PoolJob> jobs;
  /// spec.schedules[i], evaluated at `now` (EvaluateSchedule); absent ones
  /// count as closed.
  std::vector<ScheduleState> schedules;
  /// spec.queue: the depth last polled, counted as jobs queued.
  std::optional<int64_t> polled;
  /// With neither github nor queue: spec.replicas as /scale wrote it, a
  /// request kept within the bounds (desired is at least this).
  std::optional<int> requested;
};

struct ScaleDecision {
  int desired = 0;
  int queued = 0, running = 0;  ///< reservations that count now (queued with the polled depth)
  bool scaled_up = false;       ///< desired > previous
  /// Why, for an event when desired changes: "3 job(s) queued for labels
  /// [linux, x64], 1 running, minIdle 1" or "scale-down held until ..." .
  std::string cause;
  /// When to look again though nothing else happens: the next reservation
  /// to expire, or the end of the scale-down delay.
  std::optional<std::chrono::milliseconds> recheck_after;
};

ScaleDecision PlanScale(const model::AutoscalingSpec& spec, const ScaleInput& in);

}  // namespace keelson::reconcile
