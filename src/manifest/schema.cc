#include "manifest/schema.h"

#include <algorithm>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include "util/clock.h"
#include "util/names.h"
#include "util/units.h"

namespace keelson::manifest {

using nlohmann::json;

struct Schema::Node {
  std::vector<std::string> types;  // empty: any
  bool nullable = false;
  bool int_or_string = false;
  bool number_or_string = false;
  bool preserve_unknown = false;
  std::map<std::string, Node> properties;
  bool has_properties = false;
  std::vector<std::string> required;
  enum class Additional { kUnset, kAllow, kDeny, kSchema } additional = Additional::kUnset;
  std::unique_ptr<Node> additional_schema;
  std::unique_ptr<Node> items;
  std::optional<json> enum_values;
  std::optional<std::regex> pattern;
  std::string pattern_source;
  std::optional<double> minimum, maximum;
  bool exclusive_minimum = false, exclusive_maximum = false;
  std::optional<size_t> min_length, max_length, min_items, max_items, min_props, max_props;
  std::string format;
  std::optional<json> default_value;
  std::string list_type;
  std::vector<std::string> list_map_keys;
};

namespace {

using Node = Schema::Node;

const std::set<std::string, std::less<>> kKnownFormats = {
    "dns1123-label", "dns1123-subdomain", "duration", "quantity", "cpus", "label-key",
    "label-value", "image-ref", "date-time"};

const std::set<std::string, std::less<>> kDocKeywords = {"description", "title", "example",
                                                         "$schema", "id"};

class Compiler {
 public:
  explicit Compiler(Schema::Options options) : options_(options) {}

  Result<Node> Compile(const json& s, const std::string& where) {
    if (!s.is_object()) return Fail(where, "a schema must be an object");
    Node n;
    for (auto it = s.begin(); it != s.end(); ++it) {
      auto r = Keyword(n, it.key(), it.value(), where);
      if (!r) return Unexpected(r.error());
    }
    if (n.additional == Node::Additional::kUnset) {
      bool is_object = n.has_properties ||
                       std::find(n.types.begin(), n.types.end(), "object") != n.types.end();
      n.additional = options_.deny_unknown_fields && is_object && !n.preserve_unknown
                         ? Node::Additional::kDeny
                         : Node::Additional::kAllow;
    }
    return n;
  }

 private:
  static Unexpected Fail(const std::string& where, const std::string& msg) {
    return Unexpected(ErrorCode::kInvalid, "schema " + (where.empty() ? "<root>" : where) + ": " + msg);
  }

  static std::optional<size_t> Count(const json& v) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0) return std::nullopt;
    return v.get<size_t>();
  }

