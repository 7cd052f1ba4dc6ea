#include <doctest/doctest.h>

#include "model/selector.h"
#include "util/names.h"

using keelson::model::Labels;
using keelson::model::Selector;

namespace {
bool Match(const char* sel, const Labels& labels) {
  auto s = Selector::Parse(sel);
  REQUIRE_MESSAGE(s, (s ? "" : s.error().message));
  return s->Matches(labels);
}
}  // namespace

TEST_CASE("Selector: equality, inequality, sets and existence") {
  Labels l = {{"team", "ci"}, {"tier", "prod"}};
  CHECK(Match("", l));
  CHECK(Match("team=ci", l));
  CHECK(Match("team==ci", l));
  CHECK_FALSE(Match("team=web", l));
  CHECK(Match("team!=web", l));
  CHECK(Match("missing!=x", l));
  CHECK(Match("tier in (prod, staging)", l));
  CHECK_FALSE(Match("tier notin (prod)", l));
  CHECK(Match("missing notin (x)", l));
  CHECK(Match("team", l));
  CHECK(Match("!missing", l));
  CHECK_FALSE(Match("!team", l));
  CHECK(Match("team=ci,tier in (prod),!x", l));
  CHECK_FALSE(Match("team=ci,tier=dev", l));
}

TEST_CASE("Selector: malformed selectors are errors") {
  for (const char* bad : {"a in (x", "a in x)", "a foo (x)", "=x", "a=b c", ",", "a==(", "Bad Key=x"}) {
    CAPTURE(bad);
    CHECK_FALSE(Selector::Parse(bad));
  }
}

// Cases from apimachinery's labels and validation tables.
TEST_CASE("Selector: whitespace is space, tab, CR and LF, as Kubernetes' lexer has it") {
  Labels l = {{"foo", "abc"}, {"x", "a"}};
  CHECK(Match("foo  in\t (abc)", l));
  CHECK(Match("\tfoo=abc\n", l));
  CHECK(Match("foo\r\nnotin (x,\ty)", l));
  CHECK(Match("x= a ,foo in (abc)", l));
  CHECK(Match("x=", Labels{{"x", ""}}));  // an empty value is a value
}

TEST_CASE("names: a label key's prefix is a DNS-1123 subdomain of at most 253 characters in all") {
  const std::string long_part(64, 'a');  // longer than a label, fine inside a subdomain
  CHECK(keelson::CheckQualifiedName(long_part + ".example.com/name").empty());
  std::string prefix;
  while (prefix.size() < 253) prefix += prefix.empty() ? "a" : ".a";
  CHECK(prefix.size() == 253);
  CHECK(keelson::CheckQualifiedName(prefix + "/name").empty());
  CHECK_FALSE(keelson::CheckQualifiedName(prefix + "a/name").empty());  // 254
  CHECK_FALSE(keelson::CheckQualifiedName("a..b/name").empty());
  CHECK_FALSE(keelson::CheckQualifiedName("-a.b/name").empty());
  CHECK_FALSE(keelson::CheckQualifiedName("a.b-/name").empty());
}
