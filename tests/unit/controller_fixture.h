#pragma once
// A controller on FakeEngine, a fake clock and a real in-memory SQLite: apply
// YAML as `keelson apply` would, reconcile keys, look at the fake's world.

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "controller/cache.h"
#include "controller/reconciler.h"
#include "fake_clock.h"
#include "fake_engine.h"
#include "manifest/crds.h"
#include "manifest/loader.h"
#include "store/object_store.h"

namespace keelson::testing {

struct ControllerFixture {
  FakeClock clock;
  FakeEngine engine;
  std::unique_ptr<store::Db> db = *store::Db::Open(":memory:");
  store::ObjectStore store{*db, clock};
  controller::Cache cache{engine};
  controller::Metrics metrics;
  controller::Shared shared{engine, cache, clock, metrics};
  controller::Reconciler reconciler{shared, store};

  ControllerFixture() {
    engine.SetClock(&clock);
    engine.AddImage("keelson-test/busybox:1");
  }

  /// Applies YAML (defaults and validation as `keelson apply`); fails the test on errors.
  void Apply(const std::string& yaml) {
    // Any path may be named here; confinement has its own tests (loader_test).
    auto loaded = manifest::LoadManifests({manifest::Source{"test.yaml", yaml}}, "default",
                                          manifest::CrdSet::Builtin(), {"/"});
    REQUIRE_MESSAGE(loaded.errors.empty(), (loaded.errors.empty() ? "" : loaded.errors[0].ToString()));
    std::vector<store::ApplyRequest> reqs;
    for (auto& lo : loaded.objects) reqs.push_back({std::move(lo.object), lo.source});
    REQUIRE(store.Apply(reqs, std::nullopt, false).has_value());
  }

  /// One resync of the cache, then reconciles `key` until it asks for
  /// nothing more (at most `passes` times). Returns the last outcome.
  controller::Outcome Converge(const std::string& key, int passes = 5) {
    controller::Outcome out;
    if (auto r = cache.Resync(); !r) {
      out.error = r.error();  // as the manager would: the engine is down
      return out;
    }
    for (int i = 0; i < passes; ++i) {
      out = reconciler.Reconcile(key);
      if (out.error || !out.requeue_after || i + 1 == passes) break;
      clock.Advance(*out.requeue_after);
    }
    return out;
  }

  model::Object Get(const std::string& key) {
    auto ref = model::ParseKey(key);
    auto o = store.Get(ref->kind, ref->namespace_, ref->name);
    REQUIRE(o.has_value());
    REQUIRE(o->has_value());
    return **o;
  }

  std::string Reason(const std::string& key, const std::string& type = "Ready") {
    auto o = Get(key);
    const auto* c = model::FindCondition(o, type);
    return c ? c->value("reason", "") : "";
  }

  bool Ready(const std::string& key) { return model::IsReady(Get(key)); }

  /// What the kind's reconciler plans for `o` now, as `keelson plan` asks it.
  Result<reconcile::Plan> PlanFor(const model::Object& o) {
    reconcile::Memory memory = reconcile::DecodeMemory(o.controller_state, o.status);
    return reconcile::ReconcilerFor(o.kind).PlanFor(o, memory, reconciler.world());
  }

  /// Calls that change the engine (everything but reads) since ResetCalls.
  int ChangingCalls() {
    int n = 0;
    for (const auto& [method, count] : engine.Calls()) {
      if (method.rfind("List", 0) != 0 && method.rfind("Inspect", 0) != 0 && method != "Ping" && method != "Version") {
        n += count;
      }
    }
    return n;
  }

  std::vector<docker::ContainerSummary> Containers(const std::string& label = "dev.keelson.managed-by=keelson") {
    return *engine.ListContainers({{label}, true});
  }
};

}  // namespace keelson::testing
