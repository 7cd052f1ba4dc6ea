#pragma once
// What logs, exec and top work on: a Runner or a RunnerPool of the local
// store, and the engine containers keelson made for it.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/context.h"
#include "docker/engine.h"
#include "model/object.h"

namespace keelson::cli {

struct Workload {
  std::unique_ptr<Session> session;
  std::unique_ptr<docker::Engine> engine;
  model::Object object;
  std::string store_id;

  /// The object's containers (labels: this store and the object's uid),
  /// sorted by name: a Runner's one, a pool's replicas.
  Result<std::vector<docker::ContainerSummary>> Containers();
};

/// Every container keelson made for store `store_id`, by owner uid, each
/// owner's sorted by name: one engine call for any number of objects.
Result<std::map<std::string, std::vector<docker::ContainerSummary>>> ContainersByOwner(docker::Engine& engine,
                                                                                       const std::string& store_id);

/// Stats of each container in `ids` (at most 16 asked at once), by id;
/// containers that are gone meanwhile are left out.
Result<std::map<std::string, docker::Stats>> StatsOf(docker::Engine& engine, const std::vector<std::string>& ids,
                                                     docker::StatsMode mode);

/// Opens the store and the engine and finds the object `words` name:
/// `runner/NAME`, `runnerpool/NAME`, `KIND NAME`, or a bare NAME (a Runner,
/// as kubectl takes a bare name for a pod). `command` is for messages.
Result<Workload> OpenWorkload(const Globals& g, const std::vector<std::string>& words, const std::string& command);

}  // namespace keelson::cli
