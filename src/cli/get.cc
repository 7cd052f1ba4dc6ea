// keelson get KIND [NAME...] [-l SEL] [-A] [-o table|wide|yaml|json|name]

#include <iostream>
#include <map>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/resolve.h"
#include "cli/table.h"
#include "manifest/document.h"

namespace keelson::cli {
namespace {

using nlohmann::json;

struct GetOptions {
  std::vector<std::string> words;
  std::string selector;
  bool all_namespaces = false;
  std::string output = "table";
};

struct Query {
  std::vector<model::Object> found;
  bool single = false;  ///< exactly one object was named
  bool missing = false;
};

Result<Query> Collect(store::ObjectStore& objects, const Globals& g, const GetOptions& opts,
                      const model::Selector& sel) {
  Query q;
  std::optional<std::string> ns;
  if (!opts.all_namespaces) ns = g.namespace_;
  if (opts.words.size() == 1 && opts.words[0] == "all") {
    auto all = objects.List({std::nullopt, ns, &sel});
    if (!all) return Unexpected(all.error());
    q.found = std::move(*all);
    return q;
  }
  auto refs = ParseRefs(opts.words);
  if (!refs) return Unexpected(refs.error());
  q.single = refs->size() == 1 && !refs->front().name.empty();
  for (const auto& ref : *refs) {
    if (ref.name.empty()) {
      auto list = objects.List({ref.kind, ns, &sel});
      if (!list) return Unexpected(list.error());
      q.found.insert(q.found.end(), list->begin(), list->end());
      continue;
    }
    auto o = objects.Get(ref.kind, g.namespace_, ref.name);
    if (!o) return Unexpected(o.error());
    if (!*o) {
      std::cerr << "error: " << model::Info(ref.kind).singular << " \"" << ref.name
                << "\" not found in namespace " << g.namespace_ << "\n";
      q.missing = true;
      continue;
    }
    q.found.push_back(std::move(**o));
  }
  return q;
}

json AsDocument(const Query& q) {
  if (q.single && q.found.size() == 1) return model::ToJson(q.found[0]);
  json items = json::array();
  for (const auto& o : q.found) items.push_back(model::ToJson(o));
  return {{"apiVersion", model::kApiVersion}, {"kind", "List"}, {"items", std::move(items)}};
}

void PrintTables(const Query& q, const GetOptions& opts) {
  std::map<model::Kind, std::vector<model::Object>> by_kind;
  for (const auto& o : q.found) by_kind[o.kind].push_back(o);
  TableOptions t{opts.output == "wide", opts.all_namespaces, by_kind.size() > 1 || opts.words[0] == "all"};
  auto now = std::chrono::system_clock::now();
  bool first = true;
  for (const auto& info : model::AllKinds()) {
    auto it = by_kind.find(info.kind);
    if (it == by_kind.end()) continue;
    if (!first) std::cout << "\n";
    first = false;
    ObjectTable(info.kind, it->second, t, now).Print(std::cout);
  }
}

int RunGet(const Globals& g, const GetOptions& opts) {
  auto sel = model::Selector::Parse(opts.selector);
  if (!sel) return Fail(sel.error().message, kExitUsage);
  if (opts.words.empty()) return Fail("name a kind, e.g. keelson get runners", kExitUsage);
  if (opts.words[0] != "all") {
    if (auto refs = ParseRefs(opts.words); !refs) return Fail(refs.error().message, kExitUsage);
  }
  auto session = OpenSession(g);
  if (!session) return Fail(session.error().message);
  auto q = Collect(*(*session)->objects, g, opts, *sel);
  if (!q) return Fail(q.error().message);
  if (opts.output == "json") {
    std::cout << AsDocument(*q).dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else if (opts.output == "yaml") {
    std::cout << manifest::EmitYaml(AsDocument(*q));
  } else if (opts.output == "name") {
    for (const auto& o : q->found) std::cout << model::DisplayName(o) << "\n";
  } else if (q->found.empty()) {
    if (!q->missing) {
      std::cerr << "No objects found" << (opts.all_namespaces ? "" : " in namespace " + g.namespace_) << ".\n";
    }
  } else {
    PrintTables(*q, opts);
  }
  return q->missing ? kExitFailure : kExitOk;
}

}  // namespace

void RegisterGet(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<GetOptions>();
  auto* cmd = app.add_subcommand("get", "List or show objects");
  cmd->add_option("kind", opts->words, "KIND [NAME...], KIND/NAME..., or all")->required();
  cmd->add_option("-l,--selector", opts->selector, "Label selector, e.g. team=ci,tier!=dev");
  cmd->add_flag("-A,--all-namespaces", opts->all_namespaces, "Objects of every namespace");
  cmd->add_option("-o,--output", opts->output, "table, wide, yaml, json or name")
      ->check(CLI::IsMember({"table", "wide", "yaml", "json", "name"}));
  cmd->callback([&g, opts] { g.exit_code = RunGet(g, *opts); });
}

}  // namespace keelson::cli
