#include "store/db.h"

#include <filesystem>
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
};

constexpr int kBusyTimeoutMs = 30000;

}  // namespace

Error SqliteError(sqlite3* db, int rc, const std::string& context) {
  int base = rc & 0xff;
  ErrorCode code = (base == SQLITE_BUSY || base == SQLITE_LOCKED) ? ErrorCode::kUnavailable
                   : base == SQLITE_CONSTRAINT                     ? ErrorCode::kConflict
                                                                   : ErrorCode::kInternal;
  const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
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
  if (!memory && mode == OpenMode::kExisting && !std::filesystem::exists(path)) {
    return Unexpected(ErrorCode::kNotFound, "store: no store at " + path +
                                                " (nothing was applied there; --db or KEELSON_DB name another)");
  }
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
  if (err) e.message = "store: " + std::string(err);
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
  auto r = db_.Exec("BEGIN IMMEDIATE");
  open_ = static_cast<bool>(r);
  return r;
}

Result<void> Db::Transaction::Commit() {
  auto r = db_.Exec("COMMIT");
  if (r) open_ = false;
  return r;
}

}  // namespace keelson::store
