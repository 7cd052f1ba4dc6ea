// keelson rollout undo|status runnerpool NAME

#include <iostream>
#include <memory>
#include <optional>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/remote.h"
#include "cli/resolve.h"
#include "admission/rollback.h"
#include "util/units.h"

namespace keelson::cli {
namespace {

struct RolloutOptions {
  std::vector<std::string> words;
  std::string timeout = "10m";
};

Result<std::string> PoolName(const RolloutOptions& opts, const char* verb) {
  auto refs = ParseRefs(opts.words);
  if (!refs) return Unexpected(refs.error());
  if (refs->size() != 1 || refs->front().name.empty() || refs->front().kind != model::Kind::kRunnerPool) {
    return Unexpected(ErrorCode::kInvalid, std::string("rollout ") + verb + " takes one runnerpool: keelson rollout " +
                                               verb + " runnerpool NAME");
  }
  return refs->front().name;
}

// Restores the newest earlier template that differs from the current one
// (the history keeps the last 10 specs); replicas stay as they are now.
int RunUndo(const Globals& g, const RolloutOptions& opts) {
  if (IsRemote(g)) return NotOverTheApi("rollout");
  auto name = PoolName(opts, "undo");
  if (!name) return Fail(name.error().message, kExitUsage);
  auto session = OpenSession(g, Access::kWrite);
  if (!session) return Fail(session.error().message);
  auto restored = admission::RestorePreviousTemplate(*(*session)->objects, g.namespace_, *name, "keelson rollout undo");
  if (!restored) return Fail(restored.error().message);
  std::cout << "runnerpool/" << *name << " rolled back to the template of generation " << **restored << "\n";
  return kExitOk;
}

// The automatic rollback that undid generation `followed`, if the history
// has one: its revision's source says so ("rollback: auto (...)").
std::optional<store::Revision> RolledBack(store::ObjectStore& objects, const std::string& ns, const std::string& name,
                                          int64_t followed) {
  auto history = objects.History(model::Kind::kRunnerPool, ns, name);
  if (!history) return std::nullopt;
  for (const auto& rev : *history) {
    if (rev.generation > followed && rev.source.rfind("rollback: auto", 0) == 0) return rev;
  }
  return std::nullopt;
}

// Follows the pool until its current generation is Ready (exit 0), or it is
// Degraded, rolled back by the controller, or the timeout passes (exit 1),
// printing each change of progress. CI gates rely on the exit code: a
// rollout the controller undid is a failed rollout, whatever the pool's
// state after the rollback.
int RunStatus(const Globals& g, const RolloutOptions& opts) {
  if (IsRemote(g)) return NotOverTheApi("rollout");
  auto name = PoolName(opts, "status");
  if (!name) return Fail(name.error().message, kExitUsage);
  auto timeout = ParseDuration(opts.timeout);
  if (!timeout || timeout->count() < 0) return Fail("--timeout: not a non-negative duration: " + opts.timeout, kExitUsage);
  auto session = OpenSession(g, Access::kRead);
  if (!session) return Fail(session.error().message);
  InstallSignalHandlers();
  auto deadline = std::chrono::steady_clock::now() + *timeout;
  std::string last;
  int64_t followed = 0;  // the generation whose rollout is followed
  while (true) {
    auto o = (*session)->objects->Get(model::Kind::kRunnerPool, g.namespace_, *name);
    if (!o) return Fail(o.error().message);
    if (!*o) return Fail("runnerpool \"" + *name + "\" not found in namespace " + g.namespace_);
    if (followed == 0) {
      followed = (*o)->meta.generation;
      // Started after the controller had already undone the last change:
      // that rollout failed too.
      if (auto rb = RolledBack(*(*session)->objects, g.namespace_, *name, followed - 1)) {
        return Fail("runnerpool/" + *name + ": the last rollout failed: it missed its progress deadline and the " +
                    "controller rolled back (" + rb->source + ", generation " + std::to_string(rb->generation) + ")");
      }
    }
    if ((*o)->meta.generation > followed) {
      if (auto rb = RolledBack(*(*session)->objects, g.namespace_, *name, followed)) {
        return Fail("runnerpool/" + *name + ": the rollout of generation " + std::to_string(followed) +
                    " failed: it missed its progress deadline and the controller rolled back (" + rb->source +
                    ", now generation " + std::to_string(rb->generation) + ")");
      }
      followed = (*o)->meta.generation;  // a newer change by a user: follow that one, as kubectl does
    }
    const auto& s = (*o)->status;
    const int want = (*o)->spec.value("replicas", 1);
    bool current = s.value("observedGeneration", int64_t{0}) == (*o)->meta.generation;
    std::string line = current ? std::to_string(s.value("updatedReplicas", 0)) + " of " + std::to_string(want) +
                                     " updated replicas, " + std::to_string(s.value("availableReplicas", 0)) +
                                     " available"
                               : "waiting for the controller to see generation " + std::to_string((*o)->meta.generation);
    if (line != last) std::cout << "runnerpool/" << *name << ": " << line << "\n" << std::flush;
    last = line;
    if (model::IsReady(**o)) {
      std::cout << "runnerpool/" << *name << " successfully rolled out\n";
      return kExitOk;
    }
    const auto* degraded = model::FindCondition(**o, "Degraded");
    if (current && degraded && degraded->value("status", "") == "True") {
      return Fail("runnerpool/" + *name + ": " + degraded->value("reason", "") + ": " + degraded->value("message", ""));
    }
    if (std::chrono::steady_clock::now() >= deadline) return Fail("timed out after " + opts.timeout);
    if (!SleepUnlessInterrupted(200)) return kExitFailure;
  }
}

}  // namespace

void RegisterRollout(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("rollout", "Follow or undo a RunnerPool's template rollout");
  cmd->require_subcommand(1);
  auto undo = std::make_shared<RolloutOptions>();
  auto* u = cmd->add_subcommand("undo", "Restore the previous template (from the pool's history)");
  u->add_option("object", undo->words, "runnerpool NAME or runnerpool/NAME")->required();
  u->callback([&g, undo] { g.exit_code = RunUndo(g, *undo); });
  auto status = std::make_shared<RolloutOptions>();
  auto* s = cmd->add_subcommand("status", "Follow a rollout until it is done (exit 0) or Degraded/timed out (exit 1)");
  s->add_option("object", status->words, "runnerpool NAME or runnerpool/NAME")->required();
  s->add_option("--timeout", status->timeout, "How long to follow (default 10m)");
  s->callback([&g, status] { g.exit_code = RunStatus(g, *status); });
}

}  // namespace keelson::cli
