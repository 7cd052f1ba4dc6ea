#include "manifest/document.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <utility>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "util/names.h"

namespace keelson::manifest {
namespace {

bool IsIdentifier(const std::string& key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void AppendPathSegment(std::string& out, const PathSeg& seg) {
  if (seg.index >= 0) {
    out += '[';
    out += std::to_string(seg.index);
    out += ']';
  } else if (IsIdentifier(seg.key)) {
    if (!out.empty()) out += '.';
    out += seg.key;
  } else {
    out += '[';
    out += nlohmann::json(seg.key).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += ']';
  }
}

// `first_line`: the line of the whole file the parsed text starts on.
Mark ToMark(const YAML::Mark& m, int first_line) {
  if (m.is_null() || m.line < 0) return Mark{first_line, 1};
  return Mark{m.line + first_line, m.column + 1};
}

// Resolves a plain (unquoted) scalar by the YAML 1.2 core schema.
nlohmann::json ResolvePlain(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  if (*first == '+') ++first;
  int64_t i = 0;
  auto [p, ec] = std::from_chars(first, last, i);
  if (ec == std::errc() && p == last && first != last) return i;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
    auto [p2, ec2] = std::from_chars(s.data() + 2, last, i, s[1] == 'x' ? 16 : 8);
    if (ec2 == std::errc() && p2 == last) return i;
  }
  double d = 0;
  auto [pd, ecd] = std::from_chars(first, last, d);
  if (ecd == std::errc() && pd == last && first != last && std::isfinite(d)) {
    // Only plain decimal spellings: "1.5", "1e3", "-0.25" (from_chars also takes "inf").
    bool digits = false;
    for (const char* c = first; c != last; ++c) digits |= (*c >= '0' && *c <= '9');
    if (digits) return d;
  }
  return s;
}

// Builds JSON straight from yaml-cpp's parse events, recording where every
// node starts. Owning the events (rather than yaml-cpp's node tree) lets it
// bound alias expansion and document count, and refuse duplicate keys.
class Builder final : public YAML::EventHandler {
 public:
  Builder(const ParseLimits& limits, size_t max_documents, int first_line)
      : limits_(limits), max_documents_(max_documents), first_line_(first_line) {}

  struct Failure {
    Mark mark;
    std::string path;
    std::string message;
  };

  std::vector<Document> docs;

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > max_documents_) Throw(mark, "the YAML stream does not end (malformed input)");
    doc_ = Document{};
    doc_.start = MarkOf(mark);
    nodes_ = 0;
    anchors_.clear();
    stack_.clear();
    path_.clear();
    path_text_.clear();
    lengths_.clear();
    open_.clear();
    root_ = nlohmann::json();
    has_root_ = false;
  }

