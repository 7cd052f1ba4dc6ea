#include "controller/container_metrics.h"

#include <atomic>
#include <set>
#include <sstream>
#include <vector>

#include "reconcile/labels.h"

namespace keelson::controller {
namespace {

constexpr size_t kParallelStats = 8;

// A Prometheus label value: backslash, quote and newline escaped.
std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void ContainerMetrics::Start(const std::string& store_id) {
  std::lock_guard lock(mu_);
  store_id_ = store_id;
  stop_ = false;
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
}

void ContainerMetrics::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string ContainerMetrics::Render() {
  std::lock_guard lock(mu_);
  last_scrape_ = std::chrono::steady_clock::now();
  wake_.notify_all();
  return text_;
}

void ContainerMetrics::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    const auto now = std::chrono::steady_clock::now();
    const bool wanted = last_scrape_.time_since_epoch().count() != 0 && now - last_scrape_ < kIdle;
    if (wanted && now - last_collect_ >= kRefresh) {
      last_collect_ = now;
      lock.unlock();
      Collect();
      lock.lock();
      continue;
    }
    // Asleep until a scrape, or the next refresh while scrapes go on.
    if (wanted) {
      wake_.wait_until(lock, last_collect_ + kRefresh, [this] { return stop_; });
    } else {
      wake_.wait(lock, [this] {
        return stop_ || (last_scrape_.time_since_epoch().count() != 0 &&
                         std::chrono::steady_clock::now() - last_scrape_ < kIdle);
      });
    }
  }
}

void ContainerMetrics::Collect() {
  std::string store_id;
  {
    std::lock_guard lock(mu_);
    store_id = store_id_;
  }
  std::vector<docker::Container> containers;
  for (auto& c : cache_.Containers()) {
    if (reconcile::LabelValue(c.config.labels, reconcile::kStoreLabel) == store_id &&
        !reconcile::OwnerKey(c.config.labels).empty()) {
      containers.push_back(std::move(c));
    }
  }
  std::vector<std::optional<docker::Stats>> stats(containers.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < std::min(containers.size(), kParallelStats); ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < containers.size(); i = next++) {
        if (!containers[i].state.running) continue;
        if (auto s = engine_.ContainerStats(containers[i].id, docker::StatsMode::kOneShot)) stats[i] = *s;
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> names;
  for (const auto& c : containers) names.insert(c.name);
  const std::map<std::string, uint64_t> restarts = metrics_.ContainerRestarts(names);

  std::ostringstream cpu, memory, restart;
  for (size_t i = 0; i < containers.size(); ++i) {
    const auto& l = containers[i].config.labels;
    const std::string labels = "{kind=\"" + Escape(reconcile::LabelValue(l, reconcile::kKindLabel)) +
                               "\",namespace=\"" + Escape(reconcile::LabelValue(l, reconcile::kNamespaceLabel)) +
                               "\",name=\"" + Escape(reconcile::LabelValue(l, reconcile::kNameLabel)) +
                               "\",container=\"" + Escape(containers[i].name) + "\"}";
    if (stats[i]) {
      cpu << "keelson_container_cpu_usage_seconds_total" << labels << " " << double(stats[i]->cpu_total_ns) / 1e9 << "\n";
      memory << "keelson_container_memory_working_set_bytes" << labels << " " << stats[i]->WorkingSet() << "\n";
    }
    auto by_keelson = restarts.find(containers[i].name);
    const uint64_t n = static_cast<uint64_t>(containers[i].restart_count) +
                       (by_keelson == restarts.end() ? 0 : by_keelson->second);
    restart << "keelson_container_restarts_total" << labels << " " << n << "\n";
  }
  std::string text =
      "# HELP keelson_container_cpu_usage_seconds_total CPU time of each running container, by its keelson object.\n"
      "# TYPE keelson_container_cpu_usage_seconds_total counter\n" + cpu.str() +
      "# HELP keelson_container_memory_working_set_bytes Memory in use (less reclaimable page cache) of each running "
      "container.\n# TYPE keelson_container_memory_working_set_bytes gauge\n" + memory.str() +
      "# HELP keelson_container_restarts_total Restarts of each container, by the engine or by keelson.\n"
      "# TYPE keelson_container_restarts_total counter\n" + restart.str();
  std::lock_guard lock(mu_);
  text_ = std::move(text);
}

}  // namespace keelson::controller
