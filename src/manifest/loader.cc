#include "manifest/loader.h"

#include "git/semver.h"
#include "ci/github.h"
#include "util/cron.h"
#include "util/jsonpath.h"
#include "util/tzif.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <system_error>
#include <thread>

#include "git/semver.h"
#include "model/specs.h"
#include "util/names.h"
#include "util/secret_file.h"

namespace keelson::manifest {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool IsManifestFile(const fs::path& p) {
  return p.extension() == ".yaml" || p.extension() == ".yml";
}

Result<std::string> ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return Unexpected(ErrorCode::kNotFound, p.string() + ": cannot open");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) return Unexpected(ErrorCode::kInvalid, p.string() + ": read error");
  return text;
}

Result<void> ReadDirectory(const fs::path& dir, bool recursive, std::vector<Source>* out) {
  std::error_code ec;
  std::vector<fs::path> files;
  auto add = [&](const fs::directory_entry& e) {
    if (e.is_regular_file(ec) && IsManifestFile(e.path())) files.push_back(e.path());
  };
  if (recursive) {
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) add(*it);
  } else {
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) add(*it);
  }
  if (ec) return Unexpected(ErrorCode::kInvalid, dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    auto text = ReadFile(f);
    if (!text) return Unexpected(text.error());
    out->push_back(Source{f.string(), std::move(*text)});
  }
  return {};
}

// What the CRD schema cannot say about one document.
class Semantics {
 public:
  Semantics(const Document& doc, std::vector<Diagnostic>* errors) : doc_(doc), errors_(errors) {}

  void Check(model::Kind kind) {
    Keys({{"metadata", -1}, {"labels", -1}});
    Keys({{"metadata", -1}, {"annotations", -1}});
    // The Runner spec the kind carries, as the kind table says.
    const std::string_view at = model::Info(kind).runner_spec;
    if (!at.empty()) RunnerSpec(PathFromDotted(at));
    CredentialsBoundToTheirRegistry({{"spec", -1}});
    if (kind == model::Kind::kGitRepository) GitSource({{"spec", -1}});
    if (kind == model::Kind::kRunnerPool) {
      Autoscaling({{"spec", -1}, {"autoscaling", -1}});
      GitHub({{"spec", -1}, {"github", -1}});
    }
  }

 private:
  const json* At(const Path& path) const {
    const json* cur = &doc_.value;
    for (const auto& seg : path) {
      if (seg.index >= 0) {
        if (!cur->is_array() || seg.index >= static_cast<int64_t>(cur->size())) return nullptr;
        cur = &(*cur)[seg.index];
      } else {
        if (!cur->is_object() || !cur->contains(seg.key)) return nullptr;
        cur = &(*cur)[seg.key];
      }
    }
    return cur;
  }

  void Error(const Path& path, bool at_key, std::string msg) {
    errors_->push_back(doc_.At(path, at_key, std::move(msg)));
  }

  void Keys(const Path& path) {
    const json* m = At(path);
    if (!m || !m->is_object()) return;
    for (auto it = m->begin(); it != m->end(); ++it) {
      std::string err = CheckQualifiedName(it.key());
      if (err.empty()) continue;
      Path p = path;
      p.push_back(PathSeg{it.key(), -1});
      Error(p, true, "invalid key: " + err);
    }
  }

  void RunnerSpec(const Path& spec) {
    const json* s = At(spec);
    if (!s || !s->is_object()) return;
    bool image = s->contains("image"), image_ref = s->contains("imageRef");
    if (image == image_ref) {
      Path p = spec;
      if (image) p.push_back(PathSeg{"imageRef", -1});
      Error(p, image, image ? "set either image or imageRef, not both"
                            : "one of image or imageRef is required");
    }
    if (const json* labels = At(Append(spec, "labels")); labels && labels->is_object()) {
      for (auto it = labels->begin(); it != labels->end(); ++it) {
        if (it.key().rfind("dev.keelson.", 0) != 0) continue;
        Path p = Append(Append(spec, "labels"), it.key());
        Error(p, true, "the dev.keelson. label prefix is reserved for keelson");
      }
    }
    if (const json* ulimits = At(Append(spec, "ulimits")); ulimits && ulimits->is_array()) {
      for (size_t i = 0; i < ulimits->size(); ++i) {
        const json& u = (*ulimits)[i];
        if (!u.is_object() || !u.contains("soft") || !u.contains("hard")) continue;
        if (!u["soft"].is_number_integer() || !u["hard"].is_number_integer()) continue;
        const int64_t soft = u["soft"].get<int64_t>(), hard = u["hard"].get<int64_t>();
        if (hard != -1 && (soft == -1 || soft > hard)) {
          Path p = Append(spec, "ulimits");
          p.push_back(PathSeg{"", static_cast<int64_t>(i)});
          Error(Append(p, "soft"), false, "soft " + std::to_string(soft) + " is above hard " + std::to_string(hard));
        }
      }
    }
    const json* env = At(Append(spec, "env"));
    if (!env || !env->is_array()) return;
    for (size_t i = 0; i < env->size(); ++i) {
      const json& e = (*env)[i];
      if (!e.is_object() || (e.contains("value") != e.contains("valueFrom"))) continue;
      Path p = Append(spec, "env");
      p.push_back(PathSeg{"", static_cast<int64_t>(i)});
      Error(p, false, "set exactly one of value or valueFrom");
    }
  }

