#pragma once
// The controller's Prometheus metrics, rendered in the text exposition format.

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

namespace keelson::controller {

/// Thread-safe.
class Metrics {
 public:
  /// One reconcile of `kind` ended with `result` (success, error, requeue).
  void Reconciled(const std::string& kind, const std::string& result, double seconds);
  /// One engine call (operation: create, start, pull, ...; outcome: ok or an error code).
  void EngineCall(const std::string& operation, const std::string& outcome);
  void DriftRepaired(const std::string& kind);
  /// keelson started the container again after it exited (restartPolicy).
  void ContainerRestarted(const std::string& container_name);
  /// Those restarts, for the containers named in `live` (the others, gone,
  /// are forgotten).
  std::map<std::string, uint64_t> ContainerRestarts(const std::set<std::string>& live);
  /// An ephemeral replica's run ended (result: completed or failed).
  void EphemeralRun(const std::string& result);
  /// A CI job of the autoscaled pool `pool` (NAMESPACE/NAME) started, this
  /// long after it was queued (job pickup latency), or completed, this long
  /// after it started; as the job queue's webhooks said.
  void JobPickedUp(const std::string& pool, double seconds);
  void JobFinished(const std::string& pool, double seconds);
  void SetQueueDepth(size_t depth) { queue_depth_ = static_cast<int64_t>(depth); }
  void SetLeader(bool leader) { leader_ = leader; }
  void EventStreamReconnected() { ++event_reconnects_; }
  void ResyncDone() { ++resyncs_; }

  /// Where the engine request count comes from (HttpEngine::Requests), if set.
  void SetEngineRequests(std::function<uint64_t()> source) { engine_requests_ = std::move(source); }
  /// The whole resync (`seconds`), and of it the engine listing (`listing`:
  /// the list calls, their answers parsed, changed containers inspected).
  void ResyncTook(double seconds, double listing) {
    last_resync_us_ = static_cast<int64_t>(seconds * 1e6);
    last_listing_us_ = static_cast<int64_t>(listing * 1e6);
  }
  /// What the last resync did with the stored objects: enqueued, or left
  /// alone because nothing they depend on changed since they converged.
  void ResyncObjects(int64_t enqueued, int64_t unchanged) {
    resync_enqueued_ = enqueued;
    resync_unchanged_ = unchanged;
  }

  std::string Render() const;

  /// Upper bounds (seconds) of the reconcile duration histogram's buckets.
  static constexpr std::array<double, 10> kBuckets = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10};
  /// ... of job pickup latency, and of job duration.
  static constexpr std::array<double, 10> kPickupBuckets = {0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800};
  static constexpr std::array<double, 10> kJobBuckets = {10, 30, 60, 300, 600, 1800, 3600, 7200, 21600, 86400};

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> reconciles_;
  std::map<std::string, Histogram> durations_;  ///< by kind
  std::map<std::string, Histogram> pickups_, job_durations_;  ///< by pool
  std::map<std::pair<std::string, std::string>, uint64_t> engine_calls_;
  std::map<std::string, uint64_t> repairs_;
  std::map<std::string, uint64_t> runs_;
  std::map<std::string, uint64_t> container_restarts_;
  std::atomic<int64_t> queue_depth_{0};
  std::atomic<bool> leader_{false};
  std::atomic<uint64_t> event_reconnects_{0}, resyncs_{0};
  std::atomic<int64_t> last_resync_us_{0}, last_listing_us_{0}, resync_enqueued_{0}, resync_unchanged_{0};
  std::function<uint64_t()> engine_requests_;
};

}  // namespace keelson::controller
