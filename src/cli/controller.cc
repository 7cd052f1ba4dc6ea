// keelson controller [--once] [--timeout D] [--workers N] [--resync D] [--event-ttl D] [--listen ADDR]
//                    [--api-listen ADDR] [--git-max-size QUANTITY]

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli/api_endpoint.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/remote.h"
#include "cli/terminal.h"
#include "controller/manager.h"
#include "docker/http_engine.h"
#include "server/http_server.h"
#include "util/units.h"

namespace keelson::cli {
namespace {

struct ControllerOptions {
  bool once = false;
  std::string timeout = "5m";
  int workers = 4;
  std::string resync = "30s";
  std::string event_ttl = "1h";
  std::string listen = "127.0.0.1:9464";
  std::string api_listen;  ///< "" : the default (127.0.0.1:6443, or none with --once)
  std::string api_tls_cert_file;  ///< a serving certificate of the user's own (PEM), instead of one from the store's CA
  std::string api_tls_key_file;
  double api_rate = 500;
  std::string api_files_dir;
  std::string git_max_size = "1Gi";
};


/// How long in-flight work may take to finish after SIGTERM.
constexpr std::chrono::seconds kStopGrace{10};

// /healthz, /readyz and /metrics on `listen` ("" or "off": none), bounded
// (server/http_server.h) so that no client load keeps /healthz from answering.
class Endpoints {
 public:
  explicit Endpoints(controller::Manager& m) : manager_(m), server_(EndpointLimits()) {}
  Result<void> Start(const std::string& listen) {
    if (listen.empty() || listen == "off") return {};
    server_.Route("GET", "/healthz", [](const server::Request&) { return server::Response{200, kText, "ok\n", {}}; });
    server_.Route("GET", "/readyz", [this](const server::Request&) {
      std::string why = manager_.NotReadyReason();
      return why.empty() ? server::Response{200, kText, "ok\n", {}} : server::Response{503, kText, why + "\n", {}};
    });
    server_.Route("GET", "/metrics", [this](const server::Request&) {
      return server::Response{200, "text/plain; version=0.0.4", manager_.RenderMetrics(), {}};
    });
    auto r = server_.Start(listen);
    if (!r && r.error().code == ErrorCode::kInvalid) return Unexpected(ErrorCode::kInvalid, "--listen: " + r.error().message);
    if (!r) return Unexpected(r.error().code, "--listen: " + r.error().message + " (another keelson controller may be serving it)");
    return {};
  }

 private:
  static constexpr const char* kText = "text/plain; charset=utf-8";
  // GETs only: no body is wanted at all. Connections leave room in the
  // open-file limit for the store and the engine.
  static server::Limits EndpointLimits() {
    server::Limits l;
    l.max_body = 64 << 10;
    l.max_header = 16 << 10;
    const unsigned files = server::RaiseOpenFileLimit();
    l.max_connections = std::min(1000u, files > 200 ? files - 128 : 64u);
    return l;
  }
  controller::Manager& manager_;
  server::HttpServer server_;
};

// --once: every object Ready? Those that are not, with their reason.
struct Readiness {
  size_t total = 0;
  std::vector<std::string> waiting;  ///< "default/runner/web (Reason: message)"
  std::vector<std::string> reasons;  ///< "runner/web (Reason)": the short form, for the status line
};
Result<Readiness> NotReady(store::ObjectStore& objects) {
  auto list = objects.List({});
  if (!list) return Unexpected(list.error());
  Readiness out;
  out.total = list->size();
  for (const auto& o : *list) {
    if (model::IsReady(o)) continue;
    const auto* c = model::FindCondition(o, "Ready");
    std::string why = c ? c->value("reason", "") + ": " + c->value("message", "") : "not reconciled yet";
    out.waiting.push_back(o.meta.namespace_ + "/" + model::DisplayName(o) + " (" + why + ")");
    out.reasons.push_back(model::DisplayName(o) + " (" + (c ? c->value("reason", "") : "Pending") + ")");
  }
  return out;
}

// --once's progress: on a terminal, a line redrawn in place (objects Ready,
// what waits and why, pulls and builds under way); otherwise a plain line
// each time the count of Ready objects or what waits changes.
class OnceProgress {
 public:
  explicit OnceProgress(const controller::Manager& m) : manager_(m) {}
  void Note(const Readiness& r) { readiness_ = r; }
  // What waits, named up to kNamed: a line stays short however many objects
  // wait (the plain lines go to CI logs, once per change).
  static constexpr size_t kNamed = 5;
  std::string Waiting() const {
    std::string out;
    const auto& r = readiness_.reasons;
    for (size_t i = 0; i < r.size() && i < kNamed; ++i) out += (i ? ", " : "") + r[i];
    if (r.size() > kNamed) out += " and " + std::to_string(r.size() - kNamed) + " more";
    return out;
  }
  void Tick() {
    const size_t ready = readiness_.total - readiness_.waiting.size();
    const std::string count = std::to_string(ready) + " of " + std::to_string(readiness_.total) + " Ready";
    std::string text = "converging: " + count;
    if (term::StatusLine::Get().active()) {
      for (const auto& line : manager_.progress().Lines()) text += " · " + line;
      if (!readiness_.reasons.empty()) text += " · waiting: " + Waiting();
      term::StatusLine::Get().Show(text);
      return;
    }
    const std::string waiting = readiness_.reasons.empty() ? "" : "; waiting: " + Waiting();
    if (count + waiting == last_) return;
    last_ = count + waiting;
    term::StatusLine::Get().Print("progress: " + count + waiting + "\n");
  }
  void Done() { term::StatusLine::Get().Done(); }

