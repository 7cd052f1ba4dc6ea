#include "controller/manager.h"

#include <unistd.h>

#include <cmath>
#include <random>

#include <spdlog/spdlog.h>

#include "ci/queue_depth.h"
#include "controller/event_keys.h"
#include "controller/reconciler.h"
#include "manifest/decode.h"
#include "model/object.h"
#include "reconcile/labels.h"
#include "store/db.h"
#include "store/jobs.h"
#include "store/lease.h"
#include "store/object_store.h"
#include "util/log_fields.h"

namespace keelson::controller {
namespace {

using std::chrono::milliseconds;

}  // namespace

StoreFactory StoreAt(std::string path, const Clock& clock) {
  return [path, &clock]() -> Result<StoreSession> {
    auto db = store::Db::Open(path);
    if (!db) return Unexpected(db.error());
    StoreSession s;
    s.db = std::move(*db);
    s.store = std::make_unique<store::ObjectStore>(*s.db, clock);
    return s;
  };
}

std::string LeaseHolderName() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::mt19937_64 rng{std::random_device{}()};
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + std::to_string(rng() % 100000);
}

Manager::Manager(docker::Engine& engine, const Clock& clock, ManagerOptions options)
    : engine_(engine),
      clock_(clock),
      opts_(std::move(options)),
      cache_(engine),
      queues_(std::make_unique<QueuePoller>(clock, ci::PollQueueDepth)),
      queue_(clock, opts_.backoff),
      long_ops_(std::max(1, opts_.workers - 1)),
      sources_(opts_.source_dir, opts_.fetch_helper, opts_.git_limits) {}

