#pragma once
// The RunnerPool planner: N replicas of one template, scaled, replaced when
// ephemeral runs end, and rolled to a new template within maxSurge and
// maxUnavailable. Pure: the replica names' suffixes come from the caller.

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "docker/types.h"
#include "model/specs.h"
#include "reconcile/plan.h"
#include "util/clock.h"

namespace keelson::reconcile {

/// The rollout bounds of a pool's strategy as counts of its replicas:
/// maxSurge rounds up, maxUnavailable down (as Kubernetes does); both zero
/// would never make progress, so the surge is one then.
struct RolloutBounds {
  int max_surge = 1;
  int max_unavailable = 0;
};
RolloutBounds Bounds(const model::RunnerPoolSpec& spec);

struct PoolPlan {
  Plan plan;
  PoolCounts counts;
};

/// `busy`: names of replicas running a job (autoscaled pools): scale-down
/// removes idle ones only, and an update never stops a busy one.
/// `want` is the template's container (name empty: each create gets
/// "PREFIX.SUFFIX" with a fresh suffix from `suffix`); `replicas` every
/// container labelled with the pool's uid.
/// Quick failures of ephemeral runs in a row (status.failureStreak) and when
/// the last one ended: a template that keeps failing backs off before the
/// next replacement: the first failure is replaced at once, then 1 s
/// doubling per failure up to 5 min.
struct PoolHistory {
  int failure_streak = 0;
  std::string last_failure_at;
};

PoolPlan PlanPool(const model::RunnerPoolSpec& spec, const docker::ContainerSpec& want, const std::string& prefix,
                  const std::vector<docker::Container>& replicas, TimePoint now,
                  const std::function<std::string()>& suffix, const PoolHistory& history = {},
                  const std::set<std::string>& busy = {});

/// Five random [a-z0-9], as the contract names replicas.
std::string RandomSuffix();

}  // namespace keelson::reconcile
