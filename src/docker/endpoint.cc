#include "docker/endpoint.h"

#include <cstdlib>

#include "docker/config_file.h"

namespace keelson::docker {

std::string Endpoint::ToString() const {
  if (transport == Transport::kUnix) return "unix://" + socket_path;
  return "tcp://" + host_port + (tls ? " (TLS)" : "");
}

Result<Endpoint> ParseEndpoint(const std::string& docker_host, bool tls_verify, const std::string& cert_path) {
  Endpoint e;
  const std::string unix_scheme = "unix://", tcp_scheme = "tcp://";
  if (docker_host.rfind(unix_scheme, 0) == 0) {
    e.socket_path = docker_host.substr(unix_scheme.size());
    if (e.socket_path.empty() || e.socket_path[0] != '/') {
      return Unexpected(ErrorCode::kInvalid, "docker host " + docker_host + ": want unix:///absolute/path");
    }
    return e;
  }
  if (docker_host.rfind(tcp_scheme, 0) != 0) {
    return Unexpected(ErrorCode::kInvalid,
                      "docker host " + docker_host + ": want unix:///path or tcp://host:port");
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
