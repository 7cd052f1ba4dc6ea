#include "policy/policy.h"

#include <filesystem>
#include <optional>

#include "model/specs.h"
#include "util/units.h"

namespace keelson::policy {
namespace {

using nlohmann::json;
using manifest::Path;
using manifest::PathSeg;

constexpr const char* kDockerSockets[] = {"/var/run/docker.sock", "/run/docker.sock"};

Path Under(const Path& base, std::initializer_list<PathSeg> more) {
  Path p = base;
  p.insert(p.end(), more.begin(), more.end());
  return p;
}

bool Flag(const json& rules, const char* rule) { return rules.value(rule, false); }

std::string Text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// A host path as the engine will use it: "/srv/ci/../x/" -> "/srv/x".
std::string NormalPath(const std::string& p) {
  std::string n = std::filesystem::path(p).lexically_normal().string();
  while (n.size() > 1 && n.back() == '/') n.pop_back();
  return n;
}

// Whether `path` is `prefix` or inside it, by whole components.
bool Within(const std::string& path, const std::string& prefix) {
  if (prefix == "/") return true;
  return path == prefix || (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
                            path[prefix.size()] == '/');
}

std::optional<int64_t> Memory(const json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string()) return ParseMemoryQuantity(v.get<std::string>());
  return std::nullopt;
}

std::optional<int64_t> Cpus(const json& v) {
  if (v.is_number()) return ParseCpus(v.dump());
  if (v.is_string()) return ParseCpus(v.get<std::string>());
  return std::nullopt;
}

bool RegistryAllowed(const json& allowed, const std::string& image) {
  const std::string registry = RegistryOf(image), repository = RepositoryOf(image);
  for (const auto& entry : allowed) {
    std::string e = entry.get<std::string>();
    while (!e.empty() && e.back() == '/') e.pop_back();
    if (e == registry || Within("/" + repository, "/" + e)) return true;
  }
  return false;
}

std::string List(const json& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + v.get<std::string>();
  return out;
}

void CheckRegistry(const json& rules, const std::string& image, const Path& at, std::vector<Violation>* out) {
  if (!rules.contains("allowedRegistries") || image.empty()) return;
  const json& allowed = rules["allowedRegistries"];
  if (RegistryAllowed(allowed, image)) return;
  out->push_back({"allowedRegistries", at,
                  "image " + image + " comes from " + RegistryOf(image) + ", not an allowed registry (" +
                      List(allowed) + ")"});
}

void CheckBinds(const json& rules, const json& spec, const Path& base, std::vector<Violation>* out) {
  if (!spec.contains("binds")) return;
  const bool restrict = Flag(rules, "denyHostPathBinds") || rules.contains("allowedHostPaths");
  const json allowed = rules.value("allowedHostPaths", json::array());
  const json& binds = spec["binds"];
  for (size_t i = 0; i < binds.size(); ++i) {
    const std::string host = NormalPath(binds[i].value("hostPath", ""));
    const Path at = Under(base, {{"binds", -1}, {"", static_cast<int64_t>(i)}, {"hostPath", -1}});
    if (Flag(rules, "denyDockerSocket")) {
      for (const char* socket : kDockerSockets) {
        if (Within(socket, host)) {
          out->push_back({"denyDockerSocket", at,
                          host == socket ? "binding the Docker socket is not allowed"
                                         : "bind " + host + " exposes the Docker socket " + socket});
          break;
        }
      }
    }
    if (!restrict) continue;
    bool ok = false;
    for (const auto& a : allowed) ok |= Within(host, NormalPath(a.get<std::string>()));
    if (ok) continue;
    out->push_back({"denyHostPathBinds", at,
                    allowed.empty() ? "host path binds are not allowed"
                                    : "host path " + host + " is outside the allowed host paths (" + List(allowed) + ")"});
  }
}

// A maximum rule (maxMemory, maxCpus) over one resources field; no limit at
// all breaks it too.
struct Limit {
  const char* rule;   // maxMemory
  const char* field;  // memory
  const char* noun;   // as in "no memory limit"
  std::optional<int64_t> (*parse)(const json&);
};

void CheckLimit(const json& rules, const json& res, const Path& at, const Limit& limit, std::vector<Violation>* out) {
  if (!rules.contains(limit.rule)) return;
  const std::string max_text = Text(rules[limit.rule]);
  auto max = limit.parse(rules[limit.rule]);
  auto have = res.contains(limit.field) ? limit.parse(res[limit.field]) : std::nullopt;
  if (!have) {
    out->push_back({limit.rule, at, std::string("no ") + limit.noun + " limit; at most " + max_text + " is allowed"});
  } else if (*have <= 0) {
    // The engine reads a zero limit as none at all.
    out->push_back({limit.rule, Under(at, {{limit.field, -1}}),
                    std::string(limit.field) + " " + Text(res[limit.field]) + " means no limit to the engine; at most " +
                        max_text + " is allowed"});
  } else if (max && *have > *max) {
    out->push_back({limit.rule, Under(at, {{limit.field, -1}}),
                    std::string(limit.field) + " " + Text(res[limit.field]) + " is more than the allowed " + max_text});
  }
}

void CheckResources(const json& rules, const json& spec, const Path& base, std::vector<Violation>* out) {
  const json res = spec.value("resources", json::object());
  const Path at = Under(base, {{"resources", -1}});
  if (Flag(rules, "requireResources")) {
    std::string missing;
    if (!res.contains("cpus")) missing = "resources.cpus";
    if (!res.contains("memory")) missing += std::string(missing.empty() ? "" : " and ") + "resources.memory";
    if (!missing.empty()) out->push_back({"requireResources", at, missing + " must be set"});
  }
  CheckLimit(rules, res, at, {"maxMemory", "memory", "memory", Memory}, out);
  CheckLimit(rules, res, at, {"maxCpus", "cpus", "CPU", Cpus}, out);
}

// Files read into the environment (apply stores them resolved and absolute).
void CheckSecretPaths(const json& rules, const json& spec, const Path& base, std::vector<Violation>* out) {
  if (!rules.contains("allowedSecretPaths") || !spec.contains("env")) return;
  const json& allowed = rules["allowedSecretPaths"];
  const json& env = spec["env"];
  for (size_t i = 0; i < env.size(); ++i) {
    if (!env[i].contains("valueFrom")) continue;
    const std::string file = NormalPath(env[i]["valueFrom"].value("file", ""));
    bool ok = false;
    for (const auto& a : allowed) ok |= Within(file, NormalPath(a.get<std::string>()));
    if (ok) continue;
    out->push_back({"allowedSecretPaths",
                    Under(base, {{"env", -1}, {"", static_cast<int64_t>(i)}, {"valueFrom", -1}, {"file", -1}}),
                    "env file " + file + " is outside the allowed secret paths (" + List(allowed) + ")"});
  }
}

std::vector<Violation> CheckRunner(const json& rules, const json& spec, const Path& base) {
  std::vector<Violation> out;
  const json sc = spec.value("securityContext", json::object());
  const Path sc_at = Under(base, {{"securityContext", -1}});
  if (Flag(rules, "denyPrivileged") && sc.value("privileged", false)) {
    out.push_back({"denyPrivileged", Under(sc_at, {{"privileged", -1}}), "privileged containers are not allowed"});
  }
  CheckBinds(rules, spec, base, &out);
  CheckSecretPaths(rules, spec, base, &out);
  if (spec.contains("image")) CheckRegistry(rules, spec["image"].get<std::string>(), Under(base, {{"image", -1}}), &out);
  CheckResources(rules, spec, base, &out);
  if (Flag(rules, "requireNonRoot")) {
    const std::string user = spec.value("user", "");
    const std::string name = user.substr(0, user.find(':'));
    if (user.empty()) {
      out.push_back({"requireNonRoot", base, "user must be set to a non-root user (the image's default may be root)"});
    } else if (name == "root" || name == "0") {
      out.push_back({"requireNonRoot", Under(base, {{"user", -1}}), "user " + user + " is root"});
    }
  }
  if (Flag(rules, "requireReadOnlyRootFilesystem") && !sc.value("readOnlyRootFilesystem", false)) {
    out.push_back({"requireReadOnlyRootFilesystem", sc.empty() ? base : sc_at,
                   "securityContext.readOnlyRootFilesystem must be true"});
  }
  return out;
}

}  // namespace

