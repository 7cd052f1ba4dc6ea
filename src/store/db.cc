#include "store/db.h"

#include <cstdio>
#include <filesystem>
#include <random>
#include <vector>

#include <sqlite3.h>

namespace keelson::store {
namespace {

// Each entry moves the schema one version up; never edit a released entry,
// append a new one.
const std::vector<const char*> kMigrations = {
    R"sql(
CREATE TABLE objects (
  uid TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  generation INTEGER NOT NULL,
  resource_version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  deleted_at TEXT,
  labels TEXT NOT NULL,
  annotations TEXT NOT NULL,
  spec TEXT NOT NULL,
  status TEXT NOT NULL,
  source TEXT NOT NULL,
  UNIQUE (kind, namespace, name)
);
CREATE TABLE revisions (
  uid TEXT NOT NULL,
  generation INTEGER NOT NULL,
  spec TEXT NOT NULL,
  source TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (uid, generation)
);
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time TEXT NOT NULL,
  kind TEXT NOT NULL,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  uid TEXT NOT NULL,
  type TEXT NOT NULL,
  reason TEXT NOT NULL,
  message TEXT NOT NULL
);
CREATE INDEX events_by_object ON events (kind, namespace, name);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO counters VALUES ('resource_version', 0);
)sql",
    R"sql(
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);
)sql",
    R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('store_id', lower(hex(randomblob(8))));
)sql",
    // The controller's memory of an object between passes (not status).
    R"sql(
ALTER TABLE objects ADD COLUMN controller_state TEXT NOT NULL DEFAULT '{}';
)sql",
    // Events repeat as a count (as Kubernetes aggregates them), belong to an
    // object's uid, and expire.
    R"sql(
ALTER TABLE events ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE events ADD COLUMN first_time TEXT NOT NULL DEFAULT '';
UPDATE events SET first_time = time;
CREATE INDEX events_by_uid ON events (uid, id);
CREATE INDEX events_by_time ON events (time);
)sql",
    // What a watch needs besides the objects themselves: which were created
    // (ADDED rows, keys only) and how removed ones last looked (DELETED
    // rows), for the last 50,000 resourceVersions (changes_floor: a watch
    // from before it must list again). Objects changed since a version are
    // found by their resource_version.
    R"sql(
CREATE INDEX objects_by_resource_version ON objects (resource_version);
CREATE TABLE changes (
  resource_version INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  uid TEXT NOT NULL,
  kind TEXT NOT NULL,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  generation INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  deleted_at TEXT,
  labels TEXT NOT NULL,
  annotations TEXT NOT NULL,
  spec TEXT NOT NULL,
  status TEXT NOT NULL
);
INSERT INTO counters SELECT 'changes_floor', value FROM counters WHERE name = 'resource_version';
CREATE TRIGGER objects_added AFTER INSERT ON objects BEGIN
  INSERT OR REPLACE INTO changes VALUES (NEW.resource_version, 'ADDED', NEW.uid, NEW.kind, NEW.namespace, NEW.name,
                                         0, '', NULL, '{}', '{}', '{}', '{}');
  UPDATE counters SET value = NEW.resource_version - 50000 WHERE name = 'changes_floor' AND value < NEW.resource_version - 50000;
  DELETE FROM changes WHERE resource_version <= NEW.resource_version - 50000;
END;
CREATE TRIGGER objects_deleted AFTER DELETE ON objects BEGIN
  INSERT OR REPLACE INTO changes
    SELECT value, 'DELETED', OLD.uid, OLD.kind, OLD.namespace, OLD.name, OLD.generation, OLD.created_at,
           OLD.deleted_at, OLD.labels, OLD.annotations, OLD.spec, OLD.status
    FROM counters WHERE name = 'resource_version';
