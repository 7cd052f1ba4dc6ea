// The GitHub runner lifecycle of an autoscaled pool (controller/
// github_runners.h, the executor and the Manager's runner watcher) against
// an in-memory GitHub that answers as its REST API documents: each replica
// registered just in time, busy flags kept, registrations deleted with their
// replicas and swept when left behind, replicas that never come online
// replaced, and nothing touched while GitHub cannot be read.

#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "controller/manager.h"
#include "fake_clock.h"
#include "fake_engine.h"
#include "manifest/crds.h"
#include "manifest/loader.h"

using namespace keelson;
using nlohmann::json;

namespace {

/// GitHub's runner endpoints for one organisation, in memory.
struct FakeGitHub {
  struct Runner {
    int64_t id;
    std::string name, status = "offline";
    bool busy = false;
  };
  std::map<int64_t, Runner> runners;
  int64_t next_id = 100;
  std::vector<std::string> calls;  ///< "METHOD path"
  bool down = false;

  Result<ci::WebResponse> operator()(const ci::WebRequest& r) {
    if (down) return Unexpected(ErrorCode::kUnavailable, r.method + " " + r.url + ": Couldn't connect to server");
    const std::string path = r.url.substr(std::string("https://api.github.com").size());
    calls.push_back(r.method + " " + path.substr(0, path.find('?')));
    CHECK(r.headers.back() == "Authorization: Bearer ghp_fleet");
    if (path.starts_with("/orgs/octo-org/actions/runner-groups")) {
      return Ok(200, {{"total_count", 2}, {"runner_groups", {{{"id", 1}, {"name", "Default"}, {"default", true}},
                                                             {{"id", 4}, {"name", "linux"}, {"default", false}}}}});
    }
    if (r.method == "POST" && path == "/orgs/octo-org/actions/runners/generate-jitconfig") {
      json body = json::parse(r.body);
      Runner run{next_id++, body["name"], "offline", false};
      runners[run.id] = run;
      CHECK(body["runner_group_id"] == 4);
      CHECK(body["labels"] == json{"self-hosted", "linux"});
      return Ok(201, {{"runner", {{"id", run.id}, {"name", run.name}, {"status", "offline"}, {"busy", false}}},
                      {"encoded_jit_config", "jit-secret-" + std::to_string(run.id)}});
    }
    if (r.method == "GET" && path.starts_with("/orgs/octo-org/actions/runners?")) {
      json list = json::array();
      for (const auto& [id, run] : runners) {
        list.push_back({{"id", id}, {"name", run.name}, {"os", "linux"}, {"status", run.status}, {"busy", run.busy}});
      }
      return Ok(200, {{"total_count", list.size()}, {"runners", list}});
    }
    if (r.method == "DELETE" && path.starts_with("/orgs/octo-org/actions/runners/")) {
      const int64_t id = std::atoll(path.substr(path.rfind('/') + 1).c_str());
      if (!runners.erase(id)) return Ok(404, {{"message", "Not Found"}});
      return ci::WebResponse{204, {}, ""};
    }
    return Ok(404, {{"message", "Not Found"}});
  }
  static Result<ci::WebResponse> Ok(long status, json body) { return ci::WebResponse{status, {}, body.dump()}; }
  Runner* Named(const std::string& name) {
    for (auto& [id, r] : runners) {
      if (r.name == name) return &r;
    }
    return nullptr;
  }
};

struct Fixture {
  testing::FakeClock clock;
  testing::FakeEngine engine;
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("keelson-ghr-" + std::to_string(std::rand()));
  FakeGitHub github;
  std::unique_ptr<controller::Manager> manager;
  controller::StoreSession session;
  const std::string key = "RunnerPool/default/ci";

  Fixture() {
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "token") << "ghp_fleet\n";
    std::ofstream(dir / "hook") << "hook-secret\n";
    engine.SetClock(&clock);
    engine.AddImage("keelson-test/busybox:1");
    controller::ManagerOptions opts;
    opts.open_store = controller::StoreAt((dir / "s.db").string(), clock);
    opts.github_send = [this](const ci::WebRequest& r) { return github(r); };
    session = *opts.open_store();
    manager = std::make_unique<controller::Manager>(engine, clock, opts);
  }
  ~Fixture() { std::filesystem::remove_all(dir); }

