#pragma once
// The desired state: keelson's objects in SQLite, with their revisions and events.
//
// Rules (the contract's): uid is random and stable; generation starts at 1 and
// grows by one on each spec change only; resourceVersion is one store-wide
// counter, +1 on every write of an object. Every write is an IMMEDIATE
// transaction, so any number of processes can apply, get and delete at once.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/object.h"
#include "model/selector.h"
#include "store/db.h"
#include "util/clock.h"
#include "util/result.h"

namespace keelson::store {

enum class ApplyAction { kCreated, kConfigured, kUnchanged };
const char* ToString(ApplyAction action);

/// An event to record with an object, as Events() returns it.
struct EventNote {
  std::string type;  ///< Normal or Warning
  std::string reason;
  std::string message;
};

/// What must hold of the stored object for a write to go ahead (the API's
/// create and update; apply takes whatever it finds).
struct Precondition {
  enum class Exists { kAny, kAbsent, kPresent };
  Exists exists = Exists::kAny;  ///< kAbsent: kConflict when it exists; kPresent: kNotFound when it does not
  int64_t resource_version = 0;  ///< not 0: kConflict unless the stored object has this resourceVersion
  std::string uid;               ///< not empty: kConflict unless the stored object has this uid
};

struct ApplyRequest {
  model::Object object;  ///< kind, name, namespace, labels, annotations, spec
  std::string source;    ///< the file it came from, kept with the revision
  /// Recorded with the object when it is created or configured (policy
  /// warnings and audit findings); not when it is unchanged.
  std::vector<EventNote> events = {};
  Precondition precondition = {};
  /// Read the object back after the write (ApplyOutcome::stored), inside
  /// the transaction: what was written, also on a dry run.
  bool read_back = false;
};

/// apply --prune: objects in `namespaces` that match `selector` and are not in
/// the request are deleted, unless annotated keelson.dev/prune: disabled.
struct PruneRequest {
  model::Selector selector;
  std::set<std::string> namespaces;
};

struct ApplyOutcome {
  std::string display;  ///< "runner/web"
  std::string namespace_;
  ApplyAction action;
  std::optional<model::Object> stored = std::nullopt;  ///< with ApplyRequest::read_back
};

struct ApplyResult {
  std::vector<ApplyOutcome> applied;
  std::vector<ApplyOutcome> pruned;  ///< action unused
};

struct ListOptions {
  std::optional<model::Kind> kind;       ///< all kinds when unset
  std::optional<std::string> namespace_;  ///< all namespaces when unset
  const model::Selector* selector = nullptr;
};

enum class DeleteResult {
  kNotFound,
  kMarked,   ///< deletionTimestamp set: the controller removes its engine objects
  kRemoved,  ///< gone at once (never reached the engine, or forced)
};

struct Revision {
  int64_t generation = 0;
  std::string time;
  std::string source;
  nlohmann::json spec;
};

/// One step of an object's life, as a watch reports it.
struct Change {
  enum Type { kAdded, kModified, kDeleted };
  Type type = kModified;
  model::Object object;
};

struct Event {
  int64_t id = 0;
  std::string time;        ///< when it last happened
  std::string first_time;  ///< when it first happened
  int64_t count = 1;       ///< how many times (the same type, reason and message for the same object)
  model::Kind kind = model::Kind::kRunner;
  std::string namespace_;
  std::string name;
  std::string uid;
  std::string type;  ///< Normal or Warning
  std::string reason;
  std::string message;
};

struct EventFilter {
  std::optional<model::Kind> kind;
  std::optional<std::string> namespace_;
  std::optional<std::string> name;
  std::optional<std::string> uid;    ///< only this object's (not a predecessor's of the same name)
  int64_t after_id = 0;              ///< only events with a larger id (for -w)
  std::string since;                 ///< only events last seen at or after this time (RFC 3339)
  size_t limit = 0;                  ///< only the newest `limit` (0: all)
};

/// An object keeps at most this many events (the newest); older ones go.
inline constexpr int kEventsPerObject = 100;

inline constexpr int kRevisionsKept = 10;
inline constexpr const char* kPruneAnnotation = "keelson.dev/prune";

class ObjectStore {
 public:
  /// `db` and `clock` must outlive the store. Not thread-safe (one per thread).
  ObjectStore(Db& db, const Clock& clock) : db_(db), clock_(clock) {}
  /// The database it reads and writes (for the stores beside it).
  Db& db() { return db_; }

  /// Stores every request, and prunes, in one transaction: all or nothing.
  /// With `dry_run` the same work is done and rolled back, so the result is
  /// exactly what a real apply would do now.
  Result<ApplyResult> Apply(const std::vector<ApplyRequest>& requests,
                            const std::optional<PruneRequest>& prune, bool dry_run);

  Result<std::optional<model::Object>> Get(model::Kind kind, const std::string& ns,
                                           const std::string& name);
  /// Ordered by kind, namespace, name.
  Result<std::vector<model::Object>> List(const ListOptions& options);
  /// Like List, but hands each object to `visit` as it is read (ordered by kind,
  /// namespace, name), so a caller that prints can stream without holding them all.
  Result<void> ForEach(const ListOptions& options, const std::function<void(model::Object&&)>& visit);

