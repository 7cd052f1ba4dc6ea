// keelson explain KIND[.FIELD.PATH] [--recursive]
//
// A kind or one of its fields as the CRDs in crds/ describe it, printed as
// kubectl explain prints it (the same document kubectl explain reads from
// keelson's API: api/openapi.h).

#include <iostream>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>

#include "api/openapi.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "model/kind.h"

namespace keelson::cli {
namespace {

using nlohmann::json;

struct ExplainOptions {
  std::string path;
  bool recursive = false;
};

// The schema `s` stands for, following a $ref into the definitions.
const json& Resolve(const json& s) {
  if (s.contains("$ref")) {
    const std::string ref = s["$ref"].get<std::string>();
    const std::string name = ref.substr(ref.rfind('/') + 1);
    const json& defs = api::OpenApiV2()["definitions"];
    if (defs.contains(name)) return defs[name];
  }
  return s;
}

// kubectl's spelling of a field's type: string, integer, boolean, Object,
// []Object, []string, map[string]string.
std::string TypeName(const json& raw) {
  const json& s = Resolve(raw);
  const std::string type = s.value("type", "");
  if (type == "array") return "[]" + TypeName(s.value("items", json::object()));
  if (type == "object" || raw.contains("$ref")) {
    if (!s.contains("properties") && !raw.contains("$ref")) {
      // A map: of what its additionalProperties say, else of anything ("map[string]").
      const bool typed = s.contains("additionalProperties") && s["additionalProperties"].is_object();
      return "map[string]" + (typed ? TypeName(s["additionalProperties"]) : std::string());
    }
    return "Object";
  }
  return type;  // no type (int-or-string): "<>", as kubectl prints it
}

// Of no type at the bottom (int-or-string, a map of anything, a list of
// those): kubectl explain prints no FIELD line for these.
bool Arbitrary(const json& raw) {
  if (raw.contains("$ref")) return false;
  const std::string type = raw.value("type", "");
  if (type == "array") return Arbitrary(raw.value("items", json::object()));
  if (type == "object" && !raw.contains("properties")) {
    const bool typed = raw.contains("additionalProperties") && raw["additionalProperties"].is_object();
    return !typed || Arbitrary(raw["additionalProperties"]);
  }
  return type.empty() && !raw.contains("properties");
}

// The schema's fields live in its properties, or its items' for a list.
const json* Fields(const json& raw) {
  const json& s = Resolve(raw);
  if (s.contains("properties")) return &s["properties"];
  if (s.value("type", "") == "array" && s.contains("items")) return Fields(s["items"]);
  return nullptr;
}

bool Required(const json& parent, const std::string& name) {
  const json& p = Resolve(parent);
  const json& list = p.value("type", "") == "array" && p.contains("items") ? Resolve(p["items"]) : p;
  if (!list.contains("required")) return false;
  for (const auto& r : list["required"]) {
    if (r == name) return true;
  }
  return false;
}

// Words filled into lines of at most `width`, each after `indent`.
std::string Wrap(const std::string& text, size_t indent, size_t width = 80) {
  std::istringstream in(text);
  std::string out, line, word;
  const std::string pad(indent, ' ');
  while (in >> word) {
    if (!line.empty() && indent + line.size() + 1 + word.size() > width) {
      out += pad + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out += pad + line + "\n";
  return out;
}

void Recursive(const json& schema, int depth, std::ostream& out) {
  const json* fields = Fields(schema);
  if (!fields || depth > 12) return;
  for (const auto& [name, sub] : fields->items()) {
    out << std::string(3 + 3 * depth, ' ') << name << "\t<" << TypeName(sub) << ">\n";
    Recursive(sub, depth + 1, out);
  }
}

int RunExplain(const ExplainOptions& opts) {
  std::vector<std::string> parts;
  std::stringstream in(opts.path);
  for (std::string p; std::getline(in, p, '.');) parts.push_back(p);
  if (parts.empty() || parts[0].empty()) return Fail("name a kind, e.g. keelson explain runner.spec", kExitUsage);
  auto kind = model::ParseKind(parts[0]);
  if (!kind) return Fail("the server doesn't have a resource type \"" + parts[0] + "\"", kExitUsage);
  const auto& info = model::Info(*kind);
  const json* schema = &api::OpenApiV2()["definitions"]["dev.keelson.v1alpha1." + std::string(info.name)];
  const json* parent = nullptr;
  std::string field;
  for (size_t i = 1; i < parts.size(); ++i) {
    const json* fields = Fields(*schema);
    if (!fields || !fields->contains(parts[i])) {
      return Fail("field \"" + parts[i] + "\" does not exist", kExitFailure);
    }
    parent = schema;
    field = parts[i];
    schema = &(*fields)[parts[i]];
  }
  std::ostream& out = std::cout;
  out << "KIND:     " << info.name << "\nVERSION:  " << model::kApiVersion << "\n\n";
  const json* fields = Fields(*schema);
  if (parent && !Arbitrary(*schema)) {
    out << (fields ? "RESOURCE: " : "FIELD:    ") << field << " <" << TypeName(*schema) << ">\n\n";
  }
  // A field's own description, then (after a blank line) that of what it
  // refers to or holds a list of, as kubectl explain prints them.
  std::string inner_description;
  if (parent) {
    const json& target = Resolve(*schema);
    const json& inner = target.value("type", "") == "array" && target.contains("items") ? Resolve(target["items"]) : target;
    if (&inner != schema) inner_description = inner.value("description", "");
  }
  const std::string own = schema->value("description", "");
  out << "DESCRIPTION:\n" << (own.empty() && inner_description.empty() ? "     <empty>\n" : Wrap(own, 5));
  if (!inner_description.empty()) out << "\n" << Wrap(inner_description, 5);
  if (!fields) return kExitOk;
  out << "\nFIELDS:\n";
  if (opts.recursive) {
    Recursive(*schema, 0, out);
    return kExitOk;
  }
  for (const auto& [name, sub] : fields->items()) {
    out << "   " << name << "\t<" << TypeName(sub) << ">" << (Required(*schema, name) ? " -required-" : "") << "\n";
    out << Wrap(sub.value("description", ""), 5) << "\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterExplain(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<ExplainOptions>();
  auto* cmd = app.add_subcommand("explain", "Describe a kind or a field of it (KIND.FIELD.PATH) from the CRDs");
  cmd->add_option("field", opts->path, "KIND[.FIELD.PATH], e.g. runner.spec.env")->required();
  cmd->add_flag("--recursive", opts->recursive, "Every field below, as a tree");
  cmd->callback([&g, opts] { g.exit_code = RunExplain(*opts); });
}

}  // namespace keelson::cli
