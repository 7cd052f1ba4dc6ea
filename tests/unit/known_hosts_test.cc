// known_hosts as OpenSSH reads it; hashed lines made by ssh-keygen -H itself.

#include "git/known_hosts.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace keelson::git {
namespace {

// Two made-up key blobs and their base64 as known_hosts writes them.
const std::string kKeyA = std::string("\0\0\0\x0bssh-ed25519\0\0\0\x20", 19) + std::string(32, 'A');
const std::string kKeyB = std::string("\0\0\0\x0bssh-ed25519\0\0\0\x20", 19) + std::string(32, 'B');
const std::string kA64 = "AAAAC3NzaC1lZDI1NTE5AAAAIEFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB";
const std::string kB64 = "AAAAC3NzaC1lZDI1NTE5AAAAIEJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJC";

TEST_CASE("known_hosts: plain, bracketed with a port, wildcards, negation, revoked") {
  const std::string file = "# comment\n\nexample.com,alias ssh-ed25519 " + kA64 + " me@host\n" +
                           "[127.0.0.1]:2222 ssh-ed25519 " + kB64 + "\n" +
                           "*.corp.example,!bad.corp.example ssh-ed25519 " + kA64 + "\n" +
                           "@revoked revoked.example ssh-ed25519 " + kB64 + "\n" +
                           "revoked.example ssh-ed25519 " + kB64 + "\n" +
                           "@cert-authority *.example ssh-ed25519 " + kB64 + "\n";
  CHECK(KnownHostsTrust(file, "example.com", "", kKeyA).has_value());
  CHECK(KnownHostsTrust(file, "ALIAS", "", kKeyA).has_value());  // names compare case-insensitively
  auto changed = KnownHostsTrust(file, "example.com", "", kKeyB);
  CHECK(changed.error().code == ErrorCode::kUnauthorized);
  CHECK(changed.error().message == "the host key of example.com does not match the known hosts");
  CHECK(KnownHostsTrust(file, "example.com", "2200", kKeyA).error().code == ErrorCode::kNotFound);
  CHECK(KnownHostsTrust(file, "127.0.0.1", "2222", kKeyB).has_value());
  CHECK(KnownHostsTrust(file, "127.0.0.1", "", kKeyB).error().message == "no known host key for 127.0.0.1");
  CHECK(KnownHostsTrust(file, "ci.corp.example", "", kKeyA).has_value());
  CHECK(KnownHostsTrust(file, "bad.corp.example", "", kKeyA).error().code == ErrorCode::kNotFound);
  CHECK(KnownHostsTrust(file, "revoked.example", "", kKeyB).error().message ==
        "the host key of revoked.example is revoked");
}

TEST_CASE("known_hosts: hashed hosts as ssh-keygen -H writes them") {
  const auto dir = std::filesystem::temp_directory_path() / ("keelson-kh-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "known_hosts";
  std::ofstream(path) << "git.example.com ssh-ed25519 " << kA64 << "\n[10.0.0.5]:2200 ssh-ed25519 " << kB64 << "\n";
  const std::string cmd = "ssh-keygen -q -H -f " + path.string() + " >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream in(path);
  const std::string hashed((std::istreambuf_iterator<char>(in)), {});
  REQUIRE(hashed.rfind("|1|", 0) == 0);
  CHECK(hashed.find("git.example.com") == std::string::npos);
  CHECK(KnownHostsTrust(hashed, "git.example.com", "", kKeyA).has_value());
  CHECK(KnownHostsTrust(hashed, "10.0.0.5", "2200", kKeyB).has_value());
  CHECK(KnownHostsTrust(hashed, "git.example.com", "", kKeyB).error().code == ErrorCode::kUnauthorized);
  CHECK(KnownHostsTrust(hashed, "other.example.com", "", kKeyA).error().code == ErrorCode::kNotFound);
  CHECK(KnownHostsAccepts(path.string(), "git.example.com", "", kKeyA).has_value());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace keelson::git
