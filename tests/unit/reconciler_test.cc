// Reconcilers on FakeEngine and a real SQLite: the state of the world after
// each pass, not the calls made to get there.

#include <filesystem>
#include <fstream>
#include <thread>

#include <doctest/doctest.h>

#include "controller/container_metrics.h"
#include "controller_fixture.h"
#include "reconcile/labels.h"

using namespace keelson;
using keelson::testing::ControllerFixture;

namespace {

const char* kWeb = R"(
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: web}
spec:
  image: keelson-test/busybox:1
  command: [httpd, -f]
  env: [{name: LOG_LEVEL, value: info}]
)";

const char* kNet = R"(
apiVersion: keelson.dev/v1alpha1
kind: Network
metadata: {name: backend}
spec: {internal: true}
)";

const char* kVol = R"(
apiVersion: keelson.dev/v1alpha1
kind: Volume
metadata: {name: cache}
spec: {}
)";

std::string WithEnv(const std::string& value) {
  std::string s = kWeb;
  return s.replace(s.find("value: info"), 11, "value: " + value);
}

bool HasEvent(store::ObjectStore& store, const std::string& reason, const std::string& text) {
  auto events = store.Events({});
  for (const auto& e : *events) {
    if (e.reason == reason && e.message.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE_FIXTURE(ControllerFixture, "RunnerReconciler: creates and starts the container with keelson's name and labels") {
  Apply(kWeb);
  auto out = Converge("Runner/default/web");
  CHECK_FALSE(out.error);
  auto c = *engine.InspectContainer("default.web");
  CHECK(c.state.running);
  CHECK(c.config.labels.at("dev.keelson.managed-by") == "keelson");
  CHECK(c.config.labels.at("dev.keelson.kind") == "Runner");
  CHECK(c.config.labels.at("dev.keelson.uid") == Get("Runner/default/web").meta.uid);
  CHECK(c.config.labels.count("dev.keelson.spec-hash") == 1);
  CHECK(Ready("Runner/default/web"));
  CHECK(Get("Runner/default/web").status["containerID"] == c.id);
  CHECK(HasEvent(store, "Created", "container default.web"));
}

TEST_CASE_FIXTURE(ControllerFixture, "RunnerReconciler: a second pass over a converged runner makes no engine calls") {
  Apply(kWeb);
  Converge("Runner/default/web");
  auto rv = Get("Runner/default/web").meta.resource_version;
  engine.ResetCalls();
  auto out = reconciler.Reconcile("Runner/default/web");
  CHECK_FALSE(out.error);
  CHECK(engine.TotalCalls() == 0);
  CHECK(Get("Runner/default/web").meta.resource_version == rv);  // status unchanged: not written
}

TEST_CASE_FIXTURE(ControllerFixture, "RunnerReconciler: repairs a container removed, stopped or disconnected by hand") {
  Apply(std::string(kNet) + "---" + R"(
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: web}
spec:
  image: keelson-test/busybox:1
  networks: [{name: backend, aliases: [www]}]
)");
  Converge("Network/default/backend");
  Converge("Runner/default/web");
  REQUIRE(Ready("Runner/default/web"));

  SUBCASE("removed") {
    std::string old = Get("Runner/default/web").status["containerID"];
    REQUIRE(engine.RemoveContainer("default.web", true));
    Converge("Runner/default/web");
    auto c = *engine.InspectContainer("default.web");
    CHECK(c.id != old);
    CHECK(c.state.running);
    CHECK(HasEvent(store, "Repaired", "removed outside keelson"));
    CHECK(metrics.Render().find("keelson_drift_repairs_total{kind=\"Runner\"} 1") != std::string::npos);
  }
  SUBCASE("stopped") {
    const std::string id = engine.InspectContainer("default.web")->id;
    REQUIRE(engine.StopContainer("default.web", 1));
    cache.NoteStopRequested(id, true);  // as the Manager does on the engine's "stop" event
    Converge("Runner/default/web");
    CHECK(engine.InspectContainer("default.web")->state.running);
    CHECK(Get("Runner/default/web").status["restarts"] == 0);  // drift, not a crash
    CHECK(HasEvent(store, "Repaired", "stopped outside keelson"));
    CHECK(metrics.Render().find("keelson_drift_repairs_total{kind=\"Runner\"} 1") != std::string::npos);
  }
  SUBCASE("crashed") {
    clock.Advance(std::chrono::seconds(60));
    engine.ExitContainer("default.web", 1);
    Converge("Runner/default/web");
    CHECK(engine.InspectContainer("default.web")->state.running);
    CHECK(Get("Runner/default/web").status["restarts"] == 1);
    CHECK(metrics.Render().find("keelson_drift_repairs_total{") == std::string::npos);
  }
  SUBCASE("disconnected") {
    REQUIRE(engine.DisconnectNetwork("default.backend", "default.web", true));
    Converge("Runner/default/web");
    auto c = *engine.InspectContainer("default.web");
    REQUIRE(c.config.networks.size() == 1);
    CHECK(c.config.networks[0].network == "default.backend");
    CHECK(c.config.networks[0].aliases == std::vector<std::string>{"www"});
  }
  CHECK(Ready("Runner/default/web"));
  CHECK(Containers().size() == 1);
}

TEST_CASE_FIXTURE(ControllerFixture, "RunnerReconciler: a changed env replaces only that runner, and says why") {
  Apply(std::string(kWeb) + "---" + R"(
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: other}
spec: {image: keelson-test/busybox:1}
)");
  Converge("Runner/default/web");
  Converge("Runner/default/other");
  std::string web = engine.InspectContainer("default.web")->id, other = engine.InspectContainer("default.other")->id;
  Apply(WithEnv("debug") + "---" + R"(
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: other}
spec: {image: keelson-test/busybox:1}
)");
  auto plan = PlanFor(Get("Runner/default/web"));
  REQUIRE(plan->actions.size() == 1);
  CHECK(reconcile::Describe(plan->actions[0]) == "recreate container default.web: env[LOG_LEVEL] changed");
  Converge("Runner/default/web");
  Converge("Runner/default/other");
  auto c = *engine.InspectContainer("default.web");
  CHECK(c.id != web);
  CHECK(std::count(c.config.env.begin(), c.config.env.end(), "LOG_LEVEL=debug") == 1);
  CHECK(engine.InspectContainer("default.other")->id == other);
  CHECK(HasEvent(store, "Recreated", "env[LOG_LEVEL] changed"));
  CHECK(Ready("Runner/default/web"));
}

