#include "docker/http_client.h"
#include "util/text.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>

#include <poll.h>
#include <sys/socket.h>

namespace keelson::docker {
namespace {

constexpr size_t kMaxIdleHandles = 16;
constexpr size_t kMaxLine = 64u << 20;  // a stream line longer than this is not the engine's

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  const HttpRequest* request;
  HttpResponse* response;
  std::string pending;  // a partial line of a line stream
  bool aborted_by_consumer = false;
  const std::atomic<bool>* stop = nullptr;  // the client shutting down
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * n), name, value;
  if (ParseHeaderLine(line, &name, &value)) {
    t->response->headers[name] = value;
  } else if (line.rfind("HTTP/", 0) == 0) {
    // A status line: a new response begins (after a 100 Continue, say). The
    // status is needed before the body arrives, to keep error bodies whole.
    t->response->headers.clear();
    auto sp = line.find(' ');
    if (sp != std::string::npos) t->response->status = std::strtol(line.c_str() + sp + 1, nullptr, 10);
  }
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  const HttpRequest& req = *t->request;
  // Error responses are kept whole, whatever the consumer, to read the message.
  bool streaming = (req.on_line || req.on_data) && t->response->status < 300;
  if (!streaming) {
    t->response->body.append(data, len);
    return len;
  }
  if (req.on_data) {
    if (!req.on_data(data, len)) {
      t->aborted_by_consumer = true;
      return 0;
    }
    return len;
  }
  t->pending.append(data, len);
  size_t start = 0;
  for (size_t nl; (nl = t->pending.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::string line = t->pending.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (!req.on_line(line)) {
      t->aborted_by_consumer = true;
      return 0;
    }
  }
  t->pending.erase(0, start);
  if (t->pending.size() > kMaxLine) return 0;
  return len;
}

bool Cancelled(const Transfer& t) {
  return (t.request->cancel && t.request->cancel->load()) || (t.stop && t.stop->load());
}

// How long a transfer waits for its socket before looking at its cancel
// flags: the bound on how late a cancel (a stopping controller's event
// stream) takes effect. libcurl's progress callback would be up to a second.
constexpr int kCancelCheckMs = 50;

// curl_easy_perform, on the handle's own multi so that a wait on the socket
// wakes up to look at the cancel flags.
CURLcode Perform(CURL* easy, CURLM* multi, Transfer& t) {
  if (curl_multi_add_handle(multi, easy) != CURLM_OK) return CURLE_FAILED_INIT;
  CURLcode result = CURLE_OK;
  for (;;) {
    int running = 0;
    if (curl_multi_perform(multi, &running) != CURLM_OK) {
      result = CURLE_FAILED_INIT;
      break;
    }
    if (running == 0) {
      int left = 0;
      while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
        if (m->msg == CURLMSG_DONE) result = m->data.result;
      }
      break;
    }
    if (Cancelled(t)) {
      t.response->cancelled = true;
      result = CURLE_ABORTED_BY_CALLBACK;
      break;
    }
    if (curl_multi_poll(multi, nullptr, 0, kCancelCheckMs, nullptr) != CURLM_OK) {
      result = CURLE_FAILED_INIT;
      break;
    }
  }
  curl_multi_remove_handle(multi, easy);
  return result;
}

Error TransportError(CURLcode code, const char* detail, const Endpoint& endpoint, CommandBridge* bridge) {
  std::string where = "engine " + endpoint.ToString() + ": ";
  std::string what = detail && *detail ? detail : curl_easy_strerror(code);
  if (bridge) {
    // What ssh said (a refused connection, a rejected key, no docker on
    // the remote host) says more than curl's "empty reply".
    if (std::string failure = bridge->TakeFailure(std::chrono::milliseconds(200)); !failure.empty()) {
      return MakeError(code == CURLE_OPERATION_TIMEDOUT ? ErrorCode::kTimeout : ErrorCode::kUnavailable, where + failure);
    }
  }
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
      // curl's own text names port 80 of a made-up host for unix sockets.
      return MakeError(ErrorCode::kUnavailable, where + "cannot connect (is the engine running?)");
    case CURLE_OPERATION_TIMEDOUT:
      return MakeError(ErrorCode::kTimeout, where + what);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER:
      return MakeError(ErrorCode::kUnauthorized, where + "TLS: " + what);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return MakeError(ErrorCode::kInvalid, where + what);
    default:
      // Cannot connect, connection reset, nothing received, ...: the engine is
      // down or restarting. Transient.
      return MakeError(ErrorCode::kUnavailable, where + what);
  }
}

