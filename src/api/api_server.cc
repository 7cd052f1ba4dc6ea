#include "api/api_server.h"

#include "api/github_hooks.h"
#include "api/hooks.h"

#include "api/field_selector.h"
#include "api/audit.h"
#include "api/openapi.h"
#include "api/pki.h"
#include "api/rate_limit.h"
#include "api/rbac.h"
#include "api/watch.h"
#include "api/status.h"
#include "api/writes.h"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "cli/table.h"
#include "model/kind.h"
#include "model/object.h"
#include "model/selector.h"

namespace keelson::api {
namespace {

using nlohmann::json;
using server::Request;
using server::Response;

constexpr const char* kGroupVersion = "keelson.dev/v1alpha1";

Response NotFoundPath() { return Failure(404, "NotFound", "the server could not find the requested resource"); }

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream in(path);
  for (std::string s; std::getline(in, s, '/');) {
    if (!s.empty()) out.push_back(s);
  }
  return out;
}

std::optional<model::Kind> KindOfResource(const std::string& plural) {
  for (const auto& k : model::AllKinds()) {
    if (k.plural == plural) return k.kind;
  }
  return std::nullopt;
}

// "READY" -> "Ready", "UP-TO-DATE" -> "Up-to-date": kubectl upper-cases
// column names as it prints them, so the API carries them as Kubernetes does.
std::string ColumnName(std::string_view header) {
  std::string out(header);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(i == 0 ? std::toupper(static_cast<unsigned char>(out[i]))
                                      : std::tolower(static_cast<unsigned char>(out[i])));
  }
  return out;
}

json Version() {
  return {{"major", "1"},         {"minor", "20"},       {"gitVersion", "v1.20.0-keelson"},
          {"gitCommit", ""},      {"gitTreeState", ""},  {"buildDate", ""},
          {"goVersion", ""},      {"compiler", "keelson"}, {"platform", "linux/amd64"}};
}

json ResourceList() {
  json resources = json::array();
  for (const auto& k : model::AllKinds()) {
    json r = {{"name", k.plural},
              {"singularName", k.singular},
              {"namespaced", true},
              {"kind", k.name},
              {"verbs", {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}},
              {"categories", {"all", "keelson"}}};
    if (!k.short_name.empty()) r["shortNames"] = {k.short_name};
    resources.push_back(std::move(r));
    resources.push_back({{"name", std::string(k.plural) + "/status"},
                         {"singularName", ""},
                         {"namespaced", true},
                         {"kind", k.name},
                         {"verbs", {"get", "patch", "update"}}});
    if (k.kind == model::Kind::kRunnerPool) {
      resources.push_back({{"name", std::string(k.plural) + "/scale"},
                           {"singularName", ""},
                           {"namespaced", true},
                           {"group", "autoscaling"},
                           {"version", "v1"},
                           {"kind", "Scale"},
                           {"verbs", {"get", "patch", "update"}}});
    }
  }
  return {{"kind", "APIResourceList"}, {"apiVersion", "v1"}, {"groupVersion", kGroupVersion}, {"resources", resources}};
}

json GroupVersion() { return {{"groupVersion", kGroupVersion}, {"version", model::kVersion}}; }

json Group() {
  return {{"name", model::kGroup}, {"versions", {GroupVersion()}}, {"preferredVersion", GroupVersion()}};
}

enum class TableVersion { kNone, kV1, kV1beta1 };

// kubectl asks "application/json;as=Table;v=v1;g=meta.k8s.io, ..., application/json".
TableVersion WantsTable(const Request& r) {
  const std::string accept = r.Header("accept");
  if (accept.find("as=Table;v=v1;g=meta.k8s.io") != std::string::npos) return TableVersion::kV1;
  if (accept.find("as=Table;v=v1beta1;g=meta.k8s.io") != std::string::npos) return TableVersion::kV1beta1;
  return TableVersion::kNone;
}

