#pragma once
// Turning command-line words into kinds and object names.

#include <optional>
#include <string>
#include <vector>

#include "model/kind.h"
#include "util/result.h"

namespace keelson::cli {

struct ObjectRef {
  model::Kind kind;
  std::string name;  ///< empty: every object of the kind
};

/// Parses `KIND NAME...`, `KIND,KIND... NAME...` (each kind with each name)
/// or `KIND/NAME...` words as kubectl does. Unknown
/// kinds and mixed forms are kInvalid (a usage error).
Result<std::vector<ObjectRef>> ParseRefs(const std::vector<std::string>& words);

/// "unknown kind "x": use one of image, network, ..."
std::string UnknownKindMessage(const std::string& word);

}  // namespace keelson::cli
