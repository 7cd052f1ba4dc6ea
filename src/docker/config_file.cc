#include "docker/config_file.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/sha.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "model/specs.h"

namespace keelson::docker {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr size_t kMaxConfigBytes = 1 << 20;
constexpr int kHelperTimeoutMs = 10000;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string Sha256Hex(const std::string& s) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string Base64Decode(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  int bits = 0, acc = 0;
  for (char c : in) {
    int v = value(c);
    if (v < 0) continue;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

struct Helped {
  int exit_code = -1;
  std::string out;
};

// Runs `program` with `input` on its stdin; its stdout, bounded, and exit code.
Result<Helped> RunHelper(const std::string& program, const std::string& input) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return Unexpected(ErrorCode::kInternal, "pipe failed");
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]);
    return Unexpected(ErrorCode::kInternal, "pipe failed");
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) ::dup2(devnull, 2);
    ::execlp(program.c_str(), program.c_str(), "get", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  if (pid < 0) {
    ::close(in[1]), ::close(out[0]);
    return Unexpected(ErrorCode::kInternal, "fork failed");
  }
  ::signal(SIGPIPE, SIG_IGN);
  (void)!::write(in[1], input.data(), input.size());
  ::close(in[1]);
  Helped h;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kHelperTimeoutMs);
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{out[0], POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      ::kill(pid, SIGKILL);
      break;
    }
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    if (h.out.size() < kMaxConfigBytes) h.out.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  h.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return h;
}

// A credential helper's answer for `registry` (nullopt: it has none).
Result<std::optional<RegistryAuth>> FromHelper(const std::string& helper, const std::string& registry) {
  const std::string program = "docker-credential-" + helper;
  auto h = RunHelper(program, ServerAddress(registry));
  if (!h) return Unexpected(h.error());
  if (h->exit_code == 127) {
    return Unexpected(ErrorCode::kInvalid, "docker config: credential helper " + program + " is not on the PATH");
  }
  // "credentials not found in native keychain" is an exit 1: no credentials.
  if (h->exit_code != 0) return std::optional<RegistryAuth>();
  auto j = json::parse(h->out, nullptr, false);
  if (!j.is_object()) {
    return Unexpected(ErrorCode::kInvalid, "docker config: " + program + " answered something other than JSON");
  }
  RegistryAuth a;
  a.server = registry;
  const std::string user = j.value("Username", ""), secret = j.value("Secret", "");
  if (user == "<token>") {
    a.identity_token = secret;  // as the docker CLI reads a helper's token
  } else {
    a.username = user;
    a.password = secret;
  }
  return std::optional<RegistryAuth>(a);
}

}  // namespace

std::string ServerAddress(const std::string& registry) {
  return registry == "docker.io" ? "https://index.docker.io/v1/" : registry;
}

Result<DockerConfig> DockerConfig::Load() {
  DockerConfig c;
  c.dir_ = Env("DOCKER_CONFIG");
  if (c.dir_.empty()) c.dir_ = (Env("HOME").empty() ? std::string(".") : Env("HOME")) + "/.docker";
  const fs::path file = fs::path(c.dir_) / "config.json";
  std::error_code ec;
  if (!fs::exists(file, ec)) return c;
  if (fs::file_size(file, ec) > kMaxConfigBytes) {
    return Unexpected(ErrorCode::kInvalid, "docker config " + file.string() + ": larger than 1 MiB");
  }
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object()) return Unexpected(ErrorCode::kInvalid, "docker config " + file.string() + ": not a JSON object");
  c.doc_ = std::move(j);
  return c;
}

Result<std::optional<RegistryAuth>> DockerConfig::CredentialsFor(const std::string& registry) const {
  if (auto helpers = doc_.find("credHelpers"); helpers != doc_.end() && helpers->is_object()) {
    for (const auto& [key, helper] : helpers->items()) {
      if (helper.is_string() && model::NormalizeRegistry(key) == registry) return FromHelper(helper.get<std::string>(), registry);
    }
  }
  if (auto store = doc_.find("credsStore"); store != doc_.end() && store->is_string() && !store->get<std::string>().empty()) {
    auto found = FromHelper(store->get<std::string>(), registry);
    if (!found || *found) return found;
  }
  auto auths = doc_.find("auths");
  if (auths == doc_.end() || !auths->is_object()) return std::optional<RegistryAuth>();
  for (const auto& [key, entry] : auths->items()) {
    if (!entry.is_object() || model::NormalizeRegistry(key) != registry) continue;
    RegistryAuth a;
    a.server = registry;
    if (entry.contains("auth") && entry["auth"].is_string()) {
      const std::string decoded = Base64Decode(entry["auth"].get<std::string>());
      const auto colon = decoded.find(':');
      if (colon == std::string::npos) continue;
      a.username = decoded.substr(0, colon);
      a.password = decoded.substr(colon + 1);
    } else {
      a.username = entry.value("username", "");
      a.password = entry.value("password", "");
    }
    if (entry.contains("identitytoken") && entry["identitytoken"].is_string()) {
      a.identity_token = entry["identitytoken"].get<std::string>();
    }
    if (a.username.empty() && a.password.empty() && a.identity_token.empty()) continue;
    return std::optional<RegistryAuth>(a);
  }
  return std::optional<RegistryAuth>();
}

std::string DockerConfig::CurrentContext() const {
  std::string name = Env("DOCKER_CONTEXT");
  if (name.empty() && doc_.contains("currentContext") && doc_["currentContext"].is_string()) {
    name = doc_["currentContext"].get<std::string>();
  }
  return name == "default" ? "" : name;
}

Result<Endpoint> ContextEndpoint(const DockerConfig& config, const std::string& name) {
  const std::string id = Sha256Hex(name);
  const fs::path meta = fs::path(config.dir()) / "contexts" / "meta" / id / "meta.json";
  std::ifstream in(meta);
  if (!in) {
    return Unexpected(ErrorCode::kNotFound, "unable to resolve docker endpoint: context \"" + name +
                                                "\": context not found: " + meta.string());
  }
  std::string text((std::istreambuf_iterator<char>(in)), {});
  auto j = json::parse(text, nullptr, false);
  const json* docker = j.is_object() && j.contains("Endpoints") && j["Endpoints"].is_object() &&
                               j["Endpoints"].contains("docker")
                           ? &j["Endpoints"]["docker"]
                           : nullptr;
  if (!docker || !docker->is_object() || !docker->contains("Host") || !(*docker)["Host"].is_string()) {
    return Unexpected(ErrorCode::kInvalid, "docker context \"" + name + "\": " + meta.string() + " names no docker endpoint");
  }
  const fs::path tls = fs::path(config.dir()) / "contexts" / "tls" / id / "docker";
  std::error_code ec;
  const bool with_tls = fs::exists(tls / "ca.pem", ec) || fs::exists(tls / "cert.pem", ec);
  auto e = ParseEndpoint((*docker)["Host"].get<std::string>(), with_tls, tls.string());
  if (!e) return Unexpected(Error{e.error().code, "docker context \"" + name + "\": " + e.error().message});
  return e;
}

}  // namespace keelson::docker
