// The Manager's event sources, as pure functions and as steps driven on a
// fake clock: engine event -> keys, store watch -> keys, dependents woken
// when an object's Ready flips, resync.

#include <filesystem>
#include <fstream>
#include <thread>

#include <doctest/doctest.h>

#include "controller/event_keys.h"
#include "controller/manager.h"
#include "fake_clock.h"
#include "fake_engine.h"
#include "manifest/crds.h"
#include "manifest/loader.h"

using namespace keelson;
using controller::KeysForEvent;

namespace {

docker::Labels Owned(const std::string& kind, const std::string& ns, const std::string& name) {
  return {{"dev.keelson.managed-by", "keelson"}, {"dev.keelson.kind", kind}, {"dev.keelson.namespace", ns},
          {"dev.keelson.name", name}, {"dev.keelson.uid", "u-" + name}};
}

docker::Event Ev(const std::string& type, const std::string& action, docker::Labels attributes, std::string id = "x") {
  return docker::Event{type, action, std::move(id), std::move(attributes), 0};
}

controller::LabelsOf Knows(std::map<std::string, docker::Labels> known) {
  return [known](const std::string& type, const std::string& ref) -> std::optional<docker::Labels> {
    auto it = known.find(type + "/" + ref);
    if (it == known.end()) return std::nullopt;
    return it->second;
  };
}

const char* kRunnerOnNet = R"(
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: web}
spec: {image: keelson-test/busybox:1, networks: [{name: backend}]}
)";

const char* kNet = R"(
apiVersion: keelson.dev/v1alpha1
kind: Network
metadata: {name: backend}
spec: {}
)";

