#include "controller/event_keys.h"

#include "model/object.h"
#include "reconcile/labels.h"

namespace keelson::controller {

bool NoiseEvent(const docker::Event& e) {
  if (e.type != "container") return false;
  for (const char* prefix : {"exec_", "attach", "resize", "top", "copy", "archive-path", "extract-to-dir", "export",
                             "commit"}) {
    if (e.action.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

std::vector<std::string> KeysForEvent(const docker::Event& e, const LabelsOf& labels_of, const std::string& store_id) {
  std::vector<std::string> keys;
  auto add = [&](const std::optional<docker::Labels>& labels) {
    if (!labels) return;
    if (!store_id.empty() && reconcile::LabelValue(*labels, reconcile::kStoreLabel) != store_id) return;
    std::string key = reconcile::OwnerKey(*labels);
    if (!key.empty() && std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
  };
  if (e.type == "container") {
    if (!NoiseEvent(e)) add(e.attributes);
    return keys;
  }
  if (e.type != "network" && e.type != "volume") return keys;
  // A network connect/disconnect names the container: its owner looks again.
  if (auto c = e.attributes.find("container"); e.type == "network" && c != e.attributes.end()) {
    add(labels_of("container", c->second));
  }
  if (e.type == "volume" && e.action != "create" && e.action != "destroy") return keys;  // mount/unmount: noise
  auto name = e.attributes.find("name");
  add(labels_of(e.type, name != e.attributes.end() ? name->second : e.id));
  return keys;
}

std::vector<std::string> ChangedKeys(const std::map<std::string, int64_t>& before,
                                     const std::map<std::string, int64_t>& now,
                                     const std::function<bool(const std::string&, int64_t)>& own) {
  std::vector<std::string> out;
  for (const auto& [k, rv] : now) {
    auto it = before.find(k);
    // A change that is only the controller's own status write ends a
    // reconcile rather than asking for one.
    if ((it == before.end() || it->second != rv) && !own(k, rv)) out.push_back(k);
  }
  for (const auto& [k, rv] : before) {
    if (!now.count(k)) out.push_back(k);  // gone: Reconcile cleans up what it owned
  }
  return out;
}

std::vector<std::string> Dependents(const std::string& key, const std::map<std::string, int64_t>& keys) {
  std::vector<std::string> out;
  auto ref = model::ParseKey(key);
  if (!ref) return out;
  for (const auto& [k, rv] : keys) {
    auto other = model::ParseKey(k);
    if (!other || other->namespace_ != ref->namespace_ || k == key) continue;
    // Kinds that carry a Runner spec wait on others (images, networks, volumes, dependsOn).
    if (!model::Info(other->kind).runner_spec.empty()) out.push_back(k);
  }
  return out;
}

}  // namespace keelson::controller
