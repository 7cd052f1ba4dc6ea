#include "server/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <thread>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

namespace keelson::server {

struct HttpServer::Call {
  Request request;
  bool too_large = false;
};

// A streamed response on its connection. The connection is suspended while
// the stream has nothing (so it holds no thread and MHD does not spin) and
// resumed by the stream's wake. `mu` orders a wake that comes between an
// empty Take and the suspension: the wake is remembered, not lost.
struct HttpServer::Streaming {
  HttpServer* server = nullptr;
  MHD_Connection* connection = nullptr;
  std::shared_ptr<Stream> stream;
  std::mutex mu;
  bool suspended = false;
  bool woken = false;
  bool gone = false;   ///< the response was freed: wake does nothing
  std::string pending;  ///< taken, not yet sent
  size_t sent = 0;

  void Wake() {
    std::lock_guard lock(mu);
    if (gone) return;
    if (suspended) {
      suspended = false;
      MHD_resume_connection(connection);
    } else {
      woken = true;
    }
  }
};

namespace {

ssize_t ReadStream(void* cls, uint64_t, char* buf, size_t max) {
  auto* s = static_cast<HttpServer::Streaming*>(cls);
  std::lock_guard lock(s->mu);
  if (s->sent == s->pending.size()) {
    s->pending.clear();
    s->sent = 0;
    auto more = s->stream->Take();
    if (!more) return MHD_CONTENT_READER_END_OF_STREAM;
    s->pending = std::move(*more);
  }
  if (s->pending.empty()) {
    if (s->woken) {
      s->woken = false;
      return 0;  // something came since Take looked: ask again at once
    }
    s->suspended = true;
    MHD_suspend_connection(s->connection);
    return 0;
  }
  const size_t n = std::min(max, s->pending.size() - s->sent);
  std::memcpy(buf, s->pending.data() + s->sent, n);
  s->sent += n;
  return static_cast<ssize_t>(n);
}

void FreeStream(void* cls) {
  auto* s = static_cast<HttpServer::Streaming*>(cls);
  s->server->Track(s, false);
  {
    std::lock_guard lock(s->mu);
    s->gone = true;
  }
  s->stream->Release();  // after this no wake comes: `s` may go
  delete s;
}

MHD_Result SendStream(HttpServer* server, MHD_Connection* c, const Response& r) {
  auto* s = new HttpServer::Streaming;
  s->server = server;
  s->connection = c;
  s->stream = r.stream;
  MHD_Response* resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 << 10, &ReadStream, s, &FreeStream);
  if (!resp) {
    delete s;
    return MHD_NO;
  }
  server->Track(s, true);
  s->stream->SetWake([s] { s->Wake(); });
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type.c_str());
  for (const auto& [name, value] : r.headers) MHD_add_response_header(resp, name.c_str(), value.c_str());
  MHD_Result ok = MHD_queue_response(c, static_cast<unsigned>(r.status), resp);
  MHD_destroy_response(resp);
  return ok;
}

MHD_Result Send(MHD_Connection* c, const Response& r, bool head) {
  MHD_Response* resp = MHD_create_response_from_buffer(head ? 0 : r.body.size(), const_cast<char*>(r.body.data()),
                                                       MHD_RESPMEM_MUST_COPY);
  if (!resp) return MHD_NO;
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type.c_str());
  for (const auto& [name, value] : r.headers) MHD_add_response_header(resp, name.c_str(), value.c_str());
  MHD_Result ok = MHD_queue_response(c, static_cast<unsigned>(r.status), resp);
  MHD_destroy_response(resp);
  return ok;
}

MHD_Result Collect(void* cls, MHD_ValueKind, const char* key, const char* value) {
  (*static_cast<std::map<std::string, std::string>*>(cls))[key] = value ? value : "";
  return MHD_YES;
}

