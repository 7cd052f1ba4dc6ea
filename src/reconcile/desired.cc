#include "reconcile/desired.h"

#include <map>


#include "reconcile/labels.h"
#include "util/secret_file.h"

namespace keelson::reconcile {
namespace {

using nlohmann::json;

// An env file as docker run --env-file reads it: NAME=value lines, the
// value as it is; # comments and blank lines skipped. A line without '='
// (docker takes the client's variable) is refused: the controller's own
// environment is not the user's.
Result<void> EnvFile(const std::string& file, const std::string& at, std::vector<std::string>* out) {
  auto text = ReadSecretFile(file);
  if (!text) return Unexpected(ErrorCode::kInvalid, at + ": " + text.error().message);
  size_t start = 0;
  int line_no = 0;
  while (start <= text->size()) {
    const size_t end = text->find('\n', start);
    std::string line = text->substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? text->size() + 1 : end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos || eq == first) {
      // The line's name only: never its contents.
      return Unexpected(ErrorCode::kInvalid, at + ": " + file + ":" + std::to_string(line_no) + ": not NAME=value");
    }
    out->push_back(line.substr(first));
  }
  return {};
}

Result<std::vector<std::string>> Env(const model::RunnerSpec& spec, const std::string& path) {
  std::vector<std::string> out;
  for (size_t i = 0; i < spec.env_files.size(); ++i) {
    if (auto r = EnvFile(spec.env_files[i], path + ".envFrom[" + std::to_string(i) + "].file", &out); !r) {
      return Unexpected(r.error());
    }
  }
  for (size_t i = 0; i < spec.env.size(); ++i) {
    const model::EnvVar& e = spec.env[i];
    if (e.value) {
      out.push_back(e.name + "=" + *e.value);
      continue;
    }
    auto value = ReadSecretFile(e.value_from_file);
    if (!value) {
      return Unexpected(ErrorCode::kInvalid,
                        path + ".env[" + std::to_string(i) + "].valueFrom.file: " + value.error().message);
    }
    out.push_back(e.name + "=" + *value);
  }
  // One entry a name: a later file, and env, win (a process's getenv would
  // see the first of two).
  std::vector<std::string> unique;
  std::map<std::string, size_t> at;
  for (auto& kv : out) {
    const std::string name = kv.substr(0, kv.find('='));
    if (auto it = at.find(name); it != at.end()) {
      unique[it->second] = std::move(kv);
    } else {
      at[name] = unique.size();
      unique.push_back(std::move(kv));
    }
  }
  return unique;
}

void Mounts(const model::Object& owner, const model::RunnerSpec& spec, docker::ContainerSpec* c) {
  for (const auto& v : spec.volumes) {
    c->mounts.push_back({docker::Mount::Type::kVolume, EngineName(owner.meta.namespace_, v.name), v.mount_path,
                         v.read_only});
  }
  for (const auto& b : spec.binds) {
    c->mounts.push_back({docker::Mount::Type::kBind, b.host_path, b.mount_path, b.read_only});
  }
  for (const auto& t : spec.tmpfs) c->mounts.push_back({docker::Mount::Type::kTmpfs, "", t, false});
}

std::optional<docker::Healthcheck> Health(const model::RunnerSpec& spec) {
  if (!spec.healthcheck) return std::nullopt;
  const model::HealthcheckSpec& h = *spec.healthcheck;
  return docker::Healthcheck{h.test, h.interval.count(), h.timeout.count(), h.start_period.count(), h.retries};
}

}  // namespace

std::string ContainerHash(const json& hash_basis, const std::string& image,
                          const std::vector<std::string>& resolved_env, bool with_networks) {
  json canonical = hash_basis;
  if (!with_networks) canonical.erase("networks");
  canonical["image"] = image;
  canonical["env"] = resolved_env;
  return Hash(canonical);
}

