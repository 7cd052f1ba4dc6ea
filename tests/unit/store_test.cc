#include <filesystem>
#include <thread>

#include <doctest/doctest.h>

#include "fake_clock.h"
#include "store/object_store.h"

using namespace keelson;
using namespace keelson::store;
using nlohmann::json;

namespace {

model::Object Runner(const std::string& name, const std::string& image = "busybox:1") {
  model::Object o;
  o.kind = model::Kind::kRunner;
  o.meta.name = name;
  o.spec = {{"image", image}};
  return o;
}

struct Fixture {
  testing::FakeClock clock;
  std::unique_ptr<Db> db = *Db::Open(":memory:");
  ObjectStore store{*db, clock};

  ApplyResult Apply(std::vector<model::Object> objects, bool dry_run = false,
                    std::optional<PruneRequest> prune = std::nullopt) {
    std::vector<ApplyRequest> reqs;
    for (auto& o : objects) reqs.push_back({std::move(o), "test.yaml"});
    auto r = store.Apply(reqs, prune, dry_run);
    REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
    return *r;
  }
  model::Object Get(const std::string& name) {
    auto o = store.Get(model::Kind::kRunner, "default", name);
    REQUIRE(o);
    REQUIRE(*o);
    return **o;
  }
};

std::string TempDb() {
  auto p = std::filesystem::temp_directory_path() /
           ("keelson-test-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()) + "/state.db");
  return p.string();
}

}  // namespace

TEST_CASE_FIXTURE(Fixture, "ObjectStore: created, unchanged, configured") {
  CHECK(Apply({Runner("web")}).applied[0].action == ApplyAction::kCreated);
  CHECK(Apply({Runner("web")}).applied[0].action == ApplyAction::kUnchanged);
  CHECK(Apply({Runner("web", "busybox:2")}).applied[0].action == ApplyAction::kConfigured);
  auto o = Get("web");
  CHECK(o.spec["image"] == "busybox:2");
  CHECK(o.meta.generation == 2);
  CHECK(o.meta.uid.size() == 36);
  CHECK(o.meta.creation_timestamp == "2027-01-15T08:00:00Z");
}

TEST_CASE_FIXTURE(Fixture, "ObjectStore: generation moves on spec changes only; resourceVersion on every write") {
  Apply({Runner("web")});
  auto first = Get("web");
  model::Object labelled = Runner("web");
  labelled.meta.labels = {{"team", "ci"}};
  CHECK(Apply({labelled}).applied[0].action == ApplyAction::kConfigured);
  auto second = Get("web");
  CHECK(second.meta.generation == 1);
  CHECK(second.meta.resource_version > first.meta.resource_version);
  CHECK(second.meta.uid == first.meta.uid);
  Apply({labelled});  // unchanged: no write
  CHECK(Get("web").meta.resource_version == second.meta.resource_version);
  Apply({Runner("other")});
  CHECK(Get("other").meta.resource_version == second.meta.resource_version + 1);
}

TEST_CASE_FIXTURE(Fixture, "ObjectStore: apply is all or nothing") {
  REQUIRE(db->Exec("CREATE TEMP TRIGGER boom BEFORE INSERT ON objects WHEN NEW.name = 'boom' "
                   "BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"));
  std::vector<ApplyRequest> reqs = {{Runner("a"), "f"}, {Runner("boom"), "f"}};
  auto r = store.Apply(reqs, std::nullopt, false);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("injected failure") != std::string::npos);
  auto list = store.List({});
  REQUIRE(list);
  CHECK(list->empty());
}

TEST_CASE_FIXTURE(Fixture, "ObjectStore: dry run reports and stores nothing") {
  auto r = Apply({Runner("web")}, true);
  CHECK(r.applied[0].action == ApplyAction::kCreated);
  CHECK(store.List({})->empty());
}

TEST_CASE_FIXTURE(Fixture, "ObjectStore: delete removes at once what never reached the engine") {
  Apply({Runner("web")});
  CHECK(*store.Delete(model::Kind::kRunner, "default", "web", false) == DeleteResult::kRemoved);
  CHECK(*store.Delete(model::Kind::kRunner, "default", "web", false) == DeleteResult::kNotFound);
  CHECK_FALSE(*store.Get(model::Kind::kRunner, "default", "web"));
}

