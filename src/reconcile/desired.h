#pragma once
// Desired engine-side config, from a stored spec: what keelson would create
// now. Pure except for reading env files (spec.env[].valueFrom.file).

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "docker/types.h"
#include "model/object.h"
#include "util/result.h"

namespace keelson::reconcile {

/// The container for a Runner spec (a Runner's spec, or a pool's template).
/// `image` is the reference to run (spec.image, or the resolved imageRef),
/// `name` the container name; networks and volumes are named as keelson names
/// them in `owner`'s namespace. Labels: owner labels, spec.labels and the spec
/// hash. kInvalid (naming the field) for values the engine cannot take, e.g.
/// an env file that cannot be read.
Result<docker::ContainerSpec> DesiredContainer(const model::Object& owner, const nlohmann::json& runner_spec,
                                               const std::string& name, const std::string& image,
                                               const std::string& store_id);

/// The Runner spec fields that only the controller acts on (restartPolicy,
/// dependsOn) are left out of the hash: changing them replaces nothing.
std::string ContainerHash(const nlohmann::json& runner_spec, const std::string& image,
                          const std::vector<std::string>& resolved_env);

docker::NetworkSpec DesiredNetwork(const model::Object& network, const std::string& store_id);
docker::VolumeSpec DesiredVolume(const model::Object& volume, const std::string& store_id);

/// The string map at `spec[field]`; empty when absent.
std::map<std::string, std::string> StringMapField(const nlohmann::json& spec, const char* field);

/// Stop timeout of a Runner spec in whole seconds (spec.stopTimeout, 10 s default).
int StopTimeoutSeconds(const nlohmann::json& runner_spec);

}  // namespace keelson::reconcile
