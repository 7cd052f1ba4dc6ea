#include "compose/convert.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>

namespace keelson::compose {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using manifest::Path;
using manifest::PathSeg;

constexpr const char* kApiVersion = "keelson.dev/v1alpha1";
constexpr const char* kPartOf = "app.kubernetes.io/part-of";

Path Key(Path p, const std::string& key) {
  p.push_back(PathSeg{key, -1});
  return p;
}
Path Index(Path p, size_t i) {
  p.push_back(PathSeg{"", static_cast<int64_t>(i)});
  return p;
}

// A scalar as compose reads it where a string is wanted (numbers, booleans).
std::string Scalar(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

// What keelson says instead of each compose service field it does not carry.
const std::map<std::string, std::string>& Hints() {
  static const std::map<std::string, std::string> hints = {
      {"container_name", "keelson names containers NAMESPACE.NAME; remove it"},
      {"network_mode", "attach the Runner to Network objects (spec.networks)"},
      {"links", "legacy; services on one network reach each other by name"},
      {"external_links", "legacy; attach to the network the other container is on"},
      {"volumes_from", "mount the same Volume objects (spec.volumes)"},
      {"expose", "exposing without publishing has no effect between containers on a network; publish with ports"},
      {"pull_policy", "use an Image object's pullPolicy (imageRef)"},
  };
  return hints;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

class Converter {
 public:
  Converter(const Project& p, std::string output_dir, const Lookup& env)
      : p_(p), out_dir_(std::move(output_dir)), env_(env) {}

  Conversion Run() {
    const json& m = p_.model;
    for (auto it = m.begin(); it != m.end(); ++it) {
      const std::string& k = it.key();
      if (k == "services" || k == "networks" || k == "volumes" || k == "name" || k.rfind("x-", 0) == 0) continue;
      if (k == "secrets" || k == "configs") {
        Files(k, it.value());
        continue;
      }
      if (k == "version") continue;  // obsolete: docker compose v2 ignores it too
      Unsupported({{k, -1}}, "top-level " + k + " has no keelson equivalent yet");
    }
    const json services = m.value("services", json::object());
    for (auto it = services.begin(); it != services.end(); ++it) {
      replicas_[it.key()] = Replicas(it.key(), it.value());
    }
    Networks(m.value("networks", json::object()), services);
    Volumes(m.value("volumes", json::object()));
    std::map<std::string, std::string> taken;
    for (auto it = services.begin(); it != services.end(); ++it) {
      const std::string name = ObjectName(it.key());
      if (auto other = taken.find(name); other != taken.end()) {
        Error({{"services", -1}, {it.key(), -1}},
              "services " + other->second + " and " + it.key() + " both become " + name + "; rename one");
        continue;
      }
      taken[name] = it.key();
      Service(it.key(), it.value());
    }
    return std::move(out_);
  }

 private:
  // At the field's name; at the item, for one of a list.
  void Unsupported(const Path& at, const std::string& what) {
    const bool key = !at.empty() && at.back().index < 0;
    out_.unsupported.push_back(p_.At(at, "not supported by keelson: " + what, key));
  }
  void Error(const Path& at, const std::string& what) { out_.errors.push_back(p_.At(at, what)); }

  json Object(const char* kind, const std::string& name, json spec) {
    return {{"apiVersion", kApiVersion},
            {"kind", kind},
            {"metadata", {{"name", name}, {"namespace", p_.name}, {"labels", {{kPartOf, p_.name}}}}},
            {"spec", std::move(spec)}};
  }

  int Replicas(const std::string& service, const json& s) {
    const Path at = {{"services", -1}, {service, -1}};
    if (s.contains("deploy") && s["deploy"].is_object() && s["deploy"].contains("replicas")) {
      return s["deploy"]["replicas"].get<int>();
    }
    if (s.contains("scale") && s["scale"].is_number_integer()) return s["scale"].get<int>();
    (void)at;
    return 1;
  }

  // --- top level -------------------------------------------------------------

  void Networks(const json& declared, const json& services) {
    std::set<std::string> used;
    for (auto it = services.begin(); it != services.end(); ++it) {
      const json& s = it.value();
      if (s.contains("network_mode")) continue;
      if (!s.contains("networks")) {
        used.insert("default");
        continue;
      }
      const json& n = s["networks"];
      if (n.is_array()) {
        for (const auto& x : n) used.insert(Scalar(x));
      } else if (n.is_object()) {
        for (auto x = n.begin(); x != n.end(); ++x) used.insert(x.key());
      }
    }
    for (auto it = declared.begin(); it != declared.end(); ++it) used.insert(it.key());
    for (const auto& name : used) {
      if (name != "default" && !declared.contains(name)) continue;  // said where a service names it
      const Path at = {{"networks", -1}, {name, -1}};
      const json d = declared.contains(name) && declared[name].is_object() ? declared[name] : json::object();
      json spec = json::object();
      for (auto it = d.begin(); it != d.end(); ++it) {
        const std::string& k = it.key();
        const json& v = it.value();
        if (k == "driver") spec["driver"] = Scalar(v);
        else if (k == "driver_opts") spec["options"] = StringMap(v);
        else if (k == "internal") spec["internal"] = v.get<bool>();
        else if (k == "attachable") spec["attachable"] = v.get<bool>();
        else if (k == "labels") spec["labels"] = StringMap(v);
        else if (k == "ipam") Ipam(v, Key(at, "ipam"), spec);
        else if (k == "external") Unsupported(Key(at, k), "keelson creates the networks it uses and never touches another's; remove external and let keelson own it");
        else if (k == "name") Unsupported(Key(at, k), "keelson names networks NAMESPACE.NAME; remove it");
        else if (k.rfind("x-", 0) != 0) Unsupported(Key(at, k), "networks have driver, driver_opts, internal, attachable, labels and one ipam subnet/gateway in keelson");
      }
      out_.objects.push_back(Object("Network", ObjectName(name), spec));
      networks_.insert(name);
    }
  }

  void Ipam(const json& ipam, const Path& at, json& spec) {
    for (auto it = ipam.begin(); it != ipam.end(); ++it) {
      if (it.key() != "config") {
        Unsupported(Key(at, it.key()), "keelson takes one subnet and gateway (ipam.config[0])");
        continue;
      }
      const json& configs = it.value();
      for (size_t i = 0; i < configs.size(); ++i) {
        const Path c = Index(Key(at, "config"), i);
        if (i > 0) {
          Unsupported(c, "keelson takes one subnet and gateway per network");
          continue;
        }
        for (auto f = configs[i].begin(); f != configs[i].end(); ++f) {
          if (f.key() == "subnet") spec["subnet"] = Scalar(f.value());
          else if (f.key() == "gateway") spec["gateway"] = Scalar(f.value());
          else Unsupported(Key(c, f.key()), "keelson takes subnet and gateway only");
        }
      }
    }
  }

  void Volumes(const json& declared) {
    for (auto it = declared.begin(); it != declared.end(); ++it) {
      const Path at = {{"volumes", -1}, {it.key(), -1}};
      const json d = it.value().is_object() ? it.value() : json::object();
      json spec = json::object();
      for (auto f = d.begin(); f != d.end(); ++f) {
        const std::string& k = f.key();
        if (k == "driver") spec["driver"] = Scalar(f.value());
        else if (k == "driver_opts") spec["driverOpts"] = StringMap(f.value());
        else if (k == "labels") spec["labels"] = StringMap(f.value());
        else if (k == "external") Unsupported(Key(at, k), "keelson creates the volumes it uses and never touches another's; remove external and let keelson own it");
        else if (k == "name") Unsupported(Key(at, k), "keelson names volumes NAMESPACE.NAME; remove it");
        else if (k.rfind("x-", 0) != 0) Unsupported(Key(at, k), "volumes have driver, driver_opts and labels in keelson");
      }
      out_.objects.push_back(Object("Volume", ObjectName(it.key()), spec));
      volumes_.insert(it.key());
    }
  }

  // Top-level secrets and configs kept in files: their services bind-mount
  // them read-only, as docker compose does without a Swarm. keelson never
  // writes a secret's value anywhere, so other sources do not carry over.
  void Files(const std::string& kind, const json& declared) {
    for (auto it = declared.begin(); it != declared.end(); ++it) {
      const Path at = {{kind, -1}, {it.key(), -1}};
      const json& d = it.value();
      declared_[kind].insert(it.key());
      if (d.is_object() && d.contains("file")) {
        files_[kind][it.key()] = HostPath(Scalar(d["file"]));
        for (auto f = d.begin(); f != d.end(); ++f) {
          if (f.key() != "file" && f.key().rfind("x-", 0) != 0) Unsupported(Key(at, f.key()), kind + " come from a file in keelson");
        }
      } else {
        Unsupported(at, kind + " from anything but a file (environment, content, external) would put the value in a "
                               "manifest or need a Swarm; keep it in a file");
      }
    }
  }

  // A service's secrets or configs: read-only binds of their files, at
  // /run/secrets/NAME (secrets) or /NAME (configs) unless target says.
  void FileMounts(const std::string& kind, const json& v, const Path& at, json& spec) {
    for (size_t i = 0; i < v.size(); ++i) {
      const Path p = Index(at, i);
      const json& item = v[i];
      const std::string source = item.is_object() ? Scalar(item.value("source", json())) : Scalar(item);
      std::string target = item.is_object() && item.contains("target") ? Scalar(item["target"]) : source;
      if (item.is_object()) {
        for (auto f = item.begin(); f != item.end(); ++f) {
          if (f.key() != "source" && f.key() != "target") {
            Unsupported(Key(p, f.key()), "a bind mount keeps the file's own owner and mode; set them on the file");
          }
        }
      }
      auto file = files_[kind].find(source);
      if (file == files_[kind].end()) {
        if (!declared_[kind].count(source)) Error(p, source + " is not declared under the top-level " + kind);
        continue;
      }
      if (target.empty() || target[0] != '/') target = (kind == "secrets" ? "/run/secrets/" : "/") + target;
      spec["binds"].push_back({{"hostPath", file->second}, {"mountPath", target}, {"readOnly", true}});
    }
  }

  json StringMap(const json& v) {
    json out = json::object();
    if (v.is_object()) {
      for (auto it = v.begin(); it != v.end(); ++it) out[it.key()] = Scalar(it.value());
    } else if (v.is_array()) {
      for (const auto& item : v) {
        const std::string s = Scalar(item);
        const auto eq = s.find('=');
        out[s.substr(0, eq)] = eq == std::string::npos ? "" : s.substr(eq + 1);
      }
    }
    return out;
  }

  // --- services ----------------------------------------------------------------

  void Service(const std::string& name, const json& s) {
    const Path at = {{"services", -1}, {name, -1}};
    if (!s.is_object()) {
      Error(at, "a service is a mapping");
      return;
    }
    json spec = json::object();
    const bool pool = replicas_[name] != 1;
    for (auto it = s.begin(); it != s.end(); ++it) {
      const std::string& k = it.key();
      const json& v = it.value();
      const Path f = Key(at, k);
      if (k == "image" || k == "build" || k == "profiles" || k == "scale" || k.rfind("x-", 0) == 0) continue;
      if (k == "command" || k == "entrypoint") {
        auto words = Words(v, f);
        if (words) spec[k] = *words;
      } else if (k == "environment") {
        Environment(v, spec);
      } else if (k == "working_dir") {
        spec["workingDir"] = Scalar(v);
      } else if (k == "user") {
        spec["user"] = Scalar(v);
      } else if (k == "ports") {
        Ports(v, f, spec);
      } else if (k == "volumes") {
        Mounts(v, f, spec);
      } else if (k == "tmpfs") {
        Tmpfs(v, f, spec);
      } else if (k == "networks") {
        ServiceNetworks(name, v, f, spec);
      } else if (k == "labels") {
        Labels(v, f, spec);
      } else if (k == "healthcheck") {
        Healthcheck(v, f, spec);
      } else if (k == "restart") {
        Restart(Scalar(v), f, spec);
      } else if (k == "cap_add" || k == "cap_drop") {
        json caps = json::array();
        for (const auto& c : v) caps.push_back(Lower(Scalar(c)) == "all" ? "ALL" : Upper(Scalar(c)));
        spec["securityContext"][k == "cap_add" ? "capAdd" : "capDrop"] = caps;
      } else if (k == "privileged") {
        spec["securityContext"]["privileged"] = v.get<bool>();
      } else if (k == "read_only") {
        spec["securityContext"]["readOnlyRootFilesystem"] = v.get<bool>();
      } else if (k == "security_opt") {
        SecurityOpt(v, f, spec);
      } else if (k == "stop_grace_period") {
        spec["stopTimeout"] = Scalar(v);
      } else if (k == "mem_limit") {
        Quantity(v, f, spec["resources"], "memory");
      } else if (k == "cpus") {
        spec["resources"]["cpus"] = Scalar(v);
      } else if (k == "pids_limit") {
        spec["resources"]["pids"] = v.get<int64_t>();
      } else if (k == "deploy") {
        Deploy(v, f, spec);
      } else if (k == "depends_on") {
        DependsOn(v, f, spec);
      } else if (k == "hostname") {
        spec["hostname"] = Scalar(v);
      } else if (k == "extra_hosts") {
        ExtraHosts(v, f, spec);
      } else if (k == "dns" || k == "dns_search") {
        json list = json::array();
        for (const auto& x : v.is_array() ? v : json::array({v})) list.push_back(Scalar(x));
        spec["dnsConfig"][k == "dns" ? "nameservers" : "searches"] = list;
      } else if (k == "dns_opt") {
        for (const auto& x : v) {
          const std::string o = Scalar(x);
          const auto sep = o.find_first_of(":=");
          json opt = {{"name", o.substr(0, sep)}};
          if (sep != std::string::npos) opt["value"] = o.substr(sep + 1);
          spec["dnsConfig"]["options"].push_back(opt);
        }
      } else if (k == "init") {
        spec["init"] = v.get<bool>();
      } else if (k == "shm_size") {
        Quantity(v, f, spec, "shmSize");
      } else if (k == "ulimits") {
        for (auto u = v.begin(); u != v.end(); ++u) {
          const json& l = u.value();
          const int64_t soft = l.is_object() ? l.value("soft", int64_t{0}) : l.get<int64_t>();
          const int64_t hard = l.is_object() ? l.value("hard", soft) : soft;
          spec["ulimits"].push_back({{"name", u.key()}, {"soft", soft}, {"hard", hard}});
        }
      } else if (k == "sysctls") {
        const json m = StringMap(v);
        for (auto s2 = m.begin(); s2 != m.end(); ++s2) {
          spec["securityContext"]["sysctls"].push_back({{"name", s2.key()}, {"value", s2.value()}});
        }
      } else if (k == "logging") {
        for (auto l = v.begin(); l != v.end(); ++l) {
          if (l.key() == "driver") spec["logging"]["driver"] = Scalar(l.value());
          else if (l.key() == "options") spec["logging"]["options"] = StringMap(l.value());
          else Unsupported(Key(f, l.key()), "logging has driver and options in keelson");
        }
        if (spec.contains("logging") && !spec["logging"].contains("driver")) {
          Unsupported(f, "logging options without a driver; name the driver (json-file is the engine's default)");
          spec.erase("logging");
        }
      } else if (k == "secrets" || k == "configs") {
        FileMounts(k, v, f, spec);
      } else if (k == "env_file") {
        const json list = v.is_array() ? v : json::array({v});
        for (size_t i = 0; i < list.size(); ++i) {
          const json& e = list[i];
          const Path ep = v.is_array() ? Index(f, i) : f;
          if (e.is_object()) {
            for (auto x = e.begin(); x != e.end(); ++x) {
              if (x.key() == "path" || (x.key() == "required" && x.value() == true)) continue;
              Unsupported(Key(ep, x.key()), x.key() == "required" ? "an optional env file (keelson reads every file it is given)"
                                                                  : "env files have a path in keelson");
            }
          }
          // Read by keelson when it creates the container, never copied here.
          spec["envFrom"].push_back({{"file", OutputPath(HostPath(Scalar(e.is_object() ? e.value("path", json()) : e)))}});
        }
      } else if (k == "extends") {
        continue;  // resolved while loading
      } else {
        auto hint = Hints().find(k);
        Unsupported(f, hint != Hints().end() ? hint->second
                                             : "keelson's Runner has no " + k + "; remove it, or keep this service on docker compose");
      }
    }
    if (!s.contains("networks") && !s.contains("network_mode")) {
      spec["networks"] = json::array({{{"name", "default"}, {"aliases", {name}}}});
    }
    if (!ImageOf(name, s, at, spec)) return;
    if (!pool) {
      out_.objects.push_back(Object("Runner", ObjectName(name), spec));
      return;
    }
    json deps = spec.contains("dependsOn") ? spec["dependsOn"] : json();
    spec.erase("dependsOn");
    json ps = {{"replicas", replicas_[name]}, {"template", spec}};
    if (!deps.is_null()) ps["dependsOn"] = deps;
    out_.objects.push_back(Object("RunnerPool", ObjectName(name), ps));
  }

  static std::string Upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
    return s;
  }

  std::optional<json> Words(const json& v, const Path& at) {
    if (v.is_array()) {
      json out = json::array();
      for (const auto& w : v) out.push_back(Scalar(w));
      return out;
    }
    auto words = SplitCommand(Scalar(v));
    if (!words) {
      Error(at, words.error().message);
      return std::nullopt;
    }
    return json(*words);
  }

  void Environment(const json& v, json& spec) {
    json env = json::array();
    auto add = [&](const std::string& k, const std::optional<std::string>& value) {
      if (value) env.push_back({{"name", k}, {"value", *value}});
    };
    if (v.is_object()) {
      for (auto it = v.begin(); it != v.end(); ++it) {
        // A key without a value takes the shell's, as docker compose does.
        add(it.key(), it.value().is_null() ? env_(it.key()) : std::optional<std::string>(Scalar(it.value())));
      }
    } else {
      for (const auto& item : v) {
        const std::string s = Scalar(item);
        const auto eq = s.find('=');
        if (eq == std::string::npos) add(s, env_(s));
        else add(s.substr(0, eq), s.substr(eq + 1));
      }
    }
    if (!env.empty()) spec["env"] = env;
  }

  // [[host_ip:]host[-range]:]container[-range][/protocol]
  void Ports(const json& v, const Path& at, json& spec) {
    for (size_t i = 0; i < v.size(); ++i) {
      const Path p = Index(at, i);
      const json& item = v[i];
      if (item.is_object()) {
        LongPort(item, p, spec);
        continue;
      }
      std::string s = Scalar(item), protocol = "tcp", host_ip;
      if (auto slash = s.rfind('/'); slash != std::string::npos) {
        protocol = s.substr(slash + 1);
        s = s.substr(0, slash);
      }
      if (!s.empty() && s[0] == '[') {  // [::1]:8080:80
        const auto close = s.find(']');
        host_ip = s.substr(1, close - 1);
        s = s.substr(std::min(s.size(), close + 2));
      }
      std::vector<std::string> parts;
      size_t start = 0;
      for (size_t c = s.find(':'); ; c = s.find(':', start)) {
        parts.push_back(s.substr(start, c == std::string::npos ? std::string::npos : c - start));
        if (c == std::string::npos) break;
        start = c + 1;
      }
      if (parts.size() == 3) {
        host_ip = parts[0];
        parts.erase(parts.begin());
      }
      if (parts.size() > 2) {
        Error(p, "\"" + Scalar(item) + "\" is not a port");
        continue;
      }
      Publish(parts.size() == 2 ? parts[0] : "", parts.back(), host_ip, protocol, p, spec);
    }
  }

  void LongPort(const json& item, const Path& p, json& spec) {
    for (auto it = item.begin(); it != item.end(); ++it) {
      const std::string& k = it.key();
      if (k == "target" || k == "published" || k == "host_ip" || k == "protocol") continue;
      if (k == "mode" && Scalar(it.value()) == "ingress") continue;  // Swarm's routing mesh: nothing on one host
      Unsupported(Key(p, k), "ports have target, published, host_ip and protocol in keelson");
    }
    Publish(item.contains("published") ? Scalar(item["published"]) : "", Scalar(item.value("target", json())),
            item.contains("host_ip") ? Scalar(item["host_ip"]) : "", item.value("protocol", "tcp"), p, spec);
  }

  static bool Range(const std::string& s, int* lo, int* hi) {
    if (s.empty()) return false;
    const auto dash = s.find('-');
    try {
      *lo = std::stoi(s.substr(0, dash));
      *hi = dash == std::string::npos ? *lo : std::stoi(s.substr(dash + 1));
    } catch (...) {
      return false;
    }
    return *lo >= 0 && *hi >= *lo && *hi <= 65535;
  }

  void Publish(const std::string& host, const std::string& container, const std::string& host_ip,
               const std::string& protocol, const Path& at, json& spec) {
    int clo = 0, chi = 0, hlo = 0, hhi = 0;
    if (!Range(container, &clo, &chi) || (!host.empty() && !Range(host, &hlo, &hhi))) {
      Error(at, "\"" + (host.empty() ? container : host + ":" + container) + "\" is not a port or port range");
      return;
    }
    if (!host.empty() && hhi - hlo != chi - clo) {
      if (hlo != hhi && chi == clo) {
        Unsupported(at, "a host port range for one container port (the engine picks one of them); publish one port");
      } else {
        Error(at, "the host ports " + host + " and the container ports " + container + " differ in number");
      }
      return;
    }
    for (int port = clo; port <= chi; ++port) {
      json p = {{"containerPort", port}, {"protocol", Lower(protocol)}};
      if (!host.empty()) p["hostPort"] = hlo + (port - clo);
      if (!host_ip.empty()) p["hostIP"] = host_ip;
      spec["ports"].push_back(p);
    }
  }

  // A bind's host path: absolute, relative to the project directory.
  std::string HostPath(const std::string& s) {
    if (s.rfind("~/", 0) == 0) {
      if (auto home = env_("HOME")) return (fs::path(*home) / s.substr(2)).lexically_normal().string();
    }
    return (fs::path(p_.dir) / s).lexically_normal().string();
  }

  void Mounts(const json& v, const Path& at, json& spec) {
    for (size_t i = 0; i < v.size(); ++i) {
      const Path p = Index(at, i);
      const json& item = v[i];
      std::string type, source, target;
      bool read_only = false;
      if (item.is_object()) {
        type = item.value("type", "");
        source = item.contains("source") ? Scalar(item["source"]) : "";
        target = Scalar(item.value("target", json()));
        read_only = item.value("read_only", false);
        for (auto it = item.begin(); it != item.end(); ++it) {
          const std::string& k = it.key();
          if (k == "type" || k == "source" || k == "target" || k == "read_only") continue;
          if (k == "bind" && it.value().is_object() && it.value().size() == 1 && it.value().contains("create_host_path")) continue;
          Unsupported(Key(p, k), "mounts have type, source, target and read_only in keelson");
        }
      } else {
        const std::string s = Scalar(item);
        const auto first = s.find(':');
        if (first == std::string::npos) {
          target = s;
        } else {
          source = s.substr(0, first);
          const auto second = s.find(':', first + 1);
          target = s.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
          if (second != std::string::npos) {
            for (const auto& opt : SplitOn(s.substr(second + 1), ',')) {
              if (opt == "ro") read_only = true;
              else if (opt != "rw") Unsupported(p, "the mount option " + opt + " (keelson takes ro and rw)");
            }
          }
        }
        const bool path_like = !source.empty() && (source[0] == '/' || source[0] == '.' || source[0] == '~');
        type = source.empty() ? "volume" : path_like ? "bind" : "volume";
      }
      if (type == "bind") {
        spec["binds"].push_back({{"hostPath", HostPath(source)}, {"mountPath", target}, {"readOnly", read_only}});
      } else if (type == "volume" && source.empty()) {
        Unsupported(p, "an anonymous volume; name it under the top-level volumes and mount it by name");
      } else if (type == "volume") {
        if (!volumes_.count(source)) {
          Error(p, "volume \"" + source + "\" is not declared under the top-level volumes");
          continue;
        }
        spec["volumes"].push_back({{"name", ObjectName(source)}, {"mountPath", target}, {"readOnly", read_only}});
      } else if (type == "tmpfs") {
        spec["tmpfs"].push_back(target);
      } else {
        Unsupported(Key(p, "type"), "a " + type + " mount (keelson mounts volumes, binds and tmpfs)");
      }
    }
  }

  static std::vector<std::string> SplitOn(const std::string& s, char sep) {
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t c = s.find(sep); ; c = s.find(sep, start)) {
      out.push_back(s.substr(start, c == std::string::npos ? std::string::npos : c - start));
      if (c == std::string::npos) break;
      start = c + 1;
    }
    return out;
  }

  void Tmpfs(const json& v, const Path& at, json& spec) {
    const json list = v.is_array() ? v : json::array({v});
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string s = Scalar(list[i]);
      const auto colon = s.find(':');
      if (colon != std::string::npos) Unsupported(v.is_array() ? Index(at, i) : at, "tmpfs options (" + s.substr(colon + 1) + ")");
      spec["tmpfs"].push_back(s.substr(0, colon));
    }
  }

