#pragma once
// Per-container metrics on /metrics, labelled by the keelson object that
// owns each container: CPU time, memory working set, restarts.
//
// Stats cost one engine call per container, so they are gathered only
// while someone scrapes: a scrape renders the last sample at once (the
// HTTP server's one thread never waits on the engine) and keeps a
// collector thread sampling every kRefresh until scrapes stop for kIdle.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "controller/cache.h"
#include "controller/metrics.h"
#include "docker/engine.h"

namespace keelson::controller {

class ContainerMetrics {
 public:
  static constexpr std::chrono::seconds kRefresh{10};
  static constexpr std::chrono::seconds kIdle{120};

  ContainerMetrics(docker::Engine& engine, const Cache& cache, Metrics& metrics)
      : engine_(engine), cache_(cache), metrics_(metrics) {}
  ~ContainerMetrics() { Stop(); }
  ContainerMetrics(const ContainerMetrics&) = delete;
  ContainerMetrics& operator=(const ContainerMetrics&) = delete;

  /// Starts the collector for the containers of store `store_id`.
  void Start(const std::string& store_id);
  void Stop();

  /// The last sample in the text exposition format; wakes the collector.
  std::string Render();

  /// One sample now, on the caller's thread (the collector's step; tests).
  void Collect();

 private:
  void Loop();

  docker::Engine& engine_;
  const Cache& cache_;
  Metrics& metrics_;  ///< keelson's own restarts of each container
  std::string store_id_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::chrono::steady_clock::time_point last_scrape_{}, last_collect_{};
  std::string text_;
  std::thread thread_;
};

}  // namespace keelson::controller
