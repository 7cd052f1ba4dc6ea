#include <doctest/doctest.h>

#include "controller/progress_board.h"
#include "util/clock.h"
#include "util/names.h"
#include "util/text.h"
#include "util/units.h"

using namespace keelson;
using std::chrono::nanoseconds;

// Go's own table (time_test.go, parseDurationTests and parseDurationErrorTests).
TEST_CASE("ParseDuration: exactly Go's time.ParseDuration") {
  using std::chrono::hours;
  using std::chrono::microseconds;
  using std::chrono::milliseconds;
  using std::chrono::minutes;
  using std::chrono::seconds;
  const nanoseconds kMax(INT64_MAX), kMin(INT64_MIN);
  const std::pair<const char*, nanoseconds> ok[] = {
      {"0", nanoseconds(0)}, {"5s", seconds(5)}, {"30s", seconds(30)}, {"1478s", seconds(1478)},
      {"-5s", -seconds(5)}, {"+5s", seconds(5)}, {"-0", nanoseconds(0)}, {"+0", nanoseconds(0)},
      {"5.0s", seconds(5)}, {"5.6s", seconds(5) + milliseconds(600)}, {"5.s", seconds(5)},
      {".5s", milliseconds(500)}, {"1.0s", seconds(1)}, {"1.00s", seconds(1)},
      {"1.004s", seconds(1) + milliseconds(4)}, {"1.0040s", seconds(1) + milliseconds(4)},
      {"100.00100s", seconds(100) + milliseconds(1)}, {"10ns", nanoseconds(10)}, {"11us", microseconds(11)},
      {"12\xC2\xB5s", microseconds(12)}, {"12\xCE\xBCs", microseconds(12)}, {"13ms", milliseconds(13)},
      {"14s", seconds(14)}, {"15m", minutes(15)}, {"16h", hours(16)}, {"3h30m", hours(3) + minutes(30)},
      {"10.5s4m", minutes(4) + seconds(10) + milliseconds(500)},
      {"-2m3.4s", -(minutes(2) + seconds(3) + milliseconds(400))},
      {"1h2m3s4ms5us6ns", hours(1) + minutes(2) + seconds(3) + milliseconds(4) + microseconds(5) + nanoseconds(6)},
      {"39h9m14.425s", hours(39) + minutes(9) + seconds(14) + milliseconds(425)},
      {"52763797000ns", nanoseconds(52763797000)}, {"0.3333333333333333333h", minutes(20)},
      {"9007199254740993ns", nanoseconds((int64_t{1} << 53) + 1)}, {"9223372036854775807ns", kMax},
      {"9223372036854775.807us", kMax}, {"9223372036s854ms775us807ns", kMax}, {"-9223372036854775808ns", kMin},
      {"-9223372036854775.808us", kMin}, {"-9223372036s854ms775us808ns", kMin},
      {"-2562047h47m16.854775808s", kMin}, {"0.100000000000000000000h", minutes(6)},
      {"0.830103483285477580700h", minutes(49) + seconds(48) + nanoseconds(372539827)},
  };
  for (const auto& [text, want] : ok) {
    CAPTURE(std::string(text));
    auto got = ParseDuration(text);
    REQUIRE(got);
    CHECK(got->count() == want.count());
  }
  for (const char* bad : {"", "3", "-", "s", ".", "-.", ".s", "+.s", "1d", "\x85\x85", "\xff" "ff",
                          "hello \xff" "ff world", "9223372036854775810ns", "9223372036854775808ns",
                          "-9223372036854775809ns", "9223372036854776us", "3000000h", "9223372036854775.808us",
                          "9223372036854ms775us808ns", "10 s", "1h30"}) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(ParseDuration(bad));
  }
  CHECK_FALSE(ParseDuration(std::string(10000, '1') + "s"));
}

