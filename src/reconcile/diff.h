#pragma once
// Field-by-field differences between what keelson wants and what the engine
// reports, as the lines users read in `plan`, events and logs:
//   image "busybox:1" -> "busybox:2", env[TOKEN] changed (env values are never
//   printed: they may hold secrets read from files)
// What the engine or the image fills in where the spec says nothing (the
// image's env, cmd, working dir, labels) is not a difference.

#include <string>
#include <vector>

#include "docker/types.h"

namespace keelson::reconcile {

/// Differences that need a new container (everything but network
/// attachments, which are repaired in place). `image` is the inspected image
/// the container runs, or nullptr when unknown (then image defaults are not
/// subtracted, and only the fields the spec sets are compared).
std::vector<std::string> DiffContainer(const docker::ContainerSpec& want, const docker::Container& have,
                                       const docker::Image* image);

/// Network attachments to change so the container is on exactly the networks
/// of `want`, with its aliases ("bridge" is the engine's default when the spec
/// names none). Disconnects come first; an alias change is both.
struct NetworkChange {
  bool connect = true;
  docker::NetworkAttachment attachment;
  std::string reason;
};
std::vector<NetworkChange> DiffNetworks(const docker::ContainerSpec& want, const docker::Container& have);

/// Differences of a network or volume: fields the spec sets, and labels.
std::vector<std::string> DiffNetwork(const docker::NetworkSpec& want, const docker::NetworkSpec& have);
std::vector<std::string> DiffVolume(const docker::VolumeSpec& want, const docker::VolumeSpec& have);

}  // namespace keelson::reconcile
