// Policies: each rule on the specs that break it and the specs that do not.

#include <doctest/doctest.h>

#include "policy/policy.h"

using namespace keelson;
using nlohmann::json;

namespace {

std::vector<std::string> Rules(const json& rules, const json& spec, model::Kind kind = model::Kind::kRunner) {
  std::vector<std::string> out;
  for (const auto& v : policy::Check(rules, kind, spec)) out.push_back(v.rule);
  return out;
}

std::string Where(const json& rules, const json& spec, model::Kind kind = model::Kind::kRunner) {
  auto v = policy::Check(rules, kind, spec);
  return v.empty() ? "" : manifest::PathString(v.front().path);
}

const json kFine = {{"image", "127.0.0.1:5000/ci/runner:1"},
                    {"user", "1000:1000"},
                    {"resources", {{"cpus", "0.5"}, {"memory", "256Mi"}}},
                    {"securityContext", {{"readOnlyRootFilesystem", true}}},
                    {"binds", {{{"hostPath", "/srv/ci/work"}, {"mountPath", "/work"}}}}};

const json kAll = {{"denyPrivileged", true},         {"denyDockerSocket", true},
                   {"denyHostPathBinds", true},      {"allowedHostPaths", {"/srv/ci"}},
                   {"allowedRegistries", {"127.0.0.1:5000", "docker.io/keelson-test"}},
                   {"requireResources", true},       {"requireNonRoot", true},
                   {"requireReadOnlyRootFilesystem", true},
                   {"maxMemory", "2Gi"},             {"maxCpus", "2"}};

json With(json spec, const json& patch) {
  spec.merge_patch(patch);
  return spec;
}

}  // namespace

TEST_CASE("policy: a spec within every rule breaks none") {
  CHECK(Rules(kAll, kFine).empty());
  CHECK(Rules(json::object(), json::object()).empty());  // no rules, nothing to break
}

TEST_CASE("policy: denyPrivileged") {
  auto spec = With(kFine, {{"securityContext", {{"privileged", true}}}});
  CHECK(Rules({{"denyPrivileged", true}}, spec) == std::vector<std::string>{"denyPrivileged"});
  CHECK(Where({{"denyPrivileged", true}}, spec) == "spec.securityContext.privileged");
  CHECK(Rules({{"denyPrivileged", false}}, spec).empty());
}

TEST_CASE("policy: host path binds by whole, normalised path components") {
  json rules = {{"denyHostPathBinds", true}, {"allowedHostPaths", {"/srv/ci/"}}};
  auto bind = [](const std::string& host) { return json{{"binds", {{{"hostPath", host}, {"mountPath", "/m"}}}}}; };
  CHECK(Rules(rules, bind("/srv/ci")).empty());
  CHECK(Rules(rules, bind("/srv/ci/cache/")).empty());
  CHECK(Rules(rules, bind("/srv/cia")) == std::vector<std::string>{"denyHostPathBinds"});
  CHECK(Rules(rules, bind("/srv/ci/../../etc")) == std::vector<std::string>{"denyHostPathBinds"});
  CHECK(Where(rules, bind("/etc")) == "spec.binds[0].hostPath");
  // No allowed paths: every bind is refused; allowedHostPaths alone restricts too.
  CHECK(Rules({{"denyHostPathBinds", true}}, bind("/srv/ci")) == std::vector<std::string>{"denyHostPathBinds"});
  CHECK(Rules({{"allowedHostPaths", {"/data"}}}, bind("/etc")) == std::vector<std::string>{"denyHostPathBinds"});
  CHECK(Rules({{"allowedHostPaths", {"/"}}}, bind("/etc")).empty());
}

TEST_CASE("policy: denyDockerSocket catches the socket and the directories holding it") {
  json rules = {{"denyDockerSocket", true}};
  auto bind = [](const std::string& host) { return json{{"binds", {{{"hostPath", host}, {"mountPath", "/m"}}}}}; };
  for (const char* host : {"/var/run/docker.sock", "/run/docker.sock", "/var/run", "/run/", "/", "/var"}) {
    CAPTURE(host);
    CHECK(Rules(rules, bind(host)) == std::vector<std::string>{"denyDockerSocket"});
  }
  CHECK(Rules(rules, bind("/var/run/other.sock")).empty());
  CHECK(Rules(rules, bind("/srv/ci")).empty());
}

