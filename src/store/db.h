#pragma once
// SQLite behind RAII: a Db owns the connection and its prepared statements;
// the C header stays out of every other file.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "util/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace keelson::store {

/// A prepared statement, owned by its Db and reused: Reset() before binding anew.
/// A random (version 4) UUID, for an object's uid.
std::string NewUid();

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Reset();
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, const std::string& value);
  Statement& Bind(int index, const std::optional<std::string>& value);
  /// Advances: true when a row is ready, false when done. SQLITE_BUSY after the
  /// busy timeout is kUnavailable; anything else kInternal.
  Result<bool> Step();
  /// Runs to completion, ignoring rows.
  Result<void> Run();

  int64_t Int(int col) const;
  std::string Text(int col) const;
  bool IsNull(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

enum class OpenMode {
  kCreate,    ///< make the file (and its directories) when absent: writers
  kExisting,  ///< kNotFound "no store at PATH" when absent: writers of existing objects
  /// As kExisting, and never writes: works on a file this user may only read
  /// (another user's store, a read-only mount). No migration is run.
  kReadOnly,
};

class Db {
 public:
  /// Opens in WAL mode with a busy timeout, then brings the schema up to
  /// date. ":memory:" works too. Errors name the path.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, OpenMode mode = OpenMode::kCreate);
  ~Db();
  /// PRAGMA quick_check: kStorage naming the path when the file is damaged.
  Result<void> QuickCheck();
  /// OpenMode::kReadOnly.
  static Result<std::unique_ptr<Db>> OpenReadOnly(const std::string& path);
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  /// The statement for `sql`, prepared on first use, reset and ready to bind.
  /// Not thread-safe: one Db per thread.
  Result<Statement*> Prepare(const std::string& sql);
  Result<void> Exec(const std::string& sql);
  const std::string& path() const { return path_; }

  /// BEGIN IMMEDIATE (takes the write lock up front, so two writers never
  /// deadlock on an upgrade); rolls back unless Commit() succeeded.
  class Transaction {
   public:
    /// kWrite: BEGIN IMMEDIATE (takes the write lock at once); kRead: a
    /// deferred transaction, one consistent snapshot for several reads.
    enum Mode { kWrite, kRead };
    explicit Transaction(Db& db, Mode mode = kWrite) : db_(db), mode_(mode) {}
    ~Transaction();
    Result<void> Begin();
    Result<void> Commit();

   private:
    Db& db_;
    Mode mode_;
    bool open_ = false;
  };

  /// Rows the last INSERT, UPDATE or DELETE on this connection changed.
  int64_t Changes() const;
  /// Changes to the database by other connections since the last call
  /// (PRAGMA data_version): a cheap "did anything change" poll.
  Result<int64_t> DataVersion();

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Result<void> Migrate();
  Result<int64_t> UserVersion();

  sqlite3* db_;
  std::string path_;
  std::map<std::string, std::unique_ptr<Statement>> statements_;
};

/// Code and message for SQLite result `rc` on `db`, with context first.
Error SqliteError(sqlite3* db, int rc, const std::string& context);

}  // namespace keelson::store
