// Reconciler: carrying out a plan's actions on the engine, with an event each.

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "controller/reconciler.h"
#include "reconcile/desired.h"
#include "reconcile/labels.h"

namespace keelson::controller {
namespace {

using nlohmann::json;
using reconcile::Action;
using reconcile::Target;
using reconcile::Verb;

const char* CodeText(ErrorCode c) {
  switch (c) {
    case ErrorCode::kInvalid: return "invalid";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kUnauthorized: return "unauthorized";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kInternal: return "internal";
  }
  return "error";
}

Result<std::optional<docker::RegistryAuth>> Auth(const json& spec) {
  if (!spec.contains("auth")) return std::optional<docker::RegistryAuth>();
  const json& a = spec["auth"];
  std::string path = a["passwordFile"].get<std::string>();
  std::ifstream in(path);
  if (!in) return Unexpected(ErrorCode::kInvalid, "spec.auth.passwordFile: cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  std::string password = text.str();
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
  return std::optional<docker::RegistryAuth>(docker::RegistryAuth{a["username"].get<std::string>(), password, ""});
}

// Pull and build progress goes to the debug log, one line per layer state change.
docker::ProgressFn LogProgress(const std::string& what) {
  return [what](const docker::Progress& p) {
    if (p.total == 0) spdlog::debug("{}: {} {}", what, p.id, p.status);
  };
}

// The event reason and message for an action.
std::pair<std::string, std::string> Describe(const model::Object& o, const Action& a) {
  std::string what = reconcile::Describe(a);
  switch (a.verb) {
    case Verb::kCreate:
      if (a.target == Target::kContainer && !o.status.value("containerID", "").empty()) {
        return {"Repaired", "Repaired: container " + a.name + " removed outside keelson; created it again"};
      }
      return {"Created", "Created " + what.substr(what.find(' ') + 1)};
    case Verb::kStart: return {"Started", "Started " + what.substr(what.find(' ') + 1)};
    case Verb::kRecreate: return {"Recreated", "Recreated " + what.substr(what.find(' ') + 1)};
    case Verb::kReplace: return {"Replaced", "Replaced " + what.substr(what.find(' ') + 1)};
    case Verb::kRemove: return {"Removed", "Removed " + what.substr(what.find(' ') + 1)};
    case Verb::kConnect: return {"Connected", "Connected " + what.substr(what.find(' ') + 1)};
    case Verb::kDisconnect: return {"Disconnected", "Disconnected " + what.substr(what.find(' ') + 1)};
    case Verb::kPull: return {"Pulled", "Pulled " + what.substr(what.find(' ') + 1)};
    case Verb::kBuild: return {"Built", "Built " + what.substr(what.find(' ') + 1)};
    case Verb::kPush: return {"Pushed", "Pushed " + what.substr(what.find(' ') + 1)};
  }
  return {"Acted", what};
}

}  // namespace

Result<void> Reconciler::Call(const char* operation, Result<void> r) {
  s_.metrics.EngineCall(operation, r ? "ok" : CodeText(r.error().code));
  return r;
}

void Reconciler::Event(const model::Object& o, const std::string& type, const std::string& reason,
                       const std::string& message) {
  if (type == "Warning") {
    spdlog::warn("{}: {}", model::Key(o), message);
  } else {
    spdlog::info("{}: {}", model::Key(o), message);
  }
  if (auto r = store_.RecordEvent(o, type, reason, message); !r) spdlog::warn("events: {}", r.error().message);
}

Result<void> Reconciler::RemoveContainer(const std::string& id, int stop_timeout_s) {
  auto stop = Call("stop", s_.engine.StopContainer(id, stop_timeout_s));
  if (!stop && stop.error().code != ErrorCode::kNotFound) return stop;
  auto rm = Call("remove", s_.engine.RemoveContainer(id, true));
  if (!rm && rm.error().code != ErrorCode::kNotFound) return rm;
  s_.cache.ForgetContainer(id);
  return {};
}

Result<void> Reconciler::CreateAndStart(const model::Object& o, const Action& a) {
  auto id = s_.engine.CreateContainer(a.container);
  if (!id && id.error().code == ErrorCode::kConflict) {
    // The name is taken. Ours (a leftover of an older object of that name):
    // remove it and try again. Anyone else's: never touch it.
    auto other = s_.engine.InspectContainer(a.container.name);
    if (other && !reconcile::IsManaged(other->config.labels)) {
      return Unexpected(ErrorCode::kConflict, "container name " + a.container.name +
                                                  " is taken by a container keelson did not create");
    }
    const std::string theirs = other ? reconcile::LabelValue(other->config.labels, reconcile::kStoreLabel) : "";
    if (other && theirs != reconcile::LabelValue(a.container.labels, reconcile::kStoreLabel)) {
      return Unexpected(ErrorCode::kConflict, "container name " + a.container.name +
                                                  " is taken by a container of another keelson store (" + theirs + ")");
    }
    if (other) {
      if (auto r = RemoveContainer(other->id, a.stop_timeout_s); !r) return r;
    }
    id = s_.engine.CreateContainer(a.container);
  }
  if (auto r = Call("create", id ? Result<void>() : Result<void>(Unexpected(id.error()))); !r) return r;
  auto started = Call("start", s_.engine.StartContainer(*id));
  // Known either way: a failed start leaves a created container.
  if (auto r = s_.cache.RefreshContainer(*id); !r) return r;
  (void)o;
  return started;
}

bool Reconciler::RunsInParallel(const Action& a) {
  return a.target == Target::kContainer && (a.verb == Verb::kCreate || a.verb == Verb::kRemove);
}

Result<void> Reconciler::ExecuteInParallel(const model::Object& o, const std::vector<Action>& batch, json& status) {
  // Creates (a scale-up) and removes (a scale-down or a deletion, each
  // perhaps waiting out a stop timeout) are independent, and the engine
  // serves them in parallel; a bound keeps hundreds from flooding it.
  std::vector<Result<void>> results(batch.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  const size_t n = std::min(batch.size(), kParallelActions);
  for (size_t t = 0; t < n; ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < batch.size(); i = next++) {
        const Action& a = batch[i];
        results[i] = a.verb == Verb::kCreate ? CreateAndStart(o, a) : RemoveContainer(a.id, a.stop_timeout_s);
      }
    });
  }
  for (auto& t : threads) t.join();
  Result<void> first;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (results[i] && batch[i].verb == Verb::kRemove) CountRun(batch[i], status);
    if (auto r = Report(o, batch[i], results[i]); !r && first) first = r;
  }
  return first;
}

