// keelson get KIND [NAME...] [-l SEL] [-A] [-o table|wide|yaml|json|name]

#include <unistd.h>

#include <algorithm>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "util/jsonpath.h"
#include "cli/remote.h"
#include "cli/resolve.h"
#include "cli/table.h"
#include "cli/terminal.h"
#include "cli/workload.h"
#include "manifest/document.h"

namespace keelson::cli {
namespace {

using nlohmann::json;

struct GetOptions {
  std::vector<std::string> words;
  std::string selector;
  bool all_namespaces = false;
  std::string output = "table";
  bool no_headers = false;
  bool show_labels = false;
  bool watch = false;       ///< -w: then print each change
  bool watch_only = false;  ///< --watch-only: only the changes
  std::string sort_by;      ///< --sort-by: a JSONPath expression
};

// Strings in natural order, as kubectl sorts them ("r2" before "r10"):
// runs of digits compare as numbers.
bool NaturalLess(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      size_t ie = i, je = j;
      while (ie < a.size() && digit(a[ie])) ++ie;
      while (je < b.size() && digit(b[je])) ++je;
      std::string x = a.substr(i, ie - i), y = b.substr(j, je - j);
      x.erase(0, std::min(x.find_first_not_of('0'), x.size()));
      y.erase(0, std::min(y.find_first_not_of('0'), y.size()));
      if (x.size() != y.size()) return x.size() < y.size();
      if (x != y) return x < y;
      i = ie, j = je;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i, ++j;
  }
  return a.size() - i < b.size() - j;
}

// --sort-by as kubectl's: the expression (braces optional) on each object;
// numbers by value, strings in natural order; objects without the field first.
Result<void> SortBy(const std::string& expr, std::vector<model::Object>& objects) {
  const std::string relaxed = expr.find('{') == std::string::npos ? "{" + expr + "}" : expr;
  auto path = JsonPath::Parse(relaxed);
  if (!path) return Unexpected(ErrorCode::kInvalid, "--sort-by: " + path.error().message);
  std::vector<std::pair<json, size_t>> keys;
  for (size_t i = 0; i < objects.size(); ++i) {
    auto values = path->Values(model::ToJson(objects[i]));
    keys.emplace_back(values.empty() ? json() : values.front(), i);
  }
  std::stable_sort(keys.begin(), keys.end(), [](const auto& x, const auto& y) {
    const json &a = x.first, &b = y.first;
    if (a.is_null() || b.is_null()) return a.is_null() && !b.is_null();
    if (a.is_number() && b.is_number()) return a.get<double>() < b.get<double>();
    return NaturalLess(a.is_string() ? a.get<std::string>() : a.dump(), b.is_string() ? b.get<std::string>() : b.dump());
  });
  std::vector<model::Object> sorted;
  sorted.reserve(objects.size());
  for (auto& [key, i] : keys) sorted.push_back(std::move(objects[i]));
  objects = std::move(sorted);
  return {};
}

using Sink = std::function<void(model::Object&&)>;

struct Outcome {
  size_t found = 0;
  bool missing = false;  ///< a named object does not exist
};

// Hands every object the words name to `sink`, in kind, namespace, name order
// for lists; reports missing named objects on stderr.
Result<Outcome> Collect(ObjectReader& objects, const Globals& g, const GetOptions& opts,
                        const std::vector<ObjectRef>& refs, const model::Selector& sel, const Sink& sink) {
  Outcome out;
  std::optional<std::string> ns;
  if (!opts.all_namespaces) ns = g.namespace_;
  auto counted = [&](model::Object&& o) {
    ++out.found;
    sink(std::move(o));
  };
  if (refs.empty()) {  // "all"
    if (auto r = objects.ForEach({std::nullopt, ns, &sel}, counted); !r) return Unexpected(r.error());
    return out;
  }
  for (const auto& ref : refs) {
    if (ref.name.empty()) {
      if (auto r = objects.ForEach({ref.kind, ns, &sel}, counted); !r) return Unexpected(r.error());
      continue;
    }
    auto o = objects.Get(ref.kind, g.namespace_, ref.name);
    if (!o) return Unexpected(o.error());
    if (!*o) {
      std::cerr << "error: " << model::Info(ref.kind).singular << " \"" << ref.name
                << "\" not found in namespace " << g.namespace_ << "\n";
      out.missing = true;
      continue;
    }
    counted(std::move(**o));
  }
  return out;
}

std::string DumpJson(const json& j) { return j.dump(2, ' ', false, json::error_handler_t::replace); }

// Prints a kubectl-style List one item at a time: byte for byte what dumping
// the whole {"apiVersion", "items", "kind"} document would print, without
// holding every object in memory.
class JsonListPrinter {
 public:
  void Add(model::Object&& o) {
    std::string item = DumpJson(model::ToJson(std::move(o)));
    std::string indented;
    indented.reserve(item.size() + item.size() / 8);
    indented += "    ";
    for (char c : item) {
      indented += c;
      if (c == '\n') indented += "    ";
    }
    std::cout << (count_++ == 0 ? "{\n  \"apiVersion\": \"" + std::string(model::kApiVersion) + "\",\n  \"items\": [\n"
                                : std::string(",\n"))
              << indented;
  }
  void Finish() {
    if (count_ == 0) {
      std::cout << DumpJson({{"apiVersion", model::kApiVersion}, {"kind", "List"}, {"items", json::array()}})
                << "\n";
    } else {
      std::cout << "\n  ],\n  \"kind\": \"List\"\n}\n";
    }
  }

