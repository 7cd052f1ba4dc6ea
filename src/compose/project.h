#pragma once
// A compose project read as docker compose v2 reads it: one or more files
// (-f) merged in order, every string value interpolated from the
// environment and the project directory's .env file, `extends` resolved,
// services outside the active profiles left out, and a project name. The
// result keeps where each value came from, so that what the converter says
// about a field is FILE:LINE:COL: services.web.FIELD: ...

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compose/interpolate.h"
#include "manifest/document.h"
#include "util/result.h"

namespace keelson::compose {

struct LoadOptions {
  std::vector<std::string> files;  ///< in order; later ones override earlier ones
  std::string project_name;        ///< "": COMPOSE_PROJECT_NAME, the top-level name, the directory's
  std::vector<std::string> profiles;  ///< active profiles (with COMPOSE_PROFILES)
  Lookup environment;              ///< the process environment
};

struct Project {
  std::string name;  ///< normalized: lowercase letters, digits, - and _
  std::string dir;   ///< the first file's directory (absolute): relative paths start here
  /// The merged model: services, networks, volumes, secrets, configs, ...
  nlohmann::json model;
  /// The files' documents, to say where a field is.
  std::vector<manifest::Document> documents;

  /// `message` about `path`, at its position (its key's, with `at_key`) in
  /// the last file that sets it.
  manifest::Diagnostic At(const manifest::Path& path, std::string message, bool at_key = false) const;
};

/// kInvalid with one "FILE:LINE:COL: FIELD: ..." line for a file that does
/// not parse, a bad template or a missing required variable, an `extends`
/// that names nothing (or loops), or a file that is not a compose file.
Result<Project> LoadProject(const LoadOptions& options);

/// A compose project name as docker compose normalizes it: lowercase, and
/// only [a-z0-9_-] kept; must start with a letter or digit.
std::string NormalizeProjectName(const std::string& name);

}  // namespace keelson::compose
