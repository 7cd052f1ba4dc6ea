// keelson serve [--api-listen ADDR] [--api-tls-cert-file F --api-tls-key-file F]
//
// The Kubernetes-compatible API alone, without the reconcile loop: for a
// host whose controller runs as its own process (or is stopped), and for
// measuring the API by itself. Runs until SIGINT or SIGTERM.

#include <memory>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli/api_endpoint.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/remote.h"

namespace keelson::cli {
namespace {

struct ServeOptions {
  std::string api_listen = kDefaultApiListen;
  std::string cert_file, key_file;
  double rate = 500;
  std::string files_dir;
};

int RunServe(const Globals& g, const ServeOptions& opts) {
  if (IsRemote(g)) return NotOverTheApi("serve");
  if (opts.api_listen.empty() || opts.api_listen == "off") return Fail("--api-listen: serve needs an address", kExitUsage);
  auto session = OpenSession(g, Access::kCreate);
  if (!session) return Fail(session.error().message);
  RealClock clock;
  if (opts.rate < 0) return Fail("--api-rate: must be >= 0", kExitUsage);
  ApiEndpoint api(g, clock);
  api.LimitRate(opts.rate);
  api.ResolveFilesIn(opts.files_dir);
  if (auto r = api.Start(opts.api_listen, *(*session)->objects, opts.cert_file, opts.key_file); !r) {
    return Fail(r.error().message, r.error().code == ErrorCode::kInvalid ? kExitUsage : kExitFailure);
  }
  InstallSignalHandlers();
  while (SleepUnlessInterrupted(200)) {
  }
  spdlog::info("serve: stopping");
  return kExitOk;
}

}  // namespace

void RegisterServe(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<ServeOptions>();
  auto* cmd = app.add_subcommand("serve", "Serve the Kubernetes-compatible API only (no reconciling) until SIGINT/SIGTERM");
  cmd->add_option("--api-listen", opts->api_listen, "Address for the API, HTTPS (default 127.0.0.1:6443)");
  cmd->add_option("--api-tls-cert-file", opts->cert_file,
                  "The API's serving certificate (PEM), instead of one issued from the store's CA at each start");
  cmd->add_option("--api-tls-key-file", opts->key_file, "Its private key (PEM)");
  cmd->add_option("--api-files-dir", opts->files_dir,
                  "Where relative file paths in specs sent over the API resolve (they must stay inside it)");
  cmd->add_option("--api-rate", opts->rate, "Requests a second each user may make, twice that at once (default 500; 0: no limit)");
  cmd->callback([&g, opts] { g.exit_code = RunServe(g, *opts); });
}

}  // namespace keelson::cli
