#include "git/semver.h"

#include <cctype>

namespace keelson::git {
namespace {

bool IsX(std::string_view s) { return s == "x" || s == "X" || s == "*"; }

bool Digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// [0-9A-Za-z-]+ separated by dots.
bool Identifiers(std::string_view s) {
  if (s.empty()) return false;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      if (i == start) return false;
      start = i + 1;
      continue;
    }
    const char c = s[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

// Masterminds' comparePrerelease: dot-separated parts, numbers below words.
int ComparePre(std::string_view a, std::string_view b) {
  if (a == b) return 0;
  if (a.empty()) return 1;  // a release outranks its prereleases
  if (b.empty()) return -1;
  auto part = [](std::string_view s, size_t& at) {
    size_t dot = s.find('.', at);
    std::string_view p = s.substr(at, dot == std::string_view::npos ? std::string_view::npos : dot - at);
    at = dot == std::string_view::npos ? s.size() + 1 : dot + 1;
    return p;
  };
  size_t ia = 0, ib = 0;
  while (ia <= a.size() || ib <= b.size()) {
    if (ia > a.size()) return -1;  // fewer parts: lower
    if (ib > b.size()) return 1;
    std::string_view pa = part(a, ia), pb = part(b, ib);
    const bool na = Digits(pa), nb = Digits(pb);
    if (na && nb) {
      const auto x = std::stoull(std::string(pa)), y = std::stoull(std::string(pb));
      if (x != y) return x < y ? -1 : 1;
    } else if (na != nb) {
      return na ? -1 : 1;
    } else if (pa != pb) {
      return pa < pb ? -1 : 1;
    }
  }
  return 0;
}

// A constraint's version as written: "v"?, 1-3 parts (numbers or x), then
// prerelease and metadata. Returns the parts; false when it is not one.
struct Written {
  std::string major, minor, patch, pre, meta;
  bool has_minor = false, has_patch = false;
};

bool ReadWritten(std::string_view& s, Written* w) {
  size_t i = 0;
  if (i < s.size() && s[i] == 'v') ++i;
  auto part = [&](std::string* out) {
    size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == 'x' || s[i] == 'X' || s[i] == '*')) ++i;
    *out = std::string(s.substr(start, i - start));
    return i > start;
  };
  if (!part(&w->major)) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!part(&w->minor)) return false;
    w->has_minor = true;
    if (i < s.size() && s[i] == '.') {
      ++i;
      if (!part(&w->patch)) return false;
      w->has_patch = true;
    }
  }
  auto ident = [&](char lead, std::string* out) {
    if (i >= s.size() || s[i] != lead) return true;
    size_t start = ++i;
    while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '-' || s[i] == '.')) ++i;
    *out = std::string(s.substr(start, i - start));
    return Identifiers(*out);
  };
  if (!ident('-', &w->pre) || !ident('+', &w->meta)) return false;
  s.remove_prefix(i);
  return true;
}

void SkipSpace(std::string_view& s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
}

std::string_view ReadOp(std::string_view& s) {
  for (std::string_view op : {"!=", ">=", "=>", "<=", "=<", "~>", ">", "<", "=", "~", "^"}) {
    if (s.substr(0, op.size()) == op) {
      s.remove_prefix(op.size());
      return op;
    }
  }
  return "";
}

// "A - B" becomes ">= A, <= B", as Masterminds' rewriteRange.
std::string RewriteRanges(std::string_view text) {
  std::string out(text);
  for (size_t at = 0; (at = out.find(" - ", at)) != std::string::npos;) {
    size_t left = at;
    while (left > 0 && !std::isspace(static_cast<unsigned char>(out[left - 1])) && out[left - 1] != '|' &&
           out[left - 1] != ',') {
      --left;
    }
    size_t right = at + 3;
    while (right < out.size() && std::isspace(static_cast<unsigned char>(out[right]))) ++right;
    size_t end = right;
    while (end < out.size() && !std::isspace(static_cast<unsigned char>(out[end])) && out[end] != '|' && out[end] != ',') ++end;
    std::string a = out.substr(left, at - left), b = out.substr(right, end - right);
    std::string_view va = a, vb = b;
    Written wa, wb;
    if (a.empty() || b.empty() || !ReadWritten(va, &wa) || !ReadWritten(vb, &wb) || !va.empty() || !vb.empty()) {
      at += 3;
      continue;
    }
    std::string rewritten = ">= " + a + ", <= " + b;
    out.replace(left, end - left, rewritten);
    at = left + rewritten.size();
  }
  return out;
}

}  // namespace

std::optional<Version> ParseVersion(std::string_view text) {
  Written w;
  std::string_view s = text;
  if (!ReadWritten(s, &w) || !s.empty()) return std::nullopt;
  for (const std::string* p : {&w.major, &w.minor, &w.patch}) {
    if (!p->empty() && !Digits(*p)) return std::nullopt;
    if (p->size() > 19) return std::nullopt;
  }
  Version v;
  v.major = std::stoull(w.major);
  v.minor = w.has_minor ? std::stoull(w.minor) : 0;
  v.patch = w.has_patch ? std::stoull(w.patch) : 0;
  v.pre = w.pre;
  v.meta = w.meta;
  return v;
}

int Compare(const Version& a, const Version& b) {
  if (a.major != b.major) return a.major < b.major ? -1 : 1;
  if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;
  return ComparePre(a.pre, b.pre);
}

