// keelson version

#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "keelson_config.h"
#include "model/kind.h"

namespace keelson::cli {

void RegisterVersion(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("version", "Print the client version and API group");
  cmd->callback([&g] {
    std::cout << "Client Version: " << KEELSON_VERSION << "\n"
              << "Manifest API:   " << model::kApiVersion << "\n";
    g.exit_code = kExitOk;
  });
}

}  // namespace keelson::cli