  void Autoscaling(const Path& at) {
    if (const json* ws = At(Append(at, "schedules")); ws && ws->is_array()) {
      for (size_t i = 0; i < ws->size(); ++i) {
        Path w = Append(at, "schedules");
        w.push_back(PathSeg{"", static_cast<int64_t>(i)});
        for (const char* field : {"start", "end"}) {
          if (const json* cron = At(Append(w, field)); cron && cron->is_string()) {
            if (auto c = CronSchedule::Parse(cron->get<std::string>()); !c) Error(Append(w, field), false, c.error().message);
          }
        }
        if (const json* zone = At(Append(w, "timeZone")); zone && zone->is_string()) {
          if (auto tz = TimeZone::Load(zone->get<std::string>()); !tz) Error(Append(w, "timeZone"), false, tz.error().message);
        }
      }
    }
    if (const json* q = At(Append(at, "queue")); q && q->is_object()) {
      const Path queue = Append(at, "queue");
      const bool jp = q->contains("jsonPath"), prom = q->contains("prometheusQuery");
      if (jp == prom) {
        Error(jp ? Append(queue, "prometheusQuery") : queue, jp, "set exactly one of jsonPath and prometheusQuery");
      }
      if (jp && (*q)["jsonPath"].is_string()) {
        if (auto p = JsonPath::Parse((*q)["jsonPath"].get<std::string>()); !p) {
          Error(Append(queue, "jsonPath"), false, p.error().message);
        }
      }
    }
    const json* min = At(Append(at, "minReplicas"));
    const json* max = At(Append(at, "maxReplicas"));
    if (min && max && min->is_number_integer() && max->is_number_integer() && *min > *max) {
      Error(Append(at, "minReplicas"), false,
            "minReplicas " + min->dump() + " is above maxReplicas " + max->dump());
    }
  }

  // A pool's GitHub credentials: a token or an App, not both, and a url
  // that names where its runners are registered.
  void GitHub(const Path& at) {
    const json* g = At(at);
    if (!g || !g->is_object()) return;
    if (g->contains("tokenFile") && g->contains("app")) {
      Error(Append(at, "app"), true, "set either tokenFile or app, not both");
    }
    if (!g->contains("tokenFile") && !g->contains("app")) return;
    if (!g->contains("url")) {
      Error(at, false, "with credentials, url must say where the runners are registered");
      return;
    }
    model::GitHubSpec spec;
    spec.url = (*g)["url"].is_string() ? (*g)["url"].get<std::string>() : "";
    if (auto scope = ci::ScopeOf(spec); !scope) {
      std::string msg = scope.error().message;
      if (msg.rfind("spec.github.url: ", 0) == 0) msg = msg.substr(17);
      Error(Append(at, "url"), false, msg);
    }
  }

  // A git source's semver constraint parses, and its path stays inside the
  // repository.
  void GitSource(const Path& spec) {
    if (const json* semver = At(Append(Append(spec, "ref"), "semver")); semver && semver->is_string()) {
      if (auto c = git::Constraints::Parse(semver->get<std::string>()); !c) {
        Error(Append(Append(spec, "ref"), "semver"), false, c.error().message);
      }
    }
    if (const json* path = At(Append(spec, "path")); path && path->is_string()) {
      const fs::path p = fs::path(path->get<std::string>()).lexically_normal();
      if (p.is_absolute() || (!p.empty() && *p.begin() == "..")) {
        Error(Append(spec, "path"), false, "a path inside the repository, not one that leaves it");
      }
    }
  }

