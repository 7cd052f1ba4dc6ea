// Admission as every writer runs it, on a real SQLite: schema, dependsOn
// cycles, Policies, and read-modify-write that never loses a concurrent change.

#include <doctest/doctest.h>

#include "admission/admission.h"
#include "admission/rollback.h"
#include "fake_clock.h"
#include "manifest/crds.h"
#include "manifest/loader.h"
#include "store/object_store.h"

using namespace keelson;
using nlohmann::json;

namespace {

const char* kPool = R"(
apiVersion: keelson.dev/v1alpha1
kind: RunnerPool
metadata: {name: ci}
spec:
  replicas: 2
  template: {image: keelson-test/busybox:1, command: [sleep, "1000"]}
)";

const char* kEnforce = R"(
apiVersion: keelson.dev/v1alpha1
kind: Policy
metadata: {name: small}
spec:
  enforcement: enforce
  rules: {maxMemory: 64Mi}
)";

struct Fixture {
  testing::FakeClock clock;
  std::unique_ptr<store::Db> db = *store::Db::Open(":memory:");
  store::ObjectStore store{*db, clock};

  void Apply(const std::string& yaml) {
    auto loaded = manifest::LoadManifests({manifest::Source{"t.yaml", yaml}}, "default", manifest::CrdSet::Builtin());
    REQUIRE(loaded.errors.empty());
    std::vector<store::ApplyRequest> reqs;
    for (auto& lo : loaded.objects) reqs.push_back({std::move(lo.object), lo.source});
    REQUIRE(store.Apply(reqs, std::nullopt, false));
  }
  model::Object Pool() { return **store.Get(model::Kind::kRunnerPool, "default", "ci"); }
};

admission::SpecChange SetReplicas(int n) {
  return [n](const model::Object&, json& spec, std::string*) -> Result<bool> {
    spec["replicas"] = n;
    return true;
  };
}

}  // namespace

TEST_CASE_FIXTURE(Fixture, "admission::Update: a writer that lands between the read and the write is not lost") {
  Apply(kPool);
  int calls = 0;
  auto r = admission::Update(
      store, model::Kind::kRunnerPool, "default", "ci",
      [&](const model::Object&, json& spec, std::string*) -> Result<bool> {
        if (calls++ == 0) {
          // Another writer (an apply of a new template) gets in first.
          std::string changed = kPool;
          Apply(changed.replace(changed.find("\"1000\""), 6, "\"2000\""));
        }
        spec["replicas"] = 5;
        return true;
      },
      "keelson scale");
  REQUIRE(r);
  CHECK(calls == 2);  // read again after the conflict
  CHECK(Pool().spec["replicas"] == 5);
  CHECK(Pool().spec["template"]["command"][1] == "2000");  // both changes survive
  CHECK(Pool().meta.generation == 3);
}

TEST_CASE_FIXTURE(Fixture, "admission::Update: a writer that always loses gives up with a conflict") {
  Apply(kPool);
  int n = 0;
  auto r = admission::Update(
      store, model::Kind::kRunnerPool, "default", "ci",
      [&](const model::Object&, json& spec, std::string*) -> Result<bool> {
        std::string changed = kPool;
        Apply(changed.replace(changed.find("replicas: 2"), 11, "replicas: " + std::to_string(10 + n++)));
        spec["replicas"] = 1;
        return true;
      },
      "x");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kConflict);
  CHECK(n == admission::kUpdateAttempts);
}

TEST_CASE_FIXTURE(Fixture, "admission::Update: the schema and Policies judge an edited spec") {
  Apply(kPool);
  auto bad = admission::Update(store, model::Kind::kRunnerPool, "default", "ci", SetReplicas(-3), "keelson scale");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::kInvalid);
  CHECK(bad.error().message == "runnerpool/ci: spec.replicas: must be >= 0");
  CHECK(Pool().spec["replicas"] == 2);

  Apply(kEnforce);
  auto denied = admission::Update(
      store, model::Kind::kRunnerPool, "default", "ci",
      [](const model::Object&, json& spec, std::string*) -> Result<bool> {
        spec["template"]["resources"] = {{"memory", "1Gi"}};
        return true;
      },
      "edit");
  REQUIRE_FALSE(denied);
  CHECK(denied.error().message.find("runnerpool/ci: spec.template.resources.memory: denied by policy default/small (maxMemory)") == 0);
  CHECK_FALSE(Pool().spec["template"].contains("resources"));
}

