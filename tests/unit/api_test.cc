// The API server's parts that need no listener: authorization, rate limits,
// the audit log and the OpenAPI document's protobuf encoding.

#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

#include "api/audit.h"
#include "api/field_ownership.h"
#include "api/openapi.h"
#include "api/rate_limit.h"
#include "api/rbac.h"
#include "fake_clock.h"

using namespace keelson;
using namespace keelson::api;
using nlohmann::json;

namespace {

struct RbacFixture {
  testing::FakeClock clock;
  std::unique_ptr<store::Db> db = *store::Db::Open(":memory:");
  store::RbacStore rbac{*db, clock};

  void Bind(const std::string& kind, const std::string& ns, const std::string& name, const std::string& role_kind,
            const std::string& role, json subjects) {
    json doc = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                {"kind", kind},
                {"metadata", {{"name", name}}},
                {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", role_kind}, {"name", role}}},
                {"subjects", subjects}};
    REQUIRE(rbac.Create(kind, ns, doc));
  }
  bool Can(const Identity& who, Attributes a) {
    auto d = Authorize(rbac, who, a);
    REQUIRE(d);
    return d->allowed;
  }
};

json User(const std::string& name) { return json::array({{{"kind", "User"}, {"name", name}}}); }

}  // namespace

TEST_CASE_FIXTURE(RbacFixture, "Authorize: system:masters may do anything; nobody else anything ungranted") {
  const Identity admin{"admin", {"system:masters"}}, bob{"bob", {"ci"}};
  CHECK(Can(admin, {"delete", "keelson.dev", "runners", "", "web", "team"}));
  CHECK(Can(admin, {"create", "rbac.authorization.k8s.io", "clusterrolebindings", "", "", ""}));
  CHECK_FALSE(Can(bob, {"get", "keelson.dev", "runners", "", "web", "team"}));
}

TEST_CASE_FIXTURE(RbacFixture, "Authorize: a RoleBinding grants its role in its own namespace only") {
  const Identity bob{"bob", {"ci"}};
  Bind("RoleBinding", "team", "ci-view", "ClusterRole", "view", json::array({{{"kind", "Group"}, {"name", "ci"}}}));
  CHECK(Can(bob, {"list", "keelson.dev", "runners", "", "", "team"}));
  CHECK(Can(bob, {"watch", "keelson.dev", "runnerpools", "", "", "team"}));
  CHECK_FALSE(Can(bob, {"patch", "keelson.dev", "runners", "", "web", "team"}));
  CHECK_FALSE(Can(bob, {"list", "keelson.dev", "runners", "", "", "other"}));
  CHECK_FALSE(Can(bob, {"list", "keelson.dev", "runners", "", "", ""}));  // cluster-wide
  CHECK_FALSE(Can(Identity{"eve", {"qa"}}, {"list", "keelson.dev", "runners", "", "", "team"}));
}

TEST_CASE_FIXTURE(RbacFixture, "Authorize: rules match verbs, groups, subresources and resource names") {
  json role = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
               {"kind", "Role"},
               {"metadata", {{"name", "scaler"}}},
               {"rules",
                {{{"apiGroups", {"keelson.dev"}}, {"resources", {"runnerpools/scale"}}, {"verbs", {"update", "patch"}},
                  {"resourceNames", {"ci-runners"}}}}}};
  REQUIRE(rbac.Create("Role", "team", role));
  Bind("RoleBinding", "team", "scaler", "Role", "scaler", User("hpa"));
  const Identity hpa{"hpa", {}};
  CHECK(Can(hpa, {"patch", "keelson.dev", "runnerpools", "scale", "ci-runners", "team"}));
  CHECK_FALSE(Can(hpa, {"patch", "keelson.dev", "runnerpools", "scale", "other", "team"}));
  CHECK_FALSE(Can(hpa, {"patch", "keelson.dev", "runnerpools", "", "ci-runners", "team"}));
  CHECK_FALSE(Can(hpa, {"patch", "apps", "runnerpools", "scale", "ci-runners", "team"}));
  CHECK_FALSE(Can(hpa, {"delete", "keelson.dev", "runnerpools", "scale", "ci-runners", "team"}));
  // A Role of another namespace does not count, even by the same name.
  Bind("RoleBinding", "other", "scaler", "Role", "scaler", User("hpa"));
  CHECK_FALSE(Can(hpa, {"patch", "keelson.dev", "runnerpools", "scale", "ci-runners", "other"}));
}

TEST_CASE_FIXTURE(RbacFixture, "Authorize: a ClusterRoleBinding grants everywhere") {
  Bind("ClusterRoleBinding", "", "everyone-edits", "ClusterRole", "edit", User("ops"));
  const Identity ops{"ops", {}};
  CHECK(Can(ops, {"create", "keelson.dev", "runners", "", "", "a"}));
  CHECK(Can(ops, {"list", "keelson.dev", "runners", "", "", ""}));
  CHECK_FALSE(Can(ops, {"create", "rbac.authorization.k8s.io", "rolebindings", "", "", "a"}));
}

TEST_CASE("RateLimiter: a burst, then the rate") {
  testing::FakeClock clock;
  RateLimiter limiter(2, 5);
  for (int i = 0; i < 5; ++i) CHECK(limiter.Allow("bob", clock.Now()));
  CHECK_FALSE(limiter.Allow("bob", clock.Now()));
  CHECK(limiter.Allow("alice", clock.Now()));  // each key its own bucket
  clock.Advance(std::chrono::milliseconds(500));
  CHECK(limiter.Allow("bob", clock.Now()));
  CHECK_FALSE(limiter.Allow("bob", clock.Now()));
  clock.Advance(std::chrono::seconds(60));
  for (int i = 0; i < 5; ++i) CHECK(limiter.Allow("bob", clock.Now()));  // never more than the burst
  CHECK_FALSE(limiter.Allow("bob", clock.Now()));
}

