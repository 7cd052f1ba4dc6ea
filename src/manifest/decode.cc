#include "manifest/decode.h"

#include "manifest/crds.h"
#include "util/units.h"

namespace keelson::manifest {
namespace {

using nlohmann::json;
using namespace model;

// Past the schema check every field has the type its CRD says, so these
// read without surprises; DecodeSpec still catches, so a bug here is an
// error, not a crashed worker.

std::string Str(const json& o, const char* key) { return o.contains(key) ? o[key].get<std::string>() : ""; }
bool Flag(const json& o, const char* key) { return o.contains(key) && o[key].get<bool>(); }
int64_t Int(const json& o, const char* key) { return o.contains(key) ? o[key].get<int64_t>() : 0; }

std::vector<std::string> Strings(const json& o, const char* key) {
  std::vector<std::string> out;
  if (o.contains(key)) {
    for (const auto& s : o[key]) out.push_back(s.get<std::string>());
  }
  return out;
}

std::optional<std::vector<std::string>> OptStrings(const json& o, const char* key) {
  if (!o.contains(key)) return std::nullopt;
  return Strings(o, key);
}

StringMap Map(const json& o, const char* key) {
  StringMap out;
  if (o.contains(key)) {
    for (const auto& [k, v] : o[key].items()) out[k] = v.get<std::string>();
  }
  return out;
}

// A number or a string, as the schema's int-or-string fields allow.
std::string Text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

Result<std::chrono::nanoseconds> Duration(const json& o, const char* key, const std::string& path) {
  if (!o.contains(key)) return std::chrono::nanoseconds(0);
  auto d = ParseDuration(o[key].get<std::string>());
  if (!d) return Unexpected(ErrorCode::kInvalid, path + "." + key + ": not a duration");
  return *d;
}

Result<ResourcesSpec> Resources(const json& spec, const std::string& path) {
  ResourcesSpec r;
  if (!spec.contains("resources")) return r;
  const json& res = spec["resources"];
  if (res.contains("cpus")) {
    auto cpus = ParseCpus(Text(res["cpus"]));
    if (!cpus) return Unexpected(ErrorCode::kInvalid, path + ".resources.cpus: not a CPU count");
    r.nano_cpus = *cpus;
  }
  if (res.contains("memory")) {
    auto mem = ParseMemoryQuantity(Text(res["memory"]));
    if (!mem) return Unexpected(ErrorCode::kInvalid, path + ".resources.memory: not a quantity");
    r.memory = *mem;
  }
  r.pids = Int(res, "pids");
  return r;
}

Result<std::optional<HealthcheckSpec>> Healthcheck(const json& spec, const std::string& path) {
  if (!spec.contains("healthcheck")) return std::optional<HealthcheckSpec>();
  const json& h = spec["healthcheck"];
  const std::string at = path + ".healthcheck";
  HealthcheckSpec hc;
  hc.test = Strings(h, "test");
  auto interval = Duration(h, "interval", at), timeout = Duration(h, "timeout", at),
       start = Duration(h, "startPeriod", at);
  for (const auto* d : {&interval, &timeout, &start}) {
    if (!*d) return Unexpected(d->error());
  }
  hc.interval = *interval;
  hc.timeout = *timeout;
  hc.start_period = *start;
  hc.retries = static_cast<int>(Int(h, "retries"));
  return std::optional<HealthcheckSpec>(std::move(hc));
}

Result<HostSpec> Host(const json& spec, const std::string& path) {
  HostSpec h;
  h.hostname = Str(spec, "hostname");
  if (spec.contains("hostAliases")) {
    for (const auto& a : spec["hostAliases"]) {
      for (const auto& name : Strings(a, "hostnames")) h.extra_hosts.push_back(name + ":" + Str(a, "ip"));
    }
  }
  const json dns = spec.value("dnsConfig", json::object());
  h.nameservers = Strings(dns, "nameservers");
  h.searches = Strings(dns, "searches");
  if (dns.contains("options")) {
    for (const auto& o : dns["options"]) h.dns_options.push_back(Str(o, "name") + (o.contains("value") ? ":" + Str(o, "value") : ""));
  }
  h.init = Flag(spec, "init");
  if (spec.contains("shmSize")) {
    auto size = ParseMemoryQuantity(Text(spec["shmSize"]));
    if (!size) return Unexpected(ErrorCode::kInvalid, path + ".shmSize: not a quantity");
    h.shm_size = *size;
  }
  if (spec.contains("ulimits")) {
    for (const auto& u : spec["ulimits"]) h.ulimits.push_back({Str(u, "name"), Int(u, "soft"), Int(u, "hard")});
  }
  if (spec.contains("logging")) {
    h.log_driver = Str(spec["logging"], "driver");
    h.log_options = Map(spec["logging"], "options");
  }
  return h;
}

std::vector<DependencySpec> DependsOn(const json& spec) {
  std::vector<DependencySpec> out;
  if (!spec.contains("dependsOn")) return out;
  for (const auto& d : spec["dependsOn"]) {
    if (auto kind = KindFromManifestName(Str(d, "kind"))) out.push_back({*kind, Str(d, "name")});
  }
  return out;
}

void Attachments(const json& spec, RunnerSpec* r) {
  if (spec.contains("ports")) {
    for (const auto& p : spec["ports"]) {
      r->ports.push_back({static_cast<int>(Int(p, "containerPort")), static_cast<int>(Int(p, "hostPort")),
                          Str(p, "hostIP"), Str(p, "protocol")});
    }
  }
  if (spec.contains("networks")) {
    for (const auto& n : spec["networks"]) r->networks.push_back({Str(n, "name"), Strings(n, "aliases")});
  }
  if (spec.contains("volumes")) {
    for (const auto& v : spec["volumes"]) r->volumes.push_back({Str(v, "name"), Str(v, "mountPath"), Flag(v, "readOnly")});
  }
  if (spec.contains("binds")) {
    for (const auto& b : spec["binds"]) r->binds.push_back({Str(b, "hostPath"), Str(b, "mountPath"), Flag(b, "readOnly")});
  }
  r->tmpfs = Strings(spec, "tmpfs");
}

// `spec` defaulted; `stored` as stored (for the hash); `path` "spec" or "spec.template".
Result<RunnerSpec> Runner(const json& spec, const json& stored, const std::string& path) {
  RunnerSpec r;
  r.image = Str(spec, "image");
  r.image_ref = Str(spec, "imageRef");
  r.entrypoint = OptStrings(spec, "entrypoint");
  r.command = OptStrings(spec, "command");
  r.working_dir = Str(spec, "workingDir");
  r.user = Str(spec, "user");
  if (spec.contains("env")) {
    for (const auto& e : spec["env"]) {
      EnvVar v{Str(e, "name"), std::nullopt, ""};
      if (e.contains("value")) v.value = Str(e, "value");
      if (e.contains("valueFrom")) v.value_from_file = Str(e["valueFrom"], "file");
      r.env.push_back(std::move(v));
    }
  }
  if (spec.contains("envFrom")) {
    for (const auto& f : spec["envFrom"]) r.env_files.push_back(Str(f, "file"));
  }
  Attachments(spec, &r);
  auto res = Resources(spec, path);
  if (!res) return Unexpected(res.error());
  r.resources = *res;
  auto hc = Healthcheck(spec, path);
  if (!hc) return Unexpected(hc.error());
  r.healthcheck = std::move(*hc);
  const json sc = spec.value("securityContext", json::object());
  r.security = {Flag(sc, "privileged"), Flag(sc, "readOnlyRootFilesystem"), Flag(sc, "noNewPrivileges"),
                Strings(sc, "capAdd"), Strings(sc, "capDrop"), {}};
  if (sc.contains("sysctls")) {
    for (const auto& s : sc["sysctls"]) r.security.sysctls[Str(s, "name")] = Str(s, "value");
  }
  auto host = Host(spec, path);
  if (!host) return Unexpected(host.error());
  r.host = std::move(*host);
  const std::string restart = Str(spec, "restartPolicy");
  r.restart_policy = restart == "Never" ? RestartPolicy::kNever
                     : restart == "OnFailure" ? RestartPolicy::kOnFailure
                                              : RestartPolicy::kAlways;
  auto stop = Duration(spec, "stopTimeout", path);
  if (!stop) return Unexpected(stop.error());
  if (spec.contains("stopTimeout")) r.stop_timeout = std::chrono::duration_cast<std::chrono::seconds>(*stop);
  r.labels = Map(spec, "labels");
  r.restarted_at = Str(spec, "restartedAt");
  r.depends_on = DependsOn(spec);
  r.hash_basis = stored;
  for (const char* key : {"restartPolicy", "dependsOn", "imageRef", "busyProbe"}) r.hash_basis.erase(key);
  // A pool template's stopTimeout had a schema default of 10s until
  // autoscaled pools came to want 90s: hashed as it was stored then, so that
  // no replica is replaced for it.
  if (r.hash_basis.is_object() && !r.hash_basis.contains("stopTimeout")) r.hash_basis["stopTimeout"] = "10s";
  return r;
}

IntOrPercent Amount(const json& strategy, const char* key) {
  if (!strategy.contains(key)) return {};
  const json& v = strategy[key];
  if (v.is_number_integer()) return {static_cast<int>(v.get<int64_t>()), false};
  std::string s = v.get<std::string>();  // the schema's pattern: digits then %
  return {std::atoi(s.c_str()), true};
}

Result<RunnerPoolSpec> Pool(const json& spec, const json& stored) {
  RunnerPoolSpec p;
  p.replicas = spec.contains("replicas") ? static_cast<int>(Int(spec, "replicas")) : 1;
  if (stored.contains("replicas")) p.stored_replicas = p.replicas;
  auto tmpl = Runner(spec["template"], stored.value("template", json::object()), "spec.template");
  if (!tmpl) return Unexpected(tmpl.error());
  p.template_ = std::move(*tmpl);
  p.ephemeral = Flag(spec, "ephemeral");
  if (spec.contains("successfulRunsHistoryLimit")) p.successful_runs_kept = static_cast<int>(Int(spec, "successfulRunsHistoryLimit"));
  if (spec.contains("failedRunsHistoryLimit")) p.failed_runs_kept = static_cast<int>(Int(spec, "failedRunsHistoryLimit"));
  const json strategy = spec.value("strategy", json::object());
  p.recreate = Str(strategy, "type") == "Recreate";
  p.max_surge = Amount(strategy, "maxSurge");
  p.max_unavailable = Amount(strategy, "maxUnavailable");
  p.min_ready = std::chrono::seconds(Int(spec, "minReadySeconds"));
  p.depends_on = DependsOn(spec);
  auto deadline = Duration(spec, "progressDeadline", "spec");
  if (!deadline) return Unexpected(deadline.error());
  p.progress_deadline = *deadline;
  p.progress_deadline_text = Str(spec, "progressDeadline");
  p.rollback_auto = Str(spec, "rollback") == "auto";
  if (spec.contains("autoscaling") && spec["autoscaling"].is_object()) {
    const json& a = spec["autoscaling"];
    AutoscalingSpec as;
    as.min_replicas = static_cast<int>(Int(a, "minReplicas"));
    as.max_replicas = static_cast<int>(Int(a, "maxReplicas"));
    as.min_idle = static_cast<int>(Int(a, "minIdle"));
    for (auto [field, into] : {std::pair{"scaleDownDelay", &as.scale_down_delay},
                               std::pair{"queuedJobTimeout", &as.queued_job_timeout},
                               std::pair{"runningJobTimeout", &as.running_job_timeout}}) {
      auto d = Duration(a, field, "spec.autoscaling");
      if (!d) return Unexpected(d.error());
      if (a.contains(field)) *into = *d;
    }
    if (a.contains("schedules") && a["schedules"].is_array()) {
      for (const auto& w : a["schedules"]) {
        ScheduleSpec sc;
        if (w.contains("timeZone")) sc.time_zone = Str(w, "timeZone");
        sc.start = Str(w, "start");
        sc.end = Str(w, "end");
        if (w.contains("minReplicas")) sc.min_replicas = static_cast<int>(Int(w, "minReplicas"));
        if (w.contains("minIdle")) sc.min_idle = static_cast<int>(Int(w, "minIdle"));
        as.schedules.push_back(std::move(sc));
      }
    }
    if (a.contains("queue") && a["queue"].is_object()) {
      const json& q = a["queue"];
      QueueSpec qs;
      qs.url = Str(q, "url");
      qs.json_path = Str(q, "jsonPath");
      qs.prometheus_query = Str(q, "prometheusQuery");
      auto every = Duration(q, "interval", "spec.autoscaling.queue");
      if (!every) return Unexpected(every.error());
      if (q.contains("interval")) qs.interval = *every;
      qs.bearer_token_file = Str(q, "bearerTokenFile");
      qs.ca_file = Str(q, "caFile");
      as.queue = std::move(qs);
    }
    p.autoscaling = as;
    // Runners need the time to deregister from their CI system.
    if (!stored.value("template", json::object()).contains("stopTimeout")) {
      p.template_.stop_timeout = std::chrono::seconds(90);
    }
  }
  if (const json& t = spec["template"]; t.contains("busyProbe")) {
    const json& b = t["busyProbe"];
    BusyProbeSpec probe;
    probe.command = Strings(b.value("exec", json::object()), "command");
    if (b.contains("periodSeconds")) probe.period = std::chrono::seconds(Int(b, "periodSeconds"));
    if (b.contains("timeoutSeconds")) probe.timeout = std::chrono::seconds(Int(b, "timeoutSeconds"));
    p.busy_probe = std::move(probe);
  }
  if (spec.contains("github") && spec["github"].is_object()) {
    const json& g = spec["github"];
    GitHubSpec gh;
    gh.url = Str(g, "url");
    gh.labels = Strings(g, "labels");
    gh.webhook_secret_file = Str(g, "webhookSecretFile");
    gh.api_url = Str(g, "apiURL");
    gh.token_file = Str(g, "tokenFile");
    if (g.contains("app") && g["app"].is_object()) {
      const json& app = g["app"];
      gh.app_id = app.contains("appID") ? Text(app["appID"]) : "";
      gh.installation_id = app.contains("installationID") ? Text(app["installationID"]) : "";
      gh.private_key_file = Str(app, "privateKeyFile");
    }
    gh.ca_file = Str(g, "caFile");
    gh.runner_group = Str(g, "runnerGroup");
    auto timeout = Duration(g, "registrationTimeout", "spec.github");
    if (!timeout) return Unexpected(timeout.error());
    if (g.contains("registrationTimeout")) gh.registration_timeout = *timeout;
    p.github = gh;
  }
  return p;
}

ImageSpec Image(const json& spec) {
  ImageSpec i;
  i.ref = Str(spec, "ref");
  const std::string policy = Str(spec, "pullPolicy");
  i.pull_policy = policy == "Always" ? PullPolicy::kAlways : policy == "Never" ? PullPolicy::kNever : PullPolicy::kIfNotPresent;
  if (spec.contains("auth")) {
    const json& a = spec["auth"];
    i.auth = RegistryAuthSpec{Str(a, "registry"), Str(a, "username"), Str(a, "passwordFile")};
  }
  if (spec.contains("build")) {
    const json& b = spec["build"];
    i.build = ImageBuildSpec{Str(b, "context"), Str(b, "dockerfile"), Map(b, "args"), Str(b, "target")};
  }
  i.push = Flag(spec, "push");
  return i;
}

model::NetworkSpec Network(const json& spec, const json& stored) {
  model::NetworkSpec n;
  n.driver = Str(spec, "driver");
  n.internal = Flag(spec, "internal");
  n.attachable = Flag(spec, "attachable");
  n.subnet = Str(spec, "subnet");
  n.gateway = Str(spec, "gateway");
  if (spec.contains("mtu")) n.mtu = static_cast<int>(Int(spec, "mtu"));
  n.options = Map(spec, "options");
  n.labels = Map(spec, "labels");
  n.hash_basis = stored;
  return n;
}

model::VolumeSpec Volume(const json& spec, const json& stored) {
  return {Str(spec, "driver"), Map(spec, "driverOpts"), Map(spec, "labels"), stored};
}

PolicySpec Policy(const json& spec) {
  const std::string e = Str(spec, "enforcement");
  return {e == "warn" ? Enforcement::kWarn : e == "audit" ? Enforcement::kAudit : Enforcement::kEnforce,
          spec.value("rules", json::object())};
}

Result<GitRepositorySpec> GitRepository(const json& spec) {
  GitRepositorySpec g;
  g.url = Str(spec, "url");
  const json ref = spec.value("ref", json::object());
  if (ref.contains("tag")) {
    g.ref_type = GitRepositorySpec::RefType::kTag;
    g.ref = Str(ref, "tag");
  } else if (ref.contains("semver")) {
    g.ref_type = GitRepositorySpec::RefType::kSemver;
    g.ref = Str(ref, "semver");
  } else if (ref.contains("commit")) {
    g.ref_type = GitRepositorySpec::RefType::kCommit;
    g.ref = Str(ref, "commit");
  } else if (ref.contains("branch")) {
    g.ref = Str(ref, "branch");
  }
  if (spec.contains("path")) g.path = Str(spec, "path");
  auto interval = Duration(spec, "interval", "spec"), timeout = Duration(spec, "timeout", "spec");
  if (!interval) return Unexpected(interval.error());
  if (!timeout) return Unexpected(timeout.error());
  if (interval->count() > 0) g.interval = *interval;
  if (timeout->count() > 0) g.timeout = *timeout;
  g.prune = spec.value("prune", true);
  g.suspend = spec.value("suspend", false);
  g.report_only = Str(spec, "mode") == "report";
  if (spec.contains("auth") && spec["auth"].is_object()) {
    const json& auth = spec["auth"];
    if (auth.contains("username")) g.username = Str(auth, "username");
    g.password_file = Str(auth, "passwordFile");
    g.ssh_key_file = Str(auth, "sshKeyFile");
    g.known_hosts_file = Str(auth, "knownHostsFile");
    g.ca_file = Str(auth, "caFile");
  }
  return g;
}

Result<Spec> Decode(Kind kind, const json& spec, const json& stored) {
  switch (kind) {
    case Kind::kImage: return Spec(Image(spec));
    case Kind::kNetwork: return Spec(Network(spec, stored));
    case Kind::kVolume: return Spec(Volume(spec, stored));
    case Kind::kPolicy: return Spec(Policy(spec));
    case Kind::kGitRepository: {
      auto g = GitRepository(spec);
      if (!g) return Unexpected(g.error());
      return Spec(std::move(*g));
    }
    case Kind::kRunner: {
      auto r = Runner(spec, stored, "spec");
      if (!r) return Unexpected(r.error());
      return Spec(std::move(*r));
    }
    case Kind::kRunnerPool: {
      auto p = Pool(spec, stored);
      if (!p) return Unexpected(p.error());
      return Spec(std::move(*p));
    }
  }
  return Unexpected(ErrorCode::kInternal, "unknown kind");
}

}  // namespace

Result<Spec> DecodeSpec(Kind kind, const json& spec) {
  // The whole document, as the schema describes it.
  json doc = {{"apiVersion", std::string(kApiVersion)},
              {"kind", std::string(Info(kind).name)},
              {"metadata", {{"name", "x"}}},
              {"spec", spec}};
  const Schema& schema = CrdSet::Builtin().For(kind);
  auto errors = schema.Validate(doc, 1);
  if (!errors.empty()) {
    return Unexpected(ErrorCode::kInvalid, "stored spec does not fit the schema: " + PathString(errors[0].path) +
                                               ": " + errors[0].message);
  }
  schema.ApplyDefaults(doc);
  try {
    return Decode(kind, doc["spec"], spec);
  } catch (const std::exception& e) {
    return Unexpected(ErrorCode::kInvalid, std::string("stored spec: ") + e.what());
  }
}

}  // namespace keelson::manifest