  Result<void> Keyword(Node& n, const std::string& key, const json& v, const std::string& where) {
    const std::string at = where + "." + key;
    if (kDocKeywords.count(key)) return {};
    if (key == "type") return Types(n, v, at);
    if (key == "properties") {
      if (!v.is_object()) return Fail(at, "must be an object");
      n.has_properties = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        auto child = Compile(it.value(), at + "." + it.key());
        if (!child) return Unexpected(child.error());
        n.properties.emplace(it.key(), std::move(*child));
      }
      return {};
    }
    if (key == "required") {
      if (!v.is_array()) return Fail(at, "must be a list of names");
      for (const auto& r : v) {
        if (!r.is_string()) return Fail(at, "must be a list of names");
        n.required.push_back(r.get<std::string>());
      }
      return {};
    }
    if (key == "additionalProperties") {
      if (v.is_boolean()) {
        n.additional = v.get<bool>() ? Node::Additional::kAllow : Node::Additional::kDeny;
        return {};
      }
      auto child = Compile(v, at);
      if (!child) return Unexpected(child.error());
      n.additional = Node::Additional::kSchema;
      n.additional_schema = std::make_unique<Node>(std::move(*child));
      return {};
    }
    if (key == "items") {
      auto child = Compile(v, at);
      if (!child) return Unexpected(child.error());
      n.items = std::make_unique<Node>(std::move(*child));
      return {};
    }
    if (key == "enum") {
      if (!v.is_array() || v.empty()) return Fail(at, "must be a non-empty list");
      n.enum_values = v;
      return {};
    }
    if (key == "pattern") {
      if (!v.is_string()) return Fail(at, "must be a string");
      try {
        n.pattern.emplace(v.get<std::string>(), std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error& e) {
        return Fail(at, std::string("bad regular expression: ") + e.what());
      }
      n.pattern_source = v.get<std::string>();
      return {};
    }
    if (key == "minimum" || key == "maximum") {
      if (!v.is_number()) return Fail(at, "must be a number");
      (key == "minimum" ? n.minimum : n.maximum) = v.get<double>();
      return {};
    }
    if (key == "exclusiveMinimum" || key == "exclusiveMaximum") {
      if (!v.is_boolean()) return Fail(at, "must be a boolean (OpenAPI v3.0)");
      (key == "exclusiveMinimum" ? n.exclusive_minimum : n.exclusive_maximum) = v.get<bool>();
      return {};
    }
    static const std::map<std::string, std::optional<size_t> Node::*> kCounts = {
        {"minLength", &Node::min_length},   {"maxLength", &Node::max_length},
        {"minItems", &Node::min_items},     {"maxItems", &Node::max_items},
        {"minProperties", &Node::min_props}, {"maxProperties", &Node::max_props}};
    if (auto c = kCounts.find(key); c != kCounts.end()) {
      auto count = Count(v);
      if (!count) return Fail(at, "must be a non-negative integer");
      n.*(c->second) = count;
      return {};
    }
    if (key == "nullable" || key == "x-kubernetes-int-or-string" ||
        key == "x-kubernetes-preserve-unknown-fields" || key == "x-keelson-number-or-string") {
      if (!v.is_boolean()) return Fail(at, "must be a boolean");
      bool b = v.get<bool>();
      if (key == "nullable") n.nullable = b;
      if (key == "x-kubernetes-int-or-string") n.int_or_string = b;
      if (key == "x-kubernetes-preserve-unknown-fields") n.preserve_unknown = b;
      if (key == "x-keelson-number-or-string") n.number_or_string = b;
      return {};
    }
    if (key == "format") {
      if (!v.is_string() || !kKnownFormats.count(v.get<std::string>())) {
        return Fail(at, "unknown format " + v.dump());
      }
      n.format = v.get<std::string>();
      return {};
    }
    if (key == "default") {
      n.default_value = v;
      return {};
    }
    if (key == "x-kubernetes-list-type") {
      if (!v.is_string() || (v != "atomic" && v != "set" && v != "map")) {
        return Fail(at, "must be atomic, set or map");
      }
      n.list_type = v.get<std::string>();
      return {};
    }
    if (key == "x-kubernetes-list-map-keys") {
      if (!v.is_array()) return Fail(at, "must be a list of names");
      for (const auto& k : v) n.list_map_keys.push_back(k.get<std::string>());
      return {};
    }
    return Fail(at, "unsupported keyword");
  }

  Result<void> Types(Node& n, const json& v, const std::string& at) {
    static const std::set<std::string, std::less<>> kTypes = {
        "object", "array", "string", "integer", "number", "boolean", "null"};
    std::vector<json> list = v.is_array() ? v.get<std::vector<json>>() : std::vector<json>{v};
    for (const auto& t : list) {
      if (!t.is_string() || !kTypes.count(t.get<std::string>())) {
        return Fail(at, "unknown type " + t.dump());
      }
      n.types.push_back(t.get<std::string>());
    }
    return {};
  }

  Schema::Options options_;
};

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string TypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean";
    case json::value_t::string: return "string";
    case json::value_t::array: return "array";
    case json::value_t::object: return "object";
    case json::value_t::number_float: return "number";
    default: return "integer";
  }
}

bool IsInteger(const json& v) {
  if (v.is_number_integer()) return true;
  if (!v.is_number_float()) return false;
  double d = v.get<double>();
  return d == static_cast<double>(static_cast<int64_t>(d));
}

bool MatchesType(const std::string& type, const json& v) {
  if (type == "integer") return IsInteger(v);
  if (type == "number") return v.is_number();
  return type == TypeName(v);
}

std::string Shown(const json& v) {
  if (v.is_string()) return Quote(v.get<std::string>());
  std::string s = v.dump();
  return s.size() > 40 ? s.substr(0, 40) + "..." : s;
}

// Regex matching on libstdc++ recurses per character: cap what it may see.
constexpr size_t kMaxPatternInput = 4096;

