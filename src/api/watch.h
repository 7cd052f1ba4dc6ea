#pragma once
// Watches of keelson's kinds, as the Kubernetes API streams them: one JSON
// event per line ({"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":...}),
// in resourceVersion order, from a given resourceVersion (or from now, after
// an ADDED for every object that matches). One hub thread follows the store
// for every watch: it looks every 20 ms whether another connection wrote
// (PRAGMA data_version), and only then reads what changed since the oldest
// watch's position (ObjectStore::ChangesSince). Each watch is bounded: a
// client that falls kMaxQueued events behind is ended (it lists and watches
// again, as informers do), and every watch ends at its timeout.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/field_selector.h"
#include "controller/manager.h"
#include "model/selector.h"
#include "server/http_server.h"

namespace keelson::api {

/// Which objects a watch sees.
struct WatchFilter {
  model::Kind kind = model::Kind::kRunner;
  std::optional<std::string> namespace_;  ///< unset: all
  model::Selector labels;
  FieldSelector fields;

  bool Matches(const model::Object& o) const;
};

struct WatchOptions {
  WatchFilter filter;
  /// Changes after this resourceVersion; nullopt: from now, after an ADDED
  /// for each object that matches.
  std::optional<int64_t> from;
  bool bookmarks = false;  ///< allowWatchBookmarks
  std::chrono::seconds timeout{1800};
  /// The object of each event as the client asked for it (a Table, or the
  /// object itself).
  std::function<nlohmann::json(const model::Object&)> encode;
};

class WatchHub {
 public:
  /// At most this many watches at once; more are refused (429).
  static constexpr size_t kMaxWatches = 256;
  /// Events a watch may hold unsent before it is ended.
  static constexpr size_t kMaxQueued = 10000;
  static constexpr std::chrono::milliseconds kPoll{20};
  static constexpr std::chrono::seconds kBookmarkEvery{5};

  WatchHub(controller::StoreFactory open_store, const Clock& clock);
  ~WatchHub();

  /// A new watch; its stream is the response body. nullopt when there are
  /// kMaxWatches already. A `from` older than the store remembers gets a
  /// stream of one ERROR event (410 Expired), as Kubernetes answers.
  std::optional<std::shared_ptr<server::Stream>> Watch(WatchOptions options);
  size_t active() const;
  /// Something was written (by this process): look now, not at the next poll.
  void Poke();

  class Watcher;

 private:
  void Run();
  void Deliver(store::ObjectStore& store);

  controller::StoreFactory open_store_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<Watcher>> watchers_;
  bool stop_ = false;
  bool fresh_ = false;  ///< a watcher came: read even without a data_version change
  std::thread thread_;
};

}  // namespace keelson::api
