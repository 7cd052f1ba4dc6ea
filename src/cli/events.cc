// keelson events [-w] [KIND/NAME] [-A]

#include <iostream>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/remote.h"
#include "cli/resolve.h"
#include "cli/table.h"
#include "util/units.h"

namespace keelson::cli {
namespace {

struct EventsOptions {
  std::vector<std::string> words;
  std::string for_object;  ///< --for KIND/NAME
  std::string since;       ///< --since D
  size_t limit = 0;        ///< --limit N
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
                                    EventMessage(e, now)};
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

// The filter the arguments ask for; an object that exists is matched by its
// uid, so a re-created object does not show its predecessor's events.
Result<store::EventFilter> Filter(const Globals& g, const EventsOptions& opts, store::ObjectStore& objects) {
  store::EventFilter filter;
  if (!opts.all_namespaces) filter.namespace_ = g.namespace_;
  std::vector<std::string> words = opts.words;
  if (!opts.for_object.empty()) words.push_back(opts.for_object);
  if (!words.empty()) {
    auto refs = ParseRefs(words);
    if (!refs) return Unexpected(refs.error());
    if (refs->size() != 1) return Unexpected(ErrorCode::kInvalid, "events takes at most one object");
    filter.kind = refs->front().kind;
    if (!refs->front().name.empty()) {
      filter.name = refs->front().name;
      auto o = objects.Get(refs->front().kind, g.namespace_, refs->front().name);
      if (o && *o) filter.uid = (*o)->meta.uid;
    }
  }
  if (!opts.since.empty()) {
    auto d = ParseDuration(opts.since);
    if (!d || d->count() < 0) return Unexpected(ErrorCode::kInvalid, "--since: not a duration: " + opts.since);
    filter.since = FormatTimestamp(std::chrono::system_clock::now() -
                                   std::chrono::duration_cast<std::chrono::system_clock::duration>(*d));
  }
  filter.limit = opts.limit;
  return filter;
}

int RunEvents(const Globals& g, const EventsOptions& opts) {
  if (IsRemote(g)) return NotOverTheApi("events");
  auto session = OpenSession(g, Access::kRead);
  if (!session) return Fail(session.error().message);
  auto filter = Filter(g, opts, *(*session)->objects);
  if (!filter) return Fail(filter.error().message, kExitUsage);
  InstallSignalHandlers();
  bool first = true;
  do {
    auto events = (*session)->objects->Events(*filter);
    if (!events) return Fail(events.error().message);
    if (!events->empty()) {
      Print(*events, first, opts.all_namespaces);
      filter->after_id = events->back().id;
      filter->limit = 0;  // following: everything new
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
  cmd->add_option("--for", opts->for_object, "Only the events of this object: KIND/NAME");
  cmd->add_option("--since", opts->since, "Only events seen in the last D (e.g. 10m)");
  cmd->add_option("--limit", opts->limit, "Only the newest N");
  cmd->add_flag("-w,--watch", opts->watch, "Keep printing new events");
  cmd->add_flag("-A,--all-namespaces", opts->all_namespaces, "Events of every namespace");
  cmd->callback([&g, opts] { g.exit_code = RunEvents(g, *opts); });
}

}  // namespace keelson::cli
