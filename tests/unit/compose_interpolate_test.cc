// Compose file interpolation and .env files (compose/interpolate.h), on the
// cases compose-go's template tests and the Compose Specification document.

#include <doctest/doctest.h>

#include "compose/interpolate.h"

using namespace keelson;

namespace {

std::optional<std::string> Defaults(const std::string& name) {
  if (name == "FOO") return "first";
  if (name == "BAR") return "";
  return std::nullopt;
}

std::string Sub(const std::string& text) {
  auto r = compose::Interpolate(text, Defaults);
  return r ? *r : "ERROR " + r.error().message;
}

}  // namespace

TEST_CASE("Interpolate: values, defaults, replacements and escapes as docker compose reads them") {
  CHECK(Sub("$${foo}") == "${foo}");
  CHECK(Sub("foo") == "foo");
  CHECK(Sub("$FOO-bar") == "first-bar");  // docker/compose#8601
  CHECK(Sub("This ${missing} var") == "This  var");
  CHECK(Sub("This ${BAR} var") == "This  var");
  CHECK(Sub("This $FOO var") == "This first var");
  CHECK(Sub("This ${FOO} var") == "This first var");
  CHECK(Sub("ok ${missing:-def}") == "ok def");
  CHECK(Sub("ok ${missing-def}") == "ok def");
  CHECK(Sub("ok ${BAR:-def}") == "ok def");
  CHECK(Sub("ok ${FOO:-def}") == "ok first");
  CHECK(Sub("ok ${BAR-def}") == "ok ");
  CHECK(Sub("ok ${BAR:-/non:-alphanumeric}") == "ok /non:-alphanumeric");
  CHECK(Sub("ok ${UNSET_VAR-$FOO}") == "ok first");
  CHECK(Sub("ok ${UNSET_VAR-${FOO}}") == "ok first");
  CHECK(Sub("ok ${UNSET_VAR-${FOO} ${FOO}}") == "ok first first");
  CHECK(Sub("ok ${BAR:-$FOO}") == "ok first");
  CHECK(Sub("ok ${BAR:-${FOO} ${FOO}}") == "ok first first");
  CHECK(Sub("ok ${FOO:?err}") == "ok first");
  CHECK(Sub("ok ${FOO?err}") == "ok first");
  CHECK(Sub("ok ${BAR?err}") == "ok ");
  CHECK(Sub("${UNSET_VAR-myerror?msg}") == "myerror?msg");
  CHECK(Sub("${FOO?bar-baz}") == "first");
  CHECK(Sub("${FOO:+set}|${BAR:+set}|${BAR+set}|${missing+set}") == "set||set|");
}

TEST_CASE("Interpolate: required variables and malformed templates are errors") {
  CHECK(Sub("not ok ${UNSET_VAR:?Mandatory Variable Unset}") ==
        "ERROR required variable UNSET_VAR is missing a value: Mandatory Variable Unset");
  CHECK(Sub("not ok ${BAR:?Mandatory Variable Empty}") ==
        "ERROR required variable BAR is missing a value: Mandatory Variable Empty");
  CHECK(Sub("not ok ${UNSET_VAR:?}") == "ERROR required variable UNSET_VAR is missing a value");
  CHECK(Sub("not ok ${UNSET_VAR?}") == "ERROR required variable UNSET_VAR is missing a value");
  CHECK(Sub("not ok ${UNSET_VAR:?Mandatory Variable ${FOO}}") ==
        "ERROR required variable UNSET_VAR is missing a value: Mandatory Variable first");
  CHECK(Sub("${UNSET_VAR?bar-baz}") == "ERROR required variable UNSET_VAR is missing a value: bar-baz");
  for (const char* bad : {"${", "$}", "${}", "${ }", "${ foo}", "${foo }", "${foo!}", "$1", "cost: 5$"}) {
    CHECK(Sub(bad) == "ERROR Invalid template: \"" + std::string(bad) + "\"");
  }
}

TEST_CASE("ParseDotEnv: lines, comments, export, quotes, and values built on earlier ones") {
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOME") return "/home/ci";
    if (name == "FROM_ENV") return "env-value";
    return std::nullopt;
  };
  auto vars = compose::ParseDotEnv(
      "# settings\n"
      "TAG=1.4\n"
      "export REGISTRY = 127.0.0.1:5000 # local\n"
      "IMAGE=${REGISTRY}/ci/runner:$TAG\n"
      "SINGLE='no $TAG here # kept'\n"
      "DOUBLE=\"line\\none ${TAG}\"\n"
      "CACHE=$HOME/.cache\n"
      "\n"
      "FROM_ENV\n"
      "NOT_SET\n"
      "EMPTY=\n",
      env);
  REQUIRE(vars);
  CHECK(vars->at("TAG") == "1.4");
  CHECK(vars->at("REGISTRY") == "127.0.0.1:5000");
  CHECK(vars->at("IMAGE") == "127.0.0.1:5000/ci/runner:1.4");
  CHECK(vars->at("SINGLE") == "no $TAG here # kept");
  CHECK(vars->at("DOUBLE") == "line\none 1.4");
  CHECK(vars->at("CACHE") == "/home/ci/.cache");
  CHECK(vars->at("FROM_ENV") == "env-value");
  CHECK_FALSE(vars->count("NOT_SET"));
  CHECK(vars->at("EMPTY").empty());
  CHECK(compose::ParseDotEnv("A=1\n9LIVES=x\n", env).error().message == "2: \"9LIVES\" is not a variable name");
  CHECK(compose::ParseDotEnv("A=\"open\n", env).error().message == "1: the quoted value of A is not closed");
  CHECK(compose::ParseDotEnv("A=${B:?set B}\n", env).error().message == "1: required variable B is missing a value: set B");
}