TEST_CASE_FIXTURE(ControllerFixture, "RunnerReconciler: a network added or removed in the spec is attached in place, never a replacement") {
  const std::string runner = R"(
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: web}
spec:
  image: keelson-test/busybox:1
  networks: [NETS]
)";
  auto with = [&](const std::string& nets) {
    std::string r = runner;
    return std::string(kNet) + "---\napiVersion: keelson.dev/v1alpha1\nkind: Network\nmetadata: {name: other}\nspec: {}\n---" +
           r.replace(r.find("NETS"), 4, nets);
  };
  Apply(with("{name: backend}"));
  Converge("Network/default/backend");
  Converge("Network/default/other");
  Converge("Runner/default/web");
  const std::string id = engine.InspectContainer("default.web")->id;
  Apply(with("{name: backend}, {name: other}"));
  auto plan = PlanFor(Get("Runner/default/web"));
  REQUIRE(plan->actions.size() == 1);
  CHECK(reconcile::Describe(plan->actions[0]) == "connect container default.web: networks[default.other] not attached");
  Converge("Runner/default/web");
  auto c = *engine.InspectContainer("default.web");
  CHECK(c.id == id);
  CHECK(c.config.networks.size() == 2);
  Apply(with("{name: other}"));
  Converge("Runner/default/web");
  c = *engine.InspectContainer("default.web");
  CHECK(c.id == id);
  REQUIRE(c.config.networks.size() == 1);
  CHECK(c.config.networks[0].network == "default.other");
  CHECK_FALSE(HasEvent(store, "Recreated", "default.web"));
}

TEST_CASE_FIXTURE(ControllerFixture, "RunnerReconciler: image defaults are not drift") {
  engine.AddImage("example/app:1", {"PATH=/bin", "APP_HOME=/srv"}, {"/bin/app", "--serve"});
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: app}
spec: {image: example/app:1, env: [{name: A, value: b}]}
)");
  Converge("Runner/default/app");
  auto plan = PlanFor(Get("Runner/default/app"));
  CHECK(plan->actions.empty());
}

TEST_CASE_FIXTURE(ControllerFixture, "RunnerReconciler: delete removes the container, then the object") {
  Apply(kWeb);
  Converge("Runner/default/web");
  REQUIRE(store.Delete(model::Kind::kRunner, "default", "web", false));
  auto out = Converge("Runner/default/web");
  CHECK_FALSE(out.error);
  CHECK_FALSE(engine.InspectContainer("default.web").has_value());
  CHECK_FALSE(store.Get(model::Kind::kRunner, "default", "web")->has_value());
}

TEST_CASE_FIXTURE(ControllerFixture, "Reconciler: orphans are removed; objects without keelson's label are never touched") {
  Apply(kWeb);
  Converge("Runner/default/web");
  docker::ContainerSpec orphan;
  orphan.name = "default.gone";
  orphan.image = "keelson-test/busybox:1";
  orphan.labels = {{"dev.keelson.managed-by", "keelson"}, {"dev.keelson.uid", "no-such-uid"},
                   {"dev.keelson.store", *store.StoreId()}};
  REQUIRE(engine.CreateContainer(orphan));
  // Another store's object on the same engine: not an orphan of this one.
  docker::ContainerSpec other_store = orphan;
  other_store.name = "default.other-store";
  other_store.labels["dev.keelson.store"] = "0123456789abcdef";
  REQUIRE(engine.CreateContainer(other_store));
  docker::ContainerSpec mine;
  mine.name = "someone-elses";
  mine.image = "keelson-test/busybox:1";
  REQUIRE(engine.CreateContainer(mine));
  REQUIRE(engine.CreateNetwork({"someone-elses-net", "bridge", false, false, "", "", {}, {}}));
  REQUIRE(cache.Resync());
  auto removed = reconciler.RemoveOrphans();
  CHECK(*removed == 1);
  CHECK_FALSE(engine.InspectContainer("default.gone").has_value());
  CHECK(engine.InspectContainer("someone-elses").has_value());
  CHECK(engine.InspectContainer("default.other-store").has_value());
  CHECK(engine.InspectNetwork("someone-elses-net").has_value());
  CHECK(engine.InspectContainer("default.web").has_value());
}

