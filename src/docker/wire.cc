#include "docker/wire.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace keelson::docker::wire {
namespace {

// Readers that treat a missing key, null or a wrong type as empty: the engine
// sends null for unset lists and maps.
const json& At(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}
std::string Str(const json& j, const char* key) {
  const json& v = At(j, key);
  return v.is_string() ? v.get<std::string>() : "";
}
int64_t Int(const json& j, const char* key) {
  const json& v = At(j, key);
  return v.is_number() ? v.get<int64_t>() : 0;
}
bool Bool(const json& j, const char* key) {
  const json& v = At(j, key);
  return v.is_boolean() && v.get<bool>();
}
std::vector<std::string> Strings(const json& v) {
  std::vector<std::string> out;
  if (!v.is_array()) return out;
  for (const auto& s : v) {
    if (s.is_string()) out.push_back(s.get<std::string>());
  }
  return out;
}
std::map<std::string, std::string> StringMap(const json& v) {
  std::map<std::string, std::string> out;
  if (!v.is_object()) return out;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  }
  return out;
}
std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}
bool Contains(const std::string& haystack, std::initializer_list<const char*> needles) {
  std::string h = Lower(haystack);
  return std::any_of(needles.begin(), needles.end(), [&](const char* n) { return h.find(n) != std::string::npos; });
}

// What the engine says when it cannot reach a registry or another host: the
// network's trouble, not the request's, so worth retrying.
const std::initializer_list<const char*> kNetworkTrouble = {
    "connection refused", "timeout", "no such host", "connection reset", "network is unreachable",
    "temporary failure in name resolution", "dial tcp", "tls handshake"};

std::string PortKey(const PortBinding& p) { return std::to_string(p.container_port) + "/" + p.protocol; }

}  // namespace

