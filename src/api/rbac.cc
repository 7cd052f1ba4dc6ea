#include "api/rbac.h"

#include <algorithm>

#include "api/status.h"
#include "model/kind.h"

namespace keelson::api {
namespace {

using nlohmann::json;
using server::Request;
using server::Response;

const std::string kRbacVersion = std::string(kRbacGroup) + "/v1";

// The four kinds: resource name, kind, whether namespaced.
struct RbacKind {
  const char* resource;
  const char* kind;
  bool namespaced;
};
constexpr RbacKind kKinds[] = {{"roles", "Role", true},
                               {"rolebindings", "RoleBinding", true},
                               {"clusterroles", "ClusterRole", false},
                               {"clusterrolebindings", "ClusterRoleBinding", false}};

const RbacKind* FindKind(const std::string& resource) {
  for (const auto& k : kKinds) {
    if (resource == k.resource) return &k;
  }
  return nullptr;
}

json Rule(std::vector<std::string> groups, std::vector<std::string> resources, std::vector<std::string> verbs) {
  return {{"apiGroups", groups}, {"resources", resources}, {"verbs", verbs}};
}

json BuiltinRole(const std::string& name, json rules) {
  return {{"apiVersion", kRbacVersion},
          {"kind", "ClusterRole"},
          {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/bootstrapping", "rbac-defaults"}}}}},
          {"rules", std::move(rules)}};
}

// cluster-admin, admin, edit and view, as Kubernetes defines them, for the
// resources keelson serves.
const std::vector<json>& BuiltinRoles() {
  static const std::vector<json> roles = [] {
    const std::string g(model::kGroup);
    const std::vector<std::string> write = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};
    return std::vector<json>{
        BuiltinRole("admin", {Rule({g}, {"*"}, write), Rule({kRbacGroup}, {"roles", "rolebindings"}, write)}),
        BuiltinRole("cluster-admin", {Rule({"*"}, {"*"}, {"*"}), {{"nonResourceURLs", {"*"}}, {"verbs", {"*"}}}}),
        BuiltinRole("edit", {Rule({g}, {"*"}, write)}),
        BuiltinRole("view", {Rule({g}, {"*"}, {"get", "list", "watch"})}),
    };
  }();
  return roles;
}

const std::vector<json>& BuiltinBindings() {
  static const std::vector<json> bindings = {
      {{"apiVersion", kRbacVersion},
       {"kind", "ClusterRoleBinding"},
       {"metadata", {{"name", "cluster-admin"}, {"labels", {{"kubernetes.io/bootstrapping", "rbac-defaults"}}}}},
       {"roleRef", {{"apiGroup", kRbacGroup}, {"kind", "ClusterRole"}, {"name", "cluster-admin"}}},
       {"subjects", {{{"apiGroup", kRbacGroup}, {"kind", "Group"}, {"name", kMastersGroup}}}}}};
  return bindings;
}

const json* Builtin(const std::vector<json>& list, const std::string& name) {
  for (const auto& o : list) {
    if (o["metadata"]["name"] == name) return &o;
  }
  return nullptr;
}

bool Has(const json& list, const std::string& value) {
  if (!list.is_array()) return false;
  for (const auto& v : list) {
    if (v.is_string() && (v == "*" || v == value)) return true;
  }
  return false;
}

bool RuleAllows(const json& rule, const Attributes& a) {
  if (!Has(rule.value("verbs", json::array()), a.verb)) return false;
  if (!Has(rule.value("apiGroups", json::array()), a.group)) return false;
  const json resources = rule.value("resources", json::array());
  const bool resource = a.subresource.empty() ? Has(resources, a.resource)
                                              : Has(resources, a.resource + "/" + a.subresource) ||
                                                    Has(resources, a.resource + "/*");
  if (!resource) return false;
  const json names = rule.value("resourceNames", json::array());
  return names.empty() || (!a.name.empty() && Has(names, a.name));
}

bool SubjectMatches(const json& s, const Identity& who) {
  const std::string kind = s.value("kind", ""), name = s.value("name", "");
  if (kind == "User") return name == who.user;
  if (kind == "Group") return std::find(who.groups.begin(), who.groups.end(), name) != who.groups.end();
  if (kind == "ServiceAccount") return who.user == "system:serviceaccount:" + s.value("namespace", "") + ":" + name;
  return false;
}

bool Bound(const json& binding, const Identity& who) {
  for (const auto& s : binding.value("subjects", json::array())) {
    if (SubjectMatches(s, who)) return true;
  }
  return false;
}

// The rules of the role a binding names; empty when it does not exist.
Result<json> RulesOf(store::RbacStore& rbac, const json& binding, const std::string& ns) {
  const json ref = binding.value("roleRef", json::object());
  const std::string kind = ref.value("kind", ""), name = ref.value("name", "");
  if (kind == "ClusterRole") {
    if (const json* b = Builtin(BuiltinRoles(), name)) return (*b)["rules"];
    auto stored = rbac.Get("ClusterRole", "", name);
    if (!stored) return Unexpected(stored.error());
    return *stored ? (**stored).value("rules", json::array()) : json::array();
  }
  if (kind == "Role" && !ns.empty()) {
    auto stored = rbac.Get("Role", ns, name);
    if (!stored) return Unexpected(stored.error());
    return *stored ? (**stored).value("rules", json::array()) : json::array();
  }
  return json::array();
}

std::string Describe(const json& binding, const Identity& who) {
  const json ref = binding.value("roleRef", json::object());
  return "RBAC: allowed by " + binding.value("kind", std::string()) + " \"" + binding["metadata"].value("name", "") +
         "\" of " + ref.value("kind", "") + " \"" + ref.value("name", "") + "\" to user \"" + who.user + "\"";
}

}  // namespace

Result<Decision> Authorize(store::RbacStore& rbac, const Identity& who, const Attributes& a) {
  auto cluster = rbac.List("ClusterRoleBinding", "");
  if (!cluster) return Unexpected(cluster.error());
  std::vector<json> bindings = BuiltinBindings();
  bindings.insert(bindings.end(), cluster->begin(), cluster->end());
  if (!a.namespace_.empty()) {
    auto local = rbac.List("RoleBinding", a.namespace_);
    if (!local) return Unexpected(local.error());
    bindings.insert(bindings.end(), local->begin(), local->end());
  }
  for (const auto& b : bindings) {
    if (!Bound(b, who)) continue;
    auto rules = RulesOf(rbac, b, b.value("kind", "") == "RoleBinding" ? a.namespace_ : "");
    if (!rules) return Unexpected(rules.error());
    for (const auto& rule : *rules) {
      if (RuleAllows(rule, a)) return Decision{true, Describe(b, who)};
    }
  }
  return Decision{false, ""};
}

namespace {

// Kubernetes' escalation check: every permission `rules` grant (in `ns`, or
// cluster-wide) must be the writer's own.
Result<std::string> Escalates(store::RbacStore& rbac, const Identity& who, const json& rules, const std::string& ns) {
  for (const auto& rule : rules) {
    if (rule.contains("nonResourceURLs")) {
      auto all = Authorize(rbac, who, {"*", "*", "*", "", "", ns});
      if (!all) return Unexpected(all.error());
      if (!all->allowed) return std::string("nonResourceURLs");
      continue;
    }
    for (const auto& verb : rule.value("verbs", json::array())) {
      for (const auto& group : rule.value("apiGroups", json::array())) {
        for (const auto& resource : rule.value("resources", json::array())) {
          std::string res = resource.get<std::string>(), sub;
          if (auto slash = res.find('/'); slash != std::string::npos) sub = res.substr(slash + 1), res = res.substr(0, slash);
          auto d = Authorize(rbac, who, {verb.get<std::string>(), group.get<std::string>(), res, sub, "", ns});
          if (!d) return Unexpected(d.error());
          if (!d->allowed) {
            return verb.get<std::string>() + " " + resource.get<std::string>() + " in API group \"" + group.get<std::string>() + "\"";
          }
        }
      }
    }
  }
  return std::string();
}

// A field problem of an RBAC object, or "" when it is well formed.
std::string Validate(const RbacKind& k, const json& doc) {
  const std::string name = doc["metadata"].value("name", "");
  if (name.empty()) return "metadata.name: Required value";
  if (std::string(k.kind).find("Binding") == std::string::npos) {
    if (!doc.contains("rules")) return "";
    if (!doc["rules"].is_array()) return "rules: Invalid value: must be an array";
    for (size_t i = 0; i < doc["rules"].size(); ++i) {
      const json& r = doc["rules"][i];
      const std::string at = "rules[" + std::to_string(i) + "]";
      if (!r.is_object() || !r.contains("verbs") || !r["verbs"].is_array() || r["verbs"].empty()) {
        return at + ".verbs: Required value: verbs must contain at least one value";
      }
      if (k.namespaced && r.contains("nonResourceURLs")) {
        return at + ".nonResourceURLs: Invalid value: namespaced rules cannot apply to non-resource URLs";
      }
      for (const char* list : {"verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs"}) {
        if (!r.contains(list)) continue;
        if (!r[list].is_array()) return at + "." + list + ": Invalid value: must be a list of strings";
        for (const auto& v : r[list]) {
          if (!v.is_string()) return at + "." + list + ": Invalid value: must be a list of strings";
        }
      }
    }
    return "";
  }
  const json ref = doc.value("roleRef", json());
  if (!ref.is_object()) return "roleRef: Required value";
  const std::string kind = ref.value("kind", "");
  if (kind != "ClusterRole" && !(k.namespaced && kind == "Role")) {
    return "roleRef.kind: Unsupported value: \"" + kind + "\": supported values: " +
           (k.namespaced ? "\"Role\", \"ClusterRole\"" : "\"ClusterRole\"");
  }
  if (ref.value("apiGroup", "") != kRbacGroup) return "roleRef.apiGroup: Unsupported value: must be \"rbac.authorization.k8s.io\"";
  if (ref.value("name", "").empty()) return "roleRef.name: Required value";
  const json subjects = doc.value("subjects", json::array());
  if (!subjects.is_array()) return "subjects: Invalid value: must be an array";
  for (size_t i = 0; i < subjects.size(); ++i) {
    const json& s = subjects[i];
    const std::string at = "subjects[" + std::to_string(i) + "]";
    const std::string sk = s.is_object() ? s.value("kind", "") : "";
    if (sk != "User" && sk != "Group" && sk != "ServiceAccount") {
      return at + ".kind: Unsupported value: \"" + sk + "\": supported values: \"ServiceAccount\", \"User\", \"Group\"";
    }
    if (s.value("name", "").empty()) return at + ".name: Required value";
  }
  return "";
}

std::string Qualified(const RbacKind& k) { return std::string(k.resource) + "." + kRbacGroup; }

Response RbacFailure(const RbacKind& k, const std::string& name, const Error& e) {
  json details = {{"name", name}, {"group", kRbacGroup}, {"kind", k.resource}};
  switch (e.code) {
    case ErrorCode::kNotFound: return Failure(404, "NotFound", Qualified(k) + " \"" + name + "\" not found", details);
    case ErrorCode::kConflict:
      if (e.message.find("already exists") != std::string::npos) {
        return Failure(409, "AlreadyExists", Qualified(k) + " \"" + name + "\" already exists", details);
      }
      return Failure(409, "Conflict",
                     "Operation cannot be fulfilled on " + Qualified(k) + " \"" + name +
                         "\": the object has been modified; please apply your changes to the latest version and try again",
                     details);
    default: return StoreFailure(e);
  }
}

Response Table(const RbacKind& k, const std::vector<json>& items, const Request& r, TimePoint now) {
  const std::string accept = r.Header("accept");
  const std::string version = accept.find("v=v1;") != std::string::npos ? "meta.k8s.io/v1" : "meta.k8s.io/v1beta1";
  const bool binding = std::string(k.kind).find("Binding") != std::string::npos;
  json columns = json::array({{{"name", "Name"}, {"type", "string"}, {"format", "name"}, {"description", ""}, {"priority", 0}}});
  if (binding) columns.push_back({{"name", "Role"}, {"type", "string"}, {"format", ""}, {"description", ""}, {"priority", 0}});
  columns.push_back({{"name", "Age"}, {"type", "string"}, {"format", ""}, {"description", ""}, {"priority", 0}});
  json rows = json::array();
  for (const auto& o : items) {
    json cells = json::array({o["metadata"].value("name", "")});
    if (binding) cells.push_back(o["roleRef"].value("kind", "") + "/" + o["roleRef"].value("name", ""));
    TimePoint created{};
    const std::string ts = o["metadata"].value("creationTimestamp", "");
    cells.push_back(ParseTimestamp(ts, &created) ? FormatAge(created, now) : "<unknown>");
    rows.push_back({{"cells", cells},
                    {"object", {{"kind", "PartialObjectMetadata"}, {"apiVersion", version}, {"metadata", o["metadata"]}}}});
  }
  return Json(200, {{"kind", "Table"}, {"apiVersion", version}, {"metadata", json::object()}, {"columnDefinitions", columns}, {"rows", rows}});
}

// A SelfSubjectAccessReview: may the requester do what its spec says?
Response Review(store::RbacStore& rbac, const Identity& who, const Request& r) {
  json review = json::parse(r.body, nullptr, false);
  if (review.is_discarded() || !review.is_object()) return BadRequest("the request body is not a JSON object");
  const json spec = review.value("spec", json::object());
  Decision d;
  if (spec.contains("resourceAttributes")) {
    const json ra = spec["resourceAttributes"];
    Attributes a{ra.value("verb", ""), ra.value("group", ""), ra.value("resource", ""), ra.value("subresource", ""),
                 ra.value("name", ""), ra.value("namespace", "")};
    auto decided = Authorize(rbac, who, a);
    if (!decided) return StoreFailure(decided.error());
    d = *decided;
  } else {
    // Non-resource URLs: discovery is everyone's; anything else cluster-admin's.
    auto decided = Authorize(rbac, who, {"*", "*", "*", "", "", ""});
    if (!decided) return StoreFailure(decided.error());
    d = *decided;
  }
  review["apiVersion"] = std::string(kAuthorizationGroup) + "/v1";
  review["kind"] = "SelfSubjectAccessReview";
  review["status"] = {{"allowed", d.allowed}};
  if (!d.reason.empty()) review["status"]["reason"] = d.reason;
  return Json(201, review);
}

}  // namespace

json RbacGroup() {
  json v = {{"groupVersion", kRbacVersion}, {"version", "v1"}};
  return {{"name", kRbacGroup}, {"versions", {v}}, {"preferredVersion", v}};
}

json RbacResources() {
  json resources = json::array();
  for (const auto& k : kKinds) {
    resources.push_back({{"name", k.resource},
                         {"singularName", ""},
                         {"namespaced", k.namespaced},
                         {"kind", k.kind},
                         {"verbs", {"create", "delete", "get", "list", "patch", "update"}}});
  }
  return {{"kind", "APIResourceList"}, {"apiVersion", "v1"}, {"groupVersion", kRbacVersion}, {"resources", resources}};
}

json AuthorizationGroup() {
  json v = {{"groupVersion", std::string(kAuthorizationGroup) + "/v1"}, {"version", "v1"}};
  return {{"name", kAuthorizationGroup}, {"versions", {v}}, {"preferredVersion", v}};
}

json AuthorizationResources() {
  return {{"kind", "APIResourceList"},
          {"apiVersion", "v1"},
          {"groupVersion", std::string(kAuthorizationGroup) + "/v1"},
          {"resources",
           {{{"name", "selfsubjectaccessreviews"}, {"singularName", ""}, {"namespaced", false},
             {"kind", "SelfSubjectAccessReview"}, {"verbs", {"create"}}}}}};
}

Response HandleRbac(store::RbacStore& rbac, const Identity& who, const Request& r, const std::vector<std::string>& seg,
                    TimePoint now) {
  if (seg.size() == 4 && seg[1] == kAuthorizationGroup && seg[3] == "selfsubjectaccessreviews") {
    if (r.method != "POST") return Failure(405, "MethodNotAllowed", "selfsubjectaccessreviews are created only");
    return Review(rbac, who, r);
  }
  // /apis/rbac.authorization.k8s.io/v1[/namespaces/NS]/RESOURCE[/NAME]
  std::string ns, resource, name;
  bool all_namespaces = false;
  if (seg.size() >= 6 && seg[3] == "namespaces") {
    ns = seg[4], resource = seg[5];
    if (seg.size() == 7) name = seg[6];
    if (seg.size() > 7) return Failure(404, "NotFound", "the server could not find the requested resource");
  } else if (seg.size() == 4 || seg.size() == 5) {
    resource = seg[3];
    if (seg.size() == 5) name = seg[4];
  } else {
    return Failure(404, "NotFound", "the server could not find the requested resource");
  }
  const RbacKind* k = FindKind(resource);
  if (!k || (!k->namespaced && !ns.empty())) return Failure(404, "NotFound", "the server could not find the requested resource");
  if (k->namespaced && ns.empty()) {
    if (r.method != "GET" || !name.empty()) return Failure(405, "MethodNotAllowed", "name a namespace");
    all_namespaces = true;
  }
  std::string verb = r.method == "GET" ? (name.empty() ? "list" : "get")
                     : r.method == "POST" ? "create"
                     : r.method == "PUT" ? "update"
                     : r.method == "PATCH" ? "patch"
                     : r.method == "DELETE" ? "delete" : "";
  if (verb.empty() || (verb == "create" && !name.empty()) || (verb != "create" && verb != "list" && name.empty())) {
    return Failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
  }
  if (r.Query("watch") == "true" || r.Query("watch") == "1") {
    return Failure(405, "MethodNotAllowed", "watch is served for keelson's kinds only");
  }
  auto allowed = Authorize(rbac, who, {verb, kRbacGroup, resource, "", name, ns});
  if (!allowed) return StoreFailure(allowed.error());
  if (!allowed->allowed) return Forbidden(who.user, verb, resource, kRbacGroup, name, ns);
  const std::vector<json>& builtins = k->kind == std::string("ClusterRole") ? BuiltinRoles()
                                      : k->kind == std::string("ClusterRoleBinding") ? BuiltinBindings()
                                                                                   : std::vector<json>{};
  if (verb == "list") {
    auto stored = rbac.List(k->kind, all_namespaces ? std::nullopt : std::optional<std::string>(ns));
    if (!stored) return StoreFailure(stored.error());
    std::vector<json> items = builtins;
    items.insert(items.end(), stored->begin(), stored->end());
    if (r.Header("accept").find("as=Table") != std::string::npos) return Table(*k, items, r, now);
    return Json(200, {{"apiVersion", kRbacVersion}, {"kind", std::string(k->kind) + "List"}, {"metadata", json::object()}, {"items", items}});
  }
  const json* builtin = name.empty() ? nullptr : Builtin(builtins, name);
  if (verb == "get") {
    if (builtin) return Json(200, *builtin);
    auto stored = rbac.Get(k->kind, ns, name);
    if (!stored) return StoreFailure(stored.error());
    if (!*stored) return RbacFailure(*k, name, MakeError(ErrorCode::kNotFound, ""));
    if (r.Header("accept").find("as=Table") != std::string::npos) return Table(*k, {**stored}, r, now);
    return Json(200, **stored);
  }
  if (builtin) return Failure(422, "Invalid", Qualified(*k) + " \"" + name + "\" is built in and cannot be changed");
  if (verb == "delete") {
    auto removed = rbac.Delete(k->kind, ns, name);
    if (!removed) return StoreFailure(removed.error());
    if (!*removed) return RbacFailure(*k, name, MakeError(ErrorCode::kNotFound, ""));
    return Json(200, {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Success"},
                      {"details", {{"name", name}, {"group", kRbacGroup}, {"kind", k->resource}}}});
  }
  // create, update, patch: the new document.
  json doc;
  json current;
  if (verb != "create") {
    auto stored = rbac.Get(k->kind, ns, name);
    if (!stored) return StoreFailure(stored.error());
    if (!*stored) return RbacFailure(*k, name, MakeError(ErrorCode::kNotFound, ""));
    current = **stored;
  }
  json body = json::parse(r.body, nullptr, false);
  if (body.is_discarded()) return BadRequest("the request body is not valid JSON");
  if (verb == "patch") {
    const std::string type = r.Header("content-type");
    try {
      if (type.find("application/merge-patch+json") == 0) {
        doc = current;
        doc.merge_patch(body);
      } else if (type.find("application/json-patch+json") == 0) {
        doc = current.patch(body);
      } else {
        return Failure(415, "UnsupportedMediaType",
                       "the body of the request was in an unknown format - accepted media types include: "
                       "application/json-patch+json, application/merge-patch+json");
      }
    } catch (const json::exception& e) {
      return Failure(422, "Invalid", std::string("the patch cannot be applied: ") + e.what());
    }
  } else {
    doc = std::move(body);
  }
  if (!doc.is_object() || doc.value("kind", "") != k->kind || doc.value("apiVersion", "") != kRbacVersion) {
    return BadRequest("the body must be a " + std::string(k->kind) + " of " + kRbacVersion);
  }
  if (!doc.contains("metadata") || !doc["metadata"].is_object()) doc["metadata"] = json::object();
  json& meta = doc["metadata"];
  if (k->namespaced) {
    if (meta.contains("namespace") && meta["namespace"] != ns) {
      return BadRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    meta["namespace"] = ns;
  } else {
    meta.erase("namespace");
  }
  if (verb != "create" && meta.value("name", "") != name) {
    return BadRequest("the name of the object does not match the name on the URL (" + name + ")");
  }
  const std::string problem = Validate(*k, doc);
  const std::string doc_name = meta.value("name", "");
  if (!problem.empty()) {
    return Failure(422, "Invalid", std::string(k->kind) + "." + kRbacGroup + " \"" + doc_name + "\" is invalid: " + problem);
  }
  if (verb != "create" && current.contains("roleRef") && doc["roleRef"] != current["roleRef"]) {
    return Failure(422, "Invalid", std::string(k->kind) + "." + kRbacGroup + " \"" + doc_name +
                                       "\" is invalid: roleRef: Invalid value: cannot change roleRef");
  }
  // No escalation: the writer holds every permission it grants.
  json rules = doc.value("rules", json::array());
  if (doc.contains("roleRef")) {
    auto granted = RulesOf(rbac, doc, ns);
    if (!granted) return StoreFailure(granted.error());
    rules = *granted;
  }
  auto escalation = Escalates(rbac, who, rules, ns);
  if (!escalation) return StoreFailure(escalation.error());
  if (!escalation->empty()) {
    return Failure(403, "Forbidden",
                   Qualified(*k) + " \"" + doc_name + "\" is forbidden: user \"" + who.user +
                       "\" is attempting to grant RBAC permissions not currently held: " + *escalation);
  }
  int64_t rv = 0;
  if (meta.contains("resourceVersion") && meta["resourceVersion"].is_string()) {
    rv = std::strtoll(meta["resourceVersion"].get<std::string>().c_str(), nullptr, 10);
  }
  if (verb == "patch" && rv == std::strtoll(current["metadata"].value("resourceVersion", "0").c_str(), nullptr, 10)) {
    rv = 0;  // the server's own read, not the client's precondition
  }
  auto written = verb == "create" ? rbac.Create(k->kind, ns, doc) : rbac.Update(k->kind, ns, doc, rv);
  if (!written) return RbacFailure(*k, doc_name, written.error());
  return Json(verb == "create" ? 201 : 200, *written);
}

}  // namespace keelson::api
