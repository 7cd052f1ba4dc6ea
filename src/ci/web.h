#pragma once
// Outbound HTTP(S) to the CI systems keelson follows (a queue-depth
// endpoint, a Prometheus server, GitHub's REST API), with libcurl. One
// request per call; every call is bounded in time and in the size of the
// answer it keeps, so a misbehaving server can neither hang a controller
// thread nor fill its memory.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "util/result.h"

namespace keelson::ci {

struct WebRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  ///< "Name: value"; never logged
  std::string body;                  ///< sent as is (set Content-Type in headers)
  std::string ca_file;               ///< PEM; "": the system's authorities
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  int64_t max_body = 8 << 20;        ///< past this the call fails (kInvalid)
};

struct WebResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;
};

/// kUnavailable when no answer came (cannot connect, TLS, reset), kTimeout
/// past the request's timeout, kInvalid for an answer over max_body. Any
/// HTTP status is an answer: the caller decides what it means. Messages
/// name the method and the URL without its query (which may hold a token).
Result<WebResponse> Send(const WebRequest& request);

/// The URL without query or fragment, for messages.
std::string UrlForMessages(const std::string& url);

}  // namespace keelson::ci
