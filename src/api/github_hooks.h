#pragma once
// GitHub Actions `workflow_job` webhooks for autoscaled RunnerPools: POST
// /hooks/github on the API's listener. A delivery is genuine when its
// X-Hub-Signature-256 is the HMAC-SHA256 of the body under the
// spec.github.webhookSecretFile of some RunnerPool; the job then goes to the
// pool, among those whose secret signed it, that runs the job's repository
// (spec.github.url) and has every label the job asks for (case-insensitive;
// "self-hosted" is implied), the one with the fewest labels first (ties by
// namespace and name), or the pool that already has the job. The job's
// state (queued, in_progress, completed) is recorded in the store's jobs
// table (store/jobs.h), which the controller's planner reads.

#include <functional>
#include <string>

#include "server/http_server.h"
#include "store/object_store.h"
#include "util/clock.h"

namespace keelson::api {

inline constexpr const char* kGitHubHookPath = "/hooks/github";

/// 202 when a job's state was recorded, 200 for a ping, another event, a
/// repeated or older state, or a job no pool matches (GitHub retries only
/// failures, and none of these is one), 400 for a body that is not a
/// workflow_job, 401 for a bad or missing signature (or no pool with a
/// webhook secret), 405 for other methods.
/// `observe`, when set, hears of each job that started ("in_progress", the
/// seconds since it was queued: pickup latency) or completed ("completed",
/// the seconds since it started), by pool (NAMESPACE/NAME).
using JobObserver = std::function<void(const std::string& pool, const std::string& state, double seconds)>;
server::Response HandleGitHubHook(const server::Request& request, store::ObjectStore& store, const Clock& clock,
                                  const JobObserver& observe = {});

}  // namespace keelson::api
