#include "ci/queue_depth.h"

#include <cmath>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "ci/web.h"
#include "util/jsonpath.h"
#include "util/secret_file.h"

namespace keelson::ci {
namespace {

using nlohmann::json;

// A count from a JSON number or a numeric string.
Result<int64_t> Count(const json& v, const std::string& what) {
  double d = 0;
  if (v.is_number()) {
    d = v.get<double>();
  } else if (v.is_string()) {
    const std::string s = v.get<std::string>();
    char* end = nullptr;
    d = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0') return Unexpected(ErrorCode::kInvalid, what + " is \"" + s + "\", not a number");
  } else {
    return Unexpected(ErrorCode::kInvalid, what + " is " + std::string(v.type_name()) + ", not a number");
  }
  if (!std::isfinite(d) || d < 0 || d > 1e9) {
    return Unexpected(ErrorCode::kInvalid, what + " is " + v.dump() + ", not a queue depth");
  }
  return static_cast<int64_t>(std::ceil(d));
}

std::string Escape(const std::string& s) {
  char* e = curl_easy_escape(nullptr, s.c_str(), static_cast<int>(s.size()));
  std::string out = e ? e : "";
  curl_free(e);
  return out;
}

}  // namespace

Result<int64_t> DepthFromJson(const std::string& body, const std::string& json_path) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded()) return Unexpected(ErrorCode::kInvalid, "the answer is not JSON");
  auto path = JsonPath::Parse(json_path);
  if (!path) return Unexpected(path.error());
  auto values = path->Values(doc);
  if (values.empty()) return Unexpected(ErrorCode::kInvalid, json_path + " finds nothing in the answer");
  if (values.size() > 1) {
    return Unexpected(ErrorCode::kInvalid, json_path + " finds " + std::to_string(values.size()) + " values, not one");
  }
  return Count(values[0], json_path);
}

Result<int64_t> DepthFromPrometheus(const std::string& body) {
  json doc = json::parse(body, nullptr, false);
  if (!doc.is_object()) return Unexpected(ErrorCode::kInvalid, "the answer is not Prometheus's JSON");
  if (doc.value("status", "") != "success") {
    return Unexpected(ErrorCode::kInvalid, "prometheus: " + doc.value("errorType", std::string("error")) + ": " +
                                               doc.value("error", std::string("no reason given")));
  }
  const json data = doc.value("data", json::object());
  const std::string type = data.value("resultType", "");
  const json result = data.value("result", json());
  if (type == "scalar" && result.is_array() && result.size() == 2) return Count(result[1], "the scalar");
  if (type != "vector" || !result.is_array()) {
    return Unexpected(ErrorCode::kInvalid, "the query gives a " + (type.empty() ? "nameless" : type) +
                                               " result, not an instant vector or scalar");
  }
  if (result.empty()) return 0;
  if (result.size() > 1) {
    return Unexpected(ErrorCode::kInvalid, "the query gives " + std::to_string(result.size()) +
                                               " series; aggregate them (sum(...)) to one");
  }
  const json value = result[0].value("value", json());
  if (!value.is_array() || value.size() != 2) return Unexpected(ErrorCode::kInvalid, "the sample has no value");
  return Count(value[1], "the sample");
}

Result<int64_t> PollQueueDepth(const model::QueueSpec& spec) {
  WebRequest req;
  const bool prometheus = !spec.prometheus_query.empty();
  req.url = spec.url;
  if (prometheus) {
    while (!req.url.empty() && req.url.back() == '/') req.url.pop_back();
    req.url += "/api/v1/query?query=" + Escape(spec.prometheus_query);
  }
  req.headers.push_back("Accept: application/json");
  if (!spec.bearer_token_file.empty()) {
    auto token = ReadSecretFile(spec.bearer_token_file);
    if (!token) return Unexpected(token.error());
    req.headers.push_back("Authorization: Bearer " + *token);
  }
  req.ca_file = spec.ca_file;
  req.timeout = std::chrono::milliseconds(10000);
  req.max_body = 1 << 20;
  auto got = Send(req);
  if (!got) return Unexpected(got.error());
  const std::string where = "GET " + UrlForMessages(req.url);
  // Prometheus answers a bad query with 400 and its JSON error.
  if ((got->status < 200 || got->status > 299) && !(prometheus && got->status == 400)) {
    return Unexpected(got->status == 401 || got->status == 403 ? ErrorCode::kUnauthorized : ErrorCode::kUnavailable,
                      where + ": answered HTTP " + std::to_string(got->status));
  }
  auto depth = prometheus ? DepthFromPrometheus(got->body) : DepthFromJson(got->body, spec.json_path);
  if (!depth) return Unexpected(depth.error().code, where + ": " + depth.error().message);
  return depth;
}

}  // namespace keelson::ci
