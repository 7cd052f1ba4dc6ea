#pragma once
// The CI jobs each autoscaled RunnerPool is asked to run, as the job queue
// said them (GitHub workflow_job webhooks): the API server records them,
// the controller's store watcher notices (ChangedSince) and the pool's
// reconcile reads them (Of) to plan its replicas. Removed with the pool.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "store/db.h"
#include "util/result.h"

namespace keelson::store {

struct JobRecord {
  int64_t id = 0;           ///< the CI system's job id
  std::string state;        ///< "queued", "in_progress", "completed"
  std::string queued_at;    ///< RFC 3339: when it was first heard of
  std::string updated_at;   ///< RFC 3339: its last change of state
  std::string runner;       ///< the runner (container) running it
  std::string labels;       ///< as asked: "[linux, x64]"
};

class Jobs {
 public:
  explicit Jobs(Db& db) : db_(db) {}
  /// Records that job `id` of the pool `uid` (object key `key`) is in
  /// `state` at `at`. States only move forward (queued, in_progress,
  /// completed), since deliveries come out of order: a repeat or an older
  /// state changes nothing. Returns whether anything changed.
  Result<bool> Note(const std::string& uid, const std::string& key, int64_t id, const std::string& state,
                    const std::string& at, const std::string& runner, const std::string& labels);
  /// The jobs of the pool `uid`, oldest first.
  Result<std::vector<JobRecord>> Of(const std::string& uid);
  /// Forgets the pool's jobs last changed before `before` (RFC 3339): those
  /// completed or expired long enough ago that a late delivery of them
  /// would be a stale one.
  Result<void> Forget(const std::string& uid, const std::string& before);
  /// The keys of the pools whose jobs changed after change number `seq`,
  /// and the newest change number (start with 0).
  Result<std::pair<std::vector<std::string>, int64_t>> ChangedSince(int64_t seq);

 private:
  Db& db_;
};

}  // namespace keelson::store