std::string Base64Url(std::string_view s) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t v = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += kAlphabet[(v >> k) & 63];
  }
  if (size_t rest = s.size() - i; rest > 0) {
    uint32_t v = uint8_t(s[i]) << 16;
    if (rest == 2) v |= uint8_t(s[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  // Padded, as Go's base64.URLEncoding writes and reads it: Docker 20.10
  // decodes X-Registry-Auth with it, and silently drops credentials whose
  // JSON's length is not a multiple of 3 when the padding is missing.
  return out;
}

std::string Filters(const std::vector<std::string>& labels,
                    const std::vector<std::pair<std::string, std::string>>& extra) {
  json f = json::object();
  for (const auto& l : labels) f["label"].push_back(l);
  for (const auto& [k, v] : extra) f[k].push_back(v);
  return f.empty() ? "" : UrlEncode(f.dump());
}

Error StatusError(long status, const std::string& body, const std::string& context) {
  std::string message;
  auto j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) {
    message = j["message"].get<std::string>();
  } else {
    message = body.empty() ? "HTTP " + std::to_string(status) : body.substr(0, 500);
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
  }
  std::string text = context + ": " + message;
  switch (status) {
    case 400:
      return MakeError(ErrorCode::kInvalid, text);
    case 401:
      return MakeError(ErrorCode::kUnauthorized, text);
    case 403:
      // The engine answers 403 for some conflicts ("has active endpoints",
      // "endpoint with name x already exists in network y").
      if (Contains(message, {"active endpoints", "already exists", "in use"})) {
        return MakeError(ErrorCode::kConflict, text);
      }
      return MakeError(ErrorCode::kUnauthorized, text);
    case 404:
      return MakeError(ErrorCode::kNotFound, text);
    case 409:
      return MakeError(ErrorCode::kConflict, text);
    case 502:
    case 503:
    case 504:
      return MakeError(ErrorCode::kUnavailable, text);
    default:
      break;
  }
  if (Contains(message, {"no such"})) return MakeError(ErrorCode::kNotFound, text);
  // A registry refusing the credentials (or their absence) comes back as a
  // 500 from a pull's first request: not the engine failing.
  if (Contains(message, {"no basic auth credentials", "unauthorized: authentication required", "pull access denied"})) {
    return MakeError(ErrorCode::kUnauthorized, text);
  }
  // A 5xx is the engine failing (shutting down, a runtime in trouble, a port
  // another process holds), not a keelson bug: worth a retry with backoff.
  if (status >= 500 || Contains(message, kNetworkTrouble)) return MakeError(ErrorCode::kUnavailable, text);
  return MakeError(ErrorCode::kInvalid, text);
}

Error StreamError(const std::string& message, const std::string& context) {
  std::string text = context + ": " + message;
  if (Contains(message, {"not found", "manifest unknown", "does not exist", "no such", "name unknown"})) {
    return MakeError(ErrorCode::kNotFound, text);
  }
  if (Contains(message, {"unauthorized", "denied", "authentication required", "forbidden"})) {
    return MakeError(ErrorCode::kUnauthorized, text);
  }
  if (Contains(message, kNetworkTrouble) || Contains(message, {"eof"})) {
    return MakeError(ErrorCode::kUnavailable, text);
  }
  return MakeError(ErrorCode::kInvalid, text);
}

// --- containers ---------------------------------------------------------------

json ContainerCreateBody(const ContainerSpec& spec) {
  json body = {{"Image", spec.image}, {"Labels", spec.labels}};
  if (spec.entrypoint) body["Entrypoint"] = *spec.entrypoint;
  if (spec.cmd) body["Cmd"] = *spec.cmd;
  if (!spec.env.empty()) body["Env"] = spec.env;
  if (!spec.working_dir.empty()) body["WorkingDir"] = spec.working_dir;
  if (!spec.user.empty()) body["User"] = spec.user;
  if (spec.stop_timeout) body["StopTimeout"] = *spec.stop_timeout;
  if (spec.healthcheck) {
    const auto& h = *spec.healthcheck;
    body["Healthcheck"] = {{"Test", h.test}, {"Interval", h.interval_ns}, {"Timeout", h.timeout_ns},
                           {"StartPeriod", h.start_period_ns}, {"Retries", h.retries}};
  }
  json host = json::object();
  if (!spec.ports.empty()) {
    json exposed = json::object(), bindings = json::object();
    for (const auto& p : spec.ports) {
      exposed[PortKey(p)] = json::object();
      bindings[PortKey(p)].push_back(
          {{"HostIp", p.host_ip}, {"HostPort", p.host_port ? std::to_string(p.host_port) : ""}});
    }
    body["ExposedPorts"] = exposed;
    host["PortBindings"] = bindings;
  }
  json mounts = json::array(), tmpfs = json::object();
  for (const auto& m : spec.mounts) {
    if (m.type == Mount::Type::kTmpfs) {
      tmpfs[m.target] = "";
      continue;
    }
    mounts.push_back({{"Type", m.type == Mount::Type::kVolume ? "volume" : "bind"},
                      {"Source", m.source}, {"Target", m.target}, {"ReadOnly", m.read_only}});
  }
  if (!mounts.empty()) host["Mounts"] = mounts;
  if (!tmpfs.empty()) host["Tmpfs"] = tmpfs;
  if (spec.nano_cpus) host["NanoCpus"] = spec.nano_cpus;
  if (spec.memory) host["Memory"] = spec.memory;
  if (spec.pids_limit) host["PidsLimit"] = spec.pids_limit;
  if (spec.privileged) host["Privileged"] = true;
  if (spec.read_only_rootfs) host["ReadonlyRootfs"] = true;
  if (spec.no_new_privileges) host["SecurityOpt"] = json::array({"no-new-privileges"});
  if (!spec.cap_add.empty()) host["CapAdd"] = spec.cap_add;
  if (!spec.cap_drop.empty()) host["CapDrop"] = spec.cap_drop;
  if (!spec.hostname.empty()) body["Hostname"] = spec.hostname;
  if (!spec.extra_hosts.empty()) host["ExtraHosts"] = spec.extra_hosts;
  if (!spec.dns.empty()) host["Dns"] = spec.dns;
  if (!spec.dns_search.empty()) host["DnsSearch"] = spec.dns_search;
  if (!spec.dns_options.empty()) host["DnsOptions"] = spec.dns_options;
  if (spec.init) host["Init"] = true;
  if (spec.shm_size) host["ShmSize"] = spec.shm_size;
  if (!spec.ulimits.empty()) {
    json limits = json::array();
    for (const auto& u : spec.ulimits) limits.push_back({{"Name", u.name}, {"Soft", u.soft}, {"Hard", u.hard}});
    host["Ulimits"] = limits;
  }
  if (!spec.sysctls.empty()) host["Sysctls"] = spec.sysctls;
  if (!spec.log_driver.empty()) host["LogConfig"] = {{"Type", spec.log_driver}, {"Config", spec.log_options}};
  if (!spec.networks.empty()) {
    // API 1.41 takes one network at create; the rest are connected after.
    const auto& first = spec.networks.front();
    host["NetworkMode"] = first.network;
    json endpoint = json::object();
    if (!first.aliases.empty()) endpoint["Aliases"] = first.aliases;
    body["NetworkingConfig"] = {{"EndpointsConfig", {{first.network, endpoint}}}};
  }
  body["HostConfig"] = host;
  return body;
}

std::string HealthFromStatus(const std::string& status) {
  if (status.find("(health: starting)") != std::string::npos) return "starting";
  if (status.find("(unhealthy)") != std::string::npos) return "unhealthy";
  if (status.find("(healthy)") != std::string::npos) return "healthy";
  return "";
}

namespace {

std::vector<PortBinding> ParsePorts(const json& bindings) {
  std::vector<PortBinding> out;
  if (!bindings.is_object()) return out;
  for (auto it = bindings.begin(); it != bindings.end(); ++it) {
    PortBinding base;
    auto slash = it.key().find('/');
    base.container_port = std::atoi(it.key().substr(0, slash).c_str());
    base.protocol = slash == std::string::npos ? "tcp" : it.key().substr(slash + 1);
    if (!it.value().is_array() || it.value().empty()) {
      out.push_back(base);
      continue;
    }
    for (const auto& b : it.value()) {
      PortBinding p = base;
      p.host_ip = Str(b, "HostIp");
      p.host_port = std::atoi(Str(b, "HostPort").c_str());
      out.push_back(p);
    }
  }
  return out;
}

std::vector<Mount> ParseMounts(const json& host) {
  std::vector<Mount> out;
  for (const auto& m : At(host, "Mounts").is_array() ? At(host, "Mounts") : json::array()) {
    std::string type = Str(m, "Type");
    Mount mount;
    mount.type = type == "bind" ? Mount::Type::kBind : type == "tmpfs" ? Mount::Type::kTmpfs : Mount::Type::kVolume;
    mount.source = Str(m, "Source");
    mount.target = Str(m, "Target");
    mount.read_only = Bool(m, "ReadOnly");
    out.push_back(mount);
  }
  for (const auto& [target, options] : StringMap(At(host, "Tmpfs"))) {
    out.push_back({Mount::Type::kTmpfs, "", target, false});
  }
  return out;
}

std::optional<Healthcheck> ParseHealthcheck(const json& h) {
  if (!h.is_object()) return std::nullopt;
  Healthcheck out;
  out.test = Strings(At(h, "Test"));
  out.interval_ns = Int(h, "Interval");
  out.timeout_ns = Int(h, "Timeout");
  out.start_period_ns = Int(h, "StartPeriod");
  out.retries = static_cast<int>(Int(h, "Retries"));
  return out;
}

}  // namespace

Container ParseContainer(const json& j) {
  Container c;
  c.id = Str(j, "Id");
  c.name = Str(j, "Name");
  if (!c.name.empty() && c.name[0] == '/') c.name.erase(0, 1);
  c.image_id = Str(j, "Image");
  c.created = Str(j, "Created");
  c.restart_count = static_cast<int>(Int(j, "RestartCount"));
  const json& config = At(j, "Config");
  const json& host = At(j, "HostConfig");
  ContainerSpec& s = c.config;
  s.name = c.name;
  s.image = Str(config, "Image");
  if (At(config, "Entrypoint").is_array()) s.entrypoint = Strings(At(config, "Entrypoint"));
  if (At(config, "Cmd").is_array()) s.cmd = Strings(At(config, "Cmd"));
  s.env = Strings(At(config, "Env"));
  s.working_dir = Str(config, "WorkingDir");
  s.user = Str(config, "User");
  s.labels = StringMap(At(config, "Labels"));
  s.ports = ParsePorts(At(host, "PortBindings"));
  s.mounts = ParseMounts(host);
  s.nano_cpus = Int(host, "NanoCpus");
  s.memory = Int(host, "Memory");
  s.pids_limit = std::max<int64_t>(0, Int(host, "PidsLimit"));
  s.healthcheck = ParseHealthcheck(At(config, "Healthcheck"));
  s.privileged = Bool(host, "Privileged");
  s.read_only_rootfs = Bool(host, "ReadonlyRootfs");
  for (const auto& opt : Strings(At(host, "SecurityOpt"))) {
    if (opt == "no-new-privileges" || opt == "no-new-privileges:true" || opt == "no-new-privileges=true") {
      s.no_new_privileges = true;
    }
  }
  s.cap_add = Strings(At(host, "CapAdd"));
  s.cap_drop = Strings(At(host, "CapDrop"));
  if (At(config, "StopTimeout").is_number()) s.stop_timeout = At(config, "StopTimeout").get<int>();
  s.hostname = Str(config, "Hostname");
  s.extra_hosts = Strings(At(host, "ExtraHosts"));
  s.dns = Strings(At(host, "Dns"));
  s.dns_search = Strings(At(host, "DnsSearch"));
  s.dns_options = Strings(At(host, "DnsOptions"));
  s.init = At(host, "Init").is_boolean() && At(host, "Init").get<bool>();
  s.shm_size = Int(host, "ShmSize");
  if (At(host, "Ulimits").is_array()) {
    for (const auto& u : At(host, "Ulimits")) s.ulimits.push_back({Str(u, "Name"), Int(u, "Soft"), Int(u, "Hard")});
  }
  for (const auto& [k, v] : StringMap(At(host, "Sysctls"))) s.sysctls[k] = v;
  s.log_driver = Str(At(host, "LogConfig"), "Type");
  for (const auto& [k, v] : StringMap(At(At(host, "LogConfig"), "Config"))) s.log_options[k] = v;
  // Networks: the engine adds the container's short id and its host name as
  // aliases on user networks; keelson did not ask for them, so they are left
  // out (a spec's alias equal to its hostname is implied: see desired.cc).
  const std::string short_id = c.id.substr(0, 12);
  const json& networks = At(At(j, "NetworkSettings"), "Networks");
  std::string mode = Str(host, "NetworkMode");
  if (networks.is_object()) {
    for (auto it = networks.begin(); it != networks.end(); ++it) {
      NetworkAttachment a{it.key(), {}};
      for (const auto& alias : Strings(At(it.value(), "Aliases"))) {
        if (alias != short_id && alias != c.id && alias != s.hostname) a.aliases.push_back(alias);
      }
      // The network the container was created on comes first, as in the spec.
      if (it.key() == mode) {
        s.networks.insert(s.networks.begin(), a);
      } else {
        s.networks.push_back(a);
      }
    }
  }
  const json& state = At(j, "State");
  c.state.status = Str(state, "Status");
  c.state.running = Bool(state, "Running");
  c.state.exit_code = static_cast<int>(Int(state, "ExitCode"));
  c.state.pid = static_cast<int>(Int(state, "Pid"));
  c.state.oom_killed = Bool(state, "OOMKilled");
  c.state.health = Str(At(state, "Health"), "Status");
  auto time = [](std::string t) { return t.rfind("0001-01-01", 0) == 0 ? std::string() : t; };
  c.state.started_at = time(Str(state, "StartedAt"));
  c.state.finished_at = time(Str(state, "FinishedAt"));
  return c;
}

ContainerSummary ParseContainerSummary(const json& j) {
  ContainerSummary c;
  c.id = Str(j, "Id");
  auto names = Strings(At(j, "Names"));
  if (!names.empty()) c.name = names.front().substr(names.front().rfind('/') + 1);
  c.image = Str(j, "Image");
  c.image_id = Str(j, "ImageID");
  c.labels = StringMap(At(j, "Labels"));
  c.state = Str(j, "State");
  c.status = Str(j, "Status");
  c.health = HealthFromStatus(c.status);
  c.created = Int(j, "Created");
  return c;
}

// --- images -------------------------------------------------------------------

Image ParseImage(const json& j) {
  Image i;
  i.id = Str(j, "Id");
  i.repo_tags = Strings(At(j, "RepoTags"));
  i.repo_digests = Strings(At(j, "RepoDigests"));
  i.size = Int(j, "Size");
  const json& created = At(j, "Created");
  i.created = created.is_string() ? created.get<std::string>() : created.is_number() ? std::to_string(created.get<int64_t>()) : "";
  const json& config = At(j, "Config");
  i.config.env = Strings(At(config, "Env"));
  if (At(config, "Entrypoint").is_array()) i.config.entrypoint = Strings(At(config, "Entrypoint"));
  if (At(config, "Cmd").is_array()) i.config.cmd = Strings(At(config, "Cmd"));
  i.config.working_dir = Str(config, "WorkingDir");
  i.config.user = Str(config, "User");
  i.labels = At(j, "Labels").is_object() ? StringMap(At(j, "Labels")) : StringMap(At(At(j, "Config"), "Labels"));
  return i;
}

std::string AuthHeader(const RegistryAuth& auth) {
  json j = auth.identity_token.empty() ? json{{"username", auth.username}, {"password", auth.password}}
                                       : json{{"identitytoken", auth.identity_token}};
  if (!auth.server.empty()) j["serveraddress"] = auth.server;
  return "X-Registry-Auth: " + Base64Url(j.dump());
}

// --- networks and volumes -------------------------------------------------------

json NetworkCreateBody(const NetworkSpec& spec) {
  json body = {{"Name", spec.name}, {"Driver", spec.driver}, {"Internal", spec.internal},
               {"Attachable", spec.attachable}, {"Labels", spec.labels}, {"Options", spec.options},
               {"CheckDuplicate", true}};
  if (!spec.subnet.empty()) {
    json config = {{"Subnet", spec.subnet}};
    if (!spec.gateway.empty()) config["Gateway"] = spec.gateway;
    body["IPAM"] = {{"Driver", "default"}, {"Config", json::array({config})}};
  }
  return body;
}

Network ParseNetwork(const json& j) {
  Network n;
  n.id = Str(j, "Id");
  n.spec.name = Str(j, "Name");
  n.spec.driver = Str(j, "Driver");
  n.spec.internal = Bool(j, "Internal");
  n.spec.attachable = Bool(j, "Attachable");
  n.spec.options = StringMap(At(j, "Options"));
  n.spec.labels = StringMap(At(j, "Labels"));
  const json& configs = At(At(j, "IPAM"), "Config");
  if (configs.is_array() && !configs.empty()) {
    n.spec.subnet = Str(configs[0], "Subnet");
    n.spec.gateway = Str(configs[0], "Gateway");
  }
  const json& containers = At(j, "Containers");
  if (containers.is_object()) {
    for (auto it = containers.begin(); it != containers.end(); ++it) n.containers.push_back(it.key());
  }
  return n;
}

json VolumeCreateBody(const VolumeSpec& spec) {
  return {{"Name", spec.name}, {"Driver", spec.driver}, {"DriverOpts", spec.driver_opts}, {"Labels", spec.labels}};
}

Volume ParseVolume(const json& j) {
  Volume v;
  v.spec.name = Str(j, "Name");
  v.spec.driver = Str(j, "Driver");
  v.spec.driver_opts = StringMap(At(j, "Options"));
  v.spec.labels = StringMap(At(j, "Labels"));
  v.mountpoint = Str(j, "Mountpoint");
  v.created = Str(j, "CreatedAt");
  return v;
}

// --- events, stats, version -----------------------------------------------------

Event ParseEvent(const json& j) {
  Event e;
  e.type = Str(j, "Type");
  e.action = Str(j, "Action");
  const json& actor = At(j, "Actor");
  e.id = Str(actor, "ID");
  e.attributes = StringMap(At(actor, "Attributes"));
  e.time_nano = Int(j, "timeNano");
  return e;
}

Stats ParseStats(const json& j) {
  Stats s;
  const json& cpu = At(j, "cpu_stats");
  s.cpu_total_ns = static_cast<uint64_t>(Int(At(cpu, "cpu_usage"), "total_usage"));
  s.system_cpu_ns = static_cast<uint64_t>(Int(cpu, "system_cpu_usage"));
  s.online_cpus = static_cast<int>(Int(cpu, "online_cpus"));
  const json& pre = At(j, "precpu_stats");
  s.pre_cpu_total_ns = static_cast<uint64_t>(Int(At(pre, "cpu_usage"), "total_usage"));
  s.pre_system_cpu_ns = static_cast<uint64_t>(Int(pre, "system_cpu_usage"));
  const json& mem = At(j, "memory_stats");
  s.memory_usage = static_cast<uint64_t>(Int(mem, "usage"));
  s.memory_limit = static_cast<uint64_t>(Int(mem, "limit"));
  // cgroup v2 names it inactive_file, v1 total_inactive_file (as the docker CLI reads it).
  const json& detail = At(mem, "stats");
  s.memory_inactive_file = static_cast<uint64_t>(detail.contains("inactive_file") ? Int(detail, "inactive_file")
                                                                                   : Int(detail, "total_inactive_file"));
  s.pids = static_cast<uint64_t>(Int(At(j, "pids_stats"), "current"));
  return s;
}

EngineVersion ParseVersion(const json& j) {
  EngineVersion v;
  v.version = Str(j, "Version");
  v.api_version = Str(j, "ApiVersion");
  v.min_api_version = Str(j, "MinAPIVersion");
  v.os = Str(j, "Os");
  v.arch = Str(j, "Arch");
  v.kernel = Str(j, "KernelVersion");
  return v;
}

EngineInfo ParseInfo(const json& j) {
  EngineInfo i;
  i.name = Str(j, "Name");
  i.server_version = Str(j, "ServerVersion");
  i.storage_driver = Str(j, "Driver");
  i.containers = static_cast<int>(Int(j, "Containers"));
  i.running = static_cast<int>(Int(j, "ContainersRunning"));
  i.images = static_cast<int>(Int(j, "Images"));
  i.cpus = static_cast<int>(Int(j, "NCPU"));
  i.memory = Int(j, "MemTotal");
  return i;
}

// --- streams --------------------------------------------------------------------

namespace {

// The payload size in an 8-byte stream header: big-endian in bytes 4..7.
size_t FrameSize(const unsigned char* header) {
  return (size_t(header[4]) << 24) | (size_t(header[5]) << 16) | (size_t(header[6]) << 8) | header[7];
}

}  // namespace

Logs Demultiplex(std::string_view body) {
  // Check every frame header first: a raw stream is taken whole.
  bool framed = !body.empty();
  for (size_t pos = 0; framed && pos < body.size();) {
    if (body.size() - pos < 8) {
      framed = false;
      break;
    }
    auto b = reinterpret_cast<const unsigned char*>(body.data() + pos);
    if (b[0] > 2 || b[1] || b[2] || b[3]) {
      framed = false;
      break;
    }
    size_t size = FrameSize(b);
    if (size > body.size() - pos - 8) framed = false;
    pos += 8 + size;
  }
  Logs logs;
  if (!framed) {
    logs.out = std::string(body);
    return logs;
  }
  for (size_t pos = 0; pos < body.size();) {
    auto b = reinterpret_cast<const unsigned char*>(body.data() + pos);
    size_t size = FrameSize(b);
    (b[0] == 2 ? logs.err : logs.out).append(body.substr(pos + 8, size));
    pos += 8 + size;
  }
  return logs;
}

bool Demuxer::Feed(std::string_view data) {
  if (!framed_) {
    pending_.append(data);
    if (pending_.size() < 8) return true;
    auto b = reinterpret_cast<const unsigned char*>(pending_.data());
    framed_ = b[0] <= 2 && !b[1] && !b[2] && !b[3];
    data = {};
  } else if (*framed_) {
    pending_.append(data);
  }
  if (!*framed_) {
    if (!pending_.empty()) {
      std::string first = std::move(pending_);
      pending_.clear();
      if (!sink_(OutputStream::kStdout, first)) return false;
    }
    return data.empty() || sink_(OutputStream::kStdout, data);
  }
  size_t pos = 0;
  while (pending_.size() - pos >= 8) {
    auto b = reinterpret_cast<const unsigned char*>(pending_.data() + pos);
    const size_t size = FrameSize(b);
    if (pending_.size() - pos - 8 < size) break;
    const auto stream = b[0] == 2 ? OutputStream::kStderr : OutputStream::kStdout;
    if (size > 0 && !sink_(stream, std::string_view(pending_).substr(pos + 8, size))) return false;
    pos += 8 + size;
  }
  pending_.erase(0, pos);
  return true;
}

void Demuxer::Finish() {
  if (!pending_.empty() && !framed_.value_or(false)) sink_(OutputStream::kStdout, pending_);
  pending_.clear();
}

StreamLine ParseStreamLine(const std::string& line) {
  StreamLine out;
  auto j = json::parse(line, nullptr, false);
  if (!j.is_object()) {
    out.progress.status = line;
    return out;
  }
  if (auto detail = At(j, "errorDetail"); detail.is_object() && !Str(detail, "message").empty()) {
    out.error = Str(detail, "message");
  } else if (!Str(j, "error").empty()) {
    out.error = Str(j, "error");
  }
  out.progress.id = Str(j, "id");
  out.progress.status = Str(j, "status");
  if (out.progress.status.empty()) out.progress.status = Str(j, "stream");
  const json& detail = At(j, "progressDetail");
  out.progress.current = Int(detail, "current");
  out.progress.total = Int(detail, "total");
  out.image_id = Str(At(j, "aux"), "ID");
  return out;
}

bool ApiVersionLess(const std::string& a, const std::string& b) {
  int amaj = 0, amin = 0, bmaj = 0, bmin = 0;
  if (std::sscanf(a.c_str(), "%d.%d", &amaj, &amin) != 2) return false;
  if (std::sscanf(b.c_str(), "%d.%d", &bmaj, &bmin) != 2) return false;
  return amaj != bmaj ? amaj < bmaj : amin < bmin;
}

}  // namespace keelson::docker::wire