Result<Constraints> Constraints::Parse(std::string_view text) {
  const std::string rewritten = RewriteRanges(text);
  Constraints out;
  std::string_view rest = rewritten;
  for (;;) {
    const size_t bar = rest.find("||");
    std::string_view segment = rest.substr(0, bar);
    auto improper = [&] {
      return Unexpected(ErrorCode::kInvalid, "improper constraint: \"" + std::string(segment) + "\"");
    };
    std::vector<One> ands;
    std::string_view s = segment;
    SkipSpace(s);
    for (bool first = true;; first = false) {
      if (!first) {
        // Between constraints: whitespace, or a comma (and whitespace); a
        // trailing comma names nothing.
        if (s.empty()) break;
        const bool space = std::isspace(static_cast<unsigned char>(s.front()));
        SkipSpace(s);
        if (!s.empty() && s.front() == ',') {
          s.remove_prefix(1);
          SkipSpace(s);
          if (s.empty()) return improper();
        } else if (!space) {
          return improper();
        }
        if (s.empty()) break;
      }
      One c;
      c.op = std::string(ReadOp(s));
      SkipSpace(s);
      Written w;
      if (!ReadWritten(s, &w)) return improper();
      if (!s.empty() && !std::isspace(static_cast<unsigned char>(s.front())) && s.front() != ',') return improper();
      std::string ver;
      if (IsX(w.major)) {
        c.dirty = true;
        ver = "0.0.0" + (w.pre.empty() ? "" : "-" + w.pre);
      } else if (!w.has_minor || IsX(w.minor)) {
        c.dirty = c.minor_dirty = true;
        ver = w.major + ".0.0" + (w.pre.empty() ? "" : "-" + w.pre);
      } else if (!w.has_patch || IsX(w.patch)) {
        c.dirty = c.patch_dirty = true;
        ver = w.major + "." + w.minor + ".0" + (w.pre.empty() ? "" : "-" + w.pre);
      } else {
        ver = w.major + "." + w.minor + "." + w.patch + (w.pre.empty() ? "" : "-" + w.pre) +
              (w.meta.empty() ? "" : "+" + w.meta);
      }
      auto con = ParseVersion(ver);
      if (!con) return improper();
      c.con = *con;
      ands.push_back(std::move(c));
    }
    bool has_pre = false;
    for (const auto& c : ands) has_pre = has_pre || !c.con.pre.empty();
    out.has_pre_.push_back(has_pre);
    out.ors_.push_back(std::move(ands));
    if (bar == std::string_view::npos) break;
    rest.remove_prefix(bar + 2);
  }
  return out;
}

bool Constraints::Check(const One& c, const Version& v, bool include_pre) {
  // A prerelease matches only a group that names one (Masterminds #21).
  if (!v.pre.empty() && !include_pre) return false;
  const int cmp = Compare(v, c.con);
  auto tilde = [&] {
    if (cmp < 0) return false;
    if (c.con.major == 0 && c.con.minor == 0 && c.con.patch == 0 && !c.minor_dirty && !c.patch_dirty) return true;
    if (v.major != c.con.major) return false;
    return !(v.minor != c.con.minor && !c.minor_dirty);
  };
  if (c.op.empty() || c.op == "=") return c.dirty ? tilde() : cmp == 0;
  if (c.op == "~" || c.op == "~>") return tilde();
  if (c.op == "!=") {
    if (c.dirty) {
      if (c.con.major != v.major) return true;
      if (c.minor_dirty) return false;
      if (c.con.minor != v.minor) return true;
      if (c.patch_dirty) return (!v.pre.empty() || !c.con.pre.empty()) && ComparePre(v.pre, c.con.pre) != 0;
    }
    return cmp != 0;
  }
  if (c.op == ">") {
    if (!c.dirty) return cmp > 0;
    if (v.major != c.con.major) return v.major > c.con.major;
    if (c.minor_dirty) return false;
    if (c.patch_dirty) return v.minor > c.con.minor;
    return cmp > 0;
  }
  if (c.op == "<") return cmp < 0;
  if (c.op == ">=" || c.op == "=>") return cmp >= 0;
  if (c.op == "<=" || c.op == "=<") {
    if (!c.dirty) return cmp <= 0;
    if (v.major > c.con.major) return false;
    return !(v.major == c.con.major && v.minor > c.con.minor && !c.minor_dirty);
  }
  // "^"
  if (cmp < 0) return false;
  if (c.con.major > 0 || c.minor_dirty) return v.major == c.con.major;
  if (v.major > 0) return false;
  if (c.con.minor > 0 || c.patch_dirty) return v.minor == c.con.minor;
  if (v.minor > 0) return false;
  return v.patch == c.con.patch;
}

bool Constraints::Check(const Version& v) const {
  for (size_t i = 0; i < ors_.size(); ++i) {
    bool all = true;
    for (const auto& c : ors_[i]) all = all && Check(c, v, has_pre_[i]);
    if (all) return true;
  }
  return false;
}

std::optional<std::string> HighestMatching(const std::vector<std::string>& tags, const Constraints& constraint) {
  std::optional<std::string> best;
  std::optional<Version> best_version;
  for (const auto& tag : tags) {
    auto v = ParseVersion(tag);
    if (!v || !constraint.Check(*v)) continue;
    if (!best_version || Compare(*v, *best_version) > 0) {
      best = tag;
      best_version = v;
    }
  }
  return best;
}

}  // namespace keelson::git
