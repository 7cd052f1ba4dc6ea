#pragma once
// Files that hold secrets (env values, registry passwords) and paths that
// manifests name: confined to the directories allowed for them, read with a
// bound, never printed.

#include <filesystem>
#include <string>
#include <vector>

#include "util/result.h"

namespace keelson {

/// The largest secret file read (1 MiB): an env value or a password, not a disk image.
inline constexpr uintmax_t kMaxSecretFileBytes = 1 << 20;

/// Resolves `path` (relative to `base` when not absolute) with symlinks
/// followed, and checks it lies inside `base` or one of `allowed` (each
/// compared resolved too). Returns the resolved path, or kInvalid saying
/// where it points and what is allowed. An empty `base` (a spec sent over
/// the API) allows only absolute paths inside `allowed`.
Result<std::filesystem::path> ConfinePath(const std::string& path, const std::filesystem::path& base,
                                          const std::vector<std::filesystem::path>& allowed);

/// True when `path` is `root` or lies under it (both resolved already).
bool IsWithin(const std::filesystem::path& path, const std::filesystem::path& root);

/// Reads a secret file that apply confined (absolute, symlinks resolved):
/// refuses one that has since become a symlink or anything but a regular
/// file, or that exceeds kMaxSecretFileBytes. Errors name the path, never
/// the contents. One trailing newline (LF or CRLF) is dropped.
Result<std::string> ReadSecretFile(const std::string& path);

/// KEELSON_ALLOWED_PATHS: directories (colon-separated) from which manifests
/// may name files outside their own directory.
std::vector<std::filesystem::path> AllowedPathsFromEnvironment();

}  // namespace keelson