// The socket (the ssh bridge's for ssh://) or TLS settings of `endpoint`.
void SetTransport(CURL* c, const Endpoint& endpoint, CommandBridge* bridge) {
  if (endpoint.transport == Endpoint::Transport::kUnix) {
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, endpoint.socket_path.c_str());
  } else if (bridge) {
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, bridge->socket_path().c_str());
  } else if (endpoint.tls) {
    curl_easy_setopt(c, CURLOPT_CAINFO, endpoint.ca_file.c_str());
    curl_easy_setopt(c, CURLOPT_SSLCERT, endpoint.cert_file.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEY, endpoint.key_file.c_str());
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  }
}

constexpr size_t kMaxUpgradeHeaders = 64u << 10;

// Waits until `fd` is readable (or writable); false after `timeout_ms`.
bool WaitFor(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

}  // namespace

RawConnection::~RawConnection() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Result<bool> RawConnection::Read(std::string* out) {
  char buf[16384];
  for (;;) {
    size_t n = 0;
    CURLcode rc = curl_easy_recv(static_cast<CURL*>(curl_), buf, sizeof buf, &n);
    if (rc == CURLE_AGAIN) return true;
    if (rc != CURLE_OK) return Unexpected(ErrorCode::kUnavailable, std::string("engine connection: ") + curl_easy_strerror(rc));
    if (n == 0) return false;
    out->append(buf, n);
  }
}

Result<void> RawConnection::Write(std::string_view data) {
  while (!data.empty()) {
    size_t n = 0;
    CURLcode rc = curl_easy_send(static_cast<CURL*>(curl_), data.data(), data.size(), &n);
    if (rc == CURLE_AGAIN) {
      WaitFor(fd_, POLLOUT, 1000);
      continue;
    }
    if (rc != CURLE_OK) return Unexpected(ErrorCode::kUnavailable, std::string("engine connection: ") + curl_easy_strerror(rc));
    data.remove_prefix(n);
  }
  return {};
}

void RawConnection::CloseWrite() {
  if (!tls_ && fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

struct HttpClient::Handle {
  CURL* curl = nullptr;
  CURLM* multi = nullptr;  ///< this handle's alone: it keeps the live connection
  Handle() : curl(curl_easy_init()), multi(curl_multi_init()) {}
  ~Handle() {
    if (multi) curl_multi_cleanup(multi);
    if (curl) curl_easy_cleanup(curl);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
};

HttpClient::HttpClient(Endpoint endpoint, Options options)
    : endpoint_(std::move(endpoint)), options_(options) {
  GlobalInit();
  if (endpoint_.transport == Endpoint::Transport::kSsh) {
    base_url_ = "http://docker";
    auto bridge = CommandBridge::Start(SshCommand(endpoint_));
    if (bridge) {
      bridge_ = std::move(*bridge);
    } else {
      bridge_error_ = bridge.error();
    }
  } else if (endpoint_.transport == Endpoint::Transport::kUnix) {
    base_url_ = "http://docker";  // the host part is ignored on a unix socket
  } else {
    base_url_ = std::string(endpoint_.tls ? "https://" : "http://") + endpoint_.host_port;
  }
}

HttpClient::~HttpClient() = default;

std::unique_ptr<HttpClient::Handle> HttpClient::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto h = std::move(idle_.back());
      idle_.pop_back();
      return h;
    }
  }
  return std::make_unique<Handle>();
}

void HttpClient::Release(std::unique_ptr<Handle> handle) {
  std::lock_guard lock(mu_);
  if (idle_.size() < kMaxIdleHandles) idle_.push_back(std::move(handle));
}