  void ServiceNetworks(const std::string& service, const json& v, const Path& at, json& spec) {
    json list = json::array();
    auto attach = [&](const std::string& net, const json& settings, const Path& p) {
      if (net != "default" && !networks_.count(net)) {
        Error(p, "network \"" + net + "\" is not declared under the top-level networks");
        return;
      }
      // docker compose gives every container its service's name on each network.
      json aliases = json::array({service});
      if (settings.is_object()) {
        for (auto it = settings.begin(); it != settings.end(); ++it) {
          if (it.key() == "aliases") {
            for (const auto& a : it.value()) {
              if (std::find(aliases.begin(), aliases.end(), Scalar(a)) == aliases.end()) aliases.push_back(Scalar(a));
            }
          } else {
            Unsupported(Key(p, it.key()), "attachments have aliases in keelson");
          }
        }
      }
      list.push_back({{"name", ObjectName(net)}, {"aliases", aliases}});
    };
    if (v.is_array()) {
      for (size_t i = 0; i < v.size(); ++i) attach(Scalar(v[i]), json(), Index(at, i));
    } else {
      for (auto it = v.begin(); it != v.end(); ++it) attach(it.key(), it.value(), Key(at, it.key()));
    }
    spec["networks"] = list;
  }

  // ["name:ip"], ["name=ip"] or {name: ip}: hostAliases grouped by address.
  void ExtraHosts(const json& v, const Path& at, json& spec) {
    std::vector<std::pair<std::string, std::string>> entries;  // name, ip
    if (v.is_object()) {
      for (auto it = v.begin(); it != v.end(); ++it) {
        for (const auto& ip : it.value().is_array() ? it.value() : json::array({it.value()})) entries.push_back({it.key(), Scalar(ip)});
      }
    } else {
      for (size_t i = 0; i < v.size(); ++i) {
        const std::string s = Scalar(v[i]);
        const auto eq = s.find('=');
        const auto sep = eq != std::string::npos ? eq : s.find(':');
        if (sep == std::string::npos) {
          Error(Index(at, i), "\"" + s + "\" is not NAME:IP");
          continue;
        }
        std::string ip = s.substr(sep + 1);
        if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
        entries.push_back({s.substr(0, sep), ip});
      }
    }
    json aliases = json::array();
    for (const auto& entry : entries) {
      const std::string& ip = entry.second;  // not a structured binding: clang cannot capture one
      auto same = std::find_if(aliases.begin(), aliases.end(), [&ip](const json& a) { return a["ip"] == ip; });
      if (same == aliases.end()) aliases.push_back({{"ip", ip}, {"hostnames", {entry.first}}});
      else (*same)["hostnames"].push_back(entry.first);
    }
    spec["hostAliases"] = aliases;
  }

