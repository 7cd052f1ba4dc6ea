#include "store/rbac_store.h"

namespace keelson::store {

using nlohmann::json;

namespace {

constexpr const char* kServerFields[] = {"uid", "resourceVersion", "creationTimestamp", "generation", "managedFields",
                                         "selfLink"};

// The stored document with what the server set put back in.
Result<json> Read(const Statement& s) {
  json doc = json::parse(s.Text(3), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Unexpected(ErrorCode::kInternal, "store: corrupt rbac row " + s.Text(0) + "/" + s.Text(1));
  }
  json& meta = doc["metadata"];
  meta["uid"] = s.Text(0);
  meta["resourceVersion"] = std::to_string(s.Int(1));
  meta["creationTimestamp"] = s.Text(2);
  return doc;
}

std::string Body(json doc) {
  if (doc.contains("metadata") && doc["metadata"].is_object()) {
    for (const char* f : kServerFields) doc["metadata"].erase(f);
  }
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

Result<int64_t> RbacStore::NextResourceVersion() {
  auto s = db_.Prepare("UPDATE counters SET value = value + 1 WHERE name = 'resource_version' RETURNING value");
  if (!s) return Unexpected(s.error());
  auto row = (*s)->Step();
  if (!row) return Unexpected(row.error());
  const int64_t v = (*s)->Int(0);
  (*s)->Reset();
  return v;
}

Result<std::vector<json>> RbacStore::List(const std::string& kind, const std::optional<std::string>& ns) {
  auto s = db_.Prepare(
      "SELECT uid, resource_version, created_at, body FROM rbac WHERE kind = ?1 AND (?2 IS NULL OR namespace = ?2) "
      "ORDER BY namespace, name");
  if (!s) return Unexpected(s.error());
  (*s)->Bind(1, kind).Bind(2, ns);
  std::vector<json> out;
  while (true) {
    auto row = (*s)->Step();
    if (!row) return Unexpected(row.error());
    if (!*row) break;
    auto doc = Read(**s);
    if (!doc) {
      (*s)->Reset();
      return Unexpected(doc.error());
    }
    out.push_back(std::move(*doc));
  }
  return out;
}

Result<std::optional<json>> RbacStore::Get(const std::string& kind, const std::string& ns, const std::string& name) {
  auto s = db_.Prepare(
      "SELECT uid, resource_version, created_at, body FROM rbac WHERE kind = ? AND namespace = ? AND name = ?");
  if (!s) return Unexpected(s.error());
  auto row = (*s)->Bind(1, kind).Bind(2, ns).Bind(3, name).Step();
  if (!row) return Unexpected(row.error());
  if (!*row) return std::optional<json>();
  auto doc = Read(**s);
  (*s)->Reset();
  if (!doc) return Unexpected(doc.error());
  return std::optional<json>(std::move(*doc));
}

Result<json> RbacStore::Create(const std::string& kind, const std::string& ns, json doc) {
  const std::string name = doc["metadata"].value("name", "");
  Db::Transaction tx(db_);
  if (auto r = tx.Begin(); !r) return Unexpected(r.error());
  auto found = Get(kind, ns, name);
  if (!found) return Unexpected(found.error());
  if (*found) return Unexpected(ErrorCode::kConflict, kind + " " + name + " already exists");
  auto rv = NextResourceVersion();
  if (!rv) return Unexpected(rv.error());
  auto s = db_.Prepare("INSERT INTO rbac VALUES (?, ?, ?, ?, ?, ?, ?)");
  if (!s) return Unexpected(s.error());
  auto r = (*s)->Bind(1, kind).Bind(2, ns).Bind(3, name).Bind(4, NewUid()).Bind(5, *rv)
               .Bind(6, FormatTimestamp(clock_.Now())).Bind(7, Body(doc)).Run();
  if (!r) return Unexpected(r.error());
  auto stored = Get(kind, ns, name);
  if (!stored) return Unexpected(stored.error());
  if (auto c = tx.Commit(); !c) return Unexpected(c.error());
  return std::move(**stored);
}

Result<json> RbacStore::Update(const std::string& kind, const std::string& ns, json doc, int64_t resource_version) {
  const std::string name = doc["metadata"].value("name", "");
  Db::Transaction tx(db_);
  if (auto r = tx.Begin(); !r) return Unexpected(r.error());
  auto found = Get(kind, ns, name);
  if (!found) return Unexpected(found.error());
  if (!*found) return Unexpected(ErrorCode::kNotFound, kind + " " + name + " not found");
  const std::string stored_rv = (**found)["metadata"].value("resourceVersion", "");
  if (resource_version && stored_rv != std::to_string(resource_version)) {
    return Unexpected(ErrorCode::kConflict, kind + " " + name + ": the object has been modified");
  }
  auto rv = NextResourceVersion();
  if (!rv) return Unexpected(rv.error());
  auto s = db_.Prepare("UPDATE rbac SET body = ?, resource_version = ? WHERE kind = ? AND namespace = ? AND name = ?");
  if (!s) return Unexpected(s.error());
  auto r = (*s)->Bind(1, Body(doc)).Bind(2, *rv).Bind(3, kind).Bind(4, ns).Bind(5, name).Run();
  if (!r) return Unexpected(r.error());
  auto stored = Get(kind, ns, name);
  if (!stored) return Unexpected(stored.error());
  if (auto c = tx.Commit(); !c) return Unexpected(c.error());
  return std::move(**stored);
}

Result<bool> RbacStore::Delete(const std::string& kind, const std::string& ns, const std::string& name) {
  Db::Transaction tx(db_);
  if (auto r = tx.Begin(); !r) return Unexpected(r.error());
  auto s = db_.Prepare("DELETE FROM rbac WHERE kind = ? AND namespace = ? AND name = ?");
  if (!s) return Unexpected(s.error());
  if (auto r = (*s)->Bind(1, kind).Bind(2, ns).Bind(3, name).Run(); !r) return Unexpected(r.error());
  const bool removed = db_.Changes() > 0;
  if (removed) {
    if (auto rv = NextResourceVersion(); !rv) return Unexpected(rv.error());
  }
  if (auto c = tx.Commit(); !c) return Unexpected(c.error());
  return removed;
}

}  // namespace keelson::store