std::string CheckFormat(const std::string& format, const json& v) {
  if (format == "cpus") {
    if (v.is_number()) return v.get<double>() > 0 ? "" : "must be a positive number of CPUs";
    return ParseCpus(v.get<std::string>()) ? ""
                                            : "must be a positive number of CPUs such as \"1.5\" or \"500m\"";
  }
  if (format == "quantity" && v.is_number()) {
    return IsInteger(v) && v.get<double>() > 0 ? "" : "must be a positive number of bytes";
  }
  if (!v.is_string()) return "";
  const std::string& s = v.get_ref<const std::string&>();
  if (format == "dns1123-label") return CheckDns1123Label(s);
  if (format == "dns1123-subdomain") return CheckDns1123Subdomain(s);
  if (format == "label-key") return CheckQualifiedName(s);
  if (format == "label-value") return CheckLabelValue(s);
  if (format == "image-ref") return CheckImageRef(s);
  if (format == "duration") {
    auto d = ParseDuration(s);
    if (d && d->count() < 0) return Quote(s) + " is negative; a duration here must not be";
    return d ? "" : Quote(s) + " is not a duration such as \"500ms\", \"10s\" or \"1h30m\"";
  }
  if (format == "date-time") {
    return ParseRfc3339Seconds(s) ? "" : Quote(s) + " is not an RFC 3339 time such as \"2026-11-24T15:00:00Z\"";
  }
  if (format == "quantity") {
    return ParseMemoryQuantity(s) ? "" : Quote(s) + " is not a quantity such as \"512Mi\", \"2Gi\" or \"1G\"";
  }
  return "";
}

class Validator {
 public:
  Validator(std::vector<SchemaError>* errors, size_t max) : errors_(errors), max_(max) {}

  void Check(const Node& n, const json& v, Path& path) {
    if (errors_->size() >= max_) return;
    if (v.is_null() && n.nullable) return;
    if (!CheckType(n, v, path)) return;
    if (n.enum_values && std::find(n.enum_values->begin(), n.enum_values->end(), v) == n.enum_values->end()) {
      std::string allowed;
      for (const auto& e : *n.enum_values) allowed += (allowed.empty() ? "" : ", ") + (e.is_string() ? e.get<std::string>() : e.dump());
      Add(path, "must be one of: " + allowed + "; got " + Shown(v));
      return;
    }
    if (v.is_string()) String(n, v.get_ref<const std::string&>(), path);
    if (v.is_number()) Number(n, v, path);
    if (!n.format.empty() && (v.is_string() || v.is_number())) {
      std::string err = CheckFormat(n.format, v);
      if (!err.empty()) Add(path, err);
    }
    if (v.is_array()) Array(n, v, path);
    if (v.is_object()) Object(n, v, path);
  }

 private:
  void Add(const Path& path, std::string msg, bool at_key = false) {
    if (errors_->size() < max_) errors_->push_back(SchemaError{path, std::move(msg), at_key});
  }

  bool CheckType(const Node& n, const json& v, const Path& path) {
    if (n.int_or_string) {
      if (IsInteger(v) || v.is_string()) return true;
      Add(path, "must be an integer or a string, got " + TypeName(v));
      return false;
    }
    if (n.number_or_string) {
      if (v.is_number() || v.is_string()) return true;
      Add(path, "must be a number or a string, got " + TypeName(v));
      return false;
    }
    if (n.types.empty()) return true;
    for (const auto& t : n.types) {
      if (MatchesType(t, v)) return true;
    }
    std::string want;
    for (const auto& t : n.types) want += (want.empty() ? "" : " or ") + t;
    Add(path, "must be of type " + want + ", got " + TypeName(v) +
                  (v.is_string() || v.is_number() ? " " + Shown(v) : ""));
    return false;
  }

  void String(const Node& n, const std::string& s, const Path& path) {
    size_t len = (n.min_length || n.max_length) ? CodePoints(s) : 0;
    if (n.min_length && len < *n.min_length) {
      Add(path, "must be at least " + std::to_string(*n.min_length) + " characters");
    }
    if (n.max_length && len > *n.max_length) {
      Add(path, "must be at most " + std::to_string(*n.max_length) + " characters");
      return;  // do not run a pattern over an over-long string
    }
    if (n.pattern) {
      if (s.size() > kMaxPatternInput) {
        Add(path, "is too long to check (" + std::to_string(s.size()) + " bytes)");
      } else if (!std::regex_search(s, *n.pattern)) {
        Add(path, Quote(s) + " must match " + n.pattern_source);
      }
    }
  }

