#include "store/lease.h"

namespace keelson::store {

int64_t Lease::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
}

Result<bool> Lease::TryAcquire() {
  Db::Transaction tx(db_);
  if (auto r = tx.Begin(); !r) return Unexpected(r.error());
  const int64_t now = NowMs();
  auto s = db_.Prepare(
      "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (name) DO UPDATE SET holder = ?2, expires_at = ?3 "
      "WHERE leases.holder = ?2 OR leases.expires_at < ?4");
  if (!s) return Unexpected(s.error());
  if (auto r = (*s)->Bind(1, std::string(kControllerLease)).Bind(2, holder_).Bind(3, now + ttl_.count()).Bind(4, now).Run();
      !r) {
    return Unexpected(r.error());
  }
  auto held = Holder();
  if (!held) return Unexpected(held.error());
  if (auto r = tx.Commit(); !r) return Unexpected(r.error());
  return held->first == holder_;
}

Result<void> Lease::Release() {
  auto s = db_.Prepare("DELETE FROM leases WHERE name = ? AND holder = ?");
  if (!s) return Unexpected(s.error());
  return (*s)->Bind(1, std::string(kControllerLease)).Bind(2, holder_).Run();
}

Result<std::pair<std::string, bool>> Lease::Holder() {
  auto s = db_.Prepare("SELECT holder, expires_at FROM leases WHERE name = ?");
  if (!s) return Unexpected(s.error());
  (*s)->Bind(1, std::string(kControllerLease));
  auto row = (*s)->Step();
  if (!row) return Unexpected(row.error());
  if (!*row) return std::make_pair(std::string(), false);
  auto out = std::make_pair((*s)->Text(0), (*s)->Int(1) >= NowMs());
  (*s)->Reset();
  return out;
}

}  // namespace keelson::store
