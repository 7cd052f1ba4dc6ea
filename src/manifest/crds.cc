#include "manifest/crds.h"

#include <cstdio>
#include <cstdlib>

#include "manifest/document.h"
#include "manifest/embedded.h"

namespace keelson::manifest {
namespace {

Result<std::pair<model::Kind, Schema>> CompileCrd(const std::string& name, const std::string& text) {
  auto fail = [&](const std::string& msg) {
    return Unexpected(ErrorCode::kInvalid, "crd " + name + ": " + msg);
  };
  auto docs = ParseYaml(text, name);
  if (!docs) return Unexpected(docs.error());
  if (docs->size() != 1) return fail("must hold exactly one document");
  const auto& crd = docs->front().value;
  if (crd.value("kind", "") != "CustomResourceDefinition" ||
      crd.value("apiVersion", "") != "apiextensions.k8s.io/v1") {
    return fail("not an apiextensions.k8s.io/v1 CustomResourceDefinition");
  }
  const auto& spec = crd.at("spec");
  if (spec.value("group", "") != model::kGroup || spec.value("scope", "") != "Namespaced") {
    return fail("must be group keelson.dev, scope Namespaced");
  }
  auto kind = model::KindFromManifestName(spec.at("names").value("kind", ""));
  if (!kind) return fail("names.kind is not a keelson kind");
  for (const auto& version : spec.at("versions")) {
    if (version.value("name", "") != model::kVersion) continue;
    auto schema = Schema::Compile(version.at("schema").at("openAPIV3Schema"));
    if (!schema) return fail(schema.error().message);
    return std::make_pair(*kind, std::move(*schema));
  }
  return fail("has no version v1alpha1");
}

}  // namespace

Result<CrdSet> CrdSet::Load(const std::vector<std::pair<std::string, std::string>>& files) {
  CrdSet set;
  for (const auto& [name, text] : files) {
    Result<std::pair<model::Kind, Schema>> compiled = Unexpected(ErrorCode::kInternal, "");
    try {
      compiled = CompileCrd(name, text);
    } catch (const nlohmann::json::exception& e) {
      return Unexpected(ErrorCode::kInvalid, "crd " + name + ": malformed: " + e.what());
    }
    if (!compiled) return Unexpected(compiled.error());
    if (!set.schemas_.emplace(compiled->first, std::move(compiled->second)).second) {
      return Unexpected(ErrorCode::kInvalid, "crd " + name + ": a second CRD for the same kind");
    }
  }
  for (const auto& info : model::AllKinds()) {
    if (!set.schemas_.count(info.kind)) {
      return Unexpected(ErrorCode::kInvalid, "crds: no CRD for kind " + std::string(info.name));
    }
  }
  return set;
}

const CrdSet& CrdSet::Builtin() {
  static const CrdSet set = [] {
    std::vector<std::pair<std::string, std::string>> files;
    for (const auto& f : EmbeddedCrds()) files.emplace_back(std::string(f.name), std::string(f.content));
    auto loaded = Load(files);
    if (!loaded) {
      // The CRDs are part of the build and covered by unit tests: this is a bug.
      std::fprintf(stderr, "keelson: internal error: %s\n", loaded.error().message.c_str());
      std::abort();
    }
    return std::move(*loaded);
  }();
  return set;
}

}  // namespace keelson::manifest
