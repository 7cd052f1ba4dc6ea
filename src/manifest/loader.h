#pragma once
// Files -> validated, defaulted objects. Nothing here touches the store: a
// caller stores the result only when `errors` is empty.

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "manifest/crds.h"
#include "manifest/document.h"
#include "model/object.h"
#include "util/result.h"

namespace keelson::manifest {

struct Source {
  std::string name;  ///< as shown in errors: the path as found, or "<stdin>"
  std::string text;
  /// Sent over the API: not a file, so its specs' relative paths resolve
  /// against `base` (the server's --api-files-dir) and must stay inside it
  /// or `allowed_paths`; with no `base`, only absolute paths inside
  /// `allowed_paths` are taken.
  bool remote = false;
  std::string base = {};
};

/// Reads every path: a file, "-" for `in`, or a directory's *.yaml/*.yml files
/// in name order (with `recursive`, its subdirectories too). Errors: kNotFound
/// or kInvalid naming the path.
Result<std::vector<Source>> ReadSources(const std::vector<std::string>& paths, bool recursive,
                                        std::istream& in);

struct LoadedObject {
  model::Object object;  ///< spec defaulted; metadata uid/generation etc. unset
  std::string source;    ///< file it came from
  Mark mark;             ///< where its document starts
  Mark depends_on;       ///< where spec.dependsOn is (the document start when absent)
  Document doc;          ///< where each field was, for later errors (its value is moved into `object`)
};

struct LoadResult {
  std::vector<LoadedObject> objects;
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;
};

/// Parses and validates every document of every source against `crds`, then
/// checks what a schema cannot say (exclusive fields, label keys, duplicate
/// objects across all sources) and applies defaults. `default_namespace` is
/// used where a document names none.
/// `allowed_paths`: directories besides each manifest's own from which its
/// specs may name files (KEELSON_ALLOWED_PATHS).
LoadResult LoadManifests(const std::vector<Source>& sources, const std::string& default_namespace,
                         const CrdSet& crds, const std::vector<std::filesystem::path>& allowed_paths = {});

}  // namespace keelson::manifest
