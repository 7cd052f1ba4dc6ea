#pragma once
// Files compiled into the binary at build time (see scripts/embed.py).

#include <string_view>
#include <vector>

namespace keelson::manifest {

struct EmbeddedFile {
  std::string_view name;     ///< base name, e.g. "runner.yaml"
  std::string_view content;
};

/// The CustomResourceDefinitions in crds/, exactly as in the source tree.
const std::vector<EmbeddedFile>& EmbeddedCrds();

}  // namespace keelson::manifest
