// keelson describe KIND NAME

#include <algorithm>
#include <iostream>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/remote.h"
#include "cli/resolve.h"
#include "cli/table.h"
#include "cli/workload.h"
#include "manifest/document.h"

namespace keelson::cli {
namespace {

using nlohmann::json;

constexpr size_t kEventsShown = 20;

std::string Indent(const std::string& text, const std::string& pad) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) out += pad + line + "\n";
  return out;
}

std::string LabelText(const model::Labels& labels) {
  if (labels.empty()) return "<none>";
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : "\n              ") + k + "=" + v;
  return out;
}

void PrintConditions(const model::Object& o, TimePoint now) {
  std::cout << "Conditions:\n";
  auto it = o.status.find("conditions");
  if (it == o.status.end() || !it->is_array() || it->empty()) {
    std::cout << "  <none: the controller has not reported yet>\n";
    return;
  }
  Table t({"TYPE", "STATUS", "REASON", "AGE", "MESSAGE"});
  for (const auto& c : *it) {
    TimePoint when{};
    std::string age = ParseTimestamp(c.value("lastTransitionTime", ""), &when) ? FormatAge(when, now) : "-";
    t.AddRow({c.value("type", ""), c.value("status", ""), c.value("reason", ""), age, c.value("message", "")});
  }
  std::ostringstream out;
  t.Print(out);
  std::cout << Indent(out.str(), "  ");
}

void PrintEvents(const std::vector<store::Event>& events, TimePoint now) {
  std::cout << "Events:\n";
  if (events.empty()) {
    std::cout << "  <none>\n";
    return;
  }
  Table t({"AGE", "TYPE", "REASON", "MESSAGE"});
  size_t start = events.size() > kEventsShown ? events.size() - kEventsShown : 0;
  for (size_t i = start; i < events.size(); ++i) {
    TimePoint when{};
    std::string age = ParseTimestamp(events[i].time, &when) ? FormatAge(when, now) : "-";
    t.AddRow({age, events[i].type, events[i].reason, EventMessage(events[i], now)});
  }
  std::ostringstream out;
  t.Print(out);
  std::cout << Indent(out.str(), "  ");
}

// A runner's container, a pool's replicas: name, state and the engine's
// status line, as the engine says now.
using Owned = Result<std::map<std::string, std::vector<docker::ContainerSummary>>>;
void PrintContainers(const model::Object& o, const Owned* owned) {
  if (!owned || (o.kind != model::Kind::kRunner && o.kind != model::Kind::kRunnerPool)) return;
  std::cout << "Containers:\n";
  if (!*owned) {
    std::cout << "  <unknown: " << owned->error().message << ">\n";
    return;
  }
  auto it = (*owned)->find(o.meta.uid);
  if (it == (*owned)->end() || it->second.empty()) {
    std::cout << "  <none>\n";
    return;
  }
  Table t({"NAME", "STATE", "STATUS", "ID"});
  for (const auto& c : it->second) t.AddRow({c.name, c.state, c.status, c.id.substr(0, 12)});
  std::ostringstream out;
  t.Print(out);
  std::cout << Indent(out.str(), "  ");
}

void Describe(const model::Object& o, const std::vector<store::Event>* events, const Owned* owned) {
  auto now = std::chrono::system_clock::now();
  std::cout << "Name:         " << o.meta.name << "\n"
            << "Namespace:    " << o.meta.namespace_ << "\n"
            << "Kind:         " << model::Info(o.kind).name << "\n"
            << "Labels:       " << LabelText(o.meta.labels) << "\n"
            << "Annotations:  " << LabelText(o.meta.annotations) << "\n"
            << "UID:          " << o.meta.uid << "\n"
            << "Generation:   " << o.meta.generation << "\n"
            << "Created:      " << o.meta.creation_timestamp << "\n";
  if (o.meta.deletion_timestamp) std::cout << "Deleting:     since " << *o.meta.deletion_timestamp << "\n";
  std::cout << "Ready:        " << ReadyState(o) << " (" << StatusWord(o) << ")\n";
  std::cout << "Spec:\n" << Indent(manifest::EmitYaml(o.spec), "  ");
  json status = o.status;
  status.erase("conditions");
  if (!status.empty()) std::cout << "Status:\n" << Indent(manifest::EmitYaml(status), "  ");
  PrintConditions(o, now);
  PrintContainers(o, owned);
  if (events) {
    PrintEvents(*events, now);
  } else {
    std::cout << "Events:\n  (not served over the API: keelson events on the keelson host shows them)\n";
  }
}

