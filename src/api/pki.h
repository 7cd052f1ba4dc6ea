#pragma once
// The API server's certificates, made with OpenSSL: a CA kept beside the
// store (STORE.api-ca.crt, and its key STORE.api-ca.key, mode 0600) made at
// first start, and a serving certificate issued from it at every start for
// the names the listener answers to (so a new address needs no new CA, and
// kubeconfigs stay valid). ECDSA P-256, SHA-256.

#include <string>
#include <vector>

#include "util/result.h"

namespace keelson::api {

struct ServingPki {
  std::string ca_pem;    ///< the CA certificate, for kubeconfig's certificate-authority-data
  std::string cert_pem;  ///< the serving certificate
  std::string key_pem;   ///< its private key (PKCS#8), never written to disk
};

/// The CA of the store at `db_path` (made when absent), and a serving
/// certificate for `hosts` (IP addresses or DNS names) signed by it.
Result<ServingPki> ServingCertificates(const std::string& db_path, const std::vector<std::string>& hosts);

/// A client certificate from the store's CA (made when absent) for `user`
/// (its CN) in `groups` (one O each), as kube-apiserver reads client
/// certificates: PEM certificate and PKCS#8 key, valid `days`.
struct ClientPki {
  std::string cert_pem;
  std::string key_pem;
};
Result<ClientPki> ClientCertificate(const std::string& db_path, const std::string& user,
                                    const std::vector<std::string>& groups, long days = 365);

/// Who a client certificate (DER, as the TLS handshake gave it) names, when
/// the CA `ca_pem` signed it for client authentication and it is valid now:
/// CN the user, each O a group. kUnauthorized otherwise.
struct CertificateSubject {
  std::string user;
  std::vector<std::string> groups;
};
Result<CertificateSubject> VerifyClientCertificate(const std::string& der, const std::string& ca_pem);

/// The CA certificate (PEM) of the store at `db_path`; kNotFound when none was made yet.
Result<std::string> CaCertificate(const std::string& db_path);

}  // namespace keelson::api