TEST_CASE("policy: allowedRegistries resolves names as the engine does") {
  CHECK(policy::RegistryOf("busybox") == "docker.io");
  CHECK(policy::RegistryOf("team/tool:1") == "docker.io");
  CHECK(policy::RegistryOf("127.0.0.1:5000/ci/runner:1") == "127.0.0.1:5000");
  CHECK(policy::RegistryOf("localhost/x") == "localhost");
  CHECK(policy::RegistryOf("ghcr.io/o/r@sha256:abc") == "ghcr.io");
  CHECK(policy::RepositoryOf("busybox:1") == "docker.io/library/busybox");
  CHECK(policy::RepositoryOf("docker.io/busybox") == "docker.io/library/busybox");
  CHECK(policy::RepositoryOf("keelson-test/busybox:1") == "docker.io/keelson-test/busybox");
  CHECK(policy::RepositoryOf("127.0.0.1:5000/ci/runner:1.4") == "127.0.0.1:5000/ci/runner");

  json rules = {{"allowedRegistries", {"127.0.0.1:5000", "docker.io/keelson-test"}}};
  CHECK(Rules(rules, {{"image", "127.0.0.1:5000/ci/runner:1"}}).empty());
  CHECK(Rules(rules, {{"image", "keelson-test/busybox:1"}}).empty());
  CHECK(Rules(rules, {{"image", "keelson-testing/busybox:1"}}) == std::vector<std::string>{"allowedRegistries"});
  CHECK(Rules(rules, {{"image", "busybox"}}) == std::vector<std::string>{"allowedRegistries"});
  CHECK(Rules(rules, {{"image", "127.0.0.2:5000/x"}}) == std::vector<std::string>{"allowedRegistries"});
  CHECK(Rules({{"allowedRegistries", {"docker.io"}}}, {{"image", "busybox"}}).empty());
  // An imageRef is judged where the Image is: its spec.ref.
  CHECK(Rules(rules, {{"imageRef", "anything"}}).empty());
  CHECK(Where(rules, {{"ref", "quay.io/x/y:1"}}, model::Kind::kImage) == "spec.ref");
}

TEST_CASE("policy: resources required and bounded; no limit breaks a maximum") {
  json rules = {{"requireResources", true}, {"maxMemory", "1Gi"}, {"maxCpus", 1}};
  CHECK(Rules(rules, {{"resources", {{"cpus", "500m"}, {"memory", "1024Mi"}}}}).empty());
  CHECK(Rules(rules, {{"resources", {{"cpus", 1.5}, {"memory", "1Gi"}}}}) == std::vector<std::string>{"maxCpus"});
  CHECK(Where(rules, {{"resources", {{"cpus", 1.5}, {"memory", "1Gi"}}}}) == "spec.resources.cpus");
  CHECK(Rules(rules, {{"resources", {{"cpus", 1}, {"memory", "2G"}}}}) == std::vector<std::string>{"maxMemory"});
  CHECK(Rules(rules, json::object()) == std::vector<std::string>{"requireResources", "maxMemory", "maxCpus"});
  // Zero is no limit to the engine: it breaks a maximum, it does not pass it.
  CHECK(Rules(rules, {{"resources", {{"cpus", 1}, {"memory", "0"}}}}) == std::vector<std::string>{"maxMemory"});
  CHECK(Where(rules, {{"resources", {{"cpus", 1}, {"memory", 0}}}}) == "spec.resources.memory");
  CHECK(Rules(rules, {{"resources", {{"cpus", "0"}, {"memory", "1Gi"}}}}) == std::vector<std::string>{"maxCpus"});
}

