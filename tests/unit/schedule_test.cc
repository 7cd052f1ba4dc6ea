// Cron expressions (util/cron.h), time zones from the tz database
// (util/tzif.h) and autoscaling schedules built on both.

#include <doctest/doctest.h>

#include "reconcile/autoscale.h"
#include "util/cron.h"
#include "util/tzif.h"

namespace keelson {
namespace {

TimePoint Utc(const std::string& text) {
  TimePoint t;
  REQUIRE(ParseTimestamp(text, &t));
  return t;
}

TEST_CASE("cron: fields, ranges, steps, lists, names and descriptors, as robfig/cron's standard parser reads them") {
  auto every = CronSchedule::Parse("*/15 9-17 * * MON-fri");
  REQUIRE(every);
  CHECK(every->Matches({30, 9, 24, 11, 2}));
  CHECK(every->Matches({45, 17, 24, 11, 5}));
  CHECK_FALSE(every->Matches({31, 9, 24, 11, 2}));   // not a multiple of 15
  CHECK_FALSE(every->Matches({0, 18, 24, 11, 2}));   // past 17
  CHECK_FALSE(every->Matches({0, 9, 29, 11, 0}));    // Sunday
  auto list = CronSchedule::Parse("0 8,12-13 1,15 jan,JUL *");
  REQUIRE(list);
  CHECK(list->Matches({0, 13, 15, 7, 3}));
  CHECK_FALSE(list->Matches({0, 9, 15, 7, 3}));
  CHECK_FALSE(list->Matches({0, 8, 2, 1, 3}));
  // A single value with a step runs to the field's end.
  auto from = CronSchedule::Parse("5/20 * * * *");
  REQUIRE(from);
  CHECK(from->Matches({5, 0, 1, 1, 0}));
  CHECK(from->Matches({45, 0, 1, 1, 0}));
  CHECK_FALSE(from->Matches({0, 0, 1, 1, 0}));
  // Both day fields restricted: either; one a star: both.
  auto either = CronSchedule::Parse("0 0 1 * MON");
  CHECK(either->Matches({0, 0, 1, 11, 0}));   // the 1st, a Sunday
  CHECK(either->Matches({0, 0, 2, 11, 1}));   // a Monday, the 2nd
  CHECK_FALSE(either->Matches({0, 0, 3, 11, 2}));
  auto monday = CronSchedule::Parse("0 0 ? * 1");
  CHECK(monday->Matches({0, 0, 2, 11, 1}));
  CHECK_FALSE(monday->Matches({0, 0, 1, 11, 0}));
  auto weekly = CronSchedule::Parse("@weekly");
  REQUIRE(weekly);
  CHECK(weekly->Matches({0, 0, 29, 11, 0}));
  CHECK_FALSE(weekly->Matches({0, 0, 30, 11, 1}));
  CHECK(CronSchedule::Parse("@daily")->Matches({0, 0, 5, 3, 4}));
  CHECK(CronSchedule::Parse("  @hourly ")->Matches({0, 7, 5, 3, 4}));
}

TEST_CASE("cron: what is refused, and how it is said") {
  const std::pair<const char*, const char*> bad[] = {
      {"* * * *", "expected exactly 5 fields (minute hour day-of-month month day-of-week), found 4"},
      {"* * * * * *", "expected exactly 5 fields (minute hour day-of-month month day-of-week), found 6"},
      {"60 * * * *", "minute field: 60 is above 59"},
      {"* 24 * * *", "hour field: 24 is above 23"},
      {"* * 0 * *", "day-of-month field: 0 is below 1"},
      {"* * * 13 *", "month field: 13 is above 12"},
      {"* * * * 7", "day-of-week field: 7 is above 6"},
      {"5-1 * * * *", "minute field: \"5-1\" ends before it starts"},
      {"*/0 * * * *", "minute field: the step of \"*/0\" must be a positive number"},
      {"1-2-3 * * * *", "minute field: too many hyphens: \"1-2-3\""},
      {"*/2/3 * * * *", "minute field: too many slashes: \"*/2/3\""},
      {"x * * * *", "minute field: not a number: \"x\""},
      {"* * * foo *", "month field: not a number: \"foo\""},
      {"@every 5m", "unrecognized descriptor: @every 5m"},
      {"", "expected exactly 5 fields (minute hour day-of-month month day-of-week), found 0"},
  };
  for (const auto& [text, want] : bad) {
    auto c = CronSchedule::Parse(text);
    INFO(text);
    REQUIRE_FALSE(c.has_value());
    CHECK(c.error().message == want);
  }
}

TEST_CASE("time zones: offsets from the tz database, across daylight saving time") {
  auto berlin = TimeZone::Load("Europe/Berlin");
  REQUIRE(berlin);
  auto at = [&](const std::string& utc) {
    return (*berlin)->OffsetAt(std::chrono::duration_cast<std::chrono::seconds>(Utc(utc).time_since_epoch()).count());
  };
  CHECK(at("2026-01-15T12:00:00Z") == 3600);
  CHECK(at("2026-03-29T00:59:59Z") == 3600);   // CET until 01:00 UTC on the last Sunday of March
  CHECK(at("2026-03-29T01:00:00Z") == 7200);   // CEST
  CHECK(at("2026-10-25T00:59:59Z") == 7200);
  CHECK(at("2026-10-25T01:00:00Z") == 3600);
  auto utc = TimeZone::Load("UTC");
  REQUIRE(utc);
  CHECK((*utc)->OffsetAt(0) == 0);
  auto ny = TimeZone::Load("America/New_York");
  REQUIRE(ny);
  CHECK((*ny)->OffsetAt(std::chrono::duration_cast<std::chrono::seconds>(Utc("2026-07-01T00:00:00Z").time_since_epoch()).count()) == -4 * 3600);
  CHECK(TimeZone::Load("Mars/Olympus_Mons").error().code == ErrorCode::kNotFound);
  CHECK(TimeZone::Load("../../etc/passwd").error().message == "not a time zone name: \"../../etc/passwd\"");
  CHECK(TimeZone::Load("/etc/passwd").error().code == ErrorCode::kInvalid);
  CHECK(TimeZone::FromTzif("TZif2 but short").error().message == "not a TZif file");
}

TEST_CASE("schedules: working hours in Berlin open and close at local time, summer and winter") {
  model::ScheduleSpec hours;
  hours.time_zone = "Europe/Berlin";
  hours.start = "0 8 * * 1-5";
  hours.end = "0 18 * * 1-5";
  hours.min_idle = 3;
  // Tuesday 24 November 2026, CET (UTC+1): 08:00 local is 07:00 UTC.
  auto before = reconcile::EvaluateSchedule(hours, Utc("2026-11-24T06:59:00Z"));
  REQUIRE(before);
  CHECK_FALSE(before->open);
  CHECK(before->next_change == Utc("2026-11-24T07:00:00Z"));
  auto during = reconcile::EvaluateSchedule(hours, Utc("2026-11-24T07:00:00Z"));
  CHECK(during->open);
  CHECK(during->next_change == Utc("2026-11-24T17:00:00Z"));
  CHECK_FALSE(reconcile::EvaluateSchedule(hours, Utc("2026-11-24T17:00:00Z"))->open);
  // In summer (CEST, UTC+2) the same local hours are an hour earlier in UTC.
  CHECK(reconcile::EvaluateSchedule(hours, Utc("2026-07-07T06:00:00Z"))->open);
  CHECK_FALSE(reconcile::EvaluateSchedule(hours, Utc("2026-07-07T05:59:00Z"))->open);
  // Friday evening to Monday morning: closed, and it opens on Monday.
  auto weekend = reconcile::EvaluateSchedule(hours, Utc("2026-11-28T12:00:00Z"));
  CHECK_FALSE(weekend->open);
  CHECK(weekend->next_change == Utc("2026-11-30T07:00:00Z"));

  // The planner raises minIdle while it is open, and asks to be woken when it closes.
  model::AutoscalingSpec spec;
  spec.max_replicas = 10;
  spec.min_idle = 1;
  spec.schedules = {hours};
  reconcile::ScaleInput in;
  in.now = Utc("2026-11-24T09:00:00Z");
  in.schedules = {*reconcile::EvaluateSchedule(hours, in.now)};
  auto d = reconcile::PlanScale(spec, in);
  CHECK(d.desired == 3);
  CHECK(d.cause == "no job queued, 0 running, minIdle 3 (schedule 0 open)");
  REQUIRE(d.recheck_after);
  CHECK(*d.recheck_after == std::chrono::hours(8) + std::chrono::milliseconds(1));
  in.now = Utc("2026-11-24T20:00:00Z");
  in.schedules = {*reconcile::EvaluateSchedule(hours, in.now)};
  CHECK(reconcile::PlanScale(spec, in).desired == 1);

  model::ScheduleSpec broken = hours;
  broken.end = "0 25 * * *";
  CHECK(reconcile::EvaluateSchedule(broken, in.now).error().message == "end: hour field: 25 is above 23");
}

}  // namespace
}  // namespace keelson
