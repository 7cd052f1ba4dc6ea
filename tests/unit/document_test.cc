#include <doctest/doctest.h>

#include "manifest/document.h"

using namespace keelson::manifest;

TEST_CASE("ParseYaml: values keep the line and column of every node") {
  auto docs = ParseYaml("a: 1\nb:\n  c: [x, 'y']\n  d:\n    - e: true\n", "f.yaml");
  REQUIRE(docs);
  REQUIRE(docs->size() == 1);
  const auto& d = docs->front();
  CHECK(d.value["a"] == 1);
  CHECK(d.value["b"]["c"][1] == "y");
  CHECK(d.value["b"]["d"][0]["e"] == true);
  Mark m = d.Locate({{"b", -1}, {"c", -1}, {"", 1}}, false);
  CHECK(m.line == 3);
  CHECK(m.column == 10);
  Mark k = d.Locate({{"b", -1}, {"d", -1}}, true);
  CHECK(k.line == 4);
  CHECK(k.column == 3);
  // A path that does not exist falls back to its nearest ancestor.
  Mark up = d.Locate({{"b", -1}, {"zz", -1}}, false);
  CHECK(up.line == 3);
}

TEST_CASE("ParseYaml: YAML 1.2 core scalars") {
  auto docs = ParseYaml("a: no\nb: 'true'\nc: 0x10\nd: 1.5\ne: ~\nf: \"12\"\ng: on\nh: 1e3\n", "f");
  REQUIRE(docs);
  const auto& v = docs->front().value;
  CHECK(v["a"] == "no");
  CHECK(v["b"] == "true");
  CHECK(v["c"] == 16);
  CHECK(v["d"] == 1.5);
  CHECK(v["e"].is_null());
  CHECK(v["f"] == "12");
  CHECK(v["g"] == "on");
  CHECK(v["h"] == 1000.0);
}

TEST_CASE("ParseYaml: multiple documents, empty ones skipped") {
  auto docs = ParseYaml("---\na: 1\n---\n# only a comment\n---\nb: 2\n...\n", "f");
  REQUIRE(docs);
  REQUIRE(docs->size() == 2);
  CHECK(docs->at(1).value["b"] == 2);
  CHECK(docs->at(1).start.line == 6);
}

TEST_CASE("ParseYaml: errors are one line naming file, line and column") {
  auto dup = ParseYaml("a: 1\nb: 2\na: 3\n", "dup.yaml");
  REQUIRE_FALSE(dup);
  CHECK(dup.error().message == "dup.yaml:3:1: a: duplicate key (first at line 1)");
  auto syntax = ParseYaml("a: [1, 2\n", "s.yaml");
  REQUIRE_FALSE(syntax);
  CHECK(syntax.error().message.rfind("s.yaml:", 0) == 0);
  auto tag = ParseYaml("a: !!binary aGVsbG8=\n", "t.yaml");
  REQUIRE_FALSE(tag);
  CHECK(tag.error().message.find("unsupported YAML tag") != std::string::npos);
  auto complex = ParseYaml("? [a, b]\n: c\n", "c.yaml");
  CHECK_FALSE(complex);
}

TEST_CASE("ParseYaml: alias bombs and huge inputs are refused, not expanded") {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'j'; ++c, ++prev) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
  }
  auto r = ParseYaml(bomb, "bomb.yaml");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("alias bomb") != std::string::npos);
  ParseLimits small;
  small.max_bytes = 100;
  auto big = ParseYaml(std::string(200, '#'), "big.yaml", small);
  REQUIRE_FALSE(big);
  CHECK(big.error().message.find("limit") != std::string::npos);
  std::string deep(5000, '[');
  deep += std::string(5000, ']');
  CHECK_FALSE(ParseYaml(deep, "deep.yaml"));  // refused by yaml-cpp's depth guard, no crash
}

TEST_CASE("EmitYaml: round-trips through ParseYaml, quoting look-alike strings") {
  nlohmann::json v = {{"s", "true"}, {"n", "12"}, {"e", ""}, {"x", nullptr}, {"list", {1, "a", false}},
                      {"nested", {{"k", "no"}}}, {"f", 1.5}, {"multi", "line1\nline2"}};
  auto back = ParseYaml(EmitYaml(v), "emit");
  REQUIRE(back);
  CHECK(back->front().value == v);
}

TEST_CASE("PathString: dotted fields, indices, and bracketed odd keys") {
  CHECK(PathString({{"spec", -1}, {"env", -1}, {"", 2}, {"name", -1}}) == "spec.env[2].name");
  CHECK(PathString({{"metadata", -1}, {"labels", -1}, {"app.kubernetes.io/name", -1}}) ==
        "metadata.labels[\"app.kubernetes.io/name\"]");
}