json PartialMetadata(const json& doc, TableVersion v) {
  return {{"kind", "PartialObjectMetadata"},
          {"apiVersion", v == TableVersion::kV1 ? "meta.k8s.io/v1" : "meta.k8s.io/v1beta1"},
          {"metadata", doc["metadata"]}};
}

json Table(model::Kind kind, const std::vector<model::Object>& objects, int64_t rv, TableVersion v,
           const std::string& include, TimePoint now) {
  json columns = json::array();
  columns.push_back({{"name", "Name"}, {"type", "string"}, {"format", "name"}, {"description", "Name of the object"}, {"priority", 0}});
  const auto& info = model::Info(kind);
  for (const auto& c : info.columns) {
    columns.push_back({{"name", ColumnName(c.header)},
                       {"type", "string"},
                       {"format", ""},
                       {"description", std::string(c.path)},
                       {"priority", c.wide ? 1 : 0}});
  }
  columns.push_back({{"name", "Age"}, {"type", "string"}, {"format", "date"}, {"description", "Time since the object was created"}, {"priority", 0}});
  json rows = json::array();
  for (const auto& o : objects) {
    json cells = json::array({o.meta.name});
    for (const auto& c : info.columns) cells.push_back(cli::ColumnCell(c, o));
    TimePoint created{};
    cells.push_back(ParseTimestamp(o.meta.creation_timestamp, &created) ? FormatAge(created, now) : "<unknown>");
    json row = {{"cells", std::move(cells)}};
    if (include == "Object") {
      row["object"] = model::ToJson(o);
    } else if (include != "None") {
      row["object"] = PartialMetadata(model::ToJson(o), v);
    }
    rows.push_back(std::move(row));
  }
  return {{"kind", "Table"},
          {"apiVersion", v == TableVersion::kV1 ? "meta.k8s.io/v1" : "meta.k8s.io/v1beta1"},
          {"metadata", {{"resourceVersion", std::to_string(rv)}}},
          {"columnDefinitions", std::move(columns)},
          {"rows", std::move(rows)}};
}

}  // namespace

class ApiServer::Lease {
 public:
  explicit Lease(ApiServer& api) : api_(api), session_(api.Borrow()) {}
  ~Lease() {
    if (session_) api_.Return(std::move(session_));
  }
  controller::StoreSession* get() { return session_.get(); }

 private:
  ApiServer& api_;
  std::unique_ptr<controller::StoreSession> session_;
};

ApiServer::ApiServer(const Clock& clock, ApiOptions options)
    : clock_(clock),
      options_(std::move(options)),
      hub_(std::make_unique<WatchHub>(options_.open_store, clock)),
      users_(std::make_unique<RateLimiter>(options_.user_rate, options_.user_burst)),
      anonymous_(std::make_unique<RateLimiter>(options_.anonymous_rate, options_.anonymous_burst)) {
  if (!options_.audit_log.empty()) audit_ = std::make_unique<AuditLog>(options_.audit_log, clock);
}

ApiServer::~ApiServer() = default;

void ApiServer::LimitRate(double per_second) {
  options_.user_rate = per_second;
  options_.user_burst = 2 * per_second;
  users_ = std::make_unique<RateLimiter>(options_.user_rate, options_.user_burst);
}

std::unique_ptr<controller::StoreSession> ApiServer::Borrow() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto s = std::move(idle_.back());
      idle_.pop_back();
      return s;
    }
  }
  auto s = options_.open_store();
  if (!s) {
    spdlog::warn("api: {}", s.error().message);
    return nullptr;
  }
  return std::make_unique<controller::StoreSession>(std::move(*s));
}

void ApiServer::Return(std::unique_ptr<controller::StoreSession> session) {
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(session));
}

