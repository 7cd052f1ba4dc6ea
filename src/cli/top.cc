// keelson top runners|runnerpools [NAME] [-A] [--containers] [--sort-by cpu|memory] [--no-headers]

#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/remote.h"
#include "cli/resolve.h"
#include "cli/table.h"
#include "cli/workload.h"

namespace keelson::cli {
namespace {

struct TopOptions {
  std::vector<std::string> words;
  bool all_namespaces = false;
  bool containers = false;
  bool no_headers = false;
  std::string sort_by;
};

// As kubectl top prints them: CPU in millicores ("12m"), memory in Mi.
std::string Millicores(double cores) { return std::to_string(static_cast<int64_t>(std::ceil(cores * 1000))) + "m"; }
std::string Mebibytes(uint64_t bytes) { return std::to_string(bytes / (1024 * 1024)) + "Mi"; }

struct Row {
  std::string ns, object, container;
  double cores = 0;
  uint64_t memory = 0;
};

int RunTop(const Globals& g, const TopOptions& opts) {
  if (IsRemote(g)) return NotOverTheApi("top");
  auto refs = ParseRefs(opts.words);
  if (!refs) return Fail(refs.error().message, kExitUsage);
  if (refs->empty() || (refs->front().kind != model::Kind::kRunner && refs->front().kind != model::Kind::kRunnerPool)) {
    return Fail("top takes runners or runnerpools: keelson top runners|runnerpools [NAME]", kExitUsage);
  }
  if (!opts.sort_by.empty() && opts.sort_by != "cpu" && opts.sort_by != "memory") {
    return Fail("--sort-by: cpu or memory, not " + opts.sort_by, kExitUsage);
  }
  const model::Kind kind = refs->front().kind;
  auto session = OpenSession(g, Access::kRead);
  if (!session) return Fail(session.error().message);
  std::vector<model::Object> objects;
  for (const auto& r : *refs) {
    if (r.kind != kind) return Fail("top takes one kind at a time", kExitUsage);
    if (r.name.empty()) {
      store::ListOptions list{kind, std::nullopt, nullptr};
      if (!opts.all_namespaces) list.namespace_ = g.namespace_;
      auto all = (*session)->objects->ForEach(list, [&](model::Object&& o) { objects.push_back(std::move(o)); });
      if (!all) return Fail(all.error().message);
    } else {
      auto o = (*session)->objects->Get(kind, g.namespace_, r.name);
      if (!o) return Fail(o.error().message);
      if (!*o) {
        return Fail(std::string(model::Info(kind).singular) + " \"" + r.name + "\" not found in namespace " + g.namespace_);
      }
      objects.push_back(std::move(**o));
    }
  }
  if (objects.empty()) {
    std::cerr << "No resources found" << (opts.all_namespaces ? "" : " in " + g.namespace_ + " namespace") << ".\n";
    return kExitOk;
  }
  auto store_id = (*session)->objects->StoreId();
  if (!store_id) return Fail(store_id.error().message);
  auto engine = OpenEngine(g);
  if (!engine) return Fail(engine.error().message);
  auto owned = ContainersByOwner(**engine, *store_id);
  if (!owned) return Fail(owned.error().message);
  std::vector<std::string> ids;
  for (const auto& o : objects) {
    if (auto it = owned->find(o.meta.uid); it != owned->end()) {
      for (const auto& c : it->second) {
        if (c.state == "running") ids.push_back(c.id);
      }
    }
  }
  // Two samples a second apart, every container at once: CPU in use now.
  auto stats = StatsOf(**engine, ids, docker::StatsMode::kSampled);
  if (!stats) return Fail(stats.error().message);

  std::vector<Row> rows;
  for (const auto& o : objects) {
    Row total{o.meta.namespace_, o.meta.name, "", 0, 0};
    bool measured = false;
    if (auto it = owned->find(o.meta.uid); it != owned->end()) {
      for (const auto& c : it->second) {
        auto s = stats->find(c.id);
        if (s == stats->end()) continue;
        measured = true;
        total.cores += s->second.Cores();
        total.memory += s->second.WorkingSet();
        if (opts.containers) rows.push_back({o.meta.namespace_, o.meta.name, c.name, s->second.Cores(), s->second.WorkingSet()});
      }
    }
    // An object with nothing running has no metrics, as kubectl top leaves out such pods.
    if (measured && !opts.containers) rows.push_back(total);
  }
  if (opts.sort_by == "cpu") {
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.cores > b.cores; });
  } else if (opts.sort_by == "memory") {
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.memory > b.memory; });
  }
  if (rows.empty()) return Fail("metrics not available yet: no running containers");
  std::vector<std::string> headers;
  if (opts.all_namespaces) headers.push_back("NAMESPACE");
  headers.push_back("NAME");
  if (opts.containers) headers.push_back("CONTAINER");
  headers.insert(headers.end(), {"CPU(cores)", "MEMORY(bytes)"});
  Table t(headers);
  for (const auto& r : rows) {
    std::vector<std::string> cells;
    if (opts.all_namespaces) cells.push_back(r.ns);
    cells.push_back(r.object);
    if (opts.containers) cells.push_back(r.container);
    cells.insert(cells.end(), {Millicores(r.cores), Mebibytes(r.memory)});
    t.AddRow(cells);
  }
  t.Print(std::cout, !opts.no_headers);
  return kExitOk;
}

}  // namespace

void RegisterTop(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<TopOptions>();
  auto* cmd = app.add_subcommand("top", "CPU and memory in use now, from the engine's stats");
  cmd->add_option("kind", opts->words, "runners or runnerpools [NAME...]")->required();
  cmd->add_flag("-A,--all-namespaces", opts->all_namespaces, "Objects of every namespace");
  cmd->add_flag("--containers", opts->containers, "A row per container (a pool's replicas)");
  cmd->add_option("--sort-by", opts->sort_by, "cpu or memory: the largest first");
  cmd->add_flag("--no-headers", opts->no_headers, "Without the header line");
  cmd->callback([&g, opts] { g.exit_code = RunTop(g, *opts); });
}

}  // namespace keelson::cli
