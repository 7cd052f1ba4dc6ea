#include "docker/command_conn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "util/text.h"

extern char** environ;

namespace keelson::docker {
namespace {

constexpr size_t kMaxStderr = 4096;  // what is kept of a command's stderr
constexpr size_t kMaxReason = 300;   // the part of it an error message shows
constexpr int kReapEveryMs = 500;    // how soon an ended command is noticed

// What is waiting on `fd` now, at most kMaxStderr bytes of its end.
std::string Drain(int fd) {
  std::string got;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
    if (got.size() > 2 * kMaxStderr) got.erase(0, got.size() - kMaxStderr);
  }
  return got;
}

// The last line of `text` that says something, bounded and valid UTF-8.
std::string LastSaid(const std::string& text) {
  std::string line;
  size_t end = text.size();
  while (line.empty() && end > 0) {
    size_t start = text.rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    line = text.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    end = start == 0 ? 0 : start - 1;
  }
  std::string valid = ValidUtf8(line);
  return std::string(Utf8Prefix(valid, kMaxReason));
}

Error Unavailable(const std::string& what) {
  return MakeError(ErrorCode::kUnavailable, "ssh bridge: " + what + ": " + std::strerror(errno));
}

}  // namespace

Result<std::unique_ptr<CommandBridge>> CommandBridge::Start(std::vector<std::string> argv) {
  std::unique_ptr<CommandBridge> b(new CommandBridge());
  b->argv_ = std::move(argv);
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  std::string base = runtime && *runtime ? runtime : "/tmp";
  std::string dir = base + "/keelson-ssh-XXXXXX";
  if (!::mkdtemp(dir.data())) return Unexpected(Unavailable("mkdtemp " + dir));  // mode 0700
  b->dir_ = dir;
  b->socket_path_ = dir + "/engine.sock";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (b->socket_path_.size() >= sizeof addr.sun_path) {
    return Unexpected(ErrorCode::kUnavailable, "ssh bridge: socket path too long: " + b->socket_path_);
  }
  std::memcpy(addr.sun_path, b->socket_path_.c_str(), b->socket_path_.size() + 1);
  b->listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (b->listen_fd_ < 0) return Unexpected(Unavailable("socket"));
  if (::bind(b->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(b->listen_fd_, 64) != 0) {
    return Unexpected(Unavailable("listen on " + b->socket_path_));
  }
  if (::pipe2(b->wake_, O_CLOEXEC) != 0) return Unexpected(Unavailable("pipe"));
  b->thread_ = std::thread([raw = b.get()] { raw->Serve(); });
  return b;
}

CommandBridge::~CommandBridge() {
  if (thread_.joinable()) {
    (void)!::write(wake_[1], "x", 1);
    thread_.join();
  }
  for (int fd : {listen_fd_, wake_[0], wake_[1]}) {
    if (fd >= 0) ::close(fd);
  }
  {
    std::lock_guard lock(mu_);
    for (const Child& c : children_) ::kill(c.pid, SIGTERM);
    Reap(true);
  }
  if (!socket_path_.empty()) ::unlink(socket_path_.c_str());
  if (!dir_.empty()) ::rmdir(dir_.c_str());
}

void CommandBridge::Serve() {
  for (;;) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    int n = ::poll(p, 2, kReapEveryMs);
    if (n > 0 && p[1].revents) return;
    if (n > 0 && (p[0].revents & POLLIN)) {
      int conn = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn >= 0) Spawn(conn);
    }
    std::lock_guard lock(mu_);
    Reap(false);
  }
}

void CommandBridge::Spawn(int connection) {
  int err[2];
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(connection);
    return;
  }
  ::fcntl(err[0], F_SETFL, O_NONBLOCK);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, connection, 0);
  posix_spawn_file_actions_adddup2(&actions, connection, 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  // A session of its own: a terminal's Ctrl-C is keelson's to handle (a
  // controller stops gracefully), and ssh's ProxyCommand works as with the
  // docker CLI, which does the same.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  std::vector<char*> args;
  for (auto& a : argv_) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(connection);  // the command holds it now: its end closes the connection
  ::close(err[1]);
  std::lock_guard lock(mu_);
  if (rc != 0) {
    ::close(err[0]);
    failure_ = rc == ENOENT ? argv_[0] + ": not found on PATH (ssh:// needs the OpenSSH client)"
                            : argv_[0] + ": " + std::strerror(rc);
    return;
  }
  children_.push_back(Child{pid, err[0]});
}

std::string CommandBridge::TakeFailure(std::chrono::milliseconds grace) {
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      Reap(false);
      if (!failure_.empty() || std::chrono::steady_clock::now() >= deadline) return std::exchange(failure_, "");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

size_t CommandBridge::Running() {
  std::lock_guard lock(mu_);
  Reap(false);
  return children_.size();
}

void CommandBridge::Reap(bool wait) {
  for (auto it = children_.begin(); it != children_.end();) {
    int status = 0;
    pid_t got;
    do {
      got = ::waitpid(it->pid, &status, wait ? 0 : WNOHANG);
    } while (got < 0 && errno == EINTR);
    if (got == 0) {
      ++it;
      continue;
    }
    std::string said = Drain(it->stderr_fd);
    ::close(it->stderr_fd);
    it = children_.erase(it);
    // A signal is keelson stopping it; an exit status is its own failure.
    if (got < 0 || !WIFEXITED(status) || WEXITSTATUS(status) == 0) continue;
    failure_ = argv_[0] + " exited with status " + std::to_string(WEXITSTATUS(status));
    if (std::string line = LastSaid(said); !line.empty()) failure_ += ": " + line;
  }
}

}  // namespace keelson::docker
