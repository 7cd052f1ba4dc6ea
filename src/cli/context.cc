#include "cli/context.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "docker/http_engine.h"
#include "store/lease.h"

namespace keelson::cli {
namespace {

std::atomic<bool> g_interrupted{false};

// The first SIGINT/SIGTERM asks for a graceful stop; a second SIGINT (the
// user's second Ctrl-C) stops at once, as docker and kubectl do.
void OnSignal(int sig) {
  if (sig == SIGINT && g_interrupted.exchange(true)) {
    static const char kMessage[] = "\nstopping now (second interrupt)\n";
    (void)!::write(2, kMessage, sizeof kMessage - 1);
    ::_exit(130);
  }
  g_interrupted = true;
}

}  // namespace

std::string DefaultDbPath() {
  if (const char* env = std::getenv("KEELSON_DB"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    return std::string(xdg) + "/keelson/state.db";
  }
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.local/share/keelson/state.db";
}

Result<std::unique_ptr<Session>> OpenSession(const Globals& g, Access access) {
  const store::OpenMode mode = access == Access::kCreate  ? store::OpenMode::kCreate
                               : access == Access::kWrite ? store::OpenMode::kExisting
                                                          : store::OpenMode::kReadOnly;
  auto db = store::Db::Open(g.db_path, mode);
  if (!db) return Unexpected(db.error());
  auto s = std::make_unique<Session>();
  s->db = std::move(*db);
  s->objects = std::make_unique<store::ObjectStore>(*s->db, s->clock);
  return s;
}

std::string StaleStatusReason(Session& session) {
  store::Lease lease(*session.db, session.clock, "", std::chrono::milliseconds(0));
  auto holder = lease.Holder();
  if (!holder || holder->second) return "";  // unknown, or a live controller
  return holder->first.empty()
             ? "no controller is running for this store: status is what was last written, and may be stale"
             : "no controller is running for this store (the last one was " + holder->first +
                   "): status may be stale";
}

Result<std::unique_ptr<docker::Engine>> OpenEngine(const Globals& g) {
  auto endpoint = docker::EndpointFromEnvironment(g.docker_host);
  if (!endpoint) return Unexpected(endpoint.error());
  return std::unique_ptr<docker::Engine>(std::make_unique<docker::HttpEngine>(std::move(*endpoint)));
}

int Fail(const std::string& message, int code) {
  std::cerr << "error: " << message << "\n";
  return code;
}

void InstallSignalHandlers() {
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
}

bool Interrupted() { return g_interrupted; }

bool SleepUnlessInterrupted(int millis) {
  for (int waited = 0; waited < millis && !g_interrupted; waited += 20) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return !g_interrupted;
}

}  // namespace keelson::cli
