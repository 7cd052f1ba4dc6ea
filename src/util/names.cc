#include "util/names.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace keelson {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
bool IsNameChar(char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; }

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, 1..63 chars.
std::string CheckNamePart(std::string_view s, const char* what) {
  if (s.empty()) return std::string(what) + " must not be empty";
  if (s.size() > 63) return std::string(what) + " must be at most 63 characters";
  for (char c : s) {
    if (!IsNameChar(c)) {
      return std::string(what) + " " + Quote(s) +
             " may contain only letters, digits, '-', '_' and '.'";
    }
  }
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) {
    return std::string(what) + " " + Quote(s) + " must start and end with a letter or digit";
  }
  return "";
}

// alpha-numeric [separator alpha-numeric]*, separator = [_.] | __ | -+
bool IsPathComponent(std::string_view c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  for (size_t i = 0; i < c.size(); ++i) {
    if (IsLowerAlnum(c[i]) || c[i] == '-') continue;
    if (c[i] == '_' && i + 1 < c.size() && c[i + 1] == '_') {
      ++i;
      continue;
    }
    if (c[i] != '_' && c[i] != '.') return false;
    if (!IsLowerAlnum(c[i + 1])) return false;
  }
  return true;
}

bool IsHost(std::string_view h) {
  size_t colon = h.rfind(':');
  if (colon != std::string_view::npos && h.front() != '[') {
    std::string_view port = h.substr(colon + 1);
    if (port.empty() || port.size() > 5) return false;
    for (char c : port) {
      if (c < '0' || c > '9') return false;
    }
    h = h.substr(0, colon);
  }
  if (h.empty()) return false;
  for (char c : h) {
    if (!IsAlnum(c) && c != '-' && c != '.' && c != '[' && c != ']' && c != ':') return false;
  }
  return true;
}

bool IsTag(std::string_view t) {
  if (t.empty() || t.size() > 128 || !(IsAlnum(t.front()) || t.front() == '_')) return false;
  for (char c : t) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

bool IsDigest(std::string_view d) {
  size_t colon = d.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view hex = d.substr(colon + 1);
  if (hex.size() < 32) return false;
  for (char c : hex) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

std::string CheckImageRef(std::string_view s) {
  const std::string bad = Quote(s) + " is not a valid image reference";
  if (s.empty() || s.size() > 512) return bad;
  if (size_t at = s.find('@'); at != std::string_view::npos) {
    if (!IsDigest(s.substr(at + 1))) return bad + ": bad digest";
    s = s.substr(0, at);
  }
  size_t slash = s.rfind('/');
  size_t colon = s.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    if (!IsTag(s.substr(colon + 1))) return bad + ": bad tag";
    s = s.substr(0, colon);
  }
  size_t first = s.find('/');
  if (first != std::string_view::npos) {
    std::string_view head = s.substr(0, first);
    if (head.find_first_of(".:") != std::string_view::npos || head == "localhost") {
      if (!IsHost(head)) return bad + ": bad registry host";
      s = s.substr(first + 1);
    }
  }
  if (s.size() > 255) return bad + ": name longer than 255 characters";
  while (true) {
    size_t next = s.find('/');
    if (!IsPathComponent(s.substr(0, next))) {
      return bad + ": repository names are lower-case letters, digits and separators";
    }
    if (next == std::string_view::npos) return "";
    s = s.substr(next + 1);
  }
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  size_t shown = 0;
  for (unsigned char c : s) {
    if (++shown > 40) {
      out += "...";
      break;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string CheckDns1123Label(std::string_view s) {
  if (s.empty()) return "must not be empty";
  if (s.size() > 63) return "must be at most 63 characters";
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') {
      return Quote(s) + " must be a DNS-1123 label: lower-case letters, digits and '-'";
    }
  }
  if (s.front() == '-' || s.back() == '-') {
    return Quote(s) + " must start and end with a lower-case letter or digit";
  }
  return "";
}

std::string CheckDns1123Subdomain(std::string_view s) {
  if (s.empty()) return "must not be empty";
  if (s.size() > 253) return "must be at most 253 characters";
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view part = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    // Kubernetes' IsDNS1123Subdomain: each part has a label's shape, but
    // only the whole is limited (253), not each part (63).
    const bool shaped = !part.empty() && part.front() != '-' && part.back() != '-' &&
                        std::all_of(part.begin(), part.end(), [](char c) { return IsLowerAlnum(c) || c == '-'; });
    if (!shaped) {
      return Quote(s) + " must be a DNS-1123 subdomain (lower-case labels joined by '.')";
    }
    if (dot == std::string_view::npos) return "";
    start = dot + 1;
  }
}

std::string CheckQualifiedName(std::string_view s) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return CheckNamePart(s, "key");
  std::string prefix_err = CheckDns1123Subdomain(s.substr(0, slash));
  if (!prefix_err.empty()) return "key prefix " + prefix_err;
  return CheckNamePart(s.substr(slash + 1), "key name");
}

std::string CheckLabelValue(std::string_view s) {
  if (s.empty()) return "";
  return CheckNamePart(s, "value");
}

}  // namespace keelson
