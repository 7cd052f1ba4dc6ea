#include "fake_engine.h"

#include "util/text.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace keelson::testing {
namespace {

using namespace docker;

std::string Rfc3339(std::chrono::system_clock::time_point now) {
  auto t = std::chrono::system_clock::to_time_t(now);
  char buf[32];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "busybox" -> "busybox:latest"; digests and ids stay as they are.
std::string NormalizeRef(const std::string& ref) {
  if (ref.find('@') != std::string::npos || ref.rfind("sha256:", 0) == 0) return ref;
  auto colon = ref.rfind(':');
  auto slash = ref.rfind('/');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return ref + ":latest";
  return ref;
}

std::string RepoOf(const std::string& tagged) { return tagged.substr(0, tagged.rfind(':')); }

// The registry host of a reference, as the engine reads it: a first part with
// a dot or a colon, or "localhost"; else Docker Hub.
std::string HostOf(const std::string& ref) {
  auto slash = ref.find('/');
  if (slash == std::string::npos) return "docker.io";
  std::string first = ref.substr(0, slash);
  if (first.find_first_of(".:") == std::string::npos && first != "localhost") return "docker.io";
  return first;
}

Error Unreachable(const std::string& what, const std::string& ref) {
  const std::string host = HostOf(ref);
  return MakeError(ErrorCode::kUnavailable, what + " " + ref + ": Get \"http://" + host + "/v2/\": dial tcp " + host +
                                                ": connect: connection refused");
}

bool MatchesLabels(const Labels& labels, const std::vector<std::string>& filters) {
  for (const auto& f : filters) {
    auto eq = f.find('=');
    auto it = labels.find(f.substr(0, eq));
    if (it == labels.end()) return false;
    if (eq != std::string::npos && it->second != f.substr(eq + 1)) return false;
  }
  return true;
}

Error NoSuchContainer(const std::string& ref) {
  return MakeError(ErrorCode::kNotFound, "No such container: " + ref);
}

std::string EnvKey(const std::string& kv) { return kv.substr(0, kv.find('=')); }

}  // namespace

FakeEngine::FakeEngine() = default;

// --- the world -------------------------------------------------------------------

std::string FakeEngine::Now() const {
  return Rfc3339(clock_ ? clock_->Now() : std::chrono::system_clock::now());
}

void FakeEngine::AddImage(const std::string& ref, std::vector<std::string> env, std::vector<std::string> cmd) {
  std::lock_guard lock(mu_);
  FakeImage img;
  img.image.id = "sha256:" + NewId();
  img.image.repo_tags = {NormalizeRef(ref)};
  img.image.size = 2 << 20;
  img.image.created = Now();
  img.image.config.env = std::move(env);
  img.image.config.cmd = std::move(cmd);
  images_[img.image.id] = img;
}

void FakeEngine::AddRegistryImage(const std::string& ref) {
  std::lock_guard lock(mu_);
  registry_.emplace(NormalizeRef(ref), RegistryEntry{});
  registry_hosts_.insert(HostOf(ref));
}

void FakeEngine::AddRegistry(const std::string& host) {
  std::lock_guard lock(mu_);
  registry_hosts_.insert(host);
}

void FakeEngine::PushToRegistry(const std::string& ref) {
  std::lock_guard lock(mu_);
  ++registry_[NormalizeRef(ref)].version;
}

bool FakeEngine::InRegistry(const std::string& ref) const {
  std::lock_guard lock(mu_);
  return registry_.count(NormalizeRef(ref)) > 0;
}

void FakeEngine::KillToDead(const std::string& ref) {
  std::lock_guard lock(mu_);
  auto* fc = FindContainer(ref);
  if (!fc) return;
  if (fc->c.state.running) Exited(*fc, 137);
  fc->c.state.status = "dead";
}

void FakeEngine::ExitContainer(const std::string& ref, int code) {
  std::lock_guard lock(mu_);
  if (auto* fc = FindContainer(ref); fc && fc->c.state.running) Exited(*fc, code);
}

void FakeEngine::SetHealth(const std::string& ref, const std::string& health) {
  std::lock_guard lock(mu_);
  auto* fc = FindContainer(ref);
  if (!fc || fc->c.state.health == health) return;
  fc->c.state.health = health;
  ContainerEvent(*fc, "health_status: " + health);
}

void FakeEngine::AppendLogs(const std::string& ref, const std::string& out, const std::string& err) {
  std::lock_guard lock(mu_);
  if (auto* fc = FindContainer(ref)) {
    fc->logs.out += out;
    fc->logs.err += err;
  }
}

void FakeEngine::FailNext(Error error, int times) {
  std::lock_guard lock(mu_);
  for (int i = 0; i < times; ++i) failures_.push_back(error);
}

void FakeEngine::SetDown(bool down) {
  std::lock_guard lock(mu_);
  down_ = down;
  changed_.notify_all();
}

void FakeEngine::SetLatency(std::chrono::milliseconds latency) {
  std::lock_guard lock(mu_);
  latency_ = latency;
}

int FakeEngine::PeakConcurrency(const std::string& method) const {
  std::lock_guard lock(mu_);
  auto it = peak_in_flight_.find(method);
  return it == peak_in_flight_.end() ? 0 : it->second;
}

std::map<std::string, int> FakeEngine::Calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

int FakeEngine::TotalCalls() const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& [_, c] : calls_) n += c;
  return n;
}

