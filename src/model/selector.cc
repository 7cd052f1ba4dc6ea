#include "model/selector.h"

#include <algorithm>

#include "util/names.h"

namespace keelson::model {
namespace {

// Whitespace as Kubernetes' selector lexer has it: space, tab, CR, LF.
constexpr std::string_view kSpace = " \t\r\n";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && kSpace.find(s.front()) != std::string_view::npos) s.remove_prefix(1);
  while (!s.empty() && kSpace.find(s.back()) != std::string_view::npos) s.remove_suffix(1);
  return s;
}

// Splits on commas that are not inside parentheses.
Result<std::vector<std::string_view>> SplitTop(std::string_view text) {
  std::vector<std::string_view> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] == '(') ++depth;
    if (i < text.size() && text[i] == ')') --depth;
    if (depth < 0 || depth > 1) return Unexpected(ErrorCode::kInvalid, "selector: unbalanced parentheses");
    if (i == text.size() || (text[i] == ',' && depth == 0)) {
      parts.push_back(Trim(text.substr(start, i - start)));
      start = i + 1;
    }
  }
  if (depth != 0) return Unexpected(ErrorCode::kInvalid, "selector: unbalanced parentheses");
  return parts;
}

Unexpected Bad(std::string_view part, const std::string& why) {
  return Unexpected(ErrorCode::kInvalid, "selector: " + Quote(part) + ": " + why);
}

}  // namespace

Result<Selector> Selector::Parse(std::string_view text) {
  Selector sel;
  sel.text_ = std::string(Trim(text));
  if (Trim(text).empty()) return sel;
  auto parts = SplitTop(text);
  if (!parts) return Unexpected(parts.error());
  for (std::string_view part : *parts) {
    if (part.empty()) return Bad(text, "empty requirement");
    Requirement req;
    std::string_view value;
    if (part.front() == '!') {
      req = {std::string(Trim(part.substr(1))), Op::kNotExists, {}};
    } else if (size_t p = part.find("!="); p != part.npos) {
      req = {std::string(Trim(part.substr(0, p))), Op::kNotEquals, {}};
      value = Trim(part.substr(p + 2));
    } else if (size_t p2 = part.find("=="); p2 != part.npos) {
      req = {std::string(Trim(part.substr(0, p2))), Op::kEquals, {}};
      value = Trim(part.substr(p2 + 2));
    } else if (size_t p3 = part.find('='); p3 != part.npos) {
      req = {std::string(Trim(part.substr(0, p3))), Op::kEquals, {}};
      value = Trim(part.substr(p3 + 1));
    } else if (size_t open = part.find('('); open != part.npos) {
      if (part.back() != ')') return Bad(part, "expected ')' at the end");
      std::string_view head = Trim(part.substr(0, open));
      size_t sp = head.find_last_of(kSpace);
      if (sp == head.npos) return Bad(part, "expected KEY in (...) or KEY notin (...)");
      std::string_view op = head.substr(sp + 1);
      if (op != "in" && op != "notin") return Bad(part, "unknown operator " + Quote(op));
      req = {std::string(Trim(head.substr(0, sp))), op == "in" ? Op::kIn : Op::kNotIn, {}};
      std::string_view list = part.substr(open + 1, part.size() - open - 2);
      size_t start = 0;
      for (size_t i = 0; i <= list.size(); ++i) {
        if (i == list.size() || list[i] == ',') {
          std::string v(Trim(list.substr(start, i - start)));
          if (std::string err = CheckLabelValue(v); !err.empty()) return Bad(part, err);
          req.values.push_back(std::move(v));
          start = i + 1;
        }
      }
    } else {
      req = {std::string(part), Op::kExists, {}};
    }
    if (std::string err = CheckQualifiedName(req.key); !err.empty()) return Bad(part, err);
    if (req.op == Op::kEquals || req.op == Op::kNotEquals) {
      if (std::string err = CheckLabelValue(value); !err.empty()) return Bad(part, err);
      req.values.emplace_back(value);
    }
    sel.reqs_.push_back(std::move(req));
  }
  return sel;
}

bool Selector::Matches(const Labels& labels) const {
  for (const auto& r : reqs_) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    bool in = has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    bool ok = false;
    switch (r.op) {
      case Op::kEquals:
      case Op::kIn: ok = in; break;
      case Op::kNotEquals:
      case Op::kNotIn: ok = !in; break;
      case Op::kExists: ok = has; break;
      case Op::kNotExists: ok = !has; break;
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace keelson::model
