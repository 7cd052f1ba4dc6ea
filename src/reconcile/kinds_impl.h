#pragma once
// The reconciler of each kind (one file each: image.cc, network.cc,
// volume.cc, runner.cc, runnerpool.cc, policy_audit.cc). Only kinds.cc's
// table names them.

#include "reconcile/kinds.h"

namespace keelson::reconcile {

class ImageReconciler final : public KindReconciler {
 public:
  Result<Plan> PlanFor(const model::Object& o, const Memory& memory, World& world) const override;
  Result<Plan> PlanDeletion(const model::Object& o, World& world) const override;
  void Record(const model::Object& o, const Ledger& ledger, TimePoint now, Memory& memory,
              nlohmann::json& status) const override;
  void Status(const model::Object& o, const Plan* after, bool converged, World& world, Memory& memory,
              nlohmann::json& status) const override;
  std::vector<Transition> Transitions(const nlohmann::json& before, const nlohmann::json& after) const override;
};

class NetworkReconciler final : public KindReconciler {
 public:
  Result<Plan> PlanFor(const model::Object& o, const Memory& memory, World& world) const override;
  Result<Plan> PlanDeletion(const model::Object& o, World& world) const override;
  void Status(const model::Object& o, const Plan* after, bool converged, World& world, Memory& memory,
              nlohmann::json& status) const override;
};

class VolumeReconciler final : public KindReconciler {
 public:
  Result<Plan> PlanFor(const model::Object& o, const Memory& memory, World& world) const override;
  Result<Plan> PlanDeletion(const model::Object& o, World& world) const override;
  void Status(const model::Object& o, const Plan* after, bool converged, World& world, Memory& memory,
              nlohmann::json& status) const override;
};

class RunnerReconciler final : public KindReconciler {
 public:
  Result<Plan> PlanFor(const model::Object& o, const Memory& memory, World& world) const override;
  Result<Plan> PlanDeletion(const model::Object& o, World& world) const override;
  void Record(const model::Object& o, const Ledger& ledger, TimePoint now, Memory& memory,
              nlohmann::json& status) const override;
  void Status(const model::Object& o, const Plan* after, bool converged, World& world, Memory& memory,
              nlohmann::json& status) const override;
};

class RunnerPoolReconciler final : public KindReconciler {
 public:
  Result<Plan> PlanFor(const model::Object& o, const Memory& memory, World& world) const override;
  Result<Plan> PlanDeletion(const model::Object& o, World& world) const override;
  void Record(const model::Object& o, const Ledger& ledger, TimePoint now, Memory& memory,
              nlohmann::json& status) const override;
  void Status(const model::Object& o, const Plan* after, bool converged, World& world, Memory& memory,
              nlohmann::json& status) const override;
  std::vector<Transition> Transitions(const nlohmann::json& before, const nlohmann::json& after) const override;
};

class PolicyReconciler final : public KindReconciler {
 public:
  Result<Plan> PlanFor(const model::Object& o, const Memory& memory, World& world) const override;
  void Status(const model::Object& o, const Plan* after, bool converged, World& world, Memory& memory,
              nlohmann::json& status) const override;
  std::vector<Transition> Transitions(const nlohmann::json& before, const nlohmann::json& after) const override;
  const char* ReadyReason() const override { return "Accepted"; }
};

// GitRepository: the controller syncs it (controller/source_sync.h); as a
// kind it only checks its spec, and `keelson plan` shows no engine action.
class GitRepositoryReconciler final : public KindReconciler {
 public:
  Result<Plan> PlanFor(const model::Object& o, const Memory& memory, World& world) const override;
  void Status(const model::Object&, const Plan*, bool, World&, Memory&, nlohmann::json&) const override {}
  const char* ReadyReason() const override { return "Succeeded"; }
};

}  // namespace keelson::reconcile
