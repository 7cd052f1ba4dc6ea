#include <thread>

#include <doctest/doctest.h>

#include "controller/work_queue.h"
#include "fake_clock.h"

using namespace keelson;
using controller::WorkQueue;
using std::chrono::milliseconds;

TEST_CASE("WorkQueue: a key is queued once however often it is added") {
  testing::FakeClock clock;
  WorkQueue q(clock);
  q.Add("a");
  q.Add("b");
  q.Add("a");
  CHECK(q.Depth() == 2);
  CHECK(*q.TryGet() == "a");
  CHECK(*q.TryGet() == "b");
  CHECK_FALSE(q.TryGet());
}

TEST_CASE("WorkQueue: a key being processed is not handed out again; added meanwhile, it returns after Done") {
  testing::FakeClock clock;
  WorkQueue q(clock);
  q.Add("a");
  REQUIRE(*q.TryGet() == "a");
  q.Add("a");
  CHECK_FALSE(q.TryGet());
  q.Done("a");
  CHECK(*q.TryGet() == "a");
  q.Done("a");
  CHECK(q.Idle());
}

TEST_CASE("WorkQueue: AddAfter waits for the clock; an earlier time wins; Add supersedes") {
  testing::FakeClock clock;
  WorkQueue q(clock);
  q.AddAfter("a", milliseconds(500));
  q.AddAfter("a", milliseconds(200));
  CHECK_FALSE(q.TryGet());
  clock.Advance(milliseconds(199));
  CHECK_FALSE(q.TryGet());
  clock.Advance(milliseconds(1));
  CHECK(*q.TryGet() == "a");
  q.Done("a");
  q.AddAfter("b", milliseconds(1000));
  q.Add("b");
  CHECK(*q.TryGet() == "b");
}

TEST_CASE("WorkQueue: per-key backoff doubles from 100 ms with jitter, caps at 5 min, and Forget resets it") {
  testing::FakeClock clock;
  WorkQueue q(clock, {}, 42);
  std::vector<milliseconds> delays;
  for (int i = 0; i < 15; ++i) delays.push_back(q.AddRateLimited("a"));
  CHECK(delays[0] >= milliseconds(100));
  CHECK(delays[0] < milliseconds(120));
  CHECK(delays[1] >= milliseconds(200));
  CHECK(delays[1] < milliseconds(240));
  CHECK(delays[5] >= milliseconds(3200));
  CHECK(delays[14] >= milliseconds(300000));
  CHECK(delays[14] < milliseconds(360000));
  CHECK(q.Failures("a") == 15);
  CHECK(q.AddRateLimited("b") < milliseconds(120));  // per key
  q.Forget("a");
  CHECK(q.AddRateLimited("a") < milliseconds(120));
}

TEST_CASE("WorkQueue: ShutDown wakes a blocked Get") {
  testing::FakeClock clock;
  WorkQueue q(clock);
  std::optional<std::string> got = "x";
  std::thread t([&] { got = q.Get(); });
  q.ShutDown();
  t.join();
  CHECK_FALSE(got);
}

TEST_CASE("StatusWrites: the watcher skips exactly the controller's own write, once") {
  controller::StatusWrites writes;
  CHECK_FALSE(writes.Own("Runner/default/web", 5));  // nothing noted: a change to look at
  writes.Note("Runner/default/web", 7);
  CHECK_FALSE(writes.Own("Runner/default/web", 8));  // changed again after our write
  CHECK_FALSE(writes.Own("Runner/default/web", 7));  // that note is spent
  writes.Note("Runner/default/web", 9);
  CHECK(writes.Own("Runner/default/web", 9));
  CHECK_FALSE(writes.Own("Runner/default/web", 9));
}

TEST_CASE("WorkQueue: AddUnlessBackingOff leaves a failed key's retry where it is; Add does not") {
  testing::FakeClock clock;
  WorkQueue q(clock, controller::Backoff{milliseconds(1000), milliseconds(60000), 0.0});
  q.Add("a");
  REQUIRE(*q.TryGet() == "a");
  q.AddRateLimited("a");  // failed: back in 1 s
  q.Done("a");
  q.AddUnlessBackingOff("a");  // an engine event about the same failure
  CHECK_FALSE(q.TryGet());
  clock.Advance(milliseconds(1000));
  REQUIRE(*q.TryGet() == "a");
  q.Done("a");
  q.AddUnlessBackingOff("b");  // nothing failed: at once
  CHECK(*q.TryGet() == "b");
  q.Done("b");
  q.AddRateLimited("a");
  q.Add("a");  // a change the user made: at once
  CHECK(*q.TryGet() == "a");
}
