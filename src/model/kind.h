#pragma once
// The kinds keelson manages and the names users may call them by.

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace keelson::model {

inline constexpr std::string_view kGroup = "keelson.dev";
inline constexpr std::string_view kVersion = "v1alpha1";
inline constexpr std::string_view kApiVersion = "keelson.dev/v1alpha1";

enum class Kind { kImage, kNetwork, kVolume, kRunner, kRunnerPool, kPolicy };

struct KindInfo {
  Kind kind;
  std::string_view name;        ///< "RunnerPool"
  std::string_view singular;    ///< "runnerpool"
  std::string_view plural;      ///< "runnerpools"
  std::string_view short_name;  ///< "pool"
};

/// All kinds, in the order `get all` and the controller handle them
/// (dependencies first).
std::span<const KindInfo> AllKinds();
const KindInfo& Info(Kind kind);
/// Parses a kind as users type it: "RunnerPool", "runnerpool", "runnerpools" or
/// "pool" (case-insensitive). nullopt when unknown.
std::optional<Kind> ParseKind(std::string_view text);
/// The exact manifest spelling ("Runner") only.
std::optional<Kind> KindFromManifestName(std::string_view text);

}  // namespace keelson::model
