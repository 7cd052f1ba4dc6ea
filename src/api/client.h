#pragma once
// A client of keelson's Kubernetes-compatible API, for the keelson CLI on a
// machine that does not hold the store: where the API is and who the user
// is come from a kubeconfig (its current context, or one named) or from
// flags, as kubectl takes them (--server, --token, --certificate-authority).

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "util/result.h"

namespace keelson::api {

struct Endpoint {
  std::string server;    ///< https://HOST:PORT
  std::string ca_pem;    ///< the server's CA; empty: the system's
  std::string token;     ///< a bearer token, or
  std::string cert_pem;  ///< a client certificate and its key
  std::string key_pem;
  std::string namespace_;  ///< the context's namespace, "" when it names none
};

/// The endpoint of `context` (empty: the current one) in the kubeconfig at
/// `path`. Errors (kInvalid) name the file and what is missing.
Result<Endpoint> LoadKubeconfig(const std::string& path, const std::string& context);

struct Reply {
  long status = 0;
  nlohmann::json body;  ///< null when the answer was not JSON
  /// The Status message of a failed request (or a line saying what came back).
  std::string Message() const;
};

class Client {
 public:
  explicit Client(Endpoint endpoint);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// One request; `body` sent with `content_type` when not empty. Errors
  /// only when no answer came (kUnavailable: cannot connect, TLS, timeout).
  Result<Reply> Call(const std::string& method, const std::string& path, const std::string& body = "",
                     const std::string& content_type = "application/json");
  const Endpoint& endpoint() const { return endpoint_; }

 private:
  Endpoint endpoint_;
  void* curl_;
};

}  // namespace keelson::api
