#include "api/pki.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "util/secret_file.h"

namespace keelson::api {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

Error OpenSslError(const std::string& what) {
  char buf[256] = {};
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  return Error{ErrorCode::kInternal, "api certificates: " + what + ": " + buf};
}

std::string CaCertPath(const std::string& db) { return db + ".api-ca.crt"; }
std::string CaKeyPath(const std::string& db) { return db + ".api-ca.key"; }

Result<Key> NewKey() {
  Key k(EVP_EC_gen("P-256"));
  if (!k) return Unexpected(OpenSslError("EC key"));
  return k;
}

Result<std::string> ToPem(X509* cert) {
  Bio b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_X509(b.get(), cert) != 1) return Unexpected(OpenSslError("PEM"));
  char* data = nullptr;
  const long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<std::string> ToPem(EVP_PKEY* key) {
  Bio b(BIO_new(BIO_s_mem()));
  if (!b || PEM_write_bio_PrivateKey(b.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Unexpected(OpenSslError("PEM"));
  }
  char* data = nullptr;
  const long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<void> AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return Unexpected(OpenSslError("extension " + value));
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) return Unexpected(OpenSslError("extension " + value));
  return {};
}

// A certificate for `key`, named `cn`, valid for `days`, signed by `issuer`
// (itself when null).
Result<Cert> Issue(EVP_PKEY* key, const std::string& cn, long days, X509* issuer, EVP_PKEY* issuer_key) {
  Cert c(X509_new());
  if (!c) return Unexpected(OpenSslError("X509_new"));
  X509_set_version(c.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return Unexpected(OpenSslError("serial"));
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600);  // an hour of clock skew
  X509_gmtime_adj(X509_getm_notAfter(c.get()), days * 24 * 3600);
  X509_set_pubkey(c.get(), key);
  X509_NAME* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(c.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509* signer = issuer ? issuer : c.get();
  if (!issuer) {
    if (auto r = AddExtension(c.get(), signer, NID_basic_constraints, "critical,CA:TRUE"); !r) return Unexpected(r.error());
    if (auto r = AddExtension(c.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign"); !r) return Unexpected(r.error());
    if (auto r = AddExtension(c.get(), signer, NID_subject_key_identifier, "hash"); !r) return Unexpected(r.error());
  }
  if (X509_sign(c.get(), issuer_key ? issuer_key : key, EVP_sha256()) == 0) return Unexpected(OpenSslError("sign"));
  return c;
}

Result<void> WritePrivate(const std::string& path, const std::string& data) {
  // O_EXCL: never over a file (or link) someone put there.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Unexpected(ErrorCode::kStorage, path + ": " + std::strerror(errno));
  const bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  ::close(fd);
  if (!ok) return Unexpected(ErrorCode::kStorage, path + ": write failed");
  return {};
}

struct Ca {
  Cert cert;
  Key key;
  std::string pem;
};

Result<Ca> LoadOrMakeCa(const std::string& db) {
  std::error_code ec;
  const bool have_cert = std::filesystem::exists(CaCertPath(db), ec);
  const bool have_key = std::filesystem::exists(CaKeyPath(db), ec);
  if (have_cert != have_key) {
    return Unexpected(ErrorCode::kInvalid, "api certificates: " + (have_cert ? CaKeyPath(db) : CaCertPath(db)) +
                                               " is missing while its pair is there; remove both to make a new CA");
  }
  Ca ca;
  if (!have_cert) {
    auto key = NewKey();
    if (!key) return Unexpected(key.error());
    auto cert = Issue(key->get(), "keelson-ca", 3650, nullptr, nullptr);
    if (!cert) return Unexpected(cert.error());
    auto cert_pem = ToPem(cert->get());
    auto key_pem = ToPem(key->get());
    if (!cert_pem || !key_pem) return Unexpected(cert_pem ? key_pem.error() : cert_pem.error());
    if (auto r = WritePrivate(CaKeyPath(db), *key_pem); !r) return Unexpected(r.error());
    if (auto r = WritePrivate(CaCertPath(db), *cert_pem); !r) return Unexpected(r.error());
    ca.cert = std::move(*cert);
    ca.key = std::move(*key);
    ca.pem = *cert_pem;
    return ca;
  }
  auto cert_pem = ReadSecretFile(CaCertPath(db));
  if (!cert_pem) return Unexpected(cert_pem.error());
  auto key_pem = ReadSecretFile(CaKeyPath(db));
  if (!key_pem) return Unexpected(key_pem.error());
  struct stat st {};
  if (::stat(CaKeyPath(db).c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    return Unexpected(ErrorCode::kInvalid, CaKeyPath(db) + ": readable by others (want mode 0600)");
  }
  Bio cb(BIO_new_mem_buf(cert_pem->data(), static_cast<int>(cert_pem->size())));
  Bio kb(BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size())));
  ca.cert.reset(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
  ca.key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
  if (!ca.cert) return Unexpected(OpenSslError(CaCertPath(db)));
  if (!ca.key) return Unexpected(OpenSslError(CaKeyPath(db)));
  if (X509_check_private_key(ca.cert.get(), ca.key.get()) != 1) {
    return Unexpected(ErrorCode::kInvalid, CaKeyPath(db) + ": not the key of " + CaCertPath(db));
  }
  ca.pem = *cert_pem;
  return ca;
}

bool IsIp(const std::string& h) {
  unsigned char buf[16];
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

}  // namespace

Result<std::string> CaCertificate(const std::string& db_path) {
  std::error_code ec;
  if (!std::filesystem::exists(CaCertPath(db_path), ec)) {
    return Unexpected(ErrorCode::kNotFound, CaCertPath(db_path) + ": no CA yet");
  }
  return ReadSecretFile(CaCertPath(db_path));
}

Result<ServingPki> ServingCertificates(const std::string& db_path, const std::vector<std::string>& hosts) {
  auto ca = LoadOrMakeCa(db_path);
  if (!ca) return Unexpected(ca.error());
  auto key = NewKey();
  if (!key) return Unexpected(key.error());
  auto cert = Issue(key->get(), "keelson-api", 825, ca->cert.get(), ca->key.get());
  if (!cert) return Unexpected(cert.error());
  std::string san;
  for (const auto& h : hosts) {
    if (h.empty()) continue;
    san += (san.empty() ? "" : ",") + std::string(IsIp(h) ? "IP:" : "DNS:") + h;
  }
  // Re-sign with the extensions (Issue signed the bare certificate).
  if (auto r = AddExtension(cert->get(), ca->cert.get(), NID_subject_alt_name, san); !r) return Unexpected(r.error());
  if (auto r = AddExtension(cert->get(), ca->cert.get(), NID_ext_key_usage, "serverAuth"); !r) return Unexpected(r.error());
  if (auto r = AddExtension(cert->get(), ca->cert.get(), NID_key_usage, "critical,digitalSignature"); !r) {
    return Unexpected(r.error());
  }
  if (X509_sign(cert->get(), ca->key.get(), EVP_sha256()) == 0) return Unexpected(OpenSslError("sign"));
  ServingPki out;
  out.ca_pem = ca->pem;
  auto cert_pem = ToPem(cert->get());
  auto key_pem = ToPem(key->get());
  if (!cert_pem || !key_pem) return Unexpected(cert_pem ? key_pem.error() : cert_pem.error());
  out.cert_pem = *cert_pem;
  out.key_pem = *key_pem;
  return out;
}

Result<ClientPki> ClientCertificate(const std::string& db_path, const std::string& user,
                                    const std::vector<std::string>& groups, long days) {
  auto ca = LoadOrMakeCa(db_path);
  if (!ca) return Unexpected(ca.error());
  auto key = NewKey();
  if (!key) return Unexpected(key.error());
  auto cert = Issue(key->get(), user, days, ca->cert.get(), ca->key.get());
  if (!cert) return Unexpected(cert.error());
  X509_NAME* name = X509_get_subject_name(cert->get());
  for (const auto& g : groups) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(g.c_str()), -1, -1, 0);
  }
  if (auto r = AddExtension(cert->get(), ca->cert.get(), NID_ext_key_usage, "clientAuth"); !r) return Unexpected(r.error());
  if (auto r = AddExtension(cert->get(), ca->cert.get(), NID_key_usage, "critical,digitalSignature"); !r) {
    return Unexpected(r.error());
  }
  if (X509_sign(cert->get(), ca->key.get(), EVP_sha256()) == 0) return Unexpected(OpenSslError("sign"));
  auto cert_pem = ToPem(cert->get());
  auto key_pem = ToPem(key->get());
  if (!cert_pem || !key_pem) return Unexpected(cert_pem ? key_pem.error() : cert_pem.error());
  return ClientPki{*cert_pem, *key_pem};
}

namespace {

std::vector<std::string> EntriesOf(X509_NAME* name, int nid) {
  std::vector<std::string> out;
  for (int i = -1; (i = X509_NAME_get_index_by_NID(name, nid, i)) >= 0;) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char* utf8 = nullptr;
    const int n = ASN1_STRING_to_UTF8(&utf8, data);
    if (n >= 0) out.emplace_back(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
    OPENSSL_free(utf8);
  }
  return out;
}

}  // namespace

Result<CertificateSubject> VerifyClientCertificate(const std::string& der, const std::string& ca_pem) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  Cert cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return Unexpected(ErrorCode::kUnauthorized, "client certificate: not a certificate");
  Bio cb(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
  Cert ca(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
  if (!ca) return Unexpected(ErrorCode::kUnauthorized, "client certificate: no CA to verify it");
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca.get());
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert.get(), nullptr);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
  const int ok = X509_verify_cert(ctx);
  const int err = X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  if (ok != 1) {
    return Unexpected(ErrorCode::kUnauthorized, std::string("client certificate: ") + X509_verify_cert_error_string(err));
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  auto cn = EntriesOf(name, NID_commonName);
  if (cn.size() != 1 || cn[0].empty()) return Unexpected(ErrorCode::kUnauthorized, "client certificate: no common name");
  return CertificateSubject{cn[0], EntriesOf(name, NID_organizationName)};
}

}  // namespace keelson::api