TEST_CASE_FIXTURE(ControllerFixture, "RunnerReconciler: a name taken by someone else's container is a conflict, not a takeover") {
  docker::ContainerSpec theirs;
  theirs.name = "default.web";
  theirs.image = "keelson-test/busybox:1";
  std::string id = *engine.CreateContainer(theirs);
  Apply(kWeb);
  Converge("Runner/default/web");
  CHECK(Reason("Runner/default/web") == "Conflict");
  CHECK(engine.InspectContainer("default.web")->id == id);
}

TEST_CASE_FIXTURE(ControllerFixture, "RunnerReconciler: an engine that is down is retried with backoff; desired state stays") {
  Apply(kWeb);
  REQUIRE(cache.Resync());
  engine.SetDown(true);
  auto out = reconciler.Reconcile("Runner/default/web");
  REQUIRE(out.error);
  CHECK(out.error->transient());
  CHECK(Get("Runner/default/web").spec["image"] == "keelson-test/busybox:1");
  engine.SetDown(false);
  out = Converge("Runner/default/web");
  CHECK_FALSE(out.error);
  CHECK(Ready("Runner/default/web"));
}

TEST_CASE_FIXTURE(ControllerFixture, "RunnerReconciler: an invalid spec is a terminal condition, with no engine changes") {
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: web}
spec:
  image: keelson-test/busybox:1
  env: [{name: TOKEN, valueFrom: {file: /nonexistent/keelson-token}}]
)");
  engine.ResetCalls();
  auto out = Converge("Runner/default/web");
  REQUIRE(out.error);
  CHECK_FALSE(out.error->transient());
  CHECK_FALSE(out.requeue_after);
  CHECK(Reason("Runner/default/web") == "InvalidSpec");
  CHECK(Reason("Runner/default/web", "Degraded") == "InvalidSpec");
  CHECK(ChangingCalls() == 0);
  CHECK(HasEvent(store, "InvalidSpec", "spec.env[0].valueFrom.file: cannot read /nonexistent/keelson-token"));
  // Once: a second pass that finds the same writes no second event.
  auto before = store.Events({})->size();
  reconciler.Reconcile("Runner/default/web");
  CHECK(store.Events({})->size() == before);
}

TEST_CASE_FIXTURE(ControllerFixture, "Reconciler: a stored spec that no longer fits its schema is a condition, never a crash") {
  Apply(kWeb);
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: RunnerPool
metadata: {name: ci}
spec: {replicas: 1, template: {image: keelson-test/busybox:1}}
---
apiVersion: keelson.dev/v1alpha1
kind: Policy
metadata: {name: p}
spec: {enforcement: audit, rules: {denyPrivileged: true}}
)");
  // As a store written by another version, or edited by hand, might hold.
  REQUIRE(db->Exec(R"(UPDATE objects SET spec = '{"image": 5, "env": "x"}' WHERE name = 'web')"));
  REQUIRE(db->Exec(R"(UPDATE objects SET spec = '{"replicas": "three", "template": []}' WHERE name = 'ci')"));
  for (const char* key : {"Runner/default/web", "RunnerPool/default/ci"}) {
    CAPTURE(key);
    auto out = Converge(key);
    REQUIRE(out.error);
    CHECK_FALSE(out.error->transient());
    CHECK(Reason(key) == "InvalidSpec");
    CHECK(model::FindCondition(Get(key), "Ready")->value("message", "").find("does not fit the schema") !=
          std::string::npos);
    CHECK_FALSE(PlanFor(Get(key)).has_value());  // keelson plan reports it the same way
  }
  auto out = Converge("Policy/default/p");  // the audit skips what it cannot read
  CHECK_FALSE(out.error);
  CHECK(Get("Policy/default/p").status["violations"] == 0);
  // Deleting still works.
  REQUIRE(store.Delete(model::Kind::kRunner, "default", "web", false));
  Converge("Runner/default/web");
  CHECK_FALSE(store.Get(model::Kind::kRunner, "default", "web")->has_value());
}

TEST_CASE_FIXTURE(ControllerFixture, "RunnerReconciler: waits for its network, volume and image, naming which") {
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: web}
spec:
  imageRef: app
  networks: [{name: backend}]
  volumes: [{name: cache, mountPath: /cache}]
)");
  Converge("Runner/default/web");
  CHECK(Reason("Runner/default/web") == "WaitingForImage");
  CHECK(Containers().empty());
  engine.AddRegistryImage("registry.local/app:2");
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: Image
metadata: {name: app}
spec: {ref: registry.local/app:2}
)");
  Converge("Image/default/app");
  CHECK(Ready("Image/default/app"));
  Converge("Runner/default/web");
  CHECK(Reason("Runner/default/web") == "WaitingForNetwork");
  Apply(kNet);
  Converge("Network/default/backend");
  Converge("Runner/default/web");
  CHECK(Reason("Runner/default/web") == "WaitingForVolume");
  Apply(kVol);
  Converge("Volume/default/cache");
  Converge("Runner/default/web");
  CHECK(Ready("Runner/default/web"));
  CHECK(engine.InspectContainer("default.web")->config.image == "registry.local/app:2");
}