  void Labels(const json& v, const Path& at, json& spec) {
    json labels = StringMap(v);
    for (auto it = labels.begin(); it != labels.end(); ++it) {
      if (it.key().rfind("dev.keelson.", 0) == 0) Error(Key(at, it.key()), "the dev.keelson. label prefix is keelson's own");
    }
    spec["labels"] = labels;
  }

  void Healthcheck(const json& v, const Path& at, json& spec) {
    json h = json::object();
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string& k = it.key();
      const json& x = it.value();
      if (k == "test") {
        if (x.is_string()) {
          h["test"] = {"CMD-SHELL", x.get<std::string>()};
        } else {
          h["test"] = json::array();
          for (const auto& w : x) h["test"].push_back(Scalar(w));
        }
      } else if (k == "interval" || k == "timeout") {
        h[k] = Scalar(x);
      } else if (k == "start_period") {
        h["startPeriod"] = Scalar(x);
      } else if (k == "retries") {
        h["retries"] = x.get<int64_t>();
      } else if (k == "disable") {
        if (x.get<bool>()) h = {{"test", {"NONE"}}};
      } else {
        Unsupported(Key(at, k), "healthchecks have test, interval, timeout, retries and start_period in keelson");
      }
      if (k == "disable" && x.get<bool>()) break;
    }
    if (h.contains("test")) spec["healthcheck"] = h;
  }

  void Restart(const std::string& policy, const Path& at, json& spec) {
    if (policy == "no" || policy == "none") {
      spec["restartPolicy"] = "Never";
    } else if (policy == "always" || policy == "unless-stopped" || policy == "any") {
      spec["restartPolicy"] = "Always";
    } else if (policy.rfind("on-failure", 0) == 0) {
      spec["restartPolicy"] = "OnFailure";
      if (policy.size() > 10) Unsupported(at, "a limit on restarts (" + policy + "); keelson restarts with a crash-loop backoff instead");
    } else {
      Error(at, "\"" + policy + "\" is not a restart policy");
    }
  }

  void SecurityOpt(const json& v, const Path& at, json& spec) {
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string s = Scalar(v[i]);
      if (s == "no-new-privileges" || s == "no-new-privileges:true" || s == "no-new-privileges=true") {
        spec["securityContext"]["noNewPrivileges"] = true;
      } else {
        Unsupported(Index(at, i), "security option " + s + " (keelson takes no-new-privileges)");
      }
    }
  }

  void Quantity(const json& v, const Path& at, json& into, const char* field) {
    auto q = ByteQuantity(v);
    if (!q) {
      Error(at, q.error().message);
      return;
    }
    into[field] = *q;
  }

  void Deploy(const json& v, const Path& at, json& spec) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string& k = it.key();
      const json& x = it.value();
      const Path p = Key(at, k);
      if (k == "replicas") continue;
      if (k == "mode" && Scalar(x) == "replicated") continue;
      if (k == "resources") {
        for (auto r = x.begin(); r != x.end(); ++r) {
          if (r.key() != "limits") {
            Unsupported(Key(p, r.key()), "keelson sets limits only");
            continue;
          }
          for (auto l = r.value().begin(); l != r.value().end(); ++l) {
            const Path lp = Key(Key(p, "limits"), l.key());
            if (l.key() == "cpus") spec["resources"]["cpus"] = Scalar(l.value());
            else if (l.key() == "memory") Quantity(l.value(), lp, spec["resources"], "memory");
            else if (l.key() == "pids") spec["resources"]["pids"] = l.value().get<int64_t>();
            else Unsupported(lp, "limits have cpus, memory and pids in keelson");
          }
        }
      } else if (k == "restart_policy") {
        for (auto r = x.begin(); r != x.end(); ++r) {
          if (r.key() == "condition") Restart(Scalar(r.value()), Key(p, "condition"), spec);
          else Unsupported(Key(p, r.key()), "keelson restarts with a crash-loop backoff; it takes the condition only");
        }
      } else {
        Unsupported(p, k == "mode" ? "global mode (one per node) is for a Swarm" : "deploy has replicas, resources.limits and restart_policy.condition in keelson");
      }
    }
  }

  void DependsOn(const json& v, const Path& at, json& spec) {
    json deps = json::array();
    auto add = [&](const std::string& other, const json& settings, const Path& p) {
      if (!replicas_.count(other)) {
        Error(p, "service \"" + other + "\" is not in the project (or not in an active profile)");
        return;
      }
      if (settings.is_object()) {
        for (auto it = settings.begin(); it != settings.end(); ++it) {
          const std::string c = Scalar(it.value());
          if (it.key() == "condition" && (c == "service_started" || c == "service_healthy")) continue;
          if (it.key() == "required" && it.value() == true) continue;
          Unsupported(Key(p, it.key()), it.key() == "condition"
                                             ? "the condition " + c + " (keelson waits for Ready: running, and healthy when it has a healthcheck)"
                                             : "dependencies have a condition in keelson");
        }
      }
      deps.push_back({{"kind", replicas_[other] != 1 ? "RunnerPool" : "Runner"}, {"name", ObjectName(other)}});
    };
    if (v.is_array()) {
      for (size_t i = 0; i < v.size(); ++i) add(Scalar(v[i]), json(), Index(at, i));
    } else {
      for (auto it = v.begin(); it != v.end(); ++it) add(it.key(), it.value(), Key(at, it.key()));
    }
    if (!deps.empty()) spec["dependsOn"] = deps;
  }

  // A path a manifest names (a build context, an env file): relative to the
  // output directory when inside it, as keelson apply confines such paths
  // to the manifest's directory; absolute otherwise (KEELSON_ALLOWED_PATHS).
  std::string OutputPath(const std::string& absolute) {
    const fs::path rel = fs::path(absolute).lexically_relative(out_dir_);
    const bool inside = !rel.empty() && *rel.begin() != "..";
    return inside ? rel.string() : absolute;
  }

  // image, or an Image object for a build; false when there is neither.
  bool ImageOf(const std::string& name, const json& s, const Path& at, json& spec) {
    if (!s.contains("build")) {
      if (!s.contains("image")) {
        Error(at, "a service needs an image or a build");
        return false;
      }
      spec["image"] = Scalar(s["image"]);
      return true;
    }
    const json& b = s["build"];
    const Path bp = Key(at, "build");
    json build = json::object();
    std::string context = b.is_string() ? b.get<std::string>() : Scalar(b.value("context", json(".")));
    if (b.is_object()) {
      for (auto it = b.begin(); it != b.end(); ++it) {
        const std::string& k = it.key();
        if (k == "context") continue;
        if (k == "dockerfile") build["dockerfile"] = Scalar(it.value());
        else if (k == "args") build["args"] = StringMap(it.value());
        else if (k == "target") build["target"] = Scalar(it.value());
        else Unsupported(Key(bp, k), "builds have context, dockerfile, args and target in keelson");
      }
    }
    build["context"] = OutputPath((fs::path(p_.dir) / context).lexically_normal().string());
    // docker compose v2 names a built image PROJECT-SERVICE unless image says.
    const std::string ref = s.contains("image") ? Scalar(s["image"]) : p_.name + "-" + ObjectName(name) + ":latest";
    out_.objects.push_back(Object("Image", ObjectName(name), {{"ref", ref}, {"build", build}}));
    spec["imageRef"] = ObjectName(name);
    return true;
  }

  const Project& p_;
  std::string out_dir_;
  const Lookup& env_;
  Conversion out_;
  std::map<std::string, int> replicas_;  ///< by service
  std::set<std::string> networks_, volumes_;  ///< declared (and used) ones, by compose name
  std::map<std::string, std::map<std::string, std::string>> files_;  ///< secrets/configs name -> host path
  std::map<std::string, std::set<std::string>> declared_;             ///< every secret and config named
};

}  // namespace

