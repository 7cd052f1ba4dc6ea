#include "reconcile/depends.h"

#include <functional>
#include <map>

#include "reconcile/status.h"

namespace keelson::reconcile {

std::vector<std::string> FindDependencyCycle(const std::vector<model::Object>& objects) {
  std::map<std::string, const model::Object*> by_key;
  for (const auto& o : objects) by_key[model::Key(o)] = &o;
  enum class Mark { kNew, kOnPath, kDone };
  std::map<std::string, Mark> marks;
  std::vector<std::string> path, cycle;
  std::function<bool(const std::string&)> visit = [&](const std::string& key) {
    Mark& m = marks[key];
    if (m == Mark::kDone) return false;
    if (m == Mark::kOnPath) {
      auto from = std::find(path.begin(), path.end(), key);
      for (auto it = from; it != path.end(); ++it) cycle.push_back(model::DisplayName(*by_key[*it]));
      cycle.push_back(model::DisplayName(*by_key[key]));
      return true;
    }
    m = Mark::kOnPath;
    path.push_back(key);
    const model::Object& o = *by_key[key];
    if (o.spec.contains("dependsOn") && o.spec["dependsOn"].is_array()) {
      for (const auto& d : o.spec["dependsOn"]) {
        // Stored specs are read without trusting them: a malformed entry is skipped.
        auto kind = model::KindFromManifestName(TextField(d, "kind"));
        if (!kind) continue;
        std::string dep = model::Key(*kind, o.meta.namespace_, TextField(d, "name"));
        if (by_key.count(dep) && visit(dep)) return true;
      }
    }
    path.pop_back();
    marks[key] = Mark::kDone;
    return false;
  };
  for (const auto& [key, o] : by_key) {
    if (visit(key)) return cycle;
  }
  return {};
}

}  // namespace keelson::reconcile
