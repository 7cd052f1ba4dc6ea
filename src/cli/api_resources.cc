// keelson api-resources [-o wide|name] [--no-headers] [--api-group G] [--namespaced=true|false] [--sort-by name|kind]
//
// keelson's kinds as `kubectl api-resources` lists a cluster's: NAME,
// SHORTNAMES, APIVERSION, NAMESPACED, KIND (and VERBS with -o wide), from the
// same kind table the API's discovery serves.

#include <algorithm>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/table.h"
#include "model/kind.h"

namespace keelson::cli {
namespace {

struct ApiResourcesOptions {
  std::string output;
  bool no_headers = false;
  std::string api_group;
  std::string namespaced = "";  // "", "true" or "false"
  std::string sort_by;
};

// The verbs the API serves for every kind (api/api_server.cc), as discovery lists them.
constexpr const char* kVerbs = "[create delete deletecollection get list patch update watch]";

int RunApiResources(const ApiResourcesOptions& opts) {
  if (!opts.output.empty() && opts.output != "wide" && opts.output != "name") {
    return Fail("--output: want wide or name, got " + opts.output, kExitUsage);
  }
  if (!opts.namespaced.empty() && opts.namespaced != "true" && opts.namespaced != "false") {
    return Fail("--namespaced: want true or false, got " + opts.namespaced, kExitUsage);
  }
  if (!opts.sort_by.empty() && opts.sort_by != "name" && opts.sort_by != "kind") {
    return Fail("--sort-by: want name or kind, got " + opts.sort_by, kExitUsage);
  }
  std::vector<const model::KindInfo*> kinds;
  // Every keelson kind is namespaced and in keelson.dev.
  const bool shown = (opts.api_group.empty() || opts.api_group == model::kGroup) && opts.namespaced != "false";
  if (shown) {
    for (const auto& k : model::AllKinds()) kinds.push_back(&k);
  }
  // kubectl lists by name within a group; --sort-by kind orders by kind.
  std::sort(kinds.begin(), kinds.end(), [&](const model::KindInfo* a, const model::KindInfo* b) {
    return opts.sort_by == "kind" ? a->name < b->name : a->plural < b->plural;
  });
  if (opts.output == "name") {
    for (const auto* k : kinds) std::cout << k->plural << "." << model::kGroup << "\n";
    return kExitOk;
  }
  std::vector<std::string> headers = {"NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"};
  if (opts.output == "wide") headers.push_back("VERBS");
  Table table(headers);
  for (const auto* k : kinds) {
    std::vector<std::string> row = {std::string(k->plural), std::string(k->short_name), std::string(model::kApiVersion),
                                    "true", std::string(k->name)};
    if (opts.output == "wide") row.push_back(kVerbs);
    table.AddRow(std::move(row));
  }
  table.Print(std::cout, !opts.no_headers);
  return kExitOk;
}

}  // namespace

void RegisterApiResources(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<ApiResourcesOptions>();
  auto* cmd = app.add_subcommand("api-resources", "List the kinds keelson serves, as kubectl api-resources does");
  cmd->add_option("-o,--output", opts->output, "wide (with VERBS) or name (PLURAL.GROUP)");
  cmd->add_flag("--no-headers", opts->no_headers, "No header line");
  cmd->add_option("--api-group", opts->api_group, "Only the kinds of this group (keelson.dev)");
  cmd->add_option("--namespaced", opts->namespaced, "true or false: only namespaced (or cluster-wide) kinds");
  cmd->add_option("--sort-by", opts->sort_by, "name or kind");
  cmd->callback([&g, opts] { g.exit_code = RunApiResources(*opts); });
}

}  // namespace keelson::cli
