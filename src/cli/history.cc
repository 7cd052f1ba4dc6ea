// keelson history KIND NAME [--revision N]

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/remote.h"
#include "cli/resolve.h"
#include "cli/table.h"
#include "manifest/document.h"

namespace keelson::cli {
namespace {

struct HistoryOptions {
  std::vector<std::string> words;
  int64_t revision = 0;
};

int RunHistory(const Globals& g, const HistoryOptions& opts) {
  if (IsRemote(g)) return NotOverTheApi("history");
  auto refs = ParseRefs(opts.words);
  if (!refs) return Fail(refs.error().message, kExitUsage);
  if (refs->size() != 1 || refs->front().name.empty()) return Fail("history takes KIND NAME", kExitUsage);
  auto session = OpenSession(g, Access::kRead);
  if (!session) return Fail(session.error().message);
  auto revs = (*session)->objects->History(refs->front().kind, g.namespace_, refs->front().name);
  if (!revs) return Fail(revs.error().message);
  if (opts.revision > 0) {
    for (const auto& r : *revs) {
      if (r.generation == opts.revision) {
        std::cout << manifest::EmitYaml(r.spec);
        return kExitOk;
      }
    }
    return Fail("revision " + std::to_string(opts.revision) + " is not among the last " +
                std::to_string(store::kRevisionsKept) + " kept");
  }
  Table t({"REVISION", "TIME", "SOURCE"});
  for (const auto& r : *revs) t.AddRow({std::to_string(r.generation), r.time, r.source});
  t.Print(std::cout);
  return kExitOk;
}

}  // namespace

void RegisterHistory(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<HistoryOptions>();
  auto* cmd = app.add_subcommand("history", "The last 10 spec revisions of an object");
  cmd->add_option("object", opts->words, "KIND NAME or KIND/NAME")->required();
  cmd->add_option("--revision", opts->revision, "Print the spec of this revision (a generation)");
  cmd->callback([&g, opts] { g.exit_code = RunHistory(g, *opts); });
}

}  // namespace keelson::cli
