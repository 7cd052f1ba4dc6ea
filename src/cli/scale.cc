// keelson scale runnerpool NAME --replicas N

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/remote.h"
#include "cli/resolve.h"
#include "admission/admission.h"

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
  if (opts.replicas < 0) return Fail("--replicas: must be >= 0", kExitUsage);
  const auto& name = refs->front().name;
  if (IsRemote(g)) {
    auto client = OpenRemote(g);
    if (!client) return Fail(client.error().message, client.error().code == ErrorCode::kInvalid ? kExitUsage : kExitFailure);
    const std::string body = nlohmann::json{{"spec", {{"replicas", opts.replicas}}}}.dump();
    auto reply = (*client)->Call("PATCH", ApiPath(model::Kind::kRunnerPool, g.namespace_, name) + "/scale", body,
                                 "application/merge-patch+json");
    if (!reply) return Fail(reply.error().message);
    if (reply->status != 200) return Fail(ApiError(*reply).message);
    std::cout << "runnerpool/" << name << " scaled\n";
    return kExitOk;
  }
  auto session = OpenSession(g, Access::kWrite);
  if (!session) return Fail(session.error().message);
  const int64_t replicas = opts.replicas;
  auto r = admission::Update(
      *(*session)->objects, model::Kind::kRunnerPool, g.namespace_, name,
      [replicas](const model::Object& o, nlohmann::json& spec, std::string*) -> Result<bool> {
        if (std::string why = model::AutoscaledScaleRefusal(o); !why.empty()) {
          return Unexpected(ErrorCode::kInvalid, why);
        }
        spec["replicas"] = replicas;
        return true;
      },
      "keelson scale");
  if (!r) return Fail(r.error().message);
  for (const auto& w : r->warnings) std::cerr << "warning: " << w << "\n";
  std::cout << "runnerpool/" << name << (r->action == store::ApplyAction::kUnchanged ? " unchanged" : " scaled") << "\n";
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
