// Queue depths read from a CI system's JSON or a Prometheus instant query
// (ci/queue_depth.h), and the controller's poller (controller/queue_poller.h)
// on a fake clock.

#include <doctest/doctest.h>

#include "ci/queue_depth.h"
#include "controller/queue_poller.h"
#include "fake_clock.h"

using namespace keelson;

TEST_CASE("DepthFromJson: one number at a kubectl JSONPath; fractions round up; anything else is said") {
  CHECK(*ci::DepthFromJson(R"({"queue": {"pending": 7}})", "{.queue.pending}") == 7);
  CHECK(*ci::DepthFromJson(R"({"pending": "12"})", "{.pending}") == 12);
  CHECK(*ci::DepthFromJson(R"({"pending": 2.2})", "{.pending}") == 3);
  CHECK(*ci::DepthFromJson(R"({"pools": [{"name": "linux", "waiting": 4}, {"name": "gpu", "waiting": 1}]})",
                           "{.pools[?(@.name==\"linux\")].waiting}") == 4);
  CHECK(ci::DepthFromJson(R"({"other": 1})", "{.pending}").error().message == "{.pending} finds nothing in the answer");
  CHECK(ci::DepthFromJson(R"({"p": [1, 2]})", "{.p[*]}").error().message == "{.p[*]} finds 2 values, not one");
  CHECK(ci::DepthFromJson(R"({"pending": -1})", "{.pending}").error().message == "{.pending} is -1, not a queue depth");
  CHECK(ci::DepthFromJson(R"({"pending": "many"})", "{.pending}").error().message ==
        "{.pending} is \"many\", not a number");
  CHECK(ci::DepthFromJson(R"({"pending": {"n": 1}})", "{.pending}").error().message ==
        "{.pending} is object, not a number");
  CHECK(ci::DepthFromJson("<html>", "{.pending}").error().message == "the answer is not JSON");
}

TEST_CASE("DepthFromPrometheus: the instant query's one sample or scalar; empty is 0; errors are Prometheus's") {
  // Shapes as the Prometheus HTTP API documents them.
  CHECK(*ci::DepthFromPrometheus(
            R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1435781451.781,"5"]}]}})") == 5);
  CHECK(*ci::DepthFromPrometheus(R"({"status":"success","data":{"resultType":"vector","result":[]}})") == 0);
  CHECK(*ci::DepthFromPrometheus(R"({"status":"success","data":{"resultType":"scalar","result":[1435781451.781,"1.5"]}})") == 2);
  CHECK(ci::DepthFromPrometheus(
            R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"1"]},{"metric":{"a":"2"},"value":[1,"2"]}]}})")
            .error()
            .message == "the query gives 2 series; aggregate them (sum(...)) to one");
  CHECK(ci::DepthFromPrometheus(R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]}]}})")
            .error()
            .message == "the sample is \"NaN\", not a queue depth");
  CHECK(ci::DepthFromPrometheus(R"({"status":"success","data":{"resultType":"matrix","result":[]}})").error().message ==
        "the query gives a matrix result, not an instant vector or scalar");
  CHECK(ci::DepthFromPrometheus(R"({"status":"error","errorType":"bad_data","error":"parse error at char 4"})")
            .error()
            .message == "prometheus: bad_data: parse error at char 4");
}

TEST_CASE("QueuePoller: polls at the interval, keeps the last depth through a failure, polls a changed queue at once") {
  testing::FakeClock clock;
  int calls = 0;
  Result<int64_t> answer = 3;
  controller::QueuePoller poller(clock, [&](const model::QueueSpec&) {
    ++calls;
    return answer;
  });
  model::QueueSpec q;
  q.url = "http://ci/queue";
  q.json_path = "{.n}";
  q.interval = std::chrono::seconds(15);
  std::vector<controller::QueueTarget> targets = {{"RunnerPool/d/ci", "u1", q}};
  CHECK_FALSE(poller.Of("u1"));
  CHECK(poller.Tick(targets) == std::set<std::string>{"RunnerPool/d/ci"});
  CHECK(poller.Of("u1")->depth == 3);
  CHECK(poller.Tick(targets).empty());
  CHECK(calls == 1);  // not due
  clock.Advance(std::chrono::seconds(15));
  CHECK(poller.Tick(targets).empty());  // due, polled, the same depth: nothing to wake
  CHECK(calls == 2);
  answer = Unexpected(ErrorCode::kUnavailable, "queue http://ci/queue: Couldn't connect to server");
  clock.Advance(std::chrono::seconds(15));
  CHECK(poller.Tick(targets) == std::set<std::string>{"RunnerPool/d/ci"});
  CHECK(poller.Of("u1")->depth == 3);
  CHECK(poller.Of("u1")->error == "queue http://ci/queue: Couldn't connect to server");
  answer = 0;
  targets[0].queue.json_path = "{.m}";  // another queue: at once, and the old depth is not its
  CHECK(poller.Tick(targets) == std::set<std::string>{"RunnerPool/d/ci"});
  CHECK(calls == 4);
  CHECK(*poller.Of("u1") == reconcile::QueueReading{0, ""});
  CHECK(poller.Tick({}).empty());
  CHECK_FALSE(poller.Of("u1"));  // the pool went: forgotten
}