std::string ObjectName(const std::string& compose_name) {
  std::string out;
  for (char c : compose_name) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out += (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') ? l : '-';
  }
  while (!out.empty() && out.front() == '-') out.erase(0, 1);
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > 63) out.resize(63);
  return out;
}

Result<std::vector<std::string>> SplitCommand(const std::string& command) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  for (size_t i = 0; i < command.size(); ++i) {
    const char c = command[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(cur);
      cur.clear();
      in_word = false;
    } else if (c == '\'') {
      const auto close = command.find('\'', i + 1);
      if (close == std::string::npos) return Unexpected(ErrorCode::kInvalid, "unclosed ' in the command");
      cur += command.substr(i + 1, close - i - 1);
      i = close;
      in_word = true;
    } else if (c == '"') {
      size_t j = i + 1;
      for (; j < command.size() && command[j] != '"'; ++j) {
        if (command[j] == '\\' && j + 1 < command.size() &&
            std::string("\"\\$`").find(command[j + 1]) != std::string::npos) {
          ++j;
        }
        cur += command[j];
      }
      if (j >= command.size()) return Unexpected(ErrorCode::kInvalid, "unclosed \" in the command");
      i = j;
      in_word = true;
    } else if (c == '\\' && i + 1 < command.size()) {
      cur += command[++i];
      in_word = true;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(cur);
  return words;
}

Result<std::string> ByteQuantity(const json& value) {
  int64_t bytes = 0;
  if (value.is_number_integer()) {
    bytes = value.get<int64_t>();
  } else {
    const std::string s = Lower(Scalar(value));
    size_t n = 0;
    while (n < s.size() && (std::isdigit(static_cast<unsigned char>(s[n])) || s[n] == '.')) ++n;
    const std::string unit = s.substr(n);
    static const std::map<std::string, int64_t> kUnits = {
        {"", 1}, {"b", 1}, {"k", 1LL << 10}, {"kb", 1LL << 10}, {"m", 1LL << 20}, {"mb", 1LL << 20},
        {"g", 1LL << 30}, {"gb", 1LL << 30}, {"t", 1LL << 40}, {"tb", 1LL << 40}};
    auto u = kUnits.find(unit);
    double number = 0;
    try {
      number = n ? std::stod(s.substr(0, n)) : -1;
    } catch (...) {
      number = -1;
    }
    if (u == kUnits.end() || number < 0) {
      return Unexpected(ErrorCode::kInvalid, "\"" + Scalar(value) + "\" is not a size (a number with b, k, m or g)");
    }
    bytes = static_cast<int64_t>(number * static_cast<double>(u->second));
  }
  if (bytes > 0 && bytes % (1LL << 30) == 0) return std::to_string(bytes >> 30) + "Gi";
  if (bytes > 0 && bytes % (1LL << 20) == 0) return std::to_string(bytes >> 20) + "Mi";
  if (bytes > 0 && bytes % (1LL << 10) == 0) return std::to_string(bytes >> 10) + "Ki";
  return std::to_string(bytes);
}

Conversion Convert(const Project& project, const std::string& output_dir, const Lookup& environment) {
  return Converter(project, output_dir, environment).Run();
}

}  // namespace keelson::compose