TEST_CASE_FIXTURE(Fixture, "ObjectStore: delete marks an object the controller has acted on") {
  Apply({Runner("web")});
  REQUIRE(db->Exec("UPDATE objects SET status = '{\"observedGeneration\":1}'"));
  clock.Advance(std::chrono::seconds(5));
  CHECK(*store.Delete(model::Kind::kRunner, "default", "web", false) == DeleteResult::kMarked);
  auto o = Get("web");
  CHECK(o.meta.deletion_timestamp == "2027-01-15T08:00:05Z");
  auto rv = o.meta.resource_version;
  CHECK(*store.Delete(model::Kind::kRunner, "default", "web", false) == DeleteResult::kMarked);
  CHECK(Get("web").meta.resource_version == rv);  // idempotent: no second write
  CHECK(*store.Delete(model::Kind::kRunner, "default", "web", true) == DeleteResult::kRemoved);
}

TEST_CASE_FIXTURE(Fixture, "ObjectStore: prune removes matching objects absent from the apply") {
  auto labelled = [](const std::string& name, const std::string& team) {
    model::Object o = Runner(name);
    o.meta.labels = {{"team", team}};
    return o;
  };
  model::Object keep = labelled("keep", "ci");
  keep.meta.annotations = {{"keelson.dev/prune", "disabled"}};
  Apply({labelled("a", "ci"), labelled("b", "ci"), labelled("c", "web"), keep});
  PruneRequest prune{*model::Selector::Parse("team=ci"), {"default"}};
  auto dry = Apply({labelled("a", "ci")}, true, prune);
  REQUIRE(dry.pruned.size() == 1);
  CHECK(dry.pruned[0].display == "runner/b");
  CHECK(store.List({})->size() == 4);
  auto real = Apply({labelled("a", "ci")}, false, prune);
  REQUIRE(real.pruned.size() == 1);
  std::vector<std::string> names;
  for (const auto& o : *store.List({})) names.push_back(o.meta.name);
  CHECK(names == std::vector<std::string>{"a", "c", "keep"});
}

TEST_CASE_FIXTURE(Fixture, "ObjectStore: history keeps the last 10 revisions with their source") {
  for (int i = 0; i < 13; ++i) Apply({Runner("web", "busybox:" + std::to_string(i))});
  auto h = store.History(model::Kind::kRunner, "default", "web");
  REQUIRE(h);
  REQUIRE(h->size() == kRevisionsKept);
  CHECK(h->front().generation == 4);
  CHECK(h->back().generation == 13);
  CHECK(h->back().spec["image"] == "busybox:12");
  CHECK(h->back().source == "test.yaml");
}

TEST_CASE_FIXTURE(Fixture, "ObjectStore: list filters by kind, namespace and selector") {
  model::Object other = Runner("x");
  other.meta.namespace_ = "team-b";
  other.meta.labels = {{"a", "b"}};
  model::Object vol;
  vol.kind = model::Kind::kVolume;
  vol.meta.name = "cache";
  Apply({Runner("web"), other, vol});
  CHECK(store.List({})->size() == 3);
  CHECK(store.List({model::Kind::kRunner, std::nullopt, nullptr})->size() == 2);
  CHECK(store.List({std::nullopt, "team-b", nullptr})->size() == 1);
  auto sel = *model::Selector::Parse("a=b");
  CHECK(store.List({std::nullopt, std::nullopt, &sel})->at(0).meta.name == "x");
}

TEST_CASE_FIXTURE(Fixture, "ObjectStore: events record what happened, filterable and in order") {
  Apply({Runner("web")});
  Apply({Runner("web", "busybox:2")});
  store::EventFilter by_name;
  by_name.kind = model::Kind::kRunner;
  by_name.namespace_ = "default";
  by_name.name = "web";
  auto events = store.Events(by_name);
  REQUIRE(events);
  REQUIRE(events->size() == 2);
  CHECK(events->at(0).reason == "Created");
  CHECK(events->at(1).reason == "Configured");
  store::EventFilter after;
  after.after_id = events->at(0).id;
  auto newer = store.Events(after);
  CHECK(newer->size() == 1);
}