TEST_CASE_FIXTURE(ControllerFixture, "RunnerReconciler: restartPolicy, crash-loop backoff and health") {
  SUBCASE("Never: an exited runner stays down") {
    std::string yaml = kWeb;
    Apply(yaml + "  restartPolicy: Never\n");
    Converge("Runner/default/web");
    engine.ExitContainer("default.web", 3);
    Converge("Runner/default/web");
    CHECK_FALSE(engine.InspectContainer("default.web")->state.running);
    CHECK(Reason("Runner/default/web") == "Failed");
  }
  SUBCASE("Always: a runner that keeps crashing waits longer each time") {
    Apply(kWeb);
    Converge("Runner/default/web");
    // Each quick exit doubles the wait: 1 s after the first, 2 s after the second.
    for (int restarts = 1; restarts <= 2; ++restarts) {
      engine.ExitContainer("default.web", 1);
      REQUIRE(cache.RefreshContainer("default.web"));
      auto wait = reconciler.Reconcile("Runner/default/web");
      REQUIRE(wait.requeue_after);
      CHECK(wait.requeue_after->count() == 1000 * (1 << (restarts - 1)));
      CHECK_FALSE(engine.InspectContainer("default.web")->state.running);
      CHECK(Reason("Runner/default/web", "Degraded") == "CrashLoopBackOff");
      clock.Advance(*wait.requeue_after);
      reconciler.Reconcile("Runner/default/web");
      CHECK(engine.InspectContainer("default.web")->state.running);
      CHECK(Get("Runner/default/web").status["restarts"] == restarts);
    }
  }
  SUBCASE("a healthcheck decides Ready") {
    std::string yaml = kWeb;
    Apply(yaml + "  healthcheck: {test: [CMD, 'true']}\n");
    Converge("Runner/default/web");
    CHECK(Reason("Runner/default/web") == "Starting");
    engine.SetHealth("default.web", "healthy");
    REQUIRE(cache.RefreshContainer("default.web"));
    reconciler.Reconcile("Runner/default/web");
    CHECK(Ready("Runner/default/web"));
  }
}

TEST_CASE_FIXTURE(ControllerFixture, "NetworkReconciler: create, no-op, repair, replace when unused, in use reported") {
  Apply(kNet);
  Converge("Network/default/backend");
  auto n = *engine.InspectNetwork("default.backend");
  CHECK(n.spec.internal);
  CHECK(n.spec.labels.at("dev.keelson.kind") == "Network");
  CHECK(Ready("Network/default/backend"));
  engine.ResetCalls();
  reconciler.Reconcile("Network/default/backend");
  CHECK(engine.TotalCalls() == 0);

  REQUIRE(engine.RemoveNetwork("default.backend"));
  Converge("Network/default/backend");
  CHECK(engine.InspectNetwork("default.backend").has_value());

  Apply("apiVersion: keelson.dev/v1alpha1\nkind: Network\nmetadata: {name: backend}\nspec: {internal: false}\n");
  Converge("Network/default/backend");
  CHECK_FALSE(engine.InspectNetwork("default.backend")->spec.internal);
  CHECK(HasEvent(store, "Replaced", "internal true -> false"));

  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: web}
spec: {image: keelson-test/busybox:1, networks: [{name: backend}]}
)");
  Converge("Runner/default/web");
  Apply("apiVersion: keelson.dev/v1alpha1\nkind: Network\nmetadata: {name: backend}\nspec: {internal: true}\n");
  Converge("Network/default/backend");
  CHECK(Reason("Network/default/backend", "Degraded") == "InUse");
  CHECK_FALSE(engine.InspectNetwork("default.backend")->spec.internal);
}

TEST_CASE_FIXTURE(ControllerFixture, "NetworkReconciler and VolumeReconciler: delete removes what keelson created") {
  Apply(std::string(kNet) + "---" + kVol);
  Converge("Network/default/backend");
  Converge("Volume/default/cache");
  CHECK(engine.InspectVolume("default.cache").has_value());
  REQUIRE(store.Delete(model::Kind::kNetwork, "default", "backend", false));
  REQUIRE(store.Delete(model::Kind::kVolume, "default", "cache", false));
  Converge("Network/default/backend");
  Converge("Volume/default/cache");
  CHECK_FALSE(engine.InspectNetwork("default.backend").has_value());
  CHECK_FALSE(engine.InspectVolume("default.cache").has_value());
  CHECK_FALSE(store.Get(model::Kind::kVolume, "default", "cache")->has_value());
}

TEST_CASE_FIXTURE(ControllerFixture, "Delete: a network and a volume wait for the containers using them, without engine calls") {
  Apply(std::string(kNet) + "---" + kVol + R"(---
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: web}
spec:
  image: keelson-test/busybox:1
  networks: [{name: backend}]
  volumes: [{name: cache, mountPath: /cache}]
)");
  Converge("Network/default/backend");
  Converge("Volume/default/cache");
  Converge("Runner/default/web");
  REQUIRE(Ready("Runner/default/web"));
  // All three deleted at once; the network and the volume happen to go first.
  for (auto [kind, name] : {std::pair{model::Kind::kNetwork, "backend"}, {model::Kind::kVolume, "cache"},
                            {model::Kind::kRunner, "web"}}) {
    REQUIRE(store.Delete(kind, "default", name, false));
  }
  REQUIRE(cache.Resync());
  engine.ResetCalls();
  for (const char* key : {"Network/default/backend", "Volume/default/cache"}) {
    CAPTURE(key);
    auto out = reconciler.Reconcile(key);
    CHECK_FALSE(out.error);
    REQUIRE(out.requeue_after);
    CHECK(*out.requeue_after <= std::chrono::seconds(1));
    CHECK(Reason(key) == "WaitingForContainers");
    CHECK(model::FindCondition(Get(key), "Ready")->value("message", "").find("default.web") != std::string::npos);
  }
  CHECK(ChangingCalls() == 0);
  CHECK(engine.InspectNetwork("default.backend").has_value());
  CHECK_FALSE(HasEvent(store, "Failed", "default.backend"));

  Converge("Runner/default/web");
  Converge("Network/default/backend");
  Converge("Volume/default/cache");
  CHECK_FALSE(engine.InspectNetwork("default.backend").has_value());
  CHECK_FALSE(engine.InspectVolume("default.cache").has_value());
  CHECK_FALSE(store.Get(model::Kind::kNetwork, "default", "backend")->has_value());
  CHECK_FALSE(store.Get(model::Kind::kVolume, "default", "cache")->has_value());
}

