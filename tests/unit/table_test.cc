#include <sstream>

#include <doctest/doctest.h>

#include "cli/table.h"
#include "fake_clock.h"

using namespace keelson;
using namespace keelson::cli;

TEST_CASE("Table: aligned columns, three spaces apart, control characters masked") {
  Table t({"NAME", "AGE"});
  t.AddRow({"a", "1s"});
  t.AddRow({"long-name\x1b[2J", "10m"});
  std::ostringstream out;
  t.Print(out);
  CHECK(out.str() == "NAME            AGE\na               1s\nlong-name?[2J   10m\n");
}

TEST_CASE("ObjectTable: RunnerPool columns, wide and namespaced") {
  testing::FakeClock clock;
  model::Object pool;
  pool.kind = model::Kind::kRunnerPool;
  pool.meta.name = "ci";
  pool.meta.namespace_ = "team-a";
  pool.meta.generation = 2;
  pool.meta.creation_timestamp = FormatTimestamp(clock.Now() - std::chrono::minutes(5));
  pool.spec = {{"replicas", 3}, {"ephemeral", true}, {"strategy", {{"type", "RollingUpdate"}}},
               {"template", {{"image", "busybox:1"}}}};
  pool.status = {{"observedGeneration", 2}, {"replicas", 3}, {"readyReplicas", 2}, {"updatedReplicas", 2},
                 {"availableReplicas", 2},
                 {"conditions", {{{"type", "Ready"}, {"status", "False"}, {"reason", "RollingUpdate"}}}}};
  std::ostringstream out;
  ObjectTable(model::Kind::kRunnerPool, {pool}, {true, true, false}, clock.Now()).Print(out);
  CHECK(out.str() ==
        "NAMESPACE   NAME   DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   STATUS          IMAGE       EPHEMERAL   STRATEGY        AGE\n"
        "team-a      ci     3         3         2       2            2           RollingUpdate   busybox:1   true        RollingUpdate   5m\n");
}

TEST_CASE("ReadyState: a condition for an older generation does not count") {
  model::Object o;
  o.meta.generation = 3;
  o.status = {{"observedGeneration", 2}, {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}};
  CHECK(ReadyState(o) == "-");
  o.status["observedGeneration"] = 3;
  CHECK(ReadyState(o) == "True");
  o.meta.deletion_timestamp = "x";
  CHECK(StatusWord(o) == "Terminating");
}
