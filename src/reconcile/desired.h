#pragma once
// Desired engine-side config, from a typed spec: what keelson would create
// now. Pure except for reading env files (spec.env[].valueFrom.file).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "docker/types.h"
#include "model/object.h"
#include "model/specs.h"
#include "util/result.h"

namespace keelson::reconcile {

/// The container for a Runner spec (a Runner's spec, or a pool's template).
/// `image` is the reference to run (spec.image, or the resolved imageRef),
/// `name` the container name; networks and volumes are named as keelson names
/// them in `owner`'s namespace. Labels: spec.labels, the owner labels and the
/// spec hash. kInvalid (naming the field) for an env file that cannot be read.
///
/// A Runner's hash leaves its networks out: attachments are changed in
/// place, never by a replacement. `legacy_hash`, when given, is the hash
/// keelson 0.1 gave the same container (networks counted), which a
/// container made then still carries.
Result<docker::ContainerSpec> DesiredContainer(const model::Object& owner, const model::RunnerSpec& spec,
                                               const std::string& name, const std::string& image,
                                               const std::string& store_id, std::string* legacy_hash = nullptr);

/// The spec-hash label of a container: the stored spec (without the fields
/// only the controller acts on, and without networks unless asked), the image
/// it runs and the resolved env.
std::string ContainerHash(const nlohmann::json& hash_basis, const std::string& image,
                          const std::vector<std::string>& resolved_env, bool with_networks = true);

docker::NetworkSpec DesiredNetwork(const model::Object& owner, const model::NetworkSpec& spec,
                                   const std::string& store_id);
docker::VolumeSpec DesiredVolume(const model::Object& owner, const model::VolumeSpec& spec,
                                 const std::string& store_id);

}  // namespace keelson::reconcile