TEST_CASE_FIXTURE(Fixture, "ObjectStore: a repeated event counts up, moves to the end, and belongs to its object's uid") {
  Apply({Runner("web")});
  auto web = Get("web");
  REQUIRE(store.RecordEvent(web, "Warning", "Failed", "pull x: not found"));
  REQUIRE(store.RecordEvent(web, "Normal", "Started", "started"));
  clock.Advance(std::chrono::seconds(30));
  REQUIRE(store.RecordEvent(web, "Warning", "Failed", "pull x: not found"));
  store::EventFilter mine;
  mine.uid = web.meta.uid;
  auto events = *store.Events(mine);
  REQUIRE(events.size() == 3);  // Created, Started, Failed (x2)
  CHECK(events.back().reason == "Failed");
  CHECK(events.back().count == 2);
  CHECK(events.back().first_time == "2027-01-15T08:00:00Z");
  CHECK(events.back().time == "2027-01-15T08:00:30Z");

  // A new object of the same name does not inherit them.
  REQUIRE(store.Delete(model::Kind::kRunner, "default", "web", true));
  Apply({Runner("web")});
  mine.uid = Get("web").meta.uid;
  CHECK(store.Events(mine)->size() == 1);  // its own Created
}

TEST_CASE("ObjectStore: recording events leaves no read open, so the WAL can always be checkpointed") {
  const std::string path = TempDb();
  testing::FakeClock clock;
  auto db = *Db::Open(path);
  ObjectStore store(*db, clock);
  std::vector<ApplyRequest> reqs;
  reqs.push_back({Runner("web"), "test.yaml"});
  REQUIRE(store.Apply(reqs, std::nullopt, false));
  auto web = **store.Get(model::Kind::kRunner, "default", "web");
  for (int i = 0; i < 3; ++i) REQUIRE(store.RecordEvent(web, "Warning", "Failed", "same"));  // repeats
  auto other = *Db::Open(path);
  auto cp = other->Prepare("PRAGMA wal_checkpoint(TRUNCATE)");
  REQUIRE(cp);
  REQUIRE((*cp)->Step().value());
  CHECK((*cp)->Int(0) == 0);  // not blocked by a reader left open
  (*cp)->Reset();
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST_CASE_FIXTURE(Fixture, "ObjectStore: events are bounded per object and expire; since and limit select") {
  Apply({Runner("web")});
  auto web = Get("web");
  for (int i = 0; i < store::kEventsPerObject + 50; ++i) {
    clock.Advance(std::chrono::seconds(1));
    REQUIRE(store.RecordEvent(web, "Normal", "Tick", "tick " + std::to_string(i)));
  }
  store::EventFilter mine;
  mine.uid = web.meta.uid;
  auto all = *store.Events(mine);
  CHECK(all.size() == static_cast<size_t>(store::kEventsPerObject));
  CHECK(all.back().message == "tick 149");
  mine.limit = 3;
  auto last = *store.Events(mine);
  REQUIRE(last.size() == 3);
  CHECK(last.front().message == "tick 147");  // oldest first
  mine.limit = 0;
  mine.since = FormatTimestamp(clock.Now() - std::chrono::seconds(9));
  CHECK(store.Events(mine)->size() == 10);
  auto gone = store.ExpireEvents(FormatTimestamp(clock.Now() - std::chrono::seconds(19)));
  REQUIRE(gone);
  CHECK(*gone == store::kEventsPerObject - 20);
  mine.since.clear();
  CHECK(store.Events(mine)->size() == 20);
}

TEST_CASE_FIXTURE(Fixture, "ObjectStore: an object being deleted takes no apply until it is gone") {
  Apply({Runner("web")});
  REQUIRE(store.UpdateStatus(Get("web"), {{"state", "running"}}));  // reached the engine: a delete marks it
  REQUIRE(*store.Delete(model::Kind::kRunner, "default", "web", false) == DeleteResult::kMarked);
  std::vector<ApplyRequest> reqs;
  reqs.push_back({Runner("web", "busybox:2"), "test.yaml"});
  auto r = store.Apply(reqs, std::nullopt, false);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == keelson::ErrorCode::kConflict);
  CHECK(r.error().message.find("runner/web is being deleted") == 0);
  CHECK(Get("web").spec["image"] == "busybox:1");
}