  /// Marks for deletion; removes at once when `force` or the controller never
  /// acted on the object (no status). Idempotent: a marked object stays marked.
  /// `precondition` (its uid and resourceVersion) must hold: kConflict otherwise.
  Result<DeleteResult> Delete(model::Kind kind, const std::string& ns, const std::string& name,
                              bool force, const Precondition& precondition = {});

  /// Replaces the spec of `based_on` as apply would (generation +1 when it
  /// differs). `based_on` is the object as the caller read it: its uid and
  /// resourceVersion are the precondition. kConflict when the stored object
  /// changed since (re-read and retry), kNotFound when it is gone.
  Result<ApplyAction> UpdateSpec(const model::Object& based_on, const nlohmann::json& spec,
                                 const std::string& source);

  /// The last kRevisionsKept specs, oldest first.
  Result<std::vector<Revision>> History(model::Kind kind, const std::string& ns,
                                        const std::string& name);

  /// Writes `status` for `o` as the caller read it (its resourceVersion is
  /// the precondition) when it differs from the stored one. Returns the
  /// resourceVersion the write gave the object; nullopt (not an error) when
  /// unchanged or the object is gone (another uid). kConflict when the object
  /// changed since it was read. Bumps resourceVersion only.
  /// `controller_state` (null: keep the stored one) is written with it: the
  /// controller's memory of the object, never shown.
  Result<std::optional<int64_t>> UpdateStatus(const model::Object& o, const nlohmann::json& status,
                                              const nlohmann::json& controller_state = nullptr);
  /// The controller's last step of a deletion: removes the object (same uid,
  /// marked for deletion) and its revisions. False when there is none such.
  Result<bool> FinishDeletion(const model::Object& o);
  /// Every object's key ("Runner/default/web") and resourceVersion: a cheap
  /// scan for the controller's change watcher.
  Result<std::map<std::string, int64_t>> Versions();
  /// The uids of every stored object (the owners engine objects may name).
  Result<std::set<std::string>> Uids();
  /// This store's random id (16 hex digits, made with the database): engine
  /// objects carry it, so stores sharing an engine keep to their own.
  Result<std::string> StoreId();

  /// Every object changed after resourceVersion `after` (of `kind`, or all),
  /// in resourceVersion order, as a watch sends them: each present one in
  /// its latest state (kAdded when created after `after`), each removed one
  /// as it was when removed (at the removal's resourceVersion). States an
  /// object passed through in between are not kept. `after` must not be
  /// below ChangesFloor().
  Result<std::vector<Change>> ChangesSince(int64_t after, const std::optional<model::Kind>& kind = std::nullopt);
  /// The oldest resourceVersion ChangesSince can start from (removals
  /// before it are forgotten).
  Result<int64_t> ChangesFloor();
  /// The newest resourceVersion handed out (a list's resourceVersion).
  Result<int64_t> CurrentResourceVersion();
  /// The namespaces that hold at least one object, sorted.
  Result<std::vector<std::string>> Namespaces();
  /// A value of the store's own settings (meta table), "" when unset.
  Result<std::string> GetMeta(const std::string& key);
  Result<void> SetMeta(const std::string& key, const std::string& value);

  /// Records an event with the object. The same type, reason and message
  /// for the same object again counts up (its row moves to the end, so a
  /// watcher sees it again) instead of adding a row; an object keeps its
  /// newest kEventsPerObject.
  Result<void> RecordEvent(const model::Object& object, const std::string& type,
                           const std::string& reason, const std::string& message);
  /// Oldest first.
  Result<std::vector<Event>> Events(const EventFilter& filter);
  /// Deletes events last seen before `before` (RFC 3339). Returns how many.
  Result<int64_t> ExpireEvents(const std::string& before);

 private:
  struct Row;
  Result<std::optional<Row>> Find(model::Kind kind, const std::string& ns, const std::string& name);
  Result<ApplyAction> ApplyOne(const ApplyRequest& request, const std::string& now);
  Result<void> Check(const Precondition& p, const model::Object& o, const std::optional<Row>& row);
  Result<void> Insert(const model::Object& object, const std::string& source, const std::string& now);
  Result<void> Update(const Row& row, const model::Object& object, bool spec_changed,
                      const std::string& source, const std::string& now);
  Result<DeleteResult> DeleteRow(const Row& row, bool force, const std::string& now);
  Result<void> Prune(const PruneRequest& prune, const std::set<std::string>& keep,
                     const std::string& now, std::vector<ApplyOutcome>* pruned);
  Result<int64_t> NextResourceVersion();
  Result<int64_t> Counter(const std::string& name);
  Result<void> AddRevision(const std::string& uid, int64_t generation, const std::string& spec,
                           const std::string& source, const std::string& now);
  Result<void> AddEvent(const model::Object& o, const std::string& type, const std::string& reason,
                     const std::string& message, const std::string& now);

  Db& db_;
  const Clock& clock_;
};

}  // namespace keelson::store
