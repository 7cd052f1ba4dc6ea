#include "compose/project.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace keelson::compose {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using manifest::Path;
using manifest::PathSeg;

Path Append(Path p, const std::string& key) {
  p.push_back(PathSeg{key, -1});
  return p;
}

Result<std::string> ReadText(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return Unexpected(ErrorCode::kNotFound, path + ": " + ec.message());
  if (size > (32u << 20)) return Unexpected(ErrorCode::kInvalid, path + ": larger than 32 MiB");
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) return Unexpected(ErrorCode::kInvalid, path + ": cannot be read");
  return text.str();
}

Result<manifest::Document> ParseComposeFile(const std::string& path) {
  auto text = ReadText(path);
  if (!text) return Unexpected(text.error());
  auto docs = manifest::ParseYaml(*text, path);
  if (!docs) return Unexpected(docs.error());
  if (docs->empty()) return Unexpected(ErrorCode::kInvalid, path + ": empty compose file");
  if (docs->size() > 1) {
    return Unexpected(ErrorCode::kInvalid, path + ":" + std::to_string((*docs)[1].start.line) +
                                               ":1: a compose file is one YAML document");
  }
  manifest::Document doc = std::move((*docs)[0]);
  if (!doc.value.is_object()) return Unexpected(ErrorCode::kInvalid, doc.At({}, false, "a compose file is a mapping").ToString());
  return doc;
}

// Every string value of `v` interpolated; the first failure is an error at
// its position.
Result<void> InterpolateAll(json& v, const Path& path, const manifest::Document& doc, const Lookup& lookup) {
  if (v.is_string()) {
    auto s = Interpolate(v.get<std::string>(), lookup);
    if (!s) return Unexpected(ErrorCode::kInvalid, doc.At(path, false, s.error().message).ToString());
    v = *s;
  } else if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (auto r = InterpolateAll(it.value(), Append(path, it.key()), doc, lookup); !r) return r;
    }
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) {
      Path p = path;
      p.push_back(PathSeg{"", static_cast<int64_t>(i)});
      if (auto r = InterpolateAll(v[i], p, doc, lookup); !r) return r;
    }
  }
  return {};
}

// ["K=V", "K"] or {K: V} as {K: V} (a bare K maps to null).
json AsMap(const json& v, char sep = '=') {
  if (!v.is_array()) return v;
  json out = json::object();
  for (const auto& item : v) {
    if (!item.is_string()) continue;
    const std::string s = item.get<std::string>();
    const auto at = s.find(sep);
    out[s.substr(0, at)] = at == std::string::npos ? json(nullptr) : json(s.substr(at + 1));
  }
  return out;
}

// A volume's target, from the short ("src:/target:ro") or the long form.
std::string VolumeTarget(const json& v) {
  if (v.is_object()) return v.value("target", "");
  if (!v.is_string()) return "";
  const std::string s = v.get<std::string>();
  const auto first = s.find(':');
  if (first == std::string::npos) return s;
  const auto second = s.find(':', first + 1);
  return s.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
}

json Merge(const json& base, const json& over);

// One service over another, as the Compose Specification's merge rules say:
// mappings merge, lists of options append, volumes merge by target, and
// everything else (command, entrypoint, image...) is replaced.
json MergeService(const json& base, const json& over) {
  static const std::set<std::string> kAppend = {"ports",  "expose",   "dns",          "dns_search", "tmpfs",
                                                "cap_add", "cap_drop", "security_opt", "devices",    "env_file"};
  static const std::set<std::string> kMapLike = {"environment", "labels", "extra_hosts", "sysctls", "networks",
                                                 "depends_on",  "annotations"};
  json out = base;
  for (auto it = over.begin(); it != over.end(); ++it) {
    const std::string& k = it.key();
    if (!out.contains(k)) {
      out[k] = it.value();
    } else if (kAppend.count(k) && out[k].is_array() && it.value().is_array()) {
      for (const auto& item : it.value()) {
        if (std::find(out[k].begin(), out[k].end(), item) == out[k].end()) out[k].push_back(item);
      }
    } else if (k == "volumes" && out[k].is_array() && it.value().is_array()) {
      for (const auto& item : it.value()) {
        auto same = std::find_if(out[k].begin(), out[k].end(),
                                 [&](const json& v) { return VolumeTarget(v) == VolumeTarget(item); });
        if (same != out[k].end()) *same = item;
        else out[k].push_back(item);
      }
    } else if (kMapLike.count(k)) {
      const char sep = k == "extra_hosts" ? ':' : '=';
      json merged = AsMap(out[k], sep);
      json theirs = AsMap(it.value(), sep);
      if (k == "networks" || k == "depends_on") {
        // lists of names: each a key with no settings
        if (out[k].is_array()) {
          merged = json::object();
          for (const auto& n : out[k]) merged[n.get<std::string>()] = nullptr;
        }
        if (it.value().is_array()) {
          theirs = json::object();
          for (const auto& n : it.value()) theirs[n.get<std::string>()] = nullptr;
        }
      }
      out[k] = Merge(merged, theirs);
    } else {
      out[k] = Merge(out[k], it.value());
    }
  }
  return out;
}

