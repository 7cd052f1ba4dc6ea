#pragma once
// What a terminal gets that a pipe does not: colour for states, and a
// status line redrawn in place for long operations. NO_COLOR (any
// non-empty value, as no-color.org says) and TERM=dumb turn colour off.

#include <string>
#include <string_view>

namespace keelson::cli::term {

/// `fd` is a terminal that understands cursor control.
bool IsTerminal(int fd);
/// Colour on `fd`: a terminal, and NO_COLOR unset or empty.
bool Colour(int fd);

enum class Tone { kNone, kGood, kWarn, kBad };
/// The tone of a state word: True, Ready, Running, running → good; False,
/// Failed, Degraded, CrashLoopBackOff, exited, dead, ...Error → bad;
/// "-", Pending, waiting reasons → warn.
Tone ToneOf(std::string_view state);
/// `text` in the tone's colour (SGR), or as it is for kNone.
std::string Paint(std::string_view text, Tone tone);

/// One line at the bottom of stderr, redrawn in place, with log lines
/// printed above it (the log sink goes through Print). Off (every call a
/// no-op but Print) unless stderr is a terminal.
class StatusLine {
 public:
  static StatusLine& Get();
  bool active() const { return active_; }
  /// Replaces the line (cut to the terminal's width).
  void Show(std::string text);
  /// Clears it for good.
  void Done();
  /// Writes `text` (whole lines) to stderr above the status line.
  void Print(std::string_view text);

 private:
  StatusLine();
  void Draw();
  bool active_ = false;
  std::string line_;
};

}  // namespace keelson::cli::term
