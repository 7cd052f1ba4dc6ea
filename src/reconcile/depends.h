#pragma once
// spec.dependsOn between objects of one namespace: the cycle check apply runs.

#include <string>
#include <vector>

#include "model/object.h"

namespace keelson::reconcile {

/// A dependsOn cycle among `objects` (each object's key once; later entries
/// win), as display names from the first object back to it ("runner/a ->
/// runner/b -> runner/a"), or empty when there is none. Dependencies on
/// objects not in the list end a path.
std::vector<std::string> FindDependencyCycle(const std::vector<model::Object>& objects);

}  // namespace keelson::reconcile