struct ManagerFixture {
  testing::FakeClock clock;
  testing::FakeEngine engine;
  std::string path = (std::filesystem::temp_directory_path() /
                      ("keelson-manager-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand())) / "s.db")
                         .string();
  controller::StoreFactory factory = controller::StoreAt(path, clock);
  controller::StoreSession session = *factory();
  std::unique_ptr<controller::Manager> manager;

  ManagerFixture() {
    engine.SetClock(&clock);
    engine.AddImage("keelson-test/busybox:1");
    controller::ManagerOptions opts;
    opts.open_store = factory;
    manager = std::make_unique<controller::Manager>(engine, clock, opts);
  }
  ~ManagerFixture() { std::filesystem::remove_all(std::filesystem::path(path).parent_path()); }

  void Apply(const std::string& yaml) {
    auto loaded =
        manifest::LoadManifests({manifest::Source{"t.yaml", yaml}}, "default", manifest::CrdSet::Builtin(), {"/"});
    REQUIRE(loaded.errors.empty());
    std::vector<store::ApplyRequest> reqs;
    for (auto& lo : loaded.objects) reqs.push_back({std::move(lo.object), lo.source});
    REQUIRE(session.store->Apply(reqs, std::nullopt, false));
  }
  std::vector<std::string> Queued() {
    std::vector<std::string> keys;
    while (auto k = manager->queue().TryGet()) {
      keys.push_back(*k);
      manager->queue().Done(*k);
    }
    std::sort(keys.begin(), keys.end());
    return keys;
  }
  bool Ready(model::Kind kind, const std::string& name) {
    auto o = session.store->Get(kind, "default", name);
    return o && *o && model::IsReady(**o);
  }
};

}  // namespace

TEST_CASE("KeysForEvent: a container event names its owner by its labels") {
  auto none = Knows({});
  CHECK(KeysForEvent(Ev("container", "die", Owned("Runner", "ci", "web")), none) ==
        std::vector<std::string>{"Runner/ci/web"});
  CHECK(KeysForEvent(Ev("container", "die", {{"name", "ci.web"}}), none).empty());  // not keelson's
  CHECK(KeysForEvent(Ev("container", "exec_start: sh", Owned("Runner", "ci", "web")), none).empty());  // noise
  // Another keelson store on the same engine: its objects' events wake nothing here.
  auto theirs = Owned("Runner", "ci", "web");
  theirs["dev.keelson.store"] = "other-store";
  CHECK(KeysForEvent(Ev("container", "destroy", theirs), none, "this-store").empty());
  auto ours = theirs;
  ours["dev.keelson.store"] = "this-store";
  CHECK(KeysForEvent(Ev("container", "destroy", ours), none, "this-store") == std::vector<std::string>{"Runner/ci/web"});
  CHECK(KeysForEvent(Ev("network", "connect", {{"container", "c1"}}), Knows({{"container/c1", theirs}}), "this-store").empty());
}

TEST_CASE("KeysForEvent: network and volume events are mapped through the labels keelson knows, never the name") {
  auto known = Knows({{"network/ci.net", Owned("Network", "ci", "net")},
                      {"container/c1", Owned("RunnerPool", "ci", "pool")},
                      {"volume/ci.cache", Owned("Volume", "ci", "cache")}});
  CHECK(KeysForEvent(Ev("network", "disconnect", {{"name", "ci.net"}, {"container", "c1"}}), known) ==
        std::vector<std::string>{"RunnerPool/ci/pool", "Network/ci/net"});
  // A name that looks like keelson's but is not labelled as such: nobody's.
  CHECK(KeysForEvent(Ev("network", "destroy", {{"name", "team.net"}}), known).empty());
  CHECK(KeysForEvent(Ev("volume", "destroy", {{"name", "ci.cache"}}), known) ==
        std::vector<std::string>{"Volume/ci/cache"});
  CHECK(KeysForEvent(Ev("volume", "mount", {{"name", "ci.cache"}, {"container", "c1"}}), known).empty());
}

TEST_CASE("ChangedKeys: new, changed and gone objects, never the controller's own status write") {
  std::map<std::string, int64_t> before{{"Runner/d/a", 1}, {"Runner/d/b", 2}, {"Runner/d/c", 3}};
  std::map<std::string, int64_t> now{{"Runner/d/a", 1}, {"Runner/d/b", 5}, {"Runner/d/c", 6}, {"Runner/d/n", 7}};
  auto own = [](const std::string& k, int64_t rv) { return k == "Runner/d/c" && rv == 6; };
  auto keys = controller::ChangedKeys(before, now, own);
  CHECK(keys == std::vector<std::string>{"Runner/d/b", "Runner/d/n"});
  now.erase("Runner/d/a");
  CHECK(controller::ChangedKeys(before, now, own) == std::vector<std::string>{"Runner/d/b", "Runner/d/n", "Runner/d/a"});
}

TEST_CASE("Dependents: the Runners and RunnerPools of the same namespace") {
  std::map<std::string, int64_t> keys{{"Network/a/net", 1}, {"Runner/a/web", 1}, {"RunnerPool/a/ci", 1},
                                      {"Runner/b/web", 1}, {"Volume/a/v", 1}};
  CHECK(controller::Dependents("Network/a/net", keys) == std::vector<std::string>{"Runner/a/web", "RunnerPool/a/ci"});
}

TEST_CASE_FIXTURE(ManagerFixture, "Manager: a resync enqueues every stored object and removes this store's orphans") {
  Apply(std::string(kRunnerOnNet) + "---" + kNet);
  docker::ContainerSpec orphan;
  orphan.name = "default.gone";
  orphan.image = "keelson-test/busybox:1";
  orphan.labels = {{"dev.keelson.managed-by", "keelson"}, {"dev.keelson.uid", "no-such-uid"},
                   {"dev.keelson.store", *session.store->StoreId()}};
  REQUIRE(engine.CreateContainer(orphan));
  manager->Resync("test");
  CHECK(Queued() == std::vector<std::string>{"Network/default/backend", "Runner/default/web"});
  CHECK_FALSE(engine.InspectContainer("default.gone").has_value());
  // Events older than the TTL (1 h by default) go at a resync.
  store::EventFilter all;
  REQUIRE(session.store->Events(all)->size() == 2);  // the two Created events of the apply
  clock.Advance(std::chrono::minutes(61));
  manager->Resync("test");
  CHECK(session.store->Events(all)->empty());
}

TEST_CASE_FIXTURE(ManagerFixture, "Manager: a store change is enqueued; the controller's own status write is not") {
  manager->Resync("test");
  std::map<std::string, int64_t> known;
  manager->PollStore(*session.store, known);
  CHECK(Queued().empty());
  Apply(kNet);
  manager->PollStore(*session.store, known);
  REQUIRE(Queued() == std::vector<std::string>{"Network/default/backend"});
  manager->queue().Add("Network/default/backend");
  manager->Drain();  // creates the network and writes its status
  REQUIRE(Ready(model::Kind::kNetwork, "backend"));
  manager->PollStore(*session.store, known);
  CHECK(Queued().empty());
}

TEST_CASE_FIXTURE(ManagerFixture, "Manager: an engine event enqueues the owner; a Ready flip wakes the objects waiting") {
  Apply(kRunnerOnNet);
  manager->Resync("test");
  manager->Drain();
  CHECK_FALSE(Ready(model::Kind::kRunner, "web"));  // WaitingForNetwork
  Apply(kNet);
  manager->queue().Add("Network/default/backend");
  // One drain: the network becomes Ready, which wakes the runner (no resync, no store watch).
  manager->Drain();
  CHECK(Ready(model::Kind::kNetwork, "backend"));
  CHECK(Ready(model::Kind::kRunner, "web"));

  // docker stop: the engine's "stop" event marks it as stopped by request, a start clears that.
  auto web = engine.InspectContainer("default.web");
  REQUIRE(engine.StopContainer("default.web", 0));
  manager->OnEngineEvent(Ev("container", "stop", web->config.labels, web->id));
  CHECK(Queued() == std::vector<std::string>{"Runner/default/web"});
  manager->queue().Add("Runner/default/web");
  manager->Drain();
  clock.Advance(std::chrono::minutes(1));  // the restart's backoff
  manager->Drain();
  CHECK(engine.InspectContainer("default.web")->state.running);
  CHECK(session.store->Get(model::Kind::kRunner, "default", "web")->value().status["restarts"] == 0);

  // The container removed outside keelson: the event names its owner.
  auto before = engine.InspectContainer("default.web");
  REQUIRE(before);
  REQUIRE(engine.RemoveContainer("default.web", true));
  manager->OnEngineEvent(Ev("container", "destroy", before->config.labels, before->id));
  CHECK(Queued() == std::vector<std::string>{"Runner/default/web"});
}

TEST_CASE_FIXTURE(ManagerFixture, "Manager: the events of the controller's own actions cost no inspect; anyone else's do") {
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: web}
spec: {image: keelson-test/busybox:1}
)");
  manager->Resync("test");
  manager->Drain();  // create + start, then the worker's own inspect
  auto web = engine.InspectContainer("default.web");
  REQUIRE(web);
  REQUIRE(web->state.running);
  auto attrs = web->config.labels;
  attrs["name"] = "default.web";
  engine.ResetCalls();
  // The engine's create and start events arrive after the worker looked.
  manager->OnEngineEvent(Ev("container", "create", attrs, web->id));
  manager->OnEngineEvent(Ev("container", "start", attrs, web->id));
  CHECK(engine.Calls()["InspectContainer"] == 0);
  CHECK(Queued() == std::vector<std::string>{"Runner/default/web"});  // still looked at again

  // Expected once: a later start (docker restart) is someone else's, and inspected.
  manager->OnEngineEvent(Ev("container", "start", attrs, web->id));
  CHECK(engine.Calls()["InspectContainer"] == 1);
  // So is a stop the controller did not make; it is drift.
  REQUIRE(engine.StopContainer("default.web", 0));
  manager->OnEngineEvent(Ev("container", "kill", attrs, web->id));
  manager->OnEngineEvent(Ev("container", "stop", attrs, web->id));
  CHECK(engine.Calls()["InspectContainer"] == 3);
  (void)Queued();

  // The controller's own stop of a container it then removes: every kill,
  // die and stop event of it is taken without an inspect.
  REQUIRE(session.store->Delete(model::Kind::kRunner, "default", "web", false));
  manager->queue().Add("Runner/default/web");
  engine.ResetCalls();
  manager->Drain();
  REQUIRE_FALSE(engine.InspectContainer("default.web"));
  engine.ResetCalls();
  for (const char* action : {"kill", "kill", "die", "stop"}) manager->OnEngineEvent(Ev("container", action, attrs, web->id));
  CHECK(engine.Calls()["InspectContainer"] == 0);
}

