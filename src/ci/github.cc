#include "ci/github.h"

#include <nlohmann/json.hpp>

#include "ci/jwt.h"
#include "util/secret_file.h"

namespace keelson::ci {
namespace {

using nlohmann::json;

std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// GitHub's message in an error answer ({"message": "..."}), or the status.
std::string GitHubMessage(const WebResponse& r) {
  json body = json::parse(r.body, nullptr, false);
  std::string m = body.is_object() ? body.value("message", "") : "";
  if (m.size() > 300) m = m.substr(0, 300) + "...";
  return "HTTP " + std::to_string(r.status) + (m.empty() ? "" : " " + m);
}

}  // namespace

Result<GitHubScope> ScopeOf(const model::GitHubSpec& spec) {
  // scheme://host/path
  const std::string& url = spec.url;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return Unexpected(ErrorCode::kInvalid, "spec.github.url: not a URL: " + url);
  const auto host_end = url.find('/', scheme_end + 3);
  const std::string origin = url.substr(0, host_end);
  const std::string host = url.substr(scheme_end + 3, host_end == std::string::npos ? std::string::npos : host_end - scheme_end - 3);
  std::vector<std::string> parts;
  if (host_end != std::string::npos) {
    std::string rest = TrimSlash(url.substr(host_end + 1));
    size_t at = 0;
    while (at <= rest.size() && !rest.empty()) {
      auto slash = rest.find('/', at);
      parts.push_back(rest.substr(at, slash == std::string::npos ? std::string::npos : slash - at));
      if (slash == std::string::npos) break;
      at = slash + 1;
    }
  }
  GitHubScope s;
  if (parts.size() == 2 && parts[0] == "enterprises") {
    s.path = "enterprises/" + parts[1];
  } else if (parts.size() == 1 && !parts[0].empty()) {
    s.path = "orgs/" + parts[0];
  } else if (parts.size() == 2) {
    s.path = "repos/" + parts[0] + "/" + parts[1];
  } else {
    return Unexpected(ErrorCode::kInvalid, "spec.github.url: " + url +
                                               " names no organisation, repository or enterprise (https://github.com/ORG, "
                                               "https://github.com/ORG/REPO, https://github.com/enterprises/ENT)");
  }
  if (!spec.api_url.empty()) {
    s.api_url = TrimSlash(spec.api_url);
  } else if (host == "github.com" || host == "www.github.com") {
    s.api_url = "https://api.github.com";
  } else {
    s.api_url = origin + "/api/v3";  // GitHub Enterprise Server
  }
  return s;
}

GitHubClient::GitHubClient(model::GitHubSpec spec, GitHubScope scope, const Clock& clock, Sender send)
    : spec_(std::move(spec)), scope_(std::move(scope)), clock_(clock), send_(std::move(send)) {}

std::optional<TimePoint> GitHubClient::RateLimitedUntil() const {
  std::lock_guard lock(mu_);
  if (limited_until_ && clock_.Now() < *limited_until_) return limited_until_;
  return std::nullopt;
}

Result<WebResponse> GitHubClient::Checked(const std::string& what, Result<WebResponse> got) {
  const std::string ctx = "github " + what;
  if (!got) return Unexpected(got.error().code, ctx + ": " + got.error().message);
  const WebResponse& r = *got;
  if (r.status >= 200 && r.status <= 299) return got;
  auto header = [&](const char* name) {
    auto it = r.headers.find(name);
    return it == r.headers.end() ? std::string() : it->second;
  };
  // Rate limits: a primary one says when it resets, a secondary one how
  // long to wait; without either GitHub asks for a minute.
  const std::string retry_after = header("retry-after"), remaining = header("x-ratelimit-remaining"),
                    reset = header("x-ratelimit-reset");
  if (r.status == 429 || (r.status == 403 && (!retry_after.empty() || remaining == "0"))) {
    TimePoint until = clock_.Now() + std::chrono::minutes(1);
    if (!retry_after.empty()) {
      until = clock_.Now() + std::chrono::seconds(std::atoll(retry_after.c_str()));
    } else if (remaining == "0" && !reset.empty()) {
      until = TimePoint(std::chrono::seconds(std::atoll(reset.c_str())));
    }
    {
      std::lock_guard lock(mu_);
      limited_until_ = until;
    }
    return Unexpected(ErrorCode::kUnavailable, ctx + ": rate limited by GitHub until " + FormatTimestamp(until));
  }
  if (r.status == 401) {
    {
      std::lock_guard lock(mu_);
      token_.clear();  // an installation token revoked early: mint another next time
    }
    return Unexpected(ErrorCode::kUnauthorized, ctx + ": GitHub refused the credentials (" + GitHubMessage(r) + ")");
  }
  if (r.status >= 500) return Unexpected(ErrorCode::kUnavailable, ctx + ": " + GitHubMessage(r));
  if (r.status == 404) return Unexpected(ErrorCode::kNotFound, ctx + ": " + GitHubMessage(r));
  if (r.status == 403) return Unexpected(ErrorCode::kUnauthorized, ctx + ": " + GitHubMessage(r));
  return Unexpected(ErrorCode::kInvalid, ctx + ": " + GitHubMessage(r));
}

Result<std::string> GitHubClient::Token() {
  if (!spec_.token_file.empty()) return ReadSecretFile(spec_.token_file);
  {
    std::lock_guard lock(mu_);
    if (!token_.empty() && clock_.Now() + std::chrono::minutes(5) < token_expires_) return token_;
  }
  auto key = ReadSecretFile(spec_.private_key_file);
  if (!key) return Unexpected(key.error());
  auto jwt = AppJwt(*key, spec_.app_id, clock_.Now());
  if (!jwt) return Unexpected(jwt.error());
  auto got = Checked("installation token",
                     Call("POST", "/app/installations/" + spec_.installation_id + "/access_tokens", "", *jwt));
  if (!got) return Unexpected(got.error());
  json body = json::parse(got->body, nullptr, false);
  if (!body.is_object() || !body.contains("token") || !body["token"].is_string()) {
    return Unexpected(ErrorCode::kUnavailable, "github installation token: the answer has no token");
  }
  TimePoint expires = clock_.Now() + std::chrono::minutes(55);
  if (body.contains("expires_at") && body["expires_at"].is_string()) {
    (void)ParseTimestamp(body["expires_at"].get<std::string>(), &expires);
  }
  std::lock_guard lock(mu_);
  token_ = body["token"].get<std::string>();
  token_expires_ = expires;
  return token_;
}

Result<WebResponse> GitHubClient::Call(const std::string& method, const std::string& path, const std::string& body,
                                       const std::string& bearer) {
  if (auto until = RateLimitedUntil()) {
    return Unexpected(ErrorCode::kUnavailable, "rate limited by GitHub until " + FormatTimestamp(*until));
  }
  WebRequest req;
  req.method = method;
  req.url = scope_.api_url + path;
  req.body = body;
  req.ca_file = spec_.ca_file;
  req.timeout = std::chrono::seconds(30);
  req.headers = {"Accept: application/vnd.github+json", "X-GitHub-Api-Version: 2022-11-28"};
  if (!body.empty()) req.headers.push_back("Content-Type: application/json");
  std::string token = bearer;
  if (token.empty()) {
    auto t = Token();
    if (!t) return Unexpected(t.error());
    token = *t;
  }
  req.headers.push_back("Authorization: Bearer " + token);
  return send_(req);
}

Result<int64_t> GitHubClient::RunnerGroupId(const std::string& name) {
  if (name.empty() || name == "default" || name == "Default") {
    if (scope_.path.rfind("repos/", 0) == 0) return 1;  // repositories have no groups
  }
  if (scope_.path.rfind("repos/", 0) == 0) {
    return Unexpected(ErrorCode::kInvalid, "github: runner groups belong to organisations and enterprises; a "
                                           "repository's runners are in the default group");
  }
  for (int page = 1; page <= 50; ++page) {
    auto got = Checked("runner groups", Call("GET", "/" + scope_.path + "/actions/runner-groups?per_page=100&page=" +
                                                        std::to_string(page), ""));
    if (!got) return Unexpected(got.error());
    json body = json::parse(got->body, nullptr, false);
    const json groups = body.is_object() ? body.value("runner_groups", json::array()) : json::array();
    for (const auto& g : groups) {
      if (!g.is_object() || !g.contains("id") || !g["id"].is_number_integer()) continue;
      const bool wanted = name.empty() || name == "default" || name == "Default" ? g.value("default", false)
                                                                                   : g.value("name", "") == name;
      if (wanted) return g["id"].get<int64_t>();
    }
    if (groups.size() < 100) break;
  }
  return Unexpected(ErrorCode::kInvalid, "github: no runner group \"" + name + "\" in " + scope_.path);
}

Result<JitConfig> GitHubClient::GenerateJitConfig(const std::string& name, int64_t group_id,
                                                  const std::vector<std::string>& labels) {
  const json body = {{"name", name}, {"runner_group_id", group_id}, {"labels", labels}, {"work_folder", "_work"}};
  auto got = Checked("generate-jitconfig for " + name,
                     Call("POST", "/" + scope_.path + "/actions/runners/generate-jitconfig", body.dump()));
  if (!got) return Unexpected(got.error());
  json answer = json::parse(got->body, nullptr, false);
  JitConfig jit;
  if (answer.is_object() && answer.contains("encoded_jit_config") && answer["encoded_jit_config"].is_string() &&
      answer.contains("runner") && answer["runner"].is_object()) {
    jit.encoded = answer["encoded_jit_config"].get<std::string>();
    jit.runner_id = answer["runner"].value("id", int64_t{0});
  }
  if (jit.encoded.empty() || jit.runner_id == 0) {
    return Unexpected(ErrorCode::kUnavailable, "github generate-jitconfig for " + name + ": the answer has no configuration");
  }
  return jit;
}

Result<std::vector<GitHubRunner>> GitHubClient::ListRunners() {
  std::vector<GitHubRunner> out;
  for (int page = 1; page <= 100; ++page) {
    auto got = Checked("runners", Call("GET", "/" + scope_.path + "/actions/runners?per_page=100&page=" +
                                                  std::to_string(page), ""));
    if (!got) return Unexpected(got.error());
    json body = json::parse(got->body, nullptr, false);
    const json runners = body.is_object() ? body.value("runners", json::array()) : json::array();
    for (const auto& r : runners) {
      if (!r.is_object()) continue;
      out.push_back({r.value("id", int64_t{0}), r.value("name", ""), r.value("status", ""), r.value("busy", false)});
    }
    if (runners.size() < 100) break;
  }
  return out;
}

Result<void> GitHubClient::DeleteRunner(int64_t id) {
  auto got = Checked("delete runner " + std::to_string(id),
                     Call("DELETE", "/" + scope_.path + "/actions/runners/" + std::to_string(id), ""));
  if (!got && got.error().code == ErrorCode::kNotFound) return {};
  if (!got) return Unexpected(got.error());
  return {};
}

}  // namespace keelson::ci
