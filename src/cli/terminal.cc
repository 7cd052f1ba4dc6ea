#include "cli/terminal.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

namespace keelson::cli::term {
namespace {

std::mutex g_mu;  // stderr's writers: the status line and the log sink

void WriteAll(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

size_t Columns() {
  winsize ws{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

// `s` cut to `width` characters (UTF-8 aware), "…" marking a cut.
std::string Fit(const std::string& s, size_t width) {
  size_t chars = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (++chars > width - 1) break;
  }
  if (i >= s.size()) return s;
  return s.substr(0, i) + "\xE2\x80\xA6";
}

}  // namespace

bool IsTerminal(int fd) {
  const char* t = std::getenv("TERM");
  return ::isatty(fd) && !(t && std::string_view(t) == "dumb");
}

bool Colour(int fd) {
  const char* no = std::getenv("NO_COLOR");
  return IsTerminal(fd) && !(no && *no);
}

Tone ToneOf(std::string_view s) {
  for (std::string_view good : {"True", "Ready", "Running", "running", "Accepted", "Available"}) {
    if (s == good) return Tone::kGood;
  }
  for (std::string_view bad : {"False", "Failed", "Degraded", "CrashLoopBackOff", "exited", "dead", "Invalid", "Conflict",
                               "Terminating"}) {
    if (s == bad) return Tone::kBad;
  }
  if (s.size() > 5 && (s.substr(s.size() - 5) == "Error" || s.find("Unavailable") != std::string_view::npos)) return Tone::kBad;
  if (s.rfind("Invalid", 0) == 0 || s.rfind("Err", 0) == 0 || s.find("NotFound") != std::string_view::npos) return Tone::kBad;
  return Tone::kWarn;
}

std::string Paint(std::string_view text, Tone tone) {
  const char* sgr = tone == Tone::kGood ? "\x1b[32m" : tone == Tone::kWarn ? "\x1b[33m" : tone == Tone::kBad ? "\x1b[31m" : nullptr;
  if (!sgr) return std::string(text);
  return std::string(sgr) + std::string(text) + "\x1b[0m";
}

StatusLine& StatusLine::Get() {
  static StatusLine line;
  return line;
}

StatusLine::StatusLine() : active_(IsTerminal(STDERR_FILENO)) {}

void StatusLine::Draw() {
  std::string out = "\r\x1b[K";
  if (!line_.empty()) out += Fit(line_, Columns());
  WriteAll(STDERR_FILENO, out);
}

void StatusLine::Show(std::string text) {
  if (!active_) return;
  std::lock_guard lock(g_mu);
  line_ = std::move(text);
  Draw();
}

void StatusLine::Done() {
  if (!active_) return;
  std::lock_guard lock(g_mu);
  line_.clear();
  Draw();
}

void StatusLine::Print(std::string_view text) {
  std::lock_guard lock(g_mu);
  if (active_ && !line_.empty()) {
    WriteAll(STDERR_FILENO, "\r\x1b[K");
    WriteAll(STDERR_FILENO, text);
    Draw();
  } else {
    WriteAll(STDERR_FILENO, text);
  }
}

}  // namespace keelson::cli::term
