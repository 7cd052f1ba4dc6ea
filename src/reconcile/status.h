#pragma once
// Kubernetes-style conditions (metav1.Condition) on a status document.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "util/clock.h"

namespace keelson::reconcile {

struct Condition {
  std::string type;    ///< Ready, Progressing, Degraded
  bool status = false;  ///< "True" / "False"
  std::string reason;  ///< CamelCase
  std::string message;
};

/// Sets `c` in status.conditions for `generation`. lastTransitionTime moves
/// only when the status flips, so an unchanged world writes an unchanged status.
void SetCondition(nlohmann::json& status, const Condition& c, int64_t generation, TimePoint now);

/// The three conditions of a long-running kind at once: Ready as given,
/// Progressing while not ready and not blocked, Degraded when blocked.
void SetStandardConditions(nlohmann::json& status, bool ready, const std::string& reason, const std::string& message,
                           bool degraded, int64_t generation, TimePoint now);

/// status[key] as a number or a string; 0 or "" when absent or of another
/// type (a status is the controller's own, but never trusted to crash it).
int64_t IntField(const nlohmann::json& status, const char* key);
std::string TextField(const nlohmann::json& status, const char* key);

/// The condition of `type` in status.conditions, or nullptr.
const nlohmann::json* ConditionIn(const nlohmann::json& status, const char* type);
/// status.conditions[Ready] is "True" (for whichever generation).
bool ReadyIn(const nlohmann::json& status);

}  // namespace keelson::reconcile