  void OnDocumentEnd() override {
    if (!has_root_ || root_.is_null()) return;  // empty documents are skipped
    doc_.index = static_cast<int>(docs.size());
    doc_.value = std::move(root_);
    docs.push_back(std::move(doc_));
  }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Value(mark, nlohmann::json(nullptr), anchor, 1, "null");
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) Throw(mark, "unknown alias");
    Value(mark, it->second.first, 0, it->second.second, "");
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    Value(mark, Resolve(mark, tag, value), anchor, 1, value);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value style) override {
    CheckCollectionTag(mark, tag, "seq");
    open_.push_back({MarkOf(mark), style == YAML::EmitterStyle::Flow ? "flow sequence" : ""});
    Open(mark, nlohmann::json::array(), anchor);
  }
  void OnSequenceEnd() override {
    open_.pop_back();
    Close();
  }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value style) override {
    CheckCollectionTag(mark, tag, "map");
    open_.push_back({MarkOf(mark), style == YAML::EmitterStyle::Flow ? "flow mapping" : ""});
    Open(mark, nlohmann::json::object(), anchor);
  }
  void OnMapEnd() override {
    open_.pop_back();
    Close();
  }

  /// Where the innermost flow collection still open starts, as PyYAML names
  /// it ("the flow sequence that starts at 6:10"); "" when none is open.
  std::string OpenFlow() const {
    for (auto it = open_.rbegin(); it != open_.rend(); ++it) {
      if (it->second.empty()) continue;
      return "the " + it->second + " that starts at " + std::to_string(it->first.line) + ":" +
             std::to_string(it->first.column) + " is not closed";
    }
    return "";
  }

 private:
  std::vector<std::pair<Mark, std::string>> open_;  ///< collections open now: where, and "flow ..." or ""
  struct Frame {
    nlohmann::json value;
    YAML::anchor_t anchor;
    size_t nodes_at_open;
    bool has_key = false;  // maps: a key is waiting for its value
    std::string key;
  };

  Mark MarkOf(const YAML::Mark& mark) const { return ToMark(mark, first_line_); }

  [[noreturn]] void Throw(const YAML::Mark& mark, std::string message) {
    throw Failure{MarkOf(mark), PathString(path_), std::move(message)};
  }

  void Count(const YAML::Mark& mark, size_t n) {
    nodes_ += n;
    if (nodes_ > limits_.max_nodes_per_document) {
      Throw(mark, "document expands to more than " + std::to_string(limits_.max_nodes_per_document) +
                      " nodes (an alias bomb?)");
    }
  }

  nlohmann::json Resolve(const YAML::Mark& mark, const std::string& tag, const std::string& s) {
    if (tag == "!" || tag == "tag:yaml.org,2002:str") return s;
    if (tag == "?" || tag.empty() || tag == "tag:yaml.org,2002:int" ||
        tag == "tag:yaml.org,2002:float" || tag == "tag:yaml.org,2002:bool" ||
        tag == "tag:yaml.org,2002:null") {
      return ResolvePlain(s);
    }
    Throw(mark, "unsupported YAML tag " + Quote(tag));
  }

  void CheckCollectionTag(const YAML::Mark& mark, const std::string& tag, const char* kind) {
    if (tag.empty() || tag == "?" || tag == "!" || tag == std::string("tag:yaml.org,2002:") + kind) return;
    Throw(mark, "unsupported YAML tag " + Quote(tag));
  }

  // In a map awaiting a key, a scalar is that key; anything else is a value.
  bool TakeKey(const YAML::Mark& mark, const nlohmann::json& value, const std::string& text) {
    if (stack_.empty() || !stack_.back().value.is_object() || stack_.back().has_key) return false;
    if (!value.is_string() && !value.is_number() && !value.is_boolean() && !value.is_null()) {
      Throw(mark, "mapping keys must be plain strings");
    }
    Frame& f = stack_.back();
    f.key = value.is_string() ? value.get<std::string>() : text;
    f.has_key = true;
    Push(PathSeg{f.key, -1});
    if (f.value.contains(f.key)) {
      Mark first = doc_.Locate(path_, true);
      Throw(mark, "duplicate key (first at line " + std::to_string(first.line) + ")");
    }
    doc_.positions.push_back({path_text_, MarkOf(mark), true});
    return true;
  }

  // path_ and its PathString, kept in step so no node rebuilds the string.
  void Push(PathSeg seg) {
    lengths_.push_back(path_text_.size());
    AppendPathSegment(path_text_, seg);
    path_.push_back(std::move(seg));
  }
  void Pop() {
    path_.pop_back();
    path_text_.resize(lengths_.back());
    lengths_.pop_back();
  }

  // Where the next child goes: pushes its path segment for arrays.
  void Enter() {
    if (!stack_.empty() && stack_.back().value.is_array()) {
      Push(PathSeg{"", static_cast<int64_t>(stack_.back().value.size())});
    }
  }

  void Attach(nlohmann::json value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      has_root_ = true;
      return;
    }
    Frame& f = stack_.back();
    if (f.value.is_array()) {
      f.value.push_back(std::move(value));
    } else {
      f.value[f.key] = std::move(value);
      f.has_key = false;
    }
    if (!path_.empty()) Pop();
  }

  void Value(const YAML::Mark& mark, nlohmann::json value, YAML::anchor_t anchor, size_t nodes,
             const std::string& text) {
    if (nodes == 1 && TakeKey(mark, value, text)) return;
    if (nodes != 1 && !stack_.empty() && stack_.back().value.is_object() && !stack_.back().has_key) {
      Throw(mark, "mapping keys must be plain strings");
    }
    Count(mark, nodes);
    if (stack_.empty()) doc_.start = MarkOf(mark);
    Enter();
    doc_.positions.push_back({path_text_, MarkOf(mark), false});
    if (anchor) anchors_[anchor] = {value, nodes};
    Attach(std::move(value));
  }

  void Open(const YAML::Mark& mark, nlohmann::json value, YAML::anchor_t anchor) {
    if (!stack_.empty() && stack_.back().value.is_object() && !stack_.back().has_key) {
      Throw(mark, "mapping keys must be plain strings");
    }
    Count(mark, 1);
    Enter();
    doc_.positions.push_back({path_text_, MarkOf(mark), false});
    if (stack_.empty()) doc_.start = MarkOf(mark);
    stack_.push_back(Frame{std::move(value), anchor, nodes_, false, ""});
  }

  void Close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.anchor) anchors_[f.anchor] = {f.value, nodes_ - f.nodes_at_open + 1};
    Attach(std::move(f.value));
  }

  const ParseLimits& limits_;
  size_t max_documents_;
  int first_line_;
  size_t documents_ = 0;
  Document doc_;
  size_t nodes_ = 0;
  std::map<YAML::anchor_t, std::pair<nlohmann::json, size_t>> anchors_;
  std::vector<Frame> stack_;
  Path path_;
  std::string path_text_;       // PathString(path_)
  std::vector<size_t> lengths_;  // path_text_'s length before each segment of path_
  nlohmann::json root_;
  bool has_root_ = false;
};

}  // namespace

