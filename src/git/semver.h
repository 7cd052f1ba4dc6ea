#pragma once
// Semantic versions and version constraints exactly as Masterminds/semver v3
// reads them, which is what Flux's GitRepository `ref.semver` uses: "v1.2.3",
// "1.2" (1.2.0); constraints "=", "!=", ">", "<", ">=", "<=", "~", "~>",
// "^", x-ranges ("1.2.x", "*"), hyphen ranges ("1.2 - 1.4.5"), AND by space
// or comma, OR by "||"; a prerelease matches only a group of ANDed
// constraints one of which names a prerelease.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace keelson::git {

struct Version {
  uint64_t major = 0, minor = 0, patch = 0;
  std::string pre;   ///< without the '-'
  std::string meta;  ///< without the '+'; ignored in comparisons
};

/// NewVersion's loose form: an optional "v", 1 to 3 numbers, a prerelease,
/// build metadata. nullopt for anything else (a tag that is not a version).
std::optional<Version> ParseVersion(std::string_view text);
/// Semver precedence: <0, 0, >0. Build metadata is ignored.
int Compare(const Version& a, const Version& b);

class Constraints {
 public:
  /// kInvalid `improper constraint: "TEXT"` as Masterminds says it.
  static Result<Constraints> Parse(std::string_view text);
  bool Check(const Version& v) const;

 private:
  struct One {
    std::string op;
    Version con;
    bool dirty = false, minor_dirty = false, patch_dirty = false;
  };
  static bool Check(const One& c, const Version& v, bool include_pre);
  std::vector<std::vector<One>> ors_;
  std::vector<bool> has_pre_;  ///< per OR group: one of its constraints names a prerelease
};

/// The tag among `tags` that `constraint` picks: the highest version that
/// satisfies it. nullopt when none does.
std::optional<std::string> HighestMatching(const std::vector<std::string>& tags, const Constraints& constraint);

}  // namespace keelson::git
