#include "api/hooks.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <spdlog/spdlog.h>

#include "api/status.h"
#include "controller/source_sync.h"
#include "manifest/decode.h"
#include "util/secret_file.h"

namespace keelson::api {
namespace {

// Equal, in time that does not depend on where they differ.
bool SameSecret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Which forge signed `r` with `secret`, or "" when none did.
std::string SignedBy(const server::Request& r, const std::string& secret) {
  const std::string mac = HmacSha256Hex(secret, r.body);
  if (std::string h = r.Header("x-hub-signature-256"); !h.empty()) return SameSecret(h, "sha256=" + mac) ? "github" : "";
  for (const char* name : {"x-gitea-signature", "x-forgejo-signature"}) {
    if (std::string h = r.Header(name); !h.empty()) return SameSecret(h, mac) ? "gitea" : "";
  }
  if (std::string h = r.Header("x-gitlab-token"); !h.empty()) return SameSecret(h, secret) ? "gitlab" : "";
  return "";
}

}  // namespace

std::string HmacSha256Hex(const std::string& secret, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), mac, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

server::Response HandleGitHook(const server::Request& r, store::ObjectStore& store, const Clock& clock) {
  if (r.method != "POST") return Failure(405, "MethodNotAllowed", "webhooks are POST requests");
  const std::string rest = r.path.substr(std::string(kGitHookPrefix).size());
  const auto slash = rest.find('/');
  if (slash == std::string::npos || rest.find('/', slash + 1) != std::string::npos) {
    return Failure(404, "NotFound", "want /hooks/git/NAMESPACE/NAME");
  }
  const std::string ns = rest.substr(0, slash), name = rest.substr(slash + 1);
  const std::string shown = "gitrepository " + ns + "/" + name;
  auto found = store.Get(model::Kind::kGitRepository, ns, name);
  if (!found) return Failure(503, "ServiceUnavailable", found.error().message);
  if (!*found) return Failure(404, "NotFound", shown + " not found");
  const nlohmann::json& spec = (*found)->spec;
  const std::string secret_file =
      spec.contains("webhook") && spec["webhook"].is_object() ? spec["webhook"].value("secretFile", "") : "";
  if (secret_file.empty()) return Failure(404, "NotFound", shown + " has no spec.webhook.secretFile");
  auto secret = ReadSecretFile(secret_file);
  if (!secret) {
    spdlog::warn("hooks: {}: {}", shown, secret.error().message);
    return Failure(503, "ServiceUnavailable", shown + ": its webhook secret cannot be read");
  }
  const std::string forge = SignedBy(r, *secret);
  if (forge.empty()) {
    spdlog::warn("hooks: {}: a delivery from {} without a valid signature", shown, r.peer);
    return Failure(401, "Unauthorized", "the signature does not match the source's webhook secret");
  }
  if (r.Header("x-github-event") == "ping") return Json(200, {{"message", "pong"}});
  auto asked = controller::RequestSourceSync(store, ns, name, clock);
  if (!asked) return Failure(asked.error().code == ErrorCode::kNotFound ? 404 : 503, "Unavailable", asked.error().message);
  spdlog::info("hooks: {}: a {} push: sync requested", shown, forge);
  return Json(202, {{"message", "sync requested"}, {"syncRequestedAt", *asked}});
}

}  // namespace keelson::api
