#pragma once
// A build context as the engine's POST /build wants it: an uncompressed tar
// of a directory, made with libarchive.

#include <string>

#include "util/result.h"

namespace keelson::docker {

/// Archives `dir` (files, directories and symlinks, sorted, paths relative to
/// `dir`) into memory. kNotFound if `dir` is missing, kInvalid if not a directory.
Result<std::string> TarDirectory(const std::string& dir);

}  // namespace keelson::docker
