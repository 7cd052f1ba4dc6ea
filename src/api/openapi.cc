#include "api/openapi.h"

#include <cstring>

#include "manifest/document.h"
#include "manifest/embedded.h"
#include "model/kind.h"

namespace keelson::api {
namespace {

using nlohmann::json;

constexpr const char* kObjectMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
constexpr const char* kListMeta = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta";

std::string DefinitionName(std::string_view kind) { return "dev.keelson.v1alpha1." + std::string(kind); }

json Gvk(std::string_view kind) {
  return json::array({{{"group", model::kGroup}, {"kind", kind}, {"version", model::kVersion}}});
}

// metav1.ObjectMeta as kubectl validates and explains it: every field a
// client may send back from a `get -o yaml`.
json ObjectMeta() {
  auto str = [](const char* d) { return json{{"type", "string"}, {"description", d}}; };
  json map = {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}};
  json any_object = {{"type", "object"}};
  json props = {
      {"name", str("Unique within the namespace and kind; a DNS-1123 label.")},
      {"generateName", str("A prefix from which the server makes a unique name when name is empty.")},
      {"namespace", str("The namespace of the object.")},
      {"uid", str("Set by the server: unique in time and space.")},
      {"resourceVersion", str("Set by the server: changes on every write; a precondition of updates.")},
      {"generation", {{"type", "integer"}, {"format", "int64"}, {"description", "Set by the server: +1 on each spec change."}}},
      {"creationTimestamp", {{"type", "string"}, {"format", "date-time"}, {"description", "Set by the server."}}},
      {"deletionTimestamp", {{"type", "string"}, {"format", "date-time"}, {"description", "Set when deletion was asked."}}},
      {"deletionGracePeriodSeconds", {{"type", "integer"}, {"format", "int64"}}},
      {"labels", map},
      {"annotations", map},
      {"finalizers", {{"type", "array"}, {"items", {{"type", "string"}}}}},
      {"ownerReferences", {{"type", "array"}, {"items", any_object}}},
      {"managedFields", {{"type", "array"}, {"items", any_object}}},
      {"selfLink", str("Deprecated.")},
  };
  return {{"description", "Standard object metadata."}, {"type", "object"}, {"properties", props}};
}

json ListMeta() {
  return {{"type", "object"},
          {"properties",
           {{"resourceVersion", {{"type", "string"}}}, {"continue", {{"type", "string"}}}, {"selfLink", {{"type", "string"}}}}}};
}

// A CRD's openAPIV3Schema as kube-apiserver publishes it in v2: metadata a
// reference to ObjectMeta; what Swagger 2.0 cannot say left out.
json ToV2(json schema, bool top) {
  if (!schema.is_object()) return schema;
  schema.erase("nullable");
  if (schema.contains("properties")) {
    for (auto& [name, sub] : schema["properties"].items()) {
      if (top && name == "metadata") {
        sub = {{"$ref", std::string("#/definitions/") + kObjectMeta}};
        continue;
      }
      sub = ToV2(sub, false);
    }
  }
  if (schema.contains("items")) schema["items"] = ToV2(schema["items"], false);
  if (schema.contains("additionalProperties") && schema["additionalProperties"].is_object()) {
    schema["additionalProperties"] = ToV2(schema["additionalProperties"], false);
  }
  return schema;
}

// The object paths, with what kubectl looks for in them: each operation's
// x-kubernetes-group-version-kind, and a dryRun parameter on PATCH (kubectl
// diff and --dry-run=server need it).
json Paths() {
  json paths = json::object();
  for (const auto& k : model::AllKinds()) {
    json gvk = {{"group", model::kGroup}, {"kind", k.name}, {"version", model::kVersion}};
    auto operation = [&](const char* action) {
      return json{{"operationId", std::string(action) + std::string(k.name)},
                  {"parameters", {{{"name", "dryRun"}, {"in", "query"}, {"type", "string"}, {"uniqueItems", true}}}},
                  {"responses", {{"200", {{"description", "OK"}}}}},
                  {"x-kubernetes-action", action},
                  {"x-kubernetes-group-version-kind", gvk}};
    };
    const std::string path =
        "/apis/" + std::string(model::kApiVersion) + "/namespaces/{namespace}/" + std::string(k.plural) + "/{name}";
    paths[path] = {{"get", operation("get")}, {"put", operation("put")}, {"patch", operation("patch")},
                   {"delete", operation("delete")}};
  }
  return paths;
}

json CrdSchema(const manifest::EmbeddedFile& f, std::string* kind) {
  auto docs = manifest::ParseYaml(f.content, std::string(f.name));
  if (!docs || docs->empty()) return nullptr;
  const json& crd = docs->front().value;
  *kind = crd["spec"]["names"].value("kind", "");
  for (const auto& v : crd["spec"]["versions"]) {
    if (v.value("name", "") == model::kVersion) return v["schema"]["openAPIV3Schema"];
  }
  return nullptr;
}

json BuildV2() {
  json definitions = {{kObjectMeta, ObjectMeta()}, {kListMeta, ListMeta()}};
  for (const auto& f : manifest::EmbeddedCrds()) {
    std::string kind;
    json schema = CrdSchema(f, &kind);
    if (schema.is_null()) continue;
    json def = ToV2(schema, true);
    def["x-kubernetes-group-version-kind"] = Gvk(kind);
    definitions[DefinitionName(kind)] = def;
    definitions[DefinitionName(kind + "List")] = {
        {"description", "A list of " + kind + " objects."},
        {"type", "object"},
        {"required", {"items"}},
        {"properties",
         {{"apiVersion", {{"type", "string"}}},
          {"kind", {{"type", "string"}}},
          {"metadata", {{"$ref", std::string("#/definitions/") + kListMeta}}},
          {"items", {{"type", "array"}, {"items", {{"$ref", "#/definitions/" + DefinitionName(kind)}}}}}}},
        {"x-kubernetes-group-version-kind", Gvk(kind + "List")}};
  }
  return {{"swagger", "2.0"},
          {"info", {{"title", "keelson"}, {"version", "v1alpha1"}}},
          {"paths", Paths()},
          {"definitions", std::move(definitions)}};
}

// Protocol buffers' wire format, as much of it as openapi.v2.Document needs.
class Proto {
 public:
  void String(int field, std::string_view s) {
    Key(field, 2);
    Varint(s.size());
    out_.append(s);
  }
  void Message(int field, const std::string& bytes) { String(field, bytes); }
  void Bool(int field, bool b) {
    Key(field, 0);
    Varint(b ? 1 : 0);
  }
  void Int(int field, int64_t v) {
    Key(field, 0);
    Varint(static_cast<uint64_t>(v));
  }
  void Double(int field, double d) {
    Key(field, 1);
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
  }
  std::string Take() { return std::move(out_); }

