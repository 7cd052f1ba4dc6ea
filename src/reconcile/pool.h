#pragma once
// The RunnerPool planner: N replicas of one template, scaled, replaced when
// ephemeral runs end, and rolled to a new template within maxSurge and
// maxUnavailable. Pure: the replica names' suffixes come from the caller.

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "docker/types.h"
#include "reconcile/plan.h"
#include "util/clock.h"

namespace keelson::reconcile {

struct PoolSpec {
  int replicas = 1;
  bool ephemeral = false;
  bool recreate = false;  ///< strategy Recreate (else RollingUpdate)
  int max_surge = 1;
  int max_unavailable = 0;
  std::chrono::seconds min_ready{0};
  std::string restart_policy = "Always";  ///< the template's, for non-ephemeral replicas
};

/// maxSurge/maxUnavailable as a count: an integer, or a percentage of
/// `replicas` (surge rounds up, unavailable down, as Kubernetes does).
int ResolveIntOrPercent(const nlohmann::json& value, int replicas, bool round_up);
PoolSpec ParsePoolSpec(const nlohmann::json& spec);

struct PoolCounts {
  int replicas = 0;   ///< containers that exist
  int ready = 0;      ///< running (healthy, with a healthcheck)
  int updated = 0;    ///< on the current template
  int available = 0;  ///< ready for at least minReadySeconds
  int completed = 0;  ///< ephemeral runs that ended with code 0 (this pass)
  int failed = 0;     ///< ... with another code
};

struct PoolPlan {
  Plan plan;
  PoolCounts counts;
};

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

PoolPlan PlanPool(const PoolSpec& spec, const docker::ContainerSpec& want, const std::string& prefix,
                  const std::vector<docker::Container>& replicas, TimePoint now,
                  const std::function<std::string()>& suffix, const PoolHistory& history = {});

/// Five random [a-z0-9], as the contract names replicas.
std::string RandomSuffix();

}  // namespace keelson::reconcile