TEST_CASE_FIXTURE(ControllerFixture, "Delete: a network deleted from under runners that stay is disconnected from them, and can come back") {
  Apply(std::string(kNet) + R"(---
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: web}
spec: {image: keelson-test/busybox:1, networks: [{name: backend}]}
)");
  Converge("Network/default/backend");
  Converge("Runner/default/web");
  const std::string id = engine.InspectContainer("default.web")->id;
  REQUIRE(store.Delete(model::Kind::kNetwork, "default", "backend", false));  // delete --ignore-users
  REQUIRE(cache.Resync());
  Converge("Network/default/backend");
  CHECK_FALSE(engine.InspectNetwork("default.backend").has_value());
  CHECK_FALSE(store.Get(model::Kind::kNetwork, "default", "backend")->has_value());
  CHECK(engine.InspectContainer("default.web")->id == id);  // kept, disconnected
  CHECK(engine.InspectContainer("default.web")->config.networks.empty());
  Converge("Runner/default/web");
  CHECK(Reason("Runner/default/web") == "WaitingForNetwork");
  // Applied again: created, and the runner is attached in place.
  Apply(kNet);
  Converge("Network/default/backend");
  Converge("Runner/default/web");
  auto c = *engine.InspectContainer("default.web");
  CHECK(c.id == id);
  REQUIRE(c.config.networks.size() == 1);
  CHECK(Ready("Runner/default/web"));
}

TEST_CASE_FIXTURE(ControllerFixture, "ImageReconciler: pulls when absent, reports id and digest; Never without the image is blocked") {
  engine.AddRegistryImage("registry.local/tool:1");
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: Image
metadata: {name: tool}
spec: {ref: registry.local/tool:1}
---
apiVersion: keelson.dev/v1alpha1
kind: Image
metadata: {name: local}
spec: {ref: nowhere.local/x:1, pullPolicy: Never}
)");
  Converge("Image/default/tool");
  CHECK(Ready("Image/default/tool"));
  auto img = Get("Image/default/tool");
  CHECK(img.status["id"] == engine.InspectImage("registry.local/tool:1")->id);
  CHECK(img.status.contains("repoDigest"));
  engine.ResetCalls();
  reconciler.Reconcile("Image/default/tool");
  CHECK(engine.TotalCalls() == 0);
  Converge("Image/default/local");
  CHECK(Reason("Image/default/local") == "ImageMissing");
}

TEST_CASE_FIXTURE(ControllerFixture, "ImageReconciler: deleting an Image removes the image only if keelson pulled it and nothing uses it") {
  engine.AddRegistryImage("registry.local/tool:1");
  engine.AddRegistryImage("registry.local/shared:1");
  engine.AddImage("registry.local/before:1");  // on the engine before keelson
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: Image
metadata: {name: tool}
spec: {ref: registry.local/tool:1}
---
apiVersion: keelson.dev/v1alpha1
kind: Image
metadata: {name: before}
spec: {ref: registry.local/before:1}
---
apiVersion: keelson.dev/v1alpha1
kind: Image
metadata: {name: shared}
spec: {ref: registry.local/shared:1}
---
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: user}
spec: {imageRef: tool}
)");
  for (const char* key : {"Image/default/tool", "Image/default/before", "Image/default/shared", "Runner/default/user"}) {
    Converge(key);
  }
  CHECK(Get("Image/default/tool").status["createdOnEngine"] == true);
  CHECK_FALSE(Get("Image/default/before").status.contains("createdOnEngine"));
  // Someone else's container uses the shared image.
  docker::ContainerSpec theirs;
  theirs.name = "someone-elses";
  theirs.image = "registry.local/shared:1";
  REQUIRE(engine.CreateContainer(theirs));

  for (auto name : {"tool", "before", "shared"}) REQUIRE(store.Delete(model::Kind::kImage, "default", name, false));
  Converge("Image/default/before");
  Converge("Image/default/shared");
  CHECK(engine.InspectImage("registry.local/before:1").has_value());  // not keelson's to remove
  CHECK(engine.InspectImage("registry.local/shared:1").has_value());  // in use by a container keelson did not create
  CHECK_FALSE(store.Get(model::Kind::kImage, "default", "shared")->has_value());

  REQUIRE(cache.Resync());
  auto out = reconciler.Reconcile("Image/default/tool");  // runner/user still runs on it
  CHECK(Reason("Image/default/tool") == "WaitingForContainers");
  CHECK(out.requeue_after.has_value());
  CHECK(engine.InspectImage("registry.local/tool:1").has_value());
  REQUIRE(store.Delete(model::Kind::kRunner, "default", "user", false));
  Converge("Runner/default/user");
  Converge("Image/default/tool");
  CHECK_FALSE(engine.InspectImage("registry.local/tool:1").has_value());
  CHECK_FALSE(store.Get(model::Kind::kImage, "default", "tool")->has_value());
  CHECK(HasEvent(store, "Removed", "registry.local/tool:1"));
}

