#pragma once
// A CI system's queue depth read over HTTP (RunnerPool
// spec.autoscaling.queue): a number in a JSON answer at a kubectl JSONPath,
// or the value of a Prometheus instant query, as KEDA's metrics-api and
// prometheus scalers read them.

#include <cstdint>
#include <string>

#include "model/specs.h"
#include "util/result.h"

namespace keelson::ci {

/// The number at `json_path` in `body`: one JSON number, or a string that
/// is one; a fraction rounds up (half a job still wants a runner). kInvalid
/// saying what was found otherwise (nothing, several values, a negative).
Result<int64_t> DepthFromJson(const std::string& body, const std::string& json_path);

/// Prometheus's answer to GET /api/v1/query: a vector's one sample or a
/// scalar; an empty vector is 0 (nothing queued); several samples are an
/// error (sum() them in the query); status "error" is its error message.
Result<int64_t> DepthFromPrometheus(const std::string& body);

/// Polls `spec` once: reads the bearer token file, sends the request, reads
/// the answer. Errors lead with "GET URL" (the URL without its query),
/// never the token.
Result<int64_t> PollQueueDepth(const model::QueueSpec& spec);

}  // namespace keelson::ci
