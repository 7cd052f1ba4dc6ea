#include "util/jsonpath.h"

#include <cctype>
#include <optional>

namespace keelson {

using nlohmann::json;

namespace {

// One step of a path.
struct Step {
  enum Type { kField, kRecursive, kWildcard, kIndex, kSlice, kUnion, kFilter } type = kField;
  std::vector<std::string> names;  ///< kField (one), kRecursive (one), kUnion (several)
  std::optional<int64_t> start, end;
  int64_t step = 1;
  // kFilter: @.path OP literal, or @.path alone (present).
  std::vector<Step> lhs;
  std::string op;
  json literal;
};

using Path = std::vector<Step>;

Result<Path> ParsePath(const std::string& text);

std::string Unquote(std::string s) {
  if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front()) s = s.substr(1, s.size() - 2);
  return s;
}

Result<Step> ParseFilter(const std::string& inner) {
  // inner: ?(@.a.b == "x")
  std::string body = inner.substr(1);
  if (body.size() < 2 || body.front() != '(' || body.back() != ')') {
    return Unexpected(ErrorCode::kInvalid, "jsonpath: unclosed filter [" + inner + "]");
  }
  body = body.substr(1, body.size() - 2);
  Step s;
  s.type = Step::kFilter;
  static const char* kOps[] = {"==", "!=", "<=", ">=", "<", ">"};
  size_t at = std::string::npos;
  for (const char* op : kOps) {
    at = body.find(op);
    if (at != std::string::npos) {
      s.op = op;
      break;
    }
  }
  std::string left = body.substr(0, at), right = at == std::string::npos ? "" : body.substr(at + s.op.size());
  auto trim = [](std::string x) {
    while (!x.empty() && std::isspace(static_cast<unsigned char>(x.front()))) x.erase(0, 1);
    while (!x.empty() && std::isspace(static_cast<unsigned char>(x.back()))) x.pop_back();
    return x;
  };
  left = trim(left), right = trim(right);
  if (left.empty() || left[0] != '@') return Unexpected(ErrorCode::kInvalid, "jsonpath: a filter starts with @: " + body);
  auto lhs = ParsePath(left.substr(1));
  if (!lhs) return Unexpected(lhs.error());
  s.lhs = std::move(*lhs);
  if (!s.op.empty()) {
    if (!right.empty() && (right[0] == '"' || right[0] == '\'')) {
      s.literal = Unquote(right);
    } else {
      s.literal = json::parse(right, nullptr, false);
      if (s.literal.is_discarded()) return Unexpected(ErrorCode::kInvalid, "jsonpath: bad value in filter: " + right);
    }
  }
  return s;
}

Result<Step> ParseBracket(const std::string& inner) {
  Step s;
  if (inner == "*") {
    s.type = Step::kWildcard;
    return s;
  }
  if (!inner.empty() && inner[0] == '?') return ParseFilter(inner);
  if (!inner.empty() && (inner[0] == '\'' || inner[0] == '"')) {
    s.type = Step::kUnion;
    size_t i = 0;
    while (i < inner.size()) {
      const char q = inner[i];
      const size_t close = inner.find(q, i + 1);
      if (close == std::string::npos) return Unexpected(ErrorCode::kInvalid, "jsonpath: unclosed quote in [" + inner + "]");
      s.names.push_back(inner.substr(i + 1, close - i - 1));
      i = inner.find_first_of("'\"", close + 1);
    }
    if (s.names.size() == 1) s.type = Step::kField;
    return s;
  }
  auto number = [&](const std::string& t) -> std::optional<int64_t> {
    if (t.empty()) return std::nullopt;
    return std::stoll(t);
  };
  try {
    const size_t colon = inner.find(':');
    if (colon == std::string::npos) {
      s.type = Step::kIndex;
      s.start = std::stoll(inner);
      return s;
    }
    s.type = Step::kSlice;
    s.start = number(inner.substr(0, colon));
    const std::string rest = inner.substr(colon + 1);
    const size_t second = rest.find(':');
    s.end = number(rest.substr(0, second));
    if (second != std::string::npos && !rest.substr(second + 1).empty()) s.step = std::stoll(rest.substr(second + 1));
    if (s.step <= 0) return Unexpected(ErrorCode::kInvalid, "jsonpath: step must be positive in [" + inner + "]");
    return s;
  } catch (const std::exception&) {
    return Unexpected(ErrorCode::kInvalid, "jsonpath: cannot read [" + inner + "]");
  }
}

Result<Path> ParsePath(const std::string& text) {
  Path path;
  size_t i = 0;
  if (i < text.size() && (text[i] == '$' || text[i] == '@')) ++i;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '.') {
      const bool recursive = i + 1 < text.size() && text[i + 1] == '.';
      i += recursive ? 2 : 1;
      // A field name runs to the next unescaped '.' or '['; "\." is a dot in it.
      std::string name;
      while (i < text.size() && text[i] != '.' && text[i] != '[') {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        name += text[i++];
      }
      if (name.empty() && !recursive) continue;  // "{.}" is the object itself
      Step s;
      s.type = recursive ? Step::kRecursive : name == "*" ? Step::kWildcard : Step::kField;
      if (!name.empty() && name != "*") s.names = {name};
      path.push_back(std::move(s));
      continue;
    }
    if (c == '[') {
      int depth = 0;
      size_t end = i;
      for (; end < text.size(); ++end) {
        if (text[end] == '[' || text[end] == '(') depth++;
        if (text[end] == ']' || text[end] == ')') depth--;
        if (depth == 0) break;
      }
      if (end >= text.size()) return Unexpected(ErrorCode::kInvalid, "jsonpath: unclosed [ in " + text);
      auto step = ParseBracket(text.substr(i + 1, end - i - 1));
      if (!step) return Unexpected(step.error());
      path.push_back(std::move(*step));
      i = end + 1;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    // A bare field at the start ("{metadata.name}" as kubectl takes it).
    size_t end = i;
    while (end < text.size() && text[end] != '.' && text[end] != '[') end++;
    Step s;
    s.names = {text.substr(i, end - i)};
    path.push_back(std::move(s));
    i = end;
  }
  return path;
}