void FakeEngine::ResetCalls() {
  std::lock_guard lock(mu_);
  calls_.clear();
}

// --- internals -------------------------------------------------------------------

Result<void> FakeEngine::Enter(const char* method) {
  std::chrono::milliseconds latency;
  {
    std::lock_guard lock(mu_);
    ++calls_[method];
    latency = latency_;
    int& n = ++in_flight_[method];
    peak_in_flight_[method] = std::max(peak_in_flight_[method], n);
  }
  if (latency.count() > 0) std::this_thread::sleep_for(latency);
  std::lock_guard lock(mu_);
  --in_flight_[method];
  if (down_) return Unexpected(ErrorCode::kUnavailable, "engine fake: cannot connect (is the engine running?)");
  if (!failures_.empty()) {
    Error e = failures_.front();
    failures_.pop_front();
    return Unexpected(e);
  }
  return {};
}

std::string FakeEngine::NewId() {
  char buf[65];
  uint64_t n = next_id_++;
  // 64 hex digits, distinct in their first 12 like the engine's random ids.
  std::snprintf(buf, sizeof buf, "%012llx%052llx", static_cast<unsigned long long>(n * 0x9E3779B97F4Aull & 0xffffffffffffull),
                static_cast<unsigned long long>(n));
  return buf;
}

FakeEngine::FakeContainer* FakeEngine::FindContainer(const std::string& ref) {
  if (ref.empty()) return nullptr;
  if (auto it = containers_.find(ref); it != containers_.end()) return &it->second;
  FakeContainer* by_prefix = nullptr;
  for (auto& [id, fc] : containers_) {
    if (fc.c.name == ref) return &fc;
    if (id.rfind(ref, 0) == 0) by_prefix = by_prefix ? nullptr : &fc;
  }
  return by_prefix;
}

FakeEngine::FakeImage* FakeEngine::FindImage(const std::string& ref) {
  if (auto it = images_.find(ref); it != images_.end()) return &it->second;
  const std::string tagged = NormalizeRef(ref);
  for (auto& [id, img] : images_) {
    const auto& tags = img.image.repo_tags;
    if (std::find(tags.begin(), tags.end(), tagged) != tags.end()) return &img;
    if (id.rfind("sha256:" + ref, 0) == 0 || (ref.size() >= 12 && id.find(ref) == 7)) return &img;
  }
  return nullptr;
}

Network* FakeEngine::FindNetwork(const std::string& ref) {
  if (auto it = networks_.find(ref); it != networks_.end()) return &it->second;
  for (auto& [id, n] : networks_) {
    if (n.spec.name == ref || (ref.size() >= 12 && id.rfind(ref, 0) == 0)) return &n;
  }
  return nullptr;
}

bool FakeEngine::ImageInUse(const std::string& id) const {
  return std::any_of(containers_.begin(), containers_.end(), [&](const auto& kv) { return kv.second.c.image_id == id; });
}

void FakeEngine::Emit(const std::string& type, const std::string& action, const std::string& id, Labels attributes) {
  events_.push_back(Event{type, action, id, std::move(attributes), NowNanos()});
  changed_.notify_all();
}

// Container events carry the container's labels, name and image, as dockerd's
// do; that is what lets a label filter select them.
void FakeEngine::ContainerEvent(const FakeContainer& fc, const std::string& action, Labels extra) {
  Labels attrs = fc.c.config.labels;
  attrs["name"] = fc.c.name;
  attrs["image"] = fc.c.config.image;
  for (auto& [k, v] : extra) attrs[k] = v;
  Emit("container", action, fc.c.id, std::move(attrs));
}

