#include "model/kind.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace keelson::model {
namespace {

constexpr std::array<KindInfo, 6> kKinds = {{
    {Kind::kPolicy, "Policy", "policy", "policies", "pol"},
    {Kind::kImage, "Image", "image", "images", "img"},
    {Kind::kNetwork, "Network", "network", "networks", "net"},
    {Kind::kVolume, "Volume", "volume", "volumes", "vol"},
    {Kind::kRunner, "Runner", "runner", "runners", "rn"},
    {Kind::kRunnerPool, "RunnerPool", "runnerpool", "runnerpools", "pool"},
}};

bool EqualsLower(std::string_view text, std::string_view lower) {
  return text.size() == lower.size() &&
         std::equal(text.begin(), text.end(), lower.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

}  // namespace

std::span<const KindInfo> AllKinds() { return kKinds; }

const KindInfo& Info(Kind kind) {
  for (const auto& info : kKinds) {
    if (info.kind == kind) return info;
  }
  return kKinds[0];  // unreachable: every Kind is in the table
}

std::optional<Kind> ParseKind(std::string_view text) {
  for (const auto& info : kKinds) {
    if (EqualsLower(text, info.singular) || EqualsLower(text, info.plural) ||
        EqualsLower(text, info.short_name)) {
      return info.kind;
    }
  }
  return std::nullopt;
}

std::optional<Kind> KindFromManifestName(std::string_view text) {
  for (const auto& info : kKinds) {
    if (text == info.name) return info.kind;
  }
  return std::nullopt;
}

}  // namespace keelson::model