Manager::~Manager() {
  Stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

std::string Manager::StoreIdForEvents() {
  std::lock_guard lock(store_id_mu_);
  return store_id_;
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

bool Manager::SleepUntilNudged(milliseconds d) {
  std::unique_lock lock(mu_);
  wake_.wait_for(lock, d, [this] { return stop_.load() || nudged_; });
  nudged_ = false;
  return !stop_;
}

void Manager::NudgeStoreWatcher() {
  {
    std::lock_guard lock(mu_);
    nudged_ = true;
  }
  wake_.notify_all();
}

std::string Manager::NotReadyReason() const {
  if (!leader_) return "standby: another controller holds the lease";
  if (!fence_.Held()) return "the lease is not known to be held: a renewal is late or failed";
  const int64_t answered = engine_answered_.load();
  if (answered == 0) return "the engine has not answered a ping yet";
  const auto since = Fence::Clock::now() - Fence::Clock::time_point(Fence::Clock::duration(answered));
  if (since > kEngineAnswerWithin) {
    return "the engine has not answered a ping for " +
           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(since).count()) + "s";
  }
  if (!engine_ok_) return "engine unreachable";
  if (!synced_) return "first sync not done";
  return "";
}

void Manager::ProbeEngine() {
  while (!stop_) {
    auto pong = engine_.Ping();
    metrics_.EngineCall("ping", pong ? "ok" : "unavailable");
    if (pong) engine_answered_ = Fence::Clock::now().time_since_epoch().count();
    if (!SleepFor(milliseconds(2000))) return;
  }
}

Result<bool> Manager::Renew(store::Lease& lease) {
  const auto began = Fence::Clock::now();
  auto held = lease.TryAcquire();
  if (held && *held) {
    fence_.Extend(began, opts_.lease_ttl);
  } else {
    // Not known to be held from here on: stop acting at once.
    fence_.Revoke();
  }
  return held;
}

Result<void> Manager::Run() {
  auto session = opts_.open_store();
  if (!session) return Unexpected(session.error());
  // A damaged store is said at once, not met later by one worker or another.
  if (auto ok = session->db->QuickCheck(); !ok) return Unexpected(ok.error());
  store::Lease lease(*session->db, clock_, LeaseHolderName(), opts_.lease_ttl);
  bool announced = false;
  while (!stop_) {
    auto held = Renew(lease);
    if (held && *held) break;
    // A store that cannot be read is not a lease someone else holds.
    if (!held && !held.error().transient()) return Unexpected(held.error());
    if (!announced && held) {
      auto holder = lease.Holder();
      if (!holder) return Unexpected(holder.error());
      spdlog::info("standby: the lease is held by {}; waiting to take over", holder->first);
      announced = true;
    }
    if (!held) spdlog::warn("lease: {} (retrying)", held.error().message);
    if (!SleepFor(opts_.lease_renew)) return {};
  }
  if (stop_) return {};
  active_fence_ = &fence_;
  leader_ = true;
  metrics_.SetLeader(true);
  spdlog::info("leader: lease taken as {}", lease.holder());
  // The lease is renewed on a thread of its own from now on: the first
  // resync (a long orphan sweep, a slow engine) must never hold it up.
  Result<void> result;
  std::thread renewer([&] {
    result = KeepLease(lease);
    Stop();
  });
  threads_.emplace_back([this] { ProbeEngine(); });
  threads_.emplace_back([this] { WatchEngine(); });
  if (auto id = store::ObjectStore(*session->db, clock_).StoreId()) {
    container_metrics_.Start(*id);
    std::lock_guard lock(store_id_mu_);
    store_id_ = *id;
  }
  Resync("start", /*fresh_start=*/true);
  for (int i = 0; i < opts_.workers; ++i) threads_.emplace_back([this] { Worker(); });
  threads_.emplace_back([this] { WatchStore(); });
  threads_.emplace_back([this] { ResyncLoop(); });
  threads_.emplace_back([this] { WatchBusy(); });
  threads_.emplace_back([this] { WatchQueues(); });
  threads_.emplace_back([this] { WatchGitHubRunners(); });
  renewer.join();
  Stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  container_metrics_.Stop();
  leader_ = false;
  metrics_.SetLeader(false);
  if (result) (void)lease.Release();
  return result;
}

Result<void> Manager::KeepLease(store::Lease& lease) {
  while (SleepFor(opts_.lease_renew)) {
    if (auto fatal = Fatal()) return Unexpected(*fatal);
    auto held = Renew(lease);
    if (held && !*held) {
      auto holder = lease.Holder();
      return Unexpected(ErrorCode::kConflict, "controller: lost the lease to " +
                                                  (holder ? holder->first : std::string("another controller")) +
                                                  "; exiting without acting further");
    }
    if (!held && !held.error().transient()) return Unexpected(held.error());
    if (!held) spdlog::warn("lease: {} (not acting until it is renewed)", held.error().message);
    metrics_.SetQueueDepth(queue_.Depth());
  }
  return {};
}

void Manager::NoteFatal(const Error& e) {
  std::lock_guard lock(fatal_mu_);
  if (!fatal_) fatal_ = e;
  fence_.Revoke();
  std::lock_guard wake(mu_);
  wake_.notify_all();
}

std::optional<Error> Manager::Fatal() {
  std::lock_guard lock(fatal_mu_);
  return fatal_;
}

void Manager::Worker() {
  auto session = opts_.open_store();
  if (!session) {
    NoteFatal(session.error());
    return;
  }
  Shared shared{engine_,         cache_,     clock_,        metrics_, opts_.image_recheck,
                &status_writes_, &long_ops_, active_fence_, &progress_, &sources_, &busy_, queues_.get(), &github_, &sightings_};
  Reconciler reconciler(shared, *session->store);
  while (auto key = queue_.Get()) Process(*key, reconciler, *session->store);
}

int Manager::Drain() {
  auto session = opts_.open_store();
  if (!session) return 0;
  Shared shared{engine_,         cache_,     clock_,  metrics_,   opts_.image_recheck,
                &status_writes_, &long_ops_, nullptr, &progress_, &sources_, &busy_, queues_.get(), &github_, &sightings_};
  Reconciler reconciler(shared, *session->store);
  int passes = 0;
  while (auto key = queue_.TryGet()) {
    Process(*key, reconciler, *session->store);
    ++passes;
  }
  return passes;
}

void Manager::Process(const std::string& key, Reconciler& reconciler, store::ObjectStore& store) {
  auto start = std::chrono::steady_clock::now();
  Outcome out;
  try {
    out = reconciler.Reconcile(key);
  } catch (const std::exception& e) {
    // A bug, not the input (specs are decoded without throwing): keep the others going.
    out.error = Error{ErrorCode::kInternal, "reconcile " + key + ": " + e.what()};
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto ref = model::ParseKey(key);
  std::string kind = ref ? std::string(model::Info(ref->kind).name) : "?";
  logfields::Scope fields({{"kind", kind},
                           {"namespace", ref ? ref->namespace_ : ""},
                           {"name", ref ? ref->name : key},
                           {"duration_ms", std::round(secs * 1e6) / 1e3},
                           {"result", out.error ? "error" : out.requeue_after ? "requeue" : "success"}});
  spdlog::debug("{}: reconciled in {:.1f} ms", key, secs * 1e3);
  if (out.error && out.error->code == ErrorCode::kStorage) NoteFatal(*out.error);
  if (out.error && out.error->transient()) {
    auto delay = queue_.AddRateLimited(key);
    spdlog::warn("{}: {} (retry in {} ms)", key, out.error->message, delay.count());
    metrics_.Reconciled(kind, "error", secs);
    // Is it the engine that failed, or something behind it (a registry)?
    // The engine answers a ping or not; readiness says so at once.
    if (out.error->code == ErrorCode::kUnavailable) engine_ok_ = engine_.Ping().has_value();
  } else {
    // Terminal errors are in the object's status; a change of it, or a resync, brings it back.
    if (out.error) spdlog::warn("{}: {}", key, out.error->message);
    queue_.Forget(key);
    if (out.requeue_after) queue_.AddAfter(key, *out.requeue_after);
    metrics_.Reconciled(kind, out.error ? "error" : out.requeue_after ? "requeue" : "success", secs);
  }
  {
    std::lock_guard lock(settled_mu_);
    if (out.settled) {
      settled_[key] = std::move(*out.settled);
    } else {
      settled_.erase(key);
    }
  }
  if (out.ready_changed) {
    // Runners and pools of the namespace may wait on it: they look again.
    if (auto versions = store.Versions()) {
      for (const auto& k : Dependents(key, *versions)) queue_.Add(k);
    }
  }
  queue_.Done(key);
}

void Manager::EnqueueAll(bool fresh_start) {
  auto session = opts_.open_store();
  if (!session) return;
  auto versions = session->store->Versions();
  if (!versions) {
    if (versions.error().code == ErrorCode::kStorage) NoteFatal(versions.error());
    spdlog::warn("resync: {}", versions.error().message);
    return;
  }
  const uint64_t shared = cache_.SharedStamp();
  int64_t enqueued = 0, unchanged = 0;
  std::lock_guard lock(settled_mu_);
  if (fresh_start) settled_.clear();
  for (const auto& [k, rv] : *versions) {
    // Converged, and neither the object nor anything of the engine it
    // depends on changed since (the listing just made would have shown
    // it): nothing to look at again.
    auto s = settled_.find(k);
    if (s != settled_.end() && s->second.resource_version == rv && s->second.shared_stamp == shared &&
        s->second.owner_stamp == cache_.OwnerStamp(s->second.uid)) {
      ++unchanged;
      continue;
    }
    ++enqueued;
    if (fresh_start) {
      queue_.Add(k);
    } else {
      queue_.AddUnlessBackingOff(k);
    }
  }
  std::erase_if(settled_, [&](const auto& e) { return !versions->count(e.first); });
  metrics_.ResyncObjects(enqueued, unchanged);
}

void Manager::Resync(const char* why, bool fresh_start) {
  std::lock_guard lock(resync_mu_);
  auto start = std::chrono::steady_clock::now();
  auto r = cache_.Resync();
  const auto listed = std::chrono::steady_clock::now();
  metrics_.EngineCall("list", r ? "ok" : "unavailable");
  engine_ok_ = r.has_value();
  if (!r) {
    spdlog::warn("resync ({}): {}", why, r.error().message);
    return;
  }
  spdlog::debug("resync ({})", why);
  auto session = opts_.open_store();
  if (session) {
    Shared shared{engine_, cache_, clock_, metrics_, opts_.image_recheck, nullptr, nullptr, active_fence_};
    Reconciler reconciler(shared, *session->store);
    if (auto removed = reconciler.RemoveOrphans(); !removed) spdlog::warn("orphans: {}", removed.error().message);
    const TimePoint expired = clock_.Now() - std::chrono::duration_cast<TimePoint::duration>(opts_.event_ttl);
    if (auto gone = session->store->ExpireEvents(FormatTimestamp(expired)); !gone) {
      spdlog::warn("events: {}", gone.error().message);
    }
  }
  EnqueueAll(fresh_start);
  metrics_.ResyncTook(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                      std::chrono::duration<double>(listed - start).count());
  metrics_.ResyncDone();
  synced_ = true;
}

void Manager::ResyncLoop() {
  while (SleepFor(engine_ok_ && synced_ ? opts_.resync : std::min<milliseconds>(opts_.resync, milliseconds(2000)))) {
    Resync("periodic");
  }
}

void Manager::WatchBusy() {
  auto session = opts_.open_store();
  if (!session) {
    NoteFatal(session.error());
    return;
  }
  BusyProber prober(engine_, clock_, busy_);
  while (SleepFor(milliseconds(1000))) ProbeBusy(*session->store, prober);
}

std::vector<std::pair<model::Object, model::RunnerPoolSpec>> Manager::AutoscaledPools(store::ObjectStore& store) {
  std::vector<std::pair<model::Object, model::RunnerPoolSpec>> out;
  auto pools = store.List({model::Kind::kRunnerPool, std::nullopt, nullptr});
  if (!pools) return out;  // the store watcher and the workers say why
  for (auto& o : *pools) {
    // Looked at every second: a fixed pool costs a key lookup, not a decode.
    if (!o.spec.is_object() || !o.spec.contains("autoscaling")) continue;
    auto spec = manifest::DecodeSpecAs<model::RunnerPoolSpec>(o);
    if (!spec || !spec->autoscaling || o.meta.deletion_timestamp) continue;
    out.emplace_back(std::move(o), std::move(*spec));
  }
  return out;
}

void Manager::ProbeBusy(store::ObjectStore& store, BusyProber& prober) {
  auto id = store.StoreId();
  if (!id) return;
  std::vector<ProbeTarget> targets;
  for (const auto& [o, spec] : AutoscaledPools(store)) {
    if (!spec.busy_probe) continue;
    for (const auto& c : cache_.ContainersOf(*id, o.meta.uid)) {
      if (c.state.running) targets.push_back({model::Key(o), o.meta.uid, c.name, *spec.busy_probe});
    }
  }
  for (const auto& key : prober.Tick(targets)) queue_.Add(key);
}

void Manager::WatchGitHubRunners() {
  auto session = opts_.open_store();
  if (!session) {
    NoteFatal(session.error());
    return;
  }
  while (SleepFor(opts_.github_sync)) SyncGitHubRunners(*session->store);
}

void Manager::SyncGitHubRunners(store::ObjectStore& store) {
  auto id = store.StoreId();
  if (!id) return;
  std::set<std::string> live, uids;
  for (const auto& [o, spec] : AutoscaledPools(store)) {
    if (!spec.github || !spec.github->Manages()) continue;
    uids.insert(o.meta.uid);
    std::set<std::string> replicas;
    std::map<std::string, docker::Container> by_name;
    for (auto& c : cache_.ContainersOf(*id, o.meta.uid)) {
      if (c.state.running) replicas.insert(c.name);
      live.insert(c.name);
      by_name.emplace(c.name, std::move(c));
    }
    auto runners = github_.List(*spec.github);
    if (!runners) {
      // Nothing is decided on what GitHub cannot say: busy flags stand,
      // no replica is replaced, no registration deleted.
      spdlog::warn("{}: GitHub's runner list: {}", model::Key(o), runners.error().message);
      continue;
    }
    const std::string prefix = reconcile::EngineName(o) + ".";
    std::set<std::string> online;
    bool changed = false;
    for (const auto& r : *runners) {
      if (!r.name.starts_with(prefix)) continue;
      if (by_name.count(r.name)) {
        changed |= busy_.Set(o.meta.uid, r.name, "github", r.busy);
        if (r.status == "online" || r.busy) online.insert(r.name);
      } else if (r.status == "offline") {
        // Left behind (a removal GitHub did not hear of, a controller that
        // stopped between register and create): nothing will ever run it.
        if (auto d = github_.Deregister(*spec.github, r.id)) {
          (void)store.RecordEvent(o, "Normal", "RunnerDeregistered",
                                  "Deleted the offline registration of runner " + r.name + " (id " +
                                      std::to_string(r.id) + "): no replica has it");
        }
      }
    }
    const TimePoint now = clock_.Now();
    sightings_.Listed(o.meta.uid, now, replicas, online);
    // A replica past the registration timeout without its runner online:
    // the pool replaces it.
    const auto never = sightings_.NeverOnline(o.meta.uid, now).value_or(std::set<std::string>{});
    for (const auto& name : never) {
      TimePoint started;
      if (ParseTimestamp(by_name[name].state.started_at, &started) &&
          now - started > spec.github->registration_timeout) {
        changed = true;
      }
    }
    if (changed) queue_.Add(model::Key(o));
  }
  busy_.Keep("github", live);
  sightings_.Keep(uids);
}

void Manager::WatchQueues() {
  auto session = opts_.open_store();
  if (!session) {
    NoteFatal(session.error());
    return;
  }
  while (SleepFor(milliseconds(1000))) PollQueues(*session->store);
}

void Manager::PollQueues(store::ObjectStore& store) {
  std::vector<QueueTarget> targets;
  for (const auto& [o, spec] : AutoscaledPools(store)) {
    if (spec.autoscaling->queue) targets.push_back({model::Key(o), o.meta.uid, *spec.autoscaling->queue});
  }
  for (const auto& key : queues_->Tick(targets)) queue_.Add(key);
}

void Manager::WatchStore() {
  auto session = opts_.open_store();
  if (!session) {
    NoteFatal(session.error());
    return;
  }
  std::map<std::string, int64_t> known;
  if (auto v = session->store->Versions()) known = std::move(*v);
  int64_t data_version = -1;
  while (SleepUntilNudged(opts_.store_poll)) {
    auto dv = session->db->DataVersion();
    if (!dv && dv.error().code == ErrorCode::kStorage) NoteFatal(dv.error());
    if (!dv || *dv == data_version) continue;
    data_version = *dv;
    PollStore(*session->store, known);
  }
}

void Manager::PollStore(store::ObjectStore& store, std::map<std::string, int64_t>& known) {
  auto now = store.Versions();
  if (!now) {
    if (now.error().code == ErrorCode::kStorage) NoteFatal(now.error());
    return;
  }
  auto own = [this](const std::string& k, int64_t rv) { return status_writes_.Own(k, rv); };
  for (const auto& k : ChangedKeys(known, *now, own)) queue_.Add(k);
  known = std::move(*now);
  // Jobs the queue gave autoscaled pools (a webhook): those pools plan again.
  auto jobs = store::Jobs(store.db()).ChangedSince(jobs_seen_);
  if (!jobs) {
    if (jobs.error().code == ErrorCode::kStorage) NoteFatal(jobs.error());
    return;
  }
  for (const auto& k : jobs->first) queue_.Add(k);
  jobs_seen_ = jobs->second;
}

void Manager::OnEngineEvent(const docker::Event& e) {
  if (NoiseEvent(e)) return;
  if (e.type == "volume" && e.action != "create" && e.action != "destroy") return;  // mounts: noise
  if (e.type == "image") {
    cache_.ForgetImages();
    return;
  }
  auto labels_of = [this](const std::string& type, const std::string& ref) { return cache_.LabelsOf(type, ref); };
  // Keys from what the cache knew before the event (a destroyed object's
  // labels) and after refreshing it (a created one's).
  auto keys = KeysForEvent(e, labels_of, StoreIdForEvents());
  if (e.type == "container") {
    if (keys.empty()) return;  // not keelson's
    auto name = e.attributes.find("name");
    if (cache_.TakeExpected(e.id, name != e.attributes.end() ? name->second : "", e.action)) {
      // Our own action, inspected (or forgotten) by the worker that did it.
      for (const auto& k : keys) queue_.AddUnlessBackingOff(k);
      return;
    }
    // A stop asked of the engine (docker stop) tells a container stopped by
    // hand, which is drift, from one that crashed.
    if (e.action == "stop") cache_.NoteStopRequested(e.id, true);
    if (e.action == "start") cache_.NoteStopRequested(e.id, false);
    if (e.action == "destroy") {
      cache_.ForgetContainer(e.id);
    } else if (auto r = cache_.RefreshContainer(e.id); !r) {
      spdlog::debug("event: {}", r.error().message);
    }
  } else {
    auto name = e.attributes.find("name");
    const std::string ref = name != e.attributes.end() ? name->second : e.id;
    if (auto c = e.attributes.find("container"); c != e.attributes.end() && cache_.LabelsOf("container", c->second)) {
      (void)cache_.RefreshContainer(c->second);
    }
    // Only keelson's networks and volumes are cached: a new one may be, a known one is.
    if (e.action == "create" || cache_.LabelsOf(e.type, ref)) {
      (void)(e.type == "network" ? cache_.RefreshNetwork(ref) : cache_.RefreshVolume(ref));
    }
    for (auto& k : KeysForEvent(e, labels_of, StoreIdForEvents())) {
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(std::move(k));
    }
  }
  // An engine that fails (or shuts down) sends events about the very
  // containers whose actions failed: they must not cut a backoff short.
  for (const auto& k : keys) queue_.AddUnlessBackingOff(k);
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
      Resync("event stream reconnected", /*fresh_start=*/true);
    }
  }
}

}  // namespace keelson::controller
