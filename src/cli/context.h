#pragma once
// What every command shares: global flags, exit codes, opening the store.

#include <memory>
#include <string>

#include "docker/engine.h"
#include "store/db.h"
#include "store/object_store.h"
#include "util/clock.h"
#include "util/result.h"

namespace keelson::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  ///< invalid input, not found, timed out, differences
inline constexpr int kExitUsage = 2;    ///< bad flags or arguments; diff/plan errors

struct Globals {
  std::string db_path;  ///< resolved: --db, KEELSON_DB, XDG_DATA_HOME, ~/.local/share
  std::string docker_host;
  std::string namespace_ = "default";
  bool namespace_given = false;  ///< -n was on the command line
  std::string log_level = "info";
  std::string log_format = "text";
  // The API of a keelson elsewhere, instead of the store file (cli/remote.h).
  std::string kubeconfig;
  std::string context;
  std::string server;
  std::string token;
  std::string certificate_authority;
  int exit_code = kExitOk;
};

/// The store path when --db is not given: KEELSON_DB, then
/// $XDG_DATA_HOME/keelson/state.db, then ~/.local/share/keelson/state.db.
std::string DefaultDbPath();

/// An open store for one command.
struct Session {
  std::unique_ptr<store::Db> db;
  RealClock clock;
  std::unique_ptr<store::ObjectStore> objects;
};
/// How a command uses the store.
enum class Access {
  kRead,    ///< reads only (get, describe, events, plan, wait): works on a store this user may only read
  kWrite,   ///< changes existing objects (delete, scale, rollout undo)
  kCreate,  ///< a writer that makes the store when there is none (apply, diff, the controller)
};
/// Opens the store at --db; without kCreate, a missing store is "no store at PATH".
Result<std::unique_ptr<Session>> OpenSession(const Globals& g, Access access);

/// When no running controller holds the store's lease: why, in a sentence
/// ("no controller is running for this store ..."), so that commands which
/// show status can say it may be stale. Empty when one is running.
std::string StaleStatusReason(Session& session);

/// The engine --docker-host (or DOCKER_HOST, DOCKER_TLS_VERIFY,
/// DOCKER_CERT_PATH) names. Connecting happens on first use.
Result<std::unique_ptr<docker::Engine>> OpenEngine(const Globals& g);

/// Prints "error: MESSAGE" to stderr and returns `code`.
int Fail(const std::string& message, int code = kExitFailure);

/// Sleeps in small steps; false if interrupted by SIGINT/SIGTERM.
bool SleepUnlessInterrupted(int millis);
void InstallSignalHandlers();
/// True once SIGINT or SIGTERM arrived (after InstallSignalHandlers).
bool Interrupted();

}  // namespace keelson::cli
