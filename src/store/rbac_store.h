#pragma once
// Kubernetes RBAC objects (rbac.authorization.k8s.io/v1 Role, ClusterRole,
// RoleBinding, ClusterRoleBinding) kept beside keelson's objects, for the
// API server's authorizer. Stored as their JSON documents; the store sets
// uid, resourceVersion (the store-wide counter) and creationTimestamp.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/db.h"
#include "util/clock.h"
#include "util/result.h"

namespace keelson::store {

class RbacStore {
 public:
  /// `db` and `clock` must outlive it. Not thread-safe (one per thread).
  RbacStore(Db& db, const Clock& clock) : db_(db), clock_(clock) {}

  /// Every object of `kind` ("Role"...), in `ns` (cluster-scoped kinds: ""),
  /// or in every namespace when `ns` is unset; ordered by namespace, name.
  Result<std::vector<nlohmann::json>> List(const std::string& kind, const std::optional<std::string>& ns);
  Result<std::optional<nlohmann::json>> Get(const std::string& kind, const std::string& ns, const std::string& name);
  /// Stores `doc` (metadata.name set; server fields ignored). kConflict
  /// ("already exists") when there is one of that name. Returns it as stored.
  Result<nlohmann::json> Create(const std::string& kind, const std::string& ns, nlohmann::json doc);
  /// Replaces the stored document when its resourceVersion is
  /// `resource_version` (0: any). kNotFound, or kConflict when it changed.
  Result<nlohmann::json> Update(const std::string& kind, const std::string& ns, nlohmann::json doc,
                                int64_t resource_version);
  /// Removes it; false when there was none.
  Result<bool> Delete(const std::string& kind, const std::string& ns, const std::string& name);

 private:
  Result<int64_t> NextResourceVersion();
  Db& db_;
  const Clock& clock_;
};

}  // namespace keelson::store
