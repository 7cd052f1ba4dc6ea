#include "api/field_ownership.h"

namespace keelson::api {

using nlohmann::json;

namespace {

void Leaves(const json& node, const json::json_pointer& at, FieldSet* out) {
  if (node.is_object() && !node.empty()) {
    for (const auto& [key, value] : node.items()) Leaves(value, at / key, out);
    return;
  }
  out->insert(at.to_string());
}

// One field overlaps another when either is the other or under it.
bool Overlaps(const std::string& a, const std::string& b) {
  if (a == b) return true;
  const std::string& shorter = a.size() < b.size() ? a : b;
  const std::string& longer = a.size() < b.size() ? b : a;
  return longer.compare(0, shorter.size(), shorter) == 0 && longer[shorter.size()] == '/';
}

const json* At(const json& doc, const std::string& pointer) {
  const json::json_pointer p(pointer);
  return doc.contains(p) ? &doc.at(p) : nullptr;
}

// "/spec/env" -> ".spec.env"
std::string Dotted(const std::string& pointer) {
  std::string out;
  for (json::json_pointer p(pointer); !p.empty(); p = p.parent_pointer()) out = "." + p.back() + out;
  return out;
}

}  // namespace

FieldSet FieldsOf(const json& applied) {
  FieldSet out;
  if (!applied.is_object()) return out;
  if (applied.contains("spec")) Leaves(applied["spec"], json::json_pointer("/spec"), &out);
  if (applied.contains("metadata") && applied["metadata"].is_object()) {
    for (const char* map : {"labels", "annotations"}) {
      if (applied["metadata"].contains(map)) Leaves(applied["metadata"][map], json::json_pointer("/metadata") / map, &out);
    }
  }
  return out;
}

std::vector<FieldConflict> Conflicts(const std::map<std::string, FieldSet>& owners, const std::string& manager,
                                     const FieldSet& fields, const json& live, const json& applied) {
  std::vector<FieldConflict> out;
  for (const auto& field : fields) {
    const json* want = At(applied, field);
    const json* have = At(live, field);
    if (want && have && *want == *have) continue;  // applying the value it has is no conflict
    for (const auto& [other, owned] : owners) {
      if (other == manager) continue;
      for (const auto& o : owned) {
        if (!Overlaps(o, field)) continue;
        out.push_back({other, Dotted(o.size() > field.size() ? o : field)});
        break;
      }
    }
  }
  return out;
}

json Merge(const json& live, const json& applied, const FieldSet& fields, const FieldSet& before,
           const std::map<std::string, FieldSet>& others) {
  json out = live;
  for (const auto& field : before) {
    if (fields.count(field)) continue;
    bool kept = false;
    for (const auto& [manager, owned] : others) {
      for (const auto& o : owned) kept = kept || Overlaps(o, field);
    }
    const json::json_pointer p(field);
    if (!kept && out.contains(p)) out.at(p.parent_pointer()).erase(p.back());
  }
  for (const auto& field : fields) {
    const json::json_pointer p(field);
    out[p] = applied.at(p);
  }
  return out;
}

}  // namespace keelson::api
