#include "controller/manager.h"

#include <unistd.h>

#include <random>

#include <spdlog/spdlog.h>

#include "controller/reconciler.h"
#include "model/object.h"
#include "reconcile/labels.h"
#include "store/db.h"
#include "store/lease.h"
#include "store/object_store.h"

namespace keelson::controller {
namespace {

using std::chrono::milliseconds;

// One store connection per thread: a Db is not shared.
struct Session {
  std::unique_ptr<store::Db> db;
  std::unique_ptr<store::ObjectStore> store;
};

Result<Session> Open(const std::string& path, const Clock& clock) {
  auto db = store::Db::Open(path);
  if (!db) return Unexpected(db.error());
  Session s;
  s.db = std::move(*db);
  s.store = std::make_unique<store::ObjectStore>(*s.db, clock);
  return s;
}

// Container actions that say nothing about state keelson cares for.
bool Noise(const std::string& action) {
  for (const char* prefix : {"exec_", "attach", "resize", "top", "copy", "archive-path", "extract-to-dir", "export", "commit"}) {
    if (action.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

}  // namespace

std::string LeaseHolderName() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::mt19937_64 rng{std::random_device{}()};
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + std::to_string(rng() % 100000);
}

Manager::Manager(docker::Engine& engine, const Clock& clock, ManagerOptions options)
    : engine_(engine), clock_(clock), opts_(std::move(options)), cache_(engine), queue_(clock, opts_.backoff) {}

Manager::~Manager() {
  Stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void Manager::Stop() {
  stop_ = true;
  cancel_events_ = true;
  queue_.ShutDown();
  std::lock_guard lock(mu_);
  wake_.notify_all();
}

bool Manager::SleepFor(milliseconds d) {
  std::unique_lock lock(mu_);
  wake_.wait_for(lock, d, [this] { return stop_.load(); });
  return !stop_;
}

std::string Manager::NotReadyReason() const {
  if (!leader_) return "standby: another controller holds the lease";
  if (!engine_ok_) return "engine unreachable";
  if (!synced_) return "first sync not done";
  return "";
}

Result<void> Manager::Run() {
  auto session = Open(opts_.db_path, clock_);
  if (!session) return Unexpected(session.error());
  store::Lease lease(*session->db, clock_, LeaseHolderName(), opts_.lease_ttl);
  bool announced = false;
  while (!stop_) {
    auto held = lease.TryAcquire();
    if (held && *held) break;
    if (!announced) {
      auto holder = lease.Holder();
      spdlog::info("standby: the lease is held by {}; waiting to take over", holder ? holder->first : "?");
      announced = true;
    }
    if (!SleepFor(opts_.lease_renew)) return {};
  }
  if (stop_) return {};
  leader_ = true;
  metrics_.SetLeader(true);
  spdlog::info("leader: lease taken as {}", lease.holder());
  threads_.emplace_back([this] { WatchEngine(); });
  Resync("start");
  for (int i = 0; i < opts_.workers; ++i) threads_.emplace_back([this] { Worker(); });
  threads_.emplace_back([this] { WatchStore(); });
  threads_.emplace_back([this] { ResyncLoop(); });
  Result<void> result;
  while (SleepFor(opts_.lease_renew)) {
    auto held = lease.TryAcquire();
    if (held && !*held) {
      result = Unexpected(ErrorCode::kConflict, "controller: lost the lease to another controller");
      break;
    }
    if (!held) spdlog::warn("lease: {} (retrying)", held.error().message);
    metrics_.SetQueueDepth(queue_.Depth());
  }
  Stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  leader_ = false;
  metrics_.SetLeader(false);
  if (result) (void)lease.Release();
  return result;
}

void Manager::Worker() {
  auto session = Open(opts_.db_path, clock_);
  if (!session) {
    spdlog::error("worker: {}", session.error().message);
    return;
  }
  Shared shared{engine_, cache_, clock_, metrics_, opts_.image_recheck, &status_writes_};
  Reconciler reconciler(shared, *session->store);
  while (auto key = queue_.Get()) {
    auto start = std::chrono::steady_clock::now();
    Outcome out;
    try {
      out = reconciler.Reconcile(*key);
    } catch (const std::exception& e) {
      // A bug, not the input (specs are validated at apply): keep the others going.
      out.error = Error{ErrorCode::kInternal, "reconcile " + *key + ": " + e.what()};
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    auto ref = model::ParseKey(*key);
    std::string kind = ref ? std::string(model::Info(ref->kind).name) : "?";
    if (out.error && out.error->transient()) {
      auto delay = queue_.AddRateLimited(*key);
      spdlog::warn("{}: {} (retry in {} ms)", *key, out.error->message, delay.count());
      metrics_.Reconciled(kind, "error", secs);
      engine_ok_ = out.error->code != ErrorCode::kUnavailable;
    } else {
      // Terminal errors are in the object's status; a change of it, or a resync, brings it back.
      if (out.error) spdlog::warn("{}: {}", *key, out.error->message);
      queue_.Forget(*key);
      if (out.requeue_after) queue_.AddAfter(*key, *out.requeue_after);
      metrics_.Reconciled(kind, out.error ? "error" : out.requeue_after ? "requeue" : "success", secs);
    }
    if (out.ready_changed) EnqueueDependents(*key, *session->store);
    queue_.Done(*key);
  }
}

void Manager::EnqueueDependents(const std::string& key, store::ObjectStore& store) {
  auto ref = model::ParseKey(key);
  if (!ref) return;
  // Runners and pools of the namespace may wait on it: they look again.
  auto versions = store.Versions();
  if (!versions) return;
  for (const auto& [k, rv] : *versions) {
    auto other = model::ParseKey(k);
    if (!other || other->namespace_ != ref->namespace_ || k == key) continue;
    if (other->kind == model::Kind::kRunner || other->kind == model::Kind::kRunnerPool) queue_.Add(k);
  }
}

void Manager::EnqueueAll() {
  auto session = Open(opts_.db_path, clock_);
  if (!session) return;
  auto versions = session->store->Versions();
  if (!versions) {
    spdlog::warn("resync: {}", versions.error().message);
    return;
  }
  for (const auto& [k, rv] : *versions) queue_.Add(k);
}

void Manager::Resync(const char* why) {
  std::lock_guard lock(resync_mu_);
  auto start = std::chrono::steady_clock::now();
  auto r = cache_.Resync();
  metrics_.EngineCall("list", r ? "ok" : "unavailable");
  engine_ok_ = r.has_value();
  if (!r) {
    spdlog::warn("resync ({}): {}", why, r.error().message);
    return;
  }
  spdlog::debug("resync ({})", why);
  auto session = Open(opts_.db_path, clock_);
  if (session) {
    Shared shared{engine_, cache_, clock_, metrics_, opts_.image_recheck};
    Reconciler reconciler(shared, *session->store);
    if (auto removed = reconciler.RemoveOrphans(); !removed) spdlog::warn("orphans: {}", removed.error().message);
  }
  metrics_.ResyncTook(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  EnqueueAll();
  metrics_.ResyncDone();
  synced_ = true;
}

void Manager::ResyncLoop() {
  while (SleepFor(engine_ok_ && synced_ ? opts_.resync : std::min<milliseconds>(opts_.resync, milliseconds(2000)))) {
    Resync("periodic");
  }
}

void Manager::WatchStore() {
  auto session = Open(opts_.db_path, clock_);
  if (!session) {
    spdlog::error("store watch: {}", session.error().message);
    return;
  }
  std::map<std::string, int64_t> known;
  if (auto v = session->store->Versions()) known = std::move(*v);
  int64_t data_version = -1;
  while (SleepFor(opts_.store_poll)) {
    auto dv = session->db->DataVersion();
    if (!dv || *dv == data_version) continue;
    data_version = *dv;
    auto now = session->store->Versions();
    if (!now) continue;
    for (const auto& [k, rv] : *now) {
      auto it = known.find(k);
      // A change that is only the controller's own status write ends a
      // reconcile rather than asking for one.
      if ((it == known.end() || it->second != rv) && !status_writes_.Own(k, rv)) queue_.Add(k);
    }
    for (const auto& [k, rv] : known) {
      if (!now->count(k)) queue_.Add(k);  // gone: Reconcile cleans up what it owned
    }
    known = std::move(*now);
  }
}

void Manager::OnEngineEvent(const docker::Event& e) {
  if (e.type == "container") {
    if (Noise(e.action)) return;
    std::string owner = reconcile::OwnerKey(e.attributes);
    if (owner.empty()) return;  // not keelson's
    if (e.action == "destroy") {
      cache_.ForgetContainer(e.id);
    } else if (auto r = cache_.RefreshContainer(e.id); !r) {
      spdlog::debug("event: {}", r.error().message);
    }
    queue_.Add(owner);
    return;
  }
  auto name = e.attributes.find("name");
  if (name == e.attributes.end()) return;
  const std::string& engine_name = name->second;
  auto dot = engine_name.find('.');
  if (e.type == "network") {
    if (auto c = e.attributes.find("container"); c != e.attributes.end()) {
      std::string owner = cache_.OwnerOfContainer(c->second);
      if (!owner.empty()) {
        (void)cache_.RefreshContainer(c->second);
        queue_.Add(owner);
      }
    }
    if (dot == std::string::npos) return;
    (void)cache_.RefreshNetwork(engine_name);
    queue_.Add(model::Key(model::Kind::kNetwork, engine_name.substr(0, dot), engine_name.substr(dot + 1)));
  } else if (e.type == "volume") {
    if (dot == std::string::npos || (e.action != "create" && e.action != "destroy")) return;
    (void)cache_.RefreshVolume(engine_name);
    queue_.Add(model::Key(model::Kind::kVolume, engine_name.substr(0, dot), engine_name.substr(dot + 1)));
  } else if (e.type == "image") {
    cache_.ForgetImages();
  }
}

void Manager::WatchEngine() {
  docker::EventFilter filter;
  filter.types = {"container", "network", "volume", "image"};
  // From a second before now: the first resync runs while the stream connects.
  filter.since = std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count() - 1;
  milliseconds backoff(100);
  while (!stop_) {
    auto r = engine_.StreamEvents(filter, [this](const docker::Event& e) { OnEngineEvent(e); }, cancel_events_);
    if (stop_) return;
    engine_ok_ = false;
    metrics_.EventStreamReconnected();
    spdlog::warn("engine events: {}; reconnecting in {} ms", r ? "stream ended" : r.error().message, backoff.count());
    if (!SleepFor(backoff)) return;
    backoff = std::min<milliseconds>(backoff * 2, milliseconds(30000));
    // Events may have been lost while disconnected: look at everything again.
    if (engine_.Ping()) {
      backoff = milliseconds(100);
      filter.since = std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count() - 1;
      Resync("event stream reconnected");
    }
  }
}

}  // namespace keelson::controller
