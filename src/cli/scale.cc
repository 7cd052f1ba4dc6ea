// keelson scale runnerpool NAME --replicas N

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/resolve.h"
#include "manifest/crds.h"

namespace keelson::cli {
namespace {

struct ScaleOptions {
  std::vector<std::string> words;
  int64_t replicas = -1;
};

int RunScale(const Globals& g, const ScaleOptions& opts) {
  auto refs = ParseRefs(opts.words);
  if (!refs) return Fail(refs.error().message, kExitUsage);
  if (refs->size() != 1 || refs->front().name.empty() || refs->front().kind != model::Kind::kRunnerPool) {
    return Fail("scale takes one runnerpool: keelson scale runnerpool NAME --replicas N", kExitUsage);
  }
  auto session = OpenSession(g);
  if (!session) return Fail(session.error().message);
  const auto& name = refs->front().name;
  auto o = (*session)->objects->Get(model::Kind::kRunnerPool, g.namespace_, name);
  if (!o) return Fail(o.error().message);
  if (!*o) return Fail("runnerpool \"" + name + "\" not found in namespace " + g.namespace_);
  model::Object scaled = **o;
  scaled.spec["replicas"] = opts.replicas;
  // The CRD schema stays the one judge of what a spec may hold.
  auto errors = manifest::CrdSet::Builtin().For(model::Kind::kRunnerPool).Validate(model::ToJson(scaled));
  if (!errors.empty()) {
    return Fail("--replicas: " + errors.front().message, kExitUsage);
  }
  auto r = (*session)->objects->UpdateSpec(model::Kind::kRunnerPool, g.namespace_, name, scaled.spec, "keelson scale");
  if (!r) return Fail(r.error().message);
  std::cout << "runnerpool/" << name << (*r == store::ApplyAction::kUnchanged ? " unchanged" : " scaled") << "\n";
  return kExitOk;
}

}  // namespace

void RegisterScale(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<ScaleOptions>();
  auto* cmd = app.add_subcommand("scale", "Set the replicas of a RunnerPool");
  cmd->add_option("object", opts->words, "runnerpool NAME or runnerpool/NAME")->required();
  cmd->add_option("--replicas", opts->replicas, "Desired number of replicas")->required();
  cmd->callback([&g, opts] { g.exit_code = RunScale(g, *opts); });
}

}  // namespace keelson::cli
