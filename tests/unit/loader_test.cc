#include <filesystem>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>

#include "manifest/crds.h"
#include "manifest/loader.h"
#include "util/secret_file.h"

using namespace keelson;
using namespace keelson::manifest;

namespace {

LoadResult Load(const std::string& text, const std::string& ns = "default") {
  return LoadManifests({Source{"m.yaml", text}}, ns, CrdSet::Builtin());
}

std::string FirstError(const LoadResult& r) { return r.errors.empty() ? "" : r.errors[0].ToString(); }

const char* kRunner = R"(apiVersion: keelson.dev/v1alpha1
kind: Runner
metadata:
  name: web
spec:
  image: busybox:1
)";

}  // namespace

TEST_CASE("CrdSet: every kind's CRD in crds/ compiles") {
  const CrdSet& crds = CrdSet::Builtin();
  for (const auto& info : model::AllKinds()) {
    CAPTURE(info.name);
    auto errs = crds.For(info.kind).Validate(nlohmann::json::object());
    CHECK_FALSE(errs.empty());  // apiVersion, kind, metadata, spec are required
  }
}

TEST_CASE("LoadManifests: a valid Runner gets its defaults and the default namespace") {
  auto r = Load(kRunner, "team-a");
  REQUIRE(r.errors.empty());
  REQUIRE(r.objects.size() == 1);
  const auto& o = r.objects[0].object;
  CHECK(o.kind == model::Kind::kRunner);
  CHECK(o.meta.namespace_ == "team-a");
  CHECK(o.spec["restartPolicy"] == "Always");
  CHECK(o.spec["stopTimeout"] == "10s");
}

TEST_CASE("LoadManifests: RunnerPool defaults, strategy included") {
  auto r = Load(R"(apiVersion: keelson.dev/v1alpha1
kind: RunnerPool
metadata: {name: ci}
spec:
  template: {image: busybox:1, ports: [{containerPort: 80}]}
)");
  REQUIRE(r.errors.empty());
  const auto& spec = r.objects[0].object.spec;
  // replicas and the template's stopTimeout have no schema default: absent,
  // an autoscaled pool reads them otherwise (1 / 10s otherwise).
  CHECK_FALSE(spec.contains("replicas"));
  CHECK_FALSE(spec["template"].contains("stopTimeout"));
  CHECK(spec["ephemeral"] == false);
  CHECK(spec["strategy"] == nlohmann::json{{"type", "RollingUpdate"}, {"maxSurge", 1}, {"maxUnavailable", 0}});
  CHECK(spec["template"]["ports"][0]["protocol"] == "tcp");
}

TEST_CASE("LoadManifests: errors say file, line, column and field") {
  CHECK(FirstError(Load(std::string(kRunner) + "  replicas: 2\n")) ==
        "m.yaml:7:3: spec.replicas: unknown field");
  CHECK(FirstError(Load("apiVersion: v1\nkind: Runner\n")) ==
        "m.yaml:1:13: apiVersion: must be keelson.dev/v1alpha1, got \"v1\"");
  CHECK(FirstError(Load("apiVersion: keelson.dev/v1alpha1\nkind: Pod\nmetadata: {name: a}\n")).find(
            "m.yaml:2:7: kind: unknown kind \"Pod\"") == 0);
  CHECK(FirstError(Load("- a\n- b\n")) == "m.yaml:1:1: a manifest must be a mapping");
  CHECK(FirstError(Load("apiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {name: a}\nspec: {}\n")) ==
        "m.yaml:4:7: spec: one of image or imageRef is required");
}

TEST_CASE("LoadManifests: what a schema cannot say") {
  auto both = Load(std::string(kRunner) + "  imageRef: img\n");
  CHECK(FirstError(both) == "m.yaml:7:3: spec.imageRef: set either image or imageRef, not both");
  auto env = Load(std::string(kRunner) + "  env:\n    - name: A\n");
  CHECK(FirstError(env) == "m.yaml:8:7: spec.env[0]: set exactly one of value or valueFrom");
  auto reserved = Load(std::string(kRunner) + "  labels: {dev.keelson.managed-by: me}\n");
  CHECK(FirstError(reserved).find("reserved for keelson") != std::string::npos);
  auto label = Load("apiVersion: keelson.dev/v1alpha1\nkind: Volume\nmetadata:\n  name: v\n  labels: {\"bad key!\": x}\nspec: {}\n");
  CHECK(FirstError(label).find("m.yaml:5:12: metadata.labels[\"bad key!\"]: invalid key") == 0);
}

TEST_CASE("LoadManifests: duplicate objects across files are refused") {
  auto r = LoadManifests({Source{"a.yaml", kRunner}, Source{"b.yaml", kRunner}}, "default", CrdSet::Builtin());
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].ToString() == "b.yaml:1:1: duplicate object runner/web in namespace default (first at a.yaml:1)");
  auto other_ns = LoadManifests({Source{"a.yaml", kRunner}, Source{"b.yaml", kRunner}}, "x", CrdSet::Builtin());
  CHECK(other_ns.errors.size() == 1);
}

