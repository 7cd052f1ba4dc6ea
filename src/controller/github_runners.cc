#include "controller/github_runners.h"

#include <algorithm>
#include <cctype>

namespace keelson::controller {
namespace {

std::string ClientKey(const model::GitHubSpec& s) {
  return s.url + "\n" + s.api_url + "\n" + s.token_file + "\n" + s.app_id + "\n" + s.installation_id + "\n" +
         s.private_key_file + "\n" + s.ca_file;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

std::vector<std::string> RunnerLabels(const model::GitHubSpec& spec) {
  std::vector<std::string> out = {"self-hosted"};
  for (const auto& l : spec.labels) {
    if (Lower(l) != "self-hosted") out.push_back(l);
  }
  return out;
}

void RunnerSightings::Listed(const std::string& uid, TimePoint at, const std::set<std::string>& replicas,
                             const std::set<std::string>& online) {
  std::lock_guard lock(mu_);
  Pool& p = pools_[uid];
  p.listed_at = at;
  p.replicas = replicas;
  for (auto it = p.seen_online.begin(); it != p.seen_online.end();) {
    it = replicas.count(*it) ? std::next(it) : p.seen_online.erase(it);
  }
  p.seen_online.insert(online.begin(), online.end());
}

std::optional<std::set<std::string>> RunnerSightings::NeverOnline(const std::string& uid, TimePoint now,
                                                                  std::chrono::seconds fresh) const {
  std::lock_guard lock(mu_);
  auto it = pools_.find(uid);
  if (it == pools_.end() || now - it->second.listed_at > fresh) return std::nullopt;
  std::set<std::string> out;
  for (const auto& name : it->second.replicas) {
    if (!it->second.seen_online.count(name)) out.insert(name);
  }
  return out;
}

void RunnerSightings::Keep(const std::set<std::string>& uids) {
  std::lock_guard lock(mu_);
  for (auto it = pools_.begin(); it != pools_.end();) it = uids.count(it->first) ? std::next(it) : pools_.erase(it);
}

Result<ci::GitHubClient*> GitHubRunners::ClientFor(const model::GitHubSpec& spec) {
  std::lock_guard lock(mu_);
  auto& client = clients_[ClientKey(spec)];
  if (!client) {
    auto scope = ci::ScopeOf(spec);
    if (!scope) return Unexpected(scope.error());
    client = std::make_unique<ci::GitHubClient>(spec, *scope, clock_, send_);
  }
  return client.get();
}

Result<ci::JitConfig> GitHubRunners::Register(const model::GitHubSpec& spec, const std::string& name) {
  auto client = ClientFor(spec);
  if (!client) return Unexpected(client.error());
  auto group = GroupId(**client, ClientKey(spec) + "\n" + spec.runner_group, spec.runner_group);
  if (!group) return Unexpected(group.error());
  return (*client)->GenerateJitConfig(name, *group, RunnerLabels(spec));
}

Result<int64_t> GitHubRunners::GroupId(ci::GitHubClient& client, const std::string& key, const std::string& name) {
  // One lookup at a time, so that a burst of replicas asks once.
  std::lock_guard once(group_mu_);
  {
    std::lock_guard lock(mu_);
    if (auto it = groups_.find(key); it != groups_.end()) return it->second;
  }
  auto id = client.RunnerGroupId(name);
  if (!id) return Unexpected(id.error());
  std::lock_guard lock(mu_);
  groups_[key] = *id;
  return *id;
}

Result<void> GitHubRunners::Deregister(const model::GitHubSpec& spec, int64_t runner_id) {
  auto client = ClientFor(spec);
  if (!client) return Unexpected(client.error());
  return (*client)->DeleteRunner(runner_id);
}

Result<std::vector<ci::GitHubRunner>> GitHubRunners::List(const model::GitHubSpec& spec) {
  auto client = ClientFor(spec);
  if (!client) return Unexpected(client.error());
  return (*client)->ListRunners();
}

}  // namespace keelson::controller
