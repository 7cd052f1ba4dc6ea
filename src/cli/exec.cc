// keelson exec runner/NAME [-i] [-t] -- COMMAND [ARG...]

#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/remote.h"
#include "cli/workload.h"

namespace keelson::cli {
namespace {

struct ExecOptions {
  std::string object;
  std::vector<std::string> command;  ///< after --
  bool stdin_ = false;
  bool tty = false;
};

// The terminal in raw mode while a TTY session runs (keys go to the command
// as typed, Ctrl-C included), restored however the session ends.
class RawTerminal {
 public:
  explicit RawTerminal(int fd) : fd_(fd) {
    if (::tcgetattr(fd_, &saved_) != 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(fd_, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

int RunExec(const Globals& g, const ExecOptions& opts) {
  const std::vector<std::string>& command = opts.command;
  if (IsRemote(g)) return NotOverTheApi("exec");
  if (command.empty()) return Fail("exec needs a command: keelson exec runner/NAME -- COMMAND [ARG...]", kExitUsage);
  auto w = OpenWorkload(g, {opts.object}, "exec");
  if (!w) return Fail(w.error().message, w.error().code == ErrorCode::kInvalid ? kExitUsage : kExitFailure);
  auto containers = w->Containers();
  if (!containers) return Fail(containers.error().message);
  // A pool: its first running replica, as kubectl exec picks a pod of a deployment.
  const docker::ContainerSummary* target = nullptr;
  for (const auto& c : *containers) {
    if (c.state == "running") {
      target = &c;
      break;
    }
  }
  const std::string what = std::string(model::Info(w->object.kind).singular) + "/" + w->object.meta.name;
  if (!target) return Fail(what + " has no running container");

  docker::ExecRequest req;
  req.cmd = command;
  bool tty = opts.tty;
  if (tty && !::isatty(STDIN_FILENO)) {
    std::cerr << "Unable to use a TTY - input is not a terminal or the right kind of file\n";
    tty = false;
  }
  req.tty = tty;
  req.stdin_fd = opts.stdin_ ? STDIN_FILENO : -1;
  if (tty) {
    winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 || ::ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
      req.rows = ws.ws_row;
      req.cols = ws.ws_col;
    }
  }
  req.output = [](docker::OutputStream s, std::string_view data) {
    WriteAll(s == docker::OutputStream::kStderr ? STDERR_FILENO : STDOUT_FILENO, data);
    return true;
  };
  Result<int> code = [&] {
    std::unique_ptr<RawTerminal> raw;
    if (tty && opts.stdin_) raw = std::make_unique<RawTerminal>(STDIN_FILENO);
    return w->engine->Exec(target->id, req);
  }();
  if (!code) return Fail(code.error().message);
  if (*code != 0) std::cerr << "command terminated with exit code " << *code << "\n";
  return *code;
}

}  // namespace

void RegisterExec(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<ExecOptions>();
  auto* cmd = app.add_subcommand("exec", "Run a command in a runner's container (a pool: its first running replica)");
  cmd->add_option("object", opts->object, "runner/NAME, runnerpool/NAME, or a runner's NAME")->required();
  cmd->add_option("command", opts->command, "-- COMMAND [ARG...]");
  cmd->add_flag("-i,--stdin", opts->stdin_, "Pass standard input to the command");
  cmd->add_flag("-t,--tty", opts->tty, "Run the command in a terminal");
  cmd->callback([&g, opts] { g.exit_code = RunExec(g, *opts); });
}

}  // namespace keelson::cli
