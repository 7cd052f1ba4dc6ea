#include "reconcile/plan.h"

#include <algorithm>

#include "reconcile/diff.h"
#include "reconcile/labels.h"

namespace keelson::reconcile {
namespace {

using std::chrono::milliseconds;

const char* VerbText(Verb v) {
  switch (v) {
    case Verb::kPull: return "pull";
    case Verb::kBuild: return "build";
    case Verb::kPush: return "push";
    case Verb::kCreate: return "create";
    case Verb::kStart: return "start";
    case Verb::kRecreate: return "recreate";
    case Verb::kReplace: return "replace";
    case Verb::kRemove: return "remove";
    case Verb::kConnect: return "connect";
    case Verb::kDisconnect: return "disconnect";
  }
  return "?";
}

const char* TargetText(Target t) {
  switch (t) {
    case Target::kImage: return "image";
    case Target::kNetwork: return "network";
    case Target::kVolume: return "volume";
    case Target::kContainer: return "container";
  }
  return "?";
}

Action ContainerAction(Verb verb, const docker::Container& c, std::string reason) {
  Action a;
  a.verb = verb;
  a.target = Target::kContainer;
  a.name = c.name;
  a.id = c.id;
  a.reasons.push_back(std::move(reason));
  return a;
}

// A changed hash with no field to show (a field the diff does not read) still
// means replace: say so rather than miss it.
void HashFallback(const docker::Labels& want, const docker::Labels& have, std::vector<std::string>* reasons) {
  std::string w = LabelValue(want, kSpecHashLabel), h = LabelValue(have, kSpecHashLabel);
  if (reasons->empty() && w != h) reasons->push_back("spec-hash " + (h.empty() ? "(none)" : h) + " -> " + w);
}

// Made by keelson for another store on this engine: never ours to replace.
bool OtherStore(const docker::Labels& want, const docker::Labels& have, const std::string& what, Plan* plan) {
  std::string mine = LabelValue(want, kStoreLabel), theirs = LabelValue(have, kStoreLabel);
  if (mine == theirs) return false;
  plan->blocked_reason = "Conflict";
  plan->blocked_message = what + " belongs to another keelson store (" + (theirs.empty() ? "unknown" : theirs) + ")";
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

std::string ExitText(const docker::Container& c) {
  return "exited with code " + std::to_string(c.state.exit_code) + (c.state.oom_killed ? " (OOM killed)" : "");
}

// A container that is there but not running: start it, wait for a backoff, or
// leave it down as restartPolicy says.
void PlanStopped(const docker::Container& c, const std::string& policy, const RunnerObserved& observed, Plan* plan) {
  if (c.state.status == "created") {
    plan->actions.push_back(ContainerAction(Verb::kStart, c, "created, not started"));
    return;
  }
  if (c.state.status == "restarting" || c.state.status == "removing") {
    plan->requeue_after = milliseconds(1000);
    return;
  }
  if (c.state.status == "paused") {
    plan->blocked_reason = "Paused";
    plan->blocked_message = "container " + c.name + " is paused outside keelson";
    return;
  }
  if (StaysDown(c, policy)) return;
  auto delay = RestartDelay(observed.restarts, c.state.started_at, c.state.finished_at);
  TimePoint finished;
  if (delay.count() > 0 && ParseTimestamp(c.state.finished_at, &finished)) {
    auto left = std::chrono::duration_cast<milliseconds>(finished + delay - observed.now);
    if (left.count() > 0) {
      plan->requeue_after = left;
      plan->blocked_reason = "CrashLoopBackOff";
      plan->blocked_message = ExitText(c) + "; restarting in " + std::to_string((left.count() + 999) / 1000) + "s";
      return;
    }
  }
  plan->actions.push_back(ContainerAction(Verb::kStart, c, ExitText(c) + " (restartPolicy " + policy + ")"));
}

}  // namespace

std::string Describe(const Action& a) {
  std::string s = std::string(VerbText(a.verb)) + " " + TargetText(a.target) + " " + a.name;
  for (size_t i = 0; i < a.reasons.size(); ++i) s += (i ? ", " : ": ") + a.reasons[i];
  return s;
}

std::chrono::milliseconds RestartDelay(int restarts, const std::string& started_at, const std::string& finished_at) {
  TimePoint started, finished;
  if (!ParseTimestamp(started_at, &started) || !ParseTimestamp(finished_at, &finished)) return milliseconds(0);
  if (finished - started >= kStableRun) return milliseconds(0);
  milliseconds delay(1000LL << std::clamp(restarts, 0, 9));
  return std::min<milliseconds>(delay, kMaxRestartDelay);
}

bool StaysDown(const docker::Container& c, const std::string& policy) {
  if (c.state.running || (c.state.status != "exited" && c.state.status != "dead")) return false;
  if (policy == "Never") return true;
  return policy == "OnFailure" && c.state.exit_code == 0;
}

Plan PlanRunner(const docker::ContainerSpec& want, const std::string& policy, const RunnerObserved& observed) {
  Plan plan;
  const docker::Container* current = nullptr;
  for (const auto& c : observed.containers) {
    if (c.name == want.name && !current) {
      current = &c;
      continue;
    }
    auto a = ContainerAction(Verb::kRemove, c, "not the runner's container " + want.name);
    a.stop_timeout_s = want.stop_timeout.value_or(10);
    plan.actions.push_back(std::move(a));
  }
  if (!current) {
    Action a;
    a.verb = Verb::kCreate;
    a.name = want.name;
    a.container = want;
    a.reasons.push_back("no container");
    plan.actions.push_back(std::move(a));
    return plan;
  }
  auto reasons = DiffContainer(want, *current, observed.image);
  HashFallback(want.labels, current->config.labels, &reasons);
  if (!reasons.empty()) {
    auto a = ContainerAction(Verb::kRecreate, *current, "");
    a.reasons = std::move(reasons);
    a.container = want;
    a.stop_timeout_s = current->config.stop_timeout.value_or(10);
    plan.actions.push_back(std::move(a));
    return plan;
  }
  for (auto& change : DiffNetworks(want, *current)) {
    auto a = ContainerAction(change.connect ? Verb::kConnect : Verb::kDisconnect, *current, change.reason);
    a.attachment = std::move(change.attachment);
    plan.actions.push_back(std::move(a));
  }
  if (!current->state.running) PlanStopped(*current, policy, observed, &plan);
  return plan;
}

Plan PlanNetwork(const docker::NetworkSpec& want, const std::optional<docker::Network>& have) {
  Plan plan;
  Action a;
  a.target = Target::kNetwork;
  a.name = want.name;
  a.network = want;
  if (!have) {
    a.reasons.push_back("no network");
    plan.actions.push_back(std::move(a));
    return plan;
  }
  if (OtherStore(want.labels, have->spec.labels, "network " + want.name, &plan)) return plan;
  auto reasons = DiffNetwork(want, have->spec);
  HashFallback(want.labels, have->spec.labels, &reasons);
  EarlierOwner(want.labels, have->spec.labels, &reasons);
  if (reasons.empty()) return plan;
  if (!have->containers.empty()) {
    plan.blocked_reason = "InUse";
    plan.blocked_message = "network " + want.name + " must be replaced (" + reasons.front() + ") but " +
                           std::to_string(have->containers.size()) + " running container(s) use it";
    return plan;
  }
  a.verb = Verb::kReplace;
  a.id = have->id;
  a.reasons = std::move(reasons);
  plan.actions.push_back(std::move(a));
  return plan;
}

Plan PlanVolume(const docker::VolumeSpec& want, const std::optional<docker::Volume>& have, bool in_use) {
  Plan plan;
  Action a;
  a.target = Target::kVolume;
  a.name = want.name;
  a.volume = want;
  if (!have) {
    a.reasons.push_back("no volume");
    plan.actions.push_back(std::move(a));
    return plan;
  }
  if (OtherStore(want.labels, have->spec.labels, "volume " + want.name, &plan)) return plan;
  auto reasons = DiffVolume(want, have->spec);
  HashFallback(want.labels, have->spec.labels, &reasons);
  EarlierOwner(want.labels, have->spec.labels, &reasons);
  if (reasons.empty()) return plan;
  if (in_use) {
    plan.blocked_reason = "InUse";
    plan.blocked_message = "volume " + want.name + " must be replaced (" + reasons.front() + ") but a container uses it";
    return plan;
  }
  a.verb = Verb::kReplace;
  a.reasons = std::move(reasons);
  plan.actions.push_back(std::move(a));
  return plan;
}

Plan PlanImage(const nlohmann::json& spec, const ImageObserved& observed) {
  Plan plan;
  Action a;
  a.target = Target::kImage;
  a.name = spec["ref"].get<std::string>();
  const std::string policy = spec.value("pullPolicy", "IfNotPresent");
  if (spec.contains("build")) {
    if (observed.image && observed.built_generation == observed.generation) return plan;
    a.verb = Verb::kBuild;
    a.reasons.push_back(observed.image ? "spec changed since the last build" : "not present");
    plan.actions.push_back(a);
    if (spec.value("push", false)) {
      a.verb = Verb::kPush;
      a.reasons = {"spec.push"};
      plan.actions.push_back(a);
    }
    return plan;
  }
  if (policy == "Never") {
    if (!observed.image) {
      plan.blocked_reason = "ImageMissing";
      plan.blocked_message = a.name + " is not on the engine and pullPolicy is Never";
    }
    return plan;
  }
  TimePoint pulled;
  bool recheck = policy == "Always" &&
                 (!ParseTimestamp(observed.pulled_at, &pulled) || observed.now - pulled >= observed.recheck);
  if (observed.image && !recheck) {
    if (policy == "Always") {
      plan.requeue_after = std::chrono::duration_cast<milliseconds>(pulled + observed.recheck - observed.now);
    }
    return plan;
  }
  a.verb = Verb::kPull;
  a.reasons.push_back(observed.image ? "pullPolicy Always" : "not present");
  plan.actions.push_back(std::move(a));
  return plan;
}

Plan PlanRemoval(const std::vector<docker::Container>& containers, const std::vector<docker::Network>& networks,
                 const std::vector<docker::Volume>& volumes, int stop_timeout_s) {
  Plan plan;
  for (const auto& c : containers) {
    auto a = ContainerAction(Verb::kRemove, c, "owner deleted");
    a.stop_timeout_s = stop_timeout_s;
    plan.actions.push_back(std::move(a));
  }
  for (const auto& n : networks) {
    Action a;
    a.verb = Verb::kRemove;
    a.target = Target::kNetwork;
    a.name = n.spec.name;
    a.id = n.id;
    a.reasons.push_back("owner deleted");
    plan.actions.push_back(std::move(a));
  }
  for (const auto& v : volumes) {
    Action a;
    a.verb = Verb::kRemove;
    a.target = Target::kVolume;
    a.name = v.spec.name;
    a.reasons.push_back("owner deleted");
    plan.actions.push_back(std::move(a));
  }
  return plan;
}

}  // namespace keelson::reconcile
