#pragma once
// Restoring a RunnerPool's previous template from its history: `rollout
// undo`, and the controller's automatic rollback when an update misses its
// progressDeadline. A spec write like any other: admitted, and conditional on
// the resourceVersion read.

#include <cstdint>
#include <optional>
#include <string>

#include "store/object_store.h"
#include "util/result.h"

namespace keelson::admission {

/// Sets the pool's template to the newest earlier one in its history that
/// differs from the current (replicas and everything else stay). With
/// `only_generation`, only while the pool is still at that generation (a
/// rollback must not undo a change made since). Returns the generation whose
/// template was restored; nullopt when `only_generation` no longer holds.
/// kNotFound when the pool is gone or has no earlier template.
Result<std::optional<int64_t>> RestorePreviousTemplate(store::ObjectStore& store, const std::string& ns,
                                                       const std::string& name, const std::string& source,
                                                       std::optional<int64_t> only_generation = std::nullopt);

/// Sets the pool's template to that of revision (generation) `revision` in
/// its history: `rollout undo --to-revision`. kNotFound when the history no
/// longer keeps it. Returns the generation the write gave the pool (unchanged
/// when the template already is that one).
Result<int64_t> RestoreTemplateOf(store::ObjectStore& store, const std::string& ns, const std::string& name,
                                  int64_t revision, const std::string& source);

}  // namespace keelson::admission