END;
)sql",
    // Kubernetes RBAC objects (Role, ClusterRole, RoleBinding,
    // ClusterRoleBinding) the API server authorizes with: stored whole (their
    // JSON, without what the server sets), not reconciled. Cluster-scoped
    // ones have namespace ''.
    R"sql(
CREATE TABLE rbac (
  kind TEXT NOT NULL,
  namespace TEXT NOT NULL,
  name TEXT NOT NULL,
  uid TEXT NOT NULL,
  resource_version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (kind, namespace, name)
);
)sql",
    // Server-side apply: the fields each field manager applied to an object
    // (JSON pointers), gone with the object.
    R"sql(
CREATE TABLE field_managers (
  uid TEXT NOT NULL,
  manager TEXT NOT NULL,
  fields TEXT NOT NULL,
  time TEXT NOT NULL,
  PRIMARY KEY (uid, manager)
);
CREATE TRIGGER objects_managers_gone AFTER DELETE ON objects BEGIN
  DELETE FROM field_managers WHERE uid = OLD.uid;
END;
)sql",
    // The output's tail of a pool's last finished runs (ephemeral replicas
    // are removed as their run ends), gone with the object.
    R"sql(
CREATE TABLE runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  uid TEXT NOT NULL,
  container TEXT NOT NULL,
  exit_code INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  output TEXT NOT NULL
);
CREATE INDEX runs_by_uid ON runs (uid, id);
CREATE TRIGGER objects_runs_gone AFTER DELETE ON objects BEGIN
  DELETE FROM runs WHERE uid = OLD.uid;
END;
)sql",
    // The CI jobs of autoscaled pools, as the job queue said them
    // (store/jobs.h); seq numbers each change for the store watcher.
    R"sql(
CREATE TABLE jobs (
  uid TEXT NOT NULL,
  id INTEGER NOT NULL,
  key TEXT NOT NULL,
  state TEXT NOT NULL,
  queued_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  runner TEXT NOT NULL,
  labels TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (uid, id)
);
CREATE INDEX jobs_by_seq ON jobs (seq);
CREATE TRIGGER objects_jobs_gone AFTER DELETE ON objects BEGIN
  DELETE FROM jobs WHERE uid = OLD.uid;
END;
)sql",
};

constexpr int kBusyTimeoutMs = 30000;

}  // namespace

std::string NewUid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 1
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

Error SqliteError(sqlite3* db, int rc, const std::string& context) {
  const int base = rc & 0xff;
  const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const char* file = db ? sqlite3_db_filename(db, "main") : nullptr;
  const std::string path = file && *file ? file : "";
  // Faults of the file itself: say which file, what it means and what to do,
  // not which statement met it.
  auto fault = [&](ErrorCode code, const std::string& what, const std::string& todo) {
    return Error{code, "store " + (path.empty() ? context : path) + ": " + what + " (" + msg + "): " + todo};
  };
  switch (base) {
    case SQLITE_CORRUPT:
      return fault(ErrorCode::kStorage, "the file is damaged",
                   "restore it from a backup, or move it aside and apply the manifests again");
    case SQLITE_NOTADB:
      return fault(ErrorCode::kStorage, "not a keelson store", "check --db or KEELSON_DB");
    case SQLITE_IOERR:
      return fault(ErrorCode::kStorage, "reading or writing it failed",
                   "check the disk and that its file system has free space");
    case SQLITE_FULL:
      return fault(ErrorCode::kStorage, "the disk is full", "free space on its file system");
    case SQLITE_READONLY:
      return fault(ErrorCode::kStorage, "it cannot be written here",
                   "writes need write access to the file and its directory (get, describe, events and plan work "
                   "read-only)");
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      return fault(ErrorCode::kStorage, "it cannot be opened", "check that it is a regular file this user may read");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return fault(ErrorCode::kUnavailable, "it is locked",
                   "another process held it for over 30s; if this persists, check that no process hangs holding it");
    default:
      break;
  }
  const ErrorCode code = base == SQLITE_CONSTRAINT ? ErrorCode::kConflict : ErrorCode::kInternal;
  return Error{code, "store: " + context + ": " + msg};
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  return *this;
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, const std::string& value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::Bind(int index, const std::optional<std::string>& value) {
  if (!value) {
    sqlite3_bind_null(stmt_, index);
    return *this;
  }
  return Bind(index, *value);
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Error err = SqliteError(db_, rc, sqlite3_sql(stmt_));
  sqlite3_reset(stmt_);
  return Unexpected(std::move(err));
}

Result<void> Statement::Run() {
  while (true) {
    auto r = Step();
    if (!r) return Unexpected(r.error());
    if (!*r) return {};
  }
}

int64_t Statement::Int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Statement::Text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : "";
}

