#include "util/text.h"

#include <cctype>

namespace keelson {
namespace {

// The length of the valid UTF-8 sequence at s[i], 0 when there is none.
size_t SequenceAt(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  unsigned min = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  unsigned cp = c & (0xFF >> (n + 1));
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

bool Continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (size_t n = SequenceAt(s, i)) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::string_view Utf8Prefix(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t end = max_bytes;
  while (end > 0 && Continuation(s[end])) --end;
  return s.substr(0, end);
}

std::string_view Utf8Suffix(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t start = s.size() - max_bytes;
  while (start < s.size() && Continuation(s[start])) ++start;
  return s.substr(start);
}

std::string LastLines(const std::string& text, int n) {
  if (n < 0) return text;
  if (n == 0) return "";
  size_t pos = text.size();
  if (pos > 0 && text.back() == '\n') --pos;
  for (int i = 0; i < n; ++i) {
    if (pos == 0) return text;
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) return text;
  }
  return text.substr(pos + 1);
}

bool ParseHeaderLine(std::string_view line, std::string* name, std::string* value) {
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  name->assign(line.substr(0, colon));
  for (auto& c : *name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string_view rest = line.substr(colon + 1);
  const auto first = rest.find_first_not_of(" \t"), last = rest.find_last_not_of(" \t\r\n");
  value->assign(first == std::string_view::npos ? std::string_view() : rest.substr(first, last - first + 1));
  return true;
}

}  // namespace keelson
