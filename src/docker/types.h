#pragma once
// The Docker Engine's objects in keelson's own value types: what the Engine
// interface takes and returns. No curl or JSON types appear here.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keelson::docker {

using Labels = std::map<std::string, std::string>;

// --- engine -------------------------------------------------------------------

struct EngineVersion {
  std::string version;          ///< e.g. "20.10.24"
  std::string api_version;      ///< the engine's newest API version, e.g. "1.41"
  std::string min_api_version;  ///< the oldest it accepts
  std::string negotiated;       ///< the version this client speaks to it
  std::string os, arch, kernel;
};

struct EngineInfo {
  std::string name;  ///< host name of the engine
  std::string server_version;
  std::string storage_driver;
  int containers = 0, running = 0, images = 0;
  int cpus = 0;
  int64_t memory = 0;  ///< bytes
};

// --- containers ---------------------------------------------------------------

struct PortBinding {
  int container_port = 0;
  std::string protocol = "tcp";  ///< tcp, udp or sctp
  std::string host_ip;           ///< empty: every address
  int host_port = 0;             ///< 0: the engine picks one
  bool operator==(const PortBinding&) const = default;
};

struct Mount {
  enum class Type { kVolume, kBind, kTmpfs };
  Type type = Type::kVolume;
  std::string source;  ///< volume name or host path; empty for tmpfs
  std::string target;  ///< absolute path in the container
  bool read_only = false;
  bool operator==(const Mount&) const = default;
};

struct NetworkAttachment {
  std::string network;  ///< name or id
  std::vector<std::string> aliases;
  bool operator==(const NetworkAttachment&) const = default;
};

struct Healthcheck {
  std::vector<std::string> test;  ///< {"CMD", ...} or {"CMD-SHELL", "..."}; {"NONE"} disables
  int64_t interval_ns = 0, timeout_ns = 0, start_period_ns = 0;  ///< 0: engine default
  int retries = 0;
  bool operator==(const Healthcheck&) const = default;
};

/// What to create. Unset optionals mean "the image's default".
struct Ulimit {
  std::string name;  ///< nofile, nproc, core, ...
  int64_t soft = 0, hard = 0;
  bool operator==(const Ulimit&) const = default;
};

struct ContainerSpec {
  std::string name;
  std::string image;
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> cmd;
  std::vector<std::string> env;  ///< "NAME=value"
  std::string working_dir;
  std::string user;
  Labels labels;
  std::vector<PortBinding> ports;
  std::vector<NetworkAttachment> networks;  ///< the first is joined at create, the rest by connect
  std::vector<Mount> mounts;
  int64_t nano_cpus = 0;   ///< 0: no limit
  int64_t memory = 0;      ///< bytes; 0: no limit
  int64_t pids_limit = 0;  ///< 0: no limit
  std::optional<Healthcheck> healthcheck;
  bool privileged = false;
  bool read_only_rootfs = false;
  bool no_new_privileges = false;
  std::vector<std::string> cap_add, cap_drop;
  std::optional<int> stop_timeout;  ///< seconds
  std::string hostname;                       ///< "": the engine's (the short id)
  std::vector<std::string> extra_hosts;       ///< "host:ip", as /etc/hosts lines
  std::vector<std::string> dns, dns_search, dns_options;
  bool init = false;                          ///< an init process (docker run --init)
  int64_t shm_size = 0;                       ///< bytes; 0: the engine's (64 MiB)
  std::vector<Ulimit> ulimits;
  std::map<std::string, std::string> sysctls;
  std::string log_driver;                     ///< "": the engine's
  std::map<std::string, std::string> log_options;
  bool operator==(const ContainerSpec&) const = default;
};

struct ContainerState {
  std::string status;  ///< created, running, paused, restarting, removing, exited, dead
  bool running = false;
  int exit_code = 0;
  int pid = 0;
  bool oom_killed = false;
  std::string health;  ///< "", starting, healthy or unhealthy
  std::string started_at, finished_at;  ///< RFC 3339 as the engine reports; "" when never
};

/// A container as inspect reports it. `config` is read back from the engine,
/// so it includes what the engine or image filled in (env from the image, ...).
struct Container {
  std::string id;
  std::string name;  ///< without the leading "/"
  std::string image_id;
  std::string created;
  ContainerSpec config;
  ContainerState state;
  int restart_count = 0;
};

/// One row of a container list: cheap, no per-container inspect.
struct ContainerSummary {
  std::string id;
  std::string name;  ///< without the leading "/"
  std::string image;
  std::string image_id;
  Labels labels;
  std::string state;   ///< created, running, exited, ...
  std::string status;  ///< "Up 5 minutes (healthy)"
  std::string health;  ///< parsed from status: "", starting, healthy or unhealthy
  int64_t created = 0;  ///< unix seconds
};

struct ListFilter {
  std::vector<std::string> labels;  ///< "key" or "key=value"; all must match
  bool all = true;                  ///< containers: include stopped ones
};

struct LogOptions {
  bool stdout_ = true;
  bool stderr_ = true;
  int tail = -1;  ///< -1: all lines
  bool timestamps = false;
  int64_t since = 0;  ///< unix seconds; 0: from the start
  bool follow = false;  ///< StreamLogs: keep streaming until the container stops
};

/// Where a chunk of a container's output came from.
enum class OutputStream { kStdout, kStderr };
/// Receives output as it arrives; returning false stops the stream.
using OutputSink = std::function<bool(OutputStream, std::string_view)>;