TEST_CASE_FIXTURE(Fixture, "ObjectStore: a status write is conditional on the resourceVersion read") {
  Apply({Runner("web")});
  auto read = Get("web");
  auto rv = store.UpdateStatus(read, {{"state", "running"}});
  REQUIRE(rv);
  REQUIRE(rv->has_value());
  CHECK(**rv == Get("web").meta.resource_version);
  CHECK(**rv == store.Versions()->at("Runner/default/web"));
  // Unchanged: no write, no new version.
  auto same = store.UpdateStatus(Get("web"), {{"state", "running"}});
  REQUIRE(same);
  CHECK_FALSE(same->has_value());

  // A spec applied between the read and the status write: a conflict, and
  // the stored status is left as it was.
  auto stale = Get("web");
  Apply({Runner("web", "busybox:2")});
  auto conflict = store.UpdateStatus(stale, {{"state", "exited"}});
  REQUIRE_FALSE(conflict);
  CHECK(conflict.error().code == keelson::ErrorCode::kConflict);
  CHECK(conflict.error().message.find("has been modified") != std::string::npos);
  CHECK(Get("web").status["state"] == "running");
}

TEST_CASE_FIXTURE(Fixture, "ObjectStore: a spec write based on a stale read is refused, not lost") {
  Apply({Runner("web")});
  auto read = Get("web");
  Apply({Runner("web", "busybox:2")});  // another writer, after the read
  auto r = store.UpdateSpec(read, {{"image", "busybox:1"}, {"user", "1000"}}, "keelson scale");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == keelson::ErrorCode::kConflict);
  CHECK(Get("web").spec["image"] == "busybox:2");
  CHECK(Get("web").meta.generation == 2);

  auto fresh = Get("web");
  auto ok = store.UpdateSpec(fresh, {{"image", "busybox:2"}, {"user", "1000"}}, "keelson scale");
  REQUIRE(ok);
  CHECK(*ok == ApplyAction::kConfigured);
  CHECK(Get("web").meta.generation == 3);
  // A re-created object of the same name is another object: refused too.
  REQUIRE(store.Delete(model::Kind::kRunner, "default", "web", true));
  Apply({Runner("web")});
  auto gone = store.UpdateSpec(fresh, {{"image", "busybox:3"}}, "x");
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == keelson::ErrorCode::kConflict);
}

