#pragma once
// What each server-side apply field manager owns of an object: a set of
// fields (JSON pointers) per manager and object uid. Removed with the object.

#include <map>
#include <set>
#include <string>

#include "store/db.h"
#include "util/clock.h"
#include "util/result.h"

namespace keelson::store {

class FieldManagers {
 public:
  FieldManagers(Db& db, const Clock& clock) : db_(db), clock_(clock) {}
  /// Every manager of the object `uid` and its fields.
  Result<std::map<std::string, std::set<std::string>>> Load(const std::string& uid);
  /// Replaces `manager`'s fields of `uid`; an empty set removes the manager.
  Result<void> Save(const std::string& uid, const std::string& manager, const std::set<std::string>& fields);

 private:
  Db& db_;
  const Clock& clock_;
};

}  // namespace keelson::store