 private:
  const controller::Manager& manager_;
  Readiness readiness_;
  std::string last_;
};

int RunController(const Globals& g, const ControllerOptions& opts) {
  if (IsRemote(g)) return NotOverTheApi("controller");
  auto timeout = ParseDuration(opts.timeout);
  if (!timeout || timeout->count() < 0) return Fail("--timeout: not a non-negative duration: " + opts.timeout, kExitUsage);
  auto resync = ParseDuration(opts.resync);
  if (!resync || resync->count() <= 0) return Fail("--resync: not a positive duration: " + opts.resync, kExitUsage);
  if (opts.workers < 1 || opts.workers > 64) return Fail("--workers: must be 1..64", kExitUsage);
  auto git_max = ParseMemoryQuantity(opts.git_max_size);
  if (!git_max) return Fail("--git-max-size: not a quantity of bytes: " + opts.git_max_size, kExitUsage);
  auto session = OpenSession(g, Access::kCreate);
  if (!session) return Fail(session.error().message);
  auto engine = OpenEngine(g);
  if (!engine) return Fail(engine.error().message);
  RealClock clock;
  controller::ManagerOptions mo;
  mo.open_store = controller::StoreAt(g.db_path, clock);
  mo.source_dir = g.db_path + ".sources";
  std::error_code self_ec;
  mo.fetch_helper = std::filesystem::read_symlink("/proc/self/exe", self_ec).string();
  mo.git_limits.max_bytes = static_cast<uint64_t>(*git_max);
  mo.workers = opts.workers;
  mo.resync = std::chrono::duration_cast<std::chrono::milliseconds>(*resync);
  auto ttl = ParseDuration(opts.event_ttl);
  if (!ttl || ttl->count() <= 0) return Fail("--event-ttl: not a positive duration: " + opts.event_ttl, kExitUsage);
  mo.event_ttl = std::chrono::duration_cast<std::chrono::milliseconds>(*ttl);
  controller::Manager manager(**engine, clock, mo);
  auto* http = dynamic_cast<docker::HttpEngine*>(engine->get());
  if (http) manager.metrics().SetEngineRequests([http] { return http->Requests(); });
  Endpoints endpoints(manager);
  if (auto r = endpoints.Start(opts.listen); !r) {
    return Fail(r.error().message, r.error().code == ErrorCode::kInvalid ? kExitUsage : kExitFailure);
  }
  if (opts.api_rate < 0) return Fail("--api-rate: must be >= 0", kExitUsage);
  ApiEndpoint api(g, clock);
  api.LimitRate(opts.api_rate);
  api.ResolveFilesIn(opts.api_files_dir);
  api.OnWrite([&manager] { manager.NudgeStoreWatcher(); });  // kubectl and webhooks act at once, not at the next poll
  api.OnJob([&manager](const std::string& pool, const std::string& state, double seconds) {
    if (state == "in_progress") manager.metrics().JobPickedUp(pool, seconds);
    if (state == "completed") manager.metrics().JobFinished(pool, seconds);
  });
  const std::string api_listen = !opts.api_listen.empty() ? opts.api_listen : opts.once ? "off" : kDefaultApiListen;
  if (auto r = api.Start(api_listen, *(*session)->objects, opts.api_tls_cert_file, opts.api_tls_key_file); !r) {
    return Fail(r.error().message, r.error().code == ErrorCode::kInvalid ? kExitUsage : kExitFailure);
  }
  InstallSignalHandlers();
  Result<void> result;
  std::atomic<bool> finished{false};
  std::thread runner([&] {
    result = manager.Run();
    finished = true;
  });
  auto deadline = std::chrono::steady_clock::now() + *timeout;
  int code = kExitOk;
  // Run ends by itself on a lost lease or a store fault: exit then, non-zero,
  // so that a supervisor (Restart=always) starts a fresh standby.
  // --once reads the store again only when it changed (a cheap look every
  // 20 ms: the process ends soon after the last status write).
  int64_t seen_version = -1;
  OnceProgress progress(manager);
  for (int tick = 0; !finished && SleepUnlessInterrupted(opts.once ? 20 : 200); ++tick) {
    if (!opts.once) continue;
    if (tick % 10 == 0 && seen_version >= 0) progress.Tick();
    if (manager.Ready()) {
      auto version = (*session)->db->DataVersion();
      const bool past = std::chrono::steady_clock::now() >= deadline;
      if (version && *version == seen_version && !past) continue;
      if (version) seen_version = *version;
      auto pending = NotReady(*(*session)->objects);
      if (pending) progress.Note(*pending);
      if (pending && pending->waiting.empty()) break;
      if (pending && std::chrono::steady_clock::now() >= deadline) {
        progress.Done();
        for (const auto& p : pending->waiting) std::cerr << "not ready: " << p << "\n";
        code = kExitFailure;
        break;
      }
    } else if (std::chrono::steady_clock::now() >= deadline) {
      std::cerr << "not ready: " << manager.NotReadyReason() << "\n";
      code = kExitFailure;
      break;
    }
  }
  progress.Done();
  spdlog::info("controller: stopping");
  manager.Stop();
  // In-flight reconciles get kStopGrace to finish; engine calls still
  // running then (a hung engine, a long pull) are aborted.
  const auto grace_end = std::chrono::steady_clock::now() + kStopGrace;
  while (!finished && std::chrono::steady_clock::now() < grace_end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!finished && http) {
    spdlog::warn("controller: engine calls still running after {}s; aborting them", kStopGrace.count());
    http->Shutdown();
  }
  runner.join();
  if (!result) return Fail(result.error().message);
  if (opts.once && code == kExitOk) std::cout << "converged: every object is Ready\n";
  return code;
}

}  // namespace

void RegisterController(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<ControllerOptions>();
  auto* cmd = app.add_subcommand("controller", "Run the reconcile loop until SIGINT/SIGTERM");
  cmd->add_flag("--once", opts->once, "Converge every object, then exit 0 if all are Ready, 1 if not within --timeout");
  cmd->add_option("--timeout", opts->timeout, "With --once: how long to wait (default 5m)");
  cmd->add_option("--workers", opts->workers, "Objects reconciled at once (default 4)");
  cmd->add_option("--resync", opts->resync, "Full resync period (default 30s)");
  cmd->add_option("--event-ttl", opts->event_ttl, "How long events are kept after they were last seen (default 1h)");
  cmd->add_option("--listen", opts->listen, "Address for /healthz, /readyz, /metrics (default 127.0.0.1:9464; off: none)");
  cmd->add_option("--api-listen", opts->api_listen,
                  "Address for the Kubernetes-compatible API, HTTPS (default 127.0.0.1:6443, none with --once; off: none)");
  cmd->add_option("--api-tls-cert-file", opts->api_tls_cert_file,
                  "The API's serving certificate (PEM), instead of one issued from the store's CA at each start");
  cmd->add_option("--api-tls-key-file", opts->api_tls_key_file, "Its private key (PEM)");
  cmd->add_option("--api-files-dir", opts->api_files_dir,
                  "Where relative file paths in specs sent over the API resolve (they must stay inside it)");
  cmd->add_option("--git-max-size", opts->git_max_size,
                  "Most a git source may fetch at once, and most its files may take on disk (default 1Gi; 0: no bound)");
  cmd->add_option("--api-rate", opts->api_rate,
                  "Requests a second each API user may make, twice that at once (default 500; 0: no limit)");
  cmd->callback([&g, opts] { g.exit_code = RunController(g, *opts); });
}

}  // namespace keelson::cli