// apimachinery's quantity syntax and arithmetic, as bytes.
TEST_CASE("ParseMemoryQuantity: Kubernetes quantities in bytes, exactly") {
  const std::pair<const char*, int64_t> ok[] = {
      {"512Mi", 512LL << 20}, {"2Gi", 2LL << 30}, {"1G", 1'000'000'000}, {"1048576", 1048576},
      {"1.5Gi", 1610612736}, {"1e3", 1000}, {"1E3", 1000}, {"8.1k", 8100}, {"+1Ki", 1024}, {"1E", 1'000'000'000'000'000'000},
      {"1Ei", 1LL << 60}, {"7Ei", 7LL << 60}, {"9223372036854775807", INT64_MAX}, {"0.5", 1}, {".5", 1},
      {"5.", 5}, {"0", 0}, {"1.0000000001Ki", 1025}, {"1e-3", 1}, {"0.001k", 1}, {"100M", 100'000'000},
      {"012", 12},
  };
  for (const auto& [text, want] : ok) {
    CAPTURE(std::string(text));
    auto got = ParseMemoryQuantity(text);
    REQUIRE(got);
    CHECK(*got == want);
  }
  for (const char* bad : {"", "Mi", "-1Mi", "12Zi", "500m", "1u", "1n", "1 Gi", "1e30", "99999Ei",
                          "9223372036854775808", "8Ei", "1.2.3", "e3", "1e", "+", "++1"}) {
    CAPTURE(std::string(bad));
    CHECK_FALSE(ParseMemoryQuantity(bad));
  }
}

TEST_CASE("ParseCpus: decimals and milli-CPUs as nano-CPUs") {
  CHECK(ParseCpus("1.5") == 1'500'000'000);
  CHECK(ParseCpus("0.25") == 250'000'000);
  CHECK(ParseCpus("500m") == 500'000'000);
  CHECK(ParseCpus("2") == 2'000'000'000);
  for (const char* bad : {"", "0", "0m", "-1", "1.5x", "abc"}) {
    CAPTURE(std::string(bad));
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
    CAPTURE(std::string(bad));
    CHECK_FALSE(CheckImageRef(bad).empty());
  }
}

TEST_CASE("Quote: escapes control characters and shortens long strings") {
  CHECK(Quote("a\nb") == "\"a\\x0ab\"");
  CHECK(Quote(std::string(100, 'x')).size() < 50);
}

TEST_CASE("ParseRfc3339Seconds: RFC 3339 times, with offsets and fractions; nothing looser") {
  CHECK(ParseRfc3339Seconds("1970-01-01T00:00:00Z") == 0);
  CHECK(ParseRfc3339Seconds("2026-11-24T15:00:00Z") == 1795532400);
  CHECK(ParseRfc3339Seconds("2026-11-24T16:00:00.999999999+01:00") == 1795532400);
  CHECK(ParseRfc3339Seconds("2026-11-24T10:30:00-04:30") == 1795532400);
  CHECK(ParseRfc3339Seconds("2999-01-01T00:00:00Z") == 32472144000);  // past 2262: no nanosecond overflow
  for (const char* bad : {"2026-11-24", "2026-11-24T15:00:00", "2026-11-24 15:00:00Z", "2026-13-01T00:00:00Z",
                          "2026-11-24T15:00:00.Z", "2026-11-24T15:00:00+0100", "10m", ""}) {
    CHECK_MESSAGE(!ParseRfc3339Seconds(bad), bad);
  }
}

TEST_CASE("text: invalid UTF-8 becomes U+FFFD; cuts fall on character boundaries") {
  CHECK(ValidUtf8("plain") == "plain");
  CHECK(ValidUtf8("caf\xC3\xA9") == "caf\xC3\xA9");
  CHECK(ValidUtf8("a\xFF" "b") == "a\xEF\xBF\xBD" "b");
  CHECK(ValidUtf8("\xC3") == "\xEF\xBF\xBD");                    // truncated sequence
  CHECK(ValidUtf8("\xC0\xAF") == "\xEF\xBF\xBD\xEF\xBF\xBD");    // overlong
  CHECK(ValidUtf8("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  CHECK(ValidUtf8("\xF0\x9F\x98\x80") == "\xF0\x9F\x98\x80");
  CHECK(Utf8Prefix("caf\xC3\xA9!", 4) == "caf");
  CHECK(Utf8Prefix("caf\xC3\xA9!", 5) == "caf\xC3\xA9");
  CHECK(Utf8Suffix("\xC3\xA9tude", 5) == "tude");
  CHECK(Utf8Suffix("\xC3\xA9tude", 6) == "\xC3\xA9tude");
}

TEST_CASE("ProgressBoard: a pull's bytes and layers, a build's step, gone when it ends") {
  controller::ProgressBoard board;
  CHECK(board.Lines().empty());
  board.Update("pull busybox:1", {"", "Pulling from library/busybox", 0, 0});
  board.Update("pull busybox:1", {"aaaaaaaaaaaa", "Pulling fs layer", 0, 0});
  board.Update("pull busybox:1", {"bbbbbbbbbbbb", "Pulling fs layer", 0, 0});
  board.Update("pull busybox:1", {"aaaaaaaaaaaa", "Downloading", 1000000, 4000000});
  board.Update("pull busybox:1", {"bbbbbbbbbbbb", "Already exists", 0, 0});
  CHECK(board.Lines() == std::vector<std::string>{"pull busybox:1: 1.0 of 4.0 MB, 1 of 2 layers done"});
  board.Update("pull busybox:1", {"aaaaaaaaaaaa", "Pull complete", 0, 0});
  board.Update("build ci/runner:1", {"", "Step 3/7 : RUN make\n", 0, 0});
  CHECK(board.Lines() == std::vector<std::string>{"build ci/runner:1: Step 3/7 : RUN make",
                                                  "pull busybox:1: 4.0 of 4.0 MB, 2 of 2 layers done"});
  board.Finish("pull busybox:1");
  board.Finish("build ci/runner:1");
  CHECK(board.Lines().empty());
}

TEST_CASE("LastLines: as tail -n counts them") {
  CHECK(LastLines("a\nb\nc\n", 2) == "b\nc\n");
  CHECK(LastLines("a\nb\nc", 2) == "b\nc");
  CHECK(LastLines("a\nb\n", 5) == "a\nb\n");
  CHECK(LastLines("a\nb\n", 0).empty());
  CHECK(LastLines("a\nb\n", -1) == "a\nb\n");
  CHECK(LastLines("", 3).empty());
}
