#include "reconcile/status.h"

namespace keelson::reconcile {

void SetCondition(nlohmann::json& status, const Condition& c, int64_t generation, TimePoint now) {
  if (!status.contains("conditions") || !status["conditions"].is_array()) status["conditions"] = nlohmann::json::array();
  nlohmann::json& list = status["conditions"];
  const std::string value = c.status ? "True" : "False";
  nlohmann::json* found = nullptr;
  for (auto& existing : list) {
    if (existing.value("type", "") == c.type) found = &existing;
  }
  std::string since = FormatTimestamp(now);
  if (found && found->value("status", "") == value) since = found->value("lastTransitionTime", since);
  nlohmann::json cond = {{"type", c.type},
                         {"status", value},
                         {"reason", c.reason},
                         {"message", c.message},
                         {"lastTransitionTime", since},
                         {"observedGeneration", generation}};
  if (found) {
    *found = std::move(cond);
  } else {
    list.push_back(std::move(cond));
  }
}

void SetStandardConditions(nlohmann::json& status, bool ready, const std::string& reason, const std::string& message,
                           bool degraded, int64_t generation, TimePoint now) {
  SetCondition(status, {"Ready", ready, reason, message}, generation, now);
  SetCondition(status, {"Progressing", !ready && !degraded, reason, ready ? "converged" : message}, generation, now);
  SetCondition(status, {"Degraded", degraded, degraded ? reason : "AsExpected", degraded ? message : ""}, generation, now);
  status["observedGeneration"] = generation;
}

int64_t IntField(const nlohmann::json& status, const char* key) {
  if (!status.is_object()) return 0;
  auto it = status.find(key);
  return it != status.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

std::string TextField(const nlohmann::json& status, const char* key) {
  if (!status.is_object()) return "";
  auto it = status.find(key);
  return it != status.end() && it->is_string() ? it->get<std::string>() : "";
}

const nlohmann::json* ConditionIn(const nlohmann::json& status, const char* type) {
  if (!status.is_object() || !status.contains("conditions") || !status["conditions"].is_array()) return nullptr;
  for (const auto& c : status["conditions"]) {
    if (c.is_object() && TextField(c, "type") == type) return &c;
  }
  return nullptr;
}

bool ReadyIn(const nlohmann::json& status) {
  const auto* c = ConditionIn(status, "Ready");
  return c && TextField(*c, "status") == "True";
}

}  // namespace keelson::reconcile