MHD_Result CollectHeader(void* cls, MHD_ValueKind, const char* key, const char* value) {
  std::string name = key;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return std::tolower(ch); });
  (*static_cast<std::map<std::string, std::string>*>(cls))[name] = value ? value : "";
  return MHD_YES;
}

Response TooLarge(size_t limit) {
  return Response{413, "text/plain; charset=utf-8",
                  "request body too large: at most " + std::to_string(limit) + " bytes\n", {}};
}

MHD_Result Access(void* cls, MHD_Connection* c, const char* url, const char* method, const char*,
                  const char* upload, size_t* upload_size, void** state) {
  auto* server = static_cast<HttpServer*>(cls);
  const size_t max_body = server->limits().max_body;
  auto* call = static_cast<HttpServer::Call*>(*state);
  if (!call) {
    call = new HttpServer::Call;
    call->request.method = method;
    call->request.path = url;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, &Collect, &call->request.query);
    MHD_get_connection_values(c, MHD_HEADER_KIND, &CollectHeader, &call->request.headers);
    if (const auto* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS); info && info->client_addr) {
      char text[INET6_ADDRSTRLEN] = {};
      const sockaddr* sa = info->client_addr;
      if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, text, sizeof text);
      } else if (sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, text, sizeof text);
      }
      call->request.peer = text;
    }
    if (const auto* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION); info && info->tls_session) {
      unsigned int n = 0;
      const gnutls_datum_t* peers =
          gnutls_certificate_get_peers(static_cast<gnutls_session_t>(info->tls_session), &n);
      if (peers && n > 0) call->request.peer_certificate.assign(reinterpret_cast<const char*>(peers[0].data), peers[0].size);
    }
    *state = call;
    // Refused before a byte of the body is read when its length says so.
    const char* length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length && std::strtoull(length, nullptr, 10) > max_body) {
      call->too_large = true;
      return Send(c, TooLarge(max_body), false);
    }
    return MHD_YES;
  }
  if (*upload_size > 0) {
    // Chunked bodies carry no length: counted as they come.
    if (!call->too_large && call->request.body.size() + *upload_size <= max_body) {
      call->request.body.append(upload, *upload_size);
    } else {
      call->too_large = true;
    }
    *upload_size = 0;
    return MHD_YES;
  }
  if (call->too_large) return Send(c, TooLarge(max_body), false);
  const bool head = call->request.method == "HEAD";
  Response response;
  try {
    response = server->Dispatch(call->request);
  } catch (const std::exception& e) {
    // A bug in a handler answers 500; it never takes the process down.
    response = Response{500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what() + "\n", {}};
  }
  if (response.stream && !head) return SendStream(server, c, response);
  return Send(c, response, head);
}

void Completed(void*, MHD_Connection*, void** state, MHD_RequestTerminationCode) {
  delete static_cast<HttpServer::Call*>(*state);
  *state = nullptr;
}

}  // namespace

HttpServer::HttpServer(Limits limits) : limits_(limits) {}

HttpServer::~HttpServer() { Stop(); }

std::string Request::Query(const std::string& key) const {
  auto it = query.find(key);
  return it == query.end() ? "" : it->second;
}

std::string Request::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

void HttpServer::Route(const std::string& method, const std::string& path, Handler handler) {
  routes_[{method, path}] = std::move(handler);
}

void HttpServer::RoutePrefix(const std::string& prefix, Handler handler) { prefixes_[prefix] = std::move(handler); }

Response HttpServer::Dispatch(const Request& r) const {
  const std::string method = r.method == "HEAD" ? "GET" : r.method;
  auto it = routes_.find({method, r.path});
  if (it != routes_.end()) return it->second(r);
  for (const auto& [key, _] : routes_) {
    if (key.second == r.path) return Response{405, "text/plain; charset=utf-8", "method not allowed\n", {}};
  }
  const Handler* best = nullptr;
  size_t best_len = 0;
  for (const auto& [prefix, handler] : prefixes_) {
    const bool under = r.path.rfind(prefix, 0) == 0 &&
                       (r.path.size() == prefix.size() || r.path[prefix.size()] == '/' || prefix.back() == '/');
    if (under && prefix.size() >= best_len) best = &handler, best_len = prefix.size();
  }
  if (best) return (*best)(r);
  return Response{404, "text/plain; charset=utf-8", "not found\n", {}};
}