Result<Hijacked> HttpClient::Hijack(const HttpRequest& request) {
  if (bridge_error_) return Unexpected(*bridge_error_);
  std::unique_ptr<RawConnection> conn(new RawConnection());
  CURL* c = curl_easy_init();
  if (!c) return Unexpected(ErrorCode::kInternal, "engine: curl_easy_init failed");
  conn->curl_ = c;
  conn->tls_ = endpoint_.tls;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  const std::string url = base_url_ + request.target;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
  SetTransport(c, endpoint_, bridge_.get());
  if (CURLcode rc = curl_easy_perform(c); rc != CURLE_OK) return Unexpected(TransportError(rc, error_buffer, endpoint_, bridge_.get()));
  curl_socket_t fd = CURL_SOCKET_BAD;
  curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &fd);
  if (fd == CURL_SOCKET_BAD) return Unexpected(ErrorCode::kUnavailable, "engine: no socket for the upgraded connection");
  conn->fd_ = static_cast<int>(fd);

  std::string head = request.method + " " + request.target + " HTTP/1.1\r\nHost: docker\r\nUser-Agent: keelson\r\n";
  for (const auto& h : request.headers) head += h + "\r\n";
  head += "Content-Type: " + (request.content_type.empty() ? std::string("application/json") : request.content_type) +
          "\r\nContent-Length: " + std::to_string(request.body.size()) + "\r\n\r\n" + request.body;
  if (auto w = conn->Write(head); !w) return Unexpected(w.error());

  // The response's head; what follows it is the stream.
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.connect_timeout);
  size_t end = std::string::npos;
  while ((end = got.find("\r\n\r\n")) == std::string::npos) {
    if (got.size() > kMaxUpgradeHeaders) return Unexpected(ErrorCode::kInternal, "engine: upgrade response headers too long");
    auto more = conn->Read(&got);
    if (!more) return Unexpected(more.error());
    if (!*more) return Unexpected(ErrorCode::kUnavailable, "engine closed the connection before answering");
    if (std::chrono::steady_clock::now() > deadline) return Unexpected(ErrorCode::kTimeout, "engine: no answer to the upgrade");
    if (got.find("\r\n\r\n") == std::string::npos) WaitFor(conn->fd_, POLLIN, 100);
  }
  long status = 0;
  if (auto sp = got.find(' '); sp != std::string::npos) status = std::strtol(got.c_str() + sp + 1, nullptr, 10);
  conn->initial_ = got.substr(end + 4);
  Hijacked out;
  out.response.status = status;
  if (status != 101 && status != 200) {
    // An error: its JSON body follows (read what arrives within a moment).
    for (int i = 0; i < 10 && conn->initial_.find('}') == std::string::npos; ++i) {
      if (!WaitFor(conn->fd_, POLLIN, 100)) continue;
      auto more = conn->Read(&conn->initial_);
      if (!more || !*more) break;
    }
    out.response.body = conn->TakeInitial();
    return out;
  }
  out.connection = std::move(conn);
  return out;
}

Result<HttpResponse> HttpClient::Send(const HttpRequest& request) {
  if (bridge_error_) return Unexpected(*bridge_error_);
  if (shutting_down_) {
    return Unexpected(ErrorCode::kUnavailable, "engine " + endpoint_.ToString() + ": keelson is stopping");
  }
  auto handle = Acquire();
  if (!handle->curl || !handle->multi) return Unexpected(ErrorCode::kInternal, "engine: curl_easy_init failed");
  CURL* c = handle->curl;
  curl_easy_reset(c);  // keeps the handle's live connection

  HttpResponse response;
  Transfer transfer{&request, &response, {}, false, &shutting_down_};
  std::string url = base_url_ + request.target;
  char error_buffer[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  SetTransport(c, endpoint_, bridge_.get());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);

  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  headers = curl_slist_append(headers, "User-Agent: keelson");
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  if (!request.body.empty() || request.method == "POST") {
    std::string type = "Content-Type: " + (request.content_type.empty() ? "application/json" : request.content_type);
    headers = curl_slist_append(headers, type.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
  if (request.idle_timeout.count() > 0) {
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(request.idle_timeout.count()));
  }
  // Every request can be cancelled: its own flag, or the client shutting down.
  CURLcode code = Perform(c, handle->multi, transfer);
  curl_slist_free_all(headers);
  if (code == CURLE_ABORTED_BY_CALLBACK && response.cancelled) {
    if (shutting_down_ && !(request.cancel && request.cancel->load())) {
      return Unexpected(ErrorCode::kUnavailable, "engine " + endpoint_.ToString() + ": keelson is stopping");
    }
    Release(std::move(handle));
    return response;
  }
  if (code == CURLE_WRITE_ERROR && transfer.aborted_by_consumer) {
    Release(std::move(handle));
    return response;
  }
  if (code != CURLE_OK) {
    // Do not pool a handle whose connection failed mid-way.
    return Unexpected(TransportError(code, error_buffer, endpoint_, bridge_.get()));
  }
  if (!transfer.pending.empty() && request.on_line && response.status < 300) {
    request.on_line(transfer.pending);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  Release(std::move(handle));
  return response;
}

}  // namespace keelson::docker