// The first error of the running template (kubectl's: an index out of a
// list's bounds), set by Step1 and read by Execute.
thread_local std::string g_error;

void Recurse(const json& node, const std::string& name, std::vector<const json*>* out) {
  if (node.is_object()) {
    if (node.contains(name)) out->push_back(&node[name]);
    for (const auto& [k, v] : node.items()) Recurse(v, name, out);
  } else if (node.is_array()) {
    for (const auto& v : node) Recurse(v, name, out);
  }
}

std::vector<const json*> Apply(const std::vector<const json*>& in, const Path& path);

bool Compare(const json& a, const std::string& op, const json& b) {
  if (op == "==") return a == b || (a.is_number() && b.is_number() && a.get<double>() == b.get<double>());
  if (op == "!=") return !Compare(a, "==", b);
  if (a.is_number() && b.is_number()) {
    const double x = a.get<double>(), y = b.get<double>();
    return op == "<" ? x < y : op == "<=" ? x <= y : op == ">" ? x > y : x >= y;
  }
  if (a.is_string() && b.is_string()) {
    const auto& x = a.get_ref<const std::string&>();
    const auto& y = b.get_ref<const std::string&>();
    return op == "<" ? x < y : op == "<=" ? x <= y : op == ">" ? x > y : x >= y;
  }
  return false;
}

void Step1(const json& node, const Step& s, std::vector<const json*>* out) {
  switch (s.type) {
    case Step::kField:
      if (node.is_object() && node.contains(s.names[0])) out->push_back(&node[s.names[0]]);
      break;
    case Step::kUnion:
      for (const auto& n : s.names) {
        if (node.is_object() && node.contains(n)) out->push_back(&node[n]);
      }
      break;
    case Step::kRecursive: Recurse(node, s.names.empty() ? "" : s.names[0], out); break;
    case Step::kWildcard:
      if (node.is_array() || node.is_object()) {
        for (const auto& v : node) out->push_back(&v);
      }
      break;
    case Step::kIndex: {
      if (!node.is_array()) break;
      int64_t i = *s.start;
      if (i < 0) i += static_cast<int64_t>(node.size());
      if (i >= 0 && i < static_cast<int64_t>(node.size())) {
        out->push_back(&node[static_cast<size_t>(i)]);
      } else if (g_error.empty()) {
        g_error = "array index out of bounds: index " + std::to_string(*s.start) + ", length " + std::to_string(node.size());
      }
      break;
    }
    case Step::kSlice: {
      if (!node.is_array()) break;
      const int64_t n = static_cast<int64_t>(node.size());
      int64_t a = s.start.value_or(0), b = s.end.value_or(n);
      if (a < 0) a += n;
      if (b < 0) b += n;
      a = std::clamp<int64_t>(a, 0, n), b = std::clamp<int64_t>(b, 0, n);
      for (int64_t i = a; i < b; i += s.step) out->push_back(&node[static_cast<size_t>(i)]);
      break;
    }
    case Step::kFilter:
      if (!node.is_array()) break;
      for (const auto& item : node) {
        auto found = Apply({&item}, s.lhs);
        if (s.op.empty() ? !found.empty() : (!found.empty() && Compare(*found.front(), s.op, s.literal))) {
          out->push_back(&item);
        }
      }
      break;
  }
}

