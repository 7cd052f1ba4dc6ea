#pragma once
// Where the engine is: DOCKER_HOST and the TLS variables, read as the docker
// CLI reads them.

#include <string>
#include <vector>

#include "util/result.h"

namespace keelson::docker {

struct Endpoint {
  enum class Transport { kUnix, kTcp, kSsh };
  Transport transport = Transport::kUnix;
  std::string socket_path;  ///< kUnix; kSsh: the remote engine's socket ("": its default)
  std::string host_port;    ///< kTcp: "host:port"
  bool tls = false;         ///< kTcp: https with a client certificate
  std::string ca_file, cert_file, key_file;
  std::string ssh_user, ssh_host, ssh_port;  ///< kSsh; user and port may be empty

  /// "unix:///path", "tcp://host:port" (TLS as the docker CLI shows it) or
  /// "ssh://user@host:port".
  std::string ToString() const;
};

inline constexpr const char* kDefaultDockerHost = "unix:///var/run/docker.sock";

/// Parses a DOCKER_HOST value. With tls_verify (DOCKER_TLS_VERIFY non-empty),
/// tcp:// uses https with cert_path's ca.pem, cert.pem and key.pem
/// (cert_path empty: ~/.docker). ssh://[user@]host[:port][/socket] as the
/// docker CLI reads it: no password, query or fragment. kInvalid for other
/// schemes or a missing port.
Result<Endpoint> ParseEndpoint(const std::string& docker_host, bool tls_verify, const std::string& cert_path);

/// The command the docker CLI runs to reach an ssh:// endpoint, argv[0]
/// "ssh": `ssh -o ConnectTimeout=30 -T [-l user] [-p port] -- host docker
/// [--host=unix://socket] system dial-stdio`.
std::vector<std::string> SshCommand(const Endpoint& endpoint);

/// The endpoint the environment names: `docker_host` when not empty (the
/// --docker-host flag), else DOCKER_HOST, else the default socket.
Result<Endpoint> EndpointFromEnvironment(const std::string& docker_host);

}  // namespace keelson::docker
