#include "api/audit.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace keelson::api {

namespace fs = std::filesystem;
using nlohmann::json;

std::filesystem::path AuditLogFor(const std::string& db_path) { return db_path + ".api-audit.log"; }

AuditLog::AuditLog(fs::path path, const Clock& clock, size_t max_bytes, int keep)
    : path_(std::move(path)), clock_(clock), max_bytes_(max_bytes), keep_(keep) {}

namespace {

std::string Verb(const server::Request& r) {
  if (r.method == "POST") return "create";
  if (r.method == "PUT") return "update";
  if (r.method == "PATCH") return "patch";
  if (r.method == "DELETE") return "delete";
  return r.method;
}

// apiGroup, namespace, resource, name and subresource from the path.
json ObjectRef(const std::string& path) {
  std::vector<std::string> seg;
  std::stringstream in(path);
  for (std::string s; std::getline(in, s, '/');) {
    if (!s.empty()) seg.push_back(s);
  }
  json ref = json::object();
  size_t i = 0;
  if (i < seg.size() && seg[i] == "apis" && i + 2 < seg.size()) {
    ref["apiGroup"] = seg[i + 1];
    ref["apiVersion"] = seg[i + 2];
    i += 3;
  } else if (i < seg.size() && seg[i] == "api" && i + 1 < seg.size()) {
    ref["apiVersion"] = seg[i + 1];
    i += 2;
  }
  if (i + 1 < seg.size() && seg[i] == "namespaces" && i + 2 < seg.size()) {
    ref["namespace"] = seg[i + 1];
    i += 2;
  }
  const char* keys[] = {"resource", "name", "subresource"};
  for (const char* key : keys) {
    if (i < seg.size()) ref[key] = seg[i++];
  }
  return ref;
}

std::string AuditId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace

void AuditLog::Rotate() {
  std::error_code ec;
  for (int i = keep_ - 1; i >= 1; --i) {
    fs::rename(path_.string() + "." + std::to_string(i), path_.string() + "." + std::to_string(i + 1), ec);
  }
  if (keep_ >= 1) {
    fs::rename(path_, path_.string() + ".1", ec);
  } else {
    fs::remove(path_, ec);
  }
}

void AuditLog::Record(const Identity* who, const server::Request& r, int code) {
  const std::string now = FormatTimestamp(clock_.Now());
  json user = who ? json{{"username", who->user}, {"groups", who->groups}} : json{{"username", "system:anonymous"}};
  json event = {{"kind", "Event"},
                {"apiVersion", "audit.k8s.io/v1"},
                {"level", "Metadata"},
                {"auditID", AuditId()},
                {"stage", "ResponseComplete"},
                {"requestURI", r.path},
                {"verb", Verb(r)},
                {"user", std::move(user)},
                {"sourceIPs", {r.peer}},
                {"userAgent", r.Header("user-agent")},
                {"objectRef", ObjectRef(r.path)},
                {"responseStatus", {{"code", code}}},
                {"requestReceivedTimestamp", now},
                {"stageTimestamp", now}};
  std::string line = event.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  std::lock_guard lock(mu_);
  std::error_code ec;
  const auto size = fs::file_size(path_, ec);
  if (!ec && size + line.size() > max_bytes_) Rotate();
  const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    if (!warned_) spdlog::warn("api: cannot write the audit log {}: {}", path_.string(), std::strerror(errno));
    warned_ = true;
  }
  if (fd >= 0) ::close(fd);
}

}  // namespace keelson::api