struct DescribeOptions {
  std::vector<std::string> words;
  std::string selector;
};

// One object, with its own events (not a predecessor's of the same name);
// over the API (no store), without them: keelson's events are not served there.
Result<void> DescribeOne(store::ObjectStore* objects, const model::Object& o, bool separate, const Owned* owned) {
  std::vector<store::Event> events;
  if (objects) {
    store::EventFilter filter;
    filter.uid = o.meta.uid;
    auto stored = objects->Events(filter);
    if (!stored) return Unexpected(stored.error());
    events = std::move(*stored);
  }
  if (separate) std::cout << "\n\n";
  Describe(o, objects ? &events : nullptr, owned);
  return {};
}

// KIND NAME...: those objects; KIND alone (with -l): every object of the
// kind in the namespace, as kubectl describe does.
int RunDescribe(const Globals& g, const DescribeOptions& opts) {
  auto refs = ParseRefs(opts.words);
  if (!refs) return Fail(refs.error().message, kExitUsage);
  auto sel = model::Selector::Parse(opts.selector);
  if (!sel) return Fail(sel.error().message, kExitUsage);
  auto reading = OpenReading(g, Access::kRead);
  if (!reading) {
    return Fail(reading.error().message, IsRemote(g) && reading.error().code == ErrorCode::kInvalid ? kExitUsage : kExitFailure);
  }
  if (reading->session) {
    if (std::string stale = StaleStatusReason(*reading->session); !stale.empty()) std::cerr << "warning: " << stale << "\n";
  }
  ObjectReader& objects = *reading->reader;
  store::ObjectStore* store = reading->session ? reading->session->objects.get() : nullptr;
  int code = kExitOk;
  size_t shown = 0;
  std::unique_ptr<Owned> owned;
  for (const auto& r : *refs) {
    std::vector<model::Object> found;
    if (r.name.empty()) {
      auto all = objects.ForEach({r.kind, g.namespace_, &*sel}, [&found](model::Object&& o) { found.push_back(std::move(o)); });
      if (!all) return Fail(all.error().message);
    } else {
      auto o = objects.Get(r.kind, g.namespace_, r.name);
      if (!o) return Fail(o.error().message);
      if (!*o) {
        code = Fail(std::string(model::Info(r.kind).singular) + " \"" + r.name + "\" not found in namespace " +
                    g.namespace_);
        continue;
      }
      found.push_back(std::move(**o));
    }
    // The engine is asked once, and only when a runner or pool is shown
    // from the local store.
    if (store && !owned && std::any_of(found.begin(), found.end(), [](const model::Object& o) {
          return o.kind == model::Kind::kRunner || o.kind == model::Kind::kRunnerPool;
        })) {
      auto id = store->StoreId();
      auto engine = OpenEngine(g);
      owned = std::make_unique<Owned>(!id       ? Owned(Unexpected(id.error()))
                                      : !engine ? Owned(Unexpected(engine.error()))
                                                : ContainersByOwner(**engine, *id));
    }
    for (const auto& o : found) {
      if (auto d = DescribeOne(store, o, shown++ > 0, owned.get()); !d) return Fail(d.error().message);
    }
  }
  if (shown == 0 && code == kExitOk) std::cerr << "No objects found in namespace " << g.namespace_ << ".\n";
  return code;
}

}  // namespace

void RegisterDescribe(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<DescribeOptions>();
  auto* cmd = app.add_subcommand("describe", "Spec, status, conditions and recent events of objects");
  cmd->add_option("object", opts->words, "KIND [NAME...] or KIND/NAME...: KIND alone describes every one")->required();
  cmd->add_option("-l,--selector", opts->selector, "With KIND alone: only objects matching the label selector");
  cmd->callback([&g, opts] { g.exit_code = RunDescribe(g, *opts); });
}

}  // namespace keelson::cli
