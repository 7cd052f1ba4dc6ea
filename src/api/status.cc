#include "api/status.h"

#include <spdlog/spdlog.h>

namespace keelson::api {

using nlohmann::json;
using server::Response;

Response Json(int code, const json& body) {
  return Response{code, kJsonType, body.dump(-1, ' ', false, json::error_handler_t::replace), {}};
}

Response Failure(int code, const std::string& reason, const std::string& message, json details) {
  json status = {{"kind", "Status"},     {"apiVersion", "v1"}, {"metadata", json::object()}, {"status", "Failure"},
                 {"message", message}, {"reason", reason},   {"code", code}};
  if (!details.is_null()) status["details"] = std::move(details);
  return Json(code, status);
}

std::string Resource(const model::KindInfo& info) { return std::string(info.plural) + "." + std::string(model::kGroup); }

namespace {

json Details(const model::KindInfo& info, const std::string& name) {
  return {{"name", name}, {"group", model::kGroup}, {"kind", info.plural}};
}

}  // namespace

Response NotFound(const model::KindInfo& info, const std::string& name) {
  return Failure(404, "NotFound", Resource(info) + " \"" + name + "\" not found", Details(info, name));
}

Response AlreadyExists(const model::KindInfo& info, const std::string& name) {
  return Failure(409, "AlreadyExists", Resource(info) + " \"" + name + "\" already exists", Details(info, name));
}

Response Conflict(const model::KindInfo& info, const std::string& name, const Error& e) {
  std::string why = e.message;
  if (why.find("has been modified") != std::string::npos) {
    why = "the object has been modified; please apply your changes to the latest version and try again";
  }
  return Failure(409, "Conflict", "Operation cannot be fulfilled on " + Resource(info) + " \"" + name + "\": " + why,
                 Details(info, name));
}

Response BadRequest(const std::string& message) { return Failure(400, "BadRequest", message); }

Response Invalid(const model::KindInfo& info, const std::string& name, const std::vector<Cause>& causes) {
  json list = json::array();
  std::vector<std::string> lines;
  for (const auto& c : causes) {
    json cause = {{"reason", "FieldValueInvalid"}, {"message", c.message}};
    if (!c.field.empty()) cause["field"] = c.field;
    list.push_back(std::move(cause));
    lines.push_back(c.field.empty() ? c.message : c.field + ": " + c.message);
  }
  std::string what;
  if (lines.size() == 1) {
    what = lines[0];
  } else {
    what = "[";
    for (size_t i = 0; i < lines.size(); ++i) what += (i ? ", " : "") + lines[i];
    what += "]";
  }
  json details = {{"name", name}, {"group", model::kGroup}, {"kind", info.name}, {"causes", std::move(list)}};
  return Failure(422, "Invalid", std::string(info.name) + "." + std::string(model::kGroup) + " \"" + name +
                                     "\" is invalid: " + what,
                 std::move(details));
}

Response Forbidden(const std::string& user, const std::string& verb, const std::string& resource,
                   const std::string& group, const std::string& name, const std::string& ns) {
  std::string subject = resource + (group.empty() ? "" : "." + group);
  if (!name.empty()) subject += " \"" + name + "\"";
  std::string message = subject + " is forbidden: User \"" + user + "\" cannot " + verb + " resource \"" + resource +
                        "\" in API group \"" + group + "\"";
  message += ns.empty() ? " at the cluster scope" : " in the namespace \"" + ns + "\"";
  return Failure(403, "Forbidden", message, {{"name", name}, {"group", group}, {"kind", resource}});
}

Response StoreFailure(const Error& e) {
  spdlog::warn("api: {}", e.message);
  if (e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kTimeout) {
    return Failure(503, "ServiceUnavailable", "the store is busy: " + e.message);
  }
  return Failure(500, "InternalError", "Internal error occurred: " + e.message);
}

Response WriteFailure(const model::KindInfo& info, const std::string& name, const Error& e) {
  switch (e.code) {
    case ErrorCode::kNotFound: return NotFound(info, name);
    case ErrorCode::kConflict:
      if (e.message.find("already exists") != std::string::npos) return AlreadyExists(info, name);
      return Conflict(info, name, e);
    case ErrorCode::kInvalid: return Invalid(info, name, {{"", e.message}});
    default: return StoreFailure(e);
  }
}

}  // namespace keelson::api