void ApiServer::Register(server::HttpServer& http) {
  for (const char* prefix : {"/version", "/api", "/apis", "/openapi"}) {
    http.RoutePrefix(prefix, [this](const Request& r) { return Handle(r); });
  }
  // Webhooks are signed, not authenticated by token; a bad signature counts
  // as a failed authentication for the per-address limit.
  using Handler = std::function<server::Response(const Request&, store::ObjectStore&, const Clock&)>;
  auto hook = [this](Handler handle) {
    return [this, handle](const Request& r) {
      Lease lease(*this);
      if (!lease.get()) return Failure(503, "ServiceUnavailable", "the store cannot be opened");
      server::Response out = handle(r, *lease.get()->store, clock_);
      if (out.status == 202 && on_write_) on_write_();
      if (out.status == 401 && !anonymous_->Allow(r.peer, clock_.Now())) {
        Response busy = Failure(429, "TooManyRequests", "too many failed webhook deliveries from " + r.peer);
        busy.headers.emplace_back("Retry-After", "1");
        return busy;
      }
      return out;
    };
  };
  http.RoutePrefix(kGitHookPrefix, hook(HandleGitHook));
  http.RoutePrefix(kGitHubHookPath, hook([this](const Request& r, store::ObjectStore& store, const Clock& clock) {
    return HandleGitHubHook(r, store, clock, on_job_);
  }));
}

std::optional<Identity> ApiServer::Authenticate(const Request& r) {
  const std::string header = r.Header("authorization");
  const std::string scheme = "Bearer ";
  if (header.empty() && !r.peer_certificate.empty() && !options_.client_ca_pem.empty()) {
    auto subject = VerifyClientCertificate(r.peer_certificate, options_.client_ca_pem);
    if (!subject) {
      spdlog::debug("api: {} from {}", subject.error().message, r.peer);
      return std::nullopt;
    }
    return Identity{subject->user, subject->groups};
  }
  if (header.size() <= scheme.size() || header.compare(0, scheme.size(), scheme) != 0) return std::nullopt;
  auto tokens = Tokens::Load(options_.token_file);
  if (!tokens) {
    spdlog::warn("api: {}", tokens.error().message);
    return std::nullopt;
  }
  return tokens->Find(header.substr(scheme.size()));
}

namespace {

// The Kubernetes verb of a request: what RBAC rules name.
std::string Verb(const Request& r, bool named) {
  if (r.method == "GET" || r.method == "HEAD") {
    if (r.Query("watch") == "true" || r.Query("watch") == "1") return "watch";
    return named ? "get" : "list";
  }
  if (r.method == "POST") return "create";
  if (r.method == "PUT") return "update";
  if (r.method == "PATCH") return "patch";
  if (r.method == "DELETE") return named ? "delete" : "deletecollection";
  return "";
}

}  // namespace

Response ApiServer::Watch(const Request& r, const Target& t, int table) {
  const TableVersion tv = static_cast<TableVersion>(table);
  WatchOptions w;
  w.filter.kind = t.kind;
  w.filter.namespace_ = t.namespace_;
  auto labels = model::Selector::Parse(r.Query("labelSelector"));
  if (!labels) return BadRequest("unable to parse requirement: " + labels.error().message);
  w.filter.labels = std::move(*labels);
  std::string field_text = r.Query("fieldSelector");
  if (!t.name.empty()) field_text += (field_text.empty() ? "" : ",") + std::string("metadata.name=") + t.name;
  auto fields = FieldSelector::Parse(field_text);
  if (!fields) return BadRequest(fields.error().message);
  w.filter.fields = std::move(*fields);
  const std::string rv = r.Query("resourceVersion");
  if (!rv.empty() && rv != "0") {
    char* end = nullptr;
    const long long v = std::strtoll(rv.c_str(), &end, 10);
    if (*end != '\0' || v < 0) return BadRequest("invalid resourceVersion: " + rv);
    w.from = v;
  }
  w.bookmarks = r.Query("allowWatchBookmarks") == "true";
  if (const std::string timeout = r.Query("timeoutSeconds"); !timeout.empty()) {
    w.timeout = std::chrono::seconds(std::clamp<long long>(std::atoll(timeout.c_str()), 1, 3600));
  }
  const std::string include = r.Query("includeObject");
  w.encode = [this, tv, include, kind = t.kind](const model::Object& o) -> json {
    if (tv == TableVersion::kNone) return model::ToJson(o);
    return Table(kind, {o}, o.meta.resource_version, tv, include, clock_.Now());
  };
  auto stream = hub_->Watch(std::move(w));
  if (!stream) return Failure(429, "TooManyRequests", "too many watches: at most " + std::to_string(WatchHub::kMaxWatches));
  Response out{200, kJsonType, "", {}};
  out.stream = *stream;
  return out;
}