Path PathFromDotted(std::string_view dotted) {
  Path p;
  while (!dotted.empty()) {
    const size_t dot = dotted.find('.');
    p.push_back({std::string(dotted.substr(0, dot)), -1});
    dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
  }
  return p;
}

std::string PathString(const Path& path) {
  std::string out;
  for (const auto& seg : path) AppendPathSegment(out, seg);
  return out;
}

std::string Diagnostic::ToString() const {
  if (file.empty()) return message;  // already a complete line (a YAML syntax error)
  std::string out = file + ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column) + ": ";
  if (!path.empty()) out += path + ": ";
  return out + message;
}

Mark Document::Locate(const Path& path, bool at_key) const {
  auto find = [this](const std::string& p, bool key) -> const Mark* {
    for (const auto& pos : positions) {
      if (pos.key == key && pos.path == p) return &pos.mark;
    }
    return nullptr;
  };
  Path p = path;
  if (at_key) {
    if (const Mark* m = find(PathString(p), true)) return *m;
  }
  while (true) {
    if (const Mark* m = find(PathString(p), false)) return *m;
    if (p.empty()) return start;
    p.pop_back();
  }
}

Diagnostic Document::At(const Path& path, bool at_key, std::string message) const {
  return Diagnostic{file, Locate(path, at_key), PathString(path), std::move(message)};
}

