// keelson version [--client]

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "docker/http_engine.h"
#include "keelson_config.h"
#include "model/kind.h"

namespace keelson::cli {
namespace {

int RunVersion(const Globals& g, bool client_only) {
  std::cout << "Client Version:   " << KEELSON_VERSION << "\n"
            << "Manifest API:     " << model::kApiVersion << "\n"
            << "Engine APIs:      " << docker::kMinApiVersion << " to " << docker::kMaxApiVersion << "\n";
  if (client_only) return kExitOk;
  auto engine = OpenEngine(g);
  if (!engine) return Fail(engine.error().message, engine.error().code == ErrorCode::kInvalid ? kExitUsage : kExitFailure);
  auto v = (*engine)->Version();
  if (!v) return Fail(v.error().message);
  std::cout << "Engine Version:   " << v->version << " (" << v->os << "/" << v->arch << ")\n"
            << "Engine API:       " << v->api_version << " (minimum " << v->min_api_version << ")\n"
            << "Negotiated API:   " << v->negotiated << "\n";
  return kExitOk;
}

}  // namespace

void RegisterVersion(CLI::App& app, Globals& g) {
  auto client_only = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("version", "Client and engine versions, and the negotiated API version");
  cmd->add_flag("--client", *client_only, "Client only: do not contact the engine");
  cmd->callback([&g, client_only] { g.exit_code = RunVersion(g, *client_only); });
}

}  // namespace keelson::cli
