// keelson apply -f PATH... [-R] [--dry-run] [--prune -l SELECTOR]

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/manifests.h"
#include "cli/remote.h"
#include "admission/admission.h"

namespace keelson::cli {
namespace {

struct ApplyOptions {
  std::vector<std::string> files;
  bool recursive = false;
  bool dry_run = false;
  bool prune = false;
  bool force_conflicts = false;
  std::string selector;
};

// The same over the API: each object created (POST) or replaced (PUT, under
// the resourceVersion just read; a race is read again), judged by the
// server's admission, which is apply's.
int ApplyOverTheApi(const Globals& g, const ApplyOptions& opts, const std::vector<store::ApplyRequest>& requests) {
  if (opts.prune) return Fail("--prune works on the store file only", kExitUsage);
  auto client = OpenRemote(g);
  if (!client) return Fail(client.error().message, client.error().code == ErrorCode::kInvalid ? kExitUsage : kExitFailure);
  const std::string dry = opts.dry_run ? "?dryRun=All" : "";
  const char* suffix = opts.dry_run ? " (dry run)" : "";
  for (const auto& req : requests) {
    const model::Object& o = req.object;
    nlohmann::json doc = {{"apiVersion", model::kApiVersion},
                          {"kind", model::Info(o.kind).name},
                          {"metadata", {{"name", o.meta.name}, {"namespace", o.meta.namespace_}}},
                          {"spec", o.spec}};
    if (!o.meta.labels.empty()) doc["metadata"]["labels"] = o.meta.labels;
    if (!o.meta.annotations.empty()) doc["metadata"]["annotations"] = o.meta.annotations;
    std::string action;
    for (int attempt = 0; attempt < 5 && action.empty(); ++attempt) {
      auto current = (*client)->Call("GET", ApiPath(o.kind, o.meta.namespace_, o.meta.name));
      if (!current) return Fail(current.error().message);
      if (current->status == 404) {
        auto made = (*client)->Call("POST", ApiPath(o.kind, o.meta.namespace_) + dry, doc.dump());
        if (!made) return Fail(made.error().message);
        if (made->status == 409) continue;  // made meanwhile: replace it
        if (made->status != 201) return Fail(model::DisplayName(o) + ": " + made->Message());
        action = "created";
        break;
      }
      if (current->status != 200) return Fail(model::DisplayName(o) + ": " + current->Message());
      const std::string rv = current->body["metadata"].value("resourceVersion", "");
      doc["metadata"]["resourceVersion"] = rv;
      auto put = (*client)->Call("PUT", ApiPath(o.kind, o.meta.namespace_, o.meta.name) + dry, doc.dump());
      if (!put) return Fail(put.error().message);
      if (put->status == 409) continue;  // changed since the read: read again
      if (put->status != 200) return Fail(model::DisplayName(o) + ": " + put->Message());
      action = put->body["metadata"].value("resourceVersion", "") == rv ? "unchanged" : "configured";
    }
    if (action.empty()) return Fail(model::DisplayName(o) + ": changed by another writer on every attempt");
    std::cout << model::DisplayName(o) << " " << action << suffix << "\n";
  }
  return kExitOk;
}

int RunApply(const Globals& g, const ApplyOptions& opts) {
  if (opts.prune && opts.selector.empty()) {
    return Fail("--prune needs -l/--selector: prune only what a selector names", kExitUsage);
  }
  std::optional<store::PruneRequest> prune;
  if (opts.prune) {
    auto sel = model::Selector::Parse(opts.selector);
    if (!sel) return Fail(sel.error().message, kExitUsage);
    prune = store::PruneRequest{std::move(*sel), {g.namespace_}};
  }
  // Validate everything before the store is even opened: bad input changes nothing.
  auto loaded = LoadOrReport(opts.files, opts.recursive, g.namespace_, g.namespace_given);
  if (!loaded) return kExitFailure;
  std::vector<store::ApplyRequest> requests;
  requests.reserve(loaded->size());
  for (auto& lo : *loaded) {
    if (prune) prune->namespaces.insert(lo.object.meta.namespace_);
    requests.push_back({std::move(lo.object), lo.source});
  }
  if (IsRemote(g)) return ApplyOverTheApi(g, opts, requests);
  auto session = OpenSession(g, Access::kCreate);
  if (!session) return Fail(session.error().message);
  auto admitted = Admit(*(*session)->objects, requests, *loaded, opts.force_conflicts);
  if (!admitted) return Fail(admitted.error().message);
  if (!*admitted) return kExitFailure;
  auto result = (*session)->objects->Apply(requests, prune, opts.dry_run);
  if (!result) return Fail(result.error().message);
  const char* suffix = opts.dry_run ? " (dry run)" : "";
  for (const auto& a : result->applied) {
    std::cout << a.display << " " << store::ToString(a.action) << suffix << "\n";
  }
  for (const auto& p : result->pruned) std::cout << p.display << " pruned" << suffix << "\n";
  return kExitOk;
}

}  // namespace

void RegisterApply(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<ApplyOptions>();
  auto* cmd = app.add_subcommand("apply", "Validate manifests and store them as desired state");
  cmd->add_option("-f,--filename", opts->files, "Files or directories to apply ('-' for stdin)")
      ->required();
  cmd->add_flag("-R,--recursive", opts->recursive, "Read directories recursively");
  cmd->add_flag("--dry-run", opts->dry_run, "Show what would change; store nothing");
  cmd->add_flag("--prune", opts->prune,
                "Delete stored objects matching -l that the files no longer contain");
  cmd->add_option("-l,--selector", opts->selector, "Label selector for --prune");
  cmd->add_flag("--force-conflicts", opts->force_conflicts,
                "Write objects a git source owns (it restores its version at its next sync)");
  cmd->callback([&g, opts] { g.exit_code = RunApply(g, *opts); });
}

}  // namespace keelson::cli
