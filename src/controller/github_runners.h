#pragma once
// The GitHub side of autoscaled pools whose spec.github has credentials:
// one API client per set of credentials (its installation token and rate
// limit shared by every worker), the runner group resolved once, and the
// three things the controller asks: register a replica (a just-in-time
// configuration), deregister one, list the runners (busy flags, online
// status, registrations left behind). Thread-safe.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ci/github.h"
#include "model/specs.h"
#include "util/clock.h"
#include "util/result.h"

namespace keelson::controller {

/// The environment variable the actions/runner image reads its JIT
/// configuration from (as `run.sh --jitconfig` would take it).
inline constexpr const char* kJitConfigEnv = "ACTIONS_RUNNER_INPUT_JITCONFIG";

class GitHubRunners {
 public:
  explicit GitHubRunners(const Clock& clock, ci::GitHubClient::Sender send = ci::Send)
      : clock_(clock), send_(std::move(send)) {}

  /// A JIT configuration for a runner named `name` with the pool's labels
  /// (self-hosted first) in its runner group.
  Result<ci::JitConfig> Register(const model::GitHubSpec& spec, const std::string& name);
  Result<void> Deregister(const model::GitHubSpec& spec, int64_t runner_id);
  Result<std::vector<ci::GitHubRunner>> List(const model::GitHubSpec& spec);

 private:
  Result<ci::GitHubClient*> ClientFor(const model::GitHubSpec& spec);
  /// The runner group's id, looked up once per client and name.
  Result<int64_t> GroupId(ci::GitHubClient& client, const std::string& key, const std::string& name);

  const Clock& clock_;
  ci::GitHubClient::Sender send_;
  std::mutex mu_;
  std::mutex group_mu_;  ///< held while a runner group is looked up
  std::map<std::string, std::unique_ptr<ci::GitHubClient>> clients_;  ///< by credentials and scope
  std::map<std::string, int64_t> groups_;                               ///< by client key and group name
};

/// Which replicas' runners GitHub has shown online, from the runner lists
/// the controller reads: a replica whose runner never came online within
/// spec.github.registrationTimeout is replaced. Only a fresh list counts:
/// while GitHub cannot be read, nothing is replaced for it. Thread-safe.
class RunnerSightings {
 public:
  /// A list of the pool's runners, read at `at`: `online` are its replicas
  /// GitHub shows online (or busy); `replicas` all it has now.
  void Listed(const std::string& uid, TimePoint at, const std::set<std::string>& replicas,
              const std::set<std::string>& online);
  /// The pool's replicas never seen online, when its last list is at most
  /// `fresh` old at `now`; nullopt otherwise.
  std::optional<std::set<std::string>> NeverOnline(const std::string& uid, TimePoint now,
                                                   std::chrono::seconds fresh = std::chrono::seconds(120)) const;
  void Keep(const std::set<std::string>& uids);

 private:
  struct Pool {
    TimePoint listed_at;
    std::set<std::string> replicas, seen_online;
  };
  mutable std::mutex mu_;
  std::map<std::string, Pool> pools_;
};

/// The labels a pool's runners register with: self-hosted, then spec.labels.
std::vector<std::string> RunnerLabels(const model::GitHubSpec& spec);

}  // namespace keelson::controller
