#include "reconcile/desired.h"

#include <fstream>
#include <sstream>

#include "reconcile/labels.h"
#include "util/units.h"

namespace keelson::reconcile {
namespace {

using nlohmann::json;

std::vector<std::string> Strings(const json& v) {
  std::vector<std::string> out;
  if (v.is_array()) {
    for (const auto& s : v) out.push_back(s.get<std::string>());
  }
  return out;
}

std::string Text(const json& v) { return v.is_string() ? v.get<std::string>() : v.is_number() ? v.dump() : ""; }

int64_t Nanos(const json& spec, const char* field) {
  if (!spec.contains(field)) return 0;
  auto d = ParseDuration(spec[field].get<std::string>());
  return d ? d->count() : 0;
}

Result<std::vector<std::string>> Env(const json& spec) {
  std::vector<std::string> out;
  if (!spec.contains("env")) return out;
  for (size_t i = 0; i < spec["env"].size(); ++i) {
    const json& e = spec["env"][i];
    std::string name = e["name"].get<std::string>();
    if (e.contains("value")) {
      out.push_back(name + "=" + e["value"].get<std::string>());
      continue;
    }
    std::string path = e["valueFrom"]["file"].get<std::string>();
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return Unexpected(ErrorCode::kInvalid,
                        "spec.env[" + std::to_string(i) + "].valueFrom.file: cannot read " + path);
    }
    std::stringstream text;
    text << in.rdbuf();
    std::string value = text.str();
    if (!value.empty() && value.back() == '\n') value.pop_back();
    out.push_back(name + "=" + value);
  }
  return out;
}

void Ports(const json& spec, docker::ContainerSpec* c) {
  for (const auto& p : spec.value("ports", json::array())) {
    c->ports.push_back({p["containerPort"].get<int>(), p.value("protocol", "tcp"), p.value("hostIP", ""),
                        p.value("hostPort", 0)});
  }
}

void Mounts(const model::Object& owner, const json& spec, docker::ContainerSpec* c) {
  for (const auto& v : spec.value("volumes", json::array())) {
    c->mounts.push_back({docker::Mount::Type::kVolume, EngineName(owner.meta.namespace_, v["name"].get<std::string>()),
                         v["mountPath"].get<std::string>(), v.value("readOnly", false)});
  }
  for (const auto& b : spec.value("binds", json::array())) {
    c->mounts.push_back({docker::Mount::Type::kBind, b["hostPath"].get<std::string>(),
                         b["mountPath"].get<std::string>(), b.value("readOnly", false)});
  }
  for (const auto& t : spec.value("tmpfs", json::array())) {
    c->mounts.push_back({docker::Mount::Type::kTmpfs, "", t.get<std::string>(), false});
  }
}

Result<void> Resources(const json& spec, docker::ContainerSpec* c) {
  if (!spec.contains("resources")) return {};
  const json& r = spec["resources"];
  if (r.contains("cpus")) {
    auto cpus = ParseCpus(Text(r["cpus"]));
    if (!cpus) return Unexpected(ErrorCode::kInvalid, "spec.resources.cpus: not a CPU count");
    c->nano_cpus = *cpus;
  }
  if (r.contains("memory")) {
    auto mem = ParseMemoryQuantity(Text(r["memory"]));
    if (!mem) return Unexpected(ErrorCode::kInvalid, "spec.resources.memory: not a quantity");
    c->memory = *mem;
  }
  c->pids_limit = r.value("pids", 0);
  return {};
}

void Security(const json& spec, docker::ContainerSpec* c) {
  const json sc = spec.value("securityContext", json::object());
  c->privileged = sc.value("privileged", false);
  c->read_only_rootfs = sc.value("readOnlyRootFilesystem", false);
  c->no_new_privileges = sc.value("noNewPrivileges", false);
  c->cap_add = Strings(sc.value("capAdd", json::array()));
  c->cap_drop = Strings(sc.value("capDrop", json::array()));
}

void Health(const json& spec, docker::ContainerSpec* c) {
  if (!spec.contains("healthcheck")) return;
  const json& h = spec["healthcheck"];
  docker::Healthcheck hc;
  hc.test = Strings(h["test"]);
  hc.interval_ns = Nanos(h, "interval");
  hc.timeout_ns = Nanos(h, "timeout");
  hc.start_period_ns = Nanos(h, "startPeriod");
  hc.retries = h.value("retries", 0);
  c->healthcheck = hc;
}

}  // namespace