  // Credentials go only to the registry they name, and that must be the one
  // the image comes from: a changed ref must not carry them elsewhere.
  void CredentialsBoundToTheirRegistry(const Path& spec) {
    const json* ref = At(Append(spec, "ref"));
    const json* registry = At(Append(Append(spec, "auth"), "registry"));
    if (!ref || !registry || !ref->is_string() || !registry->is_string()) return;
    const std::string want = model::NormalizeRegistry(registry->get<std::string>());
    const std::string from = model::RegistryOf(ref->get<std::string>());
    if (want == from) return;
    Error(Append(Append(spec, "auth"), "registry"), false,
          "credentials for " + want + " cannot be used for spec.ref, which is on " + from +
              " (credentials are sent only to the registry they name)");
  }

  static Path Append(Path p, const std::string& key) {
    p.push_back(PathSeg{key, -1});
    return p;
  }

  const Document& doc_;
  std::vector<Diagnostic>* errors_;
};

std::string KindList() {
  std::string out;
  for (const auto& k : model::AllKinds()) out += (out.empty() ? "" : ", ") + std::string(k.name);
  return out;
}

// Envelope checks first, so a wrong apiVersion or kind gets one clear line
// instead of a cascade of schema errors.
std::optional<model::Kind> Envelope(const Document& doc, std::vector<Diagnostic>* errors) {
  const json& v = doc.value;
  if (!v.is_object()) {
    errors->push_back(Diagnostic{doc.file, doc.start, "", "a manifest must be a mapping"});
    return std::nullopt;
  }
  auto api = v.find("apiVersion");
  if (api == v.end() || !api->is_string()) {
    errors->push_back(doc.At({{"apiVersion", -1}}, false,
                             api == v.end() ? "missing required field" : "must be a string"));
    return std::nullopt;
  }
  if (*api != model::kApiVersion) {
    errors->push_back(doc.At({{"apiVersion", -1}}, false,
                             "must be " + std::string(model::kApiVersion) + ", got " +
                                 Quote(api->get<std::string>())));
    return std::nullopt;
  }
  auto kind = v.find("kind");
  if (kind == v.end() || !kind->is_string()) {
    errors->push_back(doc.At({{"kind", -1}}, false,
                             kind == v.end() ? "missing required field" : "must be a string"));
    return std::nullopt;
  }
  auto parsed = model::KindFromManifestName(kind->get<std::string>());
  if (!parsed) {
    errors->push_back(doc.At({{"kind", -1}}, false,
                             "unknown kind " + Quote(kind->get<std::string>()) + " (one of " +
                                 KindList() + ")"));
  }
  return parsed;
}

model::Labels StringMap(const json& v) {
  model::Labels out;
  if (!v.is_object()) return out;
  for (auto it = v.begin(); it != v.end(); ++it) out[it.key()] = it.value().get<std::string>();
  return out;
}

LoadedObject Build(model::Kind kind, const Document& doc, json value, const std::string& ns) {
  LoadedObject lo;
  lo.object.kind = kind;
  const json& meta = value["metadata"];
  lo.object.meta.name = meta["name"].get<std::string>();
  lo.object.meta.namespace_ = meta.value("namespace", ns);
  lo.object.meta.labels = StringMap(meta.value("labels", json::object()));
  lo.object.meta.annotations = StringMap(meta.value("annotations", json::object()));
  lo.object.spec = std::move(value["spec"]);
  lo.source = doc.file;
  lo.mark = doc.start;
  return lo;
}

// Paths in a spec are relative to the manifest file that names them, and
// confined to its directory (or KEELSON_ALLOWED_PATHS): a manifest cannot
// make the controller read /etc/shadow into a container. They are stored
// absolute with symlinks resolved, so the controller (another process,
// another directory) reads the very file apply checked. From stdin they are
// relative to the working directory.
class PathResolver {
 public:
  PathResolver(const Document& doc, const fs::path& base, const std::vector<fs::path>& allowed,
               std::vector<Diagnostic>* errors)
      : doc_(doc), base_(base), allowed_(allowed), errors_(errors) {}

  void Resolve(json* value, const Path& at) {
    if (!value || !value->is_string()) return;
    auto confined = ConfinePath(value->get<std::string>(), base_, allowed_);
    if (!confined) {
      errors_->push_back(doc_.At(at, false, confined.error().message));
      return;
    }
    *value = confined->string();
  }

