#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

#include "manifest/schema.h"

using namespace keelson::manifest;
using nlohmann::json;

namespace {

Schema Compile(const json& s) {
  auto r = Schema::Compile(s);
  REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  return *r;
}

std::string Errors(const Schema& s, const json& v) {
  std::string out;
  for (const auto& e : s.Validate(v)) out += PathString(e.path) + ": " + e.message + "\n";
  return out;
}

}  // namespace

TEST_CASE("Schema: unknown fields are errors unless allowed, with a suggestion") {
  Schema s = Compile({{"type", "object"}, {"properties", {{"replicas", {{"type", "integer"}}}}}});
  auto errs = s.Validate({{"replicaz", 1}});
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].at_key);
  CHECK(errs[0].message == "unknown field (did you mean \"replicas\"?)");
  Schema open = Compile({{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}});
  CHECK(open.Validate({{"anything", 1}}).empty());
}

TEST_CASE("Schema: types, nullable, int-or-string, number-or-string") {
  Schema s = Compile({{"type", "object"},
                      {"properties",
                       {{"i", {{"type", "integer"}}},
                        {"n", {{"type", "string"}, {"nullable", true}}},
                        {"ios", {{"x-kubernetes-int-or-string", true}}},
                        {"nos", {{"x-keelson-number-or-string", true}}}}}});
  CHECK(Errors(s, {{"i", 1}, {"n", nullptr}, {"ios", "25%"}, {"nos", 0.5}}) == "");
  CHECK(Errors(s, {{"i", "1"}}) == "i: must be of type integer, got string \"1\"\n");
  CHECK(Errors(s, {{"ios", 1.5}}) == "ios: must be an integer or a string, got number\n");
  CHECK(Errors(s, {{"nos", true}}) == "nos: must be a number or a string, got boolean\n");
}

TEST_CASE("Schema: bounds, lengths in code points, enums, patterns") {
  Schema s = Compile({{"type", "object"},
                      {"properties",
                       {{"r", {{"type", "integer"}, {"minimum", 0}, {"maximum", 10}}},
                        {"s", {{"type", "string"}, {"maxLength", 3}, {"pattern", "^[a-z]+$"}}},
                        {"e", {{"type", "string"}, {"enum", {"A", "B"}}}},
                        {"l", {{"type", "array"}, {"maxItems", 1}, {"items", {{"type", "string"}}}}}}}});
  CHECK(Errors(s, {{"r", -1}}) == "r: must be >= 0\n");
  CHECK(Errors(s, {{"r", 11}}) == "r: must be <= 10\n");
  CHECK(Errors(s, {{"s", "\xC3\xA9\xC3\xA9\xC3\xA9"}}).find("must match") != std::string::npos);
  CHECK(Errors(s, {{"s", "abcd"}}) == "s: must be at most 3 characters\n");
  CHECK(Errors(s, {{"e", "C"}}) == "e: must be one of: A, B; got \"C\"\n");
  CHECK(Errors(s, {{"l", {"a", "b"}}}) == "l: must have at most 1 items\n");
  CHECK(Errors(s, {{"l", {1}}}) == "l[0]: must be of type string, got integer 1\n");
}

TEST_CASE("Schema: x-kubernetes-list-type map and set refuse duplicates") {
  Schema s = Compile({{"type", "object"},
                      {"properties",
                       {{"env", {{"type", "array"}, {"x-kubernetes-list-type", "map"},
                                 {"x-kubernetes-list-map-keys", {"name"}},
                                 {"items", {{"type", "object"}, {"properties", {{"name", {{"type", "string"}}}, {"value", {{"type", "string"}}}}}}}}},
                        {"tags", {{"type", "array"}, {"x-kubernetes-list-type", "set"}, {"items", {{"type", "string"}}}}}}}});
  CHECK(Errors(s, {{"env", {{{"name", "A"}, {"value", "1"}}, {{"name", "A"}, {"value", "2"}}}}}) ==
        "env[1]: duplicate entry {\"name\":\"A\"} (first at index 0)\n");
  CHECK(Errors(s, {{"tags", {"a", "b", "a"}}}).find("tags[2]: duplicate") == 0);
}