namespace {

Response TooMany(const std::string& message) {
  Response out = Failure(429, "TooManyRequests", message);
  out.headers.push_back({"Retry-After", "1"});
  return out;
}

}  // namespace

Response ApiServer::Handle(const Request& r) {
  const bool write = r.method != "GET" && r.method != "HEAD";
  if (Segments(r.path) == std::vector<std::string>{"version"}) return Json(200, Version());
  auto who = Authenticate(r);
  Response out;
  if (!who) {
    // Guessing tokens is slowed down per address.
    out = anonymous_->Allow(r.peer, clock_.Now()) ? Failure(401, "Unauthorized", "Unauthorized")
                                                   : TooMany("too many failed authentications from " + r.peer);
  } else if (options_.user_rate > 0 && !users_->Allow(who->user, clock_.Now())) {
    out = TooMany("too many requests from user \"" + who->user + "\"; retry in a second");
  } else {
    out = Serve(r, *who);
  }
  if (write && audit_) audit_->Record(who ? &*who : nullptr, r, out.status);
  if (write && out.status < 300) {
    hub_->Poke();  // watches see our own writes at once
    if (on_write_) on_write_();
  }
  return out;
}

Response ApiServer::Serve(const Request& r, const Identity& identity) {
  const auto seg = Segments(r.path);
  const Identity* who = &identity;
  const bool read = r.method == "GET" || r.method == "HEAD";
  const bool kinds = seg.size() >= 4 && seg[0] == "apis" && seg[1] == model::kGroup && seg[2] == model::kVersion;
  const bool rbac = seg.size() >= 4 && seg[0] == "apis" && seg[2] == "v1" && (seg[1] == kRbacGroup || seg[1] == kAuthorizationGroup);
  if (!read && !kinds && !rbac) {
    return Failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
  }
  if (read && !kinds && (r.Query("watch") == "true" || r.Query("watch") == "1")) {
    return Failure(405, "MethodNotAllowed", "watch is served for keelson's kinds only");
  }
  // Discovery.
  if (seg == std::vector<std::string>{"openapi", "v2"}) {
    if (r.Header("accept").find("protobuf") != std::string::npos) {
      // As kube-apiserver answers it: the media type kubectl asks for has an
      // "@" that Go's mime parser (and so client-go) refuses in a reply.
      return Response{200, "application/octet-stream", OpenApiV2Protobuf(), {}};
    }
    return Json(200, OpenApiV2());
  }
  if (seg == std::vector<std::string>{"openapi", "v3"}) {
    const std::string gv = "apis/" + std::string(model::kGroup) + "/" + std::string(model::kVersion);
    return Json(200, {{"paths", {{gv, {{"serverRelativeURL", "/openapi/v3/" + gv}}}}}});
  }
  if (seg == std::vector<std::string>{"openapi", "v3", "apis", std::string(model::kGroup), std::string(model::kVersion)}) {
    return Json(200, OpenApiV3());
  }
  if (seg == std::vector<std::string>{"api"}) {
    return Json(200, {{"kind", "APIVersions"}, {"versions", {"v1"}}, {"serverAddressByClientCIDRs", json::array()}});
  }
  if (seg == std::vector<std::string>{"api", "v1"}) {
    json ns = {{"name", "namespaces"}, {"singularName", ""}, {"namespaced", false}, {"kind", "Namespace"},
               {"verbs", {"get", "list"}}, {"shortNames", {"ns"}}};
    return Json(200, {{"kind", "APIResourceList"}, {"groupVersion", "v1"}, {"resources", {ns}}});
  }
  if (seg == std::vector<std::string>{"apis"}) {
    return Json(200, {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", {Group(), RbacGroup(), AuthorizationGroup()}}});
  }
  for (const auto& [name, group, resources] : {std::tuple{kRbacGroup, RbacGroup(), RbacResources()},
                                               std::tuple{kAuthorizationGroup, AuthorizationGroup(), AuthorizationResources()}}) {
    if (seg == std::vector<std::string>{"apis", name}) {
      json g = group;
      g["kind"] = "APIGroup";
      g["apiVersion"] = "v1";
      return Json(200, g);
    }
    if (seg == std::vector<std::string>{"apis", name, "v1"}) return Json(200, resources);
  }
  if (seg == std::vector<std::string>{"apis", std::string(model::kGroup)}) {
    json g = Group();
    g["kind"] = "APIGroup";
    g["apiVersion"] = "v1";
    return Json(200, g);
  }
  if (seg == std::vector<std::string>{"apis", std::string(model::kGroup), std::string(model::kVersion)}) {
    return Json(200, ResourceList());
  }

  Lease lease(*this);
  auto* session = lease.get();
  if (!session) return Failure(503, "ServiceUnavailable", "the store cannot be opened");
  store::ObjectStore& store = *session->store;
  store::RbacStore rbac_store(*session->db, clock_);
  const TimePoint now = clock_.Now();
  if (rbac) return HandleRbac(rbac_store, *who, r, seg, now);
  auto forbidden = [&](const Attributes& a) -> std::optional<Response> {
    auto d = Authorize(rbac_store, *who, a);
    if (!d) return StoreFailure(d.error());
    if (d->allowed) return std::nullopt;
    return Forbidden(who->user, a.verb, a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource, a.group,
                     a.name, a.namespace_);
  };

  // Namespaces: those that hold objects, and "default".
  if (seg.size() >= 3 && seg[0] == "api" && seg[1] == "v1" && seg[2] == "namespaces" && seg.size() <= 4) {
    if (auto no = forbidden({seg.size() == 4 ? "get" : "list", "", "namespaces", "", seg.size() == 4 ? seg[3] : "", ""})) {
      return *no;
    }
    auto names = store.Namespaces();
    if (!names) return StoreFailure(names.error());
    if (std::find(names->begin(), names->end(), "default") == names->end()) names->push_back("default");
    std::sort(names->begin(), names->end());
    auto ns_json = [](const std::string& n) {
      return json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", n}}},
                  {"status", {{"phase", "Active"}}}};
    };
    std::vector<std::string> chosen;
    if (seg.size() == 4) {
      if (std::find(names->begin(), names->end(), seg[3]) == names->end()) {
        return Failure(404, "NotFound", "namespaces \"" + seg[3] + "\" not found",
                       {{"name", seg[3]}, {"kind", "namespaces"}});
      }
      chosen.push_back(seg[3]);
    } else {
      chosen = *names;
    }
    auto rv = store.CurrentResourceVersion();
    if (!rv) return StoreFailure(rv.error());
    const TableVersion tv = WantsTable(r);
    if (tv != TableVersion::kNone) {
      json rows = json::array();
      for (const auto& n : chosen) {
        json row = {{"cells", {n, "Active"}}};
        if (r.Query("includeObject") != "None") row["object"] = PartialMetadata(ns_json(n), tv);
        rows.push_back(std::move(row));
      }
      return Json(200, {{"kind", "Table"},
                        {"apiVersion", tv == TableVersion::kV1 ? "meta.k8s.io/v1" : "meta.k8s.io/v1beta1"},
                        {"metadata", {{"resourceVersion", std::to_string(*rv)}}},
                        {"columnDefinitions",
                         {{{"name", "Name"}, {"type", "string"}, {"format", "name"}, {"description", ""}, {"priority", 0}},
                          {{"name", "Status"}, {"type", "string"}, {"format", ""}, {"description", ""}, {"priority", 0}}}},
                        {"rows", std::move(rows)}});
    }
    if (seg.size() == 4) return Json(200, ns_json(chosen[0]));
    json items = json::array();
    for (const auto& n : chosen) items.push_back(ns_json(n));
    return Json(200, {{"apiVersion", "v1"}, {"kind", "NamespaceList"},
                      {"metadata", {{"resourceVersion", std::to_string(*rv)}}}, {"items", std::move(items)}});
  }

  // keelson's kinds: /apis/keelson.dev/v1alpha1[/namespaces/NS]/PLURAL[/NAME[/SUBRESOURCE]]
  if (!kinds) return NotFoundPath();
  Target t;
  std::string plural;
  if (seg.size() == 4) {
    plural = seg[3];
  } else if (seg[3] == "namespaces" && seg.size() >= 6 && seg.size() <= 8) {
    t.namespace_ = seg[4];
    plural = seg[5];
    if (seg.size() >= 7) t.name = seg[6];
    if (seg.size() == 8) t.subresource = seg[7];
  } else {
    return NotFoundPath();
  }
  auto kind = KindOfResource(plural);
  if (!kind) return NotFoundPath();
  t.kind = *kind;
  if (!t.subresource.empty() && t.subresource != "status" && !(t.subresource == "scale" && *kind == model::Kind::kRunnerPool)) {
    return NotFoundPath();
  }
  const auto& info = model::Info(*kind);
  const std::string verb = Verb(r, !t.name.empty());
  if (verb.empty() || (!t.namespace_ && !read) || (verb == "create" && !t.name.empty())) {
    return Failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
  }
  if (auto no = forbidden({verb, std::string(model::kGroup), std::string(info.plural), t.subresource, t.name,
                           t.namespace_.value_or("")})) {
    return *no;
  }
  if (!read) {
    Writer w{store, *session->db, clock_, who->user, options_.allowed_paths, options_.files_dir};
    if (verb == "create") return Create(w, t, r);
    if (verb == "update") return Replace(w, t, r);
    if (verb == "patch") return Patch(w, t, r);
    return Delete(w, t, r);
  }
  const std::string name = t.name;
  const std::optional<std::string> ns = t.namespace_;
  const TableVersion tv = WantsTable(r);
  const std::string include = r.Query("includeObject");

  if (t.subresource == "scale") return GetScale(store, t);
  if (verb == "watch") return Watch(r, t, static_cast<int>(tv));
  if (!name.empty()) {
    auto o = store.Get(*kind, *ns, name);
    if (!o) return StoreFailure(o.error());
    if (!*o) return NotFound(info, name);
    if (tv != TableVersion::kNone) return Json(200, Table(*kind, {**o}, (*o)->meta.resource_version, tv, include, now));
    return Json(200, model::ToJson(std::move(**o)));
  }

  auto labels = model::Selector::Parse(r.Query("labelSelector"));
  if (!labels) return Failure(400, "BadRequest", "unable to parse requirement: " + labels.error().message);
  auto fields = FieldSelector::Parse(r.Query("fieldSelector"));
  if (!fields) return Failure(400, "BadRequest", fields.error().message);
  // Read the version first: every object listed is at or below it.
  auto rv = store.CurrentResourceVersion();
  if (!rv) return StoreFailure(rv.error());
  auto list = store.List({*kind, ns, &*labels});
  if (!list) return StoreFailure(list.error());
  std::vector<model::Object> objects;
  for (auto& o : *list) {
    if (fields->Matches(o)) objects.push_back(std::move(o));
  }
  if (tv != TableVersion::kNone) return Json(200, Table(*kind, objects, *rv, tv, include, now));
  json items = json::array();
  for (auto& o : objects) items.push_back(model::ToJson(std::move(o)));
  return Json(200, {{"apiVersion", kGroupVersion},
                    {"kind", std::string(info.name) + "List"},
                    {"metadata", {{"resourceVersion", std::to_string(*rv)}}},
                    {"items", std::move(items)}});
}

}  // namespace keelson::api