  void EnvFiles(json& runner_spec, Path at) {
    if (runner_spec.contains("envFrom") && runner_spec["envFrom"].is_array()) {
      for (size_t i = 0; i < runner_spec["envFrom"].size(); ++i) {
        Path p = at;
        p.push_back(PathSeg{"envFrom", -1});
        p.push_back(PathSeg{"", static_cast<int64_t>(i)});
        p.push_back(PathSeg{"file", -1});
        Resolve(&runner_spec["envFrom"][i]["file"], p);
      }
    }
    if (!runner_spec.contains("env")) return;
    at.push_back(PathSeg{"env", -1});
    json& env = runner_spec["env"];
    for (size_t i = 0; i < env.size(); ++i) {
      if (!env[i].contains("valueFrom")) continue;
      Path p = at;
      p.push_back(PathSeg{"", static_cast<int64_t>(i)});
      p.push_back(PathSeg{"valueFrom", -1});
      p.push_back(PathSeg{"file", -1});
      Resolve(&env[i]["valueFrom"]["file"], p);
    }
  }

 private:
  const Document& doc_;
  const fs::path& base_;
  const std::vector<fs::path>& allowed_;
  std::vector<Diagnostic>* errors_;
};

// The directory a source's relative paths are resolved against.
fs::path BaseDirectory(const Source& source) {
  std::error_code ec;
  if (source.remote) return source.base.empty() ? fs::path() : fs::absolute(source.base, ec);
  return source.name == "<stdin>" ? fs::current_path(ec) : fs::absolute(source.name, ec).parent_path();
}

void ResolvePaths(model::Kind kind, json& value, PathResolver& resolver) {
  const model::KindInfo& info = model::Info(kind);
  for (std::string_view field : info.file_fields) {
    resolver.Resolve(model::AtPath(value, field), PathFromDotted(field));
  }
  if (info.runner_spec.empty()) return;
  if (json* runner = model::AtPath(value, info.runner_spec)) resolver.EnvFiles(*runner, PathFromDotted(info.runner_spec));
}

}  // namespace

Result<std::vector<Source>> ReadSources(const std::vector<std::string>& paths, bool recursive,
                                        std::istream& in) {
  std::vector<Source> out;
  for (const auto& path : paths) {
    if (path == "-") {
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      out.push_back(Source{"<stdin>", std::move(text)});
      continue;
    }
    std::error_code ec;
    auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      return Unexpected(ErrorCode::kNotFound, path + ": no such file or directory");
    }
    if (fs::is_directory(status)) {
      auto r = ReadDirectory(path, recursive, &out);
      if (!r) return Unexpected(r.error());
      continue;
    }
    auto text = ReadFile(path);
    if (!text) return Unexpected(text.error());
    out.push_back(Source{path, std::move(*text)});
  }
  return out;
}

