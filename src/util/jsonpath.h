#pragma once
// kubectl's JSONPath templates (`-o jsonpath=...`, and the cells of
// `-o custom-columns=...`), as kubectl documents them: text, and {...}
// expressions with @ or $, .field, ['field'], .. (recursive descent), *,
// [n], [start:end:step] (negative from the end), ['a','b'] unions,
// [?(@.field OP value)] filters (==, !=, <, <=, >, >=; or @.field alone:
// present), "quoted text", and {range EXPR}...{end}. Each result prints as
// kubectl prints it: strings raw, lists and maps as JSON, several results
// of one expression separated by spaces. Missing fields print nothing (as
// --allow-missing-template-keys, kubectl's default); an index out of a
// list's bounds is an error, as in kubectl.

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/result.h"

namespace keelson {

class JsonPath {
 public:
  /// kInvalid naming what is wrong, as "jsonpath: ...".
  static Result<JsonPath> Parse(const std::string& text);
  /// The template executed on `input`; kInvalid for an index out of a
  /// list's bounds (as kubectl refuses it).
  Result<std::string> Execute(const nlohmann::json& input) const;
  /// The values of a template that is one expression (for custom-columns).
  std::vector<nlohmann::json> Values(const nlohmann::json& input) const;

  struct Node;

 private:
  std::vector<std::shared_ptr<Node>> nodes_;
};

/// How kubectl prints one result: strings raw, the rest as compact JSON.
std::string Printed(const nlohmann::json& value);

}  // namespace keelson
