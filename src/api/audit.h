#pragma once
// The API's audit log: one JSON line per write (create, update, patch,
// delete; refused ones too), in the shape of Kubernetes' audit.k8s.io/v1
// Event at the Metadata level: who (user, groups, source address), what
// (verb, request URI, object reference), when, and the answer's code. Never
// a request or response body, so no secret in a spec reaches it. Bounded:
// past max_bytes the file moves to FILE.1 (FILE.1 to FILE.2, ...), keeping
// `keep` old files; it is created 0600.

#include <filesystem>
#include <mutex>
#include <string>

#include "api/tokens.h"
#include "server/http_server.h"
#include "util/clock.h"

namespace keelson::api {

class AuditLog {
 public:
  AuditLog(std::filesystem::path path, const Clock& clock, size_t max_bytes = 10 << 20, int keep = 3);
  /// Appends one event; `who` null when the request did not authenticate.
  /// Thread-safe. A file that cannot be written is logged once, not fatal.
  void Record(const Identity* who, const server::Request& r, int code);

 private:
  void Rotate();
  std::filesystem::path path_;
  const Clock& clock_;
  size_t max_bytes_;
  int keep_;
  std::mutex mu_;
  bool warned_ = false;
};

/// The audit log of the store at `db_path`: DB.api-audit.log.
std::filesystem::path AuditLogFor(const std::string& db_path);

}  // namespace keelson::api
