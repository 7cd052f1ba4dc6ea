#pragma once
// The docker CLI's own configuration, read as the docker CLI reads it:
// $DOCKER_CONFIG (default ~/.docker)/config.json for registry credentials
// (auths, credsStore, credHelpers) and the current context, and the
// context store (contexts/meta/<sha256 of the name>/meta.json, TLS files
// under contexts/tls/<sha256>/docker/) for the endpoint a context names.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "docker/endpoint.h"
#include "docker/types.h"
#include "util/result.h"

namespace keelson::docker {

class DockerConfig {
 public:
  /// Reads the configuration; a missing file is an empty configuration, a
  /// file that is not JSON is kInvalid naming it.
  static Result<DockerConfig> Load();

  const std::string& dir() const { return dir_; }

  /// Credentials for `registry` (a host as model::RegistryOf gives it:
  /// "docker.io", "127.0.0.1:5000"): its credHelpers entry, else credsStore,
  /// else its auths entry; nullopt when none has any. A helper is run as
  /// docker-credential-NAME get (on the PATH).
  Result<std::optional<RegistryAuth>> CredentialsFor(const std::string& registry) const;

  /// DOCKER_CONTEXT, else currentContext; "" for the default context.
  std::string CurrentContext() const;

 private:
  std::string dir_;
  nlohmann::json doc_ = nlohmann::json::object();
};

/// The docker endpoint of context `name` in `config`'s context store.
/// kNotFound (in the docker CLI's words) when there is no such context.
Result<Endpoint> ContextEndpoint(const DockerConfig& config, const std::string& name);

/// What the server address of `registry` is called in config.json and by
/// credential helpers: "https://index.docker.io/v1/" for Docker Hub.
std::string ServerAddress(const std::string& registry);

}  // namespace keelson::docker
