#pragma once
// Reading -f paths for apply, delete and diff: every error printed, one line each.

#include <optional>
#include <string>
#include <vector>

#include "manifest/loader.h"
#include "store/object_store.h"
#include "util/result.h"

namespace keelson::cli {

/// Reads and validates every document of every path. Prints warnings; on any
/// error prints every error line and returns nullopt. With `namespace_given`
/// (-n on the command line), an object naming another namespace is an error,
/// as kubectl refuses it.
std::optional<std::vector<manifest::LoadedObject>> LoadOrReport(const std::vector<std::string>& paths, bool recursive,
                                                                const std::string& default_namespace,
                                                                bool namespace_given = false);

/// Every document judged as the store will be after this write: one line
/// per refusal (FILE:LINE:COL first) on stderr, warnings printed, findings
/// kept as events with the requests. False when any was refused.
Result<bool> Admit(store::ObjectStore& objects, std::vector<store::ApplyRequest>& requests,
                   const std::vector<manifest::LoadedObject>& loaded, bool take_ownership = false);

}  // namespace keelson::cli
