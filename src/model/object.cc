#include "model/object.h"

namespace keelson::model {

std::optional<ObjectRef> ParseKey(const std::string& key) {
  auto a = key.find('/');
  auto b = a == std::string::npos ? a : key.find('/', a + 1);
  if (b == std::string::npos) return std::nullopt;
  auto kind = KindFromManifestName(key.substr(0, a));
  if (!kind) return std::nullopt;
  return ObjectRef{*kind, key.substr(a + 1, b - a - 1), key.substr(b + 1)};
}

std::string Key(Kind kind, const std::string& ns, const std::string& name) {
  std::string key(Info(kind).name);
  key += '/';
  key += ns;
  key += '/';
  key += name;
  return key;
}

std::string DisplayName(const Object& o) {
  return std::string(Info(o.kind).singular) + "/" + o.meta.name;
}

nlohmann::json ToJson(const Object& o) {
  Object copy = o;
  return ToJson(std::move(copy));
}

nlohmann::json ToJson(Object&& o) {
  nlohmann::json meta = {
      {"name", o.meta.name},
      {"namespace", o.meta.namespace_},
      {"uid", o.meta.uid},
      {"generation", o.meta.generation},
      {"resourceVersion", std::to_string(o.meta.resource_version)},
      {"creationTimestamp", o.meta.creation_timestamp},
  };
  if (o.meta.deletion_timestamp) meta["deletionTimestamp"] = *o.meta.deletion_timestamp;
  if (!o.meta.labels.empty()) meta["labels"] = std::move(o.meta.labels);
  if (!o.meta.annotations.empty()) meta["annotations"] = std::move(o.meta.annotations);
  nlohmann::json doc = {
      {"apiVersion", kApiVersion},
      {"kind", Info(o.kind).name},
      {"metadata", std::move(meta)},
      {"spec", std::move(o.spec)},
  };
  if (!o.status.empty()) doc["status"] = std::move(o.status);
  return doc;
}

std::optional<Object> FromJson(const nlohmann::json& doc, std::string* error) {
  if (!doc.is_object() || !doc.contains("metadata") || !doc["metadata"].is_object()) {
    *error = "not an object with metadata";
    return std::nullopt;
  }
  auto kind = KindFromManifestName(doc.value("kind", ""));
  if (!kind) {
    *error = "unknown kind \"" + doc.value("kind", "") + "\"";
    return std::nullopt;
  }
  try {
    Object o;
    o.kind = *kind;
    const auto& m = doc["metadata"];
    o.meta.name = m.value("name", "");
    o.meta.namespace_ = m.value("namespace", "default");
    o.meta.uid = m.value("uid", "");
    o.meta.generation = m.value("generation", int64_t{0});
    o.meta.resource_version = std::stoll(m.value("resourceVersion", "0"));
    o.meta.creation_timestamp = m.value("creationTimestamp", "");
    if (m.contains("deletionTimestamp")) o.meta.deletion_timestamp = m["deletionTimestamp"].get<std::string>();
    if (m.contains("labels")) o.meta.labels = m["labels"].get<Labels>();
    if (m.contains("annotations")) o.meta.annotations = m["annotations"].get<Labels>();
    o.spec = doc.value("spec", nlohmann::json::object());
    o.status = doc.value("status", nlohmann::json::object());
    return o;
  } catch (const std::exception& e) {
    *error = std::string("malformed metadata: ") + e.what();
    return std::nullopt;
  }
}

const nlohmann::json* FindCondition(const Object& o, const std::string& type) {
  auto it = o.status.find("conditions");
  if (it == o.status.end() || !it->is_array()) return nullptr;
  for (const auto& c : *it) {
    if (c.is_object() && c.value("type", "") == type) return &c;
  }
  return nullptr;
}

bool IsReady(const Object& o) {
  const auto* c = FindCondition(o, "Ready");
  if (!c || c->value("status", "") != "True" || o.meta.deletion_timestamp) return false;
  return c->value("observedGeneration", o.status.value("observedGeneration", int64_t{0})) == o.meta.generation;
}

const nlohmann::json* AtPath(const nlohmann::json& root, std::string_view dotted) {
  const nlohmann::json* cur = &root;
  while (!dotted.empty()) {
    const size_t dot = dotted.find('.');
    const std::string key(dotted.substr(0, dot));
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
    dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
  }
  return cur;
}

nlohmann::json* AtPath(nlohmann::json& root, std::string_view dotted) {
  return const_cast<nlohmann::json*>(AtPath(static_cast<const nlohmann::json&>(root), dotted));
}

std::string SourceOf(const Labels& labels) {
  auto name = labels.find(kSourceNameLabel), ns = labels.find(kSourceNamespaceLabel);
  if (name == labels.end()) return "";
  return "gitrepository " + (ns == labels.end() ? std::string("default") : ns->second) + "/" + name->second;
}

std::string AutoscaledScaleRefusal(const Object& o) {
  if (o.kind != Kind::kRunnerPool || !o.spec.is_object() || !o.spec.contains("autoscaling")) return "";
  // With neither a webhook source nor a polled queue, /scale is the signal.
  const auto& a = o.spec["autoscaling"];
  if (!o.spec.contains("github") && !(a.is_object() && a.contains("queue"))) return "";
  return "runnerpool/" + o.meta.name +
         " is autoscaled: its replicas follow the job queue; change spec.autoscaling (minReplicas, maxReplicas, "
         "minIdle) instead";
}

}  // namespace keelson::model