std::map<std::string, std::string> StringMapField(const json& spec, const char* field) {
  std::map<std::string, std::string> out;
  auto it = spec.find(field);
  if (it == spec.end() || !it->is_object()) return out;
  for (const auto& [k, v] : it->items()) out[k] = v.get<std::string>();
  return out;
}

int StopTimeoutSeconds(const json& runner_spec) {
  auto d = ParseDuration(runner_spec.value("stopTimeout", "10s"));
  if (!d) return 10;
  return static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(*d).count());
}

std::string ContainerHash(const json& runner_spec, const std::string& image,
                          const std::vector<std::string>& resolved_env) {
  json canonical = runner_spec;
  canonical.erase("restartPolicy");
  canonical.erase("dependsOn");
  canonical.erase("imageRef");
  canonical["image"] = image;
  canonical["env"] = resolved_env;
  return Hash(canonical);
}

Result<docker::ContainerSpec> DesiredContainer(const model::Object& owner, const json& spec,
                                               const std::string& name, const std::string& image,
                                               const std::string& store_id) {
  docker::ContainerSpec c;
  c.name = name;
  c.image = image;
  if (spec.contains("entrypoint")) c.entrypoint = Strings(spec["entrypoint"]);
  if (spec.contains("command")) c.cmd = Strings(spec["command"]);
  auto env = Env(spec);
  if (!env) return Unexpected(env.error());
  c.env = *env;
  c.working_dir = spec.value("workingDir", "");
  c.user = spec.value("user", "");
  for (const auto& [k, v] : StringMapField(spec, "labels")) c.labels[k] = v;
  for (const auto& [k, v] : OwnerLabels(owner, store_id)) c.labels[k] = v;
  c.labels[kSpecHashLabel] = ContainerHash(spec, image, c.env);
  Ports(spec, &c);
  for (const auto& n : spec.value("networks", json::array())) {
    c.networks.push_back({EngineName(owner.meta.namespace_, n["name"].get<std::string>()),
                          Strings(n.value("aliases", json::array()))});
  }
  Mounts(owner, spec, &c);
  if (auto r = Resources(spec, &c); !r) return Unexpected(r.error());
  Health(spec, &c);
  Security(spec, &c);
  c.stop_timeout = StopTimeoutSeconds(spec);
  return c;
}

docker::NetworkSpec DesiredNetwork(const model::Object& network, const std::string& store_id) {
  const json& spec = network.spec;
  docker::NetworkSpec n;
  n.name = EngineName(network);
  n.driver = spec.value("driver", "bridge");
  n.internal = spec.value("internal", false);
  n.attachable = spec.value("attachable", false);
  n.subnet = spec.value("subnet", "");
  n.gateway = spec.value("gateway", "");
  for (const auto& [k, v] : StringMapField(spec, "options")) n.options[k] = v;
  if (spec.contains("mtu")) n.options["com.docker.network.driver.mtu"] = std::to_string(spec["mtu"].get<int>());
  for (const auto& [k, v] : StringMapField(spec, "labels")) n.labels[k] = v;
  for (const auto& [k, v] : OwnerLabels(network, store_id)) n.labels[k] = v;
  n.labels[kSpecHashLabel] = Hash(spec);
  return n;
}

docker::VolumeSpec DesiredVolume(const model::Object& volume, const std::string& store_id) {
  const json& spec = volume.spec;
  docker::VolumeSpec v;
  v.name = EngineName(volume);
  v.driver = spec.value("driver", "local");
  for (const auto& [k, val] : StringMapField(spec, "driverOpts")) v.driver_opts[k] = val;
  for (const auto& [k, val] : StringMapField(spec, "labels")) v.labels[k] = val;
  for (const auto& [k, val] : OwnerLabels(volume, store_id)) v.labels[k] = val;
  v.labels[kSpecHashLabel] = Hash(spec);
  return v;
}

}  // namespace keelson::reconcile
