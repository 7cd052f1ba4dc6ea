#pragma once
// keelson's Kubernetes-compatible API: what a stock kubectl asks of a
// cluster, for keelson's kinds. Discovery (/version, /api, /apis and the
// group version's resource list), namespaces (those in use), and reads of
// every kind: list (label and field selectors, all namespaces or one), get,
// and server-side printing (the Table that kubectl asks for, with the same
// columns as `keelson get`). Errors are Kubernetes Status objects. Every
// request but /version needs a bearer token from the token file
// (api/tokens.h): none or an unknown one is 401.
//
// Served by `keelson controller --api-listen ADDR` on the controller's own
// HTTP listener type (server/http_server.h); each request borrows a store
// connection of its own.

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api/tokens.h"
#include "api/writes.h"
#include "controller/manager.h"
#include "server/http_server.h"
#include "util/clock.h"

namespace keelson::api {

struct ApiOptions {
  controller::StoreFactory open_store;  ///< required
  std::filesystem::path token_file;     ///< read at each request's authentication
  /// Directories whose files specs sent over the API may name (the
  /// server's KEELSON_ALLOWED_PATHS); none: no file paths at all.
  std::vector<std::filesystem::path> allowed_paths = {};
  /// Where relative file paths in specs sent over the API resolve (and stay
  /// inside): the manifests' directory on the server (--api-files-dir); none by default.
  std::string files_dir = {};
  std::filesystem::path audit_log = {};
  std::string client_ca_pem = {};  ///< client certificates from this CA authenticate (CN user, O groups)  ///< every write is recorded here; empty: nowhere
  double user_rate = 500, user_burst = 1000;  ///< requests a second per user, and at once; rate 0: no limit
  double anonymous_rate = 2, anonymous_burst = 20;  ///< failed authentications a second per address
};

class ApiServer {
 public:
  ApiServer(const Clock& clock, ApiOptions options);
  ~ApiServer();

  /// Client certificates signed by `ca_pem` authenticate (before serving).
  void TrustClientCertificates(std::string ca_pem) { options_.client_ca_pem = std::move(ca_pem); }
  /// Requests a second per user (twice that at once); 0: no limit. Before serving.
  void LimitRate(double per_second);
  /// Relative file paths in specs resolve against `dir` (before serving).
  void ResolveFilesIn(std::string dir) { options_.files_dir = std::move(dir); }
  /// Called after each write that succeeded (and each webhook that asked for
  /// a sync), so that a controller in the same process looks at the store
  /// at once instead of at its next poll (before serving).
  void OnWrite(std::function<void()> f) { on_write_ = std::move(f); }
  /// Hears of CI jobs that started or completed (api/github_hooks.h), for
  /// the controller's metrics (before serving).
  void OnJob(std::function<void(const std::string&, const std::string&, double)> f) { on_job_ = std::move(f); }
  /// Adds the API's routes to `http` (before it starts).
  void Register(server::HttpServer& http);
  /// One request, as the listener hands it over (public for tests).
  server::Response Handle(const server::Request& request);

 private:
  class Lease;  ///< a borrowed store session
  std::unique_ptr<controller::StoreSession> Borrow();
  void Return(std::unique_ptr<controller::StoreSession> session);
  std::optional<Identity> Authenticate(const server::Request& request);
  server::Response Watch(const server::Request& r, const Target& t, int table_version);
  server::Response Serve(const server::Request& r, const Identity& who);

  const Clock& clock_;
  ApiOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<controller::StoreSession>> idle_;
  std::unique_ptr<class WatchHub> hub_;
  std::unique_ptr<class AuditLog> audit_;
  std::unique_ptr<class RateLimiter> users_, anonymous_;
  std::function<void()> on_write_;
  std::function<void(const std::string&, const std::string&, double)> on_job_;
};

/// Where the API listens, as kubeconfig's cluster.server: http://HOST:PORT
/// on loopback. Kept in the store's meta under kApiAddressKey by the
/// controller that serves it, for `keelson kubeconfig`.
inline const char* kApiAddressKey = "api_address";
/// Whose certificate the API serves: "store-ca" (issued from the store's CA,
/// which kubeconfigs then carry) or "files" (--api-tls-cert-file: clients
/// trust it as they trust any site's).
inline const char* kApiServingKey = "api_serving";

}  // namespace keelson::api
