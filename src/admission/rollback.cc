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

Result<int64_t> RestoreTemplateOf(store::ObjectStore& store, const std::string& ns, const std::string& name,
                                  int64_t revision, const std::string& source) {
  auto change = [&](const model::Object& current, nlohmann::json& spec, std::string* note) -> Result<bool> {
    auto history = store.History(current.kind, ns, name);
    if (!history) return Unexpected(history.error());
    for (const auto& rev : *history) {
      if (rev.generation != revision || !rev.spec.contains("template")) continue;
      if (spec.value("template", nlohmann::json()) == rev.spec["template"]) return false;
      spec["template"] = rev.spec["template"];
      *note = "template of generation " + std::to_string(revision);
      return true;
    }
    return Unexpected(ErrorCode::kNotFound, "runnerpool/" + name + ": revision " + std::to_string(revision) +
                                                " is not among the last " + std::to_string(store::kRevisionsKept) +
                                                " kept (keelson rollout history runnerpool/" + name + ")");
  };
  auto r = Update(store, model::Kind::kRunnerPool, ns, name, change, source);
  if (!r) return Unexpected(r.error());
  auto now = store.Get(model::Kind::kRunnerPool, ns, name);
  if (!now) return Unexpected(now.error());
  return *now ? (*now)->meta.generation : 0;
}

}  // namespace keelson::admission
