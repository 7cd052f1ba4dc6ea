#include "controller/metrics.h"

#include <sstream>

namespace keelson::controller {
namespace {

template <typename H, size_t N>
void Observe(H& h, const std::array<double, N>& bounds, double v) {
  for (size_t i = 0; i < N; ++i) {
    if (v <= bounds[i]) ++h.counts[i];
  }
  ++h.count;
  h.sum += v;
}

template <typename H, size_t N>
void RenderHistogram(std::ostream& out, const char* name, const char* help, const char* label,
                     const std::map<std::string, H>& by, const std::array<double, N>& bounds) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " histogram\n";
  for (const auto& [value, h] : by) {
    const std::string l = std::string(label) + "=\"" + value + "\"";
    for (size_t i = 0; i < N; ++i) {
      out << name << "_bucket{" << l << ",le=\"" << bounds[i] << "\"} " << h.counts[i] << "\n";
    }
    out << name << "_bucket{" << l << ",le=\"+Inf\"} " << h.count << "\n";
    out << name << "_sum{" << l << "} " << h.sum << "\n";
    out << name << "_count{" << l << "} " << h.count << "\n";
  }
}

}  // namespace

void Metrics::JobPickedUp(const std::string& pool, double seconds) {
  std::lock_guard lock(mu_);
  Observe(pickups_[pool], kPickupBuckets, seconds);
}

void Metrics::JobFinished(const std::string& pool, double seconds) {
  std::lock_guard lock(mu_);
  Observe(job_durations_[pool], kJobBuckets, seconds);
}

void Metrics::Reconciled(const std::string& kind, const std::string& result, double seconds) {
  std::lock_guard lock(mu_);
  ++reconciles_[{kind, result}];
  Histogram& h = durations_[kind];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.counts[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::EngineCall(const std::string& operation, const std::string& outcome) {
  std::lock_guard lock(mu_);
  ++engine_calls_[{operation, outcome}];
}

void Metrics::DriftRepaired(const std::string& kind) {
  std::lock_guard lock(mu_);
  ++repairs_[kind];
}

void Metrics::EphemeralRun(const std::string& result) {
  std::lock_guard lock(mu_);
  ++runs_[result];
}

void Metrics::ContainerRestarted(const std::string& container_name) {
  std::lock_guard lock(mu_);
  ++container_restarts_[container_name];
}

std::map<std::string, uint64_t> Metrics::ContainerRestarts(const std::set<std::string>& live) {
  std::lock_guard lock(mu_);
  for (auto it = container_restarts_.begin(); it != container_restarts_.end();) {
    it = live.count(it->first) ? std::next(it) : container_restarts_.erase(it);
  }
  return container_restarts_;
}

std::string Metrics::Render() const {
  std::ostringstream out;
  std::lock_guard lock(mu_);
  out << "# HELP keelson_reconcile_total Reconciles by kind and result.\n# TYPE keelson_reconcile_total counter\n";
  for (const auto& [k, n] : reconciles_) {
    out << "keelson_reconcile_total{kind=\"" << k.first << "\",result=\"" << k.second << "\"} " << n << "\n";
  }
  out << "# HELP keelson_reconcile_duration_seconds Time of one reconcile.\n"
         "# TYPE keelson_reconcile_duration_seconds histogram\n";
  for (const auto& [kind, h] : durations_) {
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      out << "keelson_reconcile_duration_seconds_bucket{kind=\"" << kind << "\",le=\"" << kBuckets[i] << "\"} "
          << h.counts[i] << "\n";
    }
    out << "keelson_reconcile_duration_seconds_bucket{kind=\"" << kind << "\",le=\"+Inf\"} " << h.count << "\n";
    out << "keelson_reconcile_duration_seconds_sum{kind=\"" << kind << "\"} " << h.sum << "\n";
    out << "keelson_reconcile_duration_seconds_count{kind=\"" << kind << "\"} " << h.count << "\n";
  }
  RenderHistogram(out, "keelson_job_pickup_seconds",
                  "Time from a CI job queued to a runner running it (GitHub workflow_job webhooks), by pool.", "pool",
                  pickups_, kPickupBuckets);
  RenderHistogram(out, "keelson_job_duration_seconds", "Time from a CI job started to completed, by pool.", "pool",
                  job_durations_, kJobBuckets);
  out << "# HELP keelson_workqueue_depth Keys waiting in the work queue.\n# TYPE keelson_workqueue_depth gauge\n"
      << "keelson_workqueue_depth " << queue_depth_.load() << "\n";
  out << "# HELP keelson_engine_calls_total Engine API calls by operation and outcome.\n"
         "# TYPE keelson_engine_calls_total counter\n";
  for (const auto& [k, n] : engine_calls_) {
    out << "keelson_engine_calls_total{operation=\"" << k.first << "\",outcome=\"" << k.second << "\"} " << n << "\n";
  }
  out << "# HELP keelson_drift_repairs_total Engine objects repaired after a change outside keelson.\n"
         "# TYPE keelson_drift_repairs_total counter\n";
  for (const auto& [kind, n] : repairs_) out << "keelson_drift_repairs_total{kind=\"" << kind << "\"} " << n << "\n";
  out << "# HELP keelson_ephemeral_runs_total Runs of ephemeral pool replicas that ended, by result.\n"
         "# TYPE keelson_ephemeral_runs_total counter\n";
  for (const auto& [result, n] : runs_) out << "keelson_ephemeral_runs_total{result=\"" << result << "\"} " << n << "\n";
  out << "# HELP keelson_leader 1 while this controller holds the store's lease.\n# TYPE keelson_leader gauge\n"
      << "keelson_leader " << (leader_ ? 1 : 0) << "\n";
  out << "# HELP keelson_event_stream_reconnects_total Times the engine event stream was reconnected.\n"
         "# TYPE keelson_event_stream_reconnects_total counter\n"
      << "keelson_event_stream_reconnects_total " << event_reconnects_.load() << "\n";
  out << "# HELP keelson_resyncs_total Full resyncs done.\n# TYPE keelson_resyncs_total counter\n"
      << "keelson_resyncs_total " << resyncs_.load() << "\n";
  out << "# HELP keelson_last_resync_seconds How long the last resync's engine listing and orphan sweep took.\n"
         "# TYPE keelson_last_resync_seconds gauge\n"
      << "keelson_last_resync_seconds " << static_cast<double>(last_resync_us_.load()) / 1e6 << "\n";
  out << "# HELP keelson_last_resync_listing_seconds Of the last resync, the engine listing: the list calls, their "
         "answers parsed, changed containers inspected.\n"
         "# TYPE keelson_last_resync_listing_seconds gauge\n"
      << "keelson_last_resync_listing_seconds " << static_cast<double>(last_listing_us_.load()) / 1e6 << "\n";
  out << "# HELP keelson_last_resync_objects Stored objects the last resync enqueued, and those it left alone "
         "(converged, and nothing they depend on changed since).\n"
         "# TYPE keelson_last_resync_objects gauge\n"
      << "keelson_last_resync_objects{result=\"enqueued\"} " << resync_enqueued_.load() << "\n"
      << "keelson_last_resync_objects{result=\"unchanged\"} " << resync_unchanged_.load() << "\n";
  if (engine_requests_) {
    out << "# HELP keelson_engine_requests_total HTTP requests sent to the engine.\n"
           "# TYPE keelson_engine_requests_total counter\n"
        << "keelson_engine_requests_total " << engine_requests_() << "\n";
  }
  return out.str();
}

}  // namespace keelson::controller
