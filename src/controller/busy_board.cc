#include "controller/busy_board.h"

namespace keelson::controller {

bool BusyBoard::Entry::Busy() const {
  for (const auto& [source, busy] : by_source) {
    if (busy) return true;
  }
  return false;
}

bool BusyBoard::Set(const std::string& uid, const std::string& container, const std::string& source, bool busy) {
  std::lock_guard lock(mu_);
  Entry& e = entries_[container];
  const bool was = e.Busy();
  e.uid = uid;
  e.by_source[source] = busy;
  return was != e.Busy();
}

std::set<std::string> BusyBoard::BusyOf(const std::string& uid) const {
  std::lock_guard lock(mu_);
  std::set<std::string> out;
  for (const auto& [name, e] : entries_) {
    if (e.uid == uid && e.Busy()) out.insert(name);
  }
  return out;
}

void BusyBoard::Keep(const std::string& source, const std::set<std::string>& live) {
  std::lock_guard lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (!live.count(it->first)) it->second.by_source.erase(source);
    it = it->second.by_source.empty() ? entries_.erase(it) : std::next(it);
  }
}

}  // namespace keelson::controller