TEST_CASE_FIXTURE(ControllerFixture, "RunnerReconciler: dependsOn waits until the dependency is Ready") {
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: app}
spec:
  image: keelson-test/busybox:1
  dependsOn: [{kind: Runner, name: db}]
)");
  Converge("Runner/default/app");
  CHECK(Reason("Runner/default/app") == "WaitingForDependency");
  CHECK(Get("Runner/default/app").status["conditions"][0]["message"] == "runner/db not found");
  CHECK(Containers().empty());
  Apply("apiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {name: db}\nspec: {image: keelson-test/busybox:1}\n");
  Converge("Runner/default/db");
  Converge("Runner/default/app");
  CHECK(Ready("Runner/default/app"));
}

TEST_CASE_FIXTURE(ControllerFixture, "PolicyReconciler: audits the stored objects it governs, touching no engine object") {
  // Stored before the policy existed, so never admitted by it.
  Apply(kWeb);
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: tool, namespace: team-b}
spec: {image: keelson-test/busybox:1, user: "1000"}
)");
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: Policy
metadata: {name: non-root}
spec: {enforcement: audit, rules: {requireNonRoot: true}}
)");
  REQUIRE(cache.Resync());
  engine.ResetCalls();
  reconciler.Reconcile("Policy/default/non-root");
  CHECK(engine.TotalCalls() == 0);
  CHECK(Ready("Policy/default/non-root"));
  auto status = Get("Policy/default/non-root").status;
  CHECK(status["violations"] == 1);  // team-b's runner is another namespace's business
  CHECK(status["violators"] == nlohmann::json::array({"runner/web (requireNonRoot)"}));
  CHECK(HasEvent(store, "Violations", "runner/web (requireNonRoot)"));

  // Fixed: the next pass finds no one.
  Apply(std::string(kWeb) + "  user: \"1000\"\n");
  Converge("Policy/default/non-root");
  CHECK(Get("Policy/default/non-root").status["violations"] == 0);

  // From keelson-system it governs every namespace.
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: Policy
metadata: {name: limits, namespace: keelson-system}
spec: {rules: {requireResources: true}}
)");
  Converge("Policy/keelson-system/limits");
  CHECK(Get("Policy/keelson-system/limits").status["violators"] ==
        nlohmann::json::array({"default/runner/web (requireResources)", "team-b/runner/tool (requireResources)"}));
}

TEST_CASE_FIXTURE(ControllerFixture, "RunnerReconciler: any other start failure keeps the container and backs off") {
  Apply(kWeb);
  Converge("Runner/default/web");
  const std::string old_id = engine.InspectContainer("default.web")->id;
  clock.Advance(std::chrono::seconds(60));
  REQUIRE(engine.StopContainer("default.web", 0));
  clock.Advance(std::chrono::seconds(1));
  REQUIRE(cache.Resync());
  for (const char* message : {"grpc: the client connection is closing: context canceled",
                              "driver failed programming external connectivity: Bind for 0.0.0.0:8080 failed: "
                              "port is already allocated"}) {
    CAPTURE(message);
    engine.FailNext(Error{ErrorCode::kUnavailable, std::string("start container: ") + message});
    auto out = reconciler.Reconcile("Runner/default/web");
    REQUIRE(out.error);
    CHECK(out.error->transient());
    CHECK(engine.InspectContainer("default.web")->id == old_id);  // not removed
  }
}

TEST_CASE_FIXTURE(ControllerFixture, "RunnerReconciler: failures are named by cause, Degraded, retried with backoff, told once") {
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: app}
spec: {image: registry.local/app:404}
)");
  engine.AddRegistry("registry.local");
  auto out = Converge("Runner/default/app");
  REQUIRE(out.error);
  CHECK(out.error->transient());  // retried with the object's backoff
  CHECK(Reason("Runner/default/app") == "ImageNotFound");
  CHECK(Reason("Runner/default/app", "Degraded") == "ImageNotFound");
  reconciler.Reconcile("Runner/default/app");
  reconciler.Reconcile("Runner/default/app");
  int failed = 0;
  int64_t count = 0;
  for (const auto& e : *store.Events({})) {
    if (e.reason == "Failed") ++failed, count = e.count;
  }
  CHECK(failed == 1);  // one row, counted
  CHECK(count == 3);

  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: app}
spec: {image: unreachable.local:5999/app:1}
)");
  Converge("Runner/default/app");
  CHECK(Reason("Runner/default/app") == "RegistryUnavailable");

  Apply(kWeb);
  Converge("Runner/default/web");
  clock.Advance(std::chrono::seconds(60));
  REQUIRE(engine.StopContainer("default.web", 0));
  REQUIRE(cache.Resync());
  engine.FailNext(Error{ErrorCode::kUnavailable,
                        "start container: driver failed programming external connectivity on endpoint default.web: "
                        "Bind for 0.0.0.0:8080 failed: port is already allocated"});
  out = reconciler.Reconcile("Runner/default/web");
  REQUIRE(out.error);
  CHECK(out.error->transient());
  CHECK(Reason("Runner/default/web") == "PortInUse");
  CHECK(Reason("Runner/default/web", "Degraded") == "PortInUse");
  CHECK(model::FindCondition(Get("Runner/default/web"), "Ready")->value("message", "").find("0.0.0.0:8080") !=
        std::string::npos);
}

