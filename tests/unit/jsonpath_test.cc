// kubectl's JSONPath, checked against the examples of kubectl's own
// documentation (kubernetes.io/docs/reference/kubectl/jsonpath), with
// complex values printed as JSON, as kubectl has printed them since 1.19.

#include <doctest/doctest.h>

#include "util/jsonpath.h"

using keelson::JsonPath;
using nlohmann::json;

namespace {

const json kInput = json::parse(R"({
  "kind": "List",
  "items":[
    {
      "kind":"None",
      "metadata":{"name":"127.0.0.1", "labels":{"kubernetes.io/hostname":"127.0.0.1"}},
      "status":{"capacity":{"cpu":"4"}, "addresses":[{"type": "LegacyHostIP", "address":"127.0.0.1"}]}
    },
    {
      "kind":"None",
      "metadata":{"name":"127.0.0.2"},
      "status":{"capacity":{"cpu":"8"},
                "addresses":[{"type": "LegacyHostIP", "address":"127.0.0.2"}, {"type": "another", "address":"127.0.0.3"}]}
    }
  ],
  "users":[
    {"name": "myself", "user": {}},
    {"name": "e2e", "user": {"username": "admin", "password": "secret"}}
  ]
})");

std::string Run(const std::string& tmpl) {
  auto p = JsonPath::Parse(tmpl);
  REQUIRE_MESSAGE(p, (p ? "" : p.error().message));
  auto out = p->Execute(kInput);
  return out ? *out : "ERROR: " + out.error().message;
}

}  // namespace

TEST_CASE("JsonPath: the examples of kubectl's documentation") {
  CHECK(Run("kind is {.kind}") == "kind is List");
  CHECK(Run("{.kind}") == "List");
  CHECK(Run("{['kind']}") == "List");
  CHECK(Run("{..name}") == "127.0.0.1 127.0.0.2 myself e2e");
  CHECK(Run("{.items[*].metadata.name}") == "127.0.0.1 127.0.0.2");
  CHECK(Run("{.users[0].name}") == "myself");
  CHECK(Run("{.items[*]['metadata.name', 'status.capacity']}") == R"(127.0.0.1 127.0.0.2 {"cpu":"4"} {"cpu":"8"})");
  CHECK(Run(R"({.users[?(@.name=="e2e")].user.password})") == "secret");
  CHECK(Run("{range .items[*]}[{.metadata.name}, {.status.capacity}] {end}") ==
        R"([127.0.0.1, {"cpu":"4"}] [127.0.0.2, {"cpu":"8"}] )");
  CHECK(Run(R"({range .items[*]}{.metadata.name}{"\t"}{end})") == "127.0.0.1\t127.0.0.2\t");
  CHECK(Run("{.items[-1:].metadata.name}") == "127.0.0.2");
  CHECK(Run("{@.kind}") == "List");
  CHECK(Run("{$.kind}") == "List");
}

TEST_CASE("JsonPath: slices, filters, missing keys and bad templates") {
  CHECK(Run("{.items[0:1].metadata.name}") == "127.0.0.1");
  CHECK(Run("{.users[-2].name}") == "myself");
  CHECK(Run("{.users[5].name}") == "ERROR: array index out of bounds: index 5, length 2");
  CHECK(Run("{.nothing.here}").empty());
  CHECK(Run(R"({.items[*].status.addresses[?(@.type=="another")].address})") == "127.0.0.3");
  CHECK(Run("{.users[?(@.user.password)].name}") == "e2e");
  CHECK(Run("{.items[0].status.addresses}") == R"([{"address":"127.0.0.1","type":"LegacyHostIP"}])");
  CHECK(Run("{.items[*].metadata.labels.kubernetes\\.io/hostname}") == "127.0.0.1");
  CHECK_FALSE(JsonPath::Parse("{.kind"));
  CHECK_FALSE(JsonPath::Parse("{range .items[*]}{.kind}"));
  CHECK_FALSE(JsonPath::Parse("{end}"));
  CHECK_FALSE(JsonPath::Parse("{.items[x]}"));
}
