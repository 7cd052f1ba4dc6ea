// The GitRepository sync on FakeEngine, a fake clock and a real SQLite, with
// repositories the git CLI makes: polls keep to the interval, a spec change
// or a sync request goes at once, an unchanged revision writes nothing, and
// the health wait ends in Ready or HealthCheckFailed by the clock.

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "controller/source_sync.h"
#include "controller_fixture.h"

namespace keelson::testing {
namespace {

namespace fs = std::filesystem;

struct GitFixture : ControllerFixture {
  fs::path dir;
  controller::Sources sources{""};
  std::unique_ptr<controller::Sources> owned;

  GitFixture() {
    char tmpl[] = "/tmp/keelson-gitsrc-XXXXXX";
    dir = ::mkdtemp(tmpl);
    Git("init -q -b main " + (dir / "repo").string());
    owned = std::make_unique<controller::Sources>((dir / "sources").string());
    shared.sources = owned.get();
  }
  ~GitFixture() { fs::remove_all(dir); }

  static void Git(const std::string& args) {
    const std::string cmd = "git -c user.name=t -c user.email=t@example.com " + args + " >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  std::string Commit(const std::string& yaml) {
    std::ofstream(dir / "repo" / "fleet.yaml") << yaml;
    Git("-C " + (dir / "repo").string() + " add -A");
    Git("-C " + (dir / "repo").string() + " commit -q -m change");
    FILE* p = ::popen(("git -C " + (dir / "repo").string() + " rev-parse HEAD").c_str(), "r");
    char buf[64] = {0};
    REQUIRE(std::fgets(buf, sizeof buf, p) != nullptr);
    ::pclose(p);
    return std::string(buf, 40);
  }
  std::string Status(const std::string& field) {
    auto o = Get("GitRepository/default/fleet");
    return o.status.value(field, "");
  }
  int64_t StoreVersion() {
    int64_t top = 0;
    for (const auto& o : *store.List({})) top = std::max(top, o.meta.resource_version);
    return top;
  }
};

const char* kVolume = R"(apiVersion: keelson.dev/v1alpha1
kind: Volume
metadata: {name: cache}
spec: {labels: {rev: "%s"}}
)";

std::string Volume(const std::string& rev) {
  char buf[256];
  std::snprintf(buf, sizeof buf, kVolume, rev.c_str());
  return buf;
}

TEST_CASE_FIXTURE(GitFixture, "GitRepository: interval, sync requests, no writes when nothing changed, health") {
  const std::string first = Commit(Volume("1"));
  Apply("apiVersion: keelson.dev/v1alpha1\nkind: GitRepository\nmetadata: {name: fleet}\nspec:\n  url: " +
        (dir / "repo").string() + "\n  interval: 1m\n  timeout: 30s\n");
  const std::string key = "GitRepository/default/fleet";
  auto out = reconciler.Reconcile(key);
  CHECK(Status("lastAppliedRevision") == "main@sha1:" + first);
  CHECK(Reason(key) == "Progressing");  // the volume is not Ready yet
  CHECK(Get(key).status["conditions"].dump().find(R"("status":"True","type":"Reconciling")") != std::string::npos);
  REQUIRE(out.requeue_after.has_value());
  CHECK(*out.requeue_after == std::chrono::seconds(1));
  CHECK(Get("Volume/default/cache").meta.labels.at("gitrepository.keelson.dev/name") == "fleet");

  // The volume converges; the next look finds everything Ready.
  Converge("Volume/default/cache");
  clock.Advance(std::chrono::seconds(1));
  out = reconciler.Reconcile(key);
  CHECK(Reason(key) == "Succeeded");
  REQUIRE(out.requeue_after.has_value());

  // A new commit waits for the interval: no fetch before it.
  const std::string second = Commit(Volume("2"));
  clock.Advance(std::chrono::seconds(20));
  out = reconciler.Reconcile(key);
  CHECK(Status("lastAppliedRevision") == "main@sha1:" + first);
  REQUIRE(out.requeue_after.has_value());
  CHECK(*out.requeue_after <= std::chrono::seconds(40));
  clock.Advance(*out.requeue_after);
  reconciler.Reconcile(key);
  CHECK(Status("lastAppliedRevision") == "main@sha1:" + second);
  Converge("Volume/default/cache");
  clock.Advance(std::chrono::seconds(1));
  reconciler.Reconcile(key);
  CHECK(Reason(key) == "Succeeded");

  // Polls that find the same revision write nothing.
  const int64_t before = StoreVersion();
  for (int i = 0; i < 3; ++i) {
    clock.Advance(std::chrono::minutes(1));
    reconciler.Reconcile(key);
  }
  CHECK(StoreVersion() == before);

  // A sync request goes at once, whatever the interval says.
  const std::string third = Commit(Volume("3"));
  auto asked = controller::RequestSourceSync(store, "default", "fleet", clock);
  REQUIRE(asked.has_value());
  reconciler.Reconcile(key);
  CHECK(Status("lastAppliedRevision") == "main@sha1:" + third);
  CHECK(Status("lastHandledSyncAt") == *asked);

  // Never Ready within spec.timeout (30s): HealthCheckFailed, by the clock.
  clock.Advance(std::chrono::seconds(29));
  reconciler.Reconcile(key);
  CHECK(Reason(key) == "Progressing");
  clock.Advance(std::chrono::seconds(2));
  reconciler.Reconcile(key);
  CHECK(Reason(key) == "HealthCheckFailed");
  CHECK(Get(key).status["conditions"].dump().find(R"("status":"False","type":"Reconciling")") != std::string::npos);
  CHECK(Get(key).status["conditions"].dump().find("volume/default/cache (") != std::string::npos);
}

TEST_CASE_FIXTURE(GitFixture, "GitRepository: a suspended source is left as it is; a sync request still goes") {
  const std::string first = Commit(Volume("1"));
  Apply("apiVersion: keelson.dev/v1alpha1\nkind: GitRepository\nmetadata: {name: fleet}\nspec:\n  url: " +
        (dir / "repo").string() + "\n  suspend: true\n");
  const std::string key = "GitRepository/default/fleet";
  auto out = reconciler.Reconcile(key);
  CHECK(Status("lastAppliedRevision").empty());
  CHECK_FALSE(out.requeue_after.has_value());
  CHECK_FALSE(store.Get(model::Kind::kVolume, "default", "cache")->has_value());
  REQUIRE(controller::RequestSourceSync(store, "default", "fleet", clock).has_value());
  reconciler.Reconcile(key);
  CHECK(Status("lastAppliedRevision") == "main@sha1:" + first);
}

TEST_CASE_FIXTURE(GitFixture, "GitRepository: without a place for mirrors, the source says so and is not retried") {
  shared.sources = nullptr;
  Commit(Volume("1"));
  Apply("apiVersion: keelson.dev/v1alpha1\nkind: GitRepository\nmetadata: {name: fleet}\nspec:\n  url: " +
        (dir / "repo").string() + "\n");
  auto out = reconciler.Reconcile("GitRepository/default/fleet");
  REQUIRE(out.error.has_value());
  CHECK(out.error->code == ErrorCode::kInvalid);
  CHECK(Reason("GitRepository/default/fleet") == "InvalidSpec");
}

}  // namespace
}  // namespace keelson::testing
