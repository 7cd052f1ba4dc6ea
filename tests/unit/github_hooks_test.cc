// GitHub workflow_job webhooks for autoscaled pools (api/github_hooks.h):
// signatures, matching by repository and labels, out-of-order deliveries,
// against a real SQLite store. Payloads in the shape GitHub documents.

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "api/github_hooks.h"
#include "api/hooks.h"
#include "fake_clock.h"
#include "store/jobs.h"
#include "store/object_store.h"

namespace keelson::api {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct Fixture {
  testing::FakeClock clock;
  std::unique_ptr<store::Db> db = *store::Db::Open(":memory:");
  store::ObjectStore store{*db, clock};
  fs::path dir = fs::temp_directory_path() / ("keelson-gh-hooks-" + std::to_string(::getpid()));
  Fixture() {
    fs::create_directories(dir);
    std::ofstream(dir / "org") << "org-secret\n";
    std::ofstream(dir / "other") << "other-secret\n";
    std::vector<store::ApplyRequest> reqs;
    auto pool = [&](const std::string& ns, const std::string& name, json github) {
      model::Object o;
      o.kind = model::Kind::kRunnerPool;
      o.meta.namespace_ = ns;
      o.meta.name = name;
      o.spec = {{"template", {{"image", "x:1"}}}, {"autoscaling", {{"maxReplicas", 10}}}, {"github", github}};
      reqs.push_back({o, "t.yaml"});
    };
    pool("default", "linux", {{"url", "https://github.com/octo-org"}, {"labels", {"linux", "x64"}},
                              {"webhookSecretFile", (dir / "org").string()}});
    pool("default", "gpu", {{"url", "https://github.com/octo-org"}, {"labels", {"linux", "x64", "gpu"}},
                            {"webhookSecretFile", (dir / "org").string()}});
    pool("other", "any", {{"labels", {"linux"}}, {"webhookSecretFile", (dir / "other").string()}});
    REQUIRE(store.Apply(reqs, std::nullopt, false).has_value());
  }
  ~Fixture() { fs::remove_all(dir); }

  JobObserver observe;
  server::Response Deliver(const std::string& action, int64_t id, json labels, const std::string& secret = "org-secret",
                           const std::string& repo = "https://github.com/octo-org/example-workflow",
                           const std::string& runner = "") {
    json body = {{"action", action},
                 {"workflow_job",
                  {{"id", id}, {"run_id", 940463255}, {"labels", labels},
                   {"runner_name", runner.empty() ? json() : json(runner)}, {"status", action}}},
                 {"repository", {{"full_name", "octo-org/example-workflow"}, {"html_url", repo}}}};
    server::Request r;
    r.method = "POST";
    r.path = kGitHubHookPath;
    r.body = body.dump();
    r.headers = {{"x-github-event", "workflow_job"},
                 {"x-hub-signature-256", "sha256=" + HmacSha256Hex(secret, r.body)}};
    r.peer = "127.0.0.1";
    return HandleGitHubHook(r, store, clock, observe);
  }
  std::vector<store::JobRecord> Jobs(const std::string& ns, const std::string& name) {
    auto o = store.Get(model::Kind::kRunnerPool, ns, name);
    return *store::Jobs(*db).Of((*o)->meta.uid);
  }
};

TEST_CASE_FIXTURE(Fixture, "github hooks: a job goes to the pool with every label it asks for, the fewest labels first") {
  auto r = Deliver("queued", 2832853555, {"self-hosted", "Linux", "X64"});
  CHECK(r.status == 202);
  CHECK(r.body.find("runnerpool default/linux") != std::string::npos);
  REQUIRE(Jobs("default", "linux").size() == 1);
  CHECK(Jobs("default", "linux")[0].labels == "[self-hosted, Linux, X64]");
  CHECK(Deliver("queued", 2, {"self-hosted", "gpu"}).status == 202);
  CHECK(Jobs("default", "gpu").size() == 1);
  // No pool has "arm64": taken by none, said so, not an error GitHub would retry.
  auto none = Deliver("queued", 3, {"self-hosted", "arm64"});
  CHECK(none.status == 200);
  CHECK(none.body.find("no pool matches labels [self-hosted, arm64]") != std::string::npos);
  // Another organisation's repository is not the pools' (url), though the labels fit.
  auto foreign = Deliver("queued", 4, {"linux"}, "org-secret", "https://github.com/someone-else/repo");
  CHECK(foreign.status == 200);
  CHECK(Jobs("default", "linux").size() == 1);
  // A pool without url takes any repository's jobs signed with its own secret.
  CHECK(Deliver("queued", 5, {"linux"}, "other-secret", "https://github.com/someone-else/repo").status == 202);
  CHECK(Jobs("other", "any").size() == 1);
}

TEST_CASE_FIXTURE(Fixture, "github hooks: a forged or unsigned delivery is 401 and changes nothing") {
  CHECK(Deliver("queued", 1, {"linux"}, "wrong-secret").status == 401);
  server::Request r;
  r.method = "POST";
  r.path = kGitHubHookPath;
  r.body = R"({"action":"queued","workflow_job":{"id":1,"labels":["linux"]}})";
  r.headers = {{"x-github-event", "workflow_job"}};
  CHECK(HandleGitHubHook(r, store, clock).status == 401);
  CHECK(Jobs("default", "linux").empty());
  CHECK(Jobs("other", "any").empty());
  auto resp = Deliver("queued", 1, {"linux"}, "wrong-secret");
  CHECK(resp.body.find("org-secret") == std::string::npos);
}

TEST_CASE_FIXTURE(Fixture, "github hooks: a job's states move forward whatever order they arrive in, and stay with its pool") {
  CHECK(Deliver("queued", 9, {"linux", "x64"}).status == 202);
  clock.Advance(std::chrono::seconds(3));
  CHECK(Deliver("in_progress", 9, {"linux", "x64"}, "org-secret", "https://github.com/octo-org/example-workflow",
                "default.linux.ab12c")
            .status == 202);
  auto jobs = Jobs("default", "linux");
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0].state == "in_progress");
  CHECK(jobs[0].runner == "default.linux.ab12c");
  // A repeated queued (a redelivery) is no news.
  CHECK(Deliver("queued", 9, {"linux", "x64"}).status == 200);
  CHECK(Jobs("default", "linux")[0].state == "in_progress");
  CHECK(Deliver("completed", 9, {"linux", "x64"}).status == 202);
  CHECK(Jobs("default", "linux")[0].state == "completed");
  CHECK(Jobs("default", "linux")[0].runner == "default.linux.ab12c");  // kept when completed says none
  // A completed that comes first: the job is recorded completed, and its
  // late queued changes nothing.
  CHECK(Deliver("completed", 10, {"linux"}).status == 202);
  CHECK(Deliver("queued", 10, {"linux"}).status == 200);
  for (const auto& j : Jobs("default", "linux")) CHECK(j.state == "completed");
}

