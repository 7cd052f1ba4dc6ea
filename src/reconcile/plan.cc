#include "reconcile/plan.h"

#include <algorithm>

#include "reconcile/diff.h"
#include "reconcile/labels.h"

namespace keelson::reconcile {
namespace {

using std::chrono::milliseconds;

RemoveContainer Remove(const docker::Container& c, RemoveWhy why, int stop_timeout_s) {
  return RemoveContainer{c.id, c.name, stop_timeout_s, why, std::nullopt, std::nullopt, 0};
}

// A changed hash with no field to show (a field the diff does not read) still
// means replace: say so, in words, rather than miss it.
void HashFallback(const docker::Labels& want, const docker::Labels& have, std::vector<std::string>* reasons,
                  const std::string& also_current = "") {
  std::string w = LabelValue(want, kSpecHashLabel), h = LabelValue(have, kSpecHashLabel);
  if (!reasons->empty() || w == h || (!also_current.empty() && h == also_current)) return;
  reasons->push_back(h.empty() ? "made without keelson's spec label"
                               : "the spec changed in a field keelson does not compare one by one");
}

// Made by keelson for another store on this engine: never ours to replace.
bool OtherStore(const docker::Labels& want, const docker::Labels& have, const std::string& what, Plan* plan) {
  std::string mine = LabelValue(want, kStoreLabel), theirs = LabelValue(have, kStoreLabel);
  if (mine == theirs) return false;
  plan->Block(Blocker::kConflict,
              what + " belongs to another keelson store (" + (theirs.empty() ? "unknown" : theirs) + ")");
  return true;
}

// The name is keelson's but the object was made for an earlier owner of that
// name (deleted with --force, or another store): that, not its labels, is why.
void EarlierOwner(const docker::Labels& want, const docker::Labels& have, std::vector<std::string>* reasons) {
  std::string w = LabelValue(want, kUidLabel), h = LabelValue(have, kUidLabel);
  if (w == h) return;
  reasons->clear();
  reasons->push_back("made for an earlier object of this name (uid " + (h.empty() ? "(none)" : h) + ")");
}

StartContainer Start(const docker::Container& c, model::RestartPolicy policy) {
  StartContainer a{c.id, c.name, std::nullopt, c.state.oom_killed, policy};
  if (c.state.status != "created") a.exit_code = c.state.exit_code;
  return a;
}

// A container that is there but not running: start it, wait for a backoff, or
// leave it down as restartPolicy says.
void PlanStopped(const docker::Container& c, model::RestartPolicy policy, const RunnerObserved& observed, Plan* plan) {
  if (c.state.status == "created") {
    plan->actions.push_back(Start(c, policy));
    return;
  }
  if (c.state.status == "restarting" || c.state.status == "removing") {
    plan->requeue_after = milliseconds(1000);
    return;
  }
  if (c.state.status == "paused") {
    plan->Block(Blocker::kPaused, "container " + c.name + " is paused outside keelson");
    return;
  }
  if (observed.stop_requested) {
    // Stopped by hand: drift, repaired at once whatever the restart policy.
    auto start = Start(c, policy);
    start.stopped_outside = true;
    plan->actions.push_back(std::move(start));
    return;
  }
  if (StaysDown(c, policy)) return;
  auto delay = RestartDelay(observed.restarts, c.state.started_at, c.state.finished_at);
  TimePoint finished;
  if (delay.count() > 0 && ParseTimestamp(c.state.finished_at, &finished)) {
    auto left = std::chrono::duration_cast<milliseconds>(finished + delay - observed.now);
    if (left.count() > 0) {
      plan->requeue_after = left;
      plan->Block(Blocker::kCrashLoopBackOff, "exited with code " + std::to_string(c.state.exit_code) +
                                                  (c.state.oom_killed ? " (OOM killed)" : "") + "; restarting in " +
                                                  std::to_string((left.count() + 999) / 1000) + "s");
      return;
    }
  }
  plan->actions.push_back(Start(c, policy));
}

}  // namespace

const char* ReasonOf(Blocker b) {
  switch (b) {
    case Blocker::kWaitingForImage: return "WaitingForImage";
    case Blocker::kWaitingForNetwork: return "WaitingForNetwork";
    case Blocker::kWaitingForVolume: return "WaitingForVolume";
    case Blocker::kWaitingForDependency: return "WaitingForDependency";
    case Blocker::kWaitingForContainers: return "WaitingForContainers";
    case Blocker::kConflict: return "Conflict";
    case Blocker::kInUse: return "InUse";
    case Blocker::kPaused: return "Paused";
    case Blocker::kCrashLoopBackOff: return "CrashLoopBackOff";
    case Blocker::kImageMissing: return "ImageMissing";
    case Blocker::kProgressDeadlineExceeded: return "ProgressDeadlineExceeded";
  }
  return "Blocked";
}

bool Degrades(Blocker b) {
  switch (b) {
    case Blocker::kWaitingForImage:
    case Blocker::kWaitingForNetwork:
    case Blocker::kWaitingForVolume:
    case Blocker::kWaitingForDependency:
    case Blocker::kWaitingForContainers:
      return false;
    default:
      return true;
  }
}

std::chrono::milliseconds RestartDelay(int restarts, const std::string& started_at, const std::string& finished_at) {
  TimePoint started, finished;
  if (!ParseTimestamp(started_at, &started) || !ParseTimestamp(finished_at, &finished)) return milliseconds(0);
  if (finished - started >= kStableRun) return milliseconds(0);
  milliseconds delay(1000LL << std::clamp(restarts, 0, 9));
  return std::min<milliseconds>(delay, kMaxRestartDelay);
}

bool StaysDown(const docker::Container& c, model::RestartPolicy policy) {
  if (c.state.running || (c.state.status != "exited" && c.state.status != "dead")) return false;
  if (policy == model::RestartPolicy::kNever) return true;
  return policy == model::RestartPolicy::kOnFailure && c.state.exit_code == 0;
}

Plan PlanRunner(const docker::ContainerSpec& want, model::RestartPolicy policy, const RunnerObserved& observed,
                const std::string& legacy_hash) {
  Plan plan;
  const docker::Container* current = nullptr;
  for (const auto& c : observed.containers) {
    if (c.name == want.name && !current) {
      current = &c;
      continue;
    }
    plan.actions.push_back(Remove(c, RemoveWhy::kNotTheRunners, want.stop_timeout.value_or(10)));
  }
  if (!current) {
    plan.actions.push_back(
        CreateContainer{want, observed.had_container ? CreateWhy::kRemovedOutside : CreateWhy::kMissing, std::nullopt});
    return plan;
  }
  if (current->state.status == "dead") {
    // Left so by an engine that stopped uncleanly: it can never start again.
    plan.actions.push_back(RecreateContainer{current->id, want, 0, {"the engine marked it dead; it cannot start again"}});
    return plan;
  }
  auto reasons = DiffContainer(want, *current, observed.image);
  HashFallback(want.labels, current->config.labels, &reasons, legacy_hash);
  if (!reasons.empty()) {
    plan.actions.push_back(
        RecreateContainer{current->id, want, current->config.stop_timeout.value_or(10), std::move(reasons)});
    return plan;
  }
  for (auto& change : DiffNetworks(want, *current)) {
    if (change.connect) {
      plan.actions.push_back(ConnectContainer{current->id, current->name, std::move(change.attachment), change.reason});
    } else {
      plan.actions.push_back(
          DisconnectContainer{current->id, current->name, std::move(change.attachment), change.reason});
    }
  }
  if (!current->state.running) PlanStopped(*current, policy, observed, &plan);
  return plan;
}

Plan PlanNetwork(const docker::NetworkSpec& want, const std::optional<docker::Network>& have) {
  Plan plan;
  if (!have) {
    plan.actions.push_back(CreateNetwork{want});
    return plan;
  }
  if (OtherStore(want.labels, have->spec.labels, "network " + want.name, &plan)) return plan;
  auto reasons = DiffNetwork(want, have->spec);
  HashFallback(want.labels, have->spec.labels, &reasons);
  EarlierOwner(want.labels, have->spec.labels, &reasons);
  if (reasons.empty()) return plan;
  if (!have->containers.empty()) {
    plan.Block(Blocker::kInUse, "network " + want.name + " must be replaced (" + reasons.front() + ") but " +
                                    std::to_string(have->containers.size()) + " running container(s) use it");
    return plan;
  }
  plan.actions.push_back(ReplaceNetwork{have->id, want, std::move(reasons)});
  return plan;
}

Plan PlanVolume(const docker::VolumeSpec& want, const std::optional<docker::Volume>& have, bool in_use) {
  Plan plan;
  if (!have) {
    plan.actions.push_back(CreateVolume{want});
    return plan;
  }
  if (OtherStore(want.labels, have->spec.labels, "volume " + want.name, &plan)) return plan;
  auto reasons = DiffVolume(want, have->spec);
  HashFallback(want.labels, have->spec.labels, &reasons);
  EarlierOwner(want.labels, have->spec.labels, &reasons);
  if (reasons.empty()) return plan;
  if (in_use) {
    plan.Block(Blocker::kInUse,
               "volume " + want.name + " must be replaced (" + reasons.front() + ") but a container uses it");
    return plan;
  }
  plan.actions.push_back(ReplaceVolume{want, std::move(reasons)});
  return plan;
}

Plan PlanImage(const model::ImageSpec& spec, const ImageObserved& observed) {
  Plan plan;
  const bool absent = !observed.image.has_value();
  if (spec.build) {
    if (!absent && observed.built_generation == observed.generation) return plan;
    plan.actions.push_back(BuildImage{spec.ref, *spec.build, absent});
    if (spec.push) plan.actions.push_back(PushImage{spec.ref, spec.auth});
    return plan;
  }
  if (spec.pull_policy == model::PullPolicy::kNever) {
    if (absent) plan.Block(Blocker::kImageMissing, spec.ref + " is not on the engine and pullPolicy is Never");
    return plan;
  }
  const bool always = spec.pull_policy == model::PullPolicy::kAlways;
  TimePoint pulled;
  bool recheck = always && (!ParseTimestamp(observed.pulled_at, &pulled) || observed.now - pulled >= observed.recheck);
  if (!absent && !recheck) {
    if (always) plan.requeue_after = std::chrono::duration_cast<milliseconds>(pulled + observed.recheck - observed.now);
    return plan;
  }
  plan.actions.push_back(PullImage{spec.ref, absent, spec.auth});
  return plan;
}

Plan PlanRemoval(const std::vector<docker::Container>& containers, const std::vector<docker::Network>& networks,
                 const std::vector<docker::Volume>& volumes, int stop_timeout_s) {
  Plan plan;
  for (const auto& c : containers) plan.actions.push_back(Remove(c, RemoveWhy::kOwnerDeleted, stop_timeout_s));
  for (const auto& n : networks) plan.actions.push_back(RemoveNetwork{n.id, n.spec.name, false});
  for (const auto& v : volumes) plan.actions.push_back(RemoveVolume{v.spec.name, false});
  return plan;
}

std::optional<Plan> WaitForContainers(const std::vector<std::string>& users, const std::string& what) {
  if (users.empty()) return std::nullopt;
  Plan plan;
  std::string names;
  for (size_t i = 0; i < users.size() && i < 3; ++i) names += (i ? ", " : "") + users[i];
  if (users.size() > 3) names += ", ...";
  plan.Block(Blocker::kWaitingForContainers, what + " is still used by " + std::to_string(users.size()) +
                                                 " container(s) (" + names + "); it is removed when they are gone");
  return plan;
}

}  // namespace keelson::reconcile