TEST_CASE("AuditLog: who, what and the answer, never the body; rotated and bounded") {
  testing::FakeClock clock;
  const auto dir = std::filesystem::temp_directory_path() / ("keelson-audit-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto path = dir / "state.db.api-audit.log";
  AuditLog log(path, clock, 2000, 2);
  server::Request r;
  r.method = "POST";
  r.path = "/apis/keelson.dev/v1alpha1/namespaces/team/runners";
  r.peer = "127.0.0.1";
  r.body = R"({"spec":{"env":[{"name":"TOKEN","value":"s3cret-value"}]}})";
  const Identity bob{"bob", {"ci"}};
  log.Record(&bob, r, 201);
  std::ifstream in(path);
  std::string line;
  REQUIRE(std::getline(in, line));
  json event = json::parse(line);
  CHECK(event["verb"] == "create");
  CHECK(event["user"]["username"] == "bob");
  CHECK(event["objectRef"]["namespace"] == "team");
  CHECK(event["objectRef"]["resource"] == "runners");
  CHECK(event["responseStatus"]["code"] == 201);
  CHECK(line.find("s3cret") == std::string::npos);
  CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::others_read) == std::filesystem::perms::none);
  for (int i = 0; i < 100; ++i) log.Record(nullptr, r, 401);
  CHECK(std::filesystem::file_size(path) <= 2000);
  CHECK(std::filesystem::exists(path.string() + ".1"));
  CHECK(std::filesystem::exists(path.string() + ".2"));
  CHECK_FALSE(std::filesystem::exists(path.string() + ".3"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("OpenAPI: schemas encode as gnostic's openapi.v2.Schema") {
  // type (field 22) is a TypeItem whose field 1 holds "string".
  CHECK(EncodeSchema({{"type", "string"}}) == std::string("\xb2\x01\x08\x0a\x06string", 11));
  // description (4), then a vendor extension (31: NamedAny{name, Any{yaml}}).
  const std::string ext = EncodeSchema({{"description", "d"}, {"x-k", true}});
  CHECK(ext == std::string("\x22\x01" "d" "\xfa\x01\x0d\x0a\x03x-k\x12\x06\x12\x04" "true", 19));
  // The document: swagger "2.0" first, every kind a definition with its GVK.
  const std::string& doc = OpenApiV2Protobuf();
  CHECK(doc.substr(0, 5) == std::string("\x0a\x03" "2.0", 5));
  for (const char* kind : {"Runner", "RunnerPool", "Image", "Network", "Volume", "Policy"}) {
    CHECK(doc.find(std::string("dev.keelson.v1alpha1.") + kind) != std::string::npos);
    CHECK(OpenApiV2()["definitions"]["dev.keelson.v1alpha1." + std::string(kind)]["x-kubernetes-group-version-kind"][0]["kind"] ==
          kind);
  }
}

TEST_CASE("Server-side apply: fields, conflicts and the merged object") {
  const json applied = {{"apiVersion", "keelson.dev/v1alpha1"},
                        {"kind", "Runner"},
                        {"metadata", {{"name", "web"}, {"labels", {{"app", "web"}}}}},
                        {"spec", {{"image", "a:1"}, {"command", {"sleep", "1"}}, {"resources", {{"cpus", "1"}}}}}};
  const FieldSet fields = FieldsOf(applied);
  CHECK(fields == FieldSet{"/metadata/labels/app", "/spec/command", "/spec/image", "/spec/resources/cpus"});

  json live = applied;
  live["spec"]["image"] = "b:2";
  live["spec"]["stopTimeout"] = "10s";
  // Another manager owns the image, with another value: a conflict, named as Kubernetes names it.
  std::map<std::string, FieldSet> owners = {{"ops", {"/spec/image"}}, {"me", {"/spec/command"}}};
  auto conflicts = Conflicts(owners, "me", fields, live, applied);
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0].manager == "ops");
  CHECK(conflicts[0].field == ".spec.image");
  // The same value is no conflict; nor is a field only "me" owns.
  live["spec"]["image"] = "a:1";
  CHECK(Conflicts(owners, "me", fields, live, applied).empty());
  // A map one manager owns as a whole conflicts with a key another sets under it.
  CHECK(Conflicts({{"ops", {"/spec/resources"}}}, "me", fields, json{{"spec", {{"resources", {{"cpus", "2"}}}}}}, applied)
            .size() == 1);

  // Merge: what "me" dropped goes unless another owns it; what it sets lands; the rest stays.
  json before_live = {{"metadata", {{"labels", {{"old", "x"}, {"shared", "y"}}}}},
                      {"spec", {{"image", "a:0"}, {"env", json::array()}, {"stopTimeout", "10s"}}}};
  const FieldSet before = {"/metadata/labels/old", "/metadata/labels/shared", "/spec/env"};
  json merged = Merge(before_live, applied, fields, before, {{"ops", {"/metadata/labels/shared"}}});
  CHECK_FALSE(merged["metadata"]["labels"].contains("old"));
  CHECK(merged["metadata"]["labels"]["shared"] == "y");
  CHECK(merged["metadata"]["labels"]["app"] == "web");
  CHECK_FALSE(merged["spec"].contains("env"));
  CHECK(merged["spec"]["image"] == "a:1");
  CHECK(merged["spec"]["stopTimeout"] == "10s");
  CHECK(merged["spec"]["resources"]["cpus"] == "1");
}
