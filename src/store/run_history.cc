#include "store/run_history.h"

namespace keelson::store {

Result<void> RunHistory::Record(const std::string& uid, const FinishedRunRecord& run, int keep_succeeded,
                                int keep_failed) {
  Db::Transaction tx(db_);
  if (auto r = tx.Begin(); !r) return r;
  auto insert = db_.Prepare(
      "INSERT INTO runs (uid, container, exit_code, started_at, finished_at, output) VALUES (?, ?, ?, ?, ?, ?)");
  if (!insert) return Unexpected(insert.error());
  if (auto r = (*insert)->Bind(1, uid).Bind(2, run.container).Bind(3, int64_t{run.exit_code}).Bind(4, run.started_at)
                   .Bind(5, run.finished_at).Bind(6, run.output).Run();
      !r) {
    return r;
  }
  // Each outcome keeps its own newest N, as a CronJob's two history limits.
  auto prune = db_.Prepare(
      "DELETE FROM runs WHERE uid = ?1 AND (exit_code = 0) = ?2 AND id NOT IN "
      "(SELECT id FROM runs WHERE uid = ?1 AND (exit_code = 0) = ?2 ORDER BY id DESC LIMIT ?3)");
  if (!prune) return Unexpected(prune.error());
  for (auto [succeeded, keep] : {std::pair{int64_t{1}, keep_succeeded}, std::pair{int64_t{0}, keep_failed}}) {
    if (auto r = (*prune)->Bind(1, uid).Bind(2, succeeded).Bind(3, int64_t{keep}).Run(); !r) return r;
    (*prune)->Reset();
  }
  return tx.Commit();
}

Result<std::vector<FinishedRunRecord>> RunHistory::List(const std::string& uid) {
  auto s = db_.Prepare(
      "SELECT container, exit_code, started_at, finished_at, output FROM runs WHERE uid = ? ORDER BY id");
  if (!s) return Unexpected(s.error());
  (*s)->Bind(1, uid);
  std::vector<FinishedRunRecord> out;
  while (true) {
    auto row = (*s)->Step();
    if (!row) return Unexpected(row.error());
    if (!*row) break;
    out.push_back({(*s)->Text(0), static_cast<int>((*s)->Int(1)), (*s)->Text(2), (*s)->Text(3), (*s)->Text(4)});
  }
  return out;
}

}  // namespace keelson::store
