// Policy: admission happens at write time (admission/); here the controller
// audits what is stored, including what was stored before the policy existed.
// Nothing on the engine changes.

#include "manifest/decode.h"
#include "policy/policy.h"
#include "reconcile/kinds_impl.h"
#include "reconcile/status.h"

namespace keelson::reconcile {
namespace {

/// Objects a Policy's status names; status.violations counts them all.
constexpr size_t kViolatorsShown = 20;

// "runnerpool/ci (maxMemory, denyPrivileged)", with the namespace when it is another.
Result<std::vector<std::string>> Violators(const model::Object& policy, World& world) {
  std::vector<std::string> out;
  for (auto kind : {model::Kind::kImage, model::Kind::kRunner, model::Kind::kRunnerPool}) {
    auto objects = world.List(kind);
    if (!objects) return Unexpected(objects.error());
    for (const auto& obj : *objects) {
      // A stored spec that no longer fits its schema is reported by its own
      // reconciler (InvalidSpec); the rules read only specs that fit.
      if (obj.meta.deletion_timestamp || !manifest::DecodeSpec(obj.kind, obj.spec)) continue;
      std::string rules;
      for (const auto& v : policy::Admit({policy}, obj)) {
        if (rules.find(v.violation.rule) == std::string::npos) rules += (rules.empty() ? "" : ", ") + v.violation.rule;
      }
      if (rules.empty()) continue;
      std::string name = model::DisplayName(obj);
      if (obj.meta.namespace_ != policy.meta.namespace_) name = obj.meta.namespace_ + "/" + name;
      out.push_back(name + " (" + rules + ")");
    }
  }
  return out;
}

}  // namespace

Result<Plan> PolicyReconciler::PlanFor(const model::Object& o, const Memory&, World&) const {
  // A policy stored by another version that no longer fits is refused here.
  auto spec = manifest::DecodeSpecAs<model::PolicySpec>(o);
  if (!spec) return Unexpected(spec.error());
  return Plan{};
}

void PolicyReconciler::Status(const model::Object& o, const Plan* after, bool, World& world, Memory&,
                              nlohmann::json& status) const {
  if (!after) return;  // the policy itself does not fit its schema
  auto violators = Violators(o, world);
  if (!violators) return;  // kept as they were; the next pass tries again
  status["violations"] = violators->size();
  if (violators->size() > kViolatorsShown) violators->resize(kViolatorsShown);
  status["violators"] = *violators;
}

Result<Plan> GitRepositoryReconciler::PlanFor(const model::Object& o, const Memory&, World&) const {
  auto spec = manifest::DecodeSpecAs<model::GitRepositorySpec>(o);
  if (!spec) return Unexpected(spec.error());
  return Plan{};
}

std::vector<Transition> PolicyReconciler::Transitions(const nlohmann::json& before,
                                                      const nlohmann::json& after) const {
  const nlohmann::json none = nlohmann::json::array();
  const nlohmann::json& was = before.is_object() && before.contains("violators") ? before["violators"] : none;
  const nlohmann::json& now = after.is_object() && after.contains("violators") ? after["violators"] : none;
  if (now == was || now.empty()) return {};
  std::string names;
  for (const auto& v : now) names += (names.empty() ? "" : "; ") + (v.is_string() ? v.get<std::string>() : v.dump());
  return {{"Warning", "Violations",
           std::to_string(IntField(after, "violations")) + " stored object(s) break this policy: " + names}};
}

}  // namespace keelson::reconcile
