#pragma once
// What the controller keeps between syncs of git sources (GitRepository
// objects): where their mirrors and checked-out revisions live, and when each
// last looked at its remote (in memory only: a poll that finds nothing new
// writes nothing to the store). The sync itself is Reconciler::SyncSource
// (source_sync.cc).
//
// Per source, under `dir`/NAMESPACE/NAME/:
//   mirror.git/   a bare mirror of the remote (git/mirror.h)
//   worktree/     the files of the revision applied now; specs' file fields
//                 (env files, build contexts) point inside it, so the path
//                 stays the same from revision to revision
//   staging/      the next revision, swapped with worktree/ once it is admitted

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "git/mirror.h"
#include "model/object.h"
#include "store/object_store.h"
#include "util/clock.h"
#include "util/result.h"

namespace keelson::controller {

using model::kSourceNameLabel;
using model::kSourceNamespaceLabel;
/// `keelson sync gitrepository` sets it to a timestamp; the sync records the
/// value it handled in status.lastHandledSyncAt (Flux's reconcile.fluxcd.io/requestedAt).
inline constexpr const char* kSyncRequestedAnnotation = "keelson.dev/sync-requested-at";
/// How many syncs status.history keeps.
inline constexpr size_t kSyncHistory = 5;

/// Asks the controller to sync the GitRepository NS/NAME now: sets
/// kSyncRequestedAnnotation to `clock`'s time to the nanosecond (written as
/// `keelson annotate` writes, on the resourceVersion read). Returns the
/// value, which status.lastHandledSyncAt carries once the sync is done.
/// kNotFound when there is no such source.
Result<std::string> RequestSourceSync(store::ObjectStore& store, const std::string& ns, const std::string& name,
                                      const Clock& clock);

class Sources {
 public:
  /// `dir`: where mirrors and worktrees live; "" disables git sources.
  /// `fetch_helper`: the keelson binary, whose `__git-fetch` runs each fetch
  /// in a process that is killed when it outlives the source's timeout
  /// (git/fetch_helper.h); "": fetch in this process (tests).
  /// `limits`: what one fetch may receive and one checkout may write.
  explicit Sources(std::string dir, std::string fetch_helper = "", git::Limits limits = {})
      : dir_(std::move(dir)), fetch_helper_(std::move(fetch_helper)), limits_(limits) {}
  const std::string& dir() const { return dir_; }
  const std::string& fetch_helper() const { return fetch_helper_; }
  const git::Limits& limits() const { return limits_; }

  /// When the source `uid` last listed its remote, if this process did.
  std::optional<TimePoint> LastFetch(const std::string& uid) const;
  void NoteFetch(const std::string& uid, TimePoint at);

 private:
  std::string dir_, fetch_helper_;
  git::Limits limits_;
  mutable std::mutex mu_;
  std::map<std::string, TimePoint> fetched_;
};

}  // namespace keelson::controller
