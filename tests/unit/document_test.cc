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

TEST_CASE("SplitDocuments: pieces parse to the same documents at the same positions") {
  std::string text = "# leading comment\na: 1\n";
  for (int i = 0; i < 40; ++i) {
    text += "---\nkey" + std::to_string(i) + ": |\n  block\n  text\nlist: [1, 2]\n";
    text += "--- # a marker with a comment\nq: \"x\"\n";
  }
  auto whole = ParseYaml(text, "f");
  REQUIRE(whole);
  auto pieces = SplitDocuments(text, 64);
  CHECK(pieces.size() > 10);
  std::string joined;
  std::vector<Document> parts;
  for (const auto& p : pieces) {
    joined += p.text;
    auto docs = ParseYaml(p.text, "f", {}, p.first_line);
    REQUIRE(docs);
    for (auto& d : *docs) parts.push_back(std::move(d));
  }
  CHECK(joined == text);  // nothing lost or repeated
  REQUIRE(parts.size() == whole->size());
  for (size_t i = 0; i < parts.size(); ++i) {
    CAPTURE(i);
    CHECK(parts[i].value == (*whole)[i].value);
    CHECK(parts[i].start.line == (*whole)[i].start.line);
    CHECK(parts[i].positions.size() == (*whole)[i].positions.size());
    for (size_t j = 0; j < parts[i].positions.size(); ++j) {
      CHECK(parts[i].positions[j].path == (*whole)[i].positions[j].path);
      CHECK(parts[i].positions[j].mark.line == (*whole)[i].positions[j].mark.line);
      CHECK(parts[i].positions[j].mark.column == (*whole)[i].positions[j].mark.column);
    }
  }
}

TEST_CASE("SplitDocuments: a syntax error in a later piece names the file's own line") {
  std::string text;
  for (int i = 0; i < 20; ++i) text += "---\na: " + std::to_string(i) + "\n";
  text += "---\nb: [1, 2\n";  // line 42
  auto pieces = SplitDocuments(text, 16);
  REQUIRE(pieces.size() > 1);
  auto last = ParseYaml(pieces.back().text, "f.yaml", {}, pieces.back().first_line);
  REQUIRE_FALSE(last);
  auto whole = ParseYaml(text, "f.yaml");
  REQUIRE_FALSE(whole);
  CHECK(last.error().message == whole.error().message);
}

TEST_CASE("SplitDocuments: directives, end markers and small streams stay whole") {
  std::string docs;
  for (int i = 0; i < 50; ++i) docs += "---\na: " + std::to_string(i) + "\n";
  CHECK(SplitDocuments("%YAML 1.2\n" + docs, 8).size() == 1);
  CHECK(SplitDocuments(docs + "...\n", 8).size() == 1);
  CHECK(SplitDocuments(docs, 1 << 20).size() == 1);
  // "---" only counts at the start of a line and followed by a space or the line's end.
  CHECK(SplitDocuments("a: 1\n---x: 2\n b: ---\n", 1).size() == 1);
  CHECK(SplitDocuments("a: 1\n---\nb: 2\n", 1).size() == 2);
  CHECK(SplitDocuments("a: 1\r\n---\r\nb: 2\r\n", 1).size() == 2);
  CHECK(SplitDocuments("a: 1\n---\rb: 2\n", 1).size() == 1);  // found by the fuzzer: a key, not a marker
}

TEST_CASE("ParseYaml: control characters are refused where they are, never taken for the end") {
  // yaml-cpp reads a NUL as the end of the stream: the second document would vanish.
  std::string text = std::string("a: x\n---\nb: y") + '\0' + "z\n---\nc: 1\n";
  auto docs = ParseYaml(text, "f.yaml");
  REQUIRE_FALSE(docs);
  CHECK(docs.error().message == "f.yaml:3:5: control character 0x00 is not allowed in YAML");
  auto piece = ParseYaml("x: \x1b[31m\n", "g.yaml", {}, 40);
  REQUIRE_FALSE(piece);
  CHECK(piece.error().message == "g.yaml:40:4: control character 0x1B is not allowed in YAML");
  CHECK(ParseYaml("a: \"tab\there\"\r\nb: 2\r\n", "h.yaml"));  // tab, CR and LF are fine
}

TEST_CASE("ParseYaml: an unclosed flow collection is reported where it ends and where it starts, as PyYAML does") {
  auto r = ParseYaml("kind: Runner\nspec:\n  command: [sleep, \"1\"\n", "f.yaml");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("f.yaml:4:1: ") == 0);
  CHECK(r.error().message.find("(the flow sequence that starts at 3:12 is not closed)") != std::string::npos);
  auto m = ParseYaml("metadata: {name: web\nspec: {}\n", "g.yaml");
  REQUIRE_FALSE(m);
  CHECK(m.error().message.find("(the flow mapping that starts at 1:11 is not closed)") != std::string::npos);
}
