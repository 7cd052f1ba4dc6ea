#include "api/github_hooks.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include <spdlog/spdlog.h>

#include "api/hooks.h"
#include "api/status.h"
#include "manifest/decode.h"
#include "store/jobs.h"
#include "util/secret_file.h"

namespace keelson::api {
namespace {

using json = nlohmann::json;

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

struct Candidate {
  model::Object pool;
  model::GitHubSpec github;
};

// The pool's repository or organisation URL covers `repo_url`.
bool Covers(const std::string& url, const std::string& repo_url) {
  if (url.empty()) return true;
  std::string u = Lower(url), r = Lower(repo_url);
  while (!u.empty() && u.back() == '/') u.pop_back();
  return r == u || r.rfind(u + "/", 0) == 0;
}

bool HasLabels(const model::GitHubSpec& g, const std::vector<std::string>& wanted) {
  std::set<std::string> have{"self-hosted"};
  for (const auto& l : g.labels) have.insert(Lower(l));
  return std::all_of(wanted.begin(), wanted.end(), [&](const std::string& l) { return have.count(Lower(l)) > 0; });
}

std::string LabelText(const std::vector<std::string>& labels) {
  std::string out = "[";
  for (size_t i = 0; i < labels.size(); ++i) out += (i ? ", " : "") + labels[i];
  return out + "]";
}

}  // namespace

server::Response HandleGitHubHook(const server::Request& r, store::ObjectStore& store, const Clock& clock,
                                  const JobObserver& observe) {
  if (r.method != "POST") return Failure(405, "MethodNotAllowed", "webhooks are POST requests");
  const std::string signature = r.Header("x-hub-signature-256");
  if (signature.empty()) return Failure(401, "Unauthorized", "no X-Hub-Signature-256");

  // The pools whose webhook secret signed this delivery. Each secret file is
  // read once per delivery, never kept.
  auto pools = store.List({model::Kind::kRunnerPool, std::nullopt, nullptr});
  if (!pools) return Failure(503, "ServiceUnavailable", pools.error().message);
  std::map<std::string, bool> signed_with;  // secret file -> it signed
  std::vector<Candidate> verified;
  for (auto& o : *pools) {
    if (o.meta.deletion_timestamp.has_value() && !o.meta.deletion_timestamp->empty()) continue;
    auto spec = manifest::DecodeSpecAs<model::RunnerPoolSpec>(o);
    if (!spec || !spec->github || spec->github->webhook_secret_file.empty()) continue;
    const std::string& file = spec->github->webhook_secret_file;
    auto known = signed_with.find(file);
    if (known == signed_with.end()) {
      auto secret = ReadSecretFile(file);
      bool ok = false;
      if (!secret) {
        spdlog::warn("hooks: runnerpool {}/{}: {}", o.meta.namespace_, o.meta.name, secret.error().message);
      } else {
        const std::string want = "sha256=" + HmacSha256Hex(*secret, r.body);
        ok = want.size() == signature.size() && CRYPTO_memcmp(want.data(), signature.data(), want.size()) == 0;
      }
      known = signed_with.emplace(file, ok).first;
    }
    if (known->second) verified.push_back({std::move(o), *spec->github});
  }
  if (verified.empty()) {
    spdlog::warn("hooks: a GitHub delivery from {} that no pool's webhook secret signed", r.peer);
    return Failure(401, "Unauthorized", "the signature does not match any RunnerPool's webhook secret");
  }

  const std::string event = r.Header("x-github-event");
  if (event == "ping") return Json(200, {{"message", "pong"}});
  if (event != "workflow_job") return Json(200, {{"message", "ignored: a " + event + " event"}});
  json body = json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("workflow_job") ||
      !body["workflow_job"].is_object() || !body["workflow_job"].contains("id") ||
      !body["workflow_job"]["id"].is_number_integer()) {
    return Failure(400, "BadRequest", "not a workflow_job delivery: want workflow_job.id");
  }
  const std::string action = body.value("action", "");
  if (action != "queued" && action != "in_progress" && action != "completed") {
    return Json(200, {{"message", "ignored: action " + action}});
  }
  const json& job = body["workflow_job"];
  const int64_t id = job["id"].get<int64_t>();
  std::vector<std::string> labels;
  if (job.contains("labels") && job["labels"].is_array()) {
    for (const auto& l : job["labels"]) {
      if (l.is_string()) labels.push_back(l.get<std::string>());
    }
  }
  const std::string runner = job.contains("runner_name") && job["runner_name"].is_string() ? job["runner_name"].get<std::string>() : "";
  std::string repo_url;
  if (body.contains("repository") && body["repository"].is_object()) repo_url = body["repository"].value("html_url", "");

