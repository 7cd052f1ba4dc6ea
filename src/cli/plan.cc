// keelson plan [KIND [NAME...]]: the actions the controller would take now
// against the live engine, changing nothing.

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/remote.h"
#include "cli/resolve.h"
#include "controller/cache.h"
#include "controller/cache_world.h"
#include "reconcile/kinds.h"
#include "reconcile/labels.h"

namespace keelson::cli {
namespace {

struct PlanOptions {
  std::vector<std::string> words;
  bool all_namespaces = false;
};

// The objects the words name (every object when none), in the store's order.
Result<std::vector<model::Object>> Selected(store::ObjectStore& objects, const Globals& g, const PlanOptions& opts) {
  std::optional<std::string> ns;
  if (!opts.all_namespaces) ns = g.namespace_;
  if (opts.words.empty()) return objects.List({std::nullopt, ns, nullptr});
  auto refs = ParseRefs(opts.words);
  if (!refs) return Unexpected(refs.error());
  std::vector<model::Object> out;
  for (const auto& r : *refs) {
    auto list = objects.List({r.kind, ns, nullptr});
    if (!list) return Unexpected(list.error());
    bool found = false;
    for (auto& o : *list) {
      if (!r.name.empty() && o.meta.name != r.name) continue;
      found = true;
      out.push_back(std::move(o));
    }
    if (!found && !r.name.empty()) {
      return Unexpected(ErrorCode::kNotFound, std::string(model::Info(r.kind).singular) + "/" + r.name + " not found");
    }
  }
  return out;
}

int RunPlan(const Globals& g, const PlanOptions& opts) {
  if (IsRemote(g)) return NotOverTheApi("plan");
  auto session = OpenSession(g, Access::kRead);
  if (!session) return Fail(session.error().message, kExitUsage);
  auto engine = OpenEngine(g);
  if (!engine) return Fail(engine.error().message, kExitUsage);
  controller::Cache cache(**engine);
  if (auto r = cache.Resync(); !r) return Fail(r.error().message, kExitUsage);
  auto objects = Selected(*(*session)->objects, g, opts);
  if (!objects) return Fail(objects.error().message, objects.error().code == ErrorCode::kNotFound ? kExitUsage : kExitUsage);
  // The same observation and planners as the controller, without a controller.
  controller::CacheWorld world(**engine, cache, *(*session)->objects, (*session)->clock);
  int pending = 0;
  for (const auto& o : *objects) {
    const auto& kind = reconcile::ReconcilerFor(o.kind);
    reconcile::Memory memory = reconcile::DecodeMemory(o.controller_state, o.status);
    auto plan = o.meta.deletion_timestamp ? kind.PlanDeletion(o, world) : kind.PlanFor(o, memory, world);
    std::string who = model::DisplayName(o);
    if (!plan) {
      if (plan.error().transient()) return Fail(plan.error().message, kExitUsage);
      std::cout << who << ": invalid: " << plan.error().message << "\n";
      continue;
    }
    for (const auto& a : plan->actions) {
      std::cout << who << ": " << reconcile::Describe(a) << "\n";
      ++pending;
    }
    if (plan->blocked) {
      std::cout << who << ": blocked: " << reconcile::ReasonOf(plan->blocked->why) << ": " << plan->blocked->message
                << "\n";
    }
  }
  if (opts.words.empty()) {
    auto orphans = reconcile::PlanOrphans(world);
    if (!orphans) return Fail(orphans.error().message, kExitUsage);
    for (const auto& a : *orphans) std::cout << "orphan: " << reconcile::Describe(a) << "\n";
    pending += static_cast<int>(orphans->size());
  }
  if (pending == 0) std::cout << "nothing to do\n";
  return pending == 0 ? kExitOk : kExitFailure;
}

}  // namespace

void RegisterPlan(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<PlanOptions>();
  auto* cmd = app.add_subcommand("plan", "Show the actions the controller would take now (exit 0 none, 1 pending, 2 error)");
  cmd->add_option("object", opts->words, "[KIND [NAME...]] or KIND/NAME");
  cmd->add_flag("-A,--all-namespaces", opts->all_namespaces, "Every namespace");
  cmd->callback([&g, opts] { g.exit_code = RunPlan(g, *opts); });
}

}  // namespace keelson::cli
