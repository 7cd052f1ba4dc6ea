#include "reconcile/autoscale.h"

#include <algorithm>
#include <ctime>
#include <map>

#include "util/cron.h"
#include "util/tzif.h"

namespace keelson::reconcile {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

void Sooner(std::optional<milliseconds>& at, TimePoint now, TimePoint when) {
  auto left = duration_cast<milliseconds>(when - now) + milliseconds(1);
  if (left < milliseconds(1)) left = milliseconds(1);
  if (!at || left < *at) at = left;
}

constexpr int kScheduleLookMinutes = 8 * 24 * 60;

CronTime LocalAt(int64_t unix_minute, const TimeZone& tz) {
  const int64_t utc = unix_minute * 60;
  const time_t local = static_cast<time_t>(utc + tz.OffsetAt(utc));
  std::tm tm{};
  gmtime_r(&local, &tm);
  return CronTime{tm.tm_min, tm.tm_hour, tm.tm_mday, tm.tm_mon + 1, tm.tm_wday};
}

}  // namespace

Result<ScheduleState> EvaluateSchedule(const model::ScheduleSpec& schedule, TimePoint now) {
  auto tz = TimeZone::Load(schedule.time_zone);
  if (!tz) return Unexpected(tz.error());
  auto start = CronSchedule::Parse(schedule.start);
  if (!start) return Unexpected(ErrorCode::kInvalid, "start: " + start.error().message);
  auto end = CronSchedule::Parse(schedule.end);
  if (!end) return Unexpected(ErrorCode::kInvalid, "end: " + end.error().message);
  const int64_t minute =
      std::chrono::duration_cast<std::chrono::minutes>(now.time_since_epoch()).count() -
      (now.time_since_epoch() < TimePoint::duration::zero() ? 1 : 0);
  ScheduleState st;
  // Back from this minute: whichever of the two matched last says.
  for (int64_t m = minute; m > minute - kScheduleLookMinutes; --m) {
    const CronTime t = LocalAt(m, **tz);
    if (end->Matches(t)) break;
    if (start->Matches(t)) {
      st.open = true;
      break;
    }
  }
  // Forward: the first minute at which it would change.
  for (int64_t m = minute + 1; m <= minute + kScheduleLookMinutes; ++m) {
    const CronTime t = LocalAt(m, **tz);
    const bool closes = end->Matches(t), opens = start->Matches(t) && !closes;
    if ((st.open && closes) || (!st.open && opens)) {
      st.next_change = TimePoint(std::chrono::minutes(m));
      break;
    }
  }
  return st;
}

ScaleDecision PlanScale(const model::AutoscalingSpec& base, const ScaleInput& in) {
  ScaleDecision d;
  // Open schedules raise the floor; the highest value counts.
  model::AutoscalingSpec spec = base;
  std::string raised;
  for (size_t i = 0; i < spec.schedules.size() && i < in.schedules.size(); ++i) {
    const auto& w = spec.schedules[i];
    const auto& st = in.schedules[i];
    if (st.next_change) Sooner(d.recheck_after, in.now, *st.next_change);
    if (!st.open) continue;
    if (w.min_replicas && *w.min_replicas > spec.min_replicas) spec.min_replicas = *w.min_replicas;
    if (w.min_idle && *w.min_idle > spec.min_idle) spec.min_idle = *w.min_idle;
    raised += (raised.empty() ? "" : ", ") + std::to_string(i);
  }
  const auto queued_ttl = duration_cast<TimePoint::duration>(spec.queued_job_timeout);
  const auto running_ttl = duration_cast<TimePoint::duration>(spec.running_job_timeout);
  std::map<std::string, int> queued_by_labels;
  for (const auto& job : in.jobs) {
    if (job.state == PoolJob::State::kQueued) {
      const TimePoint expires = job.queued_at + queued_ttl;
      if (in.now >= expires) continue;
      ++d.queued;
      ++queued_by_labels[job.labels];
      Sooner(d.recheck_after, in.now, expires);
    } else if (job.state == PoolJob::State::kRunning) {
      const TimePoint expires = job.updated_at + running_ttl;
      if (in.now >= expires) continue;
      ++d.running;
      Sooner(d.recheck_after, in.now, expires);
    }
  }
  if (in.polled) d.queued += static_cast<int>(std::min<int64_t>(*in.polled, 100000));
  const int in_use = std::max(d.running, in.busy);
  int wanted = spec.min_idle + d.queued + in_use;
  if (in.requested && *in.requested > wanted) wanted = *in.requested;
  int desired = std::clamp(wanted, spec.min_replicas, std::max(spec.min_replicas, spec.max_replicas));

  std::string why;
  for (const auto& [labels, n] : queued_by_labels) {
    why += (why.empty() ? "" : ", ") + std::to_string(n) + " job(s) queued" + (labels.empty() ? "" : " for labels " + labels);
  }
  if (in.polled) why += (why.empty() ? "" : ", ") + std::string("queue depth ") + std::to_string(*in.polled);
  if (why.empty()) why = "no job queued";
  // Busy replicas the queue does not know of (a busy probe) are said as such.
  why += ", " + (in.busy > d.running ? std::to_string(in.busy) + " busy" : std::to_string(d.running) + " running");
  if (spec.min_idle > 0) why += ", minIdle " + std::to_string(spec.min_idle);
  if (in.requested) why += ", " + std::to_string(*in.requested) + " requested through /scale";
  if (!raised.empty()) why += " (schedule " + raised + " open)";
  if (wanted != desired) {
    why += wanted > desired ? " (capped at maxReplicas " + std::to_string(spec.max_replicas) + ")"
                            : " (raised to minReplicas " + std::to_string(spec.min_replicas) + ")";
  }

  // No scale-down too soon after a scale-up: a burst that ends is often
  // followed by another, and a fresh replica costs a start.
  if (in.previous && desired < *in.previous && in.last_scale_up) {
    const TimePoint until = *in.last_scale_up + duration_cast<TimePoint::duration>(spec.scale_down_delay);
    if (in.now < until) {
      why += "; scale-down to " + std::to_string(desired) + " held until " + FormatTimestamp(until) +
             " (scaleDownDelay)";
      desired = *in.previous;
      Sooner(d.recheck_after, in.now, until);
    }
  }
  d.desired = desired;
  d.scaled_up = !in.previous || desired > *in.previous;
  if (in.previous && desired == *in.previous) d.scaled_up = false;
  d.cause = why;
  return d;
}

}  // namespace keelson::reconcile
