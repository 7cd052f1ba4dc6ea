// Semver constraints as Masterminds/semver v3 (Flux's ref.semver) checks them:
// its own TestConstraintsCheck table is the test data.

#include "git/semver.h"

#include <doctest/doctest.h>

namespace keelson::git {
namespace {

struct Case {
  const char* constraint;
  const char* version;
  bool check;
};

const Case kCases[] = {
    {"*", "1.2.3", true},
    {"~0.0.0", "1.2.3", true},
    {"0.x.x", "1.2.3", false},
    {"0.0.x", "1.2.3", false},
    {"0.0.0", "1.2.3", false},
    {"^0.0.0", "1.2.3", false},
    {"= 2.0", "1.2.3", false},
    {"= 2.0", "2.0.0", true},
    {"4.1", "4.1.0", true},
    {"4.1.x", "4.1.3", true},
    {"1.x", "1.4", true},
    {"!=4.1", "4.1.0", false},
    {"!=4.1-alpha", "4.1.0-alpha", false},
    {"!=4.1-alpha", "4.1.1-alpha", false},
    {"!=4.1-alpha", "4.1.0", true},
    {"!=4.1", "5.1.0", true},
    {"!=4.x", "5.1.0", true},
    {"!=4.x", "4.1.0", false},
    {"!=4.1.x", "4.2.0", true},
    {"!=4.2.x", "4.2.3", false},
    {">1.1", "4.1.0", true},
    {">1.1", "1.1.0", false},
    {"<1.1", "0.1.0", true},
    {"<1.1", "1.1.0", false},
    {"<1.1", "1.1.1", false},
    {"<1.x", "1.1.1", false},
    {"<1.x", "0.1.1", true},
    {"<1.x", "2.0.0", false},
    {"<1.1.x", "1.2.1", false},
    {"<1.1.x", "1.1.500", false},
    {"<1.1.x", "1.0.500", true},
    {"<1.2.x", "1.1.1", true},
    {">=1.1", "4.1.0", true},
    {">=1.1", "4.1.0-beta", false},
    {">=1.1", "1.1.0", true},
    {">=1.1", "0.0.9", false},
    {"<=1.1", "0.1.0", true},
    {"<=1.1", "0.1.0-alpha", false},
    {"<=1.1-a", "0.1.0-alpha", true},
    {"<=1.1", "1.1.0", true},
    {"<=1.x", "1.1.0", true},
    {"<=2.x", "3.0.0", false},
    {"<=1.1", "1.1.1", true},
    {"<=1.1.x", "1.2.500", false},
    {"<=4.5", "3.4.0", true},
    {"<=4.5", "3.7.0", true},
    {"<=4.5", "4.6.3", false},
    {">1.1, <2", "1.1.1", false},
    {">1.1, <2", "1.2.1", true},
    {">1.1, <3", "4.3.2", false},
    {">=1.1, <2, !=1.2.3", "1.2.3", false},
    {">1.1 <2", "1.1.1", false},
    {">1.1 <2", "1.2.1", true},
    {">1.1    <3", "4.3.2", false},
    {">=1.1    <2    !=1.2.3", "1.2.3", false},
    {">=1.1, <2, !=1.2.3 || > 3", "4.1.2", true},
    {">=1.1, <2, !=1.2.3 || > 3", "3.1.2", false},
    {">=1.1, <2, !=1.2.3 || >= 3", "3.0.0", true},
    {">=1.1, <2, !=1.2.3 || > 3", "3.0.0", false},
    {">=1.1, <2, !=1.2.3 || > 3", "1.2.3", false},
    {"> 1.1, <     2", "1.1.1", false},
    {">   1.1, <2", "1.2.1", true},
    {">= 1.1, <     2, !=1.2.3", "1.2.3", false},
    {"> 1.1 < 2", "1.1.1", false},
    {">=1.1    < 2    != 1.2.3", "1.2.3", false},
    {">= 1.1 <2 != 1.2.3 || >= 3", "3.0.0", true},
    {">= 1.0.0  <= 2.0.0-beta", "1.0.1-beta", true},
    {">= 1.0.0  <= 2.0.0-beta", "1.0.1", true},
    {">= 1.0.0  <= 2.0.0-beta", "3.0.0", false},
    {">= 1.0.0  <= 2.0.0-beta || > 3", "1.0.1-beta", true},
    {">= 1.0.0  <= 2.0.0-beta || > 3", "3.0.1-beta", false},
    {">= 1.0.0  <= 2.0.0-beta != 1.0.1 || > 3", "1.0.1-beta", true},
    {">= 1.0.0  <= 2.0.0-beta != 1.0.1-beta || > 3", "1.0.1-beta", false},
    {">= 1.0.0-0  <= 2.0.0", "1.0.1-beta", true},
    {"1.1 - 2", "1.1.1", true},
    {"1.5.0 - 4.5", "3.7.0", true},
    {"1.1-3", "4.3.2", false},
    {"^1.1", "1.1.1", true},
    {"^1.1", "4.3.2", false},
    {"^1.x", "1.1.1", true},
    {"^2.x", "1.1.1", false},
    {"^1.x", "2.1.1", false},
    {"^1.x", "1.1.1-beta1", false},
    {"^1.1.2-alpha", "1.2.1-beta1", true},
    {"^1.2.x-alpha", "1.1.1-beta1", false},
    {"^0.0.1", "0.0.1", true},
    {"^0.0.1", "0.3.1", false},
    {"~*", "2.1.1", true},
    {"~1", "2.1.1", false},
    {"~1", "1.3.5", true},
    {"~1", "1.4", true},
    {"~1.x", "2.1.1", false},
    {"~1.x", "1.3.5", true},
    {"~1.x", "1.4", true},
    {"~1.1", "1.1.1", true},
    {"~1.1", "1.1.1-alpha", false},
    {"~1.1-alpha", "1.1.1-beta", true},
    {"~1.1.1-beta", "1.1.1-alpha", false},
    {"~1.1.1-beta", "1.1.1", true},
    {"~1.2.3", "1.2.5", true},
    {"~1.2.3", "1.2.2", false},
    {"~1.2.3", "1.3.2", false},
    {"~1.1", "1.2.3", false},
    {"~1.3", "2.4.5", false},
    {"1.0.0 - 2.0.0 <=2.0.0", "1.5.0", true},
    {"1.0.0 - 2.0.0, <=2.0.0", "1.5.0", true},
};

TEST_CASE("semver: Masterminds' constraint table") {
  for (const auto& c : kCases) {
    const std::string constraint = c.constraint, version = c.version;
    CAPTURE(constraint);
    CAPTURE(version);
    auto parsed = Constraints::Parse(c.constraint);
    REQUIRE(parsed.has_value());
    auto v = ParseVersion(c.version);
    REQUIRE(v.has_value());
    CHECK(parsed->Check(*v) == c.check);
  }
}

TEST_CASE("semver: versions, precedence, improper constraints, the highest matching tag") {
  CHECK(ParseVersion("v1.2.3")->patch == 3);
  CHECK(ParseVersion("1.2")->minor == 2);
  CHECK(ParseVersion("1.2.3-rc.1+build.5")->pre == "rc.1");
  CHECK_FALSE(ParseVersion("release-1").has_value());
  CHECK_FALSE(ParseVersion("1.2.3.4").has_value());
  CHECK_FALSE(ParseVersion("").has_value());
  // semver.org's precedence example.
  const char* ordered[] = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
                           "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"};
  for (size_t i = 0; i + 1 < std::size(ordered); ++i) {
    const std::string lower = ordered[i];
    CAPTURE(lower);
    CHECK(Compare(*ParseVersion(ordered[i]), *ParseVersion(ordered[i + 1])) < 0);
  }
  CHECK(Compare(*ParseVersion("1.0.0+a"), *ParseVersion("1.0.0+b")) == 0);
  for (const char* bad : {"", "abc", ">=1.0,", ">=1.0<2.0", "1.2.3.4", "=> ", "|| 1.0"}) {
    const std::string text = bad;
    CAPTURE(text);
    auto r = Constraints::Parse(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message.rfind("improper constraint: ", 0) == 0);
  }
  const std::vector<std::string> tags = {"v1.0.0", "v1.2.0", "v1.10.0", "v2.0.0-rc.1", "v2.0.0", "latest", "1.9.9"};
  CHECK(HighestMatching(tags, *Constraints::Parse(">=1.0.0 <2.0.0")) == "v1.10.0");
  CHECK(HighestMatching(tags, *Constraints::Parse("~1.2")) == "v1.2.0");
  CHECK(HighestMatching(tags, *Constraints::Parse("*")) == "v2.0.0");
  CHECK(HighestMatching(tags, *Constraints::Parse(">=2.0.0-0")) == "v2.0.0");
  CHECK_FALSE(HighestMatching(tags, *Constraints::Parse(">=3")).has_value());
}

}  // namespace
}  // namespace keelson::git
