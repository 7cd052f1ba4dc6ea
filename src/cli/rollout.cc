// keelson rollout status|undo|restart|history

#include <iostream>
#include <memory>
#include <optional>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/remote.h"
#include "cli/resolve.h"
#include "admission/admission.h"
#include "admission/rollback.h"
#include "cli/table.h"
#include "manifest/document.h"
#include "util/clock.h"
#include "util/units.h"

namespace keelson::cli {
namespace {

struct RolloutOptions {
  std::vector<std::string> words;
  std::string timeout = "10m";
  int64_t revision = 0;  ///< undo --to-revision, history --revision
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
  if (opts.revision < 0) return Fail("--to-revision: must be >= 0", kExitUsage);
  auto session = OpenSession(g, Access::kWrite);
  if (!session) return Fail(session.error().message);
  if (opts.revision > 0) {
    auto generation = admission::RestoreTemplateOf(*(*session)->objects, g.namespace_, *name, opts.revision,
                                                   "keelson rollout undo --to-revision " + std::to_string(opts.revision));
    if (!generation) return Fail(generation.error().message);
    std::cout << "runnerpool/" << *name << " rolled back to the template of revision " << opts.revision << "\n";
    return kExitOk;
  }
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

// Replaces every replica (a runner: its container) with no change but
// spec[.template].restartedAt, as kubectl rollout restart stamps its
// restartedAt annotation on the pod template.
int RunRestart(const Globals& g, const RolloutOptions& opts) {
  auto refs = ParseRefs(opts.words);
  if (!refs) return Fail(refs.error().message, kExitUsage);
  if (refs->empty()) return Fail("rollout restart takes runners or runnerpools: keelson rollout restart runnerpool/NAME", kExitUsage);
  for (const auto& r : *refs) {
    if (r.name.empty() || (r.kind != model::Kind::kRunner && r.kind != model::Kind::kRunnerPool)) {
      return Fail("rollout restart takes runners or runnerpools by name: keelson rollout restart runnerpool/NAME",
                  kExitUsage);
    }
  }
  const std::string now = FormatTimestamp(std::chrono::system_clock::now());
  int code = kExitOk;
  std::unique_ptr<Session> session;
  std::unique_ptr<api::Client> client;
  if (IsRemote(g)) {
    auto c = OpenRemote(g);
    if (!c) return Fail(c.error().message, c.error().code == ErrorCode::kInvalid ? kExitUsage : kExitFailure);
    client = std::move(*c);
  } else {
    auto s = OpenSession(g, Access::kWrite);
    if (!s) return Fail(s.error().message);
    session = std::move(*s);
  }
  for (const auto& r : *refs) {
    const bool pool = r.kind == model::Kind::kRunnerPool;
    const std::string what = std::string(model::Info(r.kind).singular) + "/" + r.name;
    if (client) {
      nlohmann::json patch = pool ? nlohmann::json{{"spec", {{"template", {{"restartedAt", now}}}}}}
                                  : nlohmann::json{{"spec", {{"restartedAt", now}}}};
      auto reply = client->Call("PATCH", ApiPath(r.kind, g.namespace_, r.name), patch.dump(), "application/merge-patch+json");
      if (!reply) return Fail(reply.error().message);
      if (reply->status != 200) {
        code = Fail(ApiError(*reply).message);
        continue;
      }
    } else {
      auto updated = admission::Update(
          *session->objects, r.kind, g.namespace_, r.name,
          [&](const model::Object&, nlohmann::json& spec, std::string*) -> Result<bool> {
            (pool ? spec["template"] : spec)["restartedAt"] = now;
            return true;
          },
          "keelson rollout restart");
      if (!updated) {
        code = Fail(updated.error().message);
        continue;
      }
    }
    std::cout << what << " restarted\n";
  }
  return code;
}

// The pool's kept revisions, as kubectl rollout history lists a
// deployment's: REVISION and CHANGE-CAUSE (here: the file or command that
// made it); --revision N prints that revision's template.
int RunHistoryOf(const Globals& g, const RolloutOptions& opts) {
  if (IsRemote(g)) return NotOverTheApi("rollout");
  auto name = PoolName(opts, "history");
  if (!name) return Fail(name.error().message, kExitUsage);
  auto session = OpenSession(g, Access::kRead);
  if (!session) return Fail(session.error().message);
  auto revs = (*session)->objects->History(model::Kind::kRunnerPool, g.namespace_, *name);
  if (!revs) return Fail(revs.error().message);
  if (revs->empty()) return Fail("runnerpool \"" + *name + "\" not found in namespace " + g.namespace_);
  if (opts.revision > 0) {
    for (const auto& r : *revs) {
      if (r.generation != opts.revision) continue;
      std::cout << "runnerpool/" << *name << " with revision #" << r.generation << "\nTemplate:\n"
                << manifest::EmitYaml(r.spec.value("template", nlohmann::json::object()));
      return kExitOk;
    }
    return Fail("unable to find the specified revision " + std::to_string(opts.revision) + " (the last " +
                std::to_string(store::kRevisionsKept) + " are kept)");
  }
  std::cout << "runnerpool/" << *name << "\n";
  Table t({"REVISION", "CHANGE-CAUSE"});
  for (const auto& r : *revs) t.AddRow({std::to_string(r.generation), r.source.empty() ? "<none>" : r.source});
  t.Print(std::cout);
  return kExitOk;
}

}  // namespace

void RegisterRollout(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("rollout", "Follow, restart, list or undo a RunnerPool's rollouts");
  cmd->require_subcommand(1);
  auto undo = std::make_shared<RolloutOptions>();
  auto* u = cmd->add_subcommand("undo", "Restore the previous template (from the pool's history)");
  u->add_option("object", undo->words, "runnerpool NAME or runnerpool/NAME")->required();
  u->add_option("--to-revision", undo->revision, "The revision to restore (rollout history lists them; 0: the previous)");
  u->callback([&g, undo] { g.exit_code = RunUndo(g, *undo); });
  auto status = std::make_shared<RolloutOptions>();
  auto* s = cmd->add_subcommand("status", "Follow a rollout until it is done (exit 0) or Degraded/timed out (exit 1)");
  s->add_option("object", status->words, "runnerpool NAME or runnerpool/NAME")->required();
  s->add_option("--timeout", status->timeout, "How long to follow (default 10m)");
  s->callback([&g, status] { g.exit_code = RunStatus(g, *status); });
  auto restart = std::make_shared<RolloutOptions>();
  auto* r = cmd->add_subcommand("restart", "Replace every replica (a runner: its container) without a spec change");
  r->add_option("object", restart->words, "runnerpool/NAME or runner/NAME ...")->required();
  r->callback([&g, restart] { g.exit_code = RunRestart(g, *restart); });
  auto history = std::make_shared<RolloutOptions>();
  auto* h = cmd->add_subcommand("history", "A pool's kept revisions, and what made each");
  h->add_option("object", history->words, "runnerpool NAME or runnerpool/NAME")->required();
  h->add_option("--revision", history->revision, "Print this revision's template");
  h->callback([&g, history] { g.exit_code = RunHistoryOf(g, *history); });
}

}  // namespace keelson::cli
