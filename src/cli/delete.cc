// keelson delete KIND NAME... | -f PATH [--force] [--wait] [--timeout D] [--ignore-users]

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/manifests.h"
#include "cli/remote.h"
#include "cli/resolve.h"
#include "cli/terminal.h"
#include "manifest/decode.h"
#include "util/units.h"

namespace keelson::cli {
namespace {

struct DeleteOptions {
  std::vector<std::string> words;
  std::vector<std::string> files;
  bool recursive = false;
  bool force = false;
  bool wait = false;
  bool ignore_not_found = false;
  bool ignore_users = false;
  bool all = false;
  std::string selector;
  std::string timeout = "60s";
};

struct Target {
  model::Kind kind;
  std::string ns;
  std::string name;
};

Result<std::vector<Target>> Targets(const Globals& g, const DeleteOptions& opts) {
  std::vector<Target> out;
  if (!opts.files.empty()) {
    auto loaded = LoadOrReport(opts.files, opts.recursive, g.namespace_, g.namespace_given);
    if (!loaded) return Unexpected(ErrorCode::kInvalid, "");
    for (const auto& lo : *loaded) out.push_back({lo.object.kind, lo.object.meta.namespace_, lo.object.meta.name});
    return out;
  }
  auto refs = ParseRefs(opts.words);
  if (!refs) return Unexpected(refs.error());
  const bool many = opts.all || !opts.selector.empty();
  for (const auto& r : *refs) {
    if (r.name.empty() && !many) {
      return Unexpected(ErrorCode::kInvalid, "delete needs names: KIND NAME..., KIND --all, KIND -l SELECTOR or -f PATH");
    }
    if (!r.name.empty() && many) return Unexpected(ErrorCode::kInvalid, "name objects, or use --all or -l; not both");
    out.push_back({r.kind, g.namespace_, r.name});
  }
  return out;
}

// KIND --all / -l SELECTOR: the objects of each kind in the namespace that
// match (as kubectl deletes them).
Result<std::vector<Target>> Expand(ObjectReader& objects, const std::vector<Target>& targets, const DeleteOptions& opts) {
  if (!opts.all && opts.selector.empty()) return targets;
  auto sel = model::Selector::Parse(opts.selector);
  if (!sel) return Unexpected(sel.error());
  std::vector<Target> out;
  for (const auto& t : targets) {
    auto read = objects.ForEach({t.kind, t.ns, &*sel}, [&out](model::Object&& o) {
      out.push_back({o.kind, o.meta.namespace_, o.meta.name});
    });
    if (!read) return Unexpected(read.error());
  }
  return out;
}

// The stored Runners and RunnerPools (not being deleted, and not deleted by
// this command) whose spec names network or volume `t`.
Result<std::vector<std::string>> Users(ObjectReader& objects, const Target& t, const std::vector<Target>& all) {
  std::vector<std::string> users;
  if (t.kind != model::Kind::kNetwork && t.kind != model::Kind::kVolume) return users;
  for (auto kind : {model::Kind::kRunner, model::Kind::kRunnerPool}) {
    std::vector<model::Object> stored;
    auto read = objects.ForEach({kind, t.ns, nullptr}, [&stored](model::Object&& o) { stored.push_back(std::move(o)); });
    if (!read) return Unexpected(read.error());
    for (const auto& o : stored) {
      bool going = o.meta.deletion_timestamp.has_value();
      for (const auto& d : all) going |= d.kind == o.kind && d.ns == o.meta.namespace_ && d.name == o.meta.name;
      auto spec = manifest::DecodeSpec(o.kind, o.spec);
      if (going || !spec) continue;
      const model::RunnerSpec* runner = std::get_if<model::RunnerSpec>(&*spec);
      if (const auto* pool = std::get_if<model::RunnerPoolSpec>(&*spec)) runner = &pool->template_;
      bool uses = false;
      for (const auto& n : runner->networks) uses |= t.kind == model::Kind::kNetwork && n.name == t.name;
      for (const auto& v : runner->volumes) uses |= t.kind == model::Kind::kVolume && v.name == t.name;
      if (uses) users.push_back(model::DisplayName(o));
    }
  }
  return users;
}

// Like `docker network rm`, a network or volume that stored objects still use
// is not deleted unless asked: one line per refusal, nothing deleted.
Result<bool> RefuseInUse(ObjectReader& objects, const std::vector<Target>& targets) {
  bool refused = false;
  for (const auto& t : targets) {
    auto users = Users(objects, t, targets);
    if (!users) return Unexpected(users.error());
    if (users->empty()) continue;
    std::string list;
    for (const auto& u : *users) list += (list.empty() ? "" : ", ") + u;
    std::cerr << "error: " << model::Info(t.kind).singular << "/" << t.name << " is used by " << list
              << "; delete them first, or pass --ignore-users (they then wait until it exists again)\n";
    refused = true;
  }
  return refused;
}

// Polls until every target is gone from the store; false on timeout.
// On a terminal, a line says what is still going (cli/terminal.h).
bool WaitGone(ObjectReader& objects, const std::vector<Target>& targets,
              std::chrono::nanoseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto& line = term::StatusLine::Get();
  while (true) {
    std::vector<std::string> left;
    for (const auto& t : targets) {
      auto o = objects.Get(t.kind, t.ns, t.name);
      if (!o || *o) left.push_back(std::string(model::Info(t.kind).singular) + "/" + t.name);
    }
    if (left.empty()) {
      line.Done();
      return true;
    }
    std::string text = "waiting for " + std::to_string(left.size()) + " of " + std::to_string(targets.size()) +
                       " to be deleted: ";
    for (size_t i = 0; i < left.size(); ++i) text += (i ? ", " : "") + left[i];
    line.Show(text);
    if (std::chrono::steady_clock::now() >= deadline || !SleepUnlessInterrupted(100)) {
      line.Done();
      return false;
    }
  }
}

// The same over the API: DELETE each (marked, or removed at once), the
// in-use check and --wait reading through it too.
int DeleteOverTheApi(const Globals& g, const DeleteOptions& opts, const std::vector<Target>& targets,
                     std::chrono::nanoseconds timeout) {
  if (opts.force) return Fail("--force works on the store file only", kExitUsage);
  auto client = OpenRemote(g);
  if (!client) return Fail(client.error().message, client.error().code == ErrorCode::kInvalid ? kExitUsage : kExitFailure);
  ApiReader reader(**client);
  auto expanded = Expand(reader, targets, opts);
  if (!expanded) return Fail(expanded.error().message, expanded.error().code == ErrorCode::kInvalid ? kExitUsage : kExitFailure);
  const std::vector<Target>& chosen = *expanded;
  if (!opts.ignore_users) {
    auto refused = RefuseInUse(reader, chosen);
    if (!refused) return Fail(refused.error().message);
    if (*refused) return kExitFailure;
  }
  int code = kExitOk;
  for (const auto& t : chosen) {
    std::string shown = std::string(model::Info(t.kind).singular) + "/" + t.name;
    auto reply = (*client)->Call("DELETE", ApiPath(t.kind, t.ns, t.name));
    if (!reply) return Fail(reply.error().message);
    if (reply->status == 404) {
      if (!opts.ignore_not_found) code = Fail(shown + " not found in namespace " + t.ns);
      continue;
    }
    if (reply->status != 200) return Fail(ApiError(*reply).message);
    const bool marked = reply->body.value("kind", "") != "Status";
    std::cout << shown << (marked ? " marked for deletion\n" : " deleted\n");
  }
  if (opts.wait && !WaitGone(reader, chosen, timeout)) {
    return Fail("timed out after " + opts.timeout + " waiting for the controller to finish deleting");
  }
  return code;
}

int RunDelete(const Globals& g, const DeleteOptions& opts) {
  if (opts.files.empty() == opts.words.empty()) {
    return Fail("delete takes KIND NAME... or -f PATH, not both", kExitUsage);
  }
  auto timeout = ParseDuration(opts.timeout);
  if (!timeout || timeout->count() < 0) return Fail("--timeout: not a non-negative duration: " + opts.timeout, kExitUsage);
  auto targets = Targets(g, opts);
  if (!targets) {
    if (targets.error().message.empty()) return kExitFailure;  // already reported per line
    return Fail(targets.error().message, kExitUsage);
  }
  if (IsRemote(g)) return DeleteOverTheApi(g, opts, *targets, *timeout);
  auto session = OpenSession(g, Access::kWrite);
  if (!session) return Fail(session.error().message);
  StoreReader reader(*(*session)->objects);
  auto expanded = Expand(reader, *targets, opts);
  if (!expanded) return Fail(expanded.error().message, expanded.error().code == ErrorCode::kInvalid ? kExitUsage : kExitFailure);
  *targets = std::move(*expanded);
  if (!opts.ignore_users) {
    auto refused = RefuseInUse(reader, *targets);
    if (!refused) return Fail(refused.error().message);
    if (*refused) return kExitFailure;
  }
  int code = kExitOk;
  for (const auto& t : *targets) {
    std::string shown = std::string(model::Info(t.kind).singular) + "/" + t.name;
    auto r = (*session)->objects->Delete(t.kind, t.ns, t.name, opts.force);
    if (!r) return Fail(r.error().message);
    switch (*r) {
      case store::DeleteResult::kNotFound:
        if (!opts.ignore_not_found) code = Fail(shown + " not found in namespace " + t.ns);
        break;
      case store::DeleteResult::kRemoved: std::cout << shown << " deleted\n"; break;
      case store::DeleteResult::kMarked: std::cout << shown << " marked for deletion\n"; break;
    }
  }
  if (opts.wait && !WaitGone(reader, *targets, *timeout)) {
    return Fail("timed out after " + opts.timeout + " waiting for the controller to finish deleting");
  }
  return code;
}

}  // namespace

void RegisterDelete(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<DeleteOptions>();
  auto* cmd = app.add_subcommand("delete", "Delete objects; the controller removes their engine objects");
  cmd->add_option("object", opts->words, "KIND NAME... or KIND/NAME...");
  cmd->add_option("-f,--filename", opts->files, "Delete the objects these files define");
  cmd->add_flag("-R,--recursive", opts->recursive, "Read directories recursively");
  cmd->add_flag("--force", opts->force, "Remove from the store at once, without engine cleanup");
  cmd->add_flag("--wait", opts->wait, "Block until the objects are gone");
  cmd->add_option("--timeout", opts->timeout, "How long --wait waits (default 60s)");
  cmd->add_flag("--ignore-not-found", opts->ignore_not_found, "Missing objects are not an error");
  cmd->add_flag("--all", opts->all, "Every object of the kinds named, in the namespace");
  cmd->add_option("-l,--selector", opts->selector, "The objects of the kinds named whose labels match");
  cmd->add_flag("--ignore-users", opts->ignore_users,
                "Delete a network or volume even though stored runners or pools use it");
  cmd->callback([&g, opts] { g.exit_code = RunDelete(g, *opts); });
}

}  // namespace keelson::cli