TEST_CASE_FIXTURE(Fixture, "github hooks: each job's pickup latency and duration are heard once, by pool") {
  std::vector<std::string> heard;
  observe = [&](const std::string& pool, const std::string& state, double seconds) {
    heard.push_back(pool + " " + state + " " + std::to_string(static_cast<int>(seconds)));
  };
  REQUIRE(Deliver("queued", 1, {"linux"}).status == 202);
  clock.Advance(std::chrono::seconds(3));
  REQUIRE(Deliver("in_progress", 1, {"linux"}, "org-secret", "https://github.com/octo-org/example-workflow",
                  "default.linux.x").status == 202);
  clock.Advance(std::chrono::seconds(40));
  REQUIRE(Deliver("completed", 1, {"linux"}).status == 202);
  REQUIRE(Deliver("completed", 1, {"linux"}).status == 200);  // a redelivery: not counted again
  // A job first heard of as running has no pickup to tell.
  REQUIRE(Deliver("in_progress", 2, {"linux"}).status == 202);
  CHECK(heard == std::vector<std::string>{"default/linux in_progress 3", "default/linux completed 40"});
}

TEST_CASE_FIXTURE(Fixture, "github hooks: ping, other events and other actions change nothing") {
  server::Request r;
  r.method = "POST";
  r.path = kGitHubHookPath;
  r.body = R"({"zen":"Keep it logically awesome.","hook_id":1})";
  r.headers = {{"x-github-event", "ping"}, {"x-hub-signature-256", "sha256=" + HmacSha256Hex("org-secret", r.body)}};
  CHECK(HandleGitHubHook(r, store, clock).status == 200);
  r.headers["x-github-event"] = "push";
  CHECK(HandleGitHubHook(r, store, clock).status == 200);
  CHECK(Deliver("waiting", 1, {"linux"}).status == 200);
  r.headers["x-github-event"] = "workflow_job";
  CHECK(HandleGitHubHook(r, store, clock).status == 400);
  CHECK(Jobs("default", "linux").empty());
  r.method = "GET";
  CHECK(HandleGitHubHook(r, store, clock).status == 405);
}

}  // namespace
}  // namespace keelson::api
