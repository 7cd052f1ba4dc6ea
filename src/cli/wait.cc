// keelson wait KIND[/NAME] [NAME...] [--all] --for=condition=TYPE[=STATUS]|--for=delete [--timeout D]

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/remote.h"
#include "cli/resolve.h"
#include "model/selector.h"
#include "util/units.h"

namespace keelson::cli {
namespace {

struct WaitOptions {
  std::vector<std::string> words;
  bool all = false;
  std::string selector;
  std::string for_;
  std::string timeout = "30s";
  bool allow_stale = false;
};

struct Condition {
  bool deleted = false;
  std::string type;
  std::string status = "True";
};

Result<Condition> ParseFor(const std::string& text) {
  if (text == "delete") return Condition{true, "", ""};
  const std::string prefix = "condition=";
  if (text.rfind(prefix, 0) != 0 || text.size() == prefix.size()) {
    return Unexpected(ErrorCode::kInvalid, "--for must be delete or condition=TYPE[=STATUS]");
  }
  Condition c;
  c.type = text.substr(prefix.size());
  if (size_t eq = c.type.find('='); eq != std::string::npos) {
    c.status = c.type.substr(eq + 1);
    c.type = c.type.substr(0, eq);
  }
  return c;
}

// A condition counts only when reported for the object's current generation.
bool Met(const model::Object& o, const Condition& want) {
  const auto* c = model::FindCondition(o, want.type);
  if (!c || c->value("status", "") != want.status) return false;
  int64_t observed = c->value("observedGeneration", o.status.value("observedGeneration", int64_t{0}));
  return observed == o.meta.generation && !o.meta.deletion_timestamp;
}

// One pass: the objects not yet done, by display name; kNotFound when a named
// object is missing while waiting for a condition.
Result<std::vector<std::string>> Pending(ObjectReader& objects, const Globals& g,
                                         const std::vector<ObjectRef>& refs, const model::Selector& sel,
                                         const Condition& want) {
  std::vector<std::string> pending;
  for (const auto& r : refs) {
    std::vector<model::Object> found;
    if (r.name.empty()) {
      auto read = objects.ForEach({r.kind, g.namespace_, &sel}, [&found](model::Object&& o) { found.push_back(std::move(o)); });
      if (!read) return Unexpected(read.error());
    } else {
      auto o = objects.Get(r.kind, g.namespace_, r.name);
      if (!o) return Unexpected(o.error());
      if (*o) found.push_back(std::move(**o));
      if (!*o && !want.deleted) {
        return Unexpected(ErrorCode::kNotFound, std::string(model::Info(r.kind).singular) + "/" + r.name + " not found");
      }
    }
    for (const auto& o : found) {
      if (want.deleted || !Met(o, want)) pending.push_back(model::DisplayName(o));
    }
  }
  return pending;
}

// Over the API: the same passes, four a second. The server's status is
// taken as it is (whether its controller runs is the server's to say).
int WaitOverTheApi(const Globals& g, const WaitOptions& opts, const std::vector<ObjectRef>& refs,
                   const model::Selector& sel, const Condition& want, std::chrono::nanoseconds timeout) {
  auto client = OpenRemote(g);
  if (!client) return Fail(client.error().message, client.error().code == ErrorCode::kInvalid ? kExitUsage : kExitFailure);
  ApiReader reader(**client);
  InstallSignalHandlers();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Result<std::vector<std::string>> pending = std::vector<std::string>{};
  while (true) {
    pending = Pending(reader, g, refs, sel, want);
    if (!pending) return Fail(pending.error().message);
    if (pending->empty()) {
      std::cout << (want.deleted ? "deleted" : "condition met") << "\n";
      return kExitOk;
    }
    if (std::chrono::steady_clock::now() >= deadline || !SleepUnlessInterrupted(250)) break;
  }
  std::string list;
  for (const auto& p : *pending) list += (list.empty() ? "" : ", ") + p;
  return Fail("timed out after " + opts.timeout + " waiting for " + opts.for_ + " on " + list);
}

int RunWait(const Globals& g, const WaitOptions& opts) {
  auto want = ParseFor(opts.for_);
  if (!want) return Fail(want.error().message, kExitUsage);
  auto timeout = ParseDuration(opts.timeout);
  if (!timeout || timeout->count() < 0) return Fail("--timeout: not a non-negative duration: " + opts.timeout, kExitUsage);
  auto sel = model::Selector::Parse(opts.selector);
  if (!sel) return Fail(sel.error().message, kExitUsage);
  auto refs = ParseRefs(opts.words);
  if (!refs) return Fail(refs.error().message, kExitUsage);
  for (const auto& r : *refs) {
    if (r.name.empty() && !opts.all && opts.selector.empty()) {
      return Fail("name objects, or pass --all or -l to wait for every object of the kind", kExitUsage);
    }
  }
  if (IsRemote(g)) return WaitOverTheApi(g, opts, *refs, *sel, *want, *timeout);
  auto session = OpenSession(g, Access::kRead);
  if (!session) return Fail(session.error().message);
  StoreReader reader(*(*session)->objects);
  InstallSignalHandlers();
  auto deadline = std::chrono::steady_clock::now() + *timeout;
  std::string stale;  // why status cannot be trusted now; said once
  // The store is read again when it changed (a cheap look every 20 ms, so
  // the wait ends soon after the status is written), and at least each second.
  int64_t seen_version = -1;
  auto read_at = std::chrono::steady_clock::now();
  Result<std::vector<std::string>> pending = std::vector<std::string>{};
  for (bool first = true;; first = false) {
    auto version = (*session)->db->DataVersion();
    const auto now = std::chrono::steady_clock::now();
    if (!first && version && *version == seen_version && now - read_at < std::chrono::seconds(1)) {
      if (now >= deadline || !SleepUnlessInterrupted(20)) break;
      continue;
    }
    if (version) seen_version = *version;
    read_at = now;
    pending = Pending(reader, g, *refs, *sel, *want);
    if (!pending) return Fail(pending.error().message);
    // A condition is met only as a running controller reports it: stored
    // status that no controller maintains may describe a world long gone.
    std::string now_stale = want->deleted || opts.allow_stale ? "" : StaleStatusReason(**session);
    if (!now_stale.empty() && stale.empty()) {
      std::cerr << "warning: " << now_stale << "; waiting for a controller (--allow-stale accepts the stored status)\n";
    }
    stale = now_stale;
    if (pending->empty() && stale.empty()) {
      std::cout << (want->deleted ? "deleted" : "condition met") << "\n";
      return kExitOk;
    }
    if (std::chrono::steady_clock::now() >= deadline || !SleepUnlessInterrupted(20)) break;
  }
  std::string list;
  for (const auto& p : *pending) list += (list.empty() ? "" : ", ") + p;
  if (pending->empty()) return Fail("timed out after " + opts.timeout + ": " + stale);
  return Fail("timed out after " + opts.timeout + " waiting for " + opts.for_ + " on " + list);
}

}  // namespace

void RegisterWait(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<WaitOptions>();
  auto* cmd = app.add_subcommand("wait", "Block until objects hold a condition or are deleted (exit 1 on timeout)");
  cmd->add_option("object", opts->words, "KIND[/NAME] [NAME...]")->required();
  cmd->add_flag("--all", opts->all, "Every object of the kind in the namespace");
  cmd->add_option("-l,--selector", opts->selector, "Label selector");
  cmd->add_option("--for", opts->for_, "condition=TYPE[=STATUS] or delete")->required();
  cmd->add_option("--timeout", opts->timeout, "How long to wait (default 30s)");
  cmd->add_flag("--allow-stale", opts->allow_stale,
                "Accept a condition from stored status even when no controller is running");
  cmd->callback([&g, opts] { g.exit_code = RunWait(g, *opts); });
}

}  // namespace keelson::cli
