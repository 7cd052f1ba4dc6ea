#pragma once
// What keelson writes on the engine objects it creates: their names, the
// labels that say who owns them, and the hash that decides replacement.

#include <string>

#include <nlohmann/json.hpp>

#include "docker/types.h"
#include "model/object.h"

namespace keelson::reconcile {

inline constexpr const char* kManagedByLabel = "dev.keelson.managed-by";
inline constexpr const char* kManagedByValue = "keelson";
inline constexpr const char* kKindLabel = "dev.keelson.kind";
inline constexpr const char* kNamespaceLabel = "dev.keelson.namespace";
inline constexpr const char* kNameLabel = "dev.keelson.name";
inline constexpr const char* kUidLabel = "dev.keelson.uid";
inline constexpr const char* kSpecHashLabel = "dev.keelson.spec-hash";
/// The id of the store whose object owns it: several stores may share one
/// engine, and each sweeps only its own orphans.
inline constexpr const char* kStoreLabel = "dev.keelson.store";
/// spec.restartedAt (keelson rollout restart) on the container it made.
inline constexpr const char* kRestartedAtLabel = "dev.keelson.restarted-at";
/// A replica of a pool whose GitHub runners keelson manages: the id of its
/// runner registration (deleted with it).
inline constexpr const char* kRunnerIdLabel = "dev.keelson.github-runner-id";

/// "NAMESPACE.NAME": networks, volumes and Runner containers.
std::string EngineName(const std::string& ns, const std::string& name);
inline std::string EngineName(const model::Object& o) { return EngineName(o.meta.namespace_, o.meta.name); }

/// The labels every engine object of `owner` (kept in store `store_id`)
/// carries, without the spec hash.
docker::Labels OwnerLabels(const model::Object& owner, const std::string& store_id);

/// The value of `key` in `labels`, "" when absent.
std::string LabelValue(const docker::Labels& labels, const char* key);

/// True when keelson created the object: the only objects it may change.
bool IsManaged(const docker::Labels& labels);

/// True when the engine object was made for the object with `uid` in the
/// store `store_id`: both must match, since a uid alone may be another
/// store's label (copied, restored, or forged).
bool OwnedBy(const docker::Labels& labels, const std::string& store_id, const std::string& uid);

/// The owner's store key ("Runner/default/web") named by an engine object's
/// labels, or "" when they do not name one.
std::string OwnerKey(const docker::Labels& labels);

/// A short, stable hash (16 hex digits, FNV-1a 64) of `canonical`'s dump.
/// nlohmann::json keeps object keys sorted, so equal values hash equally.
std::string Hash(const nlohmann::json& canonical);

}  // namespace keelson::reconcile
