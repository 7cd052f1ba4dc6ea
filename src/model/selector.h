#pragma once
// Kubernetes label selectors: "a=b,c!=d,e in (x,y),f notin (z),g,!h".

#include <string>
#include <string_view>
#include <vector>

#include "model/object.h"
#include "util/result.h"

namespace keelson::model {

class Selector {
 public:
  /// Parses a selector; an empty string selects everything. Errors (kInvalid)
  /// name the offending requirement.
  static Result<Selector> Parse(std::string_view text);

  bool Matches(const Labels& labels) const;
  bool empty() const { return reqs_.empty(); }
  /// The text it was parsed from (to send to an API server).
  const std::string& text() const { return text_; }

 private:
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kNotExists };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };
  std::vector<Requirement> reqs_;
  std::string text_;
};

}  // namespace keelson::model
