#pragma once
// Which objects an outside change is about: pure functions from an engine
// event, or from two scans of the store, to object keys. The Manager's event
// sources only call these and enqueue.

#include <cstdint>
#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "docker/types.h"

namespace keelson::controller {

/// The labels keelson knows for an engine object: ("container", id),
/// ("network", name) or ("volume", name); nullopt when it knows none.
using LabelsOf = std::function<std::optional<docker::Labels>(const std::string& type, const std::string& ref)>;

/// The owner keys ("Runner/default/web") an engine event concerns, read from
/// labels only: a container event's own attributes (its labels); a network
/// or volume event's object, and a connected container, through `labels_of`
/// (network and volume events carry no labels). Unmanaged objects give none,
/// and, with `store_id`, neither do those of another keelson store on the
/// same engine.
std::vector<std::string> KeysForEvent(const docker::Event& e, const LabelsOf& labels_of,
                                      const std::string& store_id = "");

/// Container event actions that say nothing about state keelson cares for
/// (exec_*, attach, resize, top, ...).
bool NoiseEvent(const docker::Event& e);

/// Keys whose resourceVersion changed between two scans of the store, or
/// that appeared or went, except versions `own` says are the controller's
/// own status writes.
std::vector<std::string> ChangedKeys(const std::map<std::string, int64_t>& before,
                                     const std::map<std::string, int64_t>& now,
                                     const std::function<bool(const std::string&, int64_t)>& own);

/// The objects that may wait on `key` (those of its namespace whose kind
/// carries a Runner spec: Runners and RunnerPools), among `keys`: they look
/// again when its Ready flips.
std::vector<std::string> Dependents(const std::string& key, const std::map<std::string, int64_t>& keys);

}  // namespace keelson::controller
