#pragma once
// Where the engine is: DOCKER_HOST and the TLS variables, read as the docker
// CLI reads them.

#include <string>

#include "util/result.h"

namespace keelson::docker {

struct Endpoint {
  enum class Transport { kUnix, kTcp };
  Transport transport = Transport::kUnix;
  std::string socket_path;  ///< kUnix
  std::string host_port;    ///< kTcp: "host:port"
  bool tls = false;         ///< kTcp: https with a client certificate
  std::string ca_file, cert_file, key_file;

  /// "unix:///path" or "tcp://host:port" (TLS as the docker CLI shows it).
  std::string ToString() const;
};

inline constexpr const char* kDefaultDockerHost = "unix:///var/run/docker.sock";

/// Parses a DOCKER_HOST value. With tls_verify (DOCKER_TLS_VERIFY non-empty),
/// tcp:// uses https with cert_path's ca.pem, cert.pem and key.pem
/// (cert_path empty: ~/.docker). kInvalid for other schemes or a missing port.
Result<Endpoint> ParseEndpoint(const std::string& docker_host, bool tls_verify, const std::string& cert_path);

/// The endpoint the environment names: `docker_host` when not empty (the
/// --docker-host flag), else DOCKER_HOST, else the default socket.
Result<Endpoint> EndpointFromEnvironment(const std::string& docker_host);

}  // namespace keelson::docker
