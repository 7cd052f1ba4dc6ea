#pragma once
// Kubernetes Status (metav1.Status) answers, so kubectl and client libraries
// print keelson's refusals as they print the API server's own
// ("Error from server (NotFound): runners.keelson.dev "web" not found").

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/kind.h"
#include "server/http_server.h"
#include "util/result.h"

namespace keelson::api {

inline constexpr const char* kJsonType = "application/json";

server::Response Json(int code, const nlohmann::json& body);

/// A failed request: `reason` is Kubernetes' StatusReason ("NotFound").
server::Response Failure(int code, const std::string& reason, const std::string& message,
                         nlohmann::json details = nullptr);

/// The group-qualified resource, as Kubernetes names it in messages: "runners.keelson.dev".
std::string Resource(const model::KindInfo& info);

server::Response NotFound(const model::KindInfo& info, const std::string& name);
server::Response AlreadyExists(const model::KindInfo& info, const std::string& name);
/// 409 Conflict, with Kubernetes' own words for a stale resourceVersion
/// when `e` is one (kubectl retries on its reason).
server::Response Conflict(const model::KindInfo& info, const std::string& name, const Error& e);
server::Response BadRequest(const std::string& message);

/// One field problem of an Invalid answer.
struct Cause {
  std::string field;  ///< "spec.image"; may be empty
  std::string message;
};
/// 422 Invalid: `KIND.GROUP "NAME" is invalid: FIELD: MESSAGE` (several in
/// brackets), one cause each.
server::Response Invalid(const model::KindInfo& info, const std::string& name, const std::vector<Cause>& causes);

/// 403 Forbidden, in Kubernetes' words: `User "bob" cannot create resource
/// "runners" in API group "keelson.dev" in the namespace "team"`.
server::Response Forbidden(const std::string& user, const std::string& verb, const std::string& resource,
                           const std::string& group, const std::string& name, const std::string& ns);

/// A store fault: 500 (or 503 when the store is busy or unavailable), logged.
server::Response StoreFailure(const Error& e);

/// Any error of a write to `name` of `info`, by its code.
server::Response WriteFailure(const model::KindInfo& info, const std::string& name, const Error& e);

}  // namespace keelson::api
