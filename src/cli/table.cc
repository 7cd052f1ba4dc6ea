#include "cli/table.h"

#include "cli/terminal.h"

#include <algorithm>
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

std::string Image(const json* spec) {
  if (!spec) return "-";
  std::string image = Field(*spec, {"image"});
  return image.empty() ? Or(Field(*spec, {"imageRef"})).insert(0, "image/") : image;
}

// A column's cell, as the kind table describes it.
std::string Cell(const model::PrinterColumn& c, const model::Object& o) {
  const std::string_view path = c.path;
  const json* v = nullptr;
  if (path.rfind("spec", 0) == 0) v = model::AtPath(o.spec, path.substr(path.size() > 4 ? 5 : 4));
  if (path.rfind("status", 0) == 0) v = model::AtPath(o.status, path.substr(path.size() > 6 ? 7 : 6));
  std::string text;
  switch (c.value) {
    case model::PrinterColumn::Value::kReady:
      return ReadyState(o);
    case model::PrinterColumn::Value::kStatus:
      return StatusWord(o);
    case model::PrinterColumn::Value::kField:
      text = !v || v->is_null() ? "" : v->is_string() ? v->get<std::string>() : v->dump();
      break;
    case model::PrinterColumn::Value::kCount:
      text = v && (v->is_object() || v->is_array()) ? std::to_string(v->size()) : "0";
      break;
    case model::PrinterColumn::Value::kImage:
      return Image(v);
    case model::PrinterColumn::Value::kDesired:
      // An autoscaled pool's count is the planner's, unknown until it ran.
      if ((!v || !v->is_number_integer()) && !o.spec.contains("autoscaling")) {
        v = model::AtPath(o.spec, "replicas");
        if (!v) return "1";  // absent: the default
      }
      text = v && v->is_number_integer() ? v->dump() : "";
      break;
  }
  if (c.width && text.size() > c.width) text.resize(c.width);
  return text.empty() ? std::string(c.absent) : text;
}

}  // namespace

std::string ColumnCell(const model::PrinterColumn& column, const model::Object& o) { return Cell(column, o); }

void Table::AddRow(std::vector<std::string> cells) {
  for (auto& c : cells) c = Clean(c);
  rows_.push_back(std::move(cells));
}

void Table::ToneColumn(size_t i) { toned_.push_back(i); }

void Table::Print(std::ostream& out, bool headers, bool colour) const {
  std::vector<size_t> widths(headers_.size());
  for (size_t i = 0; i < headers_.size(); ++i) widths[i] = Width(headers_[i]);
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], Width(row[i]));
  }
  auto line = [&](const std::vector<std::string>& cells, bool header) {
    std::string text;
    for (size_t i = 0; i < cells.size() && i < widths.size(); ++i) {
      const bool toned = colour && !header && std::find(toned_.begin(), toned_.end(), i) != toned_.end();
      text += toned ? term::Paint(cells[i], term::ToneOf(cells[i])) : cells[i];
      if (i + 1 < cells.size()) text += std::string(widths[i] - Width(cells[i]) + 3, ' ');
    }
    out << text << "\n";
  };
  if (headers) line(headers_, true);
  for (const auto& row : rows_) line(row, false);
}

std::string LabelsText(const model::Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out.empty() ? "<none>" : out;
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
  std::vector<const model::PrinterColumn*> columns;
  for (const auto& c : model::Info(kind).columns) {
    if (!c.wide || options.wide) columns.push_back(&c);
  }
  std::vector<std::string> headers;
  if (options.with_namespace) headers.push_back("NAMESPACE");
  headers.push_back("NAME");
  std::vector<size_t> states;
  for (const auto* c : columns) {
    if (c->value == model::PrinterColumn::Value::kReady || c->value == model::PrinterColumn::Value::kStatus) {
      states.push_back(headers.size());
    }
    headers.emplace_back(c->header);
  }
  const bool containers = options.wide && options.containers &&
                          (kind == model::Kind::kRunner || kind == model::Kind::kRunnerPool);
  if (containers) headers.push_back("CONTAINERS");
  headers.push_back("AGE");
  if (options.show_labels) headers.push_back("LABELS");
  Table table(std::move(headers));
  for (size_t i : states) table.ToneColumn(i);
  for (const auto& o : objects) {
    std::vector<std::string> row;
    if (options.with_namespace) row.push_back(o.meta.namespace_);
    row.push_back(options.kind_prefix ? model::DisplayName(o) : o.meta.name);
    for (const auto* c : columns) row.push_back(Cell(*c, o));
    if (containers) {
      auto it = options.containers->find(o.meta.uid);
      row.push_back(it == options.containers->end() ? "<none>" : it->second);
    }
    TimePoint created{};
    row.push_back(ParseTimestamp(o.meta.creation_timestamp, &created) ? FormatAge(created, now) : "-");
    if (options.show_labels) row.push_back(LabelsText(o.meta.labels));
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
