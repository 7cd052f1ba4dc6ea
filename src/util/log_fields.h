#pragma once
// Structured fields for log lines: a scope sets fields (kind, namespace,
// name, action, reason, duration_ms, ...) on this thread, and every line
// logged inside it carries them (--log-format json writes them as keys; text
// lines are unchanged). Scopes nest; an inner field of the same key wins.

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace keelson::logfields {

using Fields = std::vector<std::pair<std::string, nlohmann::json>>;

class Scope {
 public:
  explicit Scope(Fields fields);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  size_t count_;
};

/// The fields in force on this thread, outermost first.
const Fields& Current();

}  // namespace keelson::logfields
