#pragma once
// kubectl-style output: aligned tables and the per-kind columns of `get`.

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "model/object.h"
#include "store/object_store.h"
#include "util/clock.h"

namespace keelson::cli {

/// Columns separated by three spaces, left-aligned, headers upper-case.
/// Control characters in cells are shown as '?', so hostile names cannot
/// rewrite the terminal.
class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void AddRow(std::vector<std::string> cells);
  /// Column `i` holds states (READY, STATUS): coloured by their tone when
  /// printed with colour.
  void ToneColumn(size_t i);
  /// `headers`: false for --no-headers. `colour`: states in colour (a
  /// terminal without NO_COLOR).
  void Print(std::ostream& out, bool headers = true, bool colour = false) const;
  bool empty() const { return rows_.empty(); }

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<size_t> toned_;
};

struct TableOptions {
  bool wide = false;            ///< -o wide: the extra columns
  bool with_namespace = false;  ///< -A: a NAMESPACE column first
  bool kind_prefix = false;     ///< get all: names as "runner/web"
  bool show_labels = false;     ///< --show-labels: a LABELS column last, as kubectl prints it
  /// -o wide of runners and pools: a CONTAINERS column, by object uid
  /// ("default.ci.k3x9q(running),..."); none when null.
  const std::map<std::string, std::string>* containers = nullptr;
};

/// Labels as kubectl's --show-labels prints them: "k=v,k2=v2" by key, or "<none>".
std::string LabelsText(const model::Labels& labels);

/// One cell of a kind's column for `o`, as `get` prints it.
std::string ColumnCell(const model::PrinterColumn& column, const model::Object& o);

/// The `get` table for objects of one kind.
Table ObjectTable(model::Kind kind, const std::vector<model::Object>& objects,
                  const TableOptions& options, TimePoint now);

/// "True", "False", "Unknown" for the Ready condition at the current
/// generation; "-" before the controller has reported on this generation.
std::string ReadyState(const model::Object& o);
/// A short status: Terminating, the Ready condition's reason, or Pending.
std::string StatusWord(const model::Object& o);

/// An event's message, with "(x3 over 2m)" when it happened more than once,
/// as kubectl describe shows a repeated event.
std::string EventMessage(const store::Event& e, TimePoint now);

}  // namespace keelson::cli
