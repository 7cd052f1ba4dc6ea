#include "reconcile/action.h"

namespace keelson::reconcile {
namespace {

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

const char* Text(CreateWhy why) {
  switch (why) {
    case CreateWhy::kMissing: return "no container";
    case CreateWhy::kRemovedOutside: return "no container (removed outside keelson)";
    case CreateWhy::kScaleUp: return "scale up";
    case CreateWhy::kReplaceRun: return "replaces a finished run";
    case CreateWhy::kRollingUpdate: return "rolling update";
    case CreateWhy::kRecreate: return "template changed (Recreate)";
  }
  return "";
}

std::string Text(const RemoveContainer& a) {
  switch (a.why) {
    case RemoveWhy::kOwnerDeleted: return "owner deleted";
    case RemoveWhy::kNotTheRunners: return "not the runner's container";
    case RemoveWhy::kRunEnded: return "run finished with code " + std::to_string(a.run ? a.run->exit_code : 0);
    case RemoveWhy::kScaleDown: return "scale down";
    case RemoveWhy::kRollingUpdate: return "rolling update: old template";
    case RemoveWhy::kRecreate: return "template changed (Recreate)";
    case RemoveWhy::kOrphan: return "its owner is no longer in the store";
    case RemoveWhy::kDead: return "the engine marked it dead; it cannot start again";
  }
  return "";
}

std::string Text(const StartContainer& a) {
  if (!a.exit_code) return "created, not started";
  if (a.stopped_outside) return "stopped outside keelson";
  return "exited with code " + std::to_string(*a.exit_code) + (a.oom_killed ? " (OOM killed)" : "") +
         " (restartPolicy " + model::ToString(a.policy) + ")";
}

struct Describer {
  std::string operator()(const PullImage& a) const {
    return "pull image " + a.ref + ": " + (a.absent ? "not present" : "pullPolicy Always");
  }
  std::string operator()(const BuildImage& a) const {
    return "build image " + a.ref + ": " + (a.absent ? "not present" : "spec changed since the last build");
  }
  std::string operator()(const PushImage& a) const { return "push image " + a.ref + ": spec.push"; }
  std::string operator()(const RemoveImage& a) const {
    return "remove image " + a.ref + ": owner deleted; keelson pulled or built it and no container uses it";
  }
  std::string operator()(const CreateContainer& a) const {
    return "create container " + a.spec.name + ": " + Text(a.why);
  }
  std::string operator()(const StartContainer& a) const { return "start container " + a.name + ": " + Text(a); }
  std::string operator()(const RecreateContainer& a) const {
    return "recreate container " + a.spec.name + ": " + Join(a.changes);
  }
  std::string operator()(const RemoveContainer& a) const { return "remove container " + a.name + ": " + Text(a); }
  std::string operator()(const ConnectContainer& a) const { return "connect container " + a.name + ": " + a.change; }
  std::string operator()(const DisconnectContainer& a) const {
    return "disconnect container " + a.name + ": " + a.change;
  }
  std::string operator()(const CreateNetwork& a) const { return "create network " + a.spec.name + ": no network"; }
  std::string operator()(const ReplaceNetwork& a) const {
    return "replace network " + a.spec.name + ": " + Join(a.changes);
  }
  std::string operator()(const RemoveNetwork& a) const {
    return "remove network " + a.name + ": " + (a.orphan ? "its owner is no longer in the store" : "owner deleted");
  }
  std::string operator()(const CreateVolume& a) const { return "create volume " + a.spec.name + ": no volume"; }
  std::string operator()(const ReplaceVolume& a) const {
    return "replace volume " + a.spec.name + ": " + Join(a.changes);
  }
  std::string operator()(const RemoveVolume& a) const {
    return "remove volume " + a.name + ": " + (a.orphan ? "its owner is no longer in the store" : "owner deleted");
  }
};

// Events read as sentences: "Created container default.web", "Pulled image x:1".
struct Eventer {
  EventText operator()(const PullImage& a) const { return {"Pulled", "Pulled image " + a.ref}; }
  EventText operator()(const BuildImage& a) const { return {"Built", "Built image " + a.ref}; }
  EventText operator()(const PushImage& a) const { return {"Pushed", "Pushed image " + a.ref}; }
  EventText operator()(const RemoveImage& a) const {
    return {"Removed", "Removed image " + a.ref + ": keelson brought it and nothing uses it any more"};
  }
  EventText operator()(const CreateContainer& a) const {
    if (a.why == CreateWhy::kRemovedOutside) return {"Repaired", "container " + a.spec.name + " was removed outside keelson; created it again"};
    return {"Created", "Created container " + a.spec.name + " (" + Text(a.why) + ")"};
  }
  EventText operator()(const StartContainer& a) const {
    if (a.stopped_outside) return {"Repaired", "container " + a.name + " was stopped outside keelson; started it again"};
    return {"Started", "Started container " + a.name + " (" + Text(a) + ")"};
  }
  EventText operator()(const RecreateContainer& a) const {
    return {"Recreated", "Recreated container " + a.spec.name + ": " + Join(a.changes)};
  }
  EventText operator()(const RemoveContainer& a) const {
    return {"Removed", "Removed container " + a.name + " (" + Text(a) + ")"};
  }
  EventText operator()(const ConnectContainer& a) const {
    return {"Connected", "Connected container " + a.name + ": " + a.change};
  }
  EventText operator()(const DisconnectContainer& a) const {
    return {"Disconnected", "Disconnected container " + a.name + ": " + a.change};
  }
  EventText operator()(const CreateNetwork& a) const { return {"Created", "Created network " + a.spec.name}; }
  EventText operator()(const ReplaceNetwork& a) const {
    return {"Replaced", "Replaced network " + a.spec.name + ": " + Join(a.changes)};
  }
  EventText operator()(const RemoveNetwork& a) const { return {"Removed", "Removed network " + a.name}; }
  EventText operator()(const CreateVolume& a) const { return {"Created", "Created volume " + a.spec.name}; }
  EventText operator()(const ReplaceVolume& a) const {
    return {"Replaced", "Replaced volume " + a.spec.name + ": " + Join(a.changes)};
  }
  EventText operator()(const RemoveVolume& a) const { return {"Removed", "Removed volume " + a.name}; }
};

}  // namespace

std::string Describe(const Action& action) { return std::visit(Describer{}, action); }

EventText Done(const Action& action) { return std::visit(Eventer{}, action); }

bool Parallel(const Action& a, const Action& b) {
  const bool creates = std::holds_alternative<CreateContainer>(a) && std::holds_alternative<CreateContainer>(b);
  const bool removes = std::holds_alternative<RemoveContainer>(a) && std::holds_alternative<RemoveContainer>(b);
  return creates || removes;
}

}  // namespace keelson::reconcile