bool Statement::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, OpenMode mode) {
  const bool memory = path == ":memory:";
  std::error_code type_ec;
  const auto type = memory ? std::filesystem::file_type::none : std::filesystem::status(path, type_ec).type();
  if (!memory && mode != OpenMode::kCreate && type == std::filesystem::file_type::not_found) {
    return Unexpected(ErrorCode::kNotFound, "store: no store at " + path +
                                                " (nothing was applied there; --db or KEELSON_DB name another)");
  }
  if (!memory && type != std::filesystem::file_type::not_found && type != std::filesystem::file_type::regular) {
    return Unexpected(ErrorCode::kStorage,
                      "store " + path + ": not a regular file: --db or KEELSON_DB must name a store file");
  }
  if (mode == OpenMode::kReadOnly) return OpenReadOnly(path);
  if (!memory) {
    std::error_code ec;
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return Unexpected(ErrorCode::kInvalid, "store: create " + parent.string() + ": " + ec.message());
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<Db> db(new Db(raw, path));
  if (rc != SQLITE_OK) return Unexpected(SqliteError(raw, rc, "open " + path));
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  auto ready = db->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  if (ready) ready = db->Migrate();
  if (!ready) {
    // "file is not a database" and its like: say which file.
    const Error& e = ready.error();
    if (e.message.find(path) != std::string::npos) return Unexpected(e);
    return Unexpected(e.code, "store: " + path + ": " + e.message.substr(e.message.rfind(": ") + 2));
  }
  return db;
}

namespace {

// `path` as an SQLite URI's path: characters with a meaning there escaped.
std::string UriPath(const std::string& path) {
  std::string out;
  for (unsigned char c : path) {
    if (c == '?' || c == '#' || c == '%' || c < 0x20 || c >= 0x7f) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Db>> Db::OpenReadOnly(const std::string& path) {
  auto attempt = [&](const char* query) -> Result<std::unique_ptr<Db>> {
    sqlite3* raw = nullptr;
    const std::string uri = "file:" + UriPath(std::filesystem::absolute(path).string()) + query;
    int rc = sqlite3_open_v2(uri.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr);
    std::unique_ptr<Db> db(new Db(raw, path));
    if (rc != SQLITE_OK) return Unexpected(SqliteError(raw, rc, "open " + path));
    sqlite3_busy_timeout(raw, kBusyTimeoutMs);
    auto version = db->UserVersion();
    if (!version) return Unexpected(version.error());
    if (*version != static_cast<int64_t>(kMigrations.size())) {
      return Unexpected(ErrorCode::kStorage,
                        "store " + path + ": schema version " + std::to_string(*version) + ", this keelson's is " +
                            std::to_string(kMigrations.size()) +
                            (*version < static_cast<int64_t>(kMigrations.size())
                                 ? ": run a command that writes (apply) once as a user who may write it"
                                 : ": upgrade keelson"));
    }
    return db;
  };
  auto db = attempt("?mode=ro");
  if (db || db.error().code != ErrorCode::kStorage) return db;
  // A reader of a WAL store needs its -shm file, which it cannot create in a
  // directory it may not write. With no write-ahead log present the file
  // alone is the whole store: read it as immutable.
  std::error_code ec;
  const auto wal = std::filesystem::file_size(path + "-wal", ec);
  if (!ec && wal > 0) return db;
  auto whole = attempt("?immutable=1");
  return whole ? std::move(whole) : std::move(db);
}

Result<void> Db::QuickCheck() {
  auto stmt = Prepare("PRAGMA quick_check(1)");
  if (!stmt) return Unexpected(stmt.error());
  auto row = (*stmt)->Step();
  if (!row) return Unexpected(row.error());
  std::string verdict = *row ? (*stmt)->Text(0) : "no answer";
  (*stmt)->Reset();
  for (char& c : verdict) {
    if (c == '\n') c = ' ';
  }
  if (verdict == "ok") return {};
  return Unexpected(ErrorCode::kStorage, "store " + path_ + ": the file is damaged (" + verdict +
                                             "): restore it from a backup, or move it aside and apply the manifests "
                                             "again");
}

int64_t Db::Changes() const { return sqlite3_changes64(db_); }

Db::~Db() {
  statements_.clear();  // statements must be finalized before the connection closes
  sqlite3_close(db_);
}

Result<Statement*> Db::Prepare(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return &it->second->Reset();
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return Unexpected(SqliteError(db_, rc, "prepare " + sql));
  auto owned = std::make_unique<Statement>(db_, stmt);
  Statement* out = owned.get();
  statements_.emplace(sql, std::move(owned));
  return out;
}

Result<void> Db::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return {};
  Error e = SqliteError(db_, rc, "exec");
  sqlite3_free(err);
  return Unexpected(std::move(e));
}

Result<int64_t> Db::DataVersion() {
  auto stmt = Prepare("PRAGMA data_version");
  if (!stmt) return Unexpected(stmt.error());
  auto row = (*stmt)->Step();
  if (!row) return Unexpected(row.error());
  int64_t v = (*stmt)->Int(0);
  (*stmt)->Reset();
  return v;
}

Result<int64_t> Db::UserVersion() {
  auto stmt = Prepare("PRAGMA user_version");
  if (!stmt) return Unexpected(stmt.error());
  auto row = (*stmt)->Step();
  if (!row) return Unexpected(row.error());
  int64_t version = (*stmt)->Int(0);
  (*stmt)->Reset();
  return version;
}

Result<void> Db::Migrate() {
  // Fast path without the write lock: readers opening an up-to-date store
  // never queue behind writers.
  auto current = UserVersion();
  if (!current) return Unexpected(current.error());
  if (*current == static_cast<int64_t>(kMigrations.size())) return {};
  Transaction tx(*this);
  if (auto r = tx.Begin(); !r) return r;
  auto locked = UserVersion();  // again, under the lock: another process may have migrated
  if (!locked) return Unexpected(locked.error());
  int64_t version = *locked;
  if (version > static_cast<int64_t>(kMigrations.size())) {
    return Unexpected(ErrorCode::kInvalid, "store: " + path_ + " has schema version " +
                                               std::to_string(version) +
                                               ", newer than this keelson knows: upgrade keelson");
  }
  for (auto v = static_cast<size_t>(version); v < kMigrations.size(); ++v) {
    if (auto r = Exec(kMigrations[v]); !r) return r;
  }
  if (auto r = Exec("PRAGMA user_version=" + std::to_string(kMigrations.size())); !r) return r;
  return tx.Commit();
}

Db::Transaction::~Transaction() {
  if (open_) (void)db_.Exec("ROLLBACK");  // nothing more to do if even that fails
}

Result<void> Db::Transaction::Begin() {
  auto r = db_.Exec(mode_ == kWrite ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
  open_ = static_cast<bool>(r);
  return r;
}

Result<void> Db::Transaction::Commit() {
  auto r = db_.Exec("COMMIT");
  if (r) open_ = false;
  return r;
}

}  // namespace keelson::store
