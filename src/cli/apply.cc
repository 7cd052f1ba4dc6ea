// keelson apply -f PATH... [-R] [--dry-run] [--prune -l SELECTOR]

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/manifests.h"
#include "policy/policy.h"
#include "reconcile/depends.h"

namespace keelson::cli {
namespace {

struct ApplyOptions {
  std::vector<std::string> files;
  bool recursive = false;
  bool dry_run = false;
  bool prune = false;
  std::string selector;
};

// dependsOn cycles among the stored objects as they would be after this
// apply. Reported at the applied object that closes the cycle.
Result<void> CheckDependencyCycles(store::ObjectStore& objects, const std::vector<store::ApplyRequest>& requests,
                                   const std::vector<manifest::LoadedObject>& loaded) {
  std::vector<model::Object> all;
  for (auto kind : {model::Kind::kRunner, model::Kind::kRunnerPool}) {
    auto stored = objects.List({kind, std::nullopt, nullptr});
    if (!stored) return Unexpected(stored.error());
    for (auto& o : *stored) all.push_back(std::move(o));
  }
  for (const auto& r : requests) all.push_back(r.object);  // later entries win
  auto cycle = reconcile::FindDependencyCycle(all);
  if (cycle.empty()) return {};
  std::string path;
  for (const auto& c : cycle) path += (path.empty() ? "" : " -> ") + c;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (std::find(cycle.begin(), cycle.end(), model::DisplayName(requests[i].object)) == cycle.end()) continue;
    const auto& lo = loaded[i];
    return Unexpected(ErrorCode::kInvalid, lo.source + ":" + std::to_string(lo.depends_on.line) + ":" +
                                               std::to_string(lo.depends_on.column) + ": spec.dependsOn: cycle: " + path);
  }
  return Unexpected(ErrorCode::kInvalid, "spec.dependsOn: cycle: " + path);
}

// Policies as they will be after this apply (the stored ones, replaced by
// applied ones of the same name) judge every applied Runner, RunnerPool and
// Image. enforce: an error line each, and the apply fails; warn: a warning
// line each and a Warning event with the object; audit: the event only.
Result<bool> CheckPolicies(store::ObjectStore& objects, std::vector<store::ApplyRequest>& requests,
                           const std::vector<manifest::LoadedObject>& loaded) {
  std::map<std::string, model::Object> by_key;
  auto stored = objects.List({model::Kind::kPolicy, std::nullopt, nullptr});
  if (!stored) return Unexpected(stored.error());
  for (auto& p : *stored) by_key[model::Key(p)] = std::move(p);
  for (const auto& r : requests) {
    if (r.object.kind == model::Kind::kPolicy) by_key[model::Key(r.object)] = r.object;
  }
  if (by_key.empty()) return true;
  std::vector<model::Object> policies;
  for (auto& [key, p] : by_key) policies.push_back(std::move(p));

  bool admitted = true;
  for (size_t i = 0; i < requests.size(); ++i) {
    for (const auto& v : policy::Admit(policies, requests[i].object)) {
      const manifest::Document& doc = loaded[i].doc;
      const std::string where = manifest::PathString(v.violation.path);
      if (v.enforcement == "enforce") {
        std::cerr << doc.At(v.violation.path, false, "denied by " + v.Describe()).ToString() << "\n";
        admitted = false;
        continue;
      }
      if (v.enforcement == "warn") {
        std::cerr << "warning: " << doc.At(v.violation.path, false, v.Describe()).ToString() << "\n";
      }
      requests[i].events.push_back({"Warning", v.enforcement == "warn" ? "PolicyWarning" : "PolicyViolation",
                                    v.Describe() + " (at " + where + ")"});
    }
  }
  return admitted;
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
  auto loaded = LoadOrReport(opts.files, opts.recursive, g.namespace_);
  if (!loaded) return kExitFailure;
  std::vector<store::ApplyRequest> requests;
  requests.reserve(loaded->size());
  for (auto& lo : *loaded) {
    if (prune) prune->namespaces.insert(lo.object.meta.namespace_);
    requests.push_back({std::move(lo.object), lo.source});
  }
  auto session = OpenSession(g);
  if (!session) return Fail(session.error().message);
  if (auto r = CheckDependencyCycles(*(*session)->objects, requests, *loaded); !r) {
    std::cerr << r.error().message << "\n";  // starts with FILE:LINE:COL, as every manifest error
    return kExitFailure;
  }
  auto admitted = CheckPolicies(*(*session)->objects, requests, *loaded);
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
  cmd->callback([&g, opts] { g.exit_code = RunApply(g, *opts); });
}

}  // namespace keelson::cli
