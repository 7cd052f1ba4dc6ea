#pragma once
// The tail of the output of a pool's last finished runs: an ephemeral
// replica is removed as soon as its run ends, so what it printed ("cannot
// register runner: bad token") is kept here for `keelson logs --previous`.
// Bounded per object by the pool's history limits; removed with the object.

#include <string>
#include <vector>

#include "store/db.h"
#include "util/result.h"

namespace keelson::store {

struct FinishedRunRecord {
  std::string container;  ///< the replica's engine name
  int exit_code = 0;
  std::string started_at, finished_at;  ///< RFC 3339, as the engine said
  std::string output;  ///< the tail, stdout and stderr as they came
};

class RunHistory {
 public:
  explicit RunHistory(Db& db) : db_(db) {}
  /// Adds `run` for the object `uid`, then keeps its newest `keep_succeeded`
  /// runs that exited 0 and `keep_failed` that did not.
  Result<void> Record(const std::string& uid, const FinishedRunRecord& run, int keep_succeeded, int keep_failed);
  /// The kept runs of `uid`, oldest first.
  Result<std::vector<FinishedRunRecord>> List(const std::string& uid);

 private:
  Db& db_;
};

}  // namespace keelson::store