TEST_CASE_FIXTURE(ControllerFixture, "RunnerReconciler: a dead container is replaced, never started") {
  Apply(kWeb);
  Converge("Runner/default/web");
  const std::string old_id = engine.InspectContainer("default.web")->id;
  engine.KillToDead("default.web");
  REQUIRE(cache.Resync());
  auto plan = PlanFor(Get("Runner/default/web"));
  REQUIRE(plan->actions.size() == 1);
  CHECK(reconcile::Describe(plan->actions[0]) ==
        "recreate container default.web: the engine marked it dead; it cannot start again");
  Converge("Runner/default/web");
  auto now = engine.InspectContainer("default.web");
  REQUIRE(now);
  CHECK(now->id != old_id);
  CHECK(now->state.running);
  CHECK(Ready("Runner/default/web"));
}

TEST_CASE_FIXTURE(ControllerFixture, "RunnerReconciler: a container the engine can no longer start is replaced") {
  Apply(kWeb);
  Converge("Runner/default/web");
  const std::string old_id = engine.InspectContainer("default.web")->id;
  clock.Advance(std::chrono::seconds(60));  // a stable run: no crash-loop backoff
  REQUIRE(engine.StopContainer("default.web", 0));
  clock.Advance(std::chrono::seconds(1));
  REQUIRE(cache.Resync());
  // As dockerd says after an unclean stop left the container's runtime state behind.
  std::string said;
  SUBCASE("a shim's directory left behind") { said = "failed to start shim: mkdir .../moby/" + old_id + ": file exists"; }
  SUBCASE("a task left behind") { said = "task " + old_id + ": already exists"; }
  engine.FailNext(Error{ErrorCode::kInternal, "start container: " + said});
  auto out = reconciler.Reconcile("Runner/default/web");
  REQUIRE(out.error);
  CHECK(out.error->transient());  // retried with backoff, not a terminal InvalidSpec
  CHECK_FALSE(engine.InspectContainer("default.web").has_value());
  Converge("Runner/default/web");
  auto now = engine.InspectContainer("default.web");
  REQUIRE(now.has_value());
  CHECK(now->id != old_id);
  CHECK(now->state.running);
  CHECK(Ready("Runner/default/web"));
}

TEST_CASE_FIXTURE(ControllerFixture, "Reconciler: a container with one of this store's uids but another store's id is not ours, alive or deleting") {
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: RunnerPool
metadata: {name: ci}
spec: {replicas: 1, template: {image: keelson-test/busybox:1}}
)");
  Converge("RunnerPool/default/ci");
  const std::string uid = Get("RunnerPool/default/ci").meta.uid;
  docker::ContainerSpec forged;
  forged.name = "default.ci.forge";
  forged.image = "keelson-test/busybox:1";
  forged.labels = {{"dev.keelson.managed-by", "keelson"}, {"dev.keelson.kind", "RunnerPool"},
                   {"dev.keelson.namespace", "default"}, {"dev.keelson.name", "ci"},
                   {"dev.keelson.uid", uid}, {"dev.keelson.store", "0123456789abcdef"}};
  REQUIRE(engine.CreateContainer(forged));
  REQUIRE(cache.Resync());
  engine.ResetCalls();
  Converge("RunnerPool/default/ci");
  CHECK(ChangingCalls() == 0);
  CHECK(engine.InspectContainer("default.ci.forge").has_value());
  CHECK(Get("RunnerPool/default/ci").status["replicas"] == 1);

  REQUIRE(store.Delete(model::Kind::kRunnerPool, "default", "ci", false));
  Converge("RunnerPool/default/ci");
  CHECK(engine.InspectContainer("default.ci.forge").has_value());
  CHECK(engine.ListContainers({{}, true})->size() == 1);
}

TEST_CASE_FIXTURE(ControllerFixture, "Reconciler: with the lease fence down nothing acts and nothing is written; up, it converges") {
  controller::Fence fence;  // never extended: down
  shared.fence = &fence;
  controller::Reconciler fenced(shared, store);
  Apply(kWeb);
  const auto before = Get("Runner/default/web");
  const size_t events_before = store.Events({})->size();
  engine.ResetCalls();
  auto out = fenced.Reconcile("Runner/default/web");
  REQUIRE(out.error.has_value());
  CHECK(out.error->transient());
  CHECK(ChangingCalls() == 0);
  CHECK(Get("Runner/default/web").meta.resource_version == before.meta.resource_version);
  CHECK(store.Events({})->size() == events_before);

  // The executor asks before every action, not only before a pass: a
  // fence that falls mid-pass stops the actions not yet begun.
  controller::Executor executor(engine, cache, metrics, nullptr, &fence);
  reconcile::CreateNetwork create;
  create.spec.name = "default.n";
  CHECK_FALSE(executor.Execute(create).has_value());
  CHECK(ChangingCalls() == 0);

  fence.Extend(controller::Fence::Clock::now(), std::chrono::seconds(10));
  for (int i = 0; i < 3; ++i) {
    REQUIRE(cache.Resync());
    CHECK_FALSE(fenced.Reconcile("Runner/default/web").error.has_value());
  }
  CHECK(Ready("Runner/default/web"));
  fence.Revoke();
  CHECK_FALSE(fence.Held());
  fence.Extend(controller::Fence::Clock::now() - std::chrono::seconds(20), std::chrono::seconds(10));
  CHECK_FALSE(fence.Held());  // a renewal older than its term holds nothing
}