void FakeEngine::Exited(FakeContainer& fc, int code) {
  fc.c.state.running = false;
  fc.c.state.status = "exited";
  fc.c.state.exit_code = code;
  fc.c.state.pid = 0;
  fc.c.state.health = fc.c.config.healthcheck ? "unhealthy" : "";
  fc.c.state.finished_at = Now();
  ContainerEvent(fc, "die", {{"exitCode", std::to_string(code)}});
}

// Endpoints exist only while a container runs: connecting a created container
// records the attachment for its start, as the engine does.
Result<void> FakeEngine::Connect(Network& n, FakeContainer& fc, const std::vector<std::string>& aliases) {
  auto& nets = fc.c.config.networks;
  auto same = [&](const NetworkAttachment& a) { return a.network == n.spec.name || a.network == n.id; };
  if (fc.c.state.running && std::any_of(nets.begin(), nets.end(), same)) {
    return Unexpected(ErrorCode::kConflict,
                      "endpoint with name " + fc.c.name + " already exists in network " + n.spec.name);
  }
  nets.erase(std::remove_if(nets.begin(), nets.end(), [&](const auto& a) { return a.network == "bridge" || same(a); }),
             nets.end());
  nets.push_back({n.spec.name, aliases});
  Emit("network", "connect", n.id, {{"container", fc.c.id}, {"name", n.spec.name}, {"type", n.spec.driver}});
  return {};
}

std::vector<std::string> FakeEngine::Endpoints(const Network& n) const {
  std::vector<std::string> out;
  for (const auto& [id, fc] : containers_) {
    if (!fc.c.state.running) continue;
    for (const auto& a : fc.c.config.networks) {
      if (a.network == n.spec.name || a.network == n.id) out.push_back(id);
    }
  }
  return out;
}

// --- engine ----------------------------------------------------------------------

Result<void> FakeEngine::Ping() { return Enter("Ping"); }

Result<EngineVersion> FakeEngine::Version() {
  if (auto r = Enter("Version"); !r) return Unexpected(r.error());
  return EngineVersion{"20.10.24-fake", "1.41", "1.12", "1.41", "linux", "amd64", "fake"};
}

