#include "store/jobs.h"

namespace keelson::store {
namespace {

int Rank(const std::string& state) { return state == "queued" ? 0 : state == "in_progress" ? 1 : 2; }

}  // namespace

Result<bool> Jobs::Note(const std::string& uid, const std::string& key, int64_t id, const std::string& state,
                        const std::string& at, const std::string& runner, const std::string& labels) {
  Db::Transaction tx(db_);
  if (auto r = tx.Begin(); !r) return Unexpected(r.error());
  auto get = db_.Prepare("SELECT state FROM jobs WHERE uid = ? AND id = ?");
  if (!get) return Unexpected(get.error());
  (*get)->Bind(1, uid).Bind(2, id);
  auto row = (*get)->Step();
  if (!row) return Unexpected(row.error());
  const bool known = *row;
  const std::string was = known ? (*get)->Text(0) : "";
  (*get)->Reset();
  if (known && Rank(state) <= Rank(was)) return false;
  auto seq = db_.Prepare(
      "INSERT INTO counters (name, value) VALUES ('jobs', 1) "
      "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value");
  if (!seq) return Unexpected(seq.error());
  auto next = (*seq)->Step();
  if (!next) return Unexpected(next.error());
  const int64_t change = (*seq)->Int(0);
  (*seq)->Reset();
  auto put = db_.Prepare(
      known ? "UPDATE jobs SET state = ?3, updated_at = ?4, runner = CASE WHEN ?5 = '' THEN runner ELSE ?5 END, "
              "seq = ?7 WHERE uid = ?1 AND id = ?2"
            : "INSERT INTO jobs (uid, id, state, queued_at, updated_at, runner, labels, seq, key) "
              "VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8)");
  if (!put) return Unexpected(put.error());
  if (auto r = (*put)->Bind(1, uid).Bind(2, id).Bind(3, state).Bind(4, at).Bind(5, runner).Bind(6, labels)
                   .Bind(7, change).Bind(8, key).Run();
      !r) {
    return Unexpected(r.error());
  }
  if (auto r = tx.Commit(); !r) return Unexpected(r.error());
  return true;
}

Result<std::vector<JobRecord>> Jobs::Of(const std::string& uid) {
  auto s = db_.Prepare(
      "SELECT id, state, queued_at, updated_at, runner, labels FROM jobs WHERE uid = ? ORDER BY queued_at, id");
  if (!s) return Unexpected(s.error());
  (*s)->Bind(1, uid);
  std::vector<JobRecord> out;
  while (true) {
    auto row = (*s)->Step();
    if (!row) return Unexpected(row.error());
    if (!*row) break;
    out.push_back({(*s)->Int(0), (*s)->Text(1), (*s)->Text(2), (*s)->Text(3), (*s)->Text(4), (*s)->Text(5)});
  }
  (*s)->Reset();
  return out;
}

Result<void> Jobs::Forget(const std::string& uid, const std::string& before) {
  auto s = db_.Prepare("DELETE FROM jobs WHERE uid = ? AND updated_at < ?");
  if (!s) return Unexpected(s.error());
  return (*s)->Bind(1, uid).Bind(2, before).Run();
}

Result<std::pair<std::vector<std::string>, int64_t>> Jobs::ChangedSince(int64_t seq) {
  auto s = db_.Prepare("SELECT key, max(seq) FROM jobs WHERE seq > ? GROUP BY key");
  if (!s) return Unexpected(s.error());
  (*s)->Bind(1, seq);
  std::pair<std::vector<std::string>, int64_t> out{{}, seq};
  while (true) {
    auto row = (*s)->Step();
    if (!row) return Unexpected(row.error());
    if (!*row) break;
    out.first.push_back((*s)->Text(0));
    out.second = std::max(out.second, (*s)->Int(1));
  }
  (*s)->Reset();
  return out;
}

}  // namespace keelson::store
