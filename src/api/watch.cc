#include "api/watch.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "api/status.h"

namespace keelson::api {

using nlohmann::json;

bool WatchFilter::Matches(const model::Object& o) const {
  if (o.kind != kind) return false;
  if (namespace_ && o.meta.namespace_ != *namespace_) return false;
  return labels.Matches(o.meta.labels) && fields.Matches(o);
}

// One watch: the events the hub queued for it, taken by the connection.
// Locks: `mu_` guards the queue; `wake_mu_` makes Release final (no wake
// runs after it returns, so the connection's state may be freed).
class WatchHub::Watcher : public server::Stream {
 public:
  Watcher(WatchOptions options, int64_t position, TimePoint deadline)
      : options_(std::move(options)), position_(position), deadline_(deadline) {}

  std::optional<std::string> Take() override {
    std::lock_guard lock(mu_);
    if (!queue_.empty()) {
      std::string out;
      for (auto& line : queue_) out += line;
      queue_.clear();
      return out;
    }
    if (ended_) return std::nullopt;
    return std::string();
  }
  void SetWake(std::function<void()> wake) override {
    std::lock_guard lock(wake_mu_);
    wake_ = std::move(wake);
  }
  void Close() override {
    End();
    Notify();
  }
  void Release() override {
    {
      std::lock_guard lock(wake_mu_);
      wake_ = nullptr;
    }
    End();
  }

  void Notify() {
    std::lock_guard lock(wake_mu_);
    if (wake_) wake_();
  }
  void End() {
    std::lock_guard lock(mu_);
    ended_ = true;
  }
  bool ended() const {
    std::lock_guard lock(mu_);
    return ended_;
  }
  /// Queues an event; a watch too far behind is ended instead.
  bool Push(const char* type, const json& object) {
    std::string line = json{{"type", type}, {"object", object}}.dump(-1, ' ', false, json::error_handler_t::replace);
    line += '\n';
    std::lock_guard lock(mu_);
    if (ended_) return false;
    if (queue_.size() >= kMaxQueued) {
      spdlog::warn("api: a watch fell {} events behind; ended (the client lists and watches again)", kMaxQueued);
      ended_ = true;
      return true;
    }
    queue_.push_back(std::move(line));
    return true;
  }
  bool PushObject(const char* type, const model::Object& o) { return Push(type, options_.encode(o)); }

  // The hub's own state, touched by its thread only (and Watch, before the
  // watcher is shared).
  WatchOptions options_;
  int64_t position_ = 0;
  TimePoint deadline_;
  int64_t bookmarked_ = 0;
  TimePoint last_bookmark_{};

