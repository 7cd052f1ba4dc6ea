#include "reconcile/labels.h"

#include <cstdio>

namespace keelson::reconcile {

std::string EngineName(const std::string& ns, const std::string& name) { return ns + "." + name; }

std::string LabelValue(const docker::Labels& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? "" : it->second;
}

docker::Labels OwnerLabels(const model::Object& owner, const std::string& store_id) {
  return {
      {kStoreLabel, store_id},
      {kManagedByLabel, kManagedByValue},
      {kKindLabel, std::string(model::Info(owner.kind).name)},
      {kNamespaceLabel, owner.meta.namespace_},
      {kNameLabel, owner.meta.name},
      {kUidLabel, owner.meta.uid},
  };
}

bool IsManaged(const docker::Labels& labels) {
  auto it = labels.find(kManagedByLabel);
  return it != labels.end() && it->second == kManagedByValue;
}

bool OwnedBy(const docker::Labels& labels, const std::string& store_id, const std::string& uid) {
  return IsManaged(labels) && LabelValue(labels, kStoreLabel) == store_id && LabelValue(labels, kUidLabel) == uid;
}

std::string OwnerKey(const docker::Labels& labels) {
  if (!IsManaged(labels)) return "";
  auto kind = labels.find(kKindLabel), ns = labels.find(kNamespaceLabel), name = labels.find(kNameLabel);
  if (kind == labels.end() || ns == labels.end() || name == labels.end()) return "";
  auto k = model::KindFromManifestName(kind->second);
  if (!k) return "";
  return model::Key(*k, ns->second, name->second);
}

std::string Hash(const nlohmann::json& canonical) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : canonical.dump()) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace keelson::reconcile
