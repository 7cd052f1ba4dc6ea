#pragma once
// The API's writes of keelson's kinds, each through the same admission as
// `keelson apply` (the CRD schema, what a schema cannot say, dependsOn
// cycles, Policies), so the API refuses what the CLI refuses, with the same
// field messages, and stores nothing then. As Kubernetes does for custom
// resources with a status subresource: the main resource ignores status,
// /status writes only status, an update must name the resourceVersion it
// read (a stale one is 409 Conflict), and patches are JSON merge patches or
// JSON patches (RFC 7386, RFC 6902) applied to the stored object.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "model/kind.h"
#include "server/http_server.h"
#include "store/object_store.h"

namespace keelson::api {

/// What a request's path names.
struct Target {
  model::Kind kind = model::Kind::kRunner;
  std::optional<std::string> namespace_;  ///< unset: every namespace
  std::string name;                       ///< "" for the collection
  std::string subresource;                ///< "", "status" or "scale"
};

struct Writer {
  store::ObjectStore& store;
  store::Db& db;        ///< the same connection's, for field managers
  const Clock& clock;
  std::string user;                                  ///< recorded with revisions ("api:USER")
  const std::vector<std::filesystem::path>& allowed_paths;  ///< files specs may name (KEELSON_ALLOWED_PATHS)
  std::string files_dir = {};  ///< where relative paths in specs resolve (--api-files-dir); "" none
};

/// POST to a collection.
server::Response Create(Writer& w, const Target& t, const server::Request& r);
/// PUT of an object, its /status or its /scale.
server::Response Replace(Writer& w, const Target& t, const server::Request& r);
/// PATCH of an object, its /status or its /scale.
server::Response Patch(Writer& w, const Target& t, const server::Request& r);
/// PATCH with application/apply-patch+yaml: server-side apply by the
/// ?fieldManager= (creates the object when absent). A field another manager
/// applied with another value is a 409 Conflict naming it, unless ?force=true.
server::Response ServerSideApply(Writer& w, const Target& t, const server::Request& r);
/// DELETE of an object (DeleteOptions' preconditions honoured) or of a
/// collection (?labelSelector=, ?fieldSelector=metadata.name=).
server::Response Delete(Writer& w, const Target& t, const server::Request& r);
/// GET of /scale (RunnerPools).
server::Response GetScale(store::ObjectStore& store, const Target& t);

}  // namespace keelson::api