TEST_CASE_FIXTURE(ControllerFixture, "ContainerMetrics: each container's CPU, memory and restarts, by its object, while scraped") {
  Apply(kWeb);
  Converge("Runner/default/web");
  engine.ExitContainer("default.web", 1);
  REQUIRE(cache.RefreshContainer("default.web"));
  auto wait = reconciler.Reconcile("Runner/default/web");  // a quick exit: restarted after a backoff
  REQUIRE(wait.requeue_after);
  clock.Advance(*wait.requeue_after);
  reconciler.Reconcile("Runner/default/web");  // restarted by keelson (restartPolicy Always)
  REQUIRE(engine.InspectContainer("default.web")->state.running);
  REQUIRE(cache.RefreshContainer("default.web"));

  controller::ContainerMetrics containers(engine, cache, metrics);
  engine.ResetCalls();
  containers.Start(*store.StoreId());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(engine.Calls()["ContainerStats"] == 0);  // nobody scraped: no stats asked
  CHECK(containers.Render().empty());             // the first scrape wakes the collector
  std::string text;
  for (int i = 0; i < 100 && text.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    text = containers.Render();
  }
  const std::string labels = "{kind=\"Runner\",namespace=\"default\",name=\"web\",container=\"default.web\"}";
  CHECK(text.find("keelson_container_memory_working_set_bytes" + labels + " 1048576\n") != std::string::npos);
  CHECK(text.find("keelson_container_cpu_usage_seconds_total" + labels + " ") != std::string::npos);
  CHECK(text.find("keelson_container_restarts_total" + labels + " 1\n") != std::string::npos);
  CHECK(text.find("# TYPE keelson_container_restarts_total counter") != std::string::npos);
  containers.Stop();
  CHECK(engine.Calls()["ContainerStats"] == 1);  // one sample: the next waits for kRefresh
}

TEST_CASE_FIXTURE(ControllerFixture, "RunnerReconciler: restartedAt (rollout restart) replaces the container and says so") {
  Apply(kWeb);
  Converge("Runner/default/web");
  const std::string before = engine.InspectContainer("default.web")->id;
  Apply(std::string(kWeb) + "  restartedAt: \"2026-11-24T16:00:00Z\"\n");
  auto plan = PlanFor(Get("Runner/default/web"));
  REQUIRE(plan->actions.size() == 1);
  CHECK(reconcile::Describe(plan->actions[0]) ==
        "recreate container default.web: restartedAt (unset) -> 2026-11-24T16:00:00Z (rollout restart)");
  Converge("Runner/default/web");
  auto c = *engine.InspectContainer("default.web");
  CHECK(c.id != before);
  CHECK(c.config.labels.at("dev.keelson.restarted-at") == "2026-11-24T16:00:00Z");
  CHECK(PlanFor(Get("Runner/default/web"))->actions.empty());  // converged: the same time again is no change
  Apply(std::string(kWeb) + "  restartedAt: \"2026-11-24T17:00:00Z\"\n");
  CHECK(reconcile::Describe(PlanFor(Get("Runner/default/web"))->actions.at(0)) ==
        "recreate container default.web: restartedAt 2026-11-24T16:00:00Z -> 2026-11-24T17:00:00Z (rollout restart)");
}

TEST_CASE_FIXTURE(ControllerFixture, "RunnerReconciler: envFrom files are read at create as docker --env-file reads them; env wins; values never said") {
  const auto dir = std::filesystem::temp_directory_path() / ("keelson-envfrom-" + std::to_string(std::rand()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "base.env") << "# defaults\nMODE=dev\nTOKEN=\"quoted stays\"\n\nLEVEL=1\n";
  std::ofstream(dir / "prod.env") << "MODE=prod\n";
  Apply("apiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {name: web}\nspec:\n"
        "  image: keelson-test/busybox:1\n"
        "  envFrom: [{file: " + (dir / "base.env").string() + "}, {file: " + (dir / "prod.env").string() + "}]\n"
        "  env: [{name: LEVEL, value: '2'}]\n");
  CHECK_FALSE(Converge("Runner/default/web").error);
  std::vector<std::string> env;
  const auto container = engine.InspectContainer("default.web");
  REQUIRE(container);
  for (const auto& e : container->config.env) {
    if (e.rfind("PATH=", 0) != 0) env.push_back(e);  // the image's own
  }
  CHECK(env == std::vector<std::string>{"MODE=prod", "TOKEN=\"quoted stays\"", "LEVEL=2"});
  // A line that is not NAME=value: the file and line, never the text.
  std::ofstream(dir / "prod.env") << "MODE=prod\nsecret-without-a-name\n";
  Apply("apiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {name: web}\nspec:\n"
        "  image: keelson-test/busybox:1\n"
        "  envFrom: [{file: " + (dir / "prod.env").string() + "}]\n");
  auto out = Converge("Runner/default/web");
  REQUIRE(out.error);
  CHECK(out.error->message == "spec.envFrom[0].file: " + (dir / "prod.env").string() + ":2: not NAME=value");
  std::filesystem::remove_all(dir);
}
