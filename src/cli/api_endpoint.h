#pragma once
// The Kubernetes-compatible API (api/api_server.h) on its own listener, as
// `keelson controller` and `keelson serve` run it: always over TLS (kubectl
// sends credentials only over TLS), with a serving certificate issued at
// each start from the store's CA (api/pki.h) for the loopback names, the
// listen address and this host's name, or one of the operator's own.

#include <string>

#include "api/api_server.h"
#include "cli/context.h"
#include "server/http_server.h"

namespace keelson::cli {

inline constexpr const char* kDefaultApiListen = "127.0.0.1:6443";

class ApiEndpoint {
 public:
  ApiEndpoint(const Globals& g, const Clock& clock);
  /// Serves on `listen` ("" or "off": not at all) and records the address
  /// in the store for `keelson kubeconfig`. `cert_file`/`key_file`: a serving
  /// certificate of the operator's own (both or neither).
  Result<void> Start(const std::string& listen, store::ObjectStore& store, const std::string& cert_file,
                     const std::string& key_file);
  /// Requests a second per user (twice that at once); 0: no limit. Before Start.
  void LimitRate(double per_second) { api_.LimitRate(per_second); }
  /// --api-files-dir: where relative paths in specs sent over the API resolve. Before Start.
  void ResolveFilesIn(std::string dir) { api_.ResolveFilesIn(std::move(dir)); }
  /// Called after each write the API made (api::ApiServer::OnWrite). Before Start.
  void OnWrite(std::function<void()> f) { api_.OnWrite(std::move(f)); }
  /// CI jobs that started or completed (api::ApiServer::OnJob). Before Start.
  void OnJob(std::function<void(const std::string&, const std::string&, double)> f) { api_.OnJob(std::move(f)); }

 private:
  api::ApiServer api_;
  server::HttpServer server_;
  std::string db_path_;
};

}  // namespace keelson::cli
