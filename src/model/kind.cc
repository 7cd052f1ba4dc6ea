#include "model/kind.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace keelson::model {
namespace {

using V = PrinterColumn::Value;

constexpr std::string_view kImageFiles[] = {"spec.build.context", "spec.auth.passwordFile"};

constexpr PrinterColumn kImageColumns[] = {
    {"READY", "", false, V::kReady},
    {"STATUS", "", false, V::kStatus},
    {"REF", "spec.ref"},
    {"POLICY", "spec.pullPolicy"},
    {"ID", "status.id", true, V::kField, "-", 19},
    {"DIGEST", "status.repoDigest", true},
};
constexpr PrinterColumn kNetworkColumns[] = {
    {"READY", "", false, V::kReady},
    {"STATUS", "", false, V::kStatus},
    {"DRIVER", "spec.driver"},
    {"SUBNET", "spec.subnet"},
    {"INTERNAL", "spec.internal", true},
    {"ID", "status.id", true, V::kField, "-", 12},
};
constexpr PrinterColumn kVolumeColumns[] = {
    {"READY", "", false, V::kReady},
    {"STATUS", "", false, V::kStatus},
    {"DRIVER", "spec.driver"},
    {"MOUNTPOINT", "status.mountpoint", true},
};
constexpr PrinterColumn kRunnerColumns[] = {
    {"READY", "", false, V::kReady},
    {"STATUS", "", false, V::kStatus},
    {"IMAGE", "spec", false, V::kImage},
    {"STATE", "status.state"},
    {"RESTARTS", "status.restarts", false, V::kField, "0"},
    {"HEALTH", "status.health", true},
    {"CONTAINER", "status.containerID", true, V::kField, "-", 12},
};
constexpr std::string_view kRunnerPoolFiles[] = {
    "spec.github.webhookSecretFile",         "spec.github.tokenFile", "spec.github.app.privateKeyFile",
    "spec.github.caFile",                    "spec.autoscaling.queue.bearerTokenFile",
    "spec.autoscaling.queue.caFile"};

constexpr PrinterColumn kPoolColumns[] = {
    {"DESIRED", "status.desiredReplicas", false, V::kDesired},
    {"CURRENT", "status.replicas", false, V::kField, "0"},
    {"READY", "status.readyReplicas", false, V::kField, "0"},
    {"UP-TO-DATE", "status.updatedReplicas", false, V::kField, "0"},
    {"AVAILABLE", "status.availableReplicas", false, V::kField, "0"},
    {"STATUS", "", false, V::kStatus},  // pools read like kubectl's ReplicaSets: counts first
    {"IMAGE", "spec.template", true, V::kImage},
    {"EPHEMERAL", "spec.ephemeral", true},
    {"STRATEGY", "spec.strategy.type", true},
};
constexpr PrinterColumn kPolicyColumns[] = {
    {"READY", "", false, V::kReady},
    {"STATUS", "", false, V::kStatus},
    {"ENFORCEMENT", "spec.enforcement"},
    {"RULES", "spec.rules", false, V::kCount},
    {"VIOLATIONS", "status.violations"},
};

constexpr std::string_view kGitRepositoryFiles[] = {"spec.webhook.secretFile", "spec.auth.passwordFile",
                                                    "spec.auth.sshKeyFile", "spec.auth.knownHostsFile",
                                                    "spec.auth.caFile"};

constexpr PrinterColumn kGitRepositoryColumns[] = {
    {"URL", "spec.url"},
    {"REVISION", "status.lastAppliedRevision"},
    {"READY", "", false, V::kReady},
    {"STATUS", "", false, V::kStatus},
    {"PATH", "spec.path", true},
    {"ATTEMPTED", "status.lastAttemptedRevision", true},
};

constexpr std::array<KindInfo, 7> kKinds = {{
    {Kind::kPolicy, "Policy", "policy", "policies", "pol", "", "", {}, kPolicyColumns},
    {Kind::kImage, "Image", "image", "images", "img", "", "spec.ref", kImageFiles, kImageColumns},
    {Kind::kNetwork, "Network", "network", "networks", "net", "", "", {}, kNetworkColumns},
    {Kind::kVolume, "Volume", "volume", "volumes", "vol", "", "", {}, kVolumeColumns},
    {Kind::kRunner, "Runner", "runner", "runners", "rn", "spec", "", {}, kRunnerColumns},
    {Kind::kRunnerPool, "RunnerPool", "runnerpool", "runnerpools", "pool", "spec.template", "", kRunnerPoolFiles, kPoolColumns},
    {Kind::kGitRepository, "GitRepository", "gitrepository", "gitrepositories", "gitrepo", "", "",
     kGitRepositoryFiles, kGitRepositoryColumns},
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
