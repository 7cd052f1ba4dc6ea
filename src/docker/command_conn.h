#pragma once
// Connections to the engine through a command's stdin and stdout, as the
// docker CLI's connection helpers make them: for ssh://, `ssh -- host docker
// system dial-stdio` per connection.
//
// A CommandBridge listens on a unix socket in a directory only this user can
// open; each connection to it gets a command of its own, with the accepted
// socket as its stdin and stdout (keelson copies no bytes). libcurl then
// talks to that socket as to a local engine. (Handing libcurl a socket pair
// through CURLOPT_OPENSOCKETFUNCTION would need CURL_SOCKOPT_ALREADY_CONNECTED,
// which libcurl 7.88, Debian 12's, ignores: curl/curl#10626.)

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "util/result.h"

namespace keelson::docker {

class CommandBridge {
 public:
  /// Listens, ready for connections. `argv[0]` is looked up on PATH when a
  /// connection comes, as the docker CLI looks up `ssh`. kUnavailable when
  /// the socket cannot be made.
  static Result<std::unique_ptr<CommandBridge>> Start(std::vector<std::string> argv);
  /// Stops listening, stops the commands still running and removes the socket.
  ~CommandBridge();
  CommandBridge(const CommandBridge&) = delete;
  CommandBridge& operator=(const CommandBridge&) = delete;

  /// The unix socket to connect to.
  const std::string& socket_path() const { return socket_path_; }

  /// Why the most recent command that ended by itself failed, and forgets
  /// it: "ssh exited with status 255: <the last line it wrote to stderr>";
  /// "" when none did within `grace` (a command whose output just ended may
  /// still be exiting). Thread-safe.
  std::string TakeFailure(std::chrono::milliseconds grace);

  /// Commands running now. Thread-safe.
  size_t Running();

 private:
  struct Child {
    pid_t pid = -1;
    int stderr_fd = -1;
  };
  CommandBridge() = default;
  void Serve();
  void Spawn(int connection);
  // Reaps the children that have ended (`wait`: waits for each) and keeps
  // what the last failed one said. Called with mu_ held.
  void Reap(bool wait);

  std::vector<std::string> argv_;
  std::string dir_, socket_path_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  ///< written to stop Serve
  std::thread thread_;
  std::mutex mu_;
  std::vector<Child> children_;
  std::string failure_;
};

}  // namespace keelson::docker
