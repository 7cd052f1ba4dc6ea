#pragma once
// GitHub's REST API as an autoscaled RunnerPool uses it to manage its
// runners' lifecycle: installation tokens for a GitHub App (from an RS256
// JWT) or a token file, runner groups, just-in-time runner configurations,
// the runner list (status and busy flag), and deleting registrations.
// Requests follow GitHub's documented REST description (version
// 2022-11-28); rate limits (Retry-After, x-ratelimit-reset) stop all calls
// until they pass.

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ci/web.h"
#include "model/specs.h"
#include "util/clock.h"
#include "util/result.h"

namespace keelson::ci {

/// Where a pool's runners are registered.
struct GitHubScope {
  std::string api_url;  ///< https://api.github.com, or a GitHub Enterprise Server's https://HOST/api/v3
  std::string path;     ///< "orgs/ORG", "repos/OWNER/REPO" or "enterprises/ENT"
};

/// The scope of spec.github.url (and apiURL when set): github.com/ORG,
/// github.com/OWNER/REPO, github.com/enterprises/ENT, or the same paths on
/// a GitHub Enterprise Server (whose API is https://HOST/api/v3).
Result<GitHubScope> ScopeOf(const model::GitHubSpec& spec);

struct GitHubRunner {
  int64_t id = 0;
  std::string name;
  std::string status;  ///< "online" or "offline"
  bool busy = false;
};

struct JitConfig {
  int64_t runner_id = 0;
  std::string encoded;  ///< a secret: into the container's environment only
};

class GitHubClient {
 public:
  using Sender = std::function<Result<WebResponse>(const WebRequest&)>;
  /// `spec` must have credentials (tokenFile or app); its files are read
  /// when a token is needed, never kept beyond the token's life.
  GitHubClient(model::GitHubSpec spec, GitHubScope scope, const Clock& clock, Sender send = Send);

  /// The id of the runner group `name` ("" or "default": the default group).
  Result<int64_t> RunnerGroupId(const std::string& name);
  /// POST .../actions/runners/generate-jitconfig for a runner named `name`.
  Result<JitConfig> GenerateJitConfig(const std::string& name, int64_t group_id,
                                      const std::vector<std::string>& labels);
  /// Every runner of the scope (all pages).
  Result<std::vector<GitHubRunner>> ListRunners();
  /// Deletes a registration; one already gone is fine.
  Result<void> DeleteRunner(int64_t id);
  /// While GitHub's rate limit holds, every call fails at once with this in
  /// its message.
  std::optional<TimePoint> RateLimitedUntil() const;

 private:
  Result<std::string> Token();
  /// One authenticated call; HTTP errors become errors (see the .cc).
  Result<WebResponse> Call(const std::string& method, const std::string& path, const std::string& body,
                           const std::string& bearer = "");
  Result<WebResponse> Checked(const std::string& what, Result<WebResponse> got);

  model::GitHubSpec spec_;
  GitHubScope scope_;
  const Clock& clock_;
  Sender send_;
  mutable std::mutex mu_;
  std::string token_;  ///< an App's installation token, until token_expires_
  TimePoint token_expires_{};
  std::optional<TimePoint> limited_until_;
};

}  // namespace keelson::ci
