#include <doctest/doctest.h>

#include "util/names.h"
#include "util/units.h"

using namespace keelson;
using std::chrono::nanoseconds;

TEST_CASE("ParseDuration: Go-style durations") {
  CHECK(ParseDuration("500ms") == nanoseconds(500'000'000));
  CHECK(ParseDuration("10s") == nanoseconds(10'000'000'000));
  CHECK(ParseDuration("1h30m") == nanoseconds(5'400'000'000'000));
  CHECK(ParseDuration("1.5h") == nanoseconds(5'400'000'000'000));
  CHECK(ParseDuration("0") == nanoseconds(0));
  CHECK(ParseDuration("250us") == nanoseconds(250'000));
  for (const char* bad : {"", "10", "s", "-5s", "10 s", "1d", "1h30", ".s", "9999999999h"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseDuration(bad));
  }
  CHECK_FALSE(ParseDuration(std::string(10000, '1') + "s"));
}

TEST_CASE("ParseMemoryQuantity: Kubernetes quantities in bytes") {
  CHECK(ParseMemoryQuantity("512Mi") == 512LL << 20);
  CHECK(ParseMemoryQuantity("2Gi") == 2LL << 30);
  CHECK(ParseMemoryQuantity("1G") == 1'000'000'000);
  CHECK(ParseMemoryQuantity("1048576") == 1048576);
  CHECK(ParseMemoryQuantity("1.5Gi") == 1610612736);
  CHECK(ParseMemoryQuantity("1e3") == 1000);
  for (const char* bad : {"", "Mi", "-1Mi", "12Zi", "500m", "1 Gi", "1e30", "99999Ei"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseMemoryQuantity(bad));
  }
}

TEST_CASE("ParseCpus: decimals and milli-CPUs as nano-CPUs") {
  CHECK(ParseCpus("1.5") == 1'500'000'000);
  CHECK(ParseCpus("0.25") == 250'000'000);
  CHECK(ParseCpus("500m") == 500'000'000);
  CHECK(ParseCpus("2") == 2'000'000'000);
  for (const char* bad : {"", "0", "0m", "-1", "1.5x", "abc"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseCpus(bad));
  }
}

TEST_CASE("names: DNS-1123 labels, label keys and values") {
  CHECK(CheckDns1123Label("web-1").empty());
  CHECK_FALSE(CheckDns1123Label("Web").empty());
  CHECK_FALSE(CheckDns1123Label("-web").empty());
  CHECK_FALSE(CheckDns1123Label("web.1").empty());
  CHECK_FALSE(CheckDns1123Label(std::string(64, 'a')).empty());
  CHECK(CheckDns1123Label(std::string(63, 'a')).empty());
  CHECK(CheckQualifiedName("app.kubernetes.io/name").empty());
  CHECK(CheckQualifiedName("team").empty());
  CHECK_FALSE(CheckQualifiedName("/x").empty());
  CHECK_FALSE(CheckQualifiedName("Bad_Prefix/x").empty());
  CHECK_FALSE(CheckQualifiedName("a b").empty());
  CHECK(CheckLabelValue("").empty());
  CHECK(CheckLabelValue("v1.2_x").empty());
  CHECK_FALSE(CheckLabelValue("-x").empty());
  CHECK_FALSE(CheckLabelValue(std::string(64, 'x')).empty());
}

TEST_CASE("names: image references as the engine accepts them") {
  for (const char* ok : {"busybox", "busybox:1", "127.0.0.1:5000/ci/runner:1.4", "localhost/a/b",
                         "ghcr.io/org/img@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                         "a__b/c-d.e:Tag_1"}) {
    CAPTURE(ok);
    CHECK(CheckImageRef(ok).empty());
  }
  for (const char* bad : {"", "Busybox", "a b", "busybox:", "img@sha256:xyz", "a//b", "-a", "a:b:c"}) {
    CAPTURE(bad);
    CHECK_FALSE(CheckImageRef(bad).empty());
  }
}

TEST_CASE("Quote: escapes control characters and shortens long strings") {
  CHECK(Quote("a\nb") == "\"a\\x0ab\"");
  CHECK(Quote(std::string(100, 'x')).size() < 50);
}