  void Number(const Node& n, const json& v, const Path& path) {
    double d = v.get<double>();
    auto num = [](double x) {
      json j = x == static_cast<double>(static_cast<int64_t>(x)) ? json(static_cast<int64_t>(x)) : json(x);
      return j.dump();
    };
    if (n.minimum && (n.exclusive_minimum ? d <= *n.minimum : d < *n.minimum)) {
      Add(path, std::string("must be ") + (n.exclusive_minimum ? "> " : ">= ") + num(*n.minimum));
    }
    if (n.maximum && (n.exclusive_maximum ? d >= *n.maximum : d > *n.maximum)) {
      Add(path, std::string("must be ") + (n.exclusive_maximum ? "< " : "<= ") + num(*n.maximum));
    }
  }

  void Array(const Node& n, const json& v, Path& path) {
    if (n.min_items && v.size() < *n.min_items) Add(path, "must have at least " + std::to_string(*n.min_items) + " items");
    if (n.max_items && v.size() > *n.max_items) {
      Add(path, "must have at most " + std::to_string(*n.max_items) + " items");
      return;
    }
    if (n.items) {
      for (size_t i = 0; i < v.size(); ++i) {
        path.push_back(PathSeg{"", static_cast<int64_t>(i)});
        Check(*n.items, v[i], path);
        path.pop_back();
      }
    }
    if (n.list_type == "set" || n.list_type == "map") Unique(n, v, path);
  }

  void Unique(const Node& n, const json& v, Path& path) {
    std::map<json, size_t> seen;
    for (size_t i = 0; i < v.size(); ++i) {
      json key = v[i];
      if (n.list_type == "map" && v[i].is_object()) {
        key = json::object();
        for (const auto& k : n.list_map_keys) key[k] = v[i].value(k, json());
      }
      auto [it, inserted] = seen.emplace(key, i);
      if (!inserted) {
        path.push_back(PathSeg{"", static_cast<int64_t>(i)});
        Add(path, "duplicate entry " + Shown(key) + " (first at index " + std::to_string(it->second) + ")");
        path.pop_back();
      }
    }
  }

  void Object(const Node& n, const json& v, Path& path) {
    for (const auto& r : n.required) {
      if (!v.contains(r)) Add(path, "missing required field \"" + r + "\"");
    }
    if (n.min_props && v.size() < *n.min_props) Add(path, "must have at least " + std::to_string(*n.min_props) + " fields");
    if (n.max_props && v.size() > *n.max_props) Add(path, "must have at most " + std::to_string(*n.max_props) + " fields");
    for (auto it = v.begin(); it != v.end(); ++it) {
      path.push_back(PathSeg{it.key(), -1});
      auto prop = n.properties.find(it.key());
      if (prop != n.properties.end()) {
        Check(prop->second, it.value(), path);
      } else if (n.additional == Node::Additional::kSchema) {
        Check(*n.additional_schema, it.value(), path);
      } else if (n.additional == Node::Additional::kDeny) {
        Add(path, "unknown field" + Suggest(n, it.key()), true);
      }
      path.pop_back();
    }
  }

  static size_t Distance(const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) != std::tolower(b[j - 1]));
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      }
      std::swap(prev, cur);
    }
    return prev[b.size()];
  }

  static std::string Suggest(const Node& n, const std::string& key) {
    if (key.size() > 64) return "";
    std::string best;
    size_t best_d = 3;
    for (const auto& [name, _] : n.properties) {
      size_t d = Distance(key, name);
      if (d < best_d) {
        best_d = d;
        best = name;
      }
    }
    return best.empty() ? "" : " (did you mean \"" + best + "\"?)";
  }

  std::vector<SchemaError>* errors_;
  size_t max_;
};

void Defaults(const Node& n, json& v) {
  if (v.is_object()) {
    for (const auto& [name, child] : n.properties) {
      if (!v.contains(name) && child.default_value) v[name] = *child.default_value;
      auto it = v.find(name);
      if (it != v.end()) Defaults(child, *it);
    }
    if (n.additional_schema) {
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!n.properties.count(it.key())) Defaults(*n.additional_schema, it.value());
      }
    }
  } else if (v.is_array() && n.items) {
    for (auto& item : v) Defaults(*n.items, item);
  }
}

}  // namespace

Result<Schema> Schema::Compile(const json& schema, Options options) {
  Compiler c(options);
  auto root = c.Compile(schema, "");
  if (!root) return Unexpected(root.error());
  return Schema(std::make_shared<const Node>(std::move(*root)));
}

std::vector<SchemaError> Schema::Validate(const json& value, size_t max_errors) const {
  std::vector<SchemaError> errors;
  Validator v(&errors, max_errors);
  Path path;
  v.Check(*root_, value, path);
  return errors;
}

void Schema::ApplyDefaults(json& value) const { Defaults(*root_, value); }

}  // namespace keelson::manifest
