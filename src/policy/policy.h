#pragma once
// Policies: admission and audit rules for what Runners, RunnerPools and
// Images may ask of the engine. Pure: objects in, verdicts out. `apply`
// enforces them before storing; the controller audits what is stored.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "manifest/document.h"
#include "model/object.h"

namespace keelson::policy {

/// A Policy in this namespace governs every namespace.
inline constexpr const char* kClusterNamespace = "keelson-system";

/// One broken rule.
struct Violation {
  std::string rule;     ///< the rule's field name: "denyPrivileged", "maxMemory", ...
  manifest::Path path;  ///< the offending field of the object: spec.securityContext.privileged
  std::string message;  ///< what is wrong, without the policy's name
};

/// What `rules` (a Policy's spec.rules) finds wrong with one object: a
/// Runner's spec, a RunnerPool's template (paths under spec.template), an
/// Image's ref (allowedRegistries only). Other kinds break no rule.
std::vector<Violation> Check(const nlohmann::json& rules, model::Kind kind, const nlohmann::json& spec);

/// Whether a Policy in namespace `policy_ns` governs objects in `ns`.
bool InScope(const std::string& policy_ns, const std::string& ns);

/// A policy's word on an object.
struct Verdict {
  std::string policy;       ///< NAMESPACE/NAME of the Policy
  std::string enforcement;  ///< enforce, warn or audit
  Violation violation;

  /// "policy NS/NAME (RULE): MESSAGE".
  std::string Describe() const;
};

/// Every violation of every Policy in `policies` that governs `object`, in
/// the order of `policies` (Policies being deleted are skipped).
std::vector<Verdict> Admit(const std::vector<model::Object>& policies, const model::Object& object);

/// The registry host of an image reference as the engine resolves it:
/// "127.0.0.1:5000/ci/runner:1" -> "127.0.0.1:5000", "busybox" and
/// "team/tool:1" -> "docker.io".
std::string RegistryOf(const std::string& image);

/// The fully qualified repository: "busybox:1" -> "docker.io/library/busybox".
std::string RepositoryOf(const std::string& image);

}  // namespace keelson::policy