void Reconciler::CountRun(const Action& a, json& status) {
  if (!a.run_exit_code) return;
  // An ephemeral replica's run: counted once, as its container goes.
  const char* field = *a.run_exit_code == 0 ? "completedRuns" : "failedRuns";
  status[field] = status.value(field, 0) + 1;
  s_.metrics.EphemeralRun(*a.run_exit_code == 0 ? "completed" : "failed");
  status["failureStreak"] = a.quick_failure ? status.value("failureStreak", 0) + 1 : 0;
  if (a.quick_failure) status["lastFailureAt"] = FormatTimestamp(s_.clock.Now());
}

Result<void> Reconciler::Report(const model::Object& o, const Action& a, const Result<void>& r) {
  if (!r) {
    Event(o, "Warning", "Failed", "Failed to " + reconcile::Describe(a) + ": " + r.error().message);
    return r;
  }
  auto [reason, message] = Describe(o, a);
  if (reason == "Repaired") s_.metrics.DriftRepaired(std::string(model::Info(o.kind).name));
  Event(o, "Normal", reason, message);
  return {};
}

Result<void> Reconciler::Execute(const model::Object& o, const Action& a, json& status) {
  Result<void> r;
  switch (a.target) {
    case Target::kContainer:
      switch (a.verb) {
        case Verb::kCreate:
          r = CreateAndStart(o, a);
          break;
        case Verb::kRecreate:
          r = RemoveContainer(a.id, a.stop_timeout_s);
          if (r) r = CreateAndStart(o, a);
          break;
        case Verb::kStart:
          r = Call("start", s_.engine.StartContainer(a.id));
          if (!r && r.error().code == ErrorCode::kInternal) {
            // The engine cannot start this container (seen after an unclean
            // engine stop: its runtime state is left behind). A fresh one can
            // start: remove it, and the next pass (after backoff) creates it.
            if (RemoveContainer(a.id, 0)) {
              r = Unexpected(ErrorCode::kUnavailable, r.error().message + "; removed it to create a fresh one");
            }
          }
          if (r && a.reasons.front().rfind("exited", 0) == 0) status["restarts"] = status.value("restarts", 0) + 1;
          if (auto refresh = s_.cache.RefreshContainer(a.id); r && !refresh) r = refresh;
          break;
        case Verb::kRemove:
          r = RemoveContainer(a.id, a.stop_timeout_s);
          if (r) CountRun(a, status);
          break;
        case Verb::kConnect:
          r = Call("connect", s_.engine.ConnectNetwork(a.attachment.network, a.id, a.attachment.aliases));
          if (auto refresh = s_.cache.RefreshContainer(a.id); r && !refresh) r = refresh;
          break;
        case Verb::kDisconnect:
          r = Call("disconnect", s_.engine.DisconnectNetwork(a.attachment.network, a.id, true));
          if (auto refresh = s_.cache.RefreshContainer(a.id); r && !refresh) r = refresh;
          break;
        default:
          return Unexpected(ErrorCode::kInternal, "unexpected action " + reconcile::Describe(a));
      }
      break;
    case Target::kNetwork:
      if (a.verb == Verb::kReplace || a.verb == Verb::kRemove) {
        r = Call("remove_network", s_.engine.RemoveNetwork(a.id.empty() ? a.name : a.id));
        if (!r && r.error().code == ErrorCode::kNotFound) r = {};
      }
      if (r && (a.verb == Verb::kCreate || a.verb == Verb::kReplace)) {
        auto id = s_.engine.CreateNetwork(a.network);
        r = Call("create_network", id ? Result<void>() : Result<void>(Unexpected(id.error())));
      }
      if (auto refresh = s_.cache.RefreshNetwork(a.name); r && !refresh) r = refresh;
      break;
    case Target::kVolume:
      if (a.verb == Verb::kReplace || a.verb == Verb::kRemove) {
        r = Call("remove_volume", s_.engine.RemoveVolume(a.name, false));
        if (!r && r.error().code == ErrorCode::kNotFound) r = {};
      }
      if (r && (a.verb == Verb::kCreate || a.verb == Verb::kReplace)) {
        auto v = s_.engine.CreateVolume(a.volume);
        r = Call("create_volume", v ? Result<void>() : Result<void>(Unexpected(v.error())));
      }
      if (auto refresh = s_.cache.RefreshVolume(a.name); r && !refresh) r = refresh;
      break;
    case Target::kImage: {
      auto auth = Auth(o.kind == model::Kind::kImage ? o.spec : json::object());
      if (!auth) return Unexpected(auth.error());
      // An image keelson brings onto the engine (pulled or built while
      // absent) is its own: deleting the Image object removes it again.
      const bool absent = !a.reasons.empty() && a.reasons.front() == "not present";
      if (a.verb == Verb::kPull) {
        r = Call("pull", s_.engine.PullImage(a.name, *auth, LogProgress("pull " + a.name)));
        if (r && o.kind == model::Kind::kImage) status["pulledAt"] = FormatTimestamp(s_.clock.Now());
        if (r && o.kind == model::Kind::kImage && absent) status["createdOnEngine"] = true;
      } else if (a.verb == Verb::kRemove) {
        r = Call("remove_image", s_.engine.RemoveImage(a.name, false));
        if (!r && r.error().code == ErrorCode::kNotFound) r = {};
      } else if (a.verb == Verb::kBuild) {
        const json& b = o.spec["build"];
        docker::BuildRequest req;
        req.context_dir = b["context"].get<std::string>();
        req.dockerfile = b.value("dockerfile", "Dockerfile");
        req.tags = {a.name};
        req.args = reconcile::StringMapField(b, "args");
        req.target = b.value("target", "");
        auto id = s_.engine.BuildImage(req, LogProgress("build " + a.name));
        r = Call("build", id ? Result<void>() : Result<void>(Unexpected(id.error())));
        if (r) status["builtGeneration"] = o.meta.generation;
        if (r && absent) status["createdOnEngine"] = true;
      } else if (a.verb == Verb::kPush) {
        r = Call("push", s_.engine.PushImage(a.name, *auth, LogProgress("push " + a.name)));
      }
      s_.cache.ForgetImage(a.name);
      break;
    }
  }
  return Report(o, a, r);
}

}  // namespace keelson::controller
