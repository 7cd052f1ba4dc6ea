#pragma once
// keelson's HTTP listener: an event-driven server (libmicrohttpd, one epoll
// thread) with bounds on everything a client controls, so that slow, idle or
// greedy clients never stop it answering others: body and header sizes, the
// number of connections, and how long a connection may stay silent. Routes
// are exact paths; handlers run on the server's thread and must be quick.
// A response may be a stream (a watch): its connection is parked, holding no
// thread, until the stream says it has more.

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "util/result.h"

struct MHD_Daemon;

namespace keelson::server {

struct Request {
  std::string method;
  std::string path;  ///< without the query
  std::string body;
  std::map<std::string, std::string> query;    ///< decoded; a repeated key keeps its last value
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string peer;                            ///< the client's address
  /// The certificate the client presented in the TLS handshake (DER), when
  /// the server asks for them (Tls::client_ca_pem) and it sent one. Not
  /// verified here: whoever trusts it checks it.
  std::string peer_certificate;

  /// The query value of `key`, or "" when absent.
  std::string Query(const std::string& key) const;
  /// The header `name` (lower-case), or "" when absent.
  std::string Header(const std::string& name) const;
};

/// A response body that arrives over time, sent chunked as it comes.
/// Thread-safe: Take runs on the server's threads, the producer elsewhere.
class Stream {
 public:
  virtual ~Stream() = default;
  /// What there is to send now: bytes, "" for nothing yet (the connection
  /// is parked until `wake` is called), or nullopt at the end.
  virtual std::optional<std::string> Take() = 0;
  /// Given once, before the first Take: call it (from any thread, at any
  /// time, any number of times) when there is more to take or the stream ended.
  virtual void SetWake(std::function<void()> wake) = 0;
  /// The server stops: end soon, and call wake.
  virtual void Close() = 0;
  /// The connection is gone: never call wake again (from when this returns).
  virtual void Release() = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers
  std::shared_ptr<Stream> stream = nullptr;                    ///< when set, the body (`body` unused)
};

using Handler = std::function<Response(const Request&)>;

/// A serving certificate and its private key, PEM.
struct Tls {
  std::string cert_pem;
  std::string key_pem;
  std::string client_ca_pem;  ///< when set, clients are asked for a certificate (optional) from this CA
};

struct Limits {
  size_t max_body = 1 << 20;            ///< larger bodies get 413, unread
  size_t max_header = 32 << 10;          ///< request line and headers; larger get 431
  unsigned max_connections = 1000;       ///< lowered to fit the open-file limit
  std::chrono::seconds idle_timeout{10};  ///< a connection silent this long is closed
  unsigned threads = 1;                   ///< handlers running at once (each an epoll thread of its own)
};

class HttpServer {
 public:
  explicit HttpServer(Limits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// `method` "GET" also answers HEAD. Before Start only.
  void Route(const std::string& method, const std::string& path, Handler handler);
  /// Every method, every path equal to `prefix` or under it ("/apis" takes
  /// "/apis/keelson.dev/v1alpha1/runners", not "/apisx"), when no exact
  /// route matches; the longest prefix wins. Before Start only.
  void RoutePrefix(const std::string& prefix, Handler handler);
  /// Binds HOST:PORT (no SO_REUSEPORT: a taken address is an error naming
  /// it) and starts serving on a thread of its own; with `tls`, HTTPS only.
  Result<void> Start(const std::string& host_port, const Tls* tls = nullptr);
  /// Stops serving and closes every connection. Idempotent.
  void Stop();
  /// The port bound (useful after binding port 0).
  int port() const { return port_; }
  const Limits& limits() const { return limits_; }

  // libmicrohttpd's callbacks (public for the C trampolines only).
  struct Call;
  struct Streaming;
  Response Dispatch(const Request& r) const;
  void Track(Streaming* s, bool add);

 private:
  Limits limits_;
  std::map<std::pair<std::string, std::string>, Handler> routes_;
  std::map<std::string, Handler> prefixes_;
  MHD_Daemon* daemon_ = nullptr;
  std::mutex streams_mu_;
  std::set<Streaming*> streams_;  ///< open streams, closed at Stop
  Tls tls_;  ///< kept while serving
  int port_ = 0;
};

/// Raises this process's soft open-file limit to its hard limit (as Go's
/// runtime does) and returns the soft limit now in force.
unsigned RaiseOpenFileLimit();

}  // namespace keelson::server
