// keelson logs runner/NAME | runnerpool/NAME [-f] [--tail N] [--since D]
//   [--since-time T] [--timestamps] [--prefix] [--previous]

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/remote.h"
#include "cli/workload.h"
#include "store/run_history.h"
#include "util/clock.h"
#include "util/text.h"
#include "util/units.h"

namespace keelson::cli {
namespace {

struct LogsOptions {
  std::vector<std::string> words;
  bool follow = false;
  int tail = -1;
  std::string since, since_time;
  bool timestamps = false;
  bool prefix = false;
  bool previous = false;
  int max_requests = 5;
  CLI::Option* prefix_flag = nullptr;
};

// Writes whole lines to stdout, each with its source's prefix, from any
// thread: lines of several containers never interleave mid-line.
class LineOut {
 public:
  void Write(const std::string& prefix, std::string& pending, std::string_view data) {
    pending.append(data);
    size_t start = 0;
    std::string lines;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      lines += prefix;
      lines.append(pending, start, nl - start + 1);
    }
    pending.erase(0, start);
    if (lines.empty()) return;
    std::lock_guard lock(mu_);
    std::cout << lines << std::flush;
  }
  /// What is left of a stream without a final newline.
  void Flush(const std::string& prefix, std::string& pending) {
    if (pending.empty()) return;
    std::lock_guard lock(mu_);
    std::cout << prefix << pending << "\n" << std::flush;
    pending.clear();
  }

