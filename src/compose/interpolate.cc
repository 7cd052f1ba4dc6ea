#include "compose/interpolate.h"

#include <cctype>

namespace keelson::compose {
namespace {

bool NameStart(char c) { return c == '_' || std::isalpha(static_cast<unsigned char>(c)); }
bool NameChar(char c) { return c == '_' || std::isalnum(static_cast<unsigned char>(c)); }

Error Invalid(std::string_view whole) {
  return Error{ErrorCode::kInvalid, "Invalid template: \"" + std::string(whole) + "\""};
}

// The end of the braced expression that starts at text[open] == '{': the
// index of its '}', counting the "${" nested in it; npos when unclosed.
size_t Closing(std::string_view text, size_t open) {
  int depth = 0;
  for (size_t i = open + 1; i < text.size(); ++i) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '$') {
      ++i;
    } else if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      ++depth;
      ++i;
    } else if (text[i] == '}') {
      if (depth == 0) return i;
      --depth;
    }
  }
  return std::string_view::npos;
}

Result<std::string> Braced(std::string_view body, std::string_view whole, const Lookup& lookup) {
  size_t n = 0;
  if (body.empty() || !NameStart(body[0])) return Unexpected(Invalid(whole));
  while (n < body.size() && NameChar(body[n])) ++n;
  const std::string name(body.substr(0, n));
  const std::optional<std::string> value = lookup(name);
  std::string_view rest = body.substr(n);
  if (rest.empty()) return value.value_or("");
  const bool colon = rest[0] == ':';
  if (colon) rest.remove_prefix(1);
  if (rest.empty() || (rest[0] != '-' && rest[0] != '?' && rest[0] != '+')) return Unexpected(Invalid(whole));
  const char op = rest[0];
  const std::string_view arg = rest.substr(1);
  const bool set = colon ? value && !value->empty() : value.has_value();
  switch (op) {
    case '-':
      return set ? Result<std::string>(*value) : Interpolate(arg, lookup);
    case '+':
      return set ? Interpolate(arg, lookup) : Result<std::string>(std::string());
    default: {  // '?'
      if (set) return *value;
      auto message = Interpolate(arg, lookup);
      if (!message) return message;
      return Unexpected(ErrorCode::kInvalid, "required variable " + name + " is missing a value" +
                                                 (message->empty() ? "" : ": " + *message));
    }
  }
}

std::string Trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return "";
  const auto last = s.find_last_not_of(" \t\r");
  return std::string(s.substr(first, last - first + 1));
}

}  // namespace

Result<std::string> Interpolate(std::string_view text, const Lookup& lookup) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') {
      out += text[i];
      continue;
    }
    const char next = i + 1 < text.size() ? text[i + 1] : '\0';
    if (next == '$') {
      out += '$';
      ++i;
    } else if (NameStart(next)) {
      size_t end = i + 1;
      while (end < text.size() && NameChar(text[end])) ++end;
      out += lookup(std::string(text.substr(i + 1, end - i - 1))).value_or("");
      i = end - 1;
    } else if (next == '{') {
      const size_t close = Closing(text, i + 1);
      if (close == std::string_view::npos) return Unexpected(Invalid(text));
      auto value = Braced(text.substr(i + 2, close - i - 2), text, lookup);
      if (!value) return value;
      out += *value;
      i = close;
    } else {
      return Unexpected(Invalid(text));
    }
  }
  return out;
}

Result<std::map<std::string, std::string>> ParseDotEnv(std::string_view text, const Lookup& lookup) {
  std::map<std::string, std::string> vars;
  // The file's own earlier lines first, then the environment: docker
  // compose lets a value build on the one before it.
  Lookup both = [&](const std::string& name) -> std::optional<std::string> {
    if (auto it = vars.find(name); it != vars.end()) return it->second;
    return lookup(name);
  };
  int line_no = 0;
  size_t at = 0;
  while (at <= text.size()) {
    const size_t eol = text.find('\n', at);
    std::string_view line = text.substr(at, eol == std::string_view::npos ? std::string_view::npos : eol - at);
    at = eol == std::string_view::npos ? text.size() + 1 : eol + 1;
    ++line_no;
    const std::string where = std::to_string(line_no) + ": ";
    std::string trimmed = Trim(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    if (trimmed.rfind("export ", 0) == 0) trimmed = Trim(std::string_view(trimmed).substr(7));
    const size_t eq = trimmed.find('=');
    const std::string name = Trim(std::string_view(trimmed).substr(0, eq));
    if (name.empty() || !NameStart(name[0]) ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != std::string::npos) {
      return Unexpected(ErrorCode::kInvalid, where + "\"" + name + "\" is not a variable name");
    }
    if (eq == std::string::npos) {
      // NAME alone: its value in the environment, if it has one.
      if (auto v = lookup(name)) vars[name] = *v;
      continue;
    }
    std::string_view raw = std::string_view(trimmed).substr(eq + 1);
    while (!raw.empty() && (raw.front() == ' ' || raw.front() == '\t')) raw.remove_prefix(1);
    std::string value;
    if (!raw.empty() && (raw.front() == '\'' || raw.front() == '"')) {
      const char quote = raw.front();
      size_t end = 1;
      while (end < raw.size() && raw[end] != quote) end += quote == '"' && raw[end] == '\\' ? 2 : 1;
      if (end >= raw.size()) return Unexpected(ErrorCode::kInvalid, where + "the quoted value of " + name + " is not closed");
      std::string_view inner = raw.substr(1, end - 1);
      const std::string after = Trim(raw.substr(end + 1));
      if (!after.empty() && after[0] != '#') {
        return Unexpected(ErrorCode::kInvalid, where + "text after the quoted value of " + name);
      }
      if (quote == '\'') {
        value = std::string(inner);
      } else {
        std::string unescaped;
        for (size_t i = 0; i < inner.size(); ++i) {
          if (inner[i] != '\\' || i + 1 == inner.size()) {
            unescaped += inner[i];
            continue;
          }
          const char e = inner[++i];
          unescaped += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
        }
        auto v = Interpolate(unescaped, both);
        if (!v) return Unexpected(ErrorCode::kInvalid, where + v.error().message);
        value = *v;
      }
    } else {
      const size_t comment = raw.find(" #");
      auto v = Interpolate(Trim(raw.substr(0, comment)), both);
      if (!v) return Unexpected(ErrorCode::kInvalid, where + v.error().message);
      value = *v;
    }
    vars[name] = value;
  }
  return vars;
}

}  // namespace keelson::compose