Result<EngineInfo> FakeEngine::Info() {
  if (auto r = Enter("Info"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  EngineInfo info;
  info.name = "fake";
  info.server_version = "20.10.24-fake";
  info.storage_driver = "memory";
  info.containers = static_cast<int>(containers_.size());
  info.running = static_cast<int>(
      std::count_if(containers_.begin(), containers_.end(), [](const auto& kv) { return kv.second.c.state.running; }));
  info.images = static_cast<int>(images_.size());
  info.cpus = 2;
  info.memory = 24LL << 30;
  return info;
}

// --- containers ------------------------------------------------------------------

Result<std::vector<ContainerSummary>> FakeEngine::ListContainers(const ListFilter& filter) {
  if (auto r = Enter("ListContainers"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  std::vector<ContainerSummary> out;
  for (const auto& [id, fc] : containers_) {
    const auto& c = fc.c;
    if (!filter.all && !c.state.running) continue;
    if (!MatchesLabels(c.config.labels, filter.labels)) continue;
    ContainerSummary s;
    s.id = id;
    s.name = c.name;
    s.image = c.config.image;
    s.image_id = c.image_id;
    s.labels = c.config.labels;
    s.state = c.state.status;
    s.health = c.state.running ? c.state.health : "";
    s.status = c.state.running ? "Up" : c.state.status == "created" ? "Created" : "Exited (" + std::to_string(c.state.exit_code) + ")";
    if (!s.health.empty()) s.status += s.health == "starting" ? " (health: starting)" : " (" + s.health + ")";
    out.push_back(s);
  }
  return out;
}

Result<Container> FakeEngine::InspectContainer(const std::string& ref) {
  if (auto r = Enter("InspectContainer"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  auto* fc = FindContainer(ref);
  if (!fc) return Unexpected(NoSuchContainer(ref));
  return fc->c;
}

Result<std::string> FakeEngine::CreateContainer(const ContainerSpec& spec) {
  if (auto r = Enter("CreateContainer"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  static const std::regex kName("[a-zA-Z0-9][a-zA-Z0-9_.-]+");
  if (!spec.name.empty() && !std::regex_match(spec.name, kName)) {
    return Unexpected(ErrorCode::kInvalid, "Invalid container name (" + spec.name + "), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
  }
  for (const auto& [id, fc] : containers_) {
    if (!spec.name.empty() && fc.c.name == spec.name) {
      return Unexpected(ErrorCode::kConflict, "Conflict. The container name \"/" + spec.name +
                                                  "\" is already in use by container \"" + id + "\"");
    }
  }
  auto* img = FindImage(spec.image);
  if (!img) return Unexpected(ErrorCode::kNotFound, "No such image: " + spec.image);
  for (const auto& m : spec.mounts) {
    if (m.type == Mount::Type::kBind && !std::filesystem::exists(m.source)) {
      return Unexpected(ErrorCode::kInvalid, "invalid mount config for type \"bind\": bind source path does not exist: " + m.source);
    }
  }
  FakeContainer fc;
  Container& c = fc.c;
  c.id = NewId();
  c.name = spec.name.empty() ? "fake_" + c.id.substr(0, 8) : spec.name;
  c.image_id = img->image.id;
  c.created = Now();
  c.config = spec;
  c.config.name = c.name;
  // What the engine fills in from the image.
  std::vector<std::string> env = img->image.config.env;
  for (const auto& kv : spec.env) {
    auto same = std::find_if(env.begin(), env.end(), [&](const auto& e) { return EnvKey(e) == EnvKey(kv); });
    if (same != env.end()) {
      *same = kv;
    } else {
      env.push_back(kv);
    }
  }
  c.config.env = env;
  if (!spec.cmd && !spec.entrypoint) c.config.cmd = img->image.config.cmd;
  if (!spec.entrypoint) c.config.entrypoint = img->image.config.entrypoint;
  if (spec.working_dir.empty()) c.config.working_dir = img->image.config.working_dir;
  if (spec.user.empty()) c.config.user = img->image.config.user;
  for (const auto& [k, v] : img->image.labels) c.config.labels.emplace(k, v);
  c.config.networks.clear();
  c.state.status = "created";
  const std::string id = c.id;
  auto& stored = containers_[id] = std::move(fc);
  for (const auto& m : spec.mounts) {
    if (m.type == Mount::Type::kVolume && !volumes_.count(m.source)) {
      Volume v;
      v.spec.name = m.source;
      v.mountpoint = "/var/lib/docker/volumes/" + m.source + "/_data";
      v.created = Now();
      volumes_[m.source] = v;
      Emit("volume", "create", m.source, {{"driver", "local"}});
    }
  }
  ContainerEvent(stored, "create");
  // Like the engine, networks are only looked up when the container starts.
  stored.c.config.networks = spec.networks;
  if (spec.networks.empty()) stored.c.config.networks.push_back({"bridge", {}});
  return id;
}

Result<void> FakeEngine::StartContainer(const std::string& ref) {
  if (auto r = Enter("StartContainer"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  auto* fc = FindContainer(ref);
  if (!fc) return Unexpected(NoSuchContainer(ref));
  if (fc->c.state.running) return {};  // 304: already started
  for (const auto& a : fc->c.config.networks) {
    if (a.network != "bridge" && !FindNetwork(a.network)) {
      return Unexpected(ErrorCode::kNotFound, "start container " + ref + ": network " + a.network + " not found");
    }
  }
  fc->c.state.running = true;
  fc->c.state.status = "running";
  fc->c.state.exit_code = 0;
  fc->c.state.pid = 4242;
  fc->c.state.health = fc->c.config.healthcheck ? "starting" : "";
  fc->c.state.started_at = Now();
  ContainerEvent(*fc, "start");
  return {};
}

// The fake's processes are like busybox as PID 1: they ignore SIGTERM, so a
// stop ends with SIGKILL after the timeout (exit 137), as on the real engine.
Result<void> FakeEngine::StopContainer(const std::string& ref, int /*timeout_s*/) {
  if (auto r = Enter("StopContainer"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  auto* fc = FindContainer(ref);
  if (!fc) return Unexpected(NoSuchContainer(ref));
  if (!fc->c.state.running) return {};  // 304: already stopped
  ContainerEvent(*fc, "kill", {{"signal", "15"}});
  ContainerEvent(*fc, "kill", {{"signal", "9"}});
  Exited(*fc, 137);
  ContainerEvent(*fc, "stop");
  return {};
}

Result<void> FakeEngine::RemoveContainer(const std::string& ref, bool force) {
  if (auto r = Enter("RemoveContainer"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  auto* fc = FindContainer(ref);
  if (!fc) return Unexpected(NoSuchContainer(ref));
  if (fc->c.state.running) {
    if (!force) {
      return Unexpected(ErrorCode::kConflict, "You cannot remove a running container " + fc->c.id +
                                                  ". Stop the container before attempting removal or force remove");
    }
    ContainerEvent(*fc, "kill", {{"signal", "9"}});
    Exited(*fc, 137);
  }
  ContainerEvent(*fc, "destroy");
  containers_.erase(fc->c.id);
  changed_.notify_all();
  return {};
}

Result<Logs> FakeEngine::ContainerLogs(const std::string& ref, const LogOptions& options) {
  if (auto r = Enter("ContainerLogs"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  auto* fc = FindContainer(ref);
  if (!fc) return Unexpected(NoSuchContainer(ref));
  Logs logs;
  if (options.stdout_) logs.out = LastLines(fc->logs.out, options.tail);
  if (options.stderr_) logs.err = LastLines(fc->logs.err, options.tail);
  return logs;
}

Result<void> FakeEngine::StreamLogs(const std::string& ref, const LogOptions& options, const OutputSink& sink,
                                    CancelFlag& cancel) {
  if (auto r = Enter("StreamLogs"); !r) return Unexpected(r.error());
  size_t out_sent = 0, err_sent = 0;
  bool first = true;
  for (;;) {
    std::string out, err;
    bool running = false;
    {
      std::unique_lock lock(mu_);
      auto* fc = FindContainer(ref);
      if (!fc) {
        if (first) return Unexpected(NoSuchContainer(ref));
        return {};
      }
      const std::string all_out = first ? LastLines(fc->logs.out, options.tail) : fc->logs.out;
      const std::string all_err = first ? LastLines(fc->logs.err, options.tail) : fc->logs.err;
      if (first) {
        out_sent = fc->logs.out.size() - all_out.size();
        err_sent = fc->logs.err.size() - all_err.size();
      }
      if (options.stdout_) out = fc->logs.out.substr(out_sent);
      if (options.stderr_) err = fc->logs.err.substr(err_sent);
      out_sent = fc->logs.out.size();
      err_sent = fc->logs.err.size();
      running = fc->c.state.running;
    }
    first = false;
    if (!out.empty() && !sink(OutputStream::kStdout, out)) return {};
    if (!err.empty() && !sink(OutputStream::kStderr, err)) return {};
    if (!options.follow || !running || cancel) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void FakeEngine::SetExecHandler(ExecHandler handler) {
  std::lock_guard lock(mu_);
  exec_handler_ = std::move(handler);
}

Result<int> FakeEngine::Exec(const std::string& ref, const ExecRequest& request) {
  if (auto r = Enter("Exec"); !r) return Unexpected(r.error());
  ExecHandler handler;
  std::string name;
  {
    std::lock_guard lock(mu_);
    auto* fc = FindContainer(ref);
    if (!fc) return Unexpected(NoSuchContainer(ref));
    if (!fc->c.state.running) {
      return Unexpected(ErrorCode::kConflict, "exec in container " + ref + ": container " + fc->c.id + " is not running");
    }
    handler = exec_handler_;
    name = fc->c.name;
  }
  return handler ? handler(name, request) : Result<int>(0);
}

Result<Stats> FakeEngine::ContainerStats(const std::string& ref, StatsMode) {
  if (auto r = Enter("ContainerStats"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  auto* fc = FindContainer(ref);
  if (!fc) return Unexpected(NoSuchContainer(ref));
  Stats s;
  if (fc->c.state.running) {
    s.online_cpus = 2;
    s.memory_usage = 1 << 20;
    s.memory_limit = fc->c.config.memory ? static_cast<uint64_t>(fc->c.config.memory) : 24ULL << 30;
    s.pids = 1;
  }
  return s;
}

// --- images ----------------------------------------------------------------------

Result<Image> FakeEngine::InspectImage(const std::string& ref) {
  if (auto r = Enter("InspectImage"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  auto* img = FindImage(ref);
  if (!img) return Unexpected(ErrorCode::kNotFound, "No such image: " + ref);
  return img->image;
}

Result<void> FakeEngine::PullImage(const std::string& ref, const std::optional<RegistryAuth>&,
                                   const ProgressFn& progress) {
  if (auto r = Enter("PullImage"); !r) return Unexpected(r.error());
  const std::string tagged = NormalizeRef(ref);
  {
    std::lock_guard lock(mu_);
    if (!registry_hosts_.count(HostOf(tagged))) return Unexpected(Unreachable("pull", ref));
    if (!registry_.count(tagged)) {
      return Unexpected(ErrorCode::kNotFound,
                        "pull " + ref + ": manifest for " + tagged + " not found: manifest unknown: manifest unknown");
    }
  }
  if (progress) {
    progress({"", "Pulling from " + RepoOf(tagged), 0, 0});
    progress({"layer0", "Downloading", 1024, 2048});
    progress({"layer0", "Pull complete", 0, 0});
  }
  std::lock_guard lock(mu_);
  // The digest names the registry's current content of the tag.
  const RegistryEntry& entry = registry_[tagged];
  const std::string content = tagged + "#" + std::to_string(entry.version);
  const std::string hash = std::to_string(std::hash<std::string>{}(content));
  const std::string digest = RepoOf(tagged) + "@sha256:" + std::string(64 - hash.size(), '0') + hash;
  if (auto* existing = FindImage(tagged)) {
    auto& d = existing->image.repo_digests;
    if (std::find(d.begin(), d.end(), digest) != d.end()) return {};
    // New content behind the tag: a new image takes the tag, as the engine does.
    auto& tags = existing->image.repo_tags;
    tags.erase(std::remove(tags.begin(), tags.end(), tagged), tags.end());
  }
  FakeImage img;
  if (entry.pushed) {
    img = *entry.pushed;  // what was pushed comes back with the same id, as content addressing does
  } else {
    img.image.id = "sha256:" + NewId();
    img.image.size = 2 << 20;
    img.image.created = Now();
    img.image.config.env = {"PATH=/bin"};
    img.image.config.cmd = std::vector<std::string>{"/bin/sh"};
  }
  if (auto* same = FindImage(img.image.id)) img = *same;
  img.image.repo_tags.push_back(tagged);
  img.image.repo_digests.push_back(digest);
  images_[img.image.id] = img;
  Emit("image", "pull", tagged, {{"name", tagged}});
  return {};
}

Result<void> FakeEngine::PushImage(const std::string& ref, const std::optional<RegistryAuth>&,
                                   const ProgressFn& progress) {
  if (auto r = Enter("PushImage"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  const std::string tagged = NormalizeRef(ref);
  auto* img = FindImage(tagged);
  if (!img) return Unexpected(ErrorCode::kNotFound, "push " + ref + ": An image does not exist locally with the tag: " + RepoOf(tagged));
  if (!registry_hosts_.count(HostOf(tagged))) return Unexpected(Unreachable("push", ref));
  if (progress) progress({"layer0", "Pushed", 0, 0});
  RegistryEntry& entry = registry_[tagged];
  ++entry.version;
  entry.pushed = *img;
  entry.pushed->image.repo_tags.clear();
  entry.pushed->image.repo_digests.clear();
  Emit("image", "push", tagged, {{"name", tagged}});
  return {};
}

Result<void> FakeEngine::TagImage(const std::string& source, const std::string& target) {
  if (auto r = Enter("TagImage"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  auto* img = FindImage(source);
  if (!img) return Unexpected(ErrorCode::kNotFound, "No such image: " + source);
  const std::string tagged = NormalizeRef(target);
  for (auto& [id, other] : images_) {  // a tag names one image
    auto& tags = other.image.repo_tags;
    tags.erase(std::remove(tags.begin(), tags.end(), tagged), tags.end());
  }
  img->image.repo_tags.push_back(tagged);
  Emit("image", "tag", img->image.id, {{"name", tagged}});
  return {};
}

Result<void> FakeEngine::RemoveImage(const std::string& ref, bool force) {
  if (auto r = Enter("RemoveImage"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  auto* img = FindImage(ref);
  if (!img) return Unexpected(ErrorCode::kNotFound, "No such image: " + ref);
  const std::string tagged = NormalizeRef(ref);
  auto& tags = img->image.repo_tags;
  const bool by_tag = std::find(tags.begin(), tags.end(), tagged) != tags.end();
  if (by_tag && tags.size() > 1) {  // other tags keep the image
    tags.erase(std::remove(tags.begin(), tags.end(), tagged), tags.end());
    Emit("image", "untag", img->image.id, {{"name", tagged}});
    return {};
  }
  if (ImageInUse(img->image.id) && !force) {
    return Unexpected(ErrorCode::kConflict, "conflict: unable to remove repository reference \"" + ref +
                                                "\" (must force) - container is using its referenced image");
  }
  const std::string id = img->image.id;
  if (ImageInUse(id)) {  // forced: untagged, kept for its containers
    tags.clear();
    Emit("image", "untag", id, {{"name", tagged}});
    return {};
  }
  images_.erase(id);
  Emit("image", "delete", id, {{"name", tagged}});
  return {};
}

Result<std::string> FakeEngine::BuildImage(const BuildRequest& request, const ProgressFn& progress) {
  if (auto r = Enter("BuildImage"); !r) return Unexpected(r.error());
  namespace fs = std::filesystem;
  const std::string ctx = "build " + (request.tags.empty() ? request.context_dir : request.tags.front());
  if (!fs::is_directory(request.context_dir)) {
    return Unexpected(ErrorCode::kNotFound, ctx + ": build context " + request.context_dir + ": no such directory");
  }
  std::ifstream dockerfile(fs::path(request.context_dir) / request.dockerfile);
  if (!dockerfile) {
    return Unexpected(ErrorCode::kInvalid, ctx + ": Cannot locate specified Dockerfile: " + request.dockerfile);
  }
  std::string line, base;
  while (std::getline(dockerfile, line)) {
    std::istringstream words(line);
    std::string word;
    words >> word;
    if (word == "FROM" || word == "from") {
      words >> base;
      break;
    }
  }
  std::lock_guard lock(mu_);
  auto* from = FindImage(base);
  if (!from) {
    return Unexpected(ErrorCode::kNotFound, ctx + ": pull access denied for " + base +
                                                ", repository does not exist or may require 'docker login'");
  }
  if (progress) progress({"", "Step 1/1 : FROM " + base, 0, 0});
  FakeImage img = *from;
  img.image.id = "sha256:" + NewId();
  img.image.repo_tags.clear();
  img.image.repo_digests.clear();
  img.image.created = Now();
  for (const auto& [k, v] : request.labels) img.image.labels[k] = v;
  for (auto& [id, other] : images_) {
    auto& tags = other.image.repo_tags;
    for (const auto& t : request.tags) tags.erase(std::remove(tags.begin(), tags.end(), NormalizeRef(t)), tags.end());
  }
  for (const auto& t : request.tags) img.image.repo_tags.push_back(NormalizeRef(t));
  images_[img.image.id] = img;
  return img.image.id;
}

// --- networks --------------------------------------------------------------------

Result<std::vector<Network>> FakeEngine::ListNetworks(const ListFilter& filter) {
  if (auto r = Enter("ListNetworks"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  std::vector<Network> out;
  for (const auto& [id, n] : networks_) {
    if (!MatchesLabels(n.spec.labels, filter.labels)) continue;
    Network listed = n;
    listed.containers.clear();  // the list form has no containers, as the engine's
    out.push_back(listed);
  }
  return out;
}

Result<Network> FakeEngine::InspectNetwork(const std::string& ref) {
  if (auto r = Enter("InspectNetwork"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  auto* n = FindNetwork(ref);
  if (!n) return Unexpected(ErrorCode::kNotFound, "network " + ref + " not found");
  Network out = *n;
  out.containers = Endpoints(*n);
  return out;
}

Result<std::string> FakeEngine::CreateNetwork(const NetworkSpec& spec) {
  if (auto r = Enter("CreateNetwork"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  for (const auto& [id, n] : networks_) {
    if (n.spec.name == spec.name) return Unexpected(ErrorCode::kConflict, "network with name " + spec.name + " already exists");
  }
  Network n;
  n.id = NewId();
  n.spec = spec;
  if (n.spec.driver.empty()) n.spec.driver = "bridge";
  networks_[n.id] = n;
  Emit("network", "create", n.id, {{"name", spec.name}, {"type", n.spec.driver}});
  return n.id;
}

Result<void> FakeEngine::RemoveNetwork(const std::string& ref) {
  if (auto r = Enter("RemoveNetwork"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  auto* n = FindNetwork(ref);
  if (!n) return Unexpected(ErrorCode::kNotFound, "network " + ref + " not found");
  if (!Endpoints(*n).empty()) {
    return Unexpected(ErrorCode::kConflict, "error while removing network: network " + n->spec.name + " id " + n->id +
                                                " has active endpoints");
  }
  Emit("network", "destroy", n->id, {{"name", n->spec.name}, {"type", n->spec.driver}});
  networks_.erase(n->id);
  return {};
}

Result<void> FakeEngine::ConnectNetwork(const std::string& network, const std::string& container,
                                        const std::vector<std::string>& aliases) {
  if (auto r = Enter("ConnectNetwork"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  auto* n = FindNetwork(network);
  if (!n) return Unexpected(ErrorCode::kNotFound, "network " + network + " not found");
  auto* fc = FindContainer(container);
  if (!fc) return Unexpected(NoSuchContainer(container));
  return Connect(*n, *fc, aliases);
}

Result<void> FakeEngine::DisconnectNetwork(const std::string& network, const std::string& container, bool force) {
  if (auto r = Enter("DisconnectNetwork"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  auto* n = FindNetwork(network);
  if (!n) return Unexpected(ErrorCode::kNotFound, "network " + network + " not found");
  auto* fc = FindContainer(container);
  if (!fc) {
    if (force) return {};
    return Unexpected(NoSuchContainer(container));
  }
  auto& nets = fc->c.config.networks;
  auto same = [&](const NetworkAttachment& a) { return a.network == n->spec.name || a.network == n->id; };
  if (std::none_of(nets.begin(), nets.end(), same)) {
    return Unexpected(ErrorCode::kInvalid, "container " + fc->c.id + " is not connected to the network " + n->id);
  }
  nets.erase(std::remove_if(nets.begin(), nets.end(), same), nets.end());
  Emit("network", "disconnect", n->id, {{"container", fc->c.id}, {"name", n->spec.name}, {"type", n->spec.driver}});
  return {};
}

// --- volumes ---------------------------------------------------------------------

Result<std::vector<Volume>> FakeEngine::ListVolumes(const ListFilter& filter) {
  if (auto r = Enter("ListVolumes"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  std::vector<Volume> out;
  for (const auto& [name, v] : volumes_) {
    if (MatchesLabels(v.spec.labels, filter.labels)) out.push_back(v);
  }
  return out;
}

Result<Volume> FakeEngine::InspectVolume(const std::string& name) {
  if (auto r = Enter("InspectVolume"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  auto it = volumes_.find(name);
  if (it == volumes_.end()) return Unexpected(ErrorCode::kNotFound, "get " + name + ": no such volume");
  return it->second;
}

Result<Volume> FakeEngine::CreateVolume(const VolumeSpec& spec) {
  if (auto r = Enter("CreateVolume"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  if (auto it = volumes_.find(spec.name); it != volumes_.end()) {
    if (it->second.spec.driver != spec.driver) {
      return Unexpected(ErrorCode::kConflict, "create " + spec.name + ": a volume with the name " + spec.name +
                                                  " already exists with driver \"" + it->second.spec.driver + "\"");
    }
    return it->second;  // the engine returns the existing volume unchanged
  }
  Volume v;
  v.spec = spec;
  v.mountpoint = "/var/lib/docker/volumes/" + spec.name + "/_data";
  v.created = Now();
  volumes_[spec.name] = v;
  Emit("volume", "create", spec.name, {{"driver", spec.driver}});
  return v;
}

Result<void> FakeEngine::RemoveVolume(const std::string& name, bool force) {
  if (auto r = Enter("RemoveVolume"); !r) return Unexpected(r.error());
  std::lock_guard lock(mu_);
  auto it = volumes_.find(name);
  if (it == volumes_.end()) {
    if (force) return {};
    return Unexpected(ErrorCode::kNotFound, "get " + name + ": no such volume");
  }
  for (const auto& [id, fc] : containers_) {
    for (const auto& m : fc.c.config.mounts) {
      if (m.type == Mount::Type::kVolume && m.source == name) {
        return Unexpected(ErrorCode::kConflict, "remove " + name + ": volume is in use - [" + id + "]");
      }
    }
  }
  Emit("volume", "destroy", name, {{"driver", it->second.spec.driver}});
  volumes_.erase(it);
  return {};
}

// --- events ----------------------------------------------------------------------

Result<void> FakeEngine::StreamEvents(const EventFilter& filter, const std::function<void(const Event&)>& on_event,
                                      CancelFlag& cancel) {
  if (auto r = Enter("StreamEvents"); !r) return Unexpected(r.error());
  std::unique_lock lock(mu_);
  size_t next = events_.size();
  if (filter.since > 0) {
    next = 0;
    while (next < events_.size() && events_[next].time_nano / 1000000000 < filter.since) ++next;
  }
  while (true) {
    std::vector<Event> batch;
    for (; next < events_.size(); ++next) {
      const Event& e = events_[next];
      if (!filter.types.empty() && std::find(filter.types.begin(), filter.types.end(), e.type) == filter.types.end()) {
        continue;
      }
      if (MatchesLabels(e.attributes, filter.labels)) batch.push_back(e);
    }
    lock.unlock();
    for (const auto& e : batch) {
      if (cancel.load()) break;
      on_event(e);
    }
    lock.lock();
    if (cancel.load()) return {};
    if (down_) return Unexpected(ErrorCode::kUnavailable, "events: engine down");
    changed_.wait_for(lock, std::chrono::milliseconds(50));
  }
}

}  // namespace keelson::testing
