// keelson sync gitrepository NAME [--timeout 2m]: asks the controller to sync
// a source now (Flux's `flux reconcile source git`), and waits for its result.
// The request is an annotation the controller answers in
// status.lastHandledSyncAt; exit 0 when the revision applied and what it
// applied is Ready, 1 when not (its Ready message says why), or on timeout.

#include <chrono>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/remote.h"
#include "cli/resolve.h"
#include "controller/source_sync.h"
#include "reconcile/status.h"
#include "util/units.h"

namespace keelson::cli {
namespace {

struct SyncOptions {
  std::vector<std::string> words;
  std::string timeout = "2m";
};

int RunSync(const Globals& g, const SyncOptions& opts) {
  if (IsRemote(g)) return NotOverTheApi("sync");
  auto refs = ParseRefs(opts.words);
  if (!refs) return Fail(refs.error().message, kExitUsage);
  if (refs->size() != 1 || (*refs)[0].kind != model::Kind::kGitRepository || (*refs)[0].name.empty()) {
    return Fail("name one source: keelson sync gitrepository NAME", kExitUsage);
  }
  auto timeout = ParseDuration(opts.timeout);
  if (!timeout || timeout->count() <= 0) return Fail("--timeout: not a positive duration: " + opts.timeout, kExitUsage);
  const std::string name = (*refs)[0].name, shown = "gitrepository/" + name;
  auto session = OpenSession(g, Access::kWrite);
  if (!session) return Fail(session.error().message);
  store::ObjectStore& store = *(*session)->objects;
  RealClock clock;
  auto asked = controller::RequestSourceSync(store, g.namespace_, name, clock);
  if (!asked) return Fail(asked.error().message);
  const std::string stamp = *asked;
  const auto deadline = std::chrono::steady_clock::now() + *timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto current = store.Get(model::Kind::kGitRepository, g.namespace_, name);
    if (!current) return Fail(current.error().message);
    if (!*current) return Fail(shown + " was deleted");
    const nlohmann::json& status = (*current)->status;
    const nlohmann::json* ready = reconcile::ConditionIn(status, "Ready");
    // Answered, and past the wait for what it applied to become Ready.
    const bool settled = !ready || reconcile::TextField(*ready, "reason") != "Progressing";
    if (reconcile::TextField(status, "lastHandledSyncAt") == stamp && settled) {
      const std::string message = ready ? ready->value("message", "") : "";
      if (reconcile::ReadyIn(status)) {
        std::cout << shown << " synced: " << message << "\n";
        return kExitOk;
      }
      return Fail(shown + ": " + (ready ? ready->value("reason", "") + ": " : "") + message);
    }
    if (!SleepUnlessInterrupted(200)) return Fail("interrupted");
  }
  return Fail(shown + ": no answer within " + opts.timeout + " (is a controller running for this store?)");
}

}  // namespace

void RegisterSync(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<SyncOptions>();
  auto* cmd = app.add_subcommand("sync", "Sync a git source now and wait for the result (exit 1: not applied)");
  cmd->add_option("args", opts->words, "gitrepository NAME (or gitrepository/NAME)")->required();
  cmd->add_option("--timeout", opts->timeout, "How long to wait for the controller (default 2m)");
  cmd->callback([&g, opts] { g.exit_code = RunSync(g, *opts); });
}

}  // namespace keelson::cli