 private:
  size_t count_ = 0;
};

// -o wide of runners and pools names their containers and states, from the
// engine (one list call); said in the column when the engine cannot answer.
std::map<std::string, std::string> ContainerColumn(const Globals& g, Session& session,
                                                   const std::vector<model::Object>& found) {
  std::map<std::string, std::string> out;
  auto store_id = session.objects->StoreId();
  auto engine = OpenEngine(g);
  Result<std::map<std::string, std::vector<docker::ContainerSummary>>> owned =
      !store_id ? Unexpected(store_id.error()) : !engine ? Unexpected(engine.error()) : ContainersByOwner(**engine, *store_id);
  for (const auto& o : found) {
    if (o.kind != model::Kind::kRunner && o.kind != model::Kind::kRunnerPool) continue;
    if (!owned) {
      out[o.meta.uid] = "<unknown: engine unreachable>";
      continue;
    }
    auto it = owned->find(o.meta.uid);
    if (it == owned->end()) continue;
    std::string cell;
    for (const auto& c : it->second) cell += (cell.empty() ? "" : ",") + c.name + "(" + c.state + ")";
    out[o.meta.uid] = cell;
  }
  if (!owned) std::cerr << "warning: CONTAINERS: " << owned.error().message << "\n";
  return out;
}

void PrintTables(std::vector<model::Object>& found, const GetOptions& opts,
                 const std::map<std::string, std::string>* containers) {
  std::map<model::Kind, std::vector<model::Object>> by_kind;
  for (auto& o : found) by_kind[o.kind].push_back(std::move(o));
  TableOptions t{opts.output == "wide", opts.all_namespaces,
                 by_kind.size() > 1 || opts.words[0] == "all" || opts.words[0].find(',') != std::string::npos,
                 opts.show_labels, containers};
  auto now = std::chrono::system_clock::now();
  bool first = true;
  for (const auto& info : model::AllKinds()) {
    auto it = by_kind.find(info.kind);
    if (it == by_kind.end()) continue;
    if (!first) std::cout << "\n";
    first = false;
    ObjectTable(info.kind, it->second, t, now).Print(std::cout, !opts.no_headers, term::Colour(STDOUT_FILENO));
  }
}

// get -w: after the list, each change of the kind (and names, namespace,
// selector) as it is stored, in the output's format, until Ctrl-C. Changes
// are read from the store's change feed when another process wrote (a look
// every 100 ms); an object changed twice between two looks is shown once, in
// its newer state; a deleted one, as it was.
int Watch(Session& session, const Globals& g, const GetOptions& opts, const ObjectRef& ref, const model::Selector& sel,
          int64_t after) {
  InstallSignalHandlers();
  const TableOptions t{opts.output == "wide", opts.all_namespaces, false, opts.show_labels};
  int64_t seen = -1;
  bool header = !opts.no_headers && opts.watch_only;
  while (SleepUnlessInterrupted(100)) {
    auto version = session.db->DataVersion();
    if (!version) return Fail(version.error().message);
    if (*version == seen) continue;
    seen = *version;
    auto changes = session.objects->ChangesSince(after, ref.kind);
    if (!changes) return Fail(changes.error().message);
    for (auto& c : *changes) {
      model::Object& o = c.object;
      after = std::max(after, o.meta.resource_version);
      if (!opts.all_namespaces && o.meta.namespace_ != g.namespace_) continue;
      if (!ref.name.empty() && o.meta.name != ref.name) continue;
      if (!sel.Matches(o.meta.labels)) continue;
      if (opts.output == "name") {
        std::cout << model::DisplayName(o) << "\n";
      } else if (opts.output == "json") {
        std::cout << DumpJson(model::ToJson(std::move(o))) << "\n";
      } else if (opts.output == "yaml") {
        std::cout << "---\n" << manifest::EmitYaml(model::ToJson(std::move(o)));
      } else {
        ObjectTable(ref.kind, {o}, t, std::chrono::system_clock::now()).Print(std::cout, header);
        header = false;
      }
    }
    std::cout.flush();
  }
  return kExitOk;
}

// -o custom-columns=HEADER:EXPR,...: each EXPR a JSONPath ({} optional), as kubectl.
struct Column {
  std::string header;
  JsonPath path;
};

Result<std::vector<Column>> ParseColumns(const std::string& spec) {
  std::vector<Column> out;
  std::stringstream in(spec);
  for (std::string part; std::getline(in, part, ',');) {
    const auto colon = part.find(':');
    if (colon == std::string::npos || colon == 0) {
      return Unexpected(ErrorCode::kInvalid, "custom-columns: want HEADER:EXPR, got \"" + part + "\"");
    }
    std::string expr = part.substr(colon + 1);
    if (expr.empty() || expr.front() != '{') expr = "{" + expr + "}";
    auto path = JsonPath::Parse(expr);
    if (!path) return Unexpected(path.error());
    out.push_back({part.substr(0, colon), std::move(*path)});
  }
  if (out.empty()) return Unexpected(ErrorCode::kInvalid, "custom-columns: name at least one HEADER:EXPR");
  return out;
}

void PrintColumns(const std::vector<Column>& columns, std::vector<model::Object>& found, bool headers) {
  std::vector<std::string> names;
  for (const auto& c : columns) names.push_back(c.header);
  Table table(names);
  for (auto& o : found) {
    const json doc = model::ToJson(std::move(o));
    std::vector<std::string> cells;
    for (const auto& c : columns) {
      std::string cell;
      for (const auto& v : c.path.Values(doc)) cell += (cell.empty() ? "" : ",") + Printed(v);
      cells.push_back(cell.empty() ? "<none>" : cell);
    }
    table.AddRow(std::move(cells));
  }
  table.Print(std::cout, headers);
}

int RunGet(const Globals& g, const GetOptions& opts) {
  std::optional<JsonPath> jsonpath;
  if (opts.output.rfind("jsonpath=", 0) == 0) {
    auto parsed = JsonPath::Parse(opts.output.substr(9));
    if (!parsed) return Fail(parsed.error().message, kExitUsage);
    jsonpath = std::move(*parsed);
  }
  std::vector<Column> columns;
  if (opts.output.rfind("custom-columns=", 0) == 0) {
    auto parsed = ParseColumns(opts.output.substr(15));
    if (!parsed) return Fail(parsed.error().message, kExitUsage);
    columns = std::move(*parsed);
  }
  auto sel = model::Selector::Parse(opts.selector);
  if (!sel) return Fail(sel.error().message, kExitUsage);
  if (opts.words.empty()) return Fail("name a kind, e.g. keelson get runners", kExitUsage);
  std::vector<ObjectRef> refs;
  if (opts.words[0].find(',') != std::string::npos) {
    // Several kinds at once, as kubectl's "get pods,services": every object of each.
    if (opts.words.size() > 1) return Fail("name objects of one kind at a time, or list kinds alone", kExitUsage);
    std::string list = opts.words[0];
    for (size_t start = 0; start <= list.size();) {
      size_t comma = std::min(list.find(',', start), list.size());
      auto parsed = ParseRefs({list.substr(start, comma - start)});
      if (!parsed) return Fail(parsed.error().message, kExitUsage);
      for (auto& r : *parsed) {
        if (std::find_if(refs.begin(), refs.end(), [&](const ObjectRef& x) { return x.kind == r.kind; }) == refs.end()) {
          refs.push_back(std::move(r));
        }
      }
      start = comma + 1;
    }
  } else if (opts.words[0] != "all") {
    auto parsed = ParseRefs(opts.words);
    if (!parsed) return Fail(parsed.error().message, kExitUsage);
    refs = std::move(*parsed);
  }
  // The store file, or the API of a keelson elsewhere (--kubeconfig, --server).
  auto reading = OpenReading(g, Access::kRead);
  if (!reading) {
    return Fail(reading.error().message, IsRemote(g) && reading.error().code == ErrorCode::kInvalid ? kExitUsage : kExitFailure);
  }
  std::unique_ptr<Session>& session = reading->session;
  if (session) {
    if (std::string stale = StaleStatusReason(*session); !stale.empty()) std::cerr << "warning: " << stale << "\n";
  }
  auto& objects = *reading->reader;
  // One named object prints as itself; anything else as a List.
  const bool single = refs.size() == 1 && !refs.front().name.empty();

  if ((opts.watch || opts.watch_only) && (refs.size() != 1 || !session)) {
    return Fail(!session ? "get -w works on the store file; over the API use kubectl get -w"
                         : "get -w watches one kind at a time",
                kExitUsage);
  }
  // The version before the list: every change after it is shown by -w.
  int64_t listed_at = 0;
  if (session) {
    auto rv = session->objects->CurrentResourceVersion();
    if (!rv) return Fail(rv.error().message);
    listed_at = *rv;
  }
  if (opts.watch_only) return Watch(*session, g, opts, refs.front(), *sel, listed_at);

  Result<Outcome> outcome = Outcome{};
  std::vector<model::Object> found;
  if (!opts.sort_by.empty()) {
    // Everything first, then in order.
    outcome = Collect(objects, g, opts, refs, *sel, [&found](model::Object&& o) { found.push_back(std::move(o)); });
    if (!outcome) return Fail(outcome.error().message);
    if (auto sorted = SortBy(opts.sort_by, found); !sorted) return Fail(sorted.error().message, kExitUsage);
    if (opts.output == "name") {
      for (const auto& o : found) std::cout << model::DisplayName(o) << "\n";
      found.clear();
    } else if (opts.output == "json" && !single) {
      JsonListPrinter printer;
      for (auto& o : found) printer.Add(std::move(o));
      printer.Finish();
      found.clear();
    }
  } else if (opts.output == "name") {
    outcome = Collect(objects, g, opts, refs, *sel,
                      [](model::Object&& o) { std::cout << model::DisplayName(o) << "\n"; });
  } else if (opts.output == "json" && !single) {
    JsonListPrinter printer;
    outcome = Collect(objects, g, opts, refs, *sel, [&printer](model::Object&& o) { printer.Add(std::move(o)); });
    if (outcome) printer.Finish();
  } else {
    outcome = Collect(objects, g, opts, refs, *sel, [&found](model::Object&& o) { found.push_back(std::move(o)); });
  }
  if (!outcome) return Fail(outcome.error().message);

  if (jsonpath) {
    // kubectl's input: the object itself, or a List of them; no newline added.
    json input;
    if (single) {
      if (!found.empty()) input = model::ToJson(std::move(found.front()));
    } else {
      json items = json::array();
      for (auto& o : found) items.push_back(model::ToJson(std::move(o)));
      input = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", std::move(items)}};
    }
    if (!input.is_null()) {
      auto text = jsonpath->Execute(input);
      if (!text) return Fail("error executing jsonpath \"" + opts.output.substr(9) + "\": " + text.error().message);
      std::cout << *text;
    }
  } else if (!columns.empty()) {
    if (!found.empty()) PrintColumns(columns, found, !opts.no_headers);
  } else if (opts.output == "json" && single) {
    if (!found.empty()) std::cout << DumpJson(model::ToJson(std::move(found.front()))) << "\n";
  } else if (opts.output == "yaml") {
    if (single) {
      if (!found.empty()) std::cout << manifest::EmitYaml(model::ToJson(std::move(found.front())));
    } else {
      json items = json::array();
      for (auto& o : found) items.push_back(model::ToJson(std::move(o)));
      std::cout << manifest::EmitYaml({{"apiVersion", model::kApiVersion}, {"kind", "List"}, {"items", std::move(items)}});
    }
  } else if (opts.output == "table" || opts.output == "wide") {
    if (found.empty()) {
      if (!outcome->missing) {
        std::cerr << "No objects found" << (opts.all_namespaces ? "" : " in namespace " + g.namespace_) << ".\n";
      }
    } else {
      std::map<std::string, std::string> containers;
      const bool workloads = std::any_of(found.begin(), found.end(), [](const model::Object& o) {
        return o.kind == model::Kind::kRunner || o.kind == model::Kind::kRunnerPool;
      });
      if (opts.output == "wide" && session && workloads) containers = ContainerColumn(g, *session, found);
      PrintTables(found, opts, session ? &containers : nullptr);
    }
  }
  if (opts.watch) return Watch(*session, g, opts, refs.front(), *sel, listed_at);
  return outcome->missing ? kExitFailure : kExitOk;
}

}  // namespace

