#include "git/fetch_helper.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <iterator>

#include <nlohmann/json.hpp>

extern char** environ;

namespace keelson::git {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxAnswer = 64 << 10;  // a helper's answer is a few hundred bytes
constexpr auto kGrace = std::chrono::seconds(2);

const char* TypeName(RefSpec::Type t) {
  switch (t) {
    case RefSpec::Type::kTag: return "tag";
    case RefSpec::Type::kSemver: return "semver";
    case RefSpec::Type::kCommit: return "commit";
    case RefSpec::Type::kBranch: break;
  }
  return "branch";
}

json Encode(const FetchRequest& r) {
  return {{"mirror", r.mirror_dir},
          {"url", r.url},
          {"ref", {{"type", TypeName(r.ref.type)}, {"value", r.ref.value}}},
          {"username", r.credentials.username},
          {"password", r.credentials.password},
          {"sshKeyFile", r.credentials.ssh_key_file},
          {"knownHostsFile", r.credentials.known_hosts_file},
          {"caFile", r.credentials.ca_file},
          {"timeout", r.timeout.count()},
          {"maxBytes", r.limits.max_bytes}};
}

Error Broken(const std::string& url, const std::string& why) {
  return MakeError(ErrorCode::kUnavailable, "git " + url + ": the fetch helper " + why);
}

}  // namespace

Result<Fetched> FetchInHelper(const std::string& program, const FetchRequest& request) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return Unexpected(Broken(request.url, std::string("pipe: ") + std::strerror(errno)));
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]);
    return Unexpected(Broken(request.url, std::string("pipe: ") + std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  std::string arg0 = program, arg1 = "__git-fetch";
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  if (rc != 0) {
    ::close(in[1]), ::close(out[0]);
    return Unexpected(Broken(request.url, "cannot start: " + std::string(std::strerror(rc))));
  }
  // The request (with any password) goes through the pipe, never argv.
  const std::string body = Encode(request).dump();
  ::signal(SIGPIPE, SIG_IGN);
  (void)!::write(in[1], body.data(), body.size());
  ::close(in[1]);

  std::string answer;
  const auto deadline = std::chrono::steady_clock::now() + request.timeout + kGrace;
  bool timed_out = false;
  char buf[4096];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    pollfd p{out[0], POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) == 0) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (answer.size() < kMaxAnswer) answer.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return Unexpected(ErrorCode::kTimeout, "git " + request.url + ": no answer within " +
                                               std::to_string(request.timeout.count()) + "s");
  }
  json got = json::parse(answer, nullptr, false);
  if (got.is_discarded() || !got.is_object()) {
    return Unexpected(Broken(request.url, WIFSIGNALED(status) ? "died of signal " + std::to_string(WTERMSIG(status))
                                                              : "gave no answer"));
  }
  if (got.contains("error")) {
    return Unexpected(static_cast<ErrorCode>(got["error"].value("code", static_cast<int>(ErrorCode::kUnavailable))),
                      got["error"].value("message", "unknown error"));
  }
  return Fetched{got.value("commit", ""), got.value("revision", ""), got.value("downloaded", false)};
}

int ServeFetchHelper(std::istream& in, std::ostream& out) {
  json r = json::parse(std::string(std::istreambuf_iterator<char>(in), {}), nullptr, false);
  if (r.is_discarded() || !r.is_object()) return 2;
  FetchRequest req;
  try {
    req.mirror_dir = r.at("mirror").get<std::string>();
    req.url = r.at("url").get<std::string>();
    const std::string type = r.at("ref").at("type").get<std::string>();
    req.ref.type = type == "tag"      ? RefSpec::Type::kTag
                   : type == "semver" ? RefSpec::Type::kSemver
                   : type == "commit" ? RefSpec::Type::kCommit
                                      : RefSpec::Type::kBranch;
    req.ref.value = r.at("ref").at("value").get<std::string>();
    req.credentials = {r.value("username", ""), r.value("password", ""), r.value("sshKeyFile", ""),
                       r.value("knownHostsFile", ""), r.value("caFile", "")};
    req.timeout = std::chrono::seconds(r.value("timeout", 60));
    req.limits.max_bytes = r.value("maxBytes", uint64_t{0});
  } catch (const json::exception&) {
    return 2;
  }
  auto answer = [&](const Result<Fetched>& f) {
    if (!f) {
      out << json{{"error", {{"code", static_cast<int>(f.error().code)}, {"message", f.error().message}}}}.dump();
    } else {
      out << json{{"commit", f->commit}, {"revision", f->revision}, {"downloaded", f->downloaded}}.dump();
    }
    out.flush();
    return 0;
  };
  auto mirror = Mirror::Open(req.mirror_dir);
  if (!mirror) return answer(Unexpected(mirror.error()));
  return answer((*mirror)->Fetch(req.url, req.ref, req.credentials, req.timeout, req.limits));
}

}  // namespace keelson::git
