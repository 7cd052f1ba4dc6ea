// keelson kubeconfig [--user NAME] [--groups G,...] [--server URL]
//
// Prints a kubeconfig for the API of the controller serving this store
// (controller --api-listen): its address as the controller recorded it, and
// a bearer token for the identity asked for (the administrator by default),
// made and kept in the store's token file when there is none yet, or with
// --client-certificate a certificate from the store's CA (never stored: a
// kubeconfig holds its only copy of the key).

#include <iostream>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "api/api_server.h"
#include "api/pki.h"
#include "api/tokens.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/remote.h"

namespace keelson::cli {
namespace {

struct KubeconfigOptions {
  std::string user;
  std::string groups;
  std::string server;
  bool client_certificate = false;
};

std::string Base64(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// A YAML scalar: JSON's string syntax is YAML's double-quoted style.
std::string Quote(const std::string& s) { return nlohmann::json(s).dump(); }

int RunKubeconfig(const Globals& g, const KubeconfigOptions& opts) {
  if (IsRemote(g)) return NotOverTheApi("kubeconfig");
  std::string user = opts.user.empty() ? api::kAdminUser : opts.user;
  std::vector<std::string> groups;
  if (opts.user.empty() && opts.groups.empty()) {
    groups.push_back(api::kMastersGroup);
  } else {
    std::stringstream in(opts.groups);
    for (std::string grp; std::getline(in, grp, ',');) {
      if (!grp.empty()) groups.push_back(grp);
    }
  }
  std::string server = opts.server;
  if (server.empty()) {
    auto session = OpenSession(g, Access::kRead);
    if (!session) return Fail(session.error().message);
    auto address = (*session)->objects->GetMeta(api::kApiAddressKey);
    if (!address) return Fail(address.error().message);
    if (address->empty()) {
      return Fail("no controller has served the API of " + g.db_path +
                  " yet (start one: keelson controller, which serves it on 127.0.0.1:6443), or pass --server URL");
    }
    server = *address;
  }
  auto ca = api::CaCertificate(g.db_path);
  if (!ca) return Fail(ca.error().message);
  std::string serving = "store-ca";
  if (auto session = OpenSession(g, Access::kRead); session) {
    if (auto v = (*session)->objects->GetMeta(api::kApiServingKey); v && !v->empty()) serving = *v;
  }
  std::string credentials;
  if (opts.client_certificate) {
    auto cert = api::ClientCertificate(g.db_path, user, groups);
    if (!cert) return Fail(cert.error().message);
    credentials = "    client-certificate-data: " + Quote(Base64(cert->cert_pem)) + "\n" +
                  "    client-key-data: " + Quote(Base64(cert->key_pem)) + "\n";
  } else {
    auto token = api::TokenFor(api::TokenFileFor(g.db_path), user, groups);
    if (!token) return Fail(token.error().message, token.error().code == ErrorCode::kInvalid ? kExitUsage : kExitFailure);
    credentials = "    token: " + Quote(*token) + "\n";
  }
  std::cout << "apiVersion: v1\n"
            << "kind: Config\n"
            << "clusters:\n"
            << "- name: keelson\n"
            << "  cluster:\n"
            << "    server: " << Quote(server) << "\n"
            << (serving == "files" ? std::string()  // the operator's own certificate: trusted as any site's
                                   : "    certificate-authority-data: " + Quote(Base64(*ca)) + "\n")
            << "users:\n"
            << "- name: " << Quote(user) << "\n"
            << "  user:\n"
            << credentials
            << "contexts:\n"
            << "- name: keelson\n"
            << "  context:\n"
            << "    cluster: keelson\n"
            << "    user: " << Quote(user) << "\n"
            << "    namespace: " << Quote(g.namespace_.empty() ? "default" : g.namespace_) << "\n"
            << "current-context: keelson\n";
  return kExitOk;
}

}  // namespace

void RegisterKubeconfig(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<KubeconfigOptions>();
  auto* cmd = app.add_subcommand("kubeconfig", "Print a kubeconfig for the API this store's controller serves");
  cmd->add_option("--user", opts->user, "The identity (default: admin, in group system:masters)");
  cmd->add_option("--groups", opts->groups, "Its groups, separated by commas");
  cmd->add_option("--server", opts->server, "The API's URL (default: the address the controller recorded)");
  cmd->add_flag("--client-certificate", opts->client_certificate,
                "Issue a client certificate from the store's CA (CN user, O groups) instead of a token");
  cmd->callback([&g, opts] { g.exit_code = RunKubeconfig(g, *opts); });
}

}  // namespace keelson::cli
