#pragma once
// The stored form of every kind: Kubernetes-style metadata, a spec and a status.
// Specs stay JSON here: crds/ is their single definition, and the validator
// checks them against it before anything is stored.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "model/kind.h"

namespace keelson::model {

using Labels = std::map<std::string, std::string>;

struct ObjectMeta {
  std::string name;
  std::string namespace_ = "default";
  Labels labels;
  Labels annotations;
  // Read-only, set by the store.
  std::string uid;
  int64_t generation = 0;
  int64_t resource_version = 0;
  std::string creation_timestamp;
  std::optional<std::string> deletion_timestamp;
};

struct Object {
  Kind kind = Kind::kRunner;
  ObjectMeta meta;
  nlohmann::json spec = nlohmann::json::object();
  nlohmann::json status = nlohmann::json::object();
  /// What the controller remembers between passes that is not status
  /// (reconcile::Memory): stored with the object, never shown or applied.
  nlohmann::json controller_state = nlohmann::json::object();
};

/// "Runner/default/web": unique across the store.
std::string Key(Kind kind, const std::string& ns, const std::string& name);
inline std::string Key(const Object& o) { return Key(o.kind, o.meta.namespace_, o.meta.name); }

/// Why the replicas of `o` may not be set by hand (`keelson scale`, the
/// /scale subresource): an autoscaled RunnerPool's follow its job queue.
/// "" when they may.
std::string AutoscaledScaleRefusal(const Object& o);

/// The labels a git source puts on what it applies (Flux's
/// kustomize.toolkit.fluxcd.io/name and /namespace, in keelson's group):
/// the object is the source's, and other writers are refused.
inline constexpr const char* kSourceNameLabel = "gitrepository.keelson.dev/name";
inline constexpr const char* kSourceNamespaceLabel = "gitrepository.keelson.dev/namespace";
/// "gitrepository NS/NAME" when `labels` name a source, else "".
std::string SourceOf(const Labels& labels);
/// The parts of a Key; nullopt when `key` is not one.
struct ObjectRef {
  Kind kind;
  std::string namespace_, name;
};
std::optional<ObjectRef> ParseKey(const std::string& key);

/// "runner/web", as kubectl prints it.
std::string DisplayName(const Object& o);

/// The full Kubernetes-shaped document: apiVersion, kind, metadata, spec, status.
nlohmann::json ToJson(const Object& o);
nlohmann::json ToJson(Object&& o);  ///< moves spec, status and labels out of `o`
/// The inverse of ToJson (an object as the API serves it); nullopt and a
/// line in `error` naming what is missing or malformed.
std::optional<Object> FromJson(const nlohmann::json& doc, std::string* error);
/// The condition of `type` in status.conditions, or nullptr.
const nlohmann::json* FindCondition(const Object& o, const std::string& type);

/// The node at a dotted path ("spec.template", "status.id") of `root`, or
/// nullptr when some step is missing or not an object.
const nlohmann::json* AtPath(const nlohmann::json& root, std::string_view dotted);
nlohmann::json* AtPath(nlohmann::json& root, std::string_view dotted);

/// The contract's rule: Ready is "True", reported for the current generation,
/// and the object is not being deleted.
bool IsReady(const Object& o);

}  // namespace keelson::model
