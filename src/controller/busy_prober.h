#pragma once
// The busy probes of autoscaled pools (spec.template.busyProbe): a command
// exec'd in each running replica every periodSeconds, as the kubelet runs
// an exec probe. Exit code 0 is busy. Answers go on the BusyBoard; a probe
// that cannot run (the container stopping, the engine away) or passes its
// timeout leaves the last answer standing, so a busy replica is not taken
// for idle because it was too loaded to answer.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "controller/busy_board.h"
#include "docker/engine.h"
#include "model/specs.h"
#include "util/clock.h"

namespace keelson::controller {

struct ProbeTarget {
  std::string key;        ///< the pool's work-queue key
  std::string uid;        ///< the pool's
  std::string container;  ///< a running replica's name
  model::BusyProbeSpec probe;
};

class BusyProber {
 public:
  /// All must outlive it. Not thread-safe: one thread ticks it.
  BusyProber(docker::ContainerEngine& engine, const Clock& clock, BusyBoard& board)
      : engine_(engine), clock_(clock), board_(board) {}

  /// Runs the probes of `targets` that are due (never run, or run
  /// periodSeconds ago), one after another, and forgets containers that
  /// are no longer targets. Returns the keys of pools whose busy replicas
  /// changed.
  std::set<std::string> Tick(const std::vector<ProbeTarget>& targets);

 private:
  docker::ContainerEngine& engine_;
  const Clock& clock_;
  BusyBoard& board_;
  std::map<std::string, TimePoint> last_run_;  ///< by container
};

}  // namespace keelson::controller