  // The pool that has the job already keeps it; else the best match.
  const Candidate* chosen = nullptr;
  store::Jobs jobs(store.db());
  for (const auto& c : verified) {
    auto of = jobs.Of(c.pool.meta.uid);
    if (of && std::any_of(of->begin(), of->end(), [&](const store::JobRecord& j) { return j.id == id; })) {
      chosen = &c;
      break;
    }
  }
  if (!chosen) {
    std::vector<const Candidate*> matching;
    for (const auto& c : verified) {
      if (Covers(c.github.url, repo_url) && HasLabels(c.github, labels)) matching.push_back(&c);
    }
    std::sort(matching.begin(), matching.end(), [](const Candidate* a, const Candidate* b) {
      if (a->github.labels.size() != b->github.labels.size()) return a->github.labels.size() < b->github.labels.size();
      return std::tie(a->pool.meta.namespace_, a->pool.meta.name) < std::tie(b->pool.meta.namespace_, b->pool.meta.name);
    });
    if (!matching.empty()) chosen = matching.front();
  }
  if (!chosen) {
    spdlog::info("hooks: GitHub job {} ({}) for labels {}: no pool matches", id, action, LabelText(labels));
    return Json(200, {{"message", "no pool matches labels " + LabelText(labels)}});
  }
  const model::Object& pool = chosen->pool;
  const std::string key = model::Key(pool);
  const TimePoint now = clock.Now();
  std::optional<store::JobRecord> before;
  if (auto of = jobs.Of(pool.meta.uid)) {
    for (auto& j : *of) {
      if (j.id == id) before = std::move(j);
    }
  }
  auto noted = jobs.Note(pool.meta.uid, key, id, action, FormatTimestamp(now), runner, LabelText(labels));
  if (!noted) return Failure(503, "ServiceUnavailable", noted.error().message);
  // Pickup latency and job duration, by the deliveries' own arrival times.
  TimePoint since;
  if (*noted && observe && before &&
      ((action == "in_progress" && before->state == "queued" && ParseTimestamp(before->queued_at, &since)) ||
       (action == "completed" && before->state == "in_progress" && ParseTimestamp(before->updated_at, &since)))) {
    observe(pool.meta.namespace_ + "/" + pool.meta.name, action,
            std::chrono::duration<double>(now - since).count());
  }
  // Keep the table to the window the planner looks at (a day past the
  // longest timeout): the rest are stale.
  auto spec = manifest::DecodeSpecAs<model::RunnerPoolSpec>(pool);
  auto window = std::chrono::hours(24);
  if (spec && spec->autoscaling) {
    window += std::chrono::duration_cast<std::chrono::hours>(
        std::max(spec->autoscaling->running_job_timeout, spec->autoscaling->queued_job_timeout));
  }
  (void)jobs.Forget(pool.meta.uid, FormatTimestamp(now - window));
  const std::string shown = "runnerpool " + pool.meta.namespace_ + "/" + pool.meta.name;
  if (!*noted) return Json(200, {{"message", "job " + std::to_string(id) + " already known to " + shown}});
  spdlog::info("hooks: GitHub job {} {} for labels {}: {}", id, action, LabelText(labels), shown);
  return Json(202, {{"message", "job " + std::to_string(id) + " " + action + ": " + shown}});
}

}  // namespace keelson::api
