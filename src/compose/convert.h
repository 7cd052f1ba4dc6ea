#pragma once
// A compose project as keelson manifests: a Network per compose network
// (and the default one), a Volume per named volume, an Image per service
// that builds, and a Runner per service (a RunnerPool with deploy.replicas
// or scale above one), all in a namespace named after the project and
// labelled app.kubernetes.io/part-of=PROJECT. Every field that does not
// carry over is said, one line each, at its position: nothing is dropped
// without a word. docs/compose.md has the field table.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compose/project.h"
#include "manifest/document.h"

namespace keelson::compose {

struct Conversion {
  std::vector<nlohmann::json> objects;  ///< keelson manifests, ready to apply
  /// Fields that did not carry over: "FILE:LINE:COL: services.web.FIELD:
  /// not supported by keelson: what to do instead".
  std::vector<manifest::Diagnostic> unsupported;
  /// What makes the project unconvertible (an undefined network, a service
  /// with neither image nor build, names that collide).
  std::vector<manifest::Diagnostic> errors;
};

/// `output_dir` (absolute): where the manifests will be, so that build
/// contexts are written relative to it; `environment` answers a bare
/// `environment: [NAME]` as docker compose does, from the shell.
Conversion Convert(const Project& project, const std::string& output_dir, const Lookup& environment);

/// A compose name (service, network, volume) as a keelson object name:
/// lowercase, with anything but letters, digits and '-' made '-'.
std::string ObjectName(const std::string& compose_name);

/// A command or entrypoint string split into words as docker compose does
/// (shell-like quoting, no expansion); kInvalid for an unclosed quote.
Result<std::vector<std::string>> SplitCommand(const std::string& command);

/// Compose's byte sizes ("512m", "1gb", 2048) as a keelson quantity
/// ("512Mi"); kInvalid when it is not one.
Result<std::string> ByteQuantity(const nlohmann::json& value);

}  // namespace keelson::compose