namespace {

// A `List` (kind List, apiVersion v1 or keelson's: what `get -o yaml`
// prints) stands for its items, each a document of its own that keeps the
// positions of its lines in the file.
std::vector<Document> ExpandLists(std::vector<Document> docs) {
  std::vector<Document> out;
  for (auto& doc : docs) {
    const json& v = doc.value;
    const bool list = v.is_object() && v.value("kind", json()) == "List" && v.contains("items") && v["items"].is_array() &&
                      (v.value("apiVersion", json()) == "v1" || v.value("apiVersion", json()) == model::kApiVersion);
    if (!list) {
      out.push_back(std::move(doc));
      continue;
    }
    for (size_t i = 0; i < v["items"].size(); ++i) {
      Document item;
      item.file = doc.file;
      item.index = doc.index;
      const Path at = {{"items", -1}, {"", static_cast<int64_t>(i)}};
      item.start = doc.Locate(at, false);
      item.value = v["items"][i];
      const std::string prefix = PathString(at);
      for (const auto& pos : doc.positions) {
        if (pos.path.compare(0, prefix.size(), prefix) != 0) continue;
        std::string rest = pos.path.substr(prefix.size());
        if (!rest.empty() && rest[0] != '.' && rest[0] != '[') continue;  // items[1] is not items[10]
        if (!rest.empty() && rest[0] == '.') rest.erase(0, 1);
        item.positions.push_back({rest, pos.mark, pos.key});
      }
      out.push_back(std::move(item));
    }
  }
  return out;
}

// What one piece of one source yields; merged in source order afterwards.
struct PieceResult {
  std::vector<LoadedObject> objects;
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;
};

PieceResult LoadPiece(const Source& source, const StreamPiece& piece, const fs::path& base,
                      const std::string& default_namespace, const CrdSet& crds,
                      const std::vector<fs::path>& allowed) {
  PieceResult result;
  auto docs = ParseYaml(piece.text, source.name, {}, piece.first_line);
  if (!docs) {
    // ParseYaml's message is already a complete "file:line:col: ..." line.
    result.errors.push_back(Diagnostic{"", {}, "", docs.error().message});
    return result;
  }
  for (auto& doc : ExpandLists(std::move(*docs))) {
    size_t before = result.errors.size();
    auto kind = Envelope(doc, &result.errors);
    if (!kind) continue;
    const Schema& schema = crds.For(*kind);
    for (auto& e : schema.Validate(doc.value)) {
      result.errors.push_back(doc.At(e.path, e.at_key, std::move(e.message)));
    }
    if (result.errors.size() != before) continue;
    Semantics(doc, &result.errors).Check(*kind);
    if (result.errors.size() != before) continue;
    // status is the controller's: dropped without a word, as kubectl apply
    // drops it for a resource with a status subresource (so the output of
    // `get -o yaml` applies as it is).
    json value = std::move(doc.value);  // the document's positions are all errors need now
    schema.ApplyDefaults(value);
    PathResolver resolver(doc, base, allowed, &result.errors);
    ResolvePaths(*kind, value, resolver);
    if (result.errors.size() != before) continue;
    LoadedObject lo = Build(*kind, doc, std::move(value), default_namespace);
    lo.depends_on = lo.object.spec.contains("dependsOn") ? doc.At({{"spec", -1}, {"dependsOn", -1}}, false, "").mark
                                                          : doc.start;
    lo.doc = std::move(doc);
    result.objects.push_back(std::move(lo));
  }
  return result;
}

// Below this a source is parsed as one piece: threads would cost more than
// they save.
constexpr size_t kPieceBytes = 64 << 10;
constexpr unsigned kMaxThreads = 8;

}  // namespace

LoadResult LoadManifests(const std::vector<Source>& sources, const std::string& default_namespace,
                         const CrdSet& crds, const std::vector<fs::path>& allowed_paths) {
  // Large inputs are parsed and validated on every core: YAML parsing is most
  // of an apply's time. Results are merged in file order, so errors, warnings
  // and objects come out exactly as one thread would give them.
  struct Work {
    size_t source;
    StreamPiece piece;
  };
  std::vector<Work> work;
  std::vector<fs::path> bases;
  for (size_t i = 0; i < sources.size(); ++i) {
    bases.push_back(BaseDirectory(sources[i]));
    const std::string& text = sources[i].text;
    if (text.size() > ParseLimits{}.max_bytes) {
      work.push_back({i, StreamPiece{text, 1}});  // ParseYaml refuses it with the limit named
      continue;
    }
    for (const auto& piece : SplitDocuments(text, kPieceBytes)) work.push_back({i, piece});
  }
  std::vector<PieceResult> results(work.size());
  std::atomic<size_t> next{0};
  auto run = [&] {
    for (size_t i; (i = next.fetch_add(1)) < work.size();) {
      const Work& w = work[i];
      results[i] = LoadPiece(sources[w.source], w.piece, bases[w.source], default_namespace, crds, allowed_paths);
    }
  };
  unsigned threads = std::min<size_t>({std::max(1u, std::thread::hardware_concurrency()), kMaxThreads,
                                       work.size()});
  {
    std::vector<std::jthread> helpers;
    for (unsigned t = 1; t < threads; ++t) helpers.emplace_back(run);
    run();
  }

  LoadResult result;
  std::map<std::string, std::pair<std::string, Mark>> seen;  // key -> where first defined
  for (auto& piece : results) {
    std::move(piece.errors.begin(), piece.errors.end(), std::back_inserter(result.errors));
    std::move(piece.warnings.begin(), piece.warnings.end(), std::back_inserter(result.warnings));
    for (auto& lo : piece.objects) {
      std::string key = model::Key(lo.object);
      auto [it, inserted] = seen.emplace(key, std::make_pair(lo.source, lo.mark));
      if (!inserted) {
        result.errors.push_back(Diagnostic{
            lo.source, lo.mark, "",
            "duplicate object " + model::DisplayName(lo.object) + " in namespace " +
                lo.object.meta.namespace_ + " (first at " + it->second.first + ":" +
                std::to_string(it->second.second.line) + ")"});
        continue;
      }
      result.objects.push_back(std::move(lo));
    }
  }
  return result;
}

}  // namespace keelson::manifest
