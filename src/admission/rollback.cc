#include "admission/rollback.h"

#include "admission/admission.h"

namespace keelson::admission {

Result<std::optional<int64_t>> RestorePreviousTemplate(store::ObjectStore& store, const std::string& ns,
                                                       const std::string& name, const std::string& source,
                                                       std::optional<int64_t> only_generation) {
  std::optional<int64_t> restored;
  auto change = [&](const model::Object& current, nlohmann::json& spec, std::string* note) -> Result<bool> {
    restored.reset();
    if (only_generation && current.meta.generation != *only_generation) return false;
    auto history = store.History(current.kind, ns, name);
    if (!history) return Unexpected(history.error());
    const nlohmann::json* now = current.spec.contains("template") ? &current.spec["template"] : nullptr;
    for (auto it = history->rbegin(); it != history->rend(); ++it) {
      if (!it->spec.contains("template") || (now && it->spec["template"] == *now)) continue;
      spec["template"] = it->spec["template"];
      restored = it->generation;
      *note = "template of generation " + std::to_string(it->generation);
      return true;
    }
    return Unexpected(ErrorCode::kNotFound, "runnerpool/" + name + ": no earlier template in its history");
  };
  auto r = Update(store, model::Kind::kRunnerPool, ns, name, change, source);
  if (!r) return Unexpected(r.error());
  return restored;
}

}  // namespace keelson::admission
