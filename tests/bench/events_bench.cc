// events_bench: the store's events table under a day of churn, simulated on
// a fake clock against a real SQLite file, as the controller records them:
// an ephemeral pool of 4 runners whose jobs take 30 s (each run: a
// RunCompleted and a Created event), a Runner whose image cannot be pulled
// (one Failed event per backoff, capped at 5 min), and the controller's
// expiry at each 30 s resync (TTL 1 h). The peer is keelson 0.1's table,
// which kept one row per event for ever: the same events as plain inserts.
//
//   events_bench DIR [HOURS]     prints rows and bytes at 1 h and at HOURS (default 24)

#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "fake_clock.h"
#include "store/object_store.h"

using namespace keelson;

namespace {

int64_t Bytes(const std::string& path) {
  int64_t n = 0;
  for (const char* suffix : {"", "-wal"}) {
    std::error_code ec;
    auto size = std::filesystem::file_size(path + suffix, ec);
    if (!ec) n += static_cast<int64_t>(size);
  }
  return n;
}

int64_t Rows(store::Db& db) {
  auto s = db.Prepare("SELECT count(*) FROM events");
  if (!s || !(*s)->Step()) return -1;
  const int64_t n = (*s)->Int(0);
  (*s)->Reset();
  return n;
}

model::Object Stored(store::ObjectStore& objects, model::Kind kind, const std::string& name) {
  return **objects.Get(kind, "default", name);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: events_bench DIR [HOURS]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const int hours = argc > 2 ? std::atoi(argv[2]) : 24;
  std::filesystem::create_directories(dir);
  testing::FakeClock clock;
  const std::string path = dir + "/state.db", peer_path = dir + "/peer.db";
  auto db = *store::Db::Open(path);
  store::ObjectStore objects(*db, clock);
  std::vector<store::ApplyRequest> reqs(2);
  reqs[0].object.kind = model::Kind::kRunnerPool;
  reqs[0].object.meta.name = "ci";
  reqs[0].object.spec = {{"replicas", 4}, {"ephemeral", true}, {"template", {{"image", "runner:1"}}}};
  reqs[1].object.kind = model::Kind::kRunner;
  reqs[1].object.meta.name = "broken";
  reqs[1].object.spec = {{"image", "registry.local/none:1"}};
  if (!objects.Apply(reqs, std::nullopt, false)) return 1;
  const model::Object pool = Stored(objects, model::Kind::kRunnerPool, "ci");
  const model::Object broken = Stored(objects, model::Kind::kRunner, "broken");

  sqlite3* peer = nullptr;
  std::filesystem::remove(peer_path);
  sqlite3_open(peer_path.c_str(), &peer);
  sqlite3_exec(peer,
               "PRAGMA journal_mode=WAL; CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT, "
               "kind TEXT, namespace TEXT, name TEXT, uid TEXT, type TEXT, reason TEXT, message TEXT)",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(peer, "INSERT INTO events (time, kind, namespace, name, uid, type, reason, message) "
                     "VALUES (?, ?, 'default', ?, ?, ?, ?, ?)", -1, &insert, nullptr);
  int64_t recorded = 0;
  auto record = [&](const model::Object& o, const char* type, const char* reason, const std::string& message) {
    (void)objects.RecordEvent(o, type, reason, message);
    const std::string now = FormatTimestamp(clock.Now());
    const std::string kind(model::Info(o.kind).name);
    sqlite3_reset(insert);
    sqlite3_bind_text(insert, 1, now.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 2, kind.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 3, o.meta.name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 4, o.meta.uid.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 5, type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 6, reason, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 7, message.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_step(insert);
    ++recorded;
  };

  int64_t run = 0;
  int next_pull_s = 0, backoff_s = 1;
  std::printf("%-8s %12s %12s %14s %14s %10s\n", "after", "events", "keelson rows", "keelson bytes", "0.1 rows",
              "0.1 bytes");
  for (int second = 0; second < hours * 3600; second += 30) {
    clock.Advance(std::chrono::seconds(30));
    for (int r = 0; r < 4; ++r, ++run) {  // four jobs end, four replicas replace them
      record(pool, "Normal", "RunCompleted",
             "Removed replica default.ci.r" + std::to_string(run) + " after its run completed");
      record(pool, "Normal", "Created",
             "Created replica default.ci.r" + std::to_string(run + 4) + " to replace a finished run");
    }
    while (next_pull_s <= second) {  // the pull fails again after each backoff
      record(broken, "Warning", "Failed",
             "Failed to pull image registry.local/none:1: manifest unknown");
      next_pull_s += backoff_s;
      backoff_s = std::min(backoff_s * 2, 300);
    }
    // The controller's resync: events last seen over an hour ago go.
    (void)objects.ExpireEvents(FormatTimestamp(clock.Now() - std::chrono::hours(1)));
    if (second + 30 == 3600 || second + 30 == hours * 3600) {
      sqlite3_exec(peer, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
      (void)db->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
      sqlite3_stmt* count = nullptr;
      sqlite3_prepare_v2(peer, "SELECT count(*) FROM events", -1, &count, nullptr);
      sqlite3_step(count);
      const int64_t peer_rows = sqlite3_column_int64(count, 0);
      sqlite3_finalize(count);
      std::printf("%-8s %12lld %12lld %14lld %14lld %10lld\n", (std::to_string((second + 30) / 3600) + "h").c_str(),
                  static_cast<long long>(recorded), static_cast<long long>(Rows(*db)),
                  static_cast<long long>(Bytes(path)), static_cast<long long>(peer_rows),
                  static_cast<long long>(Bytes(peer_path)));
    }
  }
  sqlite3_finalize(insert);
  sqlite3_close(peer);
  return 0;
}