TEST_CASE_FIXTURE(ManagerFixture, "Manager: a periodic resync leaves a converged object alone until it, its containers or the shared engine objects change") {
  const std::string env_file = (std::filesystem::path(path).parent_path() / "token").string();
  { std::ofstream(env_file) << "one"; }
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: web}
spec: {image: keelson-test/busybox:1}
---
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: reads-a-file}
spec:
  image: keelson-test/busybox:1
  env: [{name: TOKEN, valueFrom: {file: )" + env_file + R"(}}]
)");
  manager->Resync("start", true);
  manager->Drain();  // created and started
  auto periodic = [&] {
    manager->Resync("periodic");
    return Queued();
  };
  // The pass after acting saw its own action: looked at once more.
  CHECK(periodic() == std::vector<std::string>{"Runner/default/reads-a-file", "Runner/default/web"});
  manager->Resync("periodic");
  manager->Drain();
  // Converged and unchanged: left alone. One that reads a file never is
  // (the file may change without an event).
  CHECK(periodic() == std::vector<std::string>{"Runner/default/reads-a-file"});
  CHECK(manager->metrics().Render().find("keelson_last_resync_objects{result=\"unchanged\"} 1") != std::string::npos);

  // Stopped behind keelson's back, the event lost: the listing shows it.
  REQUIRE(engine.StopContainer("default.web", 0));
  CHECK(periodic() == std::vector<std::string>{"Runner/default/reads-a-file", "Runner/default/web"});
  manager->queue().Add("Runner/default/web");
  manager->Drain();
  clock.Advance(std::chrono::minutes(1));  // the restart's backoff
  manager->Drain();
  CHECK(engine.InspectContainer("default.web")->state.running);
  manager->Resync("periodic");
  manager->Drain();
  CHECK(periodic() == std::vector<std::string>{"Runner/default/reads-a-file"});

  // Removed behind keelson's back, the event lost.
  REQUIRE(engine.RemoveContainer("default.web", true));
  CHECK(periodic() == std::vector<std::string>{"Runner/default/reads-a-file", "Runner/default/web"});
  manager->queue().Add("Runner/default/web");
  manager->Drain();
  manager->Resync("periodic");
  manager->Drain();
  CHECK(periodic() == std::vector<std::string>{"Runner/default/reads-a-file"});

  // An image event (a pull, a tag, a removal) may change what any object
  // resolves to: every object is looked at again.
  manager->OnEngineEvent(Ev("image", "tag", {}, "sha256:x"));
  (void)Queued();
  CHECK(periodic() == std::vector<std::string>{"Runner/default/reads-a-file", "Runner/default/web"});

  // A change of the object itself (the store watch missed it).
  manager->Drain();
  manager->Resync("periodic");
  manager->Drain();
  REQUIRE(periodic() == std::vector<std::string>{"Runner/default/reads-a-file"});
  auto web = session.store->Get(model::Kind::kRunner, "default", "web");
  nlohmann::json spec = (*web)->spec;
  spec["command"] = {"sleep", "60"};
  REQUIRE(session.store->UpdateSpec(**web, spec, "test"));
  CHECK(periodic() == std::vector<std::string>{"Runner/default/reads-a-file", "Runner/default/web"});

  // A fresh start (the engine back after a break) looks at everything.
  manager->queue().Add("Runner/default/web");
  manager->Drain();  // recreated for the new command
  manager->Resync("periodic");
  manager->Drain();
  REQUIRE(periodic() == std::vector<std::string>{"Runner/default/reads-a-file"});
  manager->Resync("reconnected", true);
  CHECK(Queued() == std::vector<std::string>{"Runner/default/reads-a-file", "Runner/default/web"});
}