TEST_CASE_FIXTURE(Fixture, "admission::Admit: a dependsOn cycle closed by an edit is refused") {
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: a}
spec: {image: keelson-test/busybox:1, dependsOn: [{kind: Runner, name: b}]}
---
apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata: {name: b}
spec: {image: keelson-test/busybox:1}
)");
  auto r = admission::Update(
      store, model::Kind::kRunner, "default", "b",
      [](const model::Object&, json& spec, std::string*) -> Result<bool> {
        spec["dependsOn"] = json::array({{{"kind", "Runner"}, {"name", "a"}}});
        return true;
      },
      "edit");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("spec.dependsOn: cycle:") != std::string::npos);
}

TEST_CASE_FIXTURE(Fixture, "admission::RestorePreviousTemplate: only while the pool is at the generation that failed") {
  Apply(kPool);
  std::string v2 = kPool;
  Apply(v2.replace(v2.find("\"1000\""), 6, "\"2000\""));
  const int64_t failed = Pool().meta.generation;
  std::string v3 = kPool;
  Apply(v3.replace(v3.find("\"1000\""), 6, "\"3000\""));  // the user moved on meanwhile
  auto skipped = admission::RestorePreviousTemplate(store, "default", "ci", "rollback: auto", failed);
  REQUIRE(skipped);
  CHECK_FALSE(skipped->has_value());
  CHECK(Pool().spec["template"]["command"][1] == "3000");

  auto undone = admission::RestorePreviousTemplate(store, "default", "ci", "keelson rollout undo");
  REQUIRE(undone);
  CHECK(**undone == failed);
  CHECK(Pool().spec["template"]["command"][1] == "2000");
  auto history = store.History(model::Kind::kRunnerPool, "default", "ci");
  CHECK(history->back().source == "keelson rollout undo (template of generation 2)");
}

TEST_CASE_FIXTURE(Fixture, "admission: an object a git source applied is that source's to write") {
  Apply(R"(
apiVersion: keelson.dev/v1alpha1
kind: RunnerPool
metadata:
  name: ci
  labels: {gitrepository.keelson.dev/name: fleet, gitrepository.keelson.dev/namespace: default}
spec:
  template: {image: keelson-test/busybox:1}
)");
  model::Object by_hand = Pool();
  by_hand.meta.labels.clear();
  auto refused = admission::Admit(store, {admission::Candidate{&by_hand, nullptr, {}}});
  REQUIRE(refused.has_value());
  REQUIRE(refused->errors.size() == 1);
  CHECK(refused->errors[0].line ==
        "runnerpool/ci: metadata: runnerpool/ci is managed by gitrepository default/fleet: change it in git, or take "
        "it with --force-conflicts");
  admission::Candidate forced{&by_hand, nullptr, {}, true};
  CHECK(admission::Admit(store, {forced})->admitted());

  model::Object same_source = Pool();
  same_source.spec["replicas"] = 3;
  CHECK(admission::Admit(store, {admission::Candidate{&same_source, nullptr, {}}})->admitted());

  model::Object other = Pool();
  other.meta.labels["gitrepository.keelson.dev/name"] = "platform";
  auto claimed = admission::Admit(store, {admission::Candidate{&other, nullptr, {}}});
  REQUIRE(claimed->errors.size() == 1);
  CHECK(claimed->errors[0].message ==
        "runnerpool/ci is managed by gitrepository default/fleet, not gitrepository default/platform (two sources claim "
        "it)");
  // Scale and the other read-modify-write verbs keep the labels: allowed.
  CHECK(admission::Update(store, model::Kind::kRunnerPool, "default", "ci", SetReplicas(5), "keelson scale").has_value());
}
