// keelson: argv -> command table -> exit code. The only place real objects are wired.

#include <iostream>
#include <set>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "git/fetch_helper.h"
#include "cli/context.h"
#include "cli/logging.h"
#include "util/names.h"

namespace {

// kubectl's answer to a verb it does not have, instead of CLI11's "A
// subcommand is required": the first word that is not a global option (or
// its value) must be a command.
bool UnknownCommand(const CLI::App& app, int argc, char** argv) {
  static const std::set<std::string> kValued = {"--db",         "--docker-host", "-n",       "--namespace",
                                                "--log-level",  "--log-format",  "--server", "--token",
                                                "--kubeconfig", "--context",     "--certificate-authority"};
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--") return false;
    if (kValued.count(word)) {
      ++i;
      continue;
    }
    if (word.empty() || word[0] == '-') continue;
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      if (sub->get_name() == word) return false;
    }
    std::string names;
    for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    std::cerr << "error: unknown command \"" << word << "\" for \"keelson\"\n"
              << "commands: " << names << "\nRun 'keelson --help' for usage.\n";
    return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace keelson::cli;  // NOLINT: main is the wiring point
  Globals g;
  CLI::App app{"keelson: declarative, Kubernetes-style desired state for the Docker Engine"};
  app.require_subcommand(1);
  app.fallthrough();
  std::string db;
  app.add_option("--db", db, "State database (env KEELSON_DB)");
  app.add_option("--docker-host", g.docker_host,
                 "Engine URL (default: DOCKER_HOST, then the docker CLI's current context, then the default socket)");
  auto* namespace_option = app.add_option("-n,--namespace", g.namespace_, "Namespace (default \"default\")");
  app.add_option("--log-level", g.log_level, "trace, debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--log-format", g.log_format, "text or json")->check(CLI::IsMember({"text", "json"}));
  app.add_option("--kubeconfig", g.kubeconfig, "Talk to a keelson API as this kubeconfig says, not to the store file");
  app.add_option("--context", g.context, "The kubeconfig context (default: its current one)");
  app.add_option("--server", g.server, "Talk to the keelson API at this URL (https://HOST:PORT), not to the store file");
  app.add_option("--token", g.token, "Bearer token for --server");
  app.add_option("--certificate-authority", g.certificate_authority, "CA certificate file for --server");
  app.parse_complete_callback([&] {
    g.db_path = db.empty() ? DefaultDbPath() : db;
    g.namespace_given = namespace_option->count() > 0;
    ConfigureLogging(g.log_level, g.log_format);
    if (std::string err = keelson::CheckDns1123Label(g.namespace_); !err.empty()) {
      throw CLI::ValidationError("--namespace", err);
    }
  });

  RegisterApply(app, g);
  RegisterGet(app, g);
  RegisterDescribe(app, g);
  RegisterDelete(app, g);
  RegisterDiff(app, g);
  RegisterScale(app, g);
  RegisterWait(app, g);
  RegisterEvents(app, g);
  RegisterHistory(app, g);
  RegisterController(app, g);
  RegisterPlan(app, g);
  RegisterRollout(app, g);
  RegisterVersion(app, g);
  RegisterCompletion(app, g);
  RegisterKubeconfig(app, g);
  RegisterServe(app, g);
  RegisterExplain(app, g);
  RegisterConvert(app, g);
  RegisterApiResources(app, g);
  RegisterLabel(app, g);
  RegisterLogs(app, g);
  RegisterExec(app, g);
  RegisterTop(app, g);
  RegisterSync(app, g);
  RegisterPatch(app, g);
  RegisterEdit(app, g);

  if (argc >= 2 && std::string(argv[1]) == "__git-fetch") return keelson::git::ServeFetchHelper(std::cin, std::cout);
  if (argc >= 2 && std::string(argv[1]) == "__complete") {
    return RunHiddenComplete(app, std::vector<std::string>(argv + 2, argv + argc));
  }
  if (UnknownCommand(app, argc, argv)) return kExitUsage;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  return g.exit_code;
}
