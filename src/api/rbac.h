#pragma once
// Authorization as on a Kubernetes cluster: RBAC objects (Role, ClusterRole,
// RoleBinding, ClusterRoleBinding of rbac.authorization.k8s.io/v1) served
// by the same API and kept in the store, the built-in cluster roles
// cluster-admin, admin, edit and view for keelson's kinds, the built-in
// binding of cluster-admin to the group system:masters, and
// SelfSubjectAccessReview (`kubectl auth can-i`). A request is allowed when
// a rule of a role bound to its user or one of its groups allows it
// (RoleBindings only in their own namespace); anything else is 403. As
// Kubernetes prevents escalation, a user may write a role, or a binding to
// one, only with every permission that role grants.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/tokens.h"
#include "server/http_server.h"
#include "store/rbac_store.h"
#include "util/clock.h"

namespace keelson::api {

inline constexpr const char* kRbacGroup = "rbac.authorization.k8s.io";
inline constexpr const char* kAuthorizationGroup = "authorization.k8s.io";

/// What a request asks to do, as RBAC rules name it.
struct Attributes {
  std::string verb;         ///< get, list, watch, create, update, patch, delete, deletecollection
  std::string group;        ///< "keelson.dev", "rbac.authorization.k8s.io", "" (core)
  std::string resource;     ///< "runners"
  std::string subresource;  ///< "status", "scale" or ""
  std::string name;         ///< "" for collections
  std::string namespace_;   ///< "" for cluster-scoped requests
};

struct Decision {
  bool allowed = false;
  std::string reason;  ///< which binding and role allowed it
};

/// Judges `a` for `who` against the stored and built-in RBAC objects.
Result<Decision> Authorize(store::RbacStore& rbac, const Identity& who, const Attributes& a);

/// /apis/rbac.authorization.k8s.io/v1/... (the four kinds) and
/// /apis/authorization.k8s.io/v1/selfsubjectaccessreviews, for an
/// authenticated `who`. `path` is split into segments.
server::Response HandleRbac(store::RbacStore& rbac, const Identity& who, const server::Request& r,
                            const std::vector<std::string>& seg, TimePoint now);

/// The discovery documents of the two groups.
nlohmann::json RbacGroup();
nlohmann::json RbacResources();
nlohmann::json AuthorizationGroup();
nlohmann::json AuthorizationResources();

}  // namespace keelson::api