 private:
  mutable std::mutex mu_;
  std::deque<std::string> queue_;
  bool ended_ = false;
  std::mutex wake_mu_;
  std::function<void()> wake_;
};

WatchHub::WatchHub(controller::StoreFactory open_store, const Clock& clock)
    : open_store_(std::move(open_store)), clock_(clock) {}

WatchHub::~WatchHub() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WatchHub::Poke() {
  {
    std::lock_guard lock(mu_);
    if (watchers_.empty()) return;
    fresh_ = true;
  }
  cv_.notify_all();
}

size_t WatchHub::active() const {
  std::lock_guard lock(mu_);
  return watchers_.size();
}

std::optional<std::shared_ptr<server::Stream>> WatchHub::Watch(WatchOptions options) {
  std::lock_guard lock(mu_);
  if (watchers_.size() >= kMaxWatches) return std::nullopt;
  const TimePoint deadline = clock_.Now() + options.timeout;
  const int64_t from = options.from.value_or(-1);  // -1: the hub lists first
  auto w = std::make_shared<Watcher>(std::move(options), from, deadline);
  watchers_.push_back(w);
  fresh_ = true;
  if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
  cv_.notify_all();
  return w;
}

namespace {

const char* TypeName(store::Change::Type t) {
  switch (t) {
    case store::Change::kAdded: return "ADDED";
    case store::Change::kModified: return "MODIFIED";
    case store::Change::kDeleted: return "DELETED";
  }
  return "MODIFIED";
}

json Expired(int64_t asked, int64_t floor) {
  return {{"kind", "Status"},
          {"apiVersion", "v1"},
          {"metadata", json::object()},
          {"status", "Failure"},
          {"message", "too old resource version: " + std::to_string(asked) + " (" + std::to_string(floor) + ")"},
          {"reason", "Expired"},
          {"code", 410}};
}

}  // namespace

void WatchHub::Deliver(store::ObjectStore& store) {
  std::vector<std::shared_ptr<Watcher>> watchers;
  {
    std::lock_guard lock(mu_);
    watchers = watchers_;
  }
  auto current = store.CurrentResourceVersion();
  auto floor = store.ChangesFloor();
  if (!current || !floor) {
    spdlog::warn("api: watch: {}", (!current ? current.error() : floor.error()).message);
    return;
  }
  std::vector<std::shared_ptr<Watcher>> touched;
  // New watches from now: an ADDED for each object they match, first.
  // Those from a version the store no longer remembers: 410 Expired.
  int64_t low = *current;
  for (auto& w : watchers) {
    if (w->position_ < 0) {
      const WatchFilter& f = w->options_.filter;
      auto list = store.List({f.kind, f.namespace_, &f.labels});
      if (!list) {
        spdlog::warn("api: watch: {}", list.error().message);
        continue;
      }
      for (const auto& o : *list) {
        if (f.fields.Matches(o)) w->PushObject("ADDED", o);
      }
      w->position_ = *current;
      touched.push_back(w);
    } else if (w->position_ < *floor) {
      w->Push("ERROR", Expired(w->position_, *floor));
      w->End();
      touched.push_back(w);
      continue;
    }
    low = std::min(low, w->position_);
  }
  auto changes = store.ChangesSince(low);
  if (!changes) {
    spdlog::warn("api: watch: {}", changes.error().message);
    return;
  }
  int64_t top = *current;
  for (const auto& c : *changes) {
    const int64_t rv = c.object.meta.resource_version;
    top = std::max(top, rv);
    for (auto& w : watchers) {
      if (w->position_ >= rv || !w->options_.filter.Matches(c.object)) continue;
      if (w->PushObject(TypeName(c.type), c.object)) touched.push_back(w);
    }
  }
  for (auto& w : watchers) w->position_ = std::max(w->position_, top);
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  for (auto& w : touched) w->Notify();
}

void WatchHub::Run() {
  std::unique_ptr<controller::StoreSession> session;
  int64_t seen = -1;
  while (true) {
    bool fresh = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, kPoll, [this] { return stop_ || fresh_; });
      if (stop_) break;
      fresh = fresh_;
      fresh_ = false;
      // Ended watches (closed, released, or too slow) leave; late ones end.
      const TimePoint now = clock_.Now();
      for (auto& w : watchers_) {
        if (now >= w->deadline_ && !w->ended()) {
          w->End();
          w->Notify();
        }
      }
      std::erase_if(watchers_, [](const std::shared_ptr<Watcher>& w) { return w->ended(); });
      if (watchers_.empty()) continue;
    }
    if (!session) {
      auto s = open_store_();
      if (!s) {
        spdlog::warn("api: watch: {}", s.error().message);
        continue;
      }
      session = std::make_unique<controller::StoreSession>(std::move(*s));
    }
    auto version = session->db->DataVersion();
    if (!version) {
      spdlog::warn("api: watch: {}", version.error().message);
      session.reset();
      continue;
    }
    if (fresh || *version != seen) {
      seen = *version;
      Deliver(*session->store);
    }
    // Bookmarks: where each watch that asked for them is, now and then.
    std::vector<std::shared_ptr<Watcher>> watchers;
    {
      std::lock_guard lock(mu_);
      watchers = watchers_;
    }
    const TimePoint now = clock_.Now();
    for (auto& w : watchers) {
      if (!w->options_.bookmarks || w->position_ <= w->bookmarked_ || now - w->last_bookmark_ < kBookmarkEvery) continue;
      json object = {{"kind", model::Info(w->options_.filter.kind).name},
                     {"apiVersion", model::kApiVersion},
                     {"metadata", {{"resourceVersion", std::to_string(w->position_)}}}};
      w->bookmarked_ = w->position_;
      w->last_bookmark_ = now;
      if (w->Push("BOOKMARK", object)) w->Notify();
    }
  }
}

}  // namespace keelson::api
