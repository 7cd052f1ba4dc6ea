#pragma once
// Server-side apply's field ownership, as pure functions over JSON
// documents: which fields an applied configuration sets, which of them
// another field manager owns with another value (a conflict), and the
// object that results from an apply. As Kubernetes does: maps merge key by
// key (labels and annotations too), lists and scalars are owned whole; a
// field a manager applied before and applies no longer is removed unless
// another manager owns it.

#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace keelson::api {

/// A field by its JSON pointer ("/spec/image", "/metadata/labels/app").
using FieldSet = std::set<std::string>;

/// The fields `applied` sets: its leaves (scalars, lists, empty maps) under
/// spec, metadata.labels and metadata.annotations.
FieldSet FieldsOf(const nlohmann::json& applied);

struct FieldConflict {
  std::string manager;
  std::string field;  ///< ".spec.image", as Kubernetes prints it
};

/// Fields of `fields` that a manager other than `manager` owns (`owners`)
/// and that `applied` would change in `live`.
std::vector<FieldConflict> Conflicts(const std::map<std::string, FieldSet>& owners, const std::string& manager,
                                     const FieldSet& fields, const nlohmann::json& live, const nlohmann::json& applied);

/// `live` after `manager` applied `applied`: the fields it dropped since
/// `before` (and no other manager owns) removed, then every field it sets
/// taken from `applied`.
nlohmann::json Merge(const nlohmann::json& live, const nlohmann::json& applied, const FieldSet& fields,
                     const FieldSet& before, const std::map<std::string, FieldSet>& others);

}  // namespace keelson::api
