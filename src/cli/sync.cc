// keelson sync gitrepository NAME [--timeout 2m]: asks the controller to sync
// a source now (Flux's `flux reconcile source git`), and waits for its result.
// The request is an annotation the controller answers in
// status.lastHandledSyncAt; exit 0 when the revision applied, 1 when it did
// not (its Ready message said), or on timeout.

#include <chrono>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "admission/admission.h"
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

// A request value no earlier request has: the time, to the nanosecond.
std::string RequestStamp() {
  const auto now = std::chrono::system_clock::now();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() % 1000000000;
  std::string base = FormatTimestamp(std::chrono::time_point_cast<TimePoint::duration>(now));
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(ns));
  return base.substr(0, base.size() - 1) + frac + "Z";
}

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
  const std::string stamp = RequestStamp();
  // The annotation is metadata: written as `keelson annotate` writes it.
  for (int attempt = 0;; ++attempt) {
    auto current = store.Get(model::Kind::kGitRepository, g.namespace_, name);
    if (!current) return Fail(current.error().message);
    if (!*current) return Fail(shown + " not found in namespace " + g.namespace_);
    model::Object next = **current;
    next.meta.annotations[controller::kSyncRequestedAnnotation] = stamp;
    store::ApplyRequest request{next, "keelson sync"};
    request.precondition = {store::Precondition::Exists::kPresent, next.meta.resource_version, next.meta.uid};
    auto written = store.Apply({request}, std::nullopt, false);
    if (written) break;
    if (written.error().code != ErrorCode::kConflict || attempt + 1 >= admission::kUpdateAttempts) {
      return Fail(written.error().message);
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + *timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto current = store.Get(model::Kind::kGitRepository, g.namespace_, name);
    if (!current) return Fail(current.error().message);
    if (!*current) return Fail(shown + " was deleted");
    const nlohmann::json& status = (*current)->status;
    if (reconcile::TextField(status, "lastHandledSyncAt") == stamp) {
      const nlohmann::json* ready = reconcile::ConditionIn(status, "Ready");
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