std::vector<const json*> Apply(const std::vector<const json*>& in, const Path& path) {
  std::vector<const json*> cur = in;
  for (const auto& s : path) {
    std::vector<const json*> next;
    if (s.type == Step::kUnion) {
      // Member by member across every node, each member a path of its own
      // ('metadata.name'), as kubectl orders a union's results.
      for (const auto& name : s.names) {
        auto member = ParsePath("." + name);
        if (!member) continue;
        auto found = Apply(cur, *member);
        next.insert(next.end(), found.begin(), found.end());
      }
    } else {
      for (const json* n : cur) Step1(*n, s, &next);
    }
    cur = std::move(next);
  }
  return cur;
}

}  // namespace

struct JsonPath::Node {
  enum Type { kText, kExpr, kRange } type = kText;
  std::string text;
  Path path;
  std::vector<std::shared_ptr<Node>> children;  ///< kRange: up to its {end}
};

std::string Printed(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char n = s[++i];
      out += n == 'n' ? '\n' : n == 't' ? '\t' : n == 'r' ? '\r' : n;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

Result<JsonPath> JsonPath::Parse(const std::string& text) {
  JsonPath out;
  std::vector<std::vector<std::shared_ptr<Node>>*> stack = {&out.nodes_};
  size_t i = 0;
  while (i < text.size()) {
    const size_t open = text.find('{', i);
    if (open != i) {
      auto n = std::make_shared<Node>();
      n->text = text.substr(i, open == std::string::npos ? std::string::npos : open - i);
      stack.back()->push_back(n);
      if (open == std::string::npos) break;
    }
    const size_t close = text.find('}', open);
    if (close == std::string::npos) return Unexpected(ErrorCode::kInvalid, "jsonpath: unclosed { in " + text);
    std::string expr = text.substr(open + 1, close - open - 1);
    i = close + 1;
    while (!expr.empty() && std::isspace(static_cast<unsigned char>(expr.back()))) expr.pop_back();
    while (!expr.empty() && std::isspace(static_cast<unsigned char>(expr.front()))) expr.erase(0, 1);
    if (expr == "end") {
      if (stack.size() == 1) return Unexpected(ErrorCode::kInvalid, "jsonpath: {end} without {range}");
      stack.pop_back();
      continue;
    }
    if (!expr.empty() && expr.front() == '"' && expr.back() == '"' && expr.size() >= 2) {
      auto n = std::make_shared<Node>();
      n->text = Unescape(expr.substr(1, expr.size() - 2));
      stack.back()->push_back(n);
      continue;
    }
    auto n = std::make_shared<Node>();
    const bool range = expr.rfind("range ", 0) == 0;
    n->type = range ? Node::kRange : Node::kExpr;
    auto path = ParsePath(range ? expr.substr(6) : expr);
    if (!path) return Unexpected(path.error());
    n->path = std::move(*path);
    stack.back()->push_back(n);
    if (range) stack.push_back(&n->children);
  }
  if (stack.size() != 1) return Unexpected(ErrorCode::kInvalid, "jsonpath: {range} without {end}");
  return out;
}

namespace {

void Run(const std::vector<std::shared_ptr<JsonPath::Node>>& nodes, const json& input, std::string* out) {
  for (const auto& n : nodes) {
    if (n->type == JsonPath::Node::kText) {
      *out += n->text;
      continue;
    }
    auto found = Apply({&input}, n->path);
    if (n->type == JsonPath::Node::kRange) {
      // A range over one list walks its items, as kubectl's does.
      std::vector<const json*> items;
      for (const json* f : found) {
        if (f->is_array() && found.size() == 1) {
          for (const auto& v : *f) items.push_back(&v);
        } else {
          items.push_back(f);
        }
      }
      for (const json* item : items) Run(n->children, *item, out);
      continue;
    }
    for (size_t i = 0; i < found.size(); ++i) *out += (i ? " " : "") + Printed(*found[i]);
  }
}

}  // namespace

Result<std::string> JsonPath::Execute(const json& input) const {
  std::string out;
  g_error.clear();
  Run(nodes_, input, &out);
  if (!g_error.empty()) return Unexpected(ErrorCode::kInvalid, g_error);
  return out;
}

std::vector<json> JsonPath::Values(const json& input) const {
  std::vector<json> out;
  for (const auto& n : nodes_) {
    if (n->type != Node::kExpr) continue;
    for (const json* f : Apply({&input}, n->path)) out.push_back(*f);
  }
  return out;
}

}  // namespace keelson
