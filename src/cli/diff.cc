// keelson diff -f PATH: what apply would change, as a unified diff.
// Like kubectl, it writes the live and the merged objects to two directories
// and runs `diff -u -N` over them (KEELSON_EXTERNAL_DIFF overrides the tool).

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/remote.h"
#include "cli/manifests.h"
#include "manifest/document.h"

namespace keelson::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct DiffOptions {
  std::vector<std::string> files;
  bool recursive = false;
};

// The part of an object that apply sets: what a diff should show.
json Applied(const model::Object& o) {
  json meta = {{"name", o.meta.name}, {"namespace", o.meta.namespace_}};
  if (!o.meta.labels.empty()) meta["labels"] = o.meta.labels;
  if (!o.meta.annotations.empty()) meta["annotations"] = o.meta.annotations;
  return {{"apiVersion", model::kApiVersion}, {"kind", model::Info(o.kind).name},
          {"metadata", std::move(meta)}, {"spec", o.spec}};
}

bool WriteFile(const fs::path& p, const std::string& text) {
  std::ofstream f(p);
  f << text;
  return static_cast<bool>(f);
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int RunDiff(const Globals& g, const DiffOptions& opts) {
  auto loaded = LoadOrReport(opts.files, opts.recursive, g.namespace_, g.namespace_given);
  if (!loaded) return kExitUsage;
  // The stored objects: from the store file, or over the API.
  auto reading = OpenReading(g, Access::kCreate);
  if (!reading) return Fail(reading.error().message, kExitUsage);
  ObjectReader* reader = reading->reader.get();
  char tmpl[] = "/tmp/keelson-diff-XXXXXX";
  if (!mkdtemp(tmpl)) return Fail("diff: cannot create a temporary directory", kExitUsage);
  fs::path root(tmpl), live = root / "LIVE", merged = root / "MERGED";
  fs::create_directories(live);
  fs::create_directories(merged);
  for (const auto& lo : *loaded) {
    const auto& o = lo.object;
    std::string file = std::string(model::Info(o.kind).name) + "." + o.meta.namespace_ + "." + o.meta.name + ".yaml";
    auto stored = reader->Get(o.kind, o.meta.namespace_, o.meta.name);
    if (!stored) return Fail(stored.error().message, kExitUsage);
    if (*stored && !WriteFile(live / file, manifest::EmitYaml(Applied(**stored)))) {
      return Fail("diff: cannot write " + (live / file).string(), kExitUsage);
    }
    if (!WriteFile(merged / file, manifest::EmitYaml(Applied(o)))) {
      return Fail("diff: cannot write " + (merged / file).string(), kExitUsage);
    }
  }
  const char* tool = std::getenv("KEELSON_EXTERNAL_DIFF");
  std::string cmd = std::string(tool && *tool ? tool : "diff -u -N") + " " +
                    ShellQuote(live.string()) + " " + ShellQuote(merged.string());
  std::cout.flush();
  int status = std::system(cmd.c_str());
  std::error_code ec;
  fs::remove_all(root, ec);
  if (status == -1 || !WIFEXITED(status)) return Fail("diff: could not run " + cmd, kExitUsage);
  int rc = WEXITSTATUS(status);
  return rc == 0 ? kExitOk : rc == 1 ? kExitFailure : kExitUsage;
}

}  // namespace

void RegisterDiff(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<DiffOptions>();
  auto* cmd = app.add_subcommand("diff", "Unified diff of the files' objects against the stored ones (exit 1: differences)");
  cmd->add_option("-f,--filename", opts->files, "Files or directories ('-' for stdin)")->required();
  cmd->add_flag("-R,--recursive", opts->recursive, "Read directories recursively");
  cmd->callback([&g, opts] { g.exit_code = RunDiff(g, *opts); });
}

}  // namespace keelson::cli
