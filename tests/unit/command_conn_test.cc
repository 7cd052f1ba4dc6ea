// CommandBridge with real commands: what ssh:// rides on.

#include "docker/command_conn.h"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <thread>

namespace keelson::docker {
namespace {

int Connect(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

// Everything `fd` gives until its end.
std::string ReadAll(int fd) {
  std::string got;
  char buf[256];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
  return got;
}

TEST_CASE("CommandBridge: each connection is a command's stdin and stdout") {
  auto bridge = CommandBridge::Start({"sh", "-c", "read line; echo \"got $line\""});
  REQUIRE(bridge.has_value());
  const std::string path = (*bridge)->socket_path();
  struct stat st {};
  REQUIRE(::stat(std::filesystem::path(path).parent_path().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);  // nobody else may drive the remote engine
  int a = Connect(path), b = Connect(path);
  CHECK(::write(b, "two\n", 4) == 4);
  CHECK(::write(a, "one\n", 4) == 4);
  CHECK(ReadAll(a) == "got one\n");
  CHECK(ReadAll(b) == "got two\n");
  ::close(a), ::close(b);
  CHECK((*bridge)->TakeFailure(std::chrono::milliseconds(0)) == "");
  bridge->reset();
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK_FALSE(std::filesystem::exists(std::filesystem::path(path).parent_path()));
}

TEST_CASE("CommandBridge: a command that fails says why, once") {
  auto bridge = CommandBridge::Start({"sh", "-c", "echo 'Warning: first' >&2; echo 'ssh: connect to host h: refused' >&2; exit 255"});
  REQUIRE(bridge.has_value());
  int fd = Connect((*bridge)->socket_path());
  CHECK(ReadAll(fd) == "");
  ::close(fd);
  CHECK((*bridge)->TakeFailure(std::chrono::seconds(5)) == "sh exited with status 255: ssh: connect to host h: refused");
  CHECK((*bridge)->TakeFailure(std::chrono::milliseconds(0)) == "");
}

TEST_CASE("CommandBridge: a missing command, and commands still running when it stops") {
  auto missing = CommandBridge::Start({"keelson-no-such-command"});
  REQUIRE(missing.has_value());
  int fd = Connect((*missing)->socket_path());
  CHECK(ReadAll(fd) == "");  // the connection closes at once
  ::close(fd);
  CHECK((*missing)->TakeFailure(std::chrono::seconds(5)) ==
        "keelson-no-such-command: not found on PATH (ssh:// needs the OpenSSH client)");

  auto sleepy = CommandBridge::Start({"sleep", "600"});
  REQUIRE(sleepy.has_value());
  int s = Connect((*sleepy)->socket_path());
  for (int i = 0; i < 500 && (*sleepy)->Running() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK((*sleepy)->Running() == 1);
  sleepy->reset();  // stops the sleep (a signal is no failure), does not wait 600 s
  CHECK(ReadAll(s) == "");
  ::close(s);
}

}  // namespace
}  // namespace keelson::docker
