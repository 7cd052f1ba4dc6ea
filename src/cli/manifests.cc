#include "cli/manifests.h"

#include "admission/admission.h"
#include "util/secret_file.h"

#include <iostream>

namespace keelson::cli {

std::optional<std::vector<manifest::LoadedObject>> LoadOrReport(const std::vector<std::string>& paths, bool recursive,
                                                                const std::string& default_namespace,
                                                                bool namespace_given) {
  auto sources = manifest::ReadSources(paths, recursive, std::cin);
  if (!sources) {
    std::cerr << "error: " << sources.error().message << "\n";
    return std::nullopt;
  }
  auto loaded = manifest::LoadManifests(*sources, default_namespace, manifest::CrdSet::Builtin(),
                                        AllowedPathsFromEnvironment());
  for (const auto& w : loaded.warnings) std::cerr << "warning: " << w.ToString() << "\n";
  if (namespace_given) {
    for (const auto& lo : loaded.objects) {
      if (lo.object.meta.namespace_ == default_namespace) continue;
      loaded.errors.push_back(lo.doc.At({{"metadata", -1}, {"namespace", -1}}, false,
                                        "the namespace from the provided object \"" + lo.object.meta.namespace_ +
                                            "\" does not match the namespace \"" + default_namespace +
                                            "\". You must pass '--namespace=" + lo.object.meta.namespace_ +
                                            "' to perform this operation."));
    }
  }
  for (const auto& e : loaded.errors) std::cerr << e.ToString() << "\n";
  if (!loaded.errors.empty()) return std::nullopt;
  return std::move(loaded.objects);
}

Result<bool> Admit(store::ObjectStore& objects, std::vector<store::ApplyRequest>& requests,
                   const std::vector<manifest::LoadedObject>& loaded, bool take_ownership) {
  std::vector<admission::Candidate> candidates;
  candidates.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    candidates.push_back({&requests[i].object, &loaded[i].doc, loaded[i].depends_on, take_ownership});
  }
  auto review = admission::Admit(objects, candidates);
  if (!review) return Unexpected(review.error());
  for (const auto& e : review->errors) std::cerr << e.line << "\n";
  for (const auto& w : review->warnings) std::cerr << "warning: " << w << "\n";
  for (size_t i = 0; i < requests.size(); ++i) requests[i].events = std::move(review->events[i]);
  return review->admitted();
}

}  // namespace keelson::cli
