#pragma once
// Which replicas of autoscaled pools are busy running a CI job, as their
// sources last said: the busy probe (controller/busy_prober.h) and, later,
// the CI system's own runner list. A replica is busy when any source says
// so. Thread-safe: sources write, reconcilers read (World::BusyContainers).

#include <map>
#include <mutex>
#include <set>
#include <string>

namespace keelson::controller {

class BusyBoard {
 public:
  /// What `source` ("probe", "github") says of `container`, a replica of
  /// the pool `uid`. True when the container's busy answer changed.
  bool Set(const std::string& uid, const std::string& container, const std::string& source, bool busy);
  /// The pool's replicas some source says are busy (container names).
  std::set<std::string> BusyOf(const std::string& uid) const;
  /// Drops `source`'s word on containers not in `live` (gone replicas).
  void Keep(const std::string& source, const std::set<std::string>& live);

 private:
  struct Entry {
    std::string uid;
    std::map<std::string, bool> by_source;
    bool Busy() const;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;  ///< by container name
};

}  // namespace keelson::controller
