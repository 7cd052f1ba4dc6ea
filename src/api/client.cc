#include "api/client.h"

#include <curl/curl.h>

#include <fstream>
#include <iterator>

#include "manifest/document.h"

namespace keelson::api {

using nlohmann::json;

namespace {

// The base64 of kubeconfig's *-data fields.
std::string Unbase64(const std::string& in) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int bits = 0;
  unsigned value = 0;
  for (char c : in) {
    const auto at = kAlphabet.find(c);
    if (at == std::string::npos) continue;  // padding, line breaks
    value = (value << 6) | static_cast<unsigned>(at);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((value >> bits) & 0xff));
    }
  }
  return out;
}

Result<std::string> ReadText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Unexpected(ErrorCode::kInvalid, path + ": cannot open");
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// The entry named `name` of a kubeconfig list ("clusters", "users", "contexts").
const json* Named(const json& config, const char* list, const std::string& name, const char* inner) {
  if (!config.contains(list) || !config[list].is_array()) return nullptr;
  for (const auto& e : config[list]) {
    if (e.is_object() && e.value("name", "") == name && e.contains(inner)) return &e[inner];
  }
  return nullptr;
}

// "-data" inline, or the file the plain field names (relative to the kubeconfig's directory).
Result<std::string> Material(const json& section, const std::string& field, const std::string& dir) {
  if (section.contains(field + "-data")) return Unbase64(section.value(field + "-data", ""));
  if (!section.contains(field)) return std::string();
  std::string file = section.value(field, "");
  if (!file.empty() && file[0] != '/') file = dir + "/" + file;
  return ReadText(file);
}

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

Result<Endpoint> LoadKubeconfig(const std::string& path, const std::string& context) {
  auto text = ReadText(path);
  if (!text) return Unexpected(text.error());
  auto docs = manifest::ParseYaml(*text, path);
  if (!docs) return Unexpected(docs.error());
  if (docs->size() != 1) return Unexpected(ErrorCode::kInvalid, path + ": not a kubeconfig");
  const json& config = docs->front().value;
  const std::string name = context.empty() ? config.value("current-context", "") : context;
  if (name.empty()) return Unexpected(ErrorCode::kInvalid, path + ": no current-context (name one with --context)");
  const json* ctx = Named(config, "contexts", name, "context");
  if (!ctx) return Unexpected(ErrorCode::kInvalid, path + ": no context \"" + name + "\"");
  const json* cluster = Named(config, "clusters", ctx->value("cluster", ""), "cluster");
  if (!cluster) return Unexpected(ErrorCode::kInvalid, path + ": context \"" + name + "\" names no known cluster");
  const json* user = Named(config, "users", ctx->value("user", ""), "user");
  const std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  Endpoint e;
  e.server = cluster->value("server", "");
  if (e.server.empty()) return Unexpected(ErrorCode::kInvalid, path + ": cluster of \"" + name + "\" has no server");
  e.namespace_ = ctx->value("namespace", "");
  auto ca = Material(*cluster, "certificate-authority", dir);
  if (!ca) return Unexpected(ca.error());
  e.ca_pem = *ca;
  if (user) {
    e.token = user->value("token", "");
    auto cert = Material(*user, "client-certificate", dir);
    auto key = Material(*user, "client-key", dir);
    if (!cert) return Unexpected(cert.error());
    if (!key) return Unexpected(key.error());
    e.cert_pem = *cert;
    e.key_pem = *key;
  }
  return e;
}

std::string Reply::Message() const {
  if (body.is_object() && body.contains("message") && body["message"].is_string()) return body["message"].get<std::string>();
  return "the API answered " + std::to_string(status);
}

Client::Client(Endpoint endpoint) : endpoint_(std::move(endpoint)), curl_(curl_easy_init()) {}

Client::~Client() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Result<Reply> Client::Call(const std::string& method, const std::string& path, const std::string& body,
                           const std::string& content_type) {
  CURL* c = static_cast<CURL*>(curl_);
  if (!c) return Unexpected(ErrorCode::kInternal, "api: curl_easy_init failed");
  curl_easy_reset(c);
  std::string url = endpoint_.server;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += path;
  std::string answer;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 120000L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (!endpoint_.ca_pem.empty()) {
    curl_blob blob{const_cast<char*>(endpoint_.ca_pem.data()), endpoint_.ca_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (!endpoint_.cert_pem.empty()) {
    curl_blob cert{const_cast<char*>(endpoint_.cert_pem.data()), endpoint_.cert_pem.size(), CURL_BLOB_COPY};
    curl_blob key{const_cast<char*>(endpoint_.key_pem.data()), endpoint_.key_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  }
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  std::string auth;
  if (!endpoint_.token.empty()) {
    auth = "Authorization: Bearer " + endpoint_.token;
    headers = curl_slist_append(headers, auth.c_str());
  }
  std::string type = "Content-Type: " + content_type;
  if (!body.empty()) {
    headers = curl_slist_append(headers, type.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    return Unexpected(ErrorCode::kUnavailable, "api " + endpoint_.server + ": " + curl_easy_strerror(rc));
  }
  Reply reply;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
  reply.body = json::parse(answer, nullptr, false);
  if (reply.body.is_discarded()) reply.body = nullptr;
  return reply;
}

}  // namespace keelson::api
