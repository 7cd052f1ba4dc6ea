#pragma once
// The compiled schema of every kind, read from the CRDs embedded in the binary.

#include <map>
#include <string>

#include "manifest/schema.h"
#include "model/kind.h"
#include "util/result.h"

namespace keelson::manifest {

class CrdSet {
 public:
  /// Parses and compiles CRD files; errors name the file. Every kind must have
  /// exactly one CRD, in group keelson.dev, version v1alpha1, Namespaced.
  static Result<CrdSet> Load(const std::vector<std::pair<std::string, std::string>>& files);
  /// The embedded crds/, compiled once per process. Thread-safe.
  static const CrdSet& Builtin();

  /// The whole-document schema (apiVersion, kind, metadata, spec, status).
  const Schema& For(model::Kind kind) const { return schemas_.at(kind); }

 private:
  std::map<model::Kind, Schema> schemas_;
};

}  // namespace keelson::manifest
