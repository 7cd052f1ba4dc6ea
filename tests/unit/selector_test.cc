#include <doctest/doctest.h>

#include "model/selector.h"

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
