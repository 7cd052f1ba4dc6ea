#include "ci/web.h"

#include "util/text.h"

#include <algorithm>
#include <cctype>

#include <curl/curl.h>

namespace keelson::ci {
namespace {

struct Sink {
  std::string* body;
  int64_t max;
  bool over = false;
};

size_t Collect(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t len = size * n;
  if (static_cast<int64_t>(sink->body->size() + len) > sink->max) {
    sink->over = true;
    return 0;  // curl stops with CURLE_WRITE_ERROR
  }
  sink->body->append(data, len);
  return len;
}

size_t Header(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string name, value;
  if (ParseHeaderLine(std::string_view(data, size * n), &name, &value)) (*headers)[name] = value;
  return size * n;
}

}  // namespace

std::string UrlForMessages(const std::string& url) { return url.substr(0, url.find_first_of("?#")); }

Result<WebResponse> Send(const WebRequest& request) {
  const std::string ctx = request.method + " " + UrlForMessages(request.url);
  CURL* c = curl_easy_init();
  if (!c) return Unexpected(ErrorCode::kInternal, ctx + ": curl_easy_init failed");
  WebResponse out;
  Sink sink{&out.body, request.max_body};
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &Header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &out.headers);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<int64_t>(request.timeout.count(), 10000)));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "keelson");
  if (!request.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, request.ca_file.c_str());
  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  curl_easy_cleanup(c);
  if (sink.over) {
    return Unexpected(ErrorCode::kInvalid,
                      ctx + ": the answer is larger than " + std::to_string(request.max_body) + " bytes");
  }
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return Unexpected(ErrorCode::kTimeout, ctx + ": no answer within " + std::to_string(request.timeout.count()) + "ms");
  }
  if (rc != CURLE_OK) return Unexpected(ErrorCode::kUnavailable, ctx + ": " + curl_easy_strerror(rc));
  return out;
}

}  // namespace keelson::ci