json Merge(const json& base, const json& over) {
  if (!base.is_object() || !over.is_object()) return over;
  json out = base;
  for (auto it = over.begin(); it != over.end(); ++it) {
    out[it.key()] = out.contains(it.key()) ? Merge(out[it.key()], it.value()) : it.value();
  }
  return out;
}

json MergeFiles(const json& base, const json& over) {
  json out = base;
  for (auto it = over.begin(); it != over.end(); ++it) {
    const std::string& k = it.key();
    if (k == "services" && out.contains(k) && out[k].is_object() && it.value().is_object()) {
      for (auto s = it.value().begin(); s != it.value().end(); ++s) {
        out[k][s.key()] = out[k].contains(s.key()) && out[k][s.key()].is_object() && s.value().is_object()
                              ? MergeService(out[k][s.key()], s.value())
                              : s.value();
      }
    } else {
      out[k] = out.contains(k) ? Merge(out[k], it.value()) : it.value();
    }
  }
  return out;
}

// Relative paths of a service taken from another directory (extends with
// file) made absolute, so that they keep pointing where they did.
void AbsolutePaths(json& service, const fs::path& dir) {
  auto fix = [&](json& v) {
    if (!v.is_string()) return;
    const std::string s = v.get<std::string>();
    if (s.rfind("./", 0) == 0 || s.rfind("../", 0) == 0 || s == "." || s == "..") {
      v = (dir / s).lexically_normal().string();
    }
  };
  if (service.contains("build")) {
    if (service["build"].is_string()) fix(service["build"]);
    else if (service["build"].is_object() && service["build"].contains("context")) fix(service["build"]["context"]);
  }
  if (service.contains("env_file")) {
    if (service["env_file"].is_string()) fix(service["env_file"]);
    else if (service["env_file"].is_array()) for (auto& e : service["env_file"]) fix(e.is_object() ? e["path"] : e);
  }
  if (service.contains("volumes") && service["volumes"].is_array()) {
    for (auto& v : service["volumes"]) {
      if (v.is_object() && v.contains("source")) {
        fix(v["source"]);
      } else if (v.is_string()) {
        const std::string s = v.get<std::string>();
        const auto colon = s.find(':');
        if (colon == std::string::npos) continue;
        json src = s.substr(0, colon);
        fix(src);
        v = src.get<std::string>() + s.substr(colon);
      }
    }
  }
}

class Loader {
 public:
  Loader(const LoadOptions& options, Lookup lookup) : options_(options), lookup_(std::move(lookup)) {}

  // The file at `path`, parsed and interpolated (kept for positions).
  Result<json> Load(const std::string& path, std::vector<manifest::Document>* documents) {
    auto doc = ParseComposeFile(path);
    if (!doc) return Unexpected(doc.error());
    json value = doc->value;
    if (auto r = InterpolateAll(value, {}, *doc, lookup_); !r) return Unexpected(r.error());
    if (documents) documents->push_back(std::move(*doc));
    return value;
  }

  // `name`'s definition with its `extends` chain resolved.
  Result<json> Resolve(const json& services, const std::string& name, const fs::path& dir, const Project& project,
                       std::set<std::string>& seen) {
    const std::string key = dir.string() + "\n" + name;
    if (!seen.insert(key).second) {
      return Unexpected(ErrorCode::kInvalid,
                        project.At({{"services", -1}, {name, -1}, {"extends", -1}}, "extends loops back to " + name).ToString());
    }
    json service = services[name];
    if (!service.is_object() || !service.contains("extends")) return service;
    const json ext = service["extends"];
    service.erase("extends");
    const std::string base_name = ext.is_string() ? ext.get<std::string>() : ext.value("service", "");
    const Path at = {{"services", -1}, {name, -1}, {"extends", -1}};
    if (ext.is_object() && ext.contains("file")) {
      const fs::path file = (dir / ext.value("file", "")).lexically_normal();
      auto other = Load(file.string(), nullptr);
      if (!other) return Unexpected(other.error());
      const json theirs = other->value("services", json::object());
      if (!theirs.contains(base_name)) {
        return Unexpected(ErrorCode::kInvalid,
                          project.At(at, "no service \"" + base_name + "\" in " + file.string()).ToString());
      }
      auto base = Resolve(theirs, base_name, file.parent_path(), project, seen);
      if (!base) return base;
      AbsolutePaths(*base, file.parent_path());
      return MergeService(*base, service);
    }
    if (!services.contains(base_name)) {
      return Unexpected(ErrorCode::kInvalid, project.At(at, "no service \"" + base_name + "\" to extend").ToString());
    }
    auto base = Resolve(services, base_name, dir, project, seen);
    if (!base) return base;
    return MergeService(*base, service);
  }

