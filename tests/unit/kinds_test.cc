// The Image, Network and Volume reconcilers where a mistake would hurt most:
// an image built and pushed exactly when the spec says, a new digest told
// once, a volume never replaced under a container, another store's objects
// never taken over.

#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

#include "controller_fixture.h"

using namespace keelson;
using keelson::testing::ControllerFixture;

namespace {

int Events(store::ObjectStore& store, const std::string& reason) {
  int n = 0;
  for (const auto& e : *store.Events({})) n += e.reason == reason;
  return n;
}

struct BuildFixture : ControllerFixture {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("keelson-build-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
  BuildFixture() {
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "Dockerfile") << "FROM keelson-test/busybox:1\nRUN true\n";
    engine.AddRegistry("registry.local");
  }
  ~BuildFixture() { std::filesystem::remove_all(dir); }
  std::string Image(const std::string& arg) {
    return "apiVersion: keelson.dev/v1alpha1\nkind: Image\nmetadata: {name: built}\nspec:\n"
           "  ref: registry.local/built:1\n  push: true\n  build: {context: " + dir.string() +
           ", args: {V: '" + arg + "'}}\n";
  }
};

}  // namespace

TEST_CASE_FIXTURE(BuildFixture, "ImageReconciler: builds, pushes (spec.push), and builds again only when the spec changes") {
  Apply(Image("1"));
  Converge("Image/default/built");
  CHECK(Ready("Image/default/built"));
  CHECK(engine.Calls()["BuildImage"] == 1);
  CHECK(engine.Calls()["PushImage"] == 1);
  CHECK(engine.InRegistry("registry.local/built:1"));
  CHECK(Get("Image/default/built").status["createdOnEngine"] == true);

  // The built generation is remembered: no rebuild on later passes.
  engine.ResetCalls();
  REQUIRE(cache.Resync());
  reconciler.Reconcile("Image/default/built");
  CHECK(engine.Calls()["BuildImage"] == 0);

  Apply(Image("2"));
  Converge("Image/default/built");
  CHECK(engine.Calls()["BuildImage"] == 1);
  CHECK(engine.Calls()["PushImage"] == 1);
  CHECK_FALSE(Get("Image/default/built").status.contains("builtGeneration"));  // memory, not status
}

TEST_CASE_FIXTURE(ControllerFixture, "ImageReconciler: new content behind the tag is pulled (Always) and told once") {
  engine.AddRegistryImage("registry.local/tool:1");
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: Image
metadata: {name: tool}
spec: {ref: registry.local/tool:1, pullPolicy: Always}
)");
  Converge("Image/default/tool");
  const std::string first = Get("Image/default/tool").status["repoDigest"];
  CHECK(Events(store, "DigestChanged") == 0);
  engine.PushToRegistry("registry.local/tool:1");
  clock.Advance(std::chrono::minutes(6));  // past the re-check interval
  Converge("Image/default/tool");
  const std::string second = Get("Image/default/tool").status["repoDigest"];
  CHECK(second != first);
  CHECK(Events(store, "DigestChanged") == 1);
  clock.Advance(std::chrono::minutes(6));
  Converge("Image/default/tool");  // the same content again: nothing to tell
  CHECK(Events(store, "DigestChanged") == 1);
}

TEST_CASE_FIXTURE(ControllerFixture, "VolumeReconciler: a volume that must change is never replaced while a container uses it") {
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: Volume
metadata: {name: cache}
spec: {driverOpts: {o: "1"}}
---
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: web}
spec: {image: keelson-test/busybox:1, volumes: [{name: cache, mountPath: /cache}]}
)");
  Converge("Volume/default/cache");
  Converge("Runner/default/web");
  REQUIRE(Ready("Runner/default/web"));
  Apply("apiVersion: keelson.dev/v1alpha1\nkind: Volume\nmetadata: {name: cache}\nspec: {driverOpts: {o: \"2\"}}\n");
  engine.ResetCalls();
  Converge("Volume/default/cache");
  CHECK(Reason("Volume/default/cache", "Degraded") == "InUse");
  CHECK(engine.Calls()["RemoveVolume"] == 0);
  CHECK(engine.InspectVolume("default.cache")->spec.driver_opts.at("o") == "1");
}

TEST_CASE_FIXTURE(ControllerFixture, "NetworkReconciler and VolumeReconciler: another store's object of that name is a Conflict, never taken over") {
  docker::Labels theirs = {{"dev.keelson.managed-by", "keelson"}, {"dev.keelson.store", "0123456789abcdef"},
                           {"dev.keelson.uid", "their-uid"}};
  REQUIRE(engine.CreateNetwork({"default.backend", "bridge", false, false, "", "", {}, theirs}));
  REQUIRE(engine.CreateVolume({"default.cache", "local", {}, theirs}));
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: Network
metadata: {name: backend}
spec: {}
---
apiVersion: keelson.dev/v1alpha1
kind: Volume
metadata: {name: cache}
spec: {}
)");
  engine.ResetCalls();
  Converge("Network/default/backend");
  Converge("Volume/default/cache");
  CHECK(Reason("Network/default/backend", "Degraded") == "Conflict");
  CHECK(Reason("Volume/default/cache", "Degraded") == "Conflict");
  CHECK(ChangingCalls() == 0);
  CHECK(engine.InspectNetwork("default.backend")->spec.labels.at("dev.keelson.uid") == "their-uid");
  CHECK(engine.InspectVolume("default.cache")->spec.labels.at("dev.keelson.uid") == "their-uid");
}

TEST_CASE_FIXTURE(ControllerFixture, "Executor: pulls and builds take a slot; with none free they wait, transient, not Degraded") {
  controller::LongOperationSlots slots(1);
  shared.long_ops = &slots;
  controller::Reconciler bounded(shared, store);
  engine.AddRegistryImage("registry.local/tool:1");
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: Image
metadata: {name: tool}
spec: {ref: registry.local/tool:1}
)");
  REQUIRE(slots.TryAcquire());  // another object's long pull holds the only slot
  REQUIRE(cache.Resync());
  auto out = bounded.Reconcile("Image/default/tool");
  REQUIRE(out.error);
  CHECK(out.error->transient());
  CHECK(Reason("Image/default/tool") == "WaitingForPullSlot");
  CHECK(Reason("Image/default/tool", "Degraded") == "AsExpected");
  CHECK(engine.Calls()["PullImage"] == 0);
  slots.Release();
  out = bounded.Reconcile("Image/default/tool");
  CHECK_FALSE(out.error);
  CHECK(Ready("Image/default/tool"));
  CHECK(slots.TryAcquire());  // given back after the pull
}
