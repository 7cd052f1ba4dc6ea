#include "reconcile/autoscale.h"

#include <algorithm>
#include <map>

namespace keelson::reconcile {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

void Sooner(std::optional<milliseconds>& at, TimePoint now, TimePoint when) {
  auto left = duration_cast<milliseconds>(when - now) + milliseconds(1);
  if (left < milliseconds(1)) left = milliseconds(1);
  if (!at || left < *at) at = left;
}

}  // namespace

ScaleDecision PlanScale(const model::AutoscalingSpec& spec, const ScaleInput& in) {
  ScaleDecision d;
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
  const int in_use = std::max(d.running, in.busy);
  const int wanted = spec.min_idle + d.queued + in_use;
  int desired = std::clamp(wanted, spec.min_replicas, std::max(spec.min_replicas, spec.max_replicas));

  std::string why;
  for (const auto& [labels, n] : queued_by_labels) {
    why += (why.empty() ? "" : ", ") + std::to_string(n) + " job(s) queued" + (labels.empty() ? "" : " for labels " + labels);
  }
  if (why.empty()) why = "no job queued";
  why += ", " + std::to_string(in_use) + " running";
  if (spec.min_idle > 0) why += ", minIdle " + std::to_string(spec.min_idle);
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
