#pragma once
// The executor: carries out a plan's actions on the engine, one std::visit
// per action, keeping the cache current with what it did. It owns the
// concurrency limit: runs of independent actions (container creates, or
// removes) go side by side, at most kParallelActions at once.

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "controller/cache.h"
#include "controller/fence.h"
#include "controller/github_runners.h"
#include "controller/metrics.h"
#include "controller/progress_board.h"
#include "docker/engine.h"
#include "reconcile/action.h"
#include "reconcile/kinds.h"

namespace keelson::controller {

/// Container creates, or container removes, of one plan in flight at once.
inline constexpr size_t kParallelActions = 16;
/// What a finished ephemeral run leaves of its output: its last lines, at
/// most so many bytes (kept for `keelson logs --previous`).
inline constexpr int kRunOutputLines = 100;
inline constexpr size_t kRunOutputBytes = 16 * 1024;

/// Slots for long engine operations (pulls, pushes, builds): fewer than the
/// workers, so objects that need no pull always find a worker free.
/// Thread-safe.
class LongOperationSlots {
 public:
  explicit LongOperationSlots(int capacity) : free_(capacity), capacity_(capacity) {}
  bool TryAcquire() {
    int n = free_.load();
    while (n > 0) {
      if (free_.compare_exchange_weak(n, n - 1)) return true;
    }
    return false;
  }
  void Release() { ++free_; }
  int capacity() const { return capacity_; }

 private:
  std::atomic<int> free_;
  const int capacity_;
};

/// The error a long operation gets when every slot is taken: transient.
inline constexpr const char* kNoSlotPrefix = "waiting for a free slot for pulls and builds";

class Executor {
 public:
  /// Told of every action's result, in plan order.
  using Report = std::function<void(const reconcile::Action&, const Result<void>&)>;

  /// All must outlive it. Thread-safe as its parts are.
  /// `slots`, when set, bounds the pulls, pushes and builds in flight.
  /// `fence`, when set, is asked before every action: down, the action fails
  /// (transient) without touching the engine.
  /// `github`, when set, registers and deregisters the runners of pools
  /// whose GitHub runners keelson manages.
  Executor(docker::Engine& engine, Cache& cache, Metrics& metrics, LongOperationSlots* slots = nullptr,
           const Fence* fence = nullptr, ProgressBoard* board = nullptr, GitHubRunners* github = nullptr)
      : engine_(engine),
        cache_(cache),
        metrics_(metrics),
        slots_(slots),
        fence_(fence),
        board_(board),
        github_(github) {}

  /// Runs `actions` in order and stops at the first failure, which it
  /// returns. What they did (restarts, finished runs, pulls) goes to `ledger`.
  Result<void> Run(const std::vector<reconcile::Action>& actions, reconcile::Ledger& ledger, const Report& report);
  /// One action.
  Result<void> Execute(const reconcile::Action& action);

  // One per action type (std::visit calls them).
  Result<void> operator()(const reconcile::PullImage& a);
  Result<void> operator()(const reconcile::BuildImage& a);
  Result<void> operator()(const reconcile::PushImage& a);
  Result<void> operator()(const reconcile::RemoveImage& a);
  Result<void> operator()(const reconcile::CreateContainer& a);
  Result<void> operator()(const reconcile::StartContainer& a);
  Result<void> operator()(const reconcile::RecreateContainer& a);
  Result<void> operator()(const reconcile::RemoveContainer& a);
  Result<void> operator()(const reconcile::ConnectContainer& a);
  Result<void> operator()(const reconcile::DisconnectContainer& a);
  Result<void> operator()(const reconcile::CreateNetwork& a);
  Result<void> operator()(const reconcile::ReplaceNetwork& a);
  Result<void> operator()(const reconcile::RemoveNetwork& a);
  Result<void> operator()(const reconcile::CreateVolume& a);
  Result<void> operator()(const reconcile::ReplaceVolume& a);
  Result<void> operator()(const reconcile::RemoveVolume& a);

 private:
  Result<void> RunParallel(const std::vector<reconcile::Action>& batch, reconcile::Ledger& ledger,
                           const Report& report);
  void Note(const reconcile::Action& a, reconcile::Ledger& ledger);
  Result<void> CreateAndStart(const docker::ContainerSpec& spec, int stop_timeout_s);
  Result<void> RemoveContainerById(const std::string& id, int stop_timeout_s);
  Result<void> Call(const char* operation, Result<void> r);

  /// Runs `op` in a long-operation slot, or fails at once (transient) when none is free.
  Result<void> InSlot(const std::function<Result<void>()>& op);

  docker::Engine& engine_;
  /// What finished runs printed, by container id, read before their removal
  /// (possibly on several threads) until Note takes it into the ledger.
  std::mutex outputs_mu_;
  std::map<std::string, std::string> outputs_;
  Cache& cache_;
  Metrics& metrics_;
  LongOperationSlots* slots_;
  const Fence* fence_;
  ProgressBoard* board_;  ///< pulls and builds in progress, for a display; may be null
  GitHubRunners* github_;  ///< may be null: GitHub-managed pools' replicas cannot be made
};

}  // namespace keelson::controller
