#include "controller/queue_poller.h"

namespace keelson::controller {

std::set<std::string> QueuePoller::Tick(const std::vector<QueueTarget>& targets) {
  std::set<std::string> changed, live;
  for (const auto& t : targets) {
    live.insert(t.uid);
    const std::string asked = t.queue.url + "\n" + t.queue.json_path + "\n" + t.queue.prometheus_query;
    const TimePoint now = clock_.Now();
    {
      std::lock_guard lock(mu_);
      auto it = by_uid_.find(t.uid);
      if (it != by_uid_.end() && it->second.asked == asked && now - it->second.polled_at < t.queue.interval) continue;
    }
    auto depth = poll_(t.queue);  // outside the lock: a slow endpoint must not hold up readers
    std::lock_guard lock(mu_);
    auto [it, fresh] = by_uid_.try_emplace(t.uid);
    State& st = it->second;
    const reconcile::QueueReading before = st.reading;
    if (st.asked != asked) st.reading = {};  // another queue: the old depth says nothing of it
    if (depth) {
      st.reading = {*depth, ""};
    } else {
      st.reading.error = depth.error().message;
    }
    st.polled_at = now;
    st.asked = asked;
    if (fresh || !(st.reading == before)) changed.insert(t.key);
  }
  std::lock_guard lock(mu_);
  for (auto it = by_uid_.begin(); it != by_uid_.end();) it = live.count(it->first) ? std::next(it) : by_uid_.erase(it);
  return changed;
}

std::optional<reconcile::QueueReading> QueuePoller::Of(const std::string& uid) const {
  std::lock_guard lock(mu_);
  auto it = by_uid_.find(uid);
  if (it == by_uid_.end()) return std::nullopt;
  return it->second.reading;
}

}  // namespace keelson::controller
