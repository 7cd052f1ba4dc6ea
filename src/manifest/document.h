#pragma once
// A parsed YAML document as JSON, with the position of every node, so every
// error can say FILE:LINE:COL: FIELD.PATH: what is wrong.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/result.h"

namespace keelson::manifest {

struct Mark {
  int line = 1;    ///< 1-based
  int column = 1;  ///< 1-based
};

/// One step of a field path: an object key, or an array index when index >= 0.
struct PathSeg {
  std::string key;
  int64_t index = -1;
};
using Path = std::vector<PathSeg>;

/// "spec.env[2].name"; keys that are not plain identifiers are bracketed and
/// quoted: metadata.labels["app.kubernetes.io/name"].
std::string PathString(const Path& path);
/// "spec.template" as a Path of keys.
Path PathFromDotted(std::string_view dotted);

/// One error or warning line about a manifest.
struct Diagnostic {
  std::string file;
  Mark mark;
  std::string path;  ///< field path, may be empty
  std::string message;
  /// "FILE:LINE:COL: PATH: MESSAGE" (PATH part left out when empty).
  std::string ToString() const;
};

struct Document {
  std::string file;  ///< as the user named it; "<stdin>" for -
  int index = 0;     ///< 0-based position among the file's non-empty documents
  Mark start;
  nlohmann::json value;

  /// Where each node starts, by PathString, in document order. Looked up only
  /// to report an error, so a flat list (cheap to build) beats a hash map.
  struct Position {
    std::string path;
    Mark mark;
    bool key = false;  ///< the position of the node's key rather than its value
  };
  std::vector<Position> positions;

  /// Where `path` is, or its nearest ancestor that has a position.
  Mark Locate(const Path& path, bool at_key) const;
  Diagnostic At(const Path& path, bool at_key, std::string message) const;
};

struct ParseLimits {
  size_t max_bytes = 32u << 20;          ///< a file larger than this is refused
  size_t max_nodes_per_document = 100000;  ///< after alias expansion: stops alias bombs
};

/// Parses every document of a YAML stream. Empty documents are skipped.
/// Scalars follow the YAML 1.2 core schema: only true/false are booleans, so
/// `no` and `on` stay strings; quoted scalars are always strings.
/// Errors (kInvalid) carry one formatted Diagnostic line: syntax errors,
/// duplicate keys, non-scalar keys, unknown tags, size and expansion limits.
/// `first_line`: the line of the file `text` starts on (see SplitDocuments).
Result<std::vector<Document>> ParseYaml(std::string_view text, const std::string& file,
                                        const ParseLimits& limits = {}, int first_line = 1);

/// Whole documents of a YAML stream, and the line of the stream they start on.
struct StreamPiece {
  std::string_view text;
  int first_line = 1;
};

/// Cuts a YAML stream before document markers ("---" at the start of a line)
/// into pieces of at least `target_bytes` (the last may be shorter), so they
/// can be parsed apart, in parallel, to the same documents: YAML allows no
/// marker inside a document, and anchors do not cross documents. A stream
/// with a directive ("%...") or a document end marker ("...") is left whole,
/// since a cut could change what they apply to.
std::vector<StreamPiece> SplitDocuments(std::string_view text, size_t target_bytes);

}  // namespace keelson::manifest

namespace keelson::manifest {

/// Renders JSON as block-style YAML that ParseYaml reads back to the same
/// value: strings that would resolve to another type are quoted.
std::string EmitYaml(const nlohmann::json& value);

}  // namespace keelson::manifest
