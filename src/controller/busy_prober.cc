#include "controller/busy_prober.h"

#include <spdlog/spdlog.h>

namespace keelson::controller {

std::set<std::string> BusyProber::Tick(const std::vector<ProbeTarget>& targets) {
  std::set<std::string> changed, live;
  for (const auto& t : targets) {
    live.insert(t.container);
    const TimePoint now = clock_.Now();
    auto last = last_run_.find(t.container);
    if (last != last_run_.end() && now - last->second < t.probe.period) continue;
    last_run_[t.container] = now;
    docker::ExecRequest req;
    req.cmd = t.probe.command;
    req.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(t.probe.timeout);
    req.output = [](docker::OutputStream, std::string_view) { return true; };
    auto code = engine_.Exec(t.container, req);
    if (!code) {
      spdlog::debug("busy probe of {}: {} (the last answer stands)", t.container, code.error().message);
      continue;
    }
    if (board_.Set(t.uid, t.container, "probe", *code == 0)) changed.insert(t.key);
  }
  for (auto it = last_run_.begin(); it != last_run_.end();) {
    it = live.count(it->first) ? std::next(it) : last_run_.erase(it);
  }
  board_.Keep("probe", live);
  return changed;
}

}  // namespace keelson::controller