TEST_CASE("Schema: formats are checked by hand-written parsers") {
  Schema s = Compile({{"type", "object"},
                      {"properties",
                       {{"d", {{"type", "string"}, {"format", "duration"}}},
                        {"q", {{"x-kubernetes-int-or-string", true}, {"format", "quantity"}}},
                        {"c", {{"x-keelson-number-or-string", true}, {"format", "cpus"}}},
                        {"name", {{"type", "string"}, {"format", "dns1123-label"}}},
                        {"img", {{"type", "string"}, {"format", "image-ref"}}}}}});
  CHECK(Errors(s, {{"d", "1h30m"}, {"q", "512Mi"}, {"c", "1.5"}, {"name", "web"}, {"img", "a/b:1"}}) == "");
  CHECK(Errors(s, {{"q", 1048576}}) == "");
  CHECK_FALSE(Errors(s, {{"d", "ten"}}).empty());
  CHECK_FALSE(Errors(s, {{"q", "1Zi"}}).empty());
  CHECK_FALSE(Errors(s, {{"c", 0}}).empty());
  CHECK_FALSE(Errors(s, {{"name", std::string(100000, 'a')}}).empty());
  CHECK_FALSE(Errors(s, {{"img", "UPPER/case"}}).empty());
}

TEST_CASE("Schema: a huge string never reaches the regex engine") {
  Schema s = Compile({{"type", "string"}, {"pattern", "^(a|b)*$"}});
  CHECK_FALSE(s.Validate(std::string(1 << 20, 'a')).empty());
}

TEST_CASE("Schema: unsupported keywords and bad values are refused at compile") {
  CHECK_FALSE(Schema::Compile({{"patternProperties", json::object()}}));
  CHECK_FALSE(Schema::Compile({{"type", "objekt"}}));
  CHECK_FALSE(Schema::Compile({{"format", "email"}}));
  CHECK_FALSE(Schema::Compile({{"pattern", "("}}));
}

TEST_CASE("Schema: defaults fill absent fields at every depth, idempotently") {
  Schema s = Compile({{"type", "object"},
                      {"properties",
                       {{"strategy", {{"type", "object"}, {"default", {{"type", "RollingUpdate"}}},
                                      {"properties", {{"type", {{"type", "string"}}},
                                                      {"maxSurge", {{"type", "integer"}, {"default", 1}}}}}}},
                        {"ports", {{"type", "array"},
                                   {"items", {{"type", "object"}, {"properties", {{"protocol", {{"type", "string"}, {"default", "tcp"}}}}}}}}}}}});
  json v = {{"ports", {json::object(), {{"protocol", "udp"}}}}};
  s.ApplyDefaults(v);
  CHECK(v == json{{"strategy", {{"type", "RollingUpdate"}, {"maxSurge", 1}}},
                  {"ports", {{{"protocol", "tcp"}}, {{"protocol", "udp"}}}}});
  json again = v;
  s.ApplyDefaults(again);
  CHECK(again == v);
}

// The JSON Schema Test Suite (Debian's json-schema-test-suite), draft 4, for
// the keywords this validator supports. Groups whose schema uses a keyword we
// refuse at Compile are counted as skipped; everything else must agree.
TEST_CASE("Schema: agrees with the JSON Schema Test Suite (draft 4)") {
  const char* env = std::getenv("JSON_SCHEMA_TEST_SUITE");
  std::filesystem::path dir = env ? env : "/usr/share/json-schema-test-suite/tests/draft4";
  REQUIRE_MESSAGE(std::filesystem::is_directory(dir), "json-schema-test-suite missing: run scripts/deps.sh");
  int run = 0, skipped_groups = 0;
  for (const char* file : {"type", "properties", "required", "additionalProperties", "items", "enum",
                           "pattern", "minimum", "maximum", "minLength", "maxLength", "minItems",
                           "maxItems", "minProperties", "maxProperties", "default"}) {
    std::ifstream in(dir / (std::string(file) + ".json"));
    REQUIRE(in);
    for (const auto& group : json::parse(in)) {
      auto schema = Schema::Compile(group["schema"], Schema::Options{false});
      if (!schema) {
        ++skipped_groups;
        continue;
      }
      for (const auto& t : group["tests"]) {
        CAPTURE(file);
        CAPTURE(group["description"].get<std::string>());
        CAPTURE(t["description"].get<std::string>());
        CHECK(schema->Validate(t["data"]).empty() == t["valid"].get<bool>());
        ++run;
      }
    }
  }
  MESSAGE("JSON Schema Test Suite: " << run << " cases run, " << skipped_groups << " groups skipped");
  CHECK(run >= 120);
}