void RegisterGet(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<GetOptions>();
  auto* cmd = app.add_subcommand("get", "List or show objects");
  cmd->add_option("kind", opts->words, "KIND [NAME...], KIND/NAME..., or all")->required();
  cmd->add_option("-l,--selector", opts->selector, "Label selector, e.g. team=ci,tier!=dev");
  cmd->add_flag("-A,--all-namespaces", opts->all_namespaces, "Objects of every namespace");
  cmd->add_option("-o,--output", opts->output,
                  "table, wide, yaml, json, name, jsonpath=TEMPLATE or custom-columns=HEADER:EXPR,...")
      // "-o=name" as kubectl (pflag) takes it.
      ->transform([](std::string s) { return !s.empty() && s[0] == '=' ? s.substr(1) : s; })
      ->check(
          [](const std::string& o) -> std::string {
            for (const char* plain : {"table", "wide", "yaml", "json", "name"}) {
              if (o == plain) return "";
            }
            if (o.rfind("jsonpath=", 0) == 0 || o.rfind("custom-columns=", 0) == 0) return "";
            return "not table, wide, yaml, json, name, jsonpath=TEMPLATE or custom-columns=SPEC";
          },
          "FORMAT");
  cmd->add_flag("--no-headers", opts->no_headers, "Tables without their header line");
  cmd->add_option("--sort-by", opts->sort_by, "Order by a JSONPath expression, e.g. .metadata.name or .status.readyReplicas");
  cmd->add_flag("--show-labels", opts->show_labels, "A LABELS column last in tables");
  cmd->add_flag("-w,--watch", opts->watch, "After the list, print each change until Ctrl-C");
  cmd->add_flag("--watch-only", opts->watch_only, "Print only the changes, until Ctrl-C");
  cmd->callback([&g, opts] { g.exit_code = RunGet(g, *opts); });
}

}  // namespace keelson::cli
