#pragma once
// A validator for the OpenAPI v3 subset that Kubernetes structural schemas use.
//
// Keywords: type (a name or a list of names), properties, required,
// additionalProperties (bool or schema), items (one schema), enum, pattern,
// minimum/maximum with exclusiveMinimum/exclusiveMaximum (bool, as in draft 4),
// minLength/maxLength (in code points), minItems/maxItems, minProperties/
// maxProperties, nullable, format, default, and the extensions
// x-kubernetes-int-or-string, x-kubernetes-preserve-unknown-fields,
// x-kubernetes-list-type (atomic|set|map) with x-kubernetes-list-map-keys, and
// keelson's x-keelson-number-or-string. description/title/example are
// documentation. Any other keyword is refused at Compile, so a schema never
// silently means less than it says.
//
// Formats: dns1123-label, dns1123-subdomain, duration, quantity, cpus,
// label-key, label-value, image-ref.

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "manifest/document.h"
#include "util/result.h"

namespace keelson::manifest {

struct SchemaError {
  Path path;
  std::string message;
  bool at_key = false;  ///< the key itself is wrong (unknown field), not its value
};

class Schema {
 public:
  struct Options {
    /// Kubernetes semantics: an object schema without additionalProperties
    /// refuses unknown fields (JSON Schema allows them).
    bool deny_unknown_fields = true;
  };

  /// Compiles `schema`. Errors (kInvalid) name the schema path and keyword.
  static Result<Schema> Compile(const nlohmann::json& schema, Options options);
  static Result<Schema> Compile(const nlohmann::json& schema) { return Compile(schema, Options{}); }

  /// Every violation of `value`, up to `max_errors`. Empty means valid.
  /// Thread-safe; cost is linear in the size of `value`.
  std::vector<SchemaError> Validate(const nlohmann::json& value, size_t max_errors = 20) const;

  /// Fills in absent fields that have a `default`, at every depth, including
  /// inside defaults it has just inserted. Idempotent. Call after Validate.
  void ApplyDefaults(nlohmann::json& value) const;

  struct Node;

 private:
  explicit Schema(std::shared_ptr<const Node> root) : root_(std::move(root)) {}
  std::shared_ptr<const Node> root_;
};

}  // namespace keelson::manifest