TEST_CASE("policy: requireNonRoot and requireReadOnlyRootFilesystem") {
  json rules = {{"requireNonRoot", true}};
  CHECK(Rules(rules, {{"user", "runner"}}).empty());
  CHECK(Rules(rules, {{"user", "1000:0"}}).empty());
  for (const char* user : {"root", "0", "0:0", "root:wheel"}) {
    CAPTURE(user);
    CHECK(Rules(rules, {{"user", user}}) == std::vector<std::string>{"requireNonRoot"});
  }
  CHECK(Rules(rules, json::object()) == std::vector<std::string>{"requireNonRoot"});  // the image may run as root
  json ro = {{"requireReadOnlyRootFilesystem", true}};
  CHECK(Rules(ro, {{"securityContext", {{"readOnlyRootFilesystem", true}}}}).empty());
  CHECK(Rules(ro, {{"securityContext", {{"readOnlyRootFilesystem", false}}}}).size() == 1);
}

TEST_CASE("policy: a pool is judged by its template, with paths under spec.template") {
  json pool = {{"replicas", 2}, {"template", With(kFine, {{"securityContext", {{"privileged", true}}}})}};
  CHECK(Where({{"denyPrivileged", true}}, pool, model::Kind::kRunnerPool) == "spec.template.securityContext.privileged");
  CHECK(Rules(kAll, {{"driver", "bridge"}}, model::Kind::kNetwork).empty());
}

TEST_CASE("policy: scope is the policy's namespace, or every namespace from keelson-system") {
  auto make = [](model::Kind kind, const std::string& ns, const std::string& name, json spec) {
    model::Object o;
    o.kind = kind;
    o.meta.namespace_ = ns;
    o.meta.name = name;
    o.spec = std::move(spec);
    return o;
  };
  std::vector<model::Object> policies = {
      make(model::Kind::kPolicy, "team-a", "a", {{"enforcement", "warn"}, {"rules", {{"denyPrivileged", true}}}}),
      make(model::Kind::kPolicy, "keelson-system", "all", {{"rules", {{"requireNonRoot", true}}}}),
  };
  auto deleting = make(model::Kind::kPolicy, "team-b", "gone", {{"rules", {{"requireResources", true}}}});
  deleting.meta.deletion_timestamp = "2026-11-23T00:00:00Z";
  policies.push_back(deleting);

  json privileged_root = {{"securityContext", {{"privileged", true}}}};
  auto in_a = policy::Admit(policies, make(model::Kind::kRunner, "team-a", "r", privileged_root));
  REQUIRE(in_a.size() == 2);
  CHECK(in_a[0].policy == "team-a/a");
  CHECK(in_a[0].enforcement == "warn");
  CHECK(in_a[0].Describe() == "policy team-a/a (denyPrivileged): privileged containers are not allowed");
  CHECK(in_a[1].policy == "keelson-system/all");
  CHECK(in_a[1].enforcement == "enforce");  // the default
  auto in_b = policy::Admit(policies, make(model::Kind::kRunner, "team-b", "r", privileged_root));
  REQUIRE(in_b.size() == 1);  // team-a's policy is not theirs; a deleted one judges nobody
  CHECK(in_b[0].policy == "keelson-system/all");
}

TEST_CASE("policy: allowedSecretPaths bounds the files read into the environment, by whole path components") {
  const json rules = {{"allowedSecretPaths", {"/etc/keelson/secrets/"}}};
  auto env = [](const std::string& file) {
    return With(kFine, {{"env", {{{"name", "A"}, {"value", "x"}}, {{"name", "T"}, {"valueFrom", {{"file", file}}}}}}});
  };
  CHECK(Rules(rules, env("/etc/keelson/secrets/token")).empty());
  CHECK(Rules(rules, env("/etc/keelson/secrets-other/token")) == std::vector<std::string>{"allowedSecretPaths"});
  CHECK(Rules(rules, env("/etc/shadow")) == std::vector<std::string>{"allowedSecretPaths"});
  CHECK(Where(rules, env("/etc/shadow")) == "spec.env[1].valueFrom.file");
  CHECK(Rules(json::object(), env("/etc/shadow")).empty());  // no rule, no restriction
  CHECK(Rules(rules, kFine).empty());                         // literal values only
}
