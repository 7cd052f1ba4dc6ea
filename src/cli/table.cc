#include "cli/table.h"

#include <functional>
#include <ostream>

namespace keelson::cli {
namespace {

using nlohmann::json;

std::string Clean(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  return out;
}

size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// A scalar at a dotted path in the spec or status, as text; "" when absent.
std::string Field(const json& root, std::initializer_list<const char*> path) {
  const json* cur = &root;
  for (const char* key : path) {
    if (!cur->is_object() || !cur->contains(key)) return "";
    cur = &(*cur)[key];
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_null()) return "";
  return cur->dump();
}

std::string Or(std::string s, const char* fallback = "-") { return s.empty() ? fallback : s; }

struct Column {
  const char* header;
  bool wide_only;
  std::function<std::string(const model::Object&)> value;
};

std::string Image(const json& spec) {
  std::string image = Field(spec, {"image"});
  return image.empty() ? Or(Field(spec, {"imageRef"})).insert(0, "image/") : image;
}

std::vector<Column> KindColumns(model::Kind kind) {
  using O = const model::Object&;
  switch (kind) {
    case model::Kind::kImage:
      return {{"REF", false, [](O o) { return Field(o.spec, {"ref"}); }},
              {"POLICY", false, [](O o) { return Field(o.spec, {"pullPolicy"}); }},
              {"ID", true, [](O o) { return Or(Field(o.status, {"id"}).substr(0, 19)); }},
              {"DIGEST", true, [](O o) { return Or(Field(o.status, {"repoDigest"})); }}};
    case model::Kind::kNetwork:
      return {{"DRIVER", false, [](O o) { return Field(o.spec, {"driver"}); }},
              {"SUBNET", false, [](O o) { return Or(Field(o.spec, {"subnet"})); }},
              {"INTERNAL", true, [](O o) { return Field(o.spec, {"internal"}); }},
              {"ID", true, [](O o) { return Or(Field(o.status, {"id"}).substr(0, 12)); }}};
    case model::Kind::kVolume:
      return {{"DRIVER", false, [](O o) { return Field(o.spec, {"driver"}); }},
              {"MOUNTPOINT", true, [](O o) { return Or(Field(o.status, {"mountpoint"})); }}};
    case model::Kind::kRunner:
      return {{"IMAGE", false, [](O o) { return Image(o.spec); }},
              {"STATE", false, [](O o) { return Or(Field(o.status, {"state"})); }},
              {"RESTARTS", false, [](O o) { return Or(Field(o.status, {"restarts"}), "0"); }},
              {"HEALTH", true, [](O o) { return Or(Field(o.status, {"health"})); }},
              {"CONTAINER", true, [](O o) { return Or(Field(o.status, {"containerID"}).substr(0, 12)); }}};
    case model::Kind::kRunnerPool:
      return {{"DESIRED", false, [](O o) { return Field(o.spec, {"replicas"}); }},
              {"CURRENT", false, [](O o) { return Or(Field(o.status, {"replicas"}), "0"); }},
              {"READY", false, [](O o) { return Or(Field(o.status, {"readyReplicas"}), "0"); }},
              {"UP-TO-DATE", false, [](O o) { return Or(Field(o.status, {"updatedReplicas"}), "0"); }},
              {"AVAILABLE", false, [](O o) { return Or(Field(o.status, {"availableReplicas"}), "0"); }},
              {"IMAGE", true, [](O o) { return Image(o.spec.value("template", json::object())); }},
              {"EPHEMERAL", true, [](O o) { return Field(o.spec, {"ephemeral"}); }},
              {"STRATEGY", true, [](O o) { return Field(o.spec, {"strategy", "type"}); }}};
    case model::Kind::kPolicy:
      return {{"ENFORCEMENT", false, [](O o) { return Field(o.spec, {"enforcement"}); }},
              {"RULES", false, [](O o) {
                 return std::to_string(o.spec.value("rules", json::object()).size());
               }},
              {"VIOLATIONS", false, [](O o) { return Or(Field(o.status, {"violations"})); }}};
  }
  return {};
}

}  // namespace

void Table::AddRow(std::vector<std::string> cells) {
  for (auto& c : cells) c = Clean(c);
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths(headers_.size());
  for (size_t i = 0; i < headers_.size(); ++i) widths[i] = Width(headers_[i]);
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], Width(row[i]));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t i = 0; i < cells.size() && i < widths.size(); ++i) {
      text += cells[i];
      if (i + 1 < cells.size()) text += std::string(widths[i] - Width(cells[i]) + 3, ' ');
    }
    out << text << "\n";
  };
  line(headers_);
  for (const auto& row : rows_) line(row);
}

std::string ReadyState(const model::Object& o) {
  const json* c = model::FindCondition(o, "Ready");
  if (!c || o.status.value("observedGeneration", int64_t{0}) != o.meta.generation) return "-";
  return c->value("status", "Unknown");
}

std::string StatusWord(const model::Object& o) {
  if (o.meta.deletion_timestamp) return "Terminating";
  const json* c = model::FindCondition(o, "Ready");
  if (!c) return "Pending";
  return Or(c->value("reason", ""), c->value("status", "Unknown") == "True" ? "Ready" : "NotReady");
}

Table ObjectTable(model::Kind kind, const std::vector<model::Object>& objects,
                  const TableOptions& options, TimePoint now) {
  const Column ready{"READY", false, ReadyState};
  const Column status{"STATUS", false, StatusWord};
  std::vector<Column> columns;
  if (kind == model::Kind::kRunnerPool) {
    // Pools read like kubectl's ReplicaSets (NAME DESIRED CURRENT READY ...):
    // the replica counts first, the one-word status after them.
    for (auto& c : KindColumns(kind)) {
      if (!c.wide_only) columns.push_back(std::move(c));
    }
    columns.push_back(status);
    for (auto& c : KindColumns(kind)) {
      if (c.wide_only && options.wide) columns.push_back(std::move(c));
    }
  } else {
    columns = {ready, status};
    for (auto& c : KindColumns(kind)) {
      if (!c.wide_only || options.wide) columns.push_back(std::move(c));
    }
  }
  std::vector<std::string> headers;
  if (options.with_namespace) headers.push_back("NAMESPACE");
  headers.push_back("NAME");
  for (const auto& c : columns) headers.push_back(c.header);
  headers.push_back("AGE");
  Table table(std::move(headers));
  for (const auto& o : objects) {
    std::vector<std::string> row;
    if (options.with_namespace) row.push_back(o.meta.namespace_);
    row.push_back(options.kind_prefix ? model::DisplayName(o) : o.meta.name);
    for (const auto& c : columns) row.push_back(c.value(o));
    TimePoint created{};
    row.push_back(ParseTimestamp(o.meta.creation_timestamp, &created) ? FormatAge(created, now) : "-");
    table.AddRow(std::move(row));
  }
  return table;
}

std::string EventMessage(const store::Event& e, TimePoint now) {
  if (e.count <= 1) return e.message;
  TimePoint first{};
  std::string over = ParseTimestamp(e.first_time, &first) ? " over " + FormatAge(first, now) : "";
  return e.message + " (x" + std::to_string(e.count) + over + ")";
}

}  // namespace keelson::cli
