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
    case RemoveWhy::kNeverOnline: return "its GitHub runner did not come online in time";
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

// Events read as sentences a person would write.
struct Eventer {
  static EventText Normal(std::string reason, std::string message) {
    return {"Normal", std::move(reason), std::move(message)};
  }
  EventText operator()(const PullImage& a) const { return Normal("Pulled", "Pulled image " + a.ref); }
  EventText operator()(const BuildImage& a) const { return Normal("Built", "Built image " + a.ref); }
  EventText operator()(const PushImage& a) const { return Normal("Pushed", "Pushed image " + a.ref); }
  EventText operator()(const RemoveImage& a) const {
    return Normal("Removed", "Removed image " + a.ref + ", which keelson brought and nothing uses any more");
  }
  EventText operator()(const CreateContainer& a) const {
    const std::string& n = a.spec.name;
    switch (a.why) {
      case CreateWhy::kMissing: return Normal("Created", "Created and started container " + n);
      case CreateWhy::kRemovedOutside:
        return Normal("Repaired", "Container " + n + " was removed outside keelson; created it again");
      case CreateWhy::kScaleUp: return Normal("Created", "Created replica " + n + " to scale up");
      case CreateWhy::kReplaceRun: return Normal("Created", "Created replica " + n + " to replace a finished run");
      case CreateWhy::kRollingUpdate: return Normal("Created", "Created replica " + n + " on the new template");
      case CreateWhy::kRecreate:
        return Normal("Created", "Created replica " + n + " on the new template (strategy Recreate)");
    }
    return Normal("Created", "Created container " + n);
  }
  EventText operator()(const StartContainer& a) const {
    if (a.stopped_outside) return Normal("Repaired", "Container " + a.name + " was stopped outside keelson; started it again");
    if (!a.exit_code) return Normal("Started", "Started container " + a.name + ", which was created but not started");
    return Normal("Restarted", "Restarted container " + a.name + ", which exited with code " +
                                   std::to_string(*a.exit_code) + (a.oom_killed ? " (OOM killed)" : "") +
                                   " (restartPolicy " + model::ToString(a.policy) + ")");
  }
  EventText operator()(const RecreateContainer& a) const {
    return Normal("Recreated", "Replaced container " + a.spec.name + " because " + Join(a.changes));
  }
  EventText operator()(const RemoveContainer& a) const {
    const std::string& n = a.name;
    switch (a.why) {
      case RemoveWhy::kOwnerDeleted: return Normal("Removed", "Removed container " + n + " as its owner is deleted");
      case RemoveWhy::kNotTheRunners:
        return Normal("Removed", "Removed container " + n + ", which is not the runner's own container");
      case RemoveWhy::kRunEnded:
        if (a.run && a.run->exit_code != 0) {
          return {"Warning", "RunFailed",
                  "Removed replica " + n + " after its run failed with exit code " + std::to_string(a.run->exit_code)};
        }
        return Normal("RunCompleted", "Removed replica " + n + " after its run completed");
      case RemoveWhy::kScaleDown: return Normal("Removed", "Removed replica " + n + " to scale down");
      case RemoveWhy::kRollingUpdate: return Normal("Removed", "Removed replica " + n + " on the old template");
      case RemoveWhy::kRecreate:
        return Normal("Removed", "Removed replica " + n + " on the old template (strategy Recreate)");
      case RemoveWhy::kOrphan:
        return Normal("Removed", "Removed container " + n + ", whose owner is no longer in the store");
      case RemoveWhy::kDead: return Normal("Removed", "Removed container " + n + ", which the engine marked dead");
      case RemoveWhy::kNeverOnline:
        return {"Warning", "RegistrationTimeout",
                "Removed replica " + n + ": its GitHub runner did not come online within the registration timeout; "
                "a new replica replaces it"};
    }
    return Normal("Removed", "Removed container " + n);
  }
  EventText operator()(const ConnectContainer& a) const {
    return Normal("Connected", "Connected container " + a.name + " to network " + a.attachment.network);
  }
  EventText operator()(const DisconnectContainer& a) const {
    return Normal("Disconnected", "Disconnected container " + a.name + " from network " + a.attachment.network);
  }
  EventText operator()(const CreateNetwork& a) const { return Normal("Created", "Created network " + a.spec.name); }
  EventText operator()(const ReplaceNetwork& a) const {
    return Normal("Replaced", "Replaced network " + a.spec.name + " because " + Join(a.changes));
  }
  EventText operator()(const RemoveNetwork& a) const { return Normal("Removed", "Removed network " + a.name); }
  EventText operator()(const CreateVolume& a) const { return Normal("Created", "Created volume " + a.spec.name); }
  EventText operator()(const ReplaceVolume& a) const {
    return Normal("Replaced", "Replaced volume " + a.spec.name + " because " + Join(a.changes));
  }
  EventText operator()(const RemoveVolume& a) const { return Normal("Removed", "Removed volume " + a.name); }
};

}  // namespace

std::string Describe(const Action& action) { return std::visit(Describer{}, action); }

EventText Done(const Action& action) { return std::visit(Eventer{}, action); }

std::string Attempt(const Action& action) {
  // Describe's text up to the reasons: "pull image x:1".
  std::string d = Describe(action);
  return d.substr(0, d.find(": "));
}

bool Parallel(const Action& a, const Action& b) {
  const bool creates = std::holds_alternative<CreateContainer>(a) && std::holds_alternative<CreateContainer>(b);
  const bool removes = std::holds_alternative<RemoveContainer>(a) && std::holds_alternative<RemoveContainer>(b);
  return creates || removes;
}

}  // namespace keelson::reconcile