TEST_CASE("Db: a store on disk is created with its directories, in WAL mode, migrated once") {
  std::string path = TempDb();
  {
    auto db = Db::Open(path);
    REQUIRE(db);
    auto mode = (*db)->Prepare("PRAGMA journal_mode");
    REQUIRE((*mode)->Step());
    CHECK((*mode)->Text(0) == "wal");
  }
  auto again = Db::Open(path);
  REQUIRE(again);
  REQUIRE((*again)->Exec("PRAGMA user_version=99"));
  again->reset();
  auto newer = Db::Open(path);
  REQUIRE_FALSE(newer);
  CHECK(newer.error().message.find("newer than this keelson knows") != std::string::npos);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST_CASE("ObjectStore: concurrent writers on one file lose nothing") {
  std::string path = TempDb();
  REQUIRE(Db::Open(path));
  constexpr int kThreads = 4, kWrites = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      RealClock clock;
      auto db = Db::Open(path);
      if (!db) return void(++failures);
      ObjectStore store(**db, clock);
      for (int i = 0; i < kWrites; ++i) {
        // Each thread creates its own objects and rewrites one shared object.
        std::vector<ApplyRequest> reqs = {{Runner("t" + std::to_string(t) + "-" + std::to_string(i)), "f"},
                                          {Runner("shared", "img:" + std::to_string(t * 1000 + i)), "f"}};
        if (!store.Apply(reqs, std::nullopt, false)) ++failures;
        if (!store.List({})) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  RealClock clock;
  auto db = Db::Open(path);
  ObjectStore store(**db, clock);
  auto all = store.List({});
  REQUIRE(all);
  CHECK(all->size() == kThreads * kWrites + 1);
  auto shared = *store.Get(model::Kind::kRunner, "default", "shared");
  // Every write bumped the store-wide counter exactly once: nothing lost.
  int64_t max_rv = 0;
  for (const auto& o : *all) max_rv = std::max(max_rv, o.meta.resource_version);
  CHECK(max_rv == 2 * kThreads * kWrites);
  CHECK(shared->meta.generation == kThreads * kWrites);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST_CASE_FIXTURE(Fixture, "ObjectStore: preconditions decide create, update and delete") {
  ApplyRequest create{Runner("web"), "api"};
  create.precondition.exists = Precondition::Exists::kAbsent;
  create.read_back = true;
  auto made = store.Apply({create}, std::nullopt, false);
  REQUIRE(made);
  REQUIRE(made->applied[0].stored);
  const model::Object first = *made->applied[0].stored;
  CHECK(first.meta.generation == 1);
  // A second create of the same name is refused, and changes nothing.
  auto again = store.Apply({create}, std::nullopt, false);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ErrorCode::kConflict);
  CHECK(again.error().message.find("already exists") != std::string::npos);

  ApplyRequest update{Runner("web", "busybox:2"), "api"};
  update.precondition = {Precondition::Exists::kPresent, first.meta.resource_version, ""};
  REQUIRE(store.Apply({update}, std::nullopt, false));
  // The same precondition again is stale now: Conflict, and the spec stays.
  update.object.spec["image"] = "busybox:3";
  auto stale = store.Apply({update}, std::nullopt, false);
  REQUIRE_FALSE(stale);
  CHECK(stale.error().code == ErrorCode::kConflict);
  CHECK(stale.error().message.find("has been modified") != std::string::npos);
  CHECK(Get("web").spec["image"] == "busybox:2");

  ApplyRequest missing{Runner("nope"), "api"};
  missing.precondition.exists = Precondition::Exists::kPresent;
  auto absent = store.Apply({missing}, std::nullopt, false);
  REQUIRE_FALSE(absent);
  CHECK(absent.error().code == ErrorCode::kNotFound);
  CHECK_FALSE(*store.Get(model::Kind::kRunner, "default", "nope"));

  auto wrong_uid = store.Delete(model::Kind::kRunner, "default", "web", false, {Precondition::Exists::kAny, 0, "other"});
  REQUIRE_FALSE(wrong_uid);
  CHECK(wrong_uid.error().code == ErrorCode::kConflict);
  CHECK(*store.Get(model::Kind::kRunner, "default", "web"));
  auto deleted = store.Delete(model::Kind::kRunner, "default", "web", false, {Precondition::Exists::kAny, 0, first.meta.uid});
  REQUIRE(deleted);
  CHECK(*deleted == DeleteResult::kRemoved);
}

TEST_CASE_FIXTURE(Fixture, "ObjectStore: ChangesSince gives each object's latest state and removals in order") {
  const int64_t start = *store.CurrentResourceVersion();
  Apply({Runner("a"), Runner("b")});
  auto a = Get("a");
  const int64_t after_create = *store.CurrentResourceVersion();
  Apply({Runner("a", "busybox:2")});
  REQUIRE(store.UpdateStatus(Get("b"), {{"phase", "Running"}}));
  REQUIRE(*store.Delete(model::Kind::kRunner, "default", "b", false) == DeleteResult::kMarked);
  REQUIRE(store.FinishDeletion(Get("b")));

  auto all = store.ChangesSince(start);
  REQUIRE(all);
  REQUIRE(all->size() == 2);
  // a was created after `start`: ADDED, in its latest state; b is gone: DELETED, as it was.
  CHECK((*all)[0].type == Change::kAdded);
  CHECK((*all)[0].object.meta.name == "a");
  CHECK((*all)[0].object.spec["image"] == "busybox:2");
  CHECK((*all)[1].type == Change::kDeleted);
  CHECK((*all)[1].object.meta.name == "b");
  CHECK((*all)[1].object.status["phase"] == "Running");
  CHECK((*all)[1].object.meta.resource_version == *store.CurrentResourceVersion());
  CHECK((*all)[0].object.meta.resource_version < (*all)[1].object.meta.resource_version);

  auto later = store.ChangesSince(after_create);
  REQUIRE(later);
  REQUIRE(later->size() == 2);
  CHECK((*later)[0].type == Change::kModified);  // a existed before `after_create`
  CHECK((*later)[0].object.meta.uid == a.meta.uid);
  CHECK((*later)[1].type == Change::kDeleted);

  auto none = store.ChangesSince(*store.CurrentResourceVersion());
  REQUIRE(none);
  CHECK(none->empty());
  auto images = store.ChangesSince(start, model::Kind::kImage);
  REQUIRE(images);
  CHECK(images->empty());
  CHECK(*store.ChangesFloor() <= start);
}