 private:
  void Key(int field, int wire) { Varint((static_cast<uint64_t>(field) << 3) | static_cast<uint64_t>(wire)); }
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  std::string out_;
};

// openapi.v2.Any: a value as YAML text (JSON is YAML).
std::string AnyOf(const json& value) {
  Proto p;
  p.String(2, value.dump());
  return p.Take();
}

std::string VendorExtensions(int field, const json& object) {
  Proto p;
  for (const auto& [key, value] : object.items()) {
    if (key.rfind("x-", 0) != 0) continue;
    Proto named;
    named.String(1, key);
    named.Message(2, AnyOf(value));
    p.Message(field, named.Take());
  }
  return p.Take();
}

std::string NamedSchemas(const json& map) {
  Proto p;
  for (const auto& [name, sub] : map.items()) {
    Proto named;
    named.String(1, name);
    named.Message(2, EncodeSchema(sub));
    p.Message(1, named.Take());
  }
  return p.Take();
}

}  // namespace

// Field numbers are those of gnostic's openapi.v2.Schema.
std::string EncodeSchema(const json& s) {
  Proto p;
  if (!s.is_object()) return p.Take();
  auto text = [&](const char* key, int field) {
    if (s.contains(key) && s[key].is_string()) p.String(field, s[key].get<std::string>());
  };
  auto number = [&](const char* key, int field) {
    if (s.contains(key) && s[key].is_number()) p.Double(field, s[key].get<double>());
  };
  auto integer = [&](const char* key, int field) {
    if (s.contains(key) && s[key].is_number_integer()) p.Int(field, s[key].get<int64_t>());
  };
  auto boolean = [&](const char* key, int field) {
    if (s.contains(key) && s[key].is_boolean()) p.Bool(field, s[key].get<bool>());
  };
  text("$ref", 1);
  text("format", 2);
  text("title", 3);
  text("description", 4);
  if (s.contains("default")) p.Message(5, AnyOf(s["default"]));
  number("multipleOf", 6);
  number("maximum", 7);
  boolean("exclusiveMaximum", 8);
  number("minimum", 9);
  boolean("exclusiveMinimum", 10);
  integer("maxLength", 11);
  integer("minLength", 12);
  text("pattern", 13);
  integer("maxItems", 14);
  integer("minItems", 15);
  boolean("uniqueItems", 16);
  integer("maxProperties", 17);
  integer("minProperties", 18);
  if (s.contains("required") && s["required"].is_array()) {
    for (const auto& r : s["required"]) p.String(19, r.get<std::string>());
  }
  if (s.contains("enum") && s["enum"].is_array()) {
    for (const auto& e : s["enum"]) p.Message(20, AnyOf(e));
  }
  if (s.contains("additionalProperties")) {
    Proto item;
    const json& ap = s["additionalProperties"];
    if (ap.is_boolean()) {
      item.Bool(2, ap.get<bool>());
    } else {
      item.Message(1, EncodeSchema(ap));
    }
    p.Message(21, item.Take());
  }
  if (s.contains("type")) {
    Proto type;
    if (s["type"].is_string()) type.String(1, s["type"].get<std::string>());
    if (s["type"].is_array()) {
      for (const auto& t : s["type"]) type.String(1, t.get<std::string>());
    }
    p.Message(22, type.Take());
  }
  if (s.contains("items")) {
    Proto items;
    items.Message(1, EncodeSchema(s["items"]));
    p.Message(23, items.Take());
  }
  if (s.contains("properties") && s["properties"].is_object()) p.Message(25, NamedSchemas(s["properties"]));
  boolean("readOnly", 27);
  return p.Take() + VendorExtensions(31, s);
}