/// A command run in a running container (docker exec).
struct ExecRequest {
  std::vector<std::string> cmd;
  bool tty = false;
  int stdin_fd = -1;  ///< -1: no stdin; otherwise copied to the command until EOF
  int rows = 0, cols = 0;  ///< with tty: the terminal's size (0: the engine's default)
  std::string user, working_dir;
  std::vector<std::string> env;  ///< "NAME=value"
  OutputSink output;
  /// Past this the call returns kTimeout (the command may go on running in
  /// the container); 0: no limit.
  std::chrono::milliseconds timeout{0};
};

struct Logs {
  std::string out;  ///< stdout, demultiplexed
  std::string err;  ///< stderr, demultiplexed
};

struct Stats {
  uint64_t cpu_total_ns = 0;     ///< container CPU time
  uint64_t system_cpu_ns = 0;    ///< host CPU time, for ratios
  /// The same a second earlier (StatsMode::kSampled only; else 0).
  uint64_t pre_cpu_total_ns = 0, pre_system_cpu_ns = 0;
  int online_cpus = 0;
  uint64_t memory_usage = 0;     ///< bytes
  uint64_t memory_limit = 0;     ///< bytes
  uint64_t memory_inactive_file = 0;  ///< page cache the kernel may drop
  uint64_t pids = 0;

  /// CPUs in use over the sample (1.0: one core busy); 0 without a sample.
  double Cores() const {
    if (system_cpu_ns <= pre_system_cpu_ns || cpu_total_ns < pre_cpu_total_ns || pre_system_cpu_ns == 0) return 0;
    return double(cpu_total_ns - pre_cpu_total_ns) / double(system_cpu_ns - pre_system_cpu_ns) *
           (online_cpus > 0 ? online_cpus : 1);
  }
  /// Memory in use less what the kernel may reclaim, as the docker CLI and
  /// kubectl top show it.
  uint64_t WorkingSet() const {
    return memory_usage > memory_inactive_file ? memory_usage - memory_inactive_file : 0;
  }
};

enum class StatsMode {
  kSampled,  ///< two samples a second apart: CPU use now (Stats::Cores)
  kOneShot,  ///< one sample at once: counters and memory only
};

// --- images -------------------------------------------------------------------

/// The run defaults an image gives its containers: what a container's inspect
/// shows when the create request left these unset.
struct ImageConfig {
  std::vector<std::string> env;  ///< "NAME=value"
  std::optional<std::vector<std::string>> entrypoint, cmd;
  std::string working_dir, user;
};

struct Image {
  std::string id;
  ImageConfig config;  ///< from inspect only; a list leaves it empty
  std::vector<std::string> repo_tags;
  std::vector<std::string> repo_digests;
  int64_t size = 0;
  std::string created;
  Labels labels;
};

/// Registry credentials, sent as X-Registry-Auth.
struct RegistryAuth {
  std::string username;
  std::string password;
  std::string identity_token;  ///< instead of a password (docker login's token, a helper's "<token>")
  std::string server;  ///< e.g. "127.0.0.1:5000"; empty: taken from the reference
};

/// One line of a pull, push or build stream.
struct Progress {
  std::string id;      ///< layer id, when the line is about a layer
  std::string status;  ///< "Downloading", "Pull complete", a build step's output, ...
  int64_t current = 0, total = 0;
};
using ProgressFn = std::function<void(const Progress&)>;

struct BuildRequest {
  std::string context_dir;               ///< sent as a tar stream
  std::string dockerfile = "Dockerfile";  ///< relative to the context
  std::vector<std::string> tags;
  std::map<std::string, std::string> args;
  std::string target;
  Labels labels;
};

// --- networks and volumes -------------------------------------------------------

struct NetworkSpec {
  std::string name;
  std::string driver = "bridge";
  bool internal = false;
  bool attachable = false;
  std::string subnet, gateway;
  std::map<std::string, std::string> options;
  Labels labels;
  bool operator==(const NetworkSpec&) const = default;
};

struct Network {
  std::string id;
  NetworkSpec spec;  ///< read back from the engine
  std::vector<std::string> containers;  ///< ids of attached containers
};

struct VolumeSpec {
  std::string name;
  std::string driver = "local";
  std::map<std::string, std::string> driver_opts;
  Labels labels;
  bool operator==(const VolumeSpec&) const = default;
};

struct Volume {
  VolumeSpec spec;  ///< read back from the engine
  std::string mountpoint;
  std::string created;
};

// --- events ---------------------------------------------------------------------

struct Event {
  std::string type;    ///< container, image, network, volume, ...
  std::string action;  ///< create, start, die, destroy, health_status: healthy, ...
  std::string id;      ///< the actor's id (a network's or container's id, a volume's name)
  Labels attributes;   ///< the actor's attributes: its labels, name, exitCode, ...
  int64_t time_nano = 0;
};

struct EventFilter {
  std::vector<std::string> labels;  ///< "key" or "key=value"
  std::vector<std::string> types;   ///< container, network, volume, image; empty: all
  int64_t since = 0;                ///< unix seconds; 0: from now
};

/// Cancels a stream (or a wait) from another thread: set it, and the call
/// returns within 50 ms.
using CancelFlag = std::atomic<bool>;

}  // namespace keelson::docker
