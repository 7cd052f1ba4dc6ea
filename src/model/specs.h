#pragma once
// The kinds' specs as C++ types. manifest::DecodeSpec makes them from the
// stored JSON at the edge: the CRD schema is checked and its defaults applied
// there, so the values here are complete and valid, and no code past that
// point reads a spec by string key or restates a default.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/object.h"

namespace keelson::model {

using StringMap = std::map<std::string, std::string>;

struct EnvVar {
  std::string name;
  std::optional<std::string> value;  ///< a literal value, or
  std::string value_from_file;       ///< an absolute path read when the container is created
};

struct PortSpec {
  int container_port = 0;
  int host_port = 0;  ///< 0: the engine picks one
  std::string host_ip;
  std::string protocol;  ///< tcp, udp or sctp
};

struct NetworkAttachmentSpec {
  std::string name;  ///< a Network object's name
  std::vector<std::string> aliases;
};

struct VolumeMountSpec {
  std::string name;  ///< a Volume object's name
  std::string mount_path;
  bool read_only = false;
};

struct BindSpec {
  std::string host_path, mount_path;
  bool read_only = false;
};

struct ResourcesSpec {
  int64_t nano_cpus = 0;  ///< 0: no limit
  int64_t memory = 0;     ///< bytes; 0: no limit
  int64_t pids = 0;       ///< 0: no limit
};

struct HealthcheckSpec {
  std::vector<std::string> test;
  std::chrono::nanoseconds interval{0}, timeout{0}, start_period{0};  ///< 0: the engine's default
  int retries = 0;
};

struct SecuritySpec {
  bool privileged = false, read_only_root_filesystem = false, no_new_privileges = false;
  std::vector<std::string> cap_add, cap_drop;
  std::map<std::string, std::string> sysctls;
};

/// The container's host name and name resolution (hostname, hostAliases,
/// dnsConfig), and its process settings (init, shmSize, ulimits, logging).
struct HostSpec {
  std::string hostname;
  std::vector<std::string> extra_hosts;  ///< "name:ip", one per host alias name
  std::vector<std::string> nameservers, searches, dns_options;  ///< options as "name" or "name:value"
  bool init = false;
  int64_t shm_size = 0;
  struct Ulimit {
    std::string name;
    int64_t soft = 0, hard = 0;
  };
  std::vector<Ulimit> ulimits;
  std::string log_driver;
  std::map<std::string, std::string> log_options;
};

enum class RestartPolicy { kAlways, kOnFailure, kNever };
const char* ToString(RestartPolicy p);

struct DependencySpec {
  Kind kind = Kind::kRunner;
  std::string name;
};

/// A Runner's spec, and a RunnerPool's template (which has no dependsOn).
struct RunnerSpec {
  std::string image;      ///< exactly one of image and
  std::string image_ref;  ///< imageRef (an Image object's name)
  std::optional<std::vector<std::string>> entrypoint, command;
  std::string working_dir, user;
  std::vector<EnvVar> env;
  std::vector<std::string> env_files;  ///< envFrom[].file, absolute
  std::vector<PortSpec> ports;
  std::vector<NetworkAttachmentSpec> networks;
  std::vector<VolumeMountSpec> volumes;
  std::vector<BindSpec> binds;
  std::vector<std::string> tmpfs;
  ResourcesSpec resources;
  std::optional<HealthcheckSpec> healthcheck;
  SecuritySpec security;
  HostSpec host;
  RestartPolicy restart_policy = RestartPolicy::kAlways;
  std::chrono::seconds stop_timeout{10};
  StringMap labels;
  std::string restarted_at;  ///< keelson rollout restart's time; "" when never
  std::vector<DependencySpec> depends_on;
  /// The stored spec without the fields only the controller acts on
  /// (restartPolicy, dependsOn, imageRef): what the spec-hash label hashes,
  /// so hashes stay as they were for containers made by earlier versions.
  nlohmann::json hash_basis;
};

struct IntOrPercent {
  int value = 0;
  bool percent = false;
  /// As a count of `total`: a percentage rounds up for a surge and down for
  /// unavailability, as Kubernetes does.
  int Resolve(int total, bool round_up) const;
};

/// A time window that raises an autoscaled pool's floor: active from each
/// time `start` matches until the next time `end` does (cron expressions in
/// `time_zone`), as KEDA's cron scaler reads its start and end.
struct ScheduleSpec {
  std::string time_zone = "UTC";
  std::string start, end;
  std::optional<int> min_replicas, min_idle;
};

/// RunnerPool.spec.autoscaling.queue: a queue depth polled over HTTP, for
/// CI systems other than GitHub.
struct QueueSpec {
  std::string url;
  std::string json_path;         ///< kubectl JSONPath to the number in a JSON answer, or
  std::string prometheus_query;  ///< an instant query to the Prometheus server at url
  std::chrono::nanoseconds interval{std::chrono::seconds(15)};
  std::string bearer_token_file;  ///< absolute; read at each poll, never stored or printed
  std::string ca_file;            ///< absolute; "": the system's authorities
};

/// RunnerPool.spec.autoscaling (reconcile/autoscale.h plans with it).
struct AutoscalingSpec {
  int min_replicas = 0;
  int max_replicas = 0;
  int min_idle = 0;  ///< replicas kept started and waiting for a job
  std::chrono::nanoseconds scale_down_delay{std::chrono::minutes(5)};
  std::chrono::nanoseconds queued_job_timeout{std::chrono::minutes(30)};  ///< a queued job's reservation expires
  std::chrono::nanoseconds running_job_timeout{std::chrono::hours(6)};   ///< a running job's, without "completed"
  std::vector<ScheduleSpec> schedules;
  std::optional<QueueSpec> queue;
};

/// RunnerPool.spec.github: where the pool's jobs come from.
struct GitHubSpec {
  std::string url;  ///< https://github.com/ORG or https://github.com/ORG/REPO ("" : any)
  std::vector<std::string> labels;  ///< the runners' labels; "self-hosted" is implied
  std::string webhook_secret_file;  ///< absolute; read when a delivery is checked, never stored
  // The runner lifecycle (just-in-time configurations), with credentials:
  std::string api_url;     ///< "": from url
  std::string token_file;  ///< absolute; a token with the scope's runner administration, or
  std::string app_id, installation_id, private_key_file;  ///< a GitHub App's (file absolute)
  std::string ca_file;     ///< absolute; "": the system's authorities
  std::string runner_group;  ///< "": the default group
  std::chrono::nanoseconds registration_timeout{std::chrono::minutes(10)};
  /// Credentials given: keelson registers each replica (JIT) and cleans up.
  bool Manages() const { return !token_file.empty() || !private_key_file.empty(); }
};

/// RunnerPool.spec.template.busyProbe: is a replica running a job?
struct BusyProbeSpec {
  std::vector<std::string> command;  ///< exit code 0: busy
  std::chrono::seconds period{5}, timeout{1};
};

struct RunnerPoolSpec {
  int replicas = 1;
  /// spec.replicas as stored (not defaulted): with autoscaling and neither
  /// github nor a queue, what /scale asked for.
  std::optional<int> stored_replicas;
  std::optional<AutoscalingSpec> autoscaling;
  std::optional<BusyProbeSpec> busy_probe;  ///< from spec.template
  std::optional<GitHubSpec> github;
  RunnerSpec template_;
  bool ephemeral = false;
  int successful_runs_kept = 3;  ///< successfulRunsHistoryLimit
  int failed_runs_kept = 1;      ///< failedRunsHistoryLimit
  bool recreate = false;  ///< strategy.type Recreate (else RollingUpdate)
  IntOrPercent max_surge, max_unavailable;
  std::chrono::seconds min_ready{0};
  std::vector<DependencySpec> depends_on;
  std::chrono::nanoseconds progress_deadline{0};
  std::string progress_deadline_text;  ///< as written, for messages
  bool rollback_auto = false;
};

enum class PullPolicy { kIfNotPresent, kAlways, kNever };

struct ImageBuildSpec {
  std::string context;  ///< absolute
  std::string dockerfile;
  StringMap args;
  std::string target;
};

struct RegistryAuthSpec {
  std::string registry;       ///< the only registry the credentials are sent to
  std::string username;
  std::string password_file;  ///< absolute; read when needed, never stored
};

/// The registry host of an image reference as the engine resolves it:
/// "127.0.0.1:5000/ci/runner:1" -> "127.0.0.1:5000", "busybox" -> "docker.io".
std::string RegistryOf(const std::string& image);
/// A registry as ~/.docker/config.json names it, reduced to its host:
/// "https://index.docker.io/v1/" -> "docker.io", "127.0.0.1:5000" stays.
std::string NormalizeRegistry(const std::string& server);

struct ImageSpec {
  std::string ref;
  PullPolicy pull_policy = PullPolicy::kIfNotPresent;
  std::optional<RegistryAuthSpec> auth;
  std::optional<ImageBuildSpec> build;
  bool push = false;
};

struct NetworkSpec {
  std::string driver;
  bool internal = false, attachable = false;
  std::string subnet, gateway;
  std::optional<int> mtu;
  StringMap options, labels;
  nlohmann::json hash_basis;  ///< the stored spec, for the spec-hash label
};

struct VolumeSpec {
  std::string driver;
  StringMap driver_opts, labels;
  nlohmann::json hash_basis;  ///< the stored spec, for the spec-hash label
};

enum class Enforcement { kEnforce, kWarn, kAudit };

struct PolicySpec {
  Enforcement enforcement = Enforcement::kEnforce;
  nlohmann::json rules;  ///< judged by policy::Check, which reports JSON paths
};

/// Manifests kept in git (controller/source_sync.h syncs them).
struct GitRepositorySpec {
  enum class RefType { kBranch, kTag, kSemver, kCommit };
  std::string url;
  RefType ref_type = RefType::kBranch;
  std::string ref = "main";  ///< the branch, tag, semver constraint or commit sha
  std::string path = ".";    ///< inside the repository
  std::chrono::nanoseconds interval{std::chrono::minutes(1)};
  std::chrono::nanoseconds timeout{std::chrono::seconds(60)};
  bool prune = true;
  bool suspend = false;
  bool report_only = false;  ///< mode: report (say what would change, store nothing)
  std::string username = "git";  ///< auth.username
  std::string password_file, ssh_key_file, known_hosts_file, ca_file;  ///< auth; absolute after apply
};

using Spec =
    std::variant<ImageSpec, NetworkSpec, VolumeSpec, RunnerSpec, RunnerPoolSpec, PolicySpec, GitRepositorySpec>;

}  // namespace keelson::model