 private:
  std::mutex mu_;
};

// --previous: what the pool's last finished runs printed (kept by the
// controller as each ephemeral replica was removed).
int PrintPrevious(Workload& w, const LogsOptions& opts, bool prefix) {
  const std::string what = std::string(model::Info(w.object.kind).singular) + "/" + w.object.meta.name;
  if (w.object.kind != model::Kind::kRunnerPool) {
    return Fail(what + ": --previous shows a runnerpool's finished runs; a runner keeps its one container, " +
                "whose logs hold its earlier runs too");
  }
  if (opts.timestamps) return Fail("--timestamps: finished runs' output is kept without timestamps", kExitUsage);
  auto runs = store::RunHistory(*w.session->db).List(w.object.meta.uid);
  if (!runs) return Fail(runs.error().message);
  if (runs->empty()) {
    return Fail(what + " has no finished runs kept (an ephemeral pool keeps the output of its last runs: " +
                "successfulRunsHistoryLimit, failedRunsHistoryLimit)");
  }
  LineOut out;
  for (const auto& run : *runs) {
    std::string pending;
    const std::string p = prefix ? "[" + run.container + "] " : "";
    out.Write(p, pending, LastLines(run.output, opts.tail));
    out.Flush(p, pending);
  }
  return kExitOk;
}

int RunLogs(const Globals& g, const LogsOptions& opts) {
  if (IsRemote(g)) return NotOverTheApi("logs");
  if (!opts.since.empty() && !opts.since_time.empty()) {
    return Fail("at most one of --since and --since-time may be given", kExitUsage);
  }
  docker::LogOptions log;
  log.tail = opts.tail;
  log.timestamps = opts.timestamps;
  log.follow = opts.follow;
  if (!opts.since.empty()) {
    auto d = ParseDuration(opts.since);
    if (!d || d->count() <= 0) return Fail("--since: not a positive duration: " + opts.since, kExitUsage);
    log.since = std::chrono::duration_cast<std::chrono::seconds>(
                    (std::chrono::system_clock::now() - *d).time_since_epoch()).count();
  }
  if (!opts.since_time.empty()) {
    auto t = ParseRfc3339Seconds(opts.since_time);
    if (!t) return Fail("--since-time: not an RFC 3339 time: " + opts.since_time, kExitUsage);
    // The engine takes "since=0" for "from the start": a time at or before
    // the epoch is that too.
    log.since = std::max<int64_t>(*t, 0);
  }
  auto w = OpenWorkload(g, opts.words, "logs");
  if (!w) return Fail(w.error().message, w.error().code == ErrorCode::kInvalid ? kExitUsage : kExitFailure);
  const bool pool = w->object.kind == model::Kind::kRunnerPool;
  // A pool's lines say which replica printed them (kubectl logs --prefix).
  const bool prefix = opts.prefix_flag->count() > 0 ? opts.prefix : pool;
  if (opts.previous) return PrintPrevious(*w, opts, prefix);

  LineOut out;
  docker::CancelFlag cancel{false};
  auto follow_one = [&](const docker::ContainerSummary& c) -> Result<void> {
    const std::string p = prefix ? "[" + c.name + "] " : "";
    std::string pending[2];  // stdout's and stderr's partial lines
    auto r = w->engine->StreamLogs(c.id, log, [&](docker::OutputStream s, std::string_view data) {
      out.Write(p, pending[s == docker::OutputStream::kStderr], data);
      return true;
    }, cancel);
    for (auto& rest : pending) out.Flush(p, rest);
    // A replica removed while followed (its run ended) is not an error.
    if (!r && r.error().code == ErrorCode::kNotFound) return {};
    return r;
  };
  auto containers = w->Containers();
  if (!containers) return Fail(containers.error().message);
  const std::string what = std::string(model::Info(w->object.kind).singular) + "/" + w->object.meta.name;
  if (containers->empty() && !(pool && opts.follow)) {
    return Fail(what + " has no container now" + (pool ? " (keelson logs " + what + " --previous shows finished runs)" : ""));
  }
  if (!opts.follow) {
    for (const auto& c : *containers) {
      if (auto r = follow_one(c); !r) return Fail(r.error().message);
    }
    return kExitOk;
  }
  // Following: a stream per container, and for a pool, new replicas as they
  // come (an ephemeral pool replaces each finished run), until Ctrl-C.
  InstallSignalHandlers();
  if (static_cast<int>(containers->size()) > opts.max_requests) {
    return Fail("you are attempting to follow " + std::to_string(containers->size()) +
                " log streams, but maximum allowed concurrency is " + std::to_string(opts.max_requests) +
                ", use --max-log-requests to increase the limit");
  }
  std::mutex mu;
  std::set<std::string> followed;
  std::vector<std::thread> threads;
  std::atomic<int> running{0};
  std::optional<Error> failure;
  auto start = [&](const docker::ContainerSummary& c) {
    if (!followed.insert(c.id).second) return;
    ++running;
    threads.emplace_back([&, c] {
      auto r = follow_one(c);
      if (!r) {
        std::lock_guard lock(mu);
        if (!failure) failure = r.error();
      }
      --running;
    });
  };
  for (const auto& c : *containers) start(c);
  // New replicas get only their new lines' worth of --since, not the tail.
  log.tail = -1;
  for (int waited = 0;; waited += 100) {
    if (Interrupted()) break;
    {
      std::lock_guard lock(mu);
      if (failure) break;
    }
    if (!pool && running == 0) break;  // a runner's container stopped: its stream ended, as docker logs -f
    if (pool && waited >= 2000) {
      waited = 0;
      if (auto now = w->Containers()) {
        for (const auto& c : *now) {
          if (running < opts.max_requests) start(c);
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  cancel = true;
  for (auto& t : threads) t.join();
  if (failure) return Fail(failure->message);
  return Interrupted() ? 130 : kExitOk;
}

}  // namespace

void RegisterLogs(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<LogsOptions>();
  auto* cmd = app.add_subcommand("logs", "Print what a runner's container, or every replica of a pool, printed");
  cmd->add_option("object", opts->words, "runner/NAME, runnerpool/NAME, KIND NAME, or a runner's NAME")->required();
  cmd->add_flag("-f,--follow", opts->follow, "Keep printing new output (a pool: its new replicas too) until Ctrl-C");
  cmd->add_option("--tail", opts->tail, "Lines from the end of each container's output (-1: all)");
  cmd->add_option("--since", opts->since, "Only output newer than this duration, e.g. 10m");
  cmd->add_option("--since-time", opts->since_time, "Only output after this RFC 3339 time");
  cmd->add_flag("--timestamps", opts->timestamps, "Each line starts with the time the engine received it");
  opts->prefix_flag = cmd->add_flag("--prefix", opts->prefix,
                                    "Each line starts with its container's name (default for a runnerpool)");
  cmd->add_flag("-p,--previous", opts->previous, "A runnerpool's finished runs (the controller keeps their last lines)");
  cmd->add_option("--max-log-requests", opts->max_requests, "At most this many containers followed at once (-f)");
  cmd->callback([&g, opts] { g.exit_code = RunLogs(g, *opts); });
}

}  // namespace keelson::cli
