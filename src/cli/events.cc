// keelson events [-w] [KIND/NAME] [-A]

#include <iostream>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/resolve.h"
#include "cli/table.h"

namespace keelson::cli {
namespace {

struct EventsOptions {
  std::vector<std::string> words;
  bool watch = false;
  bool all_namespaces = false;
};

void Print(const std::vector<store::Event>& events, bool header, bool with_ns) {
  auto now = std::chrono::system_clock::now();
  std::vector<std::string> headers = {"AGE", "TYPE", "REASON", "OBJECT", "MESSAGE"};
  if (with_ns) headers.insert(headers.begin(), "NAMESPACE");
  Table t(headers);
  for (const auto& e : events) {
    TimePoint when{};
    std::vector<std::string> row = {ParseTimestamp(e.time, &when) ? FormatAge(when, now) : "-", e.type,
                                    e.reason, std::string(model::Info(e.kind).singular) + "/" + e.name,
                                    e.message};
    if (with_ns) row.insert(row.begin(), e.namespace_);
    t.AddRow(std::move(row));
  }
  if (header) {
    t.Print(std::cout);
    return;
  }
  // Follow mode: rows only, in the same shape.
  std::ostringstream out;
  t.Print(out);
  std::string text = out.str();
  std::cout << text.substr(text.find('\n') + 1) << std::flush;
}

int RunEvents(const Globals& g, const EventsOptions& opts) {
  store::EventFilter filter;
  if (!opts.all_namespaces) filter.namespace_ = g.namespace_;
  if (!opts.words.empty()) {
    auto refs = ParseRefs(opts.words);
    if (!refs) return Fail(refs.error().message, kExitUsage);
    if (refs->size() != 1) return Fail("events takes at most one object", kExitUsage);
    filter.kind = refs->front().kind;
    if (!refs->front().name.empty()) filter.name = refs->front().name;
  }
  auto session = OpenSession(g);
  if (!session) return Fail(session.error().message);
  InstallSignalHandlers();
  bool first = true;
  do {
    auto events = (*session)->objects->Events(filter);
    if (!events) return Fail(events.error().message);
    if (!events->empty()) {
      Print(*events, first, opts.all_namespaces);
      filter.after_id = events->back().id;
      first = false;
    } else if (first && !opts.watch) {
      std::cerr << "No events found.\n";
    }
  } while (opts.watch && SleepUnlessInterrupted(250));
  return kExitOk;
}

}  // namespace

void RegisterEvents(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<EventsOptions>();
  auto* cmd = app.add_subcommand("events", "Recorded events: applies, deletes, reconcile actions, errors");
  cmd->add_option("object", opts->words, "KIND or KIND/NAME to filter on");
  cmd->add_flag("-w,--watch", opts->watch, "Keep printing new events");
  cmd->add_flag("-A,--all-namespaces", opts->all_namespaces, "Events of every namespace");
  cmd->callback([&g, opts] { g.exit_code = RunEvents(g, *opts); });
}

}  // namespace keelson::cli
