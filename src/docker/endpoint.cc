#include "docker/endpoint.h"

#include <cctype>
#include <cstdlib>
#include <optional>

#include "docker/config_file.h"

namespace keelson::docker {

std::string Endpoint::ToString() const {
  switch (transport) {
    case Transport::kUnix:
      return "unix://" + socket_path;
    case Transport::kTcp:
      return "tcp://" + host_port + (tls ? " (TLS)" : "");
    case Transport::kSsh:
      break;
  }
  const bool v6 = ssh_host.find(':') != std::string::npos;
  return "ssh://" + (ssh_user.empty() ? "" : ssh_user + "@") + (v6 ? "[" + ssh_host + "]" : ssh_host) +
         (ssh_port.empty() ? "" : ":" + ssh_port) + socket_path;
}

namespace {

// `s` with %XX escapes decoded, as Go's url.Parse decodes a user and a path;
// nullopt for a bad escape.
std::optional<std::string> PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      return std::nullopt;
    }
    out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
    i += 2;
  }
  return out;
}

// ssh://[user@]host[:port][/path], read as Go's url.Parse and the docker
// CLI's connhelper/ssh read it.
Result<Endpoint> ParseSsh(const std::string& docker_host) {
  auto invalid = [&](const std::string& why) {
    return Unexpected(ErrorCode::kInvalid, "docker host " + docker_host + ": invalid ssh URL: " + why);
  };
  std::string rest = docker_host.substr(6);  // after "ssh://"
  if (auto hash = rest.find('#'); hash != std::string::npos) {
    if (hash + 1 < rest.size()) return invalid("fragments are not allowed: \"" + rest.substr(hash + 1) + "\"");
    rest.resize(hash);
  }
  if (auto q = rest.find('?'); q != std::string::npos) {
    if (q + 1 < rest.size()) return invalid("query parameters are not allowed: \"" + rest.substr(q + 1) + "\"");
    rest.resize(q);
  }
  Endpoint e;
  e.transport = Endpoint::Transport::kSsh;
  std::string authority = rest;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    authority = rest.substr(0, slash);
    e.socket_path = rest.substr(slash);
  }
  if (auto at = authority.rfind('@'); at != std::string::npos) {
    std::string user = authority.substr(0, at);
    authority.erase(0, at + 1);
    if (user.find(':') != std::string::npos) return invalid("plain-text password is not supported");
    auto decoded = PercentDecode(user);
    if (!decoded) return invalid("invalid URL escape in user \"" + user + "\"");
    e.ssh_user = *decoded;
  }
  if (auto decoded = PercentDecode(e.socket_path); decoded) {
    e.socket_path = *decoded;
  } else {
    return invalid("invalid URL escape in path \"" + e.socket_path + "\"");
  }
  std::string host = authority;
  if (!host.empty() && host[0] == '[') {
    auto close = host.find(']');
    if (close == std::string::npos) return invalid("missing ']' in host");
    e.ssh_host = host.substr(1, close - 1);
    std::string after = host.substr(close + 1);
    if (!after.empty() && after[0] != ':') return invalid("invalid port \"" + after + "\" after host");
    if (!after.empty()) e.ssh_port = after.substr(1);
  } else if (auto colon = host.rfind(':'); colon != std::string::npos) {
    e.ssh_host = host.substr(0, colon);
    e.ssh_port = host.substr(colon + 1);
  } else {
    e.ssh_host = host;
  }
  if (e.ssh_port.find_first_not_of("0123456789") != std::string::npos) {
    return invalid("invalid port \":" + e.ssh_port + "\" after host");
  }
  if (e.ssh_host.empty()) return invalid("hostname is empty");
  return e;
}

// An argument as the remote shell reads it: quoted unless plainly safe.
std::string ShellWord(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_/.:=@%+,-") ==
                        std::string::npos) {
    return s;
  }
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::vector<std::string> SshCommand(const Endpoint& e) {
  std::vector<std::string> argv = {"ssh", "-o", "ConnectTimeout=30", "-T"};
  if (!e.ssh_user.empty()) argv.insert(argv.end(), {"-l", e.ssh_user});
  if (!e.ssh_port.empty()) argv.insert(argv.end(), {"-p", e.ssh_port});
  argv.insert(argv.end(), {"--", e.ssh_host, "docker"});
  bool has_path = e.socket_path.find_first_not_of('/') != std::string::npos;
  if (has_path) argv.push_back(ShellWord("--host=unix://" + e.socket_path));
  argv.insert(argv.end(), {"system", "dial-stdio"});
  return argv;
}

Result<Endpoint> ParseEndpoint(const std::string& docker_host, bool tls_verify, const std::string& cert_path) {
  Endpoint e;
  const std::string unix_scheme = "unix://", tcp_scheme = "tcp://";
  if (docker_host.rfind("ssh://", 0) == 0) return ParseSsh(docker_host);
  if (docker_host.rfind(unix_scheme, 0) == 0) {
    e.socket_path = docker_host.substr(unix_scheme.size());
    if (e.socket_path.empty() || e.socket_path[0] != '/') {
      return Unexpected(ErrorCode::kInvalid, "docker host " + docker_host + ": want unix:///absolute/path");
    }
    return e;
  }
  if (docker_host.rfind(tcp_scheme, 0) != 0) {
    return Unexpected(ErrorCode::kInvalid,
                      "docker host " + docker_host + ": want unix:///path, tcp://host:port or ssh://[user@]host[:port]");
  }
  e.transport = Endpoint::Transport::kTcp;
  e.host_port = docker_host.substr(tcp_scheme.size());
  while (!e.host_port.empty() && e.host_port.back() == '/') e.host_port.pop_back();
  auto colon = e.host_port.rfind(':');
  if (colon == std::string::npos || colon + 1 == e.host_port.size() ||
      e.host_port.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
    return Unexpected(ErrorCode::kInvalid, "docker host " + docker_host + ": want tcp://host:port");
  }
  if (tls_verify) {
    std::string dir = cert_path;
    if (dir.empty()) {
      const char* home = std::getenv("HOME");
      dir = std::string(home ? home : "") + "/.docker";
    }
    e.tls = true;
    e.ca_file = dir + "/ca.pem";
    e.cert_file = dir + "/cert.pem";
    e.key_file = dir + "/key.pem";
  }
  return e;
}

Result<Endpoint> EndpointFromEnvironment(const std::string& docker_host) {
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v ? v : "");
  };
  // As the docker CLI: the flag, DOCKER_HOST, then the current context
  // (DOCKER_CONTEXT, or config.json's currentContext), then the default.
  std::string host = docker_host.empty() ? env("DOCKER_HOST") : docker_host;
  if (host.empty()) {
    auto config = DockerConfig::Load();
    if (!config) return Unexpected(config.error());
    if (std::string context = config->CurrentContext(); !context.empty()) return ContextEndpoint(*config, context);
  }
  if (host.empty()) host = kDefaultDockerHost;
  return ParseEndpoint(host, !env("DOCKER_TLS_VERIFY").empty(), env("DOCKER_CERT_PATH"));
}

}  // namespace keelson::docker