std::string RegistryOf(const std::string& image) { return model::RegistryOf(image); }

std::string RepositoryOf(const std::string& image) {
  std::string name = image.substr(0, image.find('@'));
  const auto colon = name.rfind(':');
  if (colon != std::string::npos && name.find('/', colon) == std::string::npos) name.resize(colon);  // the tag
  const std::string registry = RegistryOf(image);
  std::string path = name;
  if (name.compare(0, registry.size() + 1, registry + "/") == 0) {
    path = name.substr(registry.size() + 1);
  } else if (name.compare(0, 16, "index.docker.io/") == 0) {
    path = name.substr(16);
  }
  if (registry == "docker.io" && path.find('/') == std::string::npos) path = "library/" + path;
  return registry + "/" + path;
}

std::vector<Violation> Check(const json& rules, model::Kind kind, const json& spec) {
  // What a kind asks of the engine, as the kind table says: a Runner spec
  // (its own, or a pool's template), or an image reference.
  const model::KindInfo& info = model::Info(kind);
  const json doc = {{"spec", spec}};
  std::vector<Violation> out;
  auto path_of = [](std::string_view dotted) { return manifest::PathFromDotted(dotted); };
  if (!info.runner_spec.empty()) {
    const json* runner = model::AtPath(doc, info.runner_spec);
    out = CheckRunner(rules, runner ? *runner : json::object(), path_of(info.runner_spec));
  }
  if (!info.image_field.empty()) {
    const json* image = model::AtPath(doc, info.image_field);
    CheckRegistry(rules, image && image->is_string() ? image->get<std::string>() : "", path_of(info.image_field), &out);
  }
  return out;
}

bool InScope(const std::string& policy_ns, const std::string& ns) {
  return policy_ns == ns || policy_ns == kClusterNamespace;
}

std::string Verdict::Describe() const {
  return "policy " + policy + " (" + violation.rule + "): " + violation.message;
}

std::vector<Verdict> Admit(const std::vector<model::Object>& policies, const model::Object& object) {
  std::vector<Verdict> out;
  for (const auto& p : policies) {
    if (p.kind != model::Kind::kPolicy || p.meta.deletion_timestamp) continue;
    if (!InScope(p.meta.namespace_, object.meta.namespace_)) continue;
    const std::string enforcement = p.spec.value("enforcement", "enforce");
    for (auto& v : Check(p.spec.value("rules", json::object()), object.kind, object.spec)) {
      out.push_back({p.meta.namespace_ + "/" + p.meta.name, enforcement, std::move(v)});
    }
  }
  return out;
}

}  // namespace keelson::policy