Result<docker::ContainerSpec> DesiredContainer(const model::Object& owner, const model::RunnerSpec& spec,
                                               const std::string& name, const std::string& image,
                                               const std::string& store_id, std::string* legacy_hash) {
  docker::ContainerSpec c;
  c.name = name;
  c.image = image;
  c.entrypoint = spec.entrypoint;
  c.cmd = spec.command;
  auto env = Env(spec, owner.kind == model::Kind::kRunnerPool ? "spec.template" : "spec");
  if (!env) return Unexpected(env.error());
  c.env = std::move(*env);
  c.working_dir = spec.working_dir;
  c.user = spec.user;
  c.labels = spec.labels;
  for (const auto& [k, v] : OwnerLabels(owner, store_id)) c.labels[k] = v;
  if (!spec.restarted_at.empty()) c.labels[kRestartedAtLabel] = spec.restarted_at;
  // A pool's replicas keep networks in the hash: a template change rolls out.
  const bool runner = owner.kind == model::Kind::kRunner;
  c.labels[kSpecHashLabel] = ContainerHash(spec.hash_basis, image, c.env, /*with_networks=*/!runner);
  if (legacy_hash) *legacy_hash = ContainerHash(spec.hash_basis, image, c.env, true);
  for (const auto& p : spec.ports) c.ports.push_back({p.container_port, p.protocol, p.host_ip, p.host_port});
  for (const auto& n : spec.networks) {
    // The engine makes the host name an alias on every user network itself.
    std::vector<std::string> aliases;
    for (const auto& a : n.aliases) {
      if (a != spec.host.hostname) aliases.push_back(a);
    }
    c.networks.push_back({EngineName(owner.meta.namespace_, n.name), aliases});
  }
  Mounts(owner, spec, &c);
  c.nano_cpus = spec.resources.nano_cpus;
  c.memory = spec.resources.memory;
  c.pids_limit = spec.resources.pids;
  c.healthcheck = Health(spec);
  c.privileged = spec.security.privileged;
  c.read_only_rootfs = spec.security.read_only_root_filesystem;
  c.no_new_privileges = spec.security.no_new_privileges;
  c.cap_add = spec.security.cap_add;
  c.cap_drop = spec.security.cap_drop;
  c.stop_timeout = static_cast<int>(spec.stop_timeout.count());
  c.sysctls = spec.security.sysctls;
  c.hostname = spec.host.hostname;
  c.extra_hosts = spec.host.extra_hosts;
  c.dns = spec.host.nameservers;
  c.dns_search = spec.host.searches;
  c.dns_options = spec.host.dns_options;
  c.init = spec.host.init;
  c.shm_size = spec.host.shm_size;
  for (const auto& u : spec.host.ulimits) c.ulimits.push_back({u.name, u.soft, u.hard});
  c.log_driver = spec.host.log_driver;
  c.log_options = spec.host.log_options;
  return c;
}

docker::NetworkSpec DesiredNetwork(const model::Object& owner, const model::NetworkSpec& spec,
                                   const std::string& store_id) {
  docker::NetworkSpec n;
  n.name = EngineName(owner);
  n.driver = spec.driver;
  n.internal = spec.internal;
  n.attachable = spec.attachable;
  n.subnet = spec.subnet;
  n.gateway = spec.gateway;
  n.options = spec.options;
  if (spec.mtu) n.options["com.docker.network.driver.mtu"] = std::to_string(*spec.mtu);
  n.labels = spec.labels;
  for (const auto& [k, v] : OwnerLabels(owner, store_id)) n.labels[k] = v;
  n.labels[kSpecHashLabel] = Hash(spec.hash_basis);
  return n;
}

docker::VolumeSpec DesiredVolume(const model::Object& owner, const model::VolumeSpec& spec,
                                 const std::string& store_id) {
  docker::VolumeSpec v;
  v.name = EngineName(owner);
  v.driver = spec.driver;
  v.driver_opts = spec.driver_opts;
  v.labels = spec.labels;
  for (const auto& [k, val] : OwnerLabels(owner, store_id)) v.labels[k] = val;
  v.labels[kSpecHashLabel] = Hash(spec.hash_basis);
  return v;
}

}  // namespace keelson::reconcile