  void Pool(int min_idle) {
    const std::string yaml =
        "apiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\nmetadata: {name: ci}\nspec:\n"
        "  autoscaling: {maxReplicas: 5, minIdle: " + std::to_string(min_idle) + ", scaleDownDelay: 0s}\n"
        "  github: {url: https://github.com/octo-org, labels: [linux], webhookSecretFile: " + (dir / "hook").string() +
        ", tokenFile: " + (dir / "token").string() + ", runnerGroup: linux}\n"
        "  template: {image: keelson-test/busybox:1}\n";
    auto loaded = manifest::LoadManifests({manifest::Source{"t.yaml", yaml}}, "default", manifest::CrdSet::Builtin(), {"/"});
    REQUIRE(loaded.errors.empty());
    std::vector<store::ApplyRequest> reqs;
    for (auto& lo : loaded.objects) reqs.push_back({std::move(lo.object), lo.source});
    REQUIRE(session.store->Apply(reqs, std::nullopt, false));
  }
  void Pass() {
    manager->queue().Add(key);
    manager->Drain();
  }
  std::vector<docker::Container> Replicas() {
    std::vector<docker::Container> out;
    for (const auto& s : *engine.ListContainers({{}, true})) out.push_back(*engine.InspectContainer(s.id));
    return out;
  }
  bool Queued() {
    bool found = false;
    while (auto k = manager->queue().TryGet()) {
      found |= *k == key;
      manager->queue().Done(*k);
    }
    return found;
  }
  std::string Everything() {
    std::string out;
    for (const auto& e : *session.store->Events(store::EventFilter{})) out += e.reason + " " + e.message + "\n";
    auto o = session.store->Get(model::Kind::kRunnerPool, "default", "ci");
    if (o && *o) out += (*o)->spec.dump() + (*o)->status.dump() + (*o)->controller_state.dump();
    return out;
  }
};

std::string Env(const docker::Container& c, const std::string& name) {
  for (const auto& e : c.config.env) {
    if (e.rfind(name + "=", 0) == 0) return e.substr(name.size() + 1);
  }
  return "";
}

}  // namespace

TEST_CASE_FIXTURE(Fixture, "GitHub runners: each replica gets its own JIT configuration, in its environment only") {
  Pool(2);
  manager->Resync("test");
  Pass();
  auto replicas = Replicas();
  REQUIRE(replicas.size() == 2);
  for (const auto& c : replicas) {
    const std::string id = c.config.labels.at("dev.keelson.github-runner-id");
    CHECK(Env(c, "ACTIONS_RUNNER_INPUT_JITCONFIG") == "jit-secret-" + id);
    CHECK(github.runners.at(std::atoll(id.c_str())).name == c.name);
  }
  CHECK(github.runners.size() == 2);
  // The group was looked up once.
  CHECK(std::count(github.calls.begin(), github.calls.end(), "GET /orgs/octo-org/actions/runner-groups") == 1);
  CHECK(Everything().find("jit-secret") == std::string::npos);
  CHECK(Everything().find("ghp_fleet") == std::string::npos);
}

TEST_CASE_FIXTURE(Fixture, "GitHub runners: busy flags keep replicas; removed replicas are deregistered; leftovers swept") {
  Pool(3);
  manager->Resync("test");
  Pass();
  auto replicas = Replicas();
  REQUIRE(replicas.size() == 3);
  for (auto& [id, r] : github.runners) r.status = "online";
  FakeGitHub::Runner* busy = github.Named(replicas[0].name);
  busy->busy = true;
  manager->SyncGitHubRunners(*session.store);
  CHECK(Queued());
  Pool(0);
  Pass();
  auto left = Replicas();
  REQUIRE(left.size() == 1);
  CHECK(left[0].name == busy->name);
  CHECK(github.runners.size() == 1);  // the two removed replicas' registrations went with them
  // A registration no replica has (a controller that died between register
  // and create): swept once offline.
  github.runners[900] = {900, "default.ci.zzzzz", "offline", false};
  github.runners[901] = {901, "someone-elses-runner", "offline", false};
  manager->SyncGitHubRunners(*session.store);
  CHECK_FALSE(github.runners.count(900));
  CHECK(github.runners.count(901));  // not this pool's
  CHECK(Everything().find("Deleted the offline registration of runner default.ci.zzzzz (id 900): no replica has it") !=
        std::string::npos);
}

TEST_CASE_FIXTURE(Fixture, "GitHub runners: a replica whose runner never comes online is replaced; never on GitHub's silence") {
  Pool(1);
  manager->Resync("test");
  Pass();
  auto first = Replicas();
  REQUIRE(first.size() == 1);
  manager->SyncGitHubRunners(*session.store);
  CHECK_FALSE(Queued());  // offline, but within the 10m timeout
  // GitHub away: past the timeout, nothing is replaced.
  github.down = true;
  clock.Advance(std::chrono::minutes(11));
  manager->SyncGitHubRunners(*session.store);
  CHECK_FALSE(Queued());
  Pass();
  CHECK(Replicas()[0].name == first[0].name);
  // GitHub back, the runner still offline: replaced, with a warning.
  github.down = false;
  manager->SyncGitHubRunners(*session.store);
  CHECK(Queued());
  Pass();
  Pass();
  auto now = Replicas();
  REQUIRE(now.size() == 1);
  CHECK(now[0].name != first[0].name);
  CHECK(Everything().find("RegistrationTimeout Removed replica " + first[0].name) != std::string::npos);
  CHECK(github.runners.size() == 1);  // the old registration went with its replica
}
