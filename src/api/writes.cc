#include "api/writes.h"

#include <random>

#include <nlohmann/json.hpp>

#include "admission/admission.h"
#include "api/field_ownership.h"
#include "api/field_selector.h"
#include "api/status.h"
#include "manifest/loader.h"
#include "model/selector.h"
#include "store/field_managers.h"

namespace keelson::api {
namespace {

using nlohmann::json;
using server::Request;
using server::Response;

// Set by the server, never taken from a client's body: dropped before the
// body is judged (status goes through /status only).
constexpr const char* kServerFields[] = {"uid",           "resourceVersion",   "generation", "creationTimestamp",
                                         "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields",
                                         "selfLink",      "finalizers",        "ownerReferences", "generateName"};

// The body as JSON (kubectl sends JSON; YAML is taken too). nullopt and a
// 400 in `fail` when it is neither.
std::optional<json> ParseBody(const Request& r, Response* fail) {
  if (r.Header("content-type").find("yaml") != std::string::npos) {
    auto docs = manifest::ParseYaml(r.body, "<request>");
    if (!docs || docs->size() != 1) {
      *fail = BadRequest(docs ? "the request body must hold one YAML document" : docs.error().message);
      return std::nullopt;
    }
    return std::move(docs->front().value);
  }
  json body = json::parse(r.body, nullptr, false);
  if (body.is_discarded()) {
    *fail = BadRequest("the request body is not valid JSON");
    return std::nullopt;
  }
  return body;
}

// Kubernetes' generateName: the prefix and five random characters from its alphabet.
std::string GenerateName(const std::string& prefix) {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  thread_local std::mt19937 rng{std::random_device{}()};
  std::string out = prefix;
  for (int i = 0; i < 5; ++i) out += kAlphabet[rng() % (sizeof kAlphabet - 1)];
  return out;
}

// What a create or update body holds besides the object.
struct Envelope {
  int64_t resource_version = 0;  ///< metadata.resourceVersion, 0 when absent
  std::string uid;               ///< metadata.uid, "" when absent
};

// Checks a body against the request's path (apiVersion, kind, namespace,
// name), fills in what the path says, takes out what the server sets.
std::optional<Envelope> CheckEnvelope(json& doc, const Target& t, bool create, Response* fail) {
  const auto& info = model::Info(t.kind);
  if (!doc.is_object()) {
    *fail = BadRequest("the request body must be a JSON object");
    return std::nullopt;
  }
  const std::string api_version = doc.value("apiVersion", "");
  if (api_version != model::kApiVersion) {
    *fail = BadRequest("the API version in the data (" + api_version + ") does not match the expected API version (" +
                       std::string(model::kApiVersion) + ")");
    return std::nullopt;
  }
  const std::string kind = doc.value("kind", "");
  if (kind != info.name) {
    *fail = BadRequest("the kind in the data (" + kind + ") does not match the expected kind (" + std::string(info.name) + ")");
    return std::nullopt;
  }
  if (!doc.contains("metadata") || !doc["metadata"].is_object()) doc["metadata"] = json::object();
  json& meta = doc["metadata"];
  const std::string ns = meta.contains("namespace") && meta["namespace"].is_string() ? meta["namespace"].get<std::string>() : "";
  if (!ns.empty() && ns != t.namespace_.value_or(ns)) {
    *fail = BadRequest("the namespace of the provided object does not match the namespace sent on the request");
    return std::nullopt;
  }
  meta["namespace"] = t.namespace_.value_or(ns.empty() ? "default" : ns);
  if (create && !meta.contains("name") && meta.contains("generateName") && meta["generateName"].is_string()) {
    meta["name"] = GenerateName(meta["generateName"].get<std::string>());
  }
  if (!create && (!meta.contains("name") || meta["name"] != t.name)) {
    *fail = BadRequest("the name of the object (" + (meta.contains("name") ? meta["name"].dump() : std::string("\"\"")) +
                       ") does not match the name on the URL (" + t.name + ")");
    return std::nullopt;
  }
  Envelope e;
  if (meta.contains("resourceVersion")) {
    const json& rv = meta["resourceVersion"];
    const std::string text = rv.is_string() ? rv.get<std::string>() : rv.dump();
    char* end = nullptr;
    e.resource_version = std::strtoll(text.c_str(), &end, 10);
    if (!text.empty() && (*end != '\0' || e.resource_version <= 0)) {
      *fail = BadRequest("invalid resourceVersion: " + text);
      return std::nullopt;
    }
    if (create && e.resource_version) {
      *fail = BadRequest("resourceVersion should not be set on objects to be created");
      return std::nullopt;
    }
  }
  if (meta.contains("uid") && meta["uid"].is_string()) e.uid = meta["uid"].get<std::string>();
  for (const char* field : kServerFields) meta.erase(field);
  doc.erase("status");
  return e;
}

// The body judged as `keelson apply` judges a file: schema, semantics,
// defaults, file paths; then dependsOn and Policies against the store.
// nullopt and a 422 naming every field problem in `fail` when refused.
struct Admitted {
  store::ApplyRequest request;
  std::vector<std::string> warnings;
};

std::optional<Admitted> Judge(Writer& w, const Target& t, const json& doc, Response* fail) {
  const auto& info = model::Info(t.kind);
  const std::string name = doc["metadata"].value("name", "");
  manifest::Source source{"<request>", doc.dump(), true, w.files_dir};
  auto loaded = manifest::LoadManifests({source}, t.namespace_.value_or("default"), manifest::CrdSet::Builtin(),
                                        w.allowed_paths);
  if (!loaded.errors.empty()) {
    std::vector<Cause> causes;
    for (const auto& d : loaded.errors) causes.push_back({d.path, d.message});
    *fail = Invalid(info, name, causes);
    return std::nullopt;
  }
  if (loaded.objects.size() != 1) {
    *fail = BadRequest("the request body must hold one object");
    return std::nullopt;
  }
  manifest::LoadedObject& lo = loaded.objects.front();
  Admitted out;
  out.request.object = std::move(lo.object);
  out.request.source = "api:" + w.user;
  auto review = admission::Admit(w.store, {admission::Candidate{&out.request.object, &lo.doc, lo.depends_on}});
  if (!review) {
    *fail = StoreFailure(review.error());
    return std::nullopt;
  }
  if (!review->admitted()) {
    std::vector<Cause> causes;
    for (const auto& f : review->errors) causes.push_back({f.field, f.message});
    *fail = Invalid(info, name, causes);
    return std::nullopt;
  }
  out.request.events = std::move(review->events.front());
  for (const auto& d : loaded.warnings) out.warnings.push_back(d.path.empty() ? d.message : d.path + ": " + d.message);
  out.warnings.insert(out.warnings.end(), review->warnings.begin(), review->warnings.end());
  return out;
}

bool DryRun(const Request& r) { return r.Query("dryRun") == "All"; }

// A write's answer: the object as stored, with admission's warnings as
// Warning headers (kubectl prints them as "Warning: ...").
Response Written(int code, const model::Object& o, const std::vector<std::string>& warnings) {
  Response out = Json(code, model::ToJson(o));
  for (const auto& w : warnings) {
    std::string text = w;
    for (char& c : text) {
      if (c == '"' || c == '\n' || c == '\r') c = '\'';
    }
    out.headers.push_back({"Warning", "299 - \"" + text + "\""});
  }
  return out;
}

// Stores a judged object under `precondition`.
Response Store(Writer& w, const Target& t, Admitted& a, const store::Precondition& precondition, bool dry_run, int code) {
  a.request.precondition = precondition;
  a.request.read_back = true;
  const std::string name = a.request.object.meta.name;
  auto result = w.store.Apply({a.request}, std::nullopt, dry_run);
  if (!result) return WriteFailure(model::Info(t.kind), name, result.error());
  const auto& stored = result->applied.front().stored;
  if (!stored) return NotFound(model::Info(t.kind), name);
  return Written(code, *stored, a.warnings);
}

// A full document for the object at `t` (a PUT body, or a patched stored
// object), stored if admitted. `implicit` precondition (the version the
// server read, not the client): the caller may retry on Conflict.
Response Update(Writer& w, const Target& t, json doc, const Request& r, Response* conflict_retry = nullptr) {
  Response fail;
  auto envelope = CheckEnvelope(doc, t, false, &fail);
  if (!envelope) return fail;
  if (envelope->resource_version == 0 && !conflict_retry) {
    return Invalid(model::Info(t.kind), t.name, {{"metadata.resourceVersion", "Invalid value: 0x0: must be specified for an update"}});
  }
  auto admitted = Judge(w, t, doc, &fail);
  if (!admitted) return fail;
  store::Precondition p{store::Precondition::Exists::kPresent, envelope->resource_version, envelope->uid};
  Response out = Store(w, t, *admitted, p, DryRun(r), 200);
  // Only a race with another writer is worth another read; an object being
  // deleted stays so.
  if (conflict_retry && out.status == 409 && out.body.find("has been modified") != std::string::npos) *conflict_retry = out;
  return out;
}

Response ReadFailure(const model::KindInfo& info, const std::string& name, const Result<std::optional<model::Object>>& o) {
  if (!o) return StoreFailure(o.error());
  return NotFound(info, name);
}

// The autoscaling/v1 Scale of a RunnerPool.
json ScaleOf(const model::Object& o) {
  json scale = {{"kind", "Scale"},
                {"apiVersion", "autoscaling/v1"},
                {"metadata",
                 {{"name", o.meta.name},
                  {"namespace", o.meta.namespace_},
                  {"uid", o.meta.uid},
                  {"resourceVersion", std::to_string(o.meta.resource_version)},
                  {"creationTimestamp", o.meta.creation_timestamp}}},
                // An autoscaled pool's replicas are the planner's (status.desiredReplicas).
                {"spec", {{"replicas", o.spec.contains("autoscaling") ? o.status.value("desiredReplicas", 0)
                                                                       : o.spec.value("replicas", 1)}}},
                {"status", {{"replicas", o.status.value("replicas", 0)}}}};
  return scale;
}

// Writes `status` for the stored object, under the client's resourceVersion
// when it gave one (else the one read, retried on a race).
Response WriteStatus(Writer& w, const Target& t, const json& status, int64_t resource_version, bool dry_run) {
  const auto& info = model::Info(t.kind);
  if (!status.is_object()) return Invalid(info, t.name, {{"status", "Invalid value: must be an object"}});
  for (int attempt = 0; attempt < admission::kUpdateAttempts; ++attempt) {
    auto current = w.store.Get(t.kind, *t.namespace_, t.name);
    if (!current || !*current) return ReadFailure(info, t.name, current);
    model::Object o = **current;
    if (resource_version && resource_version != o.meta.resource_version) {
      return Conflict(info, t.name, MakeError(ErrorCode::kConflict, "has been modified"));
    }
    if (dry_run) {
      o.status = status;
      return Json(200, model::ToJson(o));
    }
    auto written = w.store.UpdateStatus(o, status);
    if (!written && written.error().code == ErrorCode::kConflict && !resource_version) continue;
    if (!written) return WriteFailure(info, t.name, written.error());
    auto after = w.store.Get(t.kind, *t.namespace_, t.name);
    if (!after || !*after) return ReadFailure(info, t.name, after);
    return Json(200, model::ToJson(**after));
  }
  return Conflict(info, t.name, MakeError(ErrorCode::kConflict, "has been modified"));
}

// Sets spec.replicas of a RunnerPool, under `resource_version` when not 0.
Response WriteScale(Writer& w, const Target& t, const json& scale, int64_t resource_version, const Request& r) {
  const auto& info = model::Info(t.kind);
  const json* replicas = scale.contains("spec") && scale["spec"].is_object() && scale["spec"].contains("replicas")
                             ? &scale["spec"]["replicas"]
                             : nullptr;
  if (!replicas || !replicas->is_number_integer() || replicas->get<int64_t>() < 0) {
    return Invalid(info, t.name, {{"spec.replicas", "Invalid value: " + (replicas ? replicas->dump() : std::string("null")) +
                                                        ": must be greater than or equal to 0"}});
  }
  for (int attempt = 0; attempt < admission::kUpdateAttempts; ++attempt) {
    auto current = w.store.Get(t.kind, *t.namespace_, t.name);
    if (!current || !*current) return ReadFailure(info, t.name, current);
    if (std::string why = model::AutoscaledScaleRefusal(**current); !why.empty()) {
      return Invalid(info, t.name, {{"spec.replicas", "Forbidden: " + why}});
    }
    json doc = model::ToJson(**current);
    if (resource_version) doc["metadata"]["resourceVersion"] = std::to_string(resource_version);
    doc["spec"]["replicas"] = *replicas;
    Response conflict;
    Response out = Update(w, t, doc, r, resource_version ? nullptr : &conflict);
    if (conflict.status == 409) continue;
    if (out.status != 200) return out;
    auto after = w.store.Get(t.kind, *t.namespace_, t.name);
    if (!after || !*after) return ReadFailure(info, t.name, after);
    return Json(200, ScaleOf(**after));
  }
  return Conflict(info, t.name, MakeError(ErrorCode::kConflict, "has been modified"));
}

int64_t ResourceVersionIn(const json& doc) {
  if (!doc.is_object() || !doc.contains("metadata") || !doc["metadata"].is_object()) return 0;
  const json& rv = doc["metadata"].value("resourceVersion", json());
  if (!rv.is_string()) return 0;
  return std::strtoll(rv.get<std::string>().c_str(), nullptr, 10);
}

// `patch` applied to `target` by its media type. nullopt and the refusal
// (415 for strategic merge patches, which custom resources do not take;
// 422 for a JSON patch whose test or path fails) in `fail`.
std::optional<json> ApplyPatch(const std::string& type, const json& target, const json& patch, const model::KindInfo& info,
                               const std::string& name, Response* fail) {
  if (type.find("application/merge-patch+json") == 0) {
    json out = target;
    out.merge_patch(patch);
    return out;
  }
  if (type.find("application/json-patch+json") == 0) {
    if (!patch.is_array()) {
      *fail = BadRequest("a JSON patch must be an array of operations");
      return std::nullopt;
    }
    try {
      return target.patch(patch);
    } catch (const json::exception& e) {
      std::string why = e.what();  // "[json.exception.other_error.501] unsuccessful: {...}"
      if (auto at = why.find("] "); at != std::string::npos) why = why.substr(at + 2);
      *fail = Failure(422, "Invalid", Resource(info) + " \"" + name + "\" is invalid: the JSON patch cannot be applied: " + why);
      return std::nullopt;
    }
  }
  *fail = Failure(415, "UnsupportedMediaType",
                  "the body of the request was in an unknown format - accepted media types include: "
                  "application/json-patch+json, application/merge-patch+json");
  return std::nullopt;
}

}  // namespace

Response Create(Writer& w, const Target& t, const Request& r) {
  Response fail;
  auto doc = ParseBody(r, &fail);
  if (!doc) return fail;
  auto envelope = CheckEnvelope(*doc, t, true, &fail);
  if (!envelope) return fail;
  auto admitted = Judge(w, t, *doc, &fail);
  if (!admitted) return fail;
  return Store(w, t, *admitted, {store::Precondition::Exists::kAbsent, 0, ""}, DryRun(r), 201);
}

Response Replace(Writer& w, const Target& t, const Request& r) {
  Response fail;
  auto doc = ParseBody(r, &fail);
  if (!doc) return fail;
  if (t.subresource == "status") {
    if (!doc->is_object()) return BadRequest("the request body must be a JSON object");
    return WriteStatus(w, t, doc->value("status", json::object()), ResourceVersionIn(*doc), DryRun(r));
  }
  if (t.subresource == "scale") return WriteScale(w, t, *doc, ResourceVersionIn(*doc), r);
  return Update(w, t, std::move(*doc), r);
}

Response Patch(Writer& w, const Target& t, const Request& r) {
  const auto& info = model::Info(t.kind);
  if (r.Header("content-type").find("application/apply-patch+yaml") == 0 && t.subresource.empty()) {
    return ServerSideApply(w, t, r);
  }
  json patch = json::parse(r.body, nullptr, false);
  if (patch.is_discarded()) return BadRequest("the patch is not valid JSON");
  const std::string type = r.Header("content-type");
  for (int attempt = 0; attempt < admission::kUpdateAttempts; ++attempt) {
    auto current = w.store.Get(t.kind, *t.namespace_, t.name);
    if (!current || !*current) return ReadFailure(info, t.name, current);
    const json before = t.subresource == "scale" ? ScaleOf(**current) : model::ToJson(**current);
    Response fail;
    auto after = ApplyPatch(type, before, patch, info, t.name, &fail);
    if (!after) return fail;
    // A resourceVersion the patch itself sets is the client's precondition:
    // no retry. Otherwise the server's own read is, and a race is retried.
    const int64_t asked = ResourceVersionIn(*after) != ResourceVersionIn(before) ? ResourceVersionIn(*after) : 0;
    if (t.subresource == "status") return WriteStatus(w, t, after->value("status", json::object()), asked, DryRun(r));
    if (t.subresource == "scale") return WriteScale(w, t, *after, asked, r);
    if (!asked) (*after)["metadata"]["resourceVersion"] = std::to_string((*current)->meta.resource_version);
    Response conflict;
    Response out = Update(w, t, std::move(*after), r, asked ? nullptr : &conflict);
    if (conflict.status == 409) continue;
    return out;
  }
  return Conflict(info, t.name, MakeError(ErrorCode::kConflict, "has been modified"));
}

namespace {

Response ApplyConflict(const model::KindInfo& info, const std::string& name, const std::vector<FieldConflict>& conflicts) {
  json causes = json::array();
  std::string list;
  for (const auto& c : conflicts) {
    const std::string message = "conflict with \"" + c.manager + "\" using " + std::string(model::kApiVersion);
    causes.push_back({{"reason", "FieldManagerConflict"}, {"message", message}, {"field", c.field}});
    list += (conflicts.size() > 1 ? "\n- " : "") + message + ": " + c.field;
  }
  return Failure(409, "Conflict",
                 "Apply failed with " + std::to_string(conflicts.size()) + " conflict" + (conflicts.size() > 1 ? "s" : "") +
                     ": " + list,
                 {{"name", name}, {"group", model::kGroup}, {"kind", info.plural}, {"causes", std::move(causes)}});
}

}  // namespace

Response ServerSideApply(Writer& w, const Target& t, const Request& r) {
  const auto& info = model::Info(t.kind);
  const std::string manager = r.Query("fieldManager");
  if (manager.empty()) {
    return Invalid(info, t.name, {{"fieldManager", "Required value: is required for apply requests"}});
  }
  const bool force = r.Query("force") == "true";
  Response fail;
  server::Request as_yaml = r;
  as_yaml.headers["content-type"] = "application/yaml";
  auto parsed = ParseBody(as_yaml, &fail);
  if (!parsed) return fail;
  json applied = std::move(*parsed);
  {
    json probe = applied;
    if (!CheckEnvelope(probe, t, true, &fail)) return fail;
    if (probe["metadata"].value("name", "") != t.name) {
      return BadRequest("the name of the object (" + probe["metadata"].value("name", "") +
                        ") does not match the name on the URL (" + t.name + ")");
    }
  }
  const FieldSet fields = FieldsOf(applied);
  store::FieldManagers managers(w.db, w.clock);
  for (int attempt = 0; attempt < admission::kUpdateAttempts; ++attempt) {
    auto current = w.store.Get(t.kind, *t.namespace_, t.name);
    if (!current) return StoreFailure(current.error());
    if (!*current) {
      // Nothing yet: the applied configuration is the object.
      json doc = applied;
      if (!CheckEnvelope(doc, t, true, &fail)) return fail;
      auto admitted = Judge(w, t, doc, &fail);
      if (!admitted) return fail;
      Response out = Store(w, t, *admitted, {store::Precondition::Exists::kAbsent, 0, ""}, DryRun(r), 201);
      if (out.status == 409) continue;  // created meanwhile: apply to it
      if (out.status == 201 && !DryRun(r)) {
        const std::string uid = json::parse(out.body)["metadata"].value("uid", "");
        if (auto s = managers.Save(uid, manager, fields); !s) return StoreFailure(s.error());
      }
      return out;
    }
    const model::Object& o = **current;
    auto owners = managers.Load(o.meta.uid);
    if (!owners) return StoreFailure(owners.error());
    const json live = model::ToJson(o);
    const auto conflicts = Conflicts(*owners, manager, fields, live, applied);
    if (!conflicts.empty() && !force) return ApplyConflict(info, t.name, conflicts);
    const FieldSet before = (*owners)[manager];
    std::map<std::string, FieldSet> others = *owners;
    others.erase(manager);
    for (const auto& c : conflicts) {
      // Forced: the applier takes the field from its owner.
      std::erase_if(others[c.manager], [&](const std::string& owned) {
        for (const auto& f : fields) {
          if (owned == f || owned.rfind(f + "/", 0) == 0 || f.rfind(owned + "/", 0) == 0) return true;
        }
        return false;
      });
    }
    json merged;
    try {
      merged = Merge(live, applied, fields, before, others);
    } catch (const json::exception& e) {
      return Invalid(info, t.name, {{"", std::string("the applied configuration does not fit the object: ") + e.what()}});
    }
    merged["metadata"]["resourceVersion"] = std::to_string(o.meta.resource_version);
    Response conflict;
    Response out = Update(w, t, std::move(merged), r, &conflict);
    if (conflict.status == 409) continue;
    if (out.status == 200 && !DryRun(r)) {
      if (auto s = managers.Save(o.meta.uid, manager, fields); !s) return StoreFailure(s.error());
      for (const auto& c : conflicts) {
        if (auto s = managers.Save(o.meta.uid, c.manager, others[c.manager]); !s) return StoreFailure(s.error());
      }
    }
    return out;
  }
  return Conflict(info, t.name, MakeError(ErrorCode::kConflict, "has been modified"));
}

namespace {

Response DeleteOne(Writer& w, const model::KindInfo& info, const model::Object& o, const store::Precondition& p,
                   bool dry_run) {
  if (dry_run) return Json(200, model::ToJson(o));
  auto result = w.store.Delete(o.kind, o.meta.namespace_, o.meta.name, false, p);
  if (!result) return WriteFailure(info, o.meta.name, result.error());
  if (*result == store::DeleteResult::kNotFound) return NotFound(info, o.meta.name);
  if (*result == store::DeleteResult::kMarked) {
    auto marked = w.store.Get(o.kind, o.meta.namespace_, o.meta.name);
    if (marked && *marked) return Json(200, model::ToJson(**marked));
  }
  return Json(200, {{"kind", "Status"},
                    {"apiVersion", "v1"},
                    {"metadata", json::object()},
                    {"status", "Success"},
                    {"details", {{"name", o.meta.name}, {"group", model::kGroup}, {"kind", info.plural}, {"uid", o.meta.uid}}}});
}

}  // namespace

Response Delete(Writer& w, const Target& t, const Request& r) {
  const auto& info = model::Info(t.kind);
  json options = r.body.empty() ? json::object() : json::parse(r.body, nullptr, false);
  if (options.is_discarded() || !options.is_object()) return BadRequest("the body of a delete must be DeleteOptions (JSON)");
  bool dry_run = DryRun(r);
  if (options.contains("dryRun") && options["dryRun"].is_array()) {
    for (const auto& d : options["dryRun"]) dry_run = dry_run || d == "All";
  }
  if (!t.name.empty()) {
    store::Precondition p;
    if (options.contains("preconditions") && options["preconditions"].is_object()) {
      const json& pre = options["preconditions"];
      if (pre.contains("uid") && pre["uid"].is_string()) p.uid = pre["uid"].get<std::string>();
      if (pre.contains("resourceVersion") && pre["resourceVersion"].is_string()) {
        p.resource_version = std::strtoll(pre["resourceVersion"].get<std::string>().c_str(), nullptr, 10);
      }
    }
    auto current = w.store.Get(t.kind, *t.namespace_, t.name);
    if (!current || !*current) return ReadFailure(info, t.name, current);
    return DeleteOne(w, info, **current, p, dry_run);
  }
  auto labels = model::Selector::Parse(r.Query("labelSelector"));
  if (!labels) return BadRequest("unable to parse requirement: " + labels.error().message);
  auto fields = FieldSelector::Parse(r.Query("fieldSelector"));
  if (!fields) return BadRequest(fields.error().message);
  auto list = w.store.List({t.kind, t.namespace_, &*labels});
  if (!list) return StoreFailure(list.error());
  json items = json::array();
  for (const auto& o : *list) {
    if (!fields->Matches(o)) continue;
    Response one = DeleteOne(w, info, o, {}, dry_run);
    if (one.status == 404) continue;  // gone meanwhile
    if (one.status != 200) return one;
    items.push_back(model::ToJson(o));
  }
  auto rv = w.store.CurrentResourceVersion();
  if (!rv) return StoreFailure(rv.error());
  return Json(200, {{"apiVersion", model::kApiVersion},
                    {"kind", std::string(info.name) + "List"},
                    {"metadata", {{"resourceVersion", std::to_string(*rv)}}},
                    {"items", std::move(items)}});
}

Response GetScale(store::ObjectStore& store, const Target& t) {
  const auto& info = model::Info(t.kind);
  auto current = store.Get(t.kind, *t.namespace_, t.name);
  if (!current || !*current) return ReadFailure(info, t.name, current);
  return Json(200, ScaleOf(**current));
}

}  // namespace keelson::api