TEST_CASE("LoadManifests: status and read-only metadata are dropped without a word") {
  auto r = Load(std::string(kRunner) + "status: {state: running}\n");
  REQUIRE(r.errors.empty());
  CHECK(r.warnings.empty());
  CHECK(r.objects[0].object.status.empty());
}

TEST_CASE("LoadManifests: a List stands for its items, errors at their lines") {
  const std::string list =
      "apiVersion: v1\n"
      "kind: List\n"
      "items:\n"
      "  - apiVersion: keelson.dev/v1alpha1\n"
      "    kind: Volume\n"
      "    metadata: {name: a, uid: x, resourceVersion: \"7\"}\n"
      "    spec: {driver: local}\n"
      "    status: {phase: Ready}\n"
      "  - apiVersion: keelson.dev/v1alpha1\n"
      "    kind: Volume\n"
      "    metadata: {name: b}\n"
      "    spec: {driver: local, bogus: 1}\n";
  auto r = LoadManifests({Source{"all.yaml", list}}, "default", CrdSet::Builtin());
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].ToString() == "all.yaml:12:27: spec.bogus: unknown field");
  auto ok = LoadManifests({Source{"all.yaml", list.substr(0, list.find("  - apiVersion", 60))}}, "default",
                          CrdSet::Builtin());
  REQUIRE(ok.errors.empty());
  REQUIRE(ok.objects.size() == 1);
  CHECK(ok.objects[0].object.meta.name == "a");
  CHECK(ok.objects[0].mark.line == 4);
}

TEST_CASE("ReadSources: stdin, files and missing paths") {
  std::istringstream in(kRunner);
  auto s = ReadSources({"-"}, false, in);
  REQUIRE(s);
  CHECK(s->at(0).name == "<stdin>");
  auto missing = ReadSources({"/nonexistent/x.yaml"}, false, in);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::kNotFound);
}

TEST_CASE("LoadManifests: a large file loads in pieces to what one piece would give") {
  // More than one piece (64 KiB) of documents, with errors and a duplicate
  // far apart: the result is in file order whatever thread parsed what.
  std::string text;
  int line = 1;
  std::vector<int> bad_lines;
  for (int i = 0; i < 3000; ++i) {
    text += "---\napiVersion: keelson.dev/v1alpha1\nkind: Volume\nmetadata:\n  name: v" + std::to_string(i % 2999) +
            "\nspec:\n  driver: " + (i % 1000 == 7 ? "[oops]" : "local") + "\n";
    if (i % 1000 == 7) bad_lines.push_back(line + 6);
    line += 7;
  }
  REQUIRE(text.size() > 3 * (64 << 10));
  auto r = Load(text);
  REQUIRE(r.errors.size() == 4);  // three wrong types, then the duplicate v0
  for (size_t i = 0; i < 3; ++i) {
    CHECK(r.errors[i].ToString() == "m.yaml:" + std::to_string(bad_lines[i]) + ":11: spec.driver: must be of type string, got array");
  }
  CHECK(r.errors[3].ToString() == "m.yaml:20995:1: duplicate object volume/v0 in namespace default (first at m.yaml:2)");
  REQUIRE(r.objects.size() == 2999 - 3);
  CHECK(r.objects.front().object.meta.name == "v0");
  CHECK(r.objects.back().object.meta.name == "v2998");
  CHECK(r.objects.back().mark.line == 2998 * 7 + 2);  // its metadata line, after "---"
}