Result<void> HttpServer::Start(const std::string& host_port, const Tls* tls) {
  auto colon = host_port.rfind(':');
  if (colon == std::string::npos) return Unexpected(ErrorCode::kInvalid, "want HOST:PORT, got " + host_port);
  std::string host = host_port.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const int port = std::atoi(host_port.substr(colon + 1).c_str());
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (host.empty() || host == "0.0.0.0" || inet_pton(AF_INET, host.c_str(), &reinterpret_cast<sockaddr_in*>(&addr)->sin_addr) == 1) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr) == 1) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in6);
  } else {
    return Unexpected(ErrorCode::kInvalid, "not a numeric address: " + host_port);
  }
  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unexpected(ErrorCode::kUnavailable, std::string("socket: ") + std::strerror(errno));
  int yes = 1;
  // SO_REUSEADDR only: with SO_REUSEPORT a second keelson would bind the same
  // address and the kernel would split requests between the two.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd, 128) != 0) {
    const int err = errno;
    ::close(fd);
    return Unexpected(ErrorCode::kUnavailable, "cannot bind " + host_port + ": " + std::strerror(err));
  }
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_len);
  port_ = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                           : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
  if (tls) {
    if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
      ::close(fd);
      return Unexpected(ErrorCode::kInvalid, "this libmicrohttpd has no TLS");
    }
    tls_ = *tls;
    flags |= MHD_USE_TLS;
  }
  // The TLS options come last: without TLS, MHD_OPTION_END ends the list before them.
  daemon_ = MHD_start_daemon(
      flags, 0, nullptr, nullptr, &Access, this,
      MHD_OPTION_LISTEN_SOCKET, fd,
      MHD_OPTION_THREAD_POOL_SIZE, std::max(1u, limits_.threads),
      MHD_OPTION_CONNECTION_LIMIT, limits_.max_connections,
      MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(limits_.idle_timeout.count()),
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, limits_.max_header,
      MHD_OPTION_NOTIFY_COMPLETED, &Completed, nullptr,
      tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, tls_.key_pem.c_str(),
      MHD_OPTION_HTTPS_MEM_CERT, tls_.cert_pem.c_str(),
      tls_.client_ca_pem.empty() ? MHD_OPTION_END : MHD_OPTION_HTTPS_MEM_TRUST, tls_.client_ca_pem.c_str(),
      MHD_OPTION_END);
  if (!daemon_) {
    ::close(fd);
    return Unexpected(ErrorCode::kUnavailable, "cannot serve " + host_port);
  }
  return {};
}

void HttpServer::Track(Streaming* s, bool add) {
  std::lock_guard lock(streams_mu_);
  if (add) {
    streams_.insert(s);
  } else {
    streams_.erase(s);
  }
}

void HttpServer::Stop() {
  if (!daemon_) return;
  // No connection may stay suspended when the daemon stops: every stream
  // ends, and its connection is resumed to send the end.
  const MHD_socket listener = MHD_quiesce_daemon(daemon_);
  {
    std::lock_guard lock(streams_mu_);
    for (auto* s : streams_) s->stream->Close();
  }
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(streams_mu_);
      if (streams_.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  MHD_stop_daemon(daemon_);
  daemon_ = nullptr;
  if (listener != MHD_INVALID_SOCKET) ::close(listener);
}

unsigned RaiseOpenFileLimit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 1024;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  return static_cast<unsigned>(std::min<rlim_t>(lim.rlim_cur, 1u << 30));
}

}  // namespace keelson::server
