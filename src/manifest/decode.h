#pragma once
// Stored JSON -> the kinds' typed specs (model/specs.h), with the CRDs'
// defaults applied: the one place a spec is read by field name.

#include <nlohmann/json.hpp>

#include "model/object.h"
#include "model/specs.h"
#include "util/result.h"

namespace keelson::manifest {

/// The typed spec of a stored object: the CRD schema is checked and its
/// defaults applied first. kInvalid naming the first offending field when
/// the stored JSON does not fit (a spec stored by another version, or edited
/// by hand): a clear condition for the object, never an exception.
Result<model::Spec> DecodeSpec(model::Kind kind, const nlohmann::json& spec);

/// The same, for one kind: DecodeSpecAs<model::RunnerSpec>(o).
template <typename T>
Result<T> DecodeSpecAs(const model::Object& o) {
  auto spec = DecodeSpec(o.kind, o.spec);
  if (!spec) return Unexpected(spec.error());
  if (auto* t = std::get_if<T>(&*spec)) return std::move(*t);
  return Unexpected(ErrorCode::kInternal, "the spec of " + model::DisplayName(o) + " is of another kind");
}

}  // namespace keelson::manifest
