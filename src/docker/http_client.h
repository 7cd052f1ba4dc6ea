#pragma once
// HttpClient: HTTP/1.1 to the engine over a unix socket, TCP (optionally
// TLS) or an ssh command's stdio, with libcurl. The only libcurl user in keelson. Connections are
// reused: each request borrows an easy handle (and its live connection) from
// a pool, so several threads can send requests at once.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "docker/command_conn.h"
#include "docker/endpoint.h"
#include "docker/types.h"
#include "util/result.h"

namespace keelson::docker {

struct HttpRequest {
  std::string method = "GET";
  std::string target;  ///< path and query, e.g. "/v1.41/containers/json?all=1"
  std::string body;
  std::string content_type;  ///< default application/json when body is not empty
  std::vector<std::string> headers;  ///< "Name: value"
  /// 0: no limit (streams). Otherwise the whole request must finish in time.
  std::chrono::milliseconds timeout{0};
  /// 0: none. Otherwise the transfer fails (kTimeout) when nothing arrives
  /// for this long: a stream that keeps sending (a pull's progress) may run
  /// for hours, a hung one does not block its caller for ever.
  std::chrono::seconds idle_timeout{0};
  /// When set, the body is not kept: each line (without "\n") goes here as it
  /// arrives; returning false aborts the transfer.
  std::function<bool(const std::string& line)> on_line;
  /// When set, the body is not kept: raw chunks go here as they arrive.
  std::function<bool(const char* data, size_t size)> on_data;
  CancelFlag* cancel = nullptr;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;  ///< empty when on_line/on_data consumed it
  bool cancelled = false;  ///< the cancel flag stopped it
};

/// A connection taken over after an HTTP upgrade (an exec's attach): raw
/// bytes both ways, for the caller to poll on fd().
class RawConnection {
 public:
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  int fd() const { return fd_; }
  /// Bytes that arrived with the response's headers: read them first.
  std::string TakeInitial() { return std::move(initial_); }
  /// Appends what can be read now to `out`; false at the end of the stream.
  Result<bool> Read(std::string* out);
  Result<void> Write(std::string_view data);
  /// Says "no more input" (a half-close; over TLS the input just stops).
  void CloseWrite();

 private:
  friend class HttpClient;
  RawConnection() = default;
  void* curl_ = nullptr;
  int fd_ = -1;
  bool tls_ = false;
  std::string initial_;
};

/// The answer to an upgrade: the connection when the engine took it (101
/// or 200), else the error response.
struct Hijacked {
  HttpResponse response;
  std::unique_ptr<RawConnection> connection;
};

class HttpClient {
 public:
  struct Options {
    std::chrono::milliseconds connect_timeout{5000};
  };
  HttpClient(Endpoint endpoint, Options options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Sends one request. Transport failures are errors (kUnavailable when the
  /// engine cannot be reached or the connection broke, kTimeout); any HTTP
  /// status is a response, for the caller to map.
  Result<HttpResponse> Send(const HttpRequest& request);

  /// Sends `request` (with "Upgrade: tcp") on a connection of its own and
  /// hands that connection over once the engine answers 101 (or 200).
  Result<Hijacked> Hijack(const HttpRequest& request);

  const Endpoint& endpoint() const { return endpoint_; }

  /// Aborts every request in flight (within 50 ms), and every later one: for
  /// a process that stops whatever the engine does. Thread-safe.
  void Shutdown() { shutting_down_ = true; }

 private:
  struct Handle;
  std::unique_ptr<Handle> Acquire();
  void Release(std::unique_ptr<Handle> handle);

  Endpoint endpoint_;
  Options options_;
  std::unique_ptr<CommandBridge> bridge_;  ///< ssh:// only
  std::optional<Error> bridge_error_;      ///< ssh://: why there is no bridge
  std::string base_url_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Handle>> idle_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace keelson::docker
