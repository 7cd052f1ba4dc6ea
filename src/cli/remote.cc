#include "cli/remote.h"

#include "util/url.h"

#include <fstream>
#include <iostream>
#include <iterator>

namespace keelson::cli {

using nlohmann::json;

bool IsRemote(const Globals& g) { return !g.server.empty() || !g.kubeconfig.empty(); }

int NotOverTheApi(const std::string& command) {
  return Fail(command + " works on the store file only; over the API use kubectl (keelson kubeconfig prints its config)",
              kExitUsage);
}

Result<std::unique_ptr<api::Client>> OpenRemote(const Globals& g) {
  api::Endpoint e;
  if (!g.kubeconfig.empty()) {
    auto loaded = api::LoadKubeconfig(g.kubeconfig, g.context);
    if (!loaded) return Unexpected(loaded.error());
    e = std::move(*loaded);
  }
  if (!g.server.empty()) e.server = g.server;
  if (!g.token.empty()) e.token = g.token;
  if (!g.certificate_authority.empty()) {
    std::ifstream f(g.certificate_authority);
    if (!f) return Unexpected(ErrorCode::kInvalid, "--certificate-authority: cannot open " + g.certificate_authority);
    e.ca_pem.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  if (e.server.rfind("https://", 0) != 0) {
    return Unexpected(ErrorCode::kInvalid, "--server: want https://HOST:PORT, got \"" + e.server + "\"");
  }
  return std::make_unique<api::Client>(std::move(e));
}

Result<Reading> OpenReading(const Globals& g, Access access) {
  Reading out;
  if (IsRemote(g)) {
    auto client = OpenRemote(g);
    if (!client) return Unexpected(client.error());
    out.client = std::move(*client);
    out.reader = std::make_unique<ApiReader>(*out.client);
    return out;
  }
  auto session = OpenSession(g, access);
  if (!session) return Unexpected(session.error());
  out.session = std::move(*session);
  out.reader = std::make_unique<StoreReader>(*out.session->objects);
  return out;
}

std::string ApiPath(model::Kind kind, const std::optional<std::string>& ns, const std::string& name) {
  std::string path = "/apis/" + std::string(model::kApiVersion);
  if (ns) path += "/namespaces/" + UrlEncode(*ns);
  path += "/" + std::string(model::Info(kind).plural);
  if (!name.empty()) path += "/" + UrlEncode(name);
  return path;
}

Error ApiError(const api::Reply& reply) {
  const ErrorCode code = reply.status == 404   ? ErrorCode::kNotFound
                         : reply.status == 409 ? ErrorCode::kConflict
                         : reply.status == 401 || reply.status == 403 ? ErrorCode::kUnauthorized
                         : reply.status == 400 || reply.status == 422 ? ErrorCode::kInvalid
                                                                      : ErrorCode::kUnavailable;
  return MakeError(code, reply.Message());
}

Result<void> ApiReader::ForEach(const store::ListOptions& o, const std::function<void(model::Object&&)>& visit) {
  for (const auto& info : model::AllKinds()) {
    if (o.kind && *o.kind != info.kind) continue;
    std::string path = ApiPath(info.kind, o.namespace_);
    if (o.selector && !o.selector->text().empty()) path += "?labelSelector=" + UrlEncode(o.selector->text());
    auto reply = client_.Call("GET", path);
    if (!reply) return Unexpected(reply.error());
    if (reply->status != 200) return Unexpected(ApiError(*reply));
    for (const auto& item : reply->body.value("items", json::array())) {
      std::string error;
      auto object = model::FromJson(item, &error);
      if (!object) return Unexpected(ErrorCode::kInvalid, "api: " + error);
      visit(std::move(*object));
    }
  }
  return {};
}

Result<std::optional<model::Object>> ApiReader::Get(model::Kind kind, const std::string& ns, const std::string& name) {
  auto reply = client_.Call("GET", ApiPath(kind, ns, name));
  if (!reply) return Unexpected(reply.error());
  if (reply->status == 404) return std::optional<model::Object>();
  if (reply->status != 200) return Unexpected(ApiError(*reply));
  std::string error;
  auto object = model::FromJson(reply->body, &error);
  if (!object) return Unexpected(ErrorCode::kInvalid, "api: " + error);
  return object;
}

}  // namespace keelson::cli
