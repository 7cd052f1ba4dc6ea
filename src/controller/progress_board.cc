#include "controller/progress_board.h"

#include <cstdio>

namespace keelson::controller {
namespace {

std::string Megabytes(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(bytes) / 1e6);
  return buf;
}

}  // namespace

void ProgressBoard::Update(const std::string& what, const docker::Progress& p) {
  std::lock_guard lock(mu_);
  Operation& op = ops_[what];
  if (p.status.rfind("Step ", 0) == 0) {
    op.step = p.status.substr(0, p.status.find('\n'));
    return;
  }
  if (p.id.empty() || p.id.size() < 12) return;  // a pull's summary lines, not a layer's
  Layer& l = op.layers[p.id];
  if (p.status == "Pull complete" || p.status == "Already exists" || p.status == "Pushed" ||
      p.status == "Layer already exists") {
    l.done = true;
    if (l.total > 0) l.current = l.total;
  } else if (p.status == "Downloading" || p.status == "Pushing") {
    l.current = p.current;
    if (p.total > 0) l.total = p.total;
  }
}

void ProgressBoard::Finish(const std::string& what) {
  std::lock_guard lock(mu_);
  ops_.erase(what);
}

std::vector<std::string> ProgressBoard::Lines() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [what, op] : ops_) {
    if (!op.step.empty()) {
      out.push_back(what + ": " + op.step);
      continue;
    }
    int64_t current = 0, total = 0;
    size_t done = 0;
    for (const auto& [id, l] : op.layers) {
      current += l.current;
      total += l.total;
      done += l.done;
    }
    std::string line = what + ": ";
    if (total > 0) line += Megabytes(current) + " of " + Megabytes(total) + " MB, ";
    line += std::to_string(done) + " of " + std::to_string(op.layers.size()) + " layers done";
    out.push_back(line);
  }
  return out;
}

}  // namespace keelson::controller
