#pragma once
// Admission: what every writer of desired state runs before it stores
// anything (apply, scale, rollout undo, the controller's automatic rollback,
// and the API server and git source to come). It judges objects as the
// store would hold them after the write: the CRD schema, dependsOn cycles
// and Policies, and that an object a git source owns is written by that
// source only. Writers that edit a stored object go through Update, which
// also makes the write conditional on the resourceVersion it read.

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "manifest/document.h"
#include "model/object.h"
#include "store/object_store.h"
#include "util/result.h"

namespace keelson::admission {

/// An object a writer wants stored.
struct Candidate {
  const model::Object* object = nullptr;
  /// Where it came from, when it is a manifest document: errors then say
  /// FILE:LINE:COL, and the schema is not checked again (the loader did).
  const manifest::Document* doc = nullptr;
  manifest::Mark depends_on;  ///< where spec.dependsOn is, when from a file
  /// Take the object from the git source that owns it (apply
  /// --force-conflicts); otherwise a write whose labels name another source
  /// than the stored object's (or none) is refused.
  bool take_ownership = false;
};

/// One reason to refuse a write.
struct Finding {
  /// The whole line: "FILE:LINE:COL: FIELD: ..." for documents,
  /// "KIND/NAME: FIELD: ..." otherwise.
  std::string line;
  std::string field;    ///< "spec.image"; may be empty
  std::string message;  ///< without the place and the field

  bool operator==(const std::string& other) const { return line == other; }
};

struct Review {
  /// Any error refuses the whole write.
  std::vector<Finding> errors;
  std::vector<std::string> warnings;  ///< one line each, without "warning: "
  /// Per candidate, in order: findings to record as events with the object
  /// (policy warn and audit verdicts).
  std::vector<std::vector<store::EventNote>> events;

  bool admitted() const { return errors.empty(); }
};

/// Judges `candidates` against the store as it will be after the write
/// (stored objects replaced by candidates of the same kind, namespace and
/// name). Errors only when the store cannot be read.
Result<Review> Admit(store::ObjectStore& store, const std::vector<Candidate>& candidates);

/// Changes a spec in place; returns false to leave the object as it is, or
/// an error (kInvalid for a change that makes no sense on this object).
/// `note`, when set, is added to the source recorded with the revision.
using SpecChange =
    std::function<Result<bool>(const model::Object& current, nlohmann::json& spec, std::string* note)>;

/// How many times Update reads again after a conflicting write.
inline constexpr int kUpdateAttempts = 5;

/// Read-modify-write of one stored object's spec: reads it, applies
/// `change`, admits the result, and stores it on the condition that the
/// object did not change since the read. On a conflict (another writer was
/// first) it reads again and repeats, so both changes survive; after
/// kUpdateAttempts it gives up with kConflict. kNotFound when the object is
/// absent; kInvalid (the Review's lines joined) when admission refuses.
struct Updated {
  store::ApplyAction action = store::ApplyAction::kUnchanged;
  std::vector<std::string> warnings;  ///< policy warnings, one line each
};
Result<Updated> Update(store::ObjectStore& store, model::Kind kind, const std::string& ns, const std::string& name,
                       const SpecChange& change, const std::string& source);

}  // namespace keelson::admission
