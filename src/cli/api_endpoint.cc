#include "cli/api_endpoint.h"

#include <unistd.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "api/audit.h"
#include "api/pki.h"
#include "api/tokens.h"
#include "util/secret_file.h"

namespace keelson::cli {
namespace {

server::Limits ApiLimits() {
  server::Limits l;
  l.max_body = 3 << 20;  // as kube-apiserver's default request body limit
  l.max_header = 32 << 10;
  l.threads = 2;
  const unsigned files = server::RaiseOpenFileLimit();
  l.max_connections = std::min(1000u, files > 200 ? files - 128 : 64u);
  return l;
}

}  // namespace

ApiEndpoint::ApiEndpoint(const Globals& g, const Clock& clock)
    : api_(clock, api::ApiOptions{.open_store = controller::StoreAt(g.db_path, clock),
                                  .token_file = api::TokenFileFor(g.db_path),
                                  .allowed_paths = AllowedPathsFromEnvironment(),
                                  .audit_log = api::AuditLogFor(g.db_path)}),
      server_(ApiLimits()),
      db_path_(g.db_path) {}

Result<void> ApiEndpoint::Start(const std::string& listen, store::ObjectStore& store, const std::string& cert_file,
                                const std::string& key_file) {
  if (listen.empty() || listen == "off") return {};
  if (cert_file.empty() != key_file.empty()) {
    return Unexpected(ErrorCode::kInvalid, "--api-tls-cert-file and --api-tls-key-file go together");
  }
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return Unexpected(ErrorCode::kInvalid, "--api-listen: want HOST:PORT, got " + listen);
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const bool any = host.empty() || host == "0.0.0.0" || host == "::";
  char hostname[256] = {};
  ::gethostname(hostname, sizeof hostname - 1);
  std::vector<std::string> names = {"127.0.0.1", "::1", "localhost", hostname};
  if (!any) names.push_back(host);
  auto pki = api::ServingCertificates(db_path_, names);
  if (!pki) return Unexpected(pki.error().code, "--api-listen: " + pki.error().message);
  // The administrator's token exists from the first start (0600, beside the store).
  if (auto t = api::TokenFor(api::TokenFileFor(db_path_), api::kAdminUser, {api::kMastersGroup}); !t) {
    return Unexpected(t.error().code, "--api-listen: " + t.error().message);
  }
  api_.Register(server_);
  api_.TrustClientCertificates(pki->ca_pem);
  server::Tls tls{pki->cert_pem, pki->key_pem, pki->ca_pem};
  if (!cert_file.empty()) {
    // The user's own serving certificate; client certificates still come from the store's CA.
    auto cert = ReadSecretFile(cert_file);
    if (!cert) return Unexpected(ErrorCode::kInvalid, "--api-tls-cert-file: " + cert.error().message);
    auto key = ReadSecretFile(key_file);
    if (!key) return Unexpected(ErrorCode::kInvalid, "--api-tls-key-file: " + key.error().message);
    tls.cert_pem = *cert;
    tls.key_pem = *key;
  }
  if (auto w = store.SetMeta(api::kApiServingKey, cert_file.empty() ? "store-ca" : "files"); !w) {
    return Unexpected(w.error());
  }
  auto r = server_.Start(listen, &tls);
  if (!r && r.error().code == ErrorCode::kInvalid) return Unexpected(ErrorCode::kInvalid, "--api-listen: " + r.error().message);
  if (!r) return Unexpected(r.error().code, "--api-listen: " + r.error().message + " (another keelson controller may be serving it)");
  const std::string shown = any ? "127.0.0.1" : host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const std::string address = "https://" + shown + ":" + std::to_string(server_.port());
  if (auto w = store.SetMeta(api::kApiAddressKey, address); !w) return Unexpected(w.error());
  spdlog::info("api: serving the Kubernetes API at {} (keelson kubeconfig prints a kubeconfig for it)", address);
  return {};
}

}  // namespace keelson::cli
