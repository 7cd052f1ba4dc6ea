#include "controller/work_queue.h"

#include <algorithm>
#include <cmath>

namespace keelson::controller {

using std::chrono::milliseconds;

WorkQueue::WorkQueue(const Clock& clock, Backoff backoff, uint64_t seed)
    : clock_(clock), backoff_(backoff), rng_(seed) {}

void WorkQueue::Enqueue(const std::string& key) {
  delayed_.erase(key);
  if (processing_.count(key)) {
    dirty_.insert(key);
    return;
  }
  if (queued_.insert(key).second) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard lock(mu_);
  if (!shut_down_) Enqueue(key);
}

void WorkQueue::AddUnlessBackingOff(const std::string& key) {
  std::lock_guard lock(mu_);
  if (shut_down_ || (failures_.count(key) && delayed_.count(key))) return;
  Enqueue(key);
}

void WorkQueue::AddAfter(const std::string& key, milliseconds delay) {
  std::lock_guard lock(mu_);
  if (shut_down_) return;
  if (delay.count() <= 0) {
    Enqueue(key);
    return;
  }
  if (queued_.count(key)) return;  // ready already: sooner than any delay
  TimePoint at = clock_.Now() + delay;
  auto [it, inserted] = delayed_.emplace(key, at);
  if (!inserted && at < it->second) it->second = at;
  cv_.notify_all();  // a sleeping Get may need to wake sooner
}

milliseconds WorkQueue::AddRateLimited(const std::string& key) {
  milliseconds delay;
  {
    std::lock_guard lock(mu_);
    int n = failures_[key]++;
    double ms = static_cast<double>(backoff_.base.count()) * std::pow(2.0, std::min(n, 30));
    ms = std::min(ms, static_cast<double>(backoff_.cap.count()));
    std::uniform_real_distribution<double> stretch(1.0, 1.0 + backoff_.jitter);
    delay = milliseconds(static_cast<int64_t>(ms * stretch(rng_)));
  }
  AddAfter(key, delay);
  return delay;
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int WorkQueue::Failures(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::PromoteDue() {
  const TimePoint now = clock_.Now();
  for (auto it = delayed_.begin(); it != delayed_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    std::string key = it->first;
    it = delayed_.erase(it);
    Enqueue(key);
  }
}

std::optional<std::string> WorkQueue::Pop() {
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  queued_.erase(key);
  processing_.insert(key);
  return key;
}

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock lock(mu_);
  while (!shut_down_) {
    PromoteDue();
    if (auto key = Pop()) return key;
    if (delayed_.empty()) {
      cv_.wait(lock);
      continue;
    }
    TimePoint next = std::min_element(delayed_.begin(), delayed_.end(), [](const auto& a, const auto& b) {
                       return a.second < b.second;
                     })->second;
    // The clock may be a fake one: wait in real time for at most the gap.
    auto gap = std::clamp<std::chrono::nanoseconds>(next - clock_.Now(), std::chrono::milliseconds(1),
                                                    std::chrono::milliseconds(1000));
    cv_.wait_for(lock, gap);
  }
  return std::nullopt;
}

std::optional<std::string> WorkQueue::TryGet() {
  std::lock_guard lock(mu_);
  if (shut_down_) return std::nullopt;
  PromoteDue();
  return Pop();
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  if (dirty_.erase(key) && !shut_down_) Enqueue(key);
}

void WorkQueue::ShutDown() {
  std::lock_guard lock(mu_);
  shut_down_ = true;
  cv_.notify_all();
}

size_t WorkQueue::Depth() const {
  std::lock_guard lock(mu_);
  return queue_.size() + delayed_.size();
}

bool WorkQueue::Idle() const {
  std::lock_guard lock(mu_);
  return queue_.empty() && delayed_.empty() && processing_.empty();
}

void StatusWrites::Note(const std::string& key, int64_t rv) {
  std::lock_guard lock(mu_);
  written_[key] = rv;
}

bool StatusWrites::Own(const std::string& key, int64_t rv) {
  std::lock_guard lock(mu_);
  auto it = written_.find(key);
  if (it == written_.end()) return false;
  bool own = it->second == rv;
  written_.erase(it);
  return own;
}

}  // namespace keelson::controller