TEST_CASE_FIXTURE(ManagerFixture, "Manager: engine events and periodic resyncs never cut a failure's backoff short") {
  Apply(kNet);
  manager->Resync("test", true);
  engine.SetDown(true);  // the network cannot be created: the key backs off
  manager->Drain();
  REQUIRE(manager->queue().Failures("Network/default/backend") == 1);
  engine.SetDown(false);
  // An event that names the object (as a container event names its owner).
  manager->OnEngineEvent(Ev("container", "die", Owned("Network", "default", "backend")));
  CHECK(manager->Drain() == 0);  // still waiting out its backoff
  manager->Resync("periodic");
  CHECK(manager->Drain() == 0);
  clock.Advance(std::chrono::seconds(1));
  CHECK(manager->Drain() == 1);
  CHECK(Ready(model::Kind::kNetwork, "backend"));
}

TEST_CASE_FIXTURE(ManagerFixture, "Manager::Run: the lease is renewed, and the fence kept up, through a first resync longer than its term") {
  const std::string store_id = *session.store->StoreId();
  for (int i = 0; i < 20; ++i) {
    docker::ContainerSpec orphan;
    orphan.name = "default.gone" + std::to_string(i);
    orphan.image = "keelson-test/busybox:1";
    orphan.labels = {{"dev.keelson.managed-by", "keelson"}, {"dev.keelson.uid", "gone-" + std::to_string(i)},
                     {"dev.keelson.store", store_id}};
    REQUIRE(engine.CreateContainer(orphan));
  }
  // Each engine call takes 40 ms: the orphan sweep of the first resync
  // (a list, then 20 removes one by one) outlasts a 300 ms lease many times.
  engine.SetLatency(std::chrono::milliseconds(40));
  controller::ManagerOptions opts;
  opts.open_store = factory;
  opts.lease_ttl = std::chrono::milliseconds(300);
  opts.lease_renew = std::chrono::milliseconds(50);
  controller::Manager m(engine, clock, opts);
  Result<void> ran;
  std::thread run([&] { ran = m.Run(); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  auto left = [&] { return engine.ListContainers({{}, true})->size(); };
  while (left() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  m.Stop();
  run.join();
  CHECK(ran.has_value());
  CHECK(left() == 0);  // a fence that fell during the sweep would have stopped it at the first refusal
}

TEST_CASE_FIXTURE(ManagerFixture, "Manager::Run: a nudge (a write through the API) makes the store watcher look at once") {
  controller::ManagerOptions opts;
  opts.open_store = factory;
  opts.store_poll = std::chrono::hours(1);  // without the nudge, the write would wait an hour
  opts.resync = std::chrono::hours(1);
  controller::Manager m(engine, clock, opts);
  Result<void> ran;
  std::thread run([&] { ran = m.Run(); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!m.Ready() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(m.Ready());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the watcher has read the store's versions
  Apply(kNet);
  auto made = [&] { return !engine.ListNetworks({})->empty(); };
  while (!made() && std::chrono::steady_clock::now() < deadline) {
    m.NudgeStoreWatcher();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  m.Stop();
  run.join();
  CHECK(ran.has_value());
  CHECK(made());
}

TEST_CASE_FIXTURE(ManagerFixture, "Manager: busy probes keep busy replicas through a scale-down; a probe that fails keeps the last answer") {
  const std::string key = "RunnerPool/default/ci";
  auto pool = [&](int min_idle) {
    Apply("apiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\nmetadata: {name: ci}\nspec:\n"
          "  autoscaling: {maxReplicas: 5, minIdle: " + std::to_string(min_idle) + ", scaleDownDelay: 0s}\n"
          "  template:\n    image: keelson-test/busybox:1\n"
          "    busyProbe: {exec: {command: [test, -f, /tmp/job]}, periodSeconds: 5}\n");
  };
  pool(3);
  manager->Resync("test");
  manager->Drain();
  auto replicas = engine.ListContainers({{}, true});
  REQUIRE(replicas->size() == 3);
  std::set<std::string> busy = {(*replicas)[0].name, (*replicas)[1].name};
  int probes = 0;
  std::optional<Error> fault;
  engine.SetExecHandler([&](const std::string& name, const docker::ExecRequest& req) -> Result<int> {
    CHECK(req.cmd == std::vector<std::string>{"test", "-f", "/tmp/job"});
    CHECK(req.timeout == std::chrono::seconds(1));
    ++probes;
    if (fault) return Unexpected(*fault);
    return busy.count(name) ? 0 : 1;
  });
  controller::BusyProber prober(engine, clock, manager->busy());
  manager->ProbeBusy(*session.store, prober);
  CHECK(probes == 3);
  CHECK(Queued() == std::vector<std::string>{key});
  manager->ProbeBusy(*session.store, prober);
  CHECK(probes == 3);  // not due before periodSeconds

  // minIdle 0: only the idle replica goes.
  pool(0);
  manager->queue().Add(key);
  manager->Drain();
  replicas = engine.ListContainers({{}, true});
  std::set<std::string> left;
  for (const auto& c : *replicas) left.insert(c.name);
  CHECK(left == busy);
  auto o = session.store->Get(model::Kind::kRunnerPool, "default", "ci");
  CHECK((**o).status["autoscaling"]["busy"] == 2);
  CHECK((**o).status["desiredReplicas"] == 2);

  // The engine cannot run the probe: the replicas stay busy.
  fault = Error{ErrorCode::kTimeout, "exec: the command ran past 1000ms"};
  clock.Advance(std::chrono::seconds(5));
  manager->ProbeBusy(*session.store, prober);
  CHECK(probes == 5);
  CHECK(Queued().empty());
  CHECK(manager->busy().BusyOf((**o).meta.uid) == busy);

  // The jobs end: the probes say idle, the pool wakes and scales to zero.
  fault.reset();
  busy.clear();
  clock.Advance(std::chrono::seconds(5));
  manager->ProbeBusy(*session.store, prober);
  CHECK(Queued() == std::vector<std::string>{key});
  manager->queue().Add(key);
  manager->Drain();
  CHECK(engine.ListContainers({{}, true})->empty());
}

TEST_CASE_FIXTURE(ManagerFixture, "Manager: a polled queue depth scales the pool; a failed poll keeps it and is said once") {
  const std::string key = "RunnerPool/default/ci";
  Result<int64_t> depth = 4;
  std::string asked;
  manager->SetQueuePoll([&](const model::QueueSpec& q) {
    asked = q.url + " " + q.json_path + " " + q.bearer_token_file;
    return depth;
  });
  Apply("apiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\nmetadata: {name: ci}\nspec:\n"
        "  autoscaling:\n    maxReplicas: 10\n    minIdle: 1\n    scaleDownDelay: 0s\n"
        "    queue: {url: 'http://127.0.0.1:9/queue', jsonPath: '{.pending}', bearerTokenFile: /run/token}\n"
        "  template:\n    image: keelson-test/busybox:1\n");
  manager->Resync("test");
  Queued();
  manager->PollQueues(*session.store);
  CHECK(asked == "http://127.0.0.1:9/queue {.pending} /run/token");
  REQUIRE(Queued() == std::vector<std::string>{key});
  manager->queue().Add(key);
  manager->Drain();
  CHECK(engine.ListContainers({{}, true})->size() == 5);  // minIdle 1 + depth 4
  auto o = session.store->Get(model::Kind::kRunnerPool, "default", "ci");
  CHECK((**o).status["autoscaling"]["queueDepth"] == 4);
  CHECK((**o).status["autoscaling"]["cause"] == "queue depth 4, 0 running, minIdle 1");

  depth = Unexpected(ErrorCode::kUnavailable, "queue http://127.0.0.1:9/queue: Couldn't connect to server");
  clock.Advance(std::chrono::seconds(15));
  manager->PollQueues(*session.store);
  REQUIRE(Queued() == std::vector<std::string>{key});
  for (int i = 0; i < 2; ++i) {
    manager->queue().Add(key);
    manager->Drain();
  }
  CHECK(engine.ListContainers({{}, true})->size() == 5);  // the last depth stands
  o = session.store->Get(model::Kind::kRunnerPool, "default", "ci");
  CHECK((**o).status["autoscaling"]["queueError"] == "queue http://127.0.0.1:9/queue: Couldn't connect to server");
  store::EventFilter all;
  int warnings = 0;
  for (const auto& e : *session.store->Events(all)) warnings += e.reason == "QueuePollFailed";
  CHECK(warnings == 1);

  depth = 0;
  clock.Advance(std::chrono::seconds(15));
  manager->PollQueues(*session.store);
  manager->queue().Add(key);
  manager->Drain();
  CHECK(engine.ListContainers({{}, true})->size() == 1);  // minIdle
  o = session.store->Get(model::Kind::kRunnerPool, "default", "ci");
  CHECK_FALSE((**o).status["autoscaling"].contains("queueError"));
}