namespace {

// A manifest directory in a temp dir, with a secret inside it, one beside it
// and a symlink inside pointing out.
struct PathsFixture {
  std::filesystem::path root = std::filesystem::temp_directory_path() /
                               ("keelson-paths-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
  std::filesystem::path dir = root / "manifests";
  PathsFixture() {
    std::filesystem::create_directories(dir / "secrets");
    std::filesystem::create_directories(root / "outside");
    std::ofstream(dir / "secrets" / "token") << "t\n";
    std::ofstream(root / "outside" / "token") << "o\n";
    std::filesystem::create_symlink(root / "outside" / "token", dir / "secrets" / "link");
  }
  ~PathsFixture() { std::filesystem::remove_all(root); }
  LoadResult Load(const std::string& text, std::vector<std::filesystem::path> allowed = {}) {
    return LoadManifests({Source{(dir / "m.yaml").string(), text}}, "default", CrdSet::Builtin(), allowed);
  }
  static std::string EnvFile(const std::string& path) {
    return "apiVersion: keelson.dev/v1alpha1\nkind: Runner\nmetadata: {name: web}\nspec:\n  image: busybox:1\n"
           "  env:\n    - name: TOKEN\n      valueFrom: {file: " + path + "}\n";
  }
};

}  // namespace

TEST_CASE_FIXTURE(PathsFixture, "LoadManifests: files a spec names are confined to the manifest's directory") {
  auto inside = Load(EnvFile("secrets/token"));
  REQUIRE(inside.errors.empty());
  CHECK(inside.objects[0].object.spec["env"][0]["valueFrom"]["file"] ==
        std::filesystem::canonical(dir / "secrets" / "token").string());

  for (const std::string path : {"../outside/token", "../../../../../../etc/hostname", "/etc/shadow", "secrets/link"}) {
    CAPTURE(path);
    auto r = Load(EnvFile(path));
    REQUIRE(r.errors.size() == 1);
    const std::string e = r.errors[0].ToString();
    CAPTURE(e);
    CHECK(e.find("m.yaml:8:25: spec.env[0].valueFrom.file: " + path + ": resolves to ") != std::string::npos);
    CHECK(e.find("outside the manifest's directory") != std::string::npos);
    CHECK(r.objects.empty());
  }
  // A directory listed as allowed (KEELSON_ALLOWED_PATHS) may be named, through a symlink too.
  auto allowed = Load(EnvFile("secrets/link"), {root / "outside"});
  REQUIRE(allowed.errors.empty());
  CHECK(allowed.objects[0].object.spec["env"][0]["valueFrom"]["file"] ==
        std::filesystem::canonical(root / "outside" / "token").string());
  // In a pool's template, a build context and a password file alike.
  auto pool = Load("apiVersion: keelson.dev/v1alpha1\nkind: RunnerPool\nmetadata: {name: p}\nspec:\n  replicas: 1\n"
                   "  template:\n    image: busybox:1\n    env: [{name: T, valueFrom: {file: ../outside/token}}]\n");
  CHECK(FirstError(pool).find("spec.template.env[0].valueFrom.file: ../outside/token: resolves to") != std::string::npos);
  auto image = Load("apiVersion: keelson.dev/v1alpha1\nkind: Image\nmetadata: {name: i}\nspec:\n"
                    "  ref: 127.0.0.1:5000/x:1\n  build: {context: ../outside}\n"
                    "  auth: {registry: 127.0.0.1:5000, username: u, passwordFile: ../outside/token}\n");
  REQUIRE(image.errors.size() == 2);
  CHECK(image.errors[0].ToString().find("spec.build.context: ../outside: resolves to") != std::string::npos);
  CHECK(image.errors[1].ToString().find("spec.auth.passwordFile: ../outside/token: resolves to") != std::string::npos);
}

TEST_CASE("LoadManifests: registry credentials are bound to the registry of spec.ref") {
  auto image = [](const std::string& ref, const std::string& registry) {
    return Load("apiVersion: keelson.dev/v1alpha1\nkind: Image\nmetadata: {name: i}\nspec:\n  ref: " + ref +
                "\n  auth: {registry: '" + registry + "', username: u, passwordFile: /p}\n");
  };
  CHECK(FirstError(image("127.0.0.1:5000/ci/x:1", "127.0.0.1:5000")).find("registry") == std::string::npos);
  CHECK(FirstError(image("busybox:1", "https://index.docker.io/v1/")).find("auth.registry") == std::string::npos);
  CHECK(FirstError(image("ghcr.io/o/x:1", "GHCR.io")).find("auth.registry") == std::string::npos);
  CHECK(FirstError(image("127.0.0.1:5001/x:1", "127.0.0.1:5000")) ==
        "m.yaml:6:20: spec.auth.registry: credentials for 127.0.0.1:5000 cannot be used for spec.ref, which is on "
        "127.0.0.1:5001 (credentials are sent only to the registry they name)");
  CHECK(FirstError(image("evil.example/x:1", "docker.io")).find("which is on evil.example") != std::string::npos);
  auto missing = Load("apiVersion: keelson.dev/v1alpha1\nkind: Image\nmetadata: {name: i}\nspec:\n  ref: x:1\n"
                      "  auth: {username: u, passwordFile: /p}\n");
  CHECK(FirstError(missing).find("spec.auth: missing required field \"registry\"") != std::string::npos);
}

TEST_CASE_FIXTURE(PathsFixture, "ReadSecretFile: the file apply checked, or an error that names the path, never the value") {
  CHECK(*ReadSecretFile((dir / "secrets" / "token").string()) == "t");
  // Replaced by a symlink after apply confined it: refused.
  auto link = ReadSecretFile((dir / "secrets" / "link").string());
  REQUIRE_FALSE(link.has_value());
  CHECK(link.error().message.find("became a symlink after apply") != std::string::npos);
  std::ofstream(dir / "big") << std::string(kMaxSecretFileBytes + 1, 'x');
  CHECK(ReadSecretFile((dir / "big").string()).error().message.find("larger than 1 MiB") != std::string::npos);
  CHECK(ReadSecretFile(dir.string()).error().message.find("not a regular file") != std::string::npos);
  std::ofstream(dir / "crlf") << "S3CR3T\r\n";
  CHECK(*ReadSecretFile((dir / "crlf").string()) == "S3CR3T");
  auto missing = ReadSecretFile((dir / "nope").string());
  CHECK(missing.error().message == "cannot read " + (dir / "nope").string() + ": No such file or directory");
}
