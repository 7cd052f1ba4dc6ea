#include "store/object_store.h"

#include <random>

namespace keelson::store {

using nlohmann::json;

struct ObjectStore::Row {
  model::Object object;
  std::string spec_text;
  std::string labels_text;
  std::string annotations_text;
};

namespace {

constexpr const char* kColumns =
    "kind, namespace, name, uid, generation, resource_version, created_at, deleted_at, labels, "
    "annotations, spec, status, controller_state";

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string Kind(model::Kind k) { return std::string(model::Info(k).name); }

// Reads one row selected with kColumns, starting at column `at`.
Result<model::Object> ReadObject(const Statement& s, std::string* spec, std::string* labels,
                                 std::string* annotations, int at = 0) {
  model::Object o;
  auto kind = model::KindFromManifestName(s.Text(at + 0));
  if (!kind) return Unexpected(ErrorCode::kInternal, "store: unknown kind " + s.Text(at + 0) + " in objects");
  o.kind = *kind;
  o.meta.namespace_ = s.Text(at + 1);
  o.meta.name = s.Text(at + 2);
  o.meta.uid = s.Text(at + 3);
  o.meta.generation = s.Int(at + 4);
  o.meta.resource_version = s.Int(at + 5);
  o.meta.creation_timestamp = s.Text(at + 6);
  if (!s.IsNull(at + 7)) o.meta.deletion_timestamp = s.Text(at + 7);
  *labels = s.Text(at + 8);
  *annotations = s.Text(at + 9);
  *spec = s.Text(at + 10);
  try {
    o.meta.labels = json::parse(*labels).get<model::Labels>();
    o.meta.annotations = json::parse(*annotations).get<model::Labels>();
    o.spec = json::parse(*spec);
    o.status = json::parse(s.Text(at + 11));
    o.controller_state = json::parse(s.Text(at + 12));
  } catch (const json::exception& e) {
    return Unexpected(ErrorCode::kInternal, "store: corrupt row for " + model::Key(o) + ": " + e.what());
  }
  return o;
}

Result<model::Object> ReadObjectAt(const Statement& s, int at) {
  std::string spec, labels, annotations;
  return ReadObject(s, &spec, &labels, &annotations, at);
}

// The Kubernetes wording of a failed precondition, so users and scripts
// recognise it: re-read the object and try again.
Error Modified(const model::Object& o) {
  return MakeError(ErrorCode::kConflict, std::string(model::Info(o.kind).singular) + "/" + o.meta.name +
                                             ": the object has been modified since it was read (resourceVersion " +
                                             std::to_string(o.meta.resource_version) +
                                             "); read it again and retry");
}

}  // namespace

const char* ToString(ApplyAction action) {
  switch (action) {
    case ApplyAction::kCreated: return "created";
    case ApplyAction::kConfigured: return "configured";
    case ApplyAction::kUnchanged: return "unchanged";
  }
  return "?";
}

Result<std::optional<ObjectStore::Row>> ObjectStore::Find(model::Kind kind, const std::string& ns,
                                                         const std::string& name) {
  auto s = db_.Prepare(std::string("SELECT ") + kColumns +
                       " FROM objects WHERE kind = ? AND namespace = ? AND name = ?");
  if (!s) return Unexpected(s.error());
  (*s)->Bind(1, Kind(kind)).Bind(2, ns).Bind(3, name);
  auto row = (*s)->Step();
  if (!row) return Unexpected(row.error());
  if (!*row) return std::optional<Row>();
  Row r;
  auto o = ReadObject(**s, &r.spec_text, &r.labels_text, &r.annotations_text);
  (*s)->Reset();
  if (!o) return Unexpected(o.error());
  r.object = std::move(*o);
  return std::optional<Row>(std::move(r));
}

Result<int64_t> ObjectStore::NextResourceVersion() {
  auto s = db_.Prepare(
      "UPDATE counters SET value = value + 1 WHERE name = 'resource_version' RETURNING value");
  if (!s) return Unexpected(s.error());
  auto row = (*s)->Step();
  if (!row) return Unexpected(row.error());
  int64_t v = (*s)->Int(0);
  (*s)->Reset();
  return v;
}

Result<void> ObjectStore::AddRevision(const std::string& uid, int64_t generation,
                                      const std::string& spec, const std::string& source,
                                      const std::string& now) {
  auto ins = db_.Prepare("INSERT OR REPLACE INTO revisions VALUES (?, ?, ?, ?, ?)");
  if (!ins) return Unexpected(ins.error());
  if (auto r = (*ins)->Bind(1, uid).Bind(2, generation).Bind(3, spec).Bind(4, source).Bind(5, now).Run(); !r) {
    return r;
  }
  if (generation <= kRevisionsKept) return {};
  auto trim = db_.Prepare("DELETE FROM revisions WHERE uid = ? AND generation <= ?");
  if (!trim) return Unexpected(trim.error());
  return (*trim)->Bind(1, uid).Bind(2, generation - kRevisionsKept).Run();
}

Result<void> ObjectStore::AddEvent(const model::Object& o, const std::string& type,
                                   const std::string& reason, const std::string& message,
                                   const std::string& now) {
  // A repeat: counted, and moved to the end (a new id) so `events -w` shows it again.
  auto same = db_.Prepare(
      "SELECT id, count, first_time FROM events WHERE uid = ? AND type = ? AND reason = ? AND message = ? "
      "ORDER BY id DESC LIMIT 1");
  if (!same) return Unexpected(same.error());
  (*same)->Bind(1, o.meta.uid).Bind(2, type).Bind(3, reason).Bind(4, message);
  auto found = (*same)->Step();
  if (!found) return Unexpected(found.error());
  int64_t count = 1;
  std::string first = now;
  if (*found) {
    const int64_t id = (*same)->Int(0);
    count = (*same)->Int(1) + 1;
    first = (*same)->Text(2).empty() ? now : (*same)->Text(2);
    // A statement left on a row holds a read snapshot, which keeps the WAL
    // from ever being checkpointed: done with it.
    (*same)->Reset();
    auto del = db_.Prepare("DELETE FROM events WHERE id = ?");
    if (!del) return Unexpected(del.error());
    if (auto r = (*del)->Bind(1, id).Run(); !r) return r;
  }
  auto s = db_.Prepare(
      "INSERT INTO events (time, kind, namespace, name, uid, type, reason, message, count, first_time) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!s) return Unexpected(s.error());
  auto r = (*s)->Bind(1, now).Bind(2, Kind(o.kind)).Bind(3, o.meta.namespace_).Bind(4, o.meta.name)
               .Bind(5, o.meta.uid).Bind(6, type).Bind(7, reason).Bind(8, message).Bind(9, count)
               .Bind(10, first).Run();
  if (!r) return r;
  // Bounded per object: the newest kEventsPerObject stay.
  auto trim = db_.Prepare(
      "DELETE FROM events WHERE uid = ?1 AND id <= (SELECT id FROM events WHERE uid = ?1 "
      "ORDER BY id DESC LIMIT 1 OFFSET ?2)");
  if (!trim) return Unexpected(trim.error());
  return (*trim)->Bind(1, o.meta.uid).Bind(2, static_cast<int64_t>(kEventsPerObject)).Run();
}

Result<void> ObjectStore::Insert(const model::Object& in, const std::string& source,
                                 const std::string& now) {
  model::Object o = in;
  o.meta.uid = NewUid();
  o.meta.generation = 1;
  auto rv = NextResourceVersion();
  if (!rv) return Unexpected(rv.error());
  std::string spec = Dump(o.spec);
  auto s = db_.Prepare("INSERT INTO objects VALUES (?, ?, ?, ?, 1, ?, ?, NULL, ?, ?, ?, '{}', ?, '{}')");
  if (!s) return Unexpected(s.error());
  auto r = (*s)->Bind(1, o.meta.uid).Bind(2, Kind(o.kind)).Bind(3, o.meta.namespace_)
               .Bind(4, o.meta.name).Bind(5, *rv).Bind(6, now).Bind(7, Dump(o.meta.labels))
               .Bind(8, Dump(o.meta.annotations)).Bind(9, spec).Bind(10, source).Run();
  if (!r) return r;
  if (auto a = AddRevision(o.meta.uid, 1, spec, source, now); !a) return a;
  return AddEvent(o, "Normal", "Created", "created from " + source, now);
}

Result<void> ObjectStore::Update(const Row& row, const model::Object& in, bool spec_changed,
                                 const std::string& source, const std::string& now) {
  auto rv = NextResourceVersion();
  if (!rv) return Unexpected(rv.error());
  int64_t generation = row.object.meta.generation + (spec_changed ? 1 : 0);
  std::string spec = Dump(in.spec);
  auto s = db_.Prepare(
      "UPDATE objects SET generation = ?, resource_version = ?, labels = ?, annotations = ?, "
      "spec = ?, source = ? WHERE uid = ?");
  if (!s) return Unexpected(s.error());
  auto r = (*s)->Bind(1, generation).Bind(2, *rv).Bind(3, Dump(in.meta.labels))
               .Bind(4, Dump(in.meta.annotations)).Bind(5, spec).Bind(6, source)
               .Bind(7, row.object.meta.uid).Run();
  if (!r || !spec_changed) return r;
  if (auto a = AddRevision(row.object.meta.uid, generation, spec, source, now); !a) return a;
  return AddEvent(row.object, "Normal", "Configured",
                  "spec changed (generation " + std::to_string(generation) + ") from " + source, now);
}

Result<void> ObjectStore::Check(const Precondition& p, const model::Object& o, const std::optional<Row>& row) {
  const std::string display = std::string(model::Info(o.kind).singular) + "/" + o.meta.name;
  if (!row) {
    if (p.exists == Precondition::Exists::kPresent || p.resource_version || !p.uid.empty()) {
      return Unexpected(ErrorCode::kNotFound, display + " not found in namespace " + o.meta.namespace_);
    }
    return {};
  }
  if (p.exists == Precondition::Exists::kAbsent) {
    return Unexpected(ErrorCode::kConflict, display + " already exists in namespace " + o.meta.namespace_);
  }
  const model::ObjectMeta& stored = row->object.meta;
  if (!p.uid.empty() && p.uid != stored.uid) {
    return Unexpected(ErrorCode::kConflict, display + ": precondition failed: uid is " + stored.uid + ", not " + p.uid);
  }
  if (p.resource_version && p.resource_version != stored.resource_version) {
    model::Object read = row->object;
    read.meta.resource_version = p.resource_version;
    return Unexpected(Modified(read));
  }
  return {};
}

Result<ApplyAction> ObjectStore::ApplyOne(const ApplyRequest& request, const std::string& now) {
  const model::Object& o = request.object;
  auto found = Find(o.kind, o.meta.namespace_, o.meta.name);
  if (!found) return Unexpected(found.error());
  if (auto c = Check(request.precondition, o, *found); !c) return Unexpected(c.error());
  ApplyAction action = ApplyAction::kCreated;
  if (!*found) {
    if (auto r = Insert(o, request.source, now); !r) return Unexpected(r.error());
  } else {
    const Row& row = **found;
    if (row.object.meta.deletion_timestamp) {
      // As Kubernetes: an object being deleted takes no changes; it can be
      // applied anew once the controller has finished removing it.
      return Unexpected(ErrorCode::kConflict, std::string(model::Info(o.kind).singular) + "/" + o.meta.name +
                                                  " is being deleted (since " + *row.object.meta.deletion_timestamp +
                                                  "); apply it again once it is gone (keelson delete --wait)");
    }
    bool spec_changed = Dump(o.spec) != row.spec_text;
    bool meta_changed = Dump(o.meta.labels) != row.labels_text ||
                        Dump(o.meta.annotations) != row.annotations_text;
    if (!spec_changed && !meta_changed) return ApplyAction::kUnchanged;
    if (auto r = Update(row, o, spec_changed, request.source, now); !r) return Unexpected(r.error());
    action = ApplyAction::kConfigured;
  }
  if (!request.events.empty()) {
    auto stored = Find(o.kind, o.meta.namespace_, o.meta.name);  // for its uid
    if (!stored) return Unexpected(stored.error());
    for (const auto& e : request.events) {
      if (auto r = AddEvent((*stored)->object, e.type, e.reason, e.message, now); !r) return Unexpected(r.error());
    }
  }
  return action;
}

Result<ApplyResult> ObjectStore::Apply(const std::vector<ApplyRequest>& requests,
                                       const std::optional<PruneRequest>& prune, bool dry_run) {
  Db::Transaction tx(db_);
  if (auto r = tx.Begin(); !r) return Unexpected(r.error());
  std::string now = FormatTimestamp(clock_.Now());
  ApplyResult result;
  std::set<std::string> keep;
  for (const auto& req : requests) {
    auto action = ApplyOne(req, now);
    if (!action) return Unexpected(action.error());
    result.applied.push_back({model::DisplayName(req.object), req.object.meta.namespace_, *action});
    if (req.read_back) {
      auto stored = Find(req.object.kind, req.object.meta.namespace_, req.object.meta.name);
      if (!stored) return Unexpected(stored.error());
      if (*stored) result.applied.back().stored = std::move((*stored)->object);
    }
    keep.insert(model::Key(req.object));
  }
  if (prune) {
    if (auto r = Prune(*prune, keep, now, &result.pruned); !r) return Unexpected(r.error());
  }
  if (dry_run) return result;  // the transaction rolls back
  if (auto r = tx.Commit(); !r) return Unexpected(r.error());
  return result;
}

Result<void> ObjectStore::Prune(const PruneRequest& prune, const std::set<std::string>& keep,
                                const std::string& now, std::vector<ApplyOutcome>* pruned) {
  for (const auto& ns : prune.namespaces) {
    ListOptions opts;
    opts.namespace_ = ns;
    opts.selector = &prune.selector;
    auto objects = List(opts);
    if (!objects) return Unexpected(objects.error());
    for (const auto& o : *objects) {
      if (keep.count(model::Key(o)) || o.meta.deletion_timestamp) continue;
      auto a = o.meta.annotations.find(kPruneAnnotation);
      if (a != o.meta.annotations.end() && a->second == "disabled") continue;
      Row row{o, "", "", ""};
      if (auto r = DeleteRow(row, false, now); !r) return Unexpected(r.error());
      pruned->push_back({model::DisplayName(o), o.meta.namespace_, ApplyAction::kUnchanged});
    }
  }
  return {};
}

Result<std::optional<model::Object>> ObjectStore::Get(model::Kind kind, const std::string& ns,
                                                      const std::string& name) {
  auto row = Find(kind, ns, name);
  if (!row) return Unexpected(row.error());
  if (!*row) return std::optional<model::Object>();
  return std::optional<model::Object>(std::move((*row)->object));
}

Result<std::vector<model::Object>> ObjectStore::List(const ListOptions& options) {
  std::vector<model::Object> out;
  auto r = ForEach(options, [&out](model::Object&& o) { out.push_back(std::move(o)); });
  if (!r) return Unexpected(r.error());
  return out;
}

Result<void> ObjectStore::ForEach(const ListOptions& options,
                                  const std::function<void(model::Object&&)>& visit) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM objects WHERE 1";
  if (options.kind) sql += " AND kind = ?1";
  if (options.namespace_) sql += " AND namespace = ?2";
  sql += " ORDER BY kind, namespace, name";
  auto s = db_.Prepare(sql);
  if (!s) return Unexpected(s.error());
  if (options.kind) (*s)->Bind(1, Kind(*options.kind));
  if (options.namespace_) (*s)->Bind(2, *options.namespace_);
  std::string spec, labels, annotations;
  while (true) {
    auto row = (*s)->Step();
    if (!row) return Unexpected(row.error());
    if (!*row) break;
    auto o = ReadObject(**s, &spec, &labels, &annotations);
    if (!o) {
      (*s)->Reset();
      return Unexpected(o.error());
    }
    if (!options.selector || options.selector->Matches(o->meta.labels)) visit(std::move(*o));
  }
  return {};
}

Result<DeleteResult> ObjectStore::DeleteRow(const Row& row, bool force, const std::string& now) {
  const model::Object& o = row.object;
  // No status means no controller ever acted on it: nothing on the engine to clean.
  if (force || o.status.empty()) {
    // The version first: the removal is recorded (a watch's DELETED) at it.
    if (auto r = NextResourceVersion(); !r) return Unexpected(r.error());
    auto del = db_.Prepare("DELETE FROM objects WHERE uid = ?");
    if (!del) return Unexpected(del.error());
    if (auto r = (*del)->Bind(1, o.meta.uid).Run(); !r) return Unexpected(r.error());
    auto rev = db_.Prepare("DELETE FROM revisions WHERE uid = ?");
    if (!rev) return Unexpected(rev.error());
    if (auto r = (*rev)->Bind(1, o.meta.uid).Run(); !r) return Unexpected(r.error());
    if (auto r = AddEvent(o, "Normal", "Deleted", force && !o.meta.deletion_timestamp ? "deleted (forced)" : "deleted", now); !r) {
      return Unexpected(r.error());
    }
    return DeleteResult::kRemoved;
  }
  if (o.meta.deletion_timestamp) return DeleteResult::kMarked;
  auto rv = NextResourceVersion();
  if (!rv) return Unexpected(rv.error());
  auto mark = db_.Prepare("UPDATE objects SET deleted_at = ?, resource_version = ? WHERE uid = ?");
  if (!mark) return Unexpected(mark.error());
  if (auto r = (*mark)->Bind(1, now).Bind(2, *rv).Bind(3, o.meta.uid).Run(); !r) return Unexpected(r.error());
  if (auto r = AddEvent(o, "Normal", "Deleting", "marked for deletion", now); !r) return Unexpected(r.error());
  return DeleteResult::kMarked;
}

Result<DeleteResult> ObjectStore::Delete(model::Kind kind, const std::string& ns,
                                         const std::string& name, bool force, const Precondition& precondition) {
  Db::Transaction tx(db_);
  if (auto r = tx.Begin(); !r) return Unexpected(r.error());
  auto row = Find(kind, ns, name);
  if (!row) return Unexpected(row.error());
  if (!*row) return DeleteResult::kNotFound;
  model::Object key;
  key.kind = kind, key.meta.namespace_ = ns, key.meta.name = name;
  if (auto c = Check(precondition, key, *row); !c) return Unexpected(c.error());
  auto result = DeleteRow(**row, force, FormatTimestamp(clock_.Now()));
  if (!result) return result;
  if (auto r = tx.Commit(); !r) return Unexpected(r.error());
  return result;
}

Result<ApplyAction> ObjectStore::UpdateSpec(const model::Object& based_on, const json& spec,
                                            const std::string& source) {
  Db::Transaction tx(db_);
  if (auto r = tx.Begin(); !r) return Unexpected(r.error());
  auto row = Find(based_on.kind, based_on.meta.namespace_, based_on.meta.name);
  if (!row) return Unexpected(row.error());
  if (!*row) {
    return Unexpected(ErrorCode::kNotFound, std::string(model::Info(based_on.kind).singular) + "/" +
                                                based_on.meta.name + " not found in namespace " +
                                                based_on.meta.namespace_);
  }
  const model::Object& stored = (*row)->object;
  if (stored.meta.uid != based_on.meta.uid || stored.meta.resource_version != based_on.meta.resource_version) {
    return Unexpected(Modified(based_on));
  }
  if (Dump(spec) == (*row)->spec_text) return ApplyAction::kUnchanged;
  model::Object updated = stored;
  updated.spec = spec;
  if (auto r = Update(**row, updated, true, source, FormatTimestamp(clock_.Now())); !r) {
    return Unexpected(r.error());
  }
  if (auto r = tx.Commit(); !r) return Unexpected(r.error());
  return ApplyAction::kConfigured;
}

Result<std::vector<Revision>> ObjectStore::History(model::Kind kind, const std::string& ns,
                                                   const std::string& name) {
  auto row = Find(kind, ns, name);
  if (!row) return Unexpected(row.error());
  if (!*row) {
    return Unexpected(ErrorCode::kNotFound, std::string(model::Info(kind).singular) + "/" + name +
                                                " not found in namespace " + ns);
  }
  auto s = db_.Prepare(
      "SELECT generation, created_at, source, spec FROM revisions WHERE uid = ? ORDER BY generation");
  if (!s) return Unexpected(s.error());
  (*s)->Bind(1, (*row)->object.meta.uid);
  std::vector<Revision> out;
  while (true) {
    auto step = (*s)->Step();
    if (!step) return Unexpected(step.error());
    if (!*step) break;
    Revision rev{(*s)->Int(0), (*s)->Text(1), (*s)->Text(2), json::parse((*s)->Text(3), nullptr, false)};
    out.push_back(std::move(rev));
  }
  return out;
}

Result<std::optional<int64_t>> ObjectStore::UpdateStatus(const model::Object& o, const json& status,
                                                         const json& controller_state) {
  Db::Transaction tx(db_);
  if (auto r = tx.Begin(); !r) return Unexpected(r.error());
  auto row = Find(o.kind, o.meta.namespace_, o.meta.name);
  if (!row) return Unexpected(row.error());
  if (!*row || (*row)->object.meta.uid != o.meta.uid) return std::optional<int64_t>();  // gone
  const model::Object& stored = (*row)->object;
  if (stored.meta.resource_version != o.meta.resource_version) return Unexpected(Modified(o));
  const json& state = controller_state.is_null() ? stored.controller_state : controller_state;
  if (stored.status == status && stored.controller_state == state) return std::optional<int64_t>();
  auto rv = NextResourceVersion();
  if (!rv) return Unexpected(rv.error());
  auto s = db_.Prepare("UPDATE objects SET status = ?, controller_state = ?, resource_version = ? WHERE uid = ?");
  if (!s) return Unexpected(s.error());
  auto r = (*s)->Bind(1, Dump(status)).Bind(2, Dump(state)).Bind(3, *rv).Bind(4, o.meta.uid).Run();
  if (!r) return Unexpected(r.error());
  if (auto c = tx.Commit(); !c) return Unexpected(c.error());
  return std::optional<int64_t>(*rv);
}

Result<bool> ObjectStore::FinishDeletion(const model::Object& o) {
  Db::Transaction tx(db_);
  if (auto r = tx.Begin(); !r) return Unexpected(r.error());
  auto row = Find(o.kind, o.meta.namespace_, o.meta.name);
  if (!row) return Unexpected(row.error());
  if (!*row || (*row)->object.meta.uid != o.meta.uid || !(*row)->object.meta.deletion_timestamp) return false;
  auto r = DeleteRow(**row, true, FormatTimestamp(clock_.Now()));
  if (!r) return Unexpected(r.error());
  if (auto c = tx.Commit(); !c) return Unexpected(c.error());
  return true;
}

Result<std::map<std::string, int64_t>> ObjectStore::Versions() {
  auto s = db_.Prepare("SELECT kind, namespace, name, resource_version FROM objects");
  if (!s) return Unexpected(s.error());
  std::map<std::string, int64_t> out;
  while (true) {
    auto row = (*s)->Step();
    if (!row) return Unexpected(row.error());
    if (!*row) break;
    out[(*s)->Text(0) + "/" + (*s)->Text(1) + "/" + (*s)->Text(2)] = (*s)->Int(3);
  }
  return out;
}

Result<std::set<std::string>> ObjectStore::Uids() {
  auto s = db_.Prepare("SELECT uid FROM objects");
  if (!s) return Unexpected(s.error());
  std::set<std::string> out;
  while (true) {
    auto row = (*s)->Step();
    if (!row) return Unexpected(row.error());
    if (!*row) break;
    out.insert((*s)->Text(0));
  }
  return out;
}

Result<int64_t> ObjectStore::Counter(const std::string& name) {
  auto s = db_.Prepare("SELECT value FROM counters WHERE name = ?");
  if (!s) return Unexpected(s.error());
  auto row = (*s)->Bind(1, name).Step();
  if (!row) return Unexpected(row.error());
  const int64_t v = *row ? (*s)->Int(0) : 0;
  (*s)->Reset();
  return v;
}

Result<int64_t> ObjectStore::CurrentResourceVersion() { return Counter("resource_version"); }

Result<int64_t> ObjectStore::ChangesFloor() { return Counter("changes_floor"); }

Result<std::vector<Change>> ObjectStore::ChangesSince(int64_t after, const std::optional<model::Kind>& kind) {
  Db::Transaction tx(db_, Db::Transaction::kRead);
  if (auto r = tx.Begin(); !r) return Unexpected(r.error());
  std::set<std::string> added;
  std::vector<Change> out;
  {
    auto s = db_.Prepare("SELECT uid, type, kind, namespace, name, uid, generation, resource_version, created_at, "
                         "deleted_at, labels, annotations, spec, status, '{}' FROM changes WHERE resource_version > ?1 AND (?2 = '' OR kind = ?2) ORDER BY resource_version");
    if (!s) return Unexpected(s.error());
    (*s)->Bind(1, after).Bind(2, kind ? Kind(*kind) : std::string());
    while (true) {
      auto row = (*s)->Step();
      if (!row) return Unexpected(row.error());
      if (!*row) break;
      if ((*s)->Text(1) == "ADDED") {
        added.insert((*s)->Text(0));
        continue;
      }
      auto o = ReadObjectAt(**s, 2);
      if (!o) return Unexpected(o.error());
      out.push_back({Change::kDeleted, std::move(*o)});
    }
  }
  std::vector<Change> present;
  {
    auto s = db_.Prepare(std::string("SELECT ") + kColumns +
                         " FROM objects WHERE resource_version > ?1 AND (?2 = '' OR kind = ?2) ORDER BY resource_version");
    if (!s) return Unexpected(s.error());
    (*s)->Bind(1, after).Bind(2, kind ? Kind(*kind) : std::string());
    while (true) {
      auto row = (*s)->Step();
      if (!row) return Unexpected(row.error());
      if (!*row) break;
      auto o = ReadObjectAt(**s, 0);
      if (!o) return Unexpected(o.error());
      const Change::Type type = added.count(o->meta.uid) ? Change::kAdded : Change::kModified;
      present.push_back({type, std::move(*o)});
    }
  }
  std::vector<Change> merged;
  merged.reserve(out.size() + present.size());
  std::merge(std::make_move_iterator(out.begin()), std::make_move_iterator(out.end()),
             std::make_move_iterator(present.begin()), std::make_move_iterator(present.end()), std::back_inserter(merged),
             [](const Change& a, const Change& b) { return a.object.meta.resource_version < b.object.meta.resource_version; });
  return merged;
}

Result<std::vector<std::string>> ObjectStore::Namespaces() {
  auto s = db_.Prepare("SELECT DISTINCT namespace FROM objects ORDER BY namespace");
  if (!s) return Unexpected(s.error());
  std::vector<std::string> out;
  while (true) {
    auto row = (*s)->Step();
    if (!row) return Unexpected(row.error());
    if (!*row) break;
    out.push_back((*s)->Text(0));
  }
  return out;
}

Result<std::string> ObjectStore::GetMeta(const std::string& key) {
  auto s = db_.Prepare("SELECT value FROM meta WHERE key = ?");
  if (!s) return Unexpected(s.error());
  auto row = (*s)->Bind(1, key).Step();
  if (!row) return Unexpected(row.error());
  std::string value = *row ? (*s)->Text(0) : "";
  (*s)->Reset();
  return value;
}

Result<void> ObjectStore::SetMeta(const std::string& key, const std::string& value) {
  auto s = db_.Prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  if (!s) return Unexpected(s.error());
  if (auto r = (*s)->Bind(1, key).Bind(2, value).Run(); !r) return Unexpected(r.error());
  return {};
}

Result<std::string> ObjectStore::StoreId() {
  auto s = db_.Prepare("SELECT value FROM meta WHERE key = 'store_id'");
  if (!s) return Unexpected(s.error());
  auto row = (*s)->Step();
  if (!row) return Unexpected(row.error());
  if (!*row) return Unexpected(ErrorCode::kInternal, "store: no store_id in meta");
  std::string id = (*s)->Text(0);
  (*s)->Reset();
  return id;
}

Result<void> ObjectStore::RecordEvent(const model::Object& object, const std::string& type,
                                      const std::string& reason, const std::string& message) {
  Db::Transaction tx(db_);
  if (auto r = tx.Begin(); !r) return r;
  if (auto r = AddEvent(object, type, reason, message, FormatTimestamp(clock_.Now())); !r) return r;
  return tx.Commit();
}

Result<int64_t> ObjectStore::ExpireEvents(const std::string& before) {
  auto s = db_.Prepare("DELETE FROM events WHERE time < ?");
  if (!s) return Unexpected(s.error());
  if (auto r = (*s)->Bind(1, before).Run(); !r) return Unexpected(r.error());
  return db_.Changes();
}

Result<std::vector<Event>> ObjectStore::Events(const EventFilter& f) {
  std::string sql =
      "SELECT id, time, kind, namespace, name, uid, type, reason, message, count, first_time FROM events "
      "WHERE id > ?1";
  if (f.kind) sql += " AND kind = ?2";
  if (f.namespace_) sql += " AND namespace = ?3";
  if (f.name) sql += " AND name = ?4";
  if (f.uid) sql += " AND uid = ?5";
  if (!f.since.empty()) sql += " AND time >= ?6";
  sql += f.limit ? " ORDER BY id DESC LIMIT ?7" : " ORDER BY id";
  auto s = db_.Prepare(sql);
  if (!s) return Unexpected(s.error());
  (*s)->Bind(1, f.after_id);
  if (f.kind) (*s)->Bind(2, Kind(*f.kind));
  if (f.namespace_) (*s)->Bind(3, *f.namespace_);
  if (f.name) (*s)->Bind(4, *f.name);
  if (f.uid) (*s)->Bind(5, *f.uid);
  if (!f.since.empty()) (*s)->Bind(6, f.since);
  if (f.limit) (*s)->Bind(7, static_cast<int64_t>(f.limit));
  std::vector<Event> out;
  while (true) {
    auto step = (*s)->Step();
    if (!step) return Unexpected(step.error());
    if (!*step) break;
    Event e;
    e.id = (*s)->Int(0);
    e.time = (*s)->Text(1);
    e.kind = model::KindFromManifestName((*s)->Text(2)).value_or(model::Kind::kRunner);
    e.namespace_ = (*s)->Text(3);
    e.name = (*s)->Text(4);
    e.uid = (*s)->Text(5);
    e.type = (*s)->Text(6);
    e.reason = (*s)->Text(7);
    e.message = (*s)->Text(8);
    e.count = (*s)->Int(9);
    e.first_time = (*s)->Text(10);
    out.push_back(std::move(e));
  }
  if (f.limit) std::reverse(out.begin(), out.end());  // oldest first, as without a limit
  return out;
}

}  // namespace keelson::store