namespace {

// openapi.v2.Operation: its query parameters, responses and extensions.
std::string EncodeOperation(const json& op) {
  Proto p;
  if (op.contains("operationId")) p.String(5, op["operationId"].get<std::string>());
  for (const auto& param : op.value("parameters", json::array())) {
    Proto query;  // QueryParameterSubSchema
    query.String(2, param.value("in", "query"));
    query.String(4, param.value("name", ""));
    query.String(6, param.value("type", "string"));
    if (param.value("uniqueItems", false)) query.Bool(20, true);
    Proto non_body;
    non_body.Message(3, query.Take());
    Proto parameter;
    parameter.Message(2, non_body.Take());
    Proto item;
    item.Message(1, parameter.Take());
    p.Message(8, item.Take());
  }
  Proto responses;
  const json codes = op.value("responses", json::object());
  for (const auto& [code, response] : codes.items()) {
    Proto r;
    r.String(1, response.value("description", ""));
    Proto value;
    value.Message(1, r.Take());
    Proto named;
    named.String(1, code);
    named.Message(2, value.Take());
    responses.Message(1, named.Take());
  }
  p.Message(9, responses.Take());
  std::string out = p.Take();
  return out + VendorExtensions(13, op);
}

std::string EncodePaths(const json& paths) {
  static const std::pair<const char*, int> kMethods[] = {{"get", 2}, {"put", 3}, {"post", 4}, {"delete", 5}, {"patch", 8}};
  Proto p;
  for (const auto& [path, item] : paths.items()) {
    Proto path_item;
    for (const auto& [method, field] : kMethods) {
      if (item.contains(method)) path_item.Message(field, EncodeOperation(item[method]));
    }
    Proto named;
    named.String(1, path);
    named.Message(2, path_item.Take());
    p.Message(2, named.Take());
  }
  return p.Take();
}

}  // namespace

const json& OpenApiV2() {
  static const json doc = BuildV2();
  return doc;
}

const std::string& OpenApiV2Protobuf() {
  static const std::string bytes = [] {
    const json& doc = OpenApiV2();
    Proto info;
    info.String(1, doc["info"]["title"].get<std::string>());
    info.String(2, doc["info"]["version"].get<std::string>());
    Proto p;
    p.String(1, "2.0");
    p.Message(2, info.Take());
    p.Message(8, EncodePaths(doc["paths"]));
    p.Message(9, NamedSchemas(doc["definitions"]));
    return p.Take();
  }();
  return bytes;
}

namespace {

// A v2 schema as OpenAPI 3.0 has it: references under components.
json ToV3(json s) {
  if (s.is_object()) {
    if (s.contains("$ref") && s["$ref"].is_string()) {
      std::string ref = s["$ref"].get<std::string>();
      const std::string from = "#/definitions/";
      if (ref.rfind(from, 0) == 0) s["$ref"] = "#/components/schemas/" + ref.substr(from.size());
    }
    for (auto& [k, v] : s.items()) {
      if (k != "enum" && k != "default") v = ToV3(v);
    }
  } else if (s.is_array()) {
    for (auto& v : s) v = ToV3(v);
  }
  return s;
}

}  // namespace

const json& OpenApiV3() {
  static const json doc = [] {
    json schemas = json::object();
    for (const auto& [name, def] : OpenApiV2()["definitions"].items()) schemas[name] = ToV3(def);
    return json{{"openapi", "3.0.0"},
                {"info", {{"title", "keelson"}, {"version", "v1alpha1"}}},
                {"paths", json::object()},
                {"components", {{"schemas", std::move(schemas)}}}};
  }();
  return doc;
}

}  // namespace keelson::api
