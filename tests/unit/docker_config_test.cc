// The docker CLI's configuration as keelson reads it: credentials from
// auths, credHelpers and credsStore, and contexts from the context store.

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include <unistd.h>

#include "docker/config_file.h"

using namespace keelson;
using namespace keelson::docker;
namespace fs = std::filesystem;

namespace {

struct ConfigDir {
  fs::path dir = fs::temp_directory_path() / ("keelson-dockercfg-" + std::to_string(::getpid()));
  std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "";
  std::optional<std::string> old_host =
      std::getenv("DOCKER_HOST") ? std::optional<std::string>(std::getenv("DOCKER_HOST")) : std::nullopt;
  ConfigDir() {
    ::unsetenv("DOCKER_HOST");
    fs::remove_all(dir);
    fs::create_directories(dir / "bin");
    ::setenv("DOCKER_CONFIG", dir.c_str(), 1);
    ::setenv("PATH", ((dir / "bin").string() + ":" + old_path).c_str(), 1);
    ::unsetenv("DOCKER_CONTEXT");
  }
  ~ConfigDir() {
    ::unsetenv("DOCKER_CONFIG");
    ::unsetenv("DOCKER_CONTEXT");
    ::setenv("PATH", old_path.c_str(), 1);
    if (old_host) ::setenv("DOCKER_HOST", old_host->c_str(), 1);
    fs::remove_all(dir);
  }
  void Write(const fs::path& rel, const std::string& text, bool exec = false) {
    fs::create_directories((dir / rel).parent_path());
    std::ofstream(dir / rel) << text;
    if (exec) fs::permissions(dir / rel, fs::perms::owner_all);
  }
  DockerConfig Load() {
    auto c = DockerConfig::Load();
    REQUIRE(c.has_value());
    return *c;
  }
};

std::optional<RegistryAuth> Creds(const DockerConfig& c, const std::string& registry) {
  auto r = c.CredentialsFor(registry);
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
  return *r;
}

}  // namespace

TEST_CASE("docker config: auths entries, keyed as docker login writes them") {
  ConfigDir d;
  CHECK_FALSE(Creds(d.Load(), "docker.io"));  // no file: no credentials, no error
  // "ci:s3cr:et" base64; Docker Hub under its v1 URL; a registry with scheme and path.
  d.Write("config.json", R"({"auths": {
      "https://index.docker.io/v1/": {"auth": "Y2k6czNjcjpldA=="},
      "http://127.0.0.1:5000/v2/": {"username": "u", "password": "p"},
      "registry.example:443": {"identitytoken": "tok"},
      "empty.example": {}}})");
  auto c = d.Load();
  auto hub = Creds(c, "docker.io");
  REQUIRE(hub);
  CHECK(hub->username == "ci");
  CHECK(hub->password == "s3cr:et");  // only the first colon splits
  auto local = Creds(c, "127.0.0.1:5000");
  REQUIRE(local);
  CHECK((local->username == "u" && local->password == "p" && local->server == "127.0.0.1:5000"));
  auto token = Creds(c, "registry.example:443");
  REQUIRE(token);
  CHECK(token->identity_token == "tok");
  CHECK_FALSE(Creds(c, "empty.example"));
  CHECK_FALSE(Creds(c, "127.0.0.1:5001"));  // another port is another registry
  d.Write("config.json", "{not json");
  auto bad = DockerConfig::Load();
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message.find("config.json") != std::string::npos);
}

TEST_CASE("docker config: credHelpers, then credsStore, run as docker-credential-NAME get") {
  ConfigDir d;
  // A helper that answers for one server address and says "not found" (exit 1) otherwise.
  d.Write("bin/docker-credential-fake",
          "#!/bin/sh\nread server\n[ \"$1\" = get ] || exit 3\n"
          "case \"$server\" in\n"
          "  https://index.docker.io/v1/) echo '{\"ServerURL\":\"x\",\"Username\":\"hub\",\"Secret\":\"hubpw\"}' ;;\n"
          "  127.0.0.1:5000) echo '{\"ServerURL\":\"x\",\"Username\":\"<token>\",\"Secret\":\"idtok\"}' ;;\n"
          "  *) echo 'credentials not found in native keychain'; exit 1 ;;\n"
          "esac\n",
          true);
  d.Write("config.json", R"({"credsStore": "fake", "credHelpers": {"ghcr.io": "missing"},
                             "auths": {"other.example": {"auth": "YTpi"}}})");
  auto c = d.Load();
  auto hub = Creds(c, "docker.io");
  REQUIRE(hub);
  CHECK((hub->username == "hub" && hub->password == "hubpw"));
  auto token = Creds(c, "127.0.0.1:5000");
  REQUIRE(token);
  CHECK((token->identity_token == "idtok" && token->username.empty()));
  // Not in the store: the auths entry, as the docker CLI falls back.
  auto other = Creds(c, "other.example");
  REQUIRE(other);
  CHECK((other->username == "a" && other->password == "b"));
  auto missing = c.CredentialsFor("ghcr.io");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message.find("docker-credential-missing is not on the PATH") != std::string::npos);
}

TEST_CASE("docker config: the current context, and the endpoint a context names") {
  ConfigDir d;
  CHECK(d.Load().CurrentContext().empty());
  d.Write("config.json", R"({"currentContext": "build"})");
  CHECK(d.Load().CurrentContext() == "build");
  ::setenv("DOCKER_CONTEXT", "default", 1);
  CHECK(d.Load().CurrentContext().empty());  // the default context: DOCKER_HOST or the default socket
  ::setenv("DOCKER_CONTEXT", "build", 1);
  auto none = ContextEndpoint(d.Load(), "build");
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().code == ErrorCode::kNotFound);
  CHECK(none.error().message.find("context \"build\": context not found") != std::string::npos);
  // sha256("build"), as the docker CLI names a context's directory (docker context create writes it so).
  const std::string id = "44575cf5b28512d75644bf54a517dcef304ff809fd511747621b4d64f19aac66";
  d.Write("contexts/meta/" + id + "/meta.json",
          R"({"Name":"build","Metadata":{},"Endpoints":{"docker":{"Host":"unix:///run/build.sock","SkipTLSVerify":false}}})");
  auto unix_socket = ContextEndpoint(d.Load(), "build");
  REQUIRE(unix_socket.has_value());
  CHECK(unix_socket->ToString() == "unix:///run/build.sock");
  // With TLS material in the context store: used as DOCKER_CERT_PATH would be.
  d.Write("contexts/meta/" + id + "/meta.json",
          R"({"Name":"build","Endpoints":{"docker":{"Host":"tcp://10.0.0.5:2376"}}})");
  d.Write("contexts/tls/" + id + "/docker/ca.pem", "x");
  auto tcp = ContextEndpoint(d.Load(), "build");
  REQUIRE(tcp.has_value());
  CHECK(tcp->tls);
  CHECK(tcp->host_port == "10.0.0.5:2376");
  CHECK(tcp->ca_file == (d.dir / "contexts/tls" / id / "docker/ca.pem").string());
  // DOCKER_HOST wins over the context, as in the docker CLI.
  ::setenv("DOCKER_HOST", "unix:///tmp/other.sock", 1);
  CHECK(EndpointFromEnvironment("")->ToString() == "unix:///tmp/other.sock");
  ::unsetenv("DOCKER_HOST");
  CHECK(EndpointFromEnvironment("")->ToString() == "tcp://10.0.0.5:2376 (TLS)");
  CHECK(EndpointFromEnvironment("unix:///flag.sock")->ToString() == "unix:///flag.sock");
}
