// keelson convert: a compose project as keelson manifests (compose/convert.h).

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "compose/convert.h"
#include "manifest/document.h"

namespace keelson::cli {
namespace {

namespace fs = std::filesystem;

struct ConvertOptions {
  std::vector<std::string> files;
  std::string project_name;
  std::vector<std::string> profiles;
  std::string output = "-";
  bool allow_unsupported = false;
};

std::optional<std::string> FromEnvironment(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

// One file per object in `dir`: KIND-NAME.yaml.
bool WriteFiles(const std::string& dir, const std::vector<nlohmann::json>& objects) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    std::cerr << "error: " << dir << ": " << ec.message() << "\n";
    return false;
  }
  for (const auto& o : objects) {
    std::string kind = o["kind"].get<std::string>();
    for (auto& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const fs::path path = fs::path(dir) / (kind + "-" + o["metadata"]["name"].get<std::string>() + ".yaml");
    std::ofstream out(path);
    out << manifest::EmitYaml(o);
    if (!out) {
      std::cerr << "error: " << path.string() << ": cannot be written\n";
      return false;
    }
    std::cout << path.string() << "\n";
  }
  return true;
}

int RunConvert(const ConvertOptions& opts) {
  std::vector<std::string> files = opts.files;
  if (files.empty()) {
    // As docker compose looks for its file.
    for (const char* name : {"compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"}) {
      if (fs::exists(name)) {
        files.push_back(name);
        break;
      }
    }
    if (files.empty()) return Fail("no compose file given (-f) and none in the current directory", kExitUsage);
  }
  compose::LoadOptions load{files, opts.project_name, opts.profiles, FromEnvironment};
  auto project = compose::LoadProject(load);
  if (!project) return Fail(project.error().message);
  std::error_code ec;
  const std::string base = opts.output == "-" ? fs::current_path(ec).string() : fs::absolute(opts.output, ec).string();
  auto conversion = compose::Convert(*project, base, FromEnvironment);
  for (const auto& e : conversion.errors) std::cerr << e.ToString() << "\n";
  for (const auto& u : conversion.unsupported) std::cerr << u.ToString() << "\n";
  if (!conversion.errors.empty()) return kExitFailure;
  if (!conversion.unsupported.empty() && !opts.allow_unsupported) {
    std::cerr << conversion.unsupported.size()
              << " field(s) do not carry over; nothing was written (--allow-unsupported converts the rest)\n";
    return kExitFailure;
  }
  if (opts.output != "-") return WriteFiles(opts.output, conversion.objects) ? kExitOk : kExitFailure;
  bool first = true;
  for (const auto& o : conversion.objects) {
    std::cout << (first ? "" : "---\n") << manifest::EmitYaml(o);
    first = false;
  }
  return kExitOk;
}

}  // namespace

void RegisterConvert(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<ConvertOptions>();
  auto* cmd = app.add_subcommand("convert", "Convert a docker compose project into keelson manifests");
  cmd->add_option("-f,--file", opts->files, "Compose file (repeat to merge, as docker compose -f)");
  cmd->add_option("-p,--project-name", opts->project_name, "Project name (default: COMPOSE_PROJECT_NAME, name:, the directory)");
  cmd->add_option("--profile", opts->profiles, "Activate a profile (repeatable; COMPOSE_PROFILES too)");
  cmd->add_option("-o,--output", opts->output, "Directory to write one file per object into, or - for standard output");
  cmd->add_flag("--allow-unsupported", opts->allow_unsupported,
                "Convert even when some fields do not carry over (each is still said)");
  cmd->callback([&g, opts] { g.exit_code = RunConvert(*opts); });
}

}  // namespace keelson::cli