 private:
  const LoadOptions& options_;
  Lookup lookup_;
};

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace

std::string NormalizeProjectName(const std::string& name) {
  std::string out;
  for (char c : name) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '_' || l == '-') out += l;
  }
  while (!out.empty() && (out[0] == '_' || out[0] == '-')) out.erase(0, 1);
  return out;
}

manifest::Diagnostic Project::At(const manifest::Path& path, std::string message, bool at_key) const {
  // The file that sets the longest part of the path (the last one of equals).
  const manifest::Document* best = documents.empty() ? nullptr : &documents.front();
  size_t best_depth = 0;
  for (const auto& doc : documents) {
    const json* cur = &doc.value;
    size_t depth = 0;
    for (const auto& seg : path) {
      if (seg.index >= 0 ? !(cur->is_array() && seg.index < static_cast<int64_t>(cur->size()))
                         : !(cur->is_object() && cur->contains(seg.key))) {
        break;
      }
      cur = seg.index >= 0 ? &(*cur)[seg.index] : &(*cur)[seg.key];
      ++depth;
    }
    if (depth >= best_depth) {
      best = &doc;
      best_depth = depth;
    }
  }
  if (!best) return manifest::Diagnostic{"", {}, manifest::PathString(path), std::move(message)};
  return best->At(path, at_key, std::move(message));
}

Result<Project> LoadProject(const LoadOptions& options) {
  if (options.files.empty()) return Unexpected(ErrorCode::kInvalid, "no compose file given (-f)");
  Project project;
  std::error_code ec;
  project.dir = fs::absolute(fs::path(options.files[0]), ec).parent_path().lexically_normal().string();
  // The environment first, then the project directory's .env, as docker
  // compose looks variables up.
  std::map<std::string, std::string> dotenv;
  const std::string env_path = (fs::path(project.dir) / ".env").string();
  if (fs::is_regular_file(env_path, ec)) {
    auto text = ReadText(env_path);
    if (!text) return Unexpected(text.error());
    auto vars = ParseDotEnv(*text, options.environment);
    if (!vars) return Unexpected(ErrorCode::kInvalid, env_path + ":" + vars.error().message);
    dotenv = std::move(*vars);
  }
  Lookup lookup = [&](const std::string& name) -> std::optional<std::string> {
    if (auto v = options.environment(name)) return v;
    if (auto it = dotenv.find(name); it != dotenv.end()) return it->second;
    return std::nullopt;
  };
  Loader loader(options, lookup);
  json model = json::object();
  for (const auto& file : options.files) {
    auto value = loader.Load(file, &project.documents);
    if (!value) return Unexpected(value.error());
    model = MergeFiles(model, *value);
  }
  // extends, on the merged services.
  json services = model.value("services", json::object());
  if (!services.is_object()) {
    return Unexpected(ErrorCode::kInvalid, project.At({{"services", -1}}, "services must be a mapping").ToString());
  }
  json resolved = json::object();
  for (auto it = services.begin(); it != services.end(); ++it) {
    std::set<std::string> seen;
    auto s = loader.Resolve(services, it.key(), project.dir, project, seen);
    if (!s) return Unexpected(s.error());
    resolved[it.key()] = std::move(*s);
  }
  // Profiles: a service that names some is there only when one is active.
  std::set<std::string> active(options.profiles.begin(), options.profiles.end());
  if (auto env = lookup("COMPOSE_PROFILES")) {
    for (const auto& p : Split(*env, ',')) active.insert(p);
  }
  for (auto it = resolved.begin(); it != resolved.end();) {
    const json profiles = it.value().is_object() ? it.value().value("profiles", json::array()) : json::array();
    bool on = profiles.empty() || active.count("*");
    for (const auto& p : profiles) on |= p.is_string() && active.count(p.get<std::string>()) > 0;
    if (on) {
      ++it;
    } else {
      it = resolved.erase(it);
    }
  }
  model["services"] = std::move(resolved);
  // The name: the flag, COMPOSE_PROJECT_NAME, the file's own, the directory's.
  std::string name = options.project_name;
  if (name.empty()) name = lookup("COMPOSE_PROJECT_NAME").value_or("");
  if (name.empty() && model.contains("name") && model["name"].is_string()) name = model["name"].get<std::string>();
  if (name.empty()) name = fs::path(project.dir).filename().string();
  project.name = NormalizeProjectName(name);
  if (project.name.empty()) {
    return Unexpected(ErrorCode::kInvalid, "project name \"" + name + "\" has no letter or digit (use --project-name)");
  }
  project.model = std::move(model);
  return project;
}

}  // namespace keelson::compose
