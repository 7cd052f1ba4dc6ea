#include "reconcile/diff.h"

#include <algorithm>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "reconcile/labels.h"

namespace keelson::reconcile {
namespace {

using Strings = std::vector<std::string>;

std::string Q(const std::string& s) { return nlohmann::json(s).dump(); }

std::string Show(const Strings& v) { return nlohmann::json(v).dump(); }

std::map<std::string, std::string> EnvMap(const Strings& env) {
  std::map<std::string, std::string> out;
  for (const auto& kv : env) {
    auto eq = kv.find('=');
    out[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
  }
  return out;
}

/// Keyed maps: `want` overlaid on `base` (the image's) is what the engine
/// should show; report every key that differs.
void DiffMaps(const char* field, std::map<std::string, std::string> expected,
              const std::map<std::string, std::string>& have, Strings* out) {
  for (const auto& [k, v] : expected) {
    auto it = have.find(k);
    if (it == have.end()) {
      out->push_back(std::string(field) + "[" + k + "] (unset) -> " + Q(v));
    } else if (it->second != v) {
      out->push_back(std::string(field) + "[" + k + "] " + Q(it->second) + " -> " + Q(v));
    }
  }
  for (const auto& [k, v] : have) {
    if (!expected.count(k)) out->push_back(std::string(field) + "[" + k + "] " + Q(v) + " -> (unset)");
  }
}

// Env values are never printed: they may come from files (tokens, passwords)
// or from the image. Which variable changed is what a reader needs.
void DiffEnvNames(const std::map<std::string, std::string>& expected, const std::map<std::string, std::string>& have,
                  Strings* out) {
  for (const auto& [k, v] : expected) {
    auto it = have.find(k);
    if (it == have.end()) {
      out->push_back("env[" + k + "] set");
    } else if (it->second != v) {
      out->push_back("env[" + k + "] changed");
    }
  }
  for (const auto& [k, v] : have) {
    if (!expected.count(k)) out->push_back("env[" + k + "] unset");
  }
}

template <typename T>
void DiffValue(const char* field, const T& want, const T& have, Strings* out) {
  if (want == have) return;
  out->push_back(std::string(field) + " " + nlohmann::json(have).dump() + " -> " + nlohmann::json(want).dump());
}

template <typename T>
std::vector<T> Sorted(std::vector<T> v, auto key) {
  std::sort(v.begin(), v.end(), [&](const T& a, const T& b) { return key(a) < key(b); });
  return v;
}

std::string PortText(const docker::PortBinding& p) {
  std::string s = std::to_string(p.container_port) + "/" + p.protocol;
  if (!p.host_ip.empty() || p.host_port) s += "->" + p.host_ip + ":" + std::to_string(p.host_port);
  return s;
}

std::string MountText(const docker::Mount& m) {
  const char* type = m.type == docker::Mount::Type::kVolume ? "volume" : m.type == docker::Mount::Type::kBind ? "bind" : "tmpfs";
  return std::string(type) + ":" + m.source + ":" + m.target + (m.read_only ? ":ro" : "");
}

Strings Texts(const auto& items, auto text) {
  Strings out;
  for (const auto& i : items) out.push_back(text(i));
  std::sort(out.begin(), out.end());
  return out;
}

std::map<std::string, std::string> WithoutHash(std::map<std::string, std::string> labels) {
  labels.erase(kSpecHashLabel);
  return labels;
}

Strings OrEmpty(const std::optional<Strings>& v) { return v ? *v : Strings{}; }

void DiffCommand(const docker::ContainerSpec& want, const docker::ContainerSpec& have, const docker::Image* image,
                 Strings* out) {
  // Unset in the spec means the image's; a spec entrypoint resets the image's cmd.
  std::optional<Strings> image_entry = image ? image->config.entrypoint : std::nullopt;
  std::optional<Strings> image_cmd = image ? image->config.cmd : std::nullopt;
  if (want.entrypoint || image) DiffValue("entrypoint", OrEmpty(want.entrypoint ? want.entrypoint : image_entry), OrEmpty(have.entrypoint), out);
  if (want.cmd) {
    DiffValue("command", *want.cmd, OrEmpty(have.cmd), out);
  } else if (image) {
    DiffValue("command", want.entrypoint ? Strings{} : OrEmpty(image_cmd), OrEmpty(have.cmd), out);
  }
}

void DiffStrings(const docker::ContainerSpec& want, const docker::ContainerSpec& have, const docker::Image* image,
                 Strings* out) {
  auto with_default = [&](const std::string& w, const std::string& image_value) {
    return w.empty() && image ? image_value : w;
  };
  if (!want.working_dir.empty() || image) {
    DiffValue("workingDir", with_default(want.working_dir, image ? image->config.working_dir : ""), have.working_dir, out);
  }
  if (!want.user.empty() || image) DiffValue("user", with_default(want.user, image ? image->config.user : ""), have.user, out);
}

void DiffEnvAndLabels(const docker::ContainerSpec& want, const docker::ContainerSpec& have, const docker::Image* image,
                      Strings* out) {
  auto expected_env = image ? EnvMap(image->config.env) : std::map<std::string, std::string>{};
  for (const auto& [k, v] : EnvMap(want.env)) expected_env[k] = v;
  auto have_env = EnvMap(have.env);
  if (!image) {
    // Without the image, only what the spec sets can be checked.
    for (auto it = have_env.begin(); it != have_env.end();) it = expected_env.count(it->first) ? std::next(it) : have_env.erase(it);
  }
  DiffEnvNames(expected_env, have_env, out);
  std::map<std::string, std::string> expected_labels = image ? image->labels : std::map<std::string, std::string>{};
  for (const auto& [k, v] : want.labels) expected_labels[k] = v;
  auto have_labels = have.labels;
  if (!image) {
    for (auto it = have_labels.begin(); it != have_labels.end();) it = expected_labels.count(it->first) ? std::next(it) : have_labels.erase(it);
  }
  // The spec hash is keelson's own summary of the rest, not a field to report.
  expected_labels.erase(kSpecHashLabel);
  have_labels.erase(kSpecHashLabel);
  // A restart on demand is said as the spec field that asked for it.
  auto take = [](std::map<std::string, std::string>& m) {
    auto it = m.find(kRestartedAtLabel);
    if (it == m.end()) return std::string("(unset)");
    std::string v = it->second;
    m.erase(it);
    return v;
  };
  const std::string want_restart = take(expected_labels), have_restart = take(have_labels);
  if (want_restart != have_restart) out->push_back("restartedAt " + have_restart + " -> " + want_restart + " (rollout restart)");
  DiffMaps("labels", expected_labels, have_labels, out);
}

}  // namespace

namespace {

// hostname, hostAliases, dnsConfig, init, shmSize, ulimits, sysctls and
// logging: compared where the spec sets them (the engine fills in its own
// otherwise: a host name, 64 MiB of /dev/shm, json-file).
void DiffHost(const docker::ContainerSpec& want, const docker::ContainerSpec& have, Strings* out) {
  auto sorted = [](Strings v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  if (!want.hostname.empty()) DiffValue("hostname", want.hostname, have.hostname, out);
  DiffValue("hostAliases", sorted(want.extra_hosts), sorted(have.extra_hosts), out);
  DiffValue("dnsConfig.nameservers", want.dns, have.dns, out);
  DiffValue("dnsConfig.searches", want.dns_search, have.dns_search, out);
  DiffValue("dnsConfig.options", want.dns_options, have.dns_options, out);
  DiffValue("init", want.init, have.init, out);
  if (want.shm_size) DiffValue("shmSize", want.shm_size, have.shm_size, out);
  auto limits = [](const std::vector<docker::Ulimit>& us) {
    Strings v;
    for (const auto& u : us) v.push_back(u.name + "=" + std::to_string(u.soft) + ":" + std::to_string(u.hard));
    std::sort(v.begin(), v.end());
    return v;
  };
  DiffValue("ulimits", limits(want.ulimits), limits(have.ulimits), out);
  DiffMaps("securityContext.sysctls", want.sysctls, have.sysctls, out);
  if (!want.log_driver.empty()) {
    DiffValue("logging.driver", want.log_driver, have.log_driver, out);
    DiffMaps("logging.options", want.log_options, have.log_options, out);
  }
}

}  // namespace

std::vector<std::string> DiffContainer(const docker::ContainerSpec& want, const docker::Container& have_c,
                                       const docker::Image* image) {
  const docker::ContainerSpec& have = have_c.config;
  Strings out;
  DiffValue("image", want.image, have.image, &out);
  DiffCommand(want, have, image, &out);
  DiffStrings(want, have, image, &out);
  DiffEnvAndLabels(want, have, image, &out);
  DiffValue("ports", Texts(want.ports, PortText), Texts(have.ports, PortText), &out);
  DiffValue("mounts", Texts(want.mounts, MountText), Texts(have.mounts, MountText), &out);
  DiffValue("resources.cpus(nano)", want.nano_cpus, have.nano_cpus, &out);
  DiffValue("resources.memory", want.memory, have.memory, &out);
  DiffValue("resources.pids", want.pids_limit, have.pids_limit, &out);
  if (want.healthcheck) {
    const auto& w = *want.healthcheck;
    auto h = have.healthcheck.value_or(docker::Healthcheck{});
    DiffValue("healthcheck.test", w.test, h.test, &out);
    DiffValue("healthcheck.interval(ns)", w.interval_ns, h.interval_ns, &out);
    DiffValue("healthcheck.timeout(ns)", w.timeout_ns, h.timeout_ns, &out);
    DiffValue("healthcheck.startPeriod(ns)", w.start_period_ns, h.start_period_ns, &out);
    DiffValue("healthcheck.retries", w.retries, h.retries, &out);
  }
  DiffValue("securityContext.privileged", want.privileged, have.privileged, &out);
  DiffValue("securityContext.readOnlyRootFilesystem", want.read_only_rootfs, have.read_only_rootfs, &out);
  DiffValue("securityContext.noNewPrivileges", want.no_new_privileges, have.no_new_privileges, &out);
  auto sorted = [](Strings v) { std::sort(v.begin(), v.end()); return v; };
  DiffValue("securityContext.capAdd", sorted(want.cap_add), sorted(have.cap_add), &out);
  DiffValue("securityContext.capDrop", sorted(want.cap_drop), sorted(have.cap_drop), &out);
  if (want.stop_timeout) DiffValue("stopTimeout(s)", *want.stop_timeout, have.stop_timeout.value_or(10), &out);
  DiffHost(want, have, &out);
  return out;
}

std::vector<NetworkChange> DiffNetworks(const docker::ContainerSpec& want, const docker::Container& have) {
  std::vector<NetworkChange> disconnect, connect;
  auto sorted = [](Strings v) { std::sort(v.begin(), v.end()); return v; };
  for (const auto& w : want.networks) {
    auto it = std::find_if(have.config.networks.begin(), have.config.networks.end(),
                           [&](const auto& h) { return h.network == w.network; });
    if (it == have.config.networks.end()) {
      connect.push_back({true, w, "networks[" + w.network + "] not attached"});
    } else if (sorted(it->aliases) != sorted(w.aliases)) {
      std::string reason = "networks[" + w.network + "].aliases " + Show(it->aliases) + " -> " + Show(w.aliases);
      disconnect.push_back({false, {w.network, {}}, reason});
      connect.push_back({true, w, reason});
    }
  }
  for (const auto& h : have.config.networks) {
    bool wanted = std::any_of(want.networks.begin(), want.networks.end(), [&](const auto& w) { return w.network == h.network; });
    // With no networks in the spec the engine puts the container on "bridge".
    if (wanted || (want.networks.empty() && h.network == "bridge")) continue;
    disconnect.push_back({false, {h.network, {}}, "networks[" + h.network + "] attached outside the spec"});
  }
  disconnect.insert(disconnect.end(), connect.begin(), connect.end());
  return disconnect;
}

std::vector<std::string> DiffNetwork(const docker::NetworkSpec& want, const docker::NetworkSpec& have) {
  Strings out;
  DiffValue("driver", want.driver, have.driver, &out);
  DiffValue("internal", want.internal, have.internal, &out);
  DiffValue("attachable", want.attachable, have.attachable, &out);
  if (!want.subnet.empty()) DiffValue("subnet", want.subnet, have.subnet, &out);
  if (!want.gateway.empty()) DiffValue("gateway", want.gateway, have.gateway, &out);
  for (const auto& [k, v] : want.options) {
    auto it = have.options.find(k);
    DiffValue(("options[" + k + "]").c_str(), v, it == have.options.end() ? std::string("(unset)") : it->second, &out);
  }
  DiffMaps("labels", WithoutHash(want.labels), WithoutHash(have.labels), &out);
  return out;
}

std::vector<std::string> DiffVolume(const docker::VolumeSpec& want, const docker::VolumeSpec& have) {
  Strings out;
  DiffValue("driver", want.driver, have.driver, &out);
  for (const auto& [k, v] : want.driver_opts) {
    auto it = have.driver_opts.find(k);
    DiffValue(("driverOpts[" + k + "]").c_str(), v, it == have.driver_opts.end() ? std::string("(unset)") : it->second, &out);
  }
  DiffMaps("labels", WithoutHash(want.labels), WithoutHash(have.labels), &out);
  return out;
}

}  // namespace keelson::reconcile