Result<std::vector<Document>> ParseYaml(std::string_view text, const std::string& file,
                                        const ParseLimits& limits, int first_line) {
  auto fail = [&](Mark m, const std::string& path, std::string msg) {
    return Unexpected(ErrorCode::kInvalid, Diagnostic{file, m, path, std::move(msg)}.ToString());
  };
  if (text.size() > limits.max_bytes) {
    return fail(Mark{}, "", "file is " + std::to_string(text.size()) +
                                " bytes, more than the limit of " +
                                std::to_string(limits.max_bytes));
  }
  // YAML allows no control character but tab, line feed and carriage return
  // (c-printable); yaml-cpp takes a NUL for the end of the stream and would
  // silently drop every document after it.
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c >= 0x20 && c != 0x7f) || c == '\t' || c == '\n' || c == '\r') continue;
    const size_t nl = i == 0 ? std::string_view::npos : text.rfind('\n', i - 1);
    const size_t bol = nl == std::string_view::npos ? 0 : nl + 1;
    const int line = first_line + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(i), '\n'));
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", c);
    return fail(Mark{line, static_cast<int>(i - bol) + 1}, "",
                std::string("control character ") + hex + " is not allowed in YAML");
  }
  // Each document takes at least one byte; more documents than bytes means
  // the parser is looping on malformed input (seen with yaml-cpp 0.7).
  Builder builder(limits, text.size() + 2, first_line);
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(builder)) {
    }
  } catch (const Builder::Failure& f) {
    return fail(f.mark, f.path, f.message);
  } catch (const YAML::DeepRecursion& e) {
    return fail(ToMark(e.mark, first_line), "", "YAML nesting is too deep");
  } catch (const YAML::Exception& e) {
    std::string where = e.msg.find("flow") != std::string::npos ? builder.OpenFlow() : "";
    return fail(ToMark(e.mark, first_line), "", "YAML syntax error: " + e.msg + (where.empty() ? "" : " (" + where + ")"));
  } catch (const std::exception& e) {
    return fail(Mark{first_line, 1}, "", std::string("YAML error: ") + e.what());
  }
  for (auto& d : builder.docs) d.file = file;
  return std::move(builder.docs);
}

std::vector<StreamPiece> SplitDocuments(std::string_view text, size_t target_bytes) {
  std::vector<StreamPiece> pieces;
  size_t piece_start = 0;
  int piece_line = 1;
  int line = 1;
  for (size_t pos = 0; pos < text.size();) {
    size_t eol = text.find('\n', pos);
    size_t end = eol == std::string_view::npos ? text.size() : eol;
    std::string_view l = text.substr(pos, end - pos);
    // A marker is followed by a blank or the line's end; yaml-cpp takes a
    // CR for a line end only before LF ("---\rx" is a key, not a marker).
    auto marker = [&l](std::string_view m) {
      return l.substr(0, 3) == m &&
             (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || (l[3] == '\r' && l.size() == 4));
    };
    if (!l.empty() && l[0] == '%') return {StreamPiece{text, 1}};  // a directive
    if (marker("...")) return {StreamPiece{text, 1}};
    if (marker("---") && pos > piece_start && pos - piece_start >= target_bytes) {
      pieces.push_back({text.substr(piece_start, pos - piece_start), piece_line});
      piece_start = pos;
      piece_line = line;
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
    ++line;
  }
  pieces.push_back({text.substr(piece_start), piece_line});
  return pieces;
}

}  // namespace keelson::manifest

namespace keelson::manifest {
namespace {

void Emit(YAML::Emitter& out, const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::object:
      out << YAML::BeginMap;
      for (auto it = v.begin(); it != v.end(); ++it) {
        out << YAML::Key;
        Emit(out, nlohmann::json(it.key()));
        out << YAML::Value;
        Emit(out, it.value());
      }
      out << YAML::EndMap;
      break;
    case nlohmann::json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& item : v) Emit(out, item);
      out << YAML::EndSeq;
      break;
    case nlohmann::json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      if (!ResolvePlain(s).is_string() || s.empty()) out << YAML::DoubleQuoted;
      out << s;
      break;
    }
    case nlohmann::json::value_t::null:
      out << YAML::Null;
      break;
    default:
      out << v.dump();
  }
}

}  // namespace

std::string EmitYaml(const nlohmann::json& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  out.SetMapFormat(YAML::Block);
  Emit(out, value);
  std::string text = out.c_str();
  return text + "\n";
}

}  // namespace keelson::manifest
