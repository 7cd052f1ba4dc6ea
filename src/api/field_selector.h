#pragma once
// Field selectors as the API server has them for custom resources:
// metadata.name and metadata.namespace, with =, == and !=, terms joined by
// commas; any other field is refused ("field label not supported: X").

#include <sstream>
#include <string>
#include <vector>

#include "model/object.h"
#include "util/result.h"

namespace keelson::api {

struct FieldSelector {
  struct Term {
    std::string field, value;
    bool equal;
  };
  std::vector<Term> terms;

  static Result<FieldSelector> Parse(const std::string& text) {
    FieldSelector out;
    std::stringstream in(text);
    for (std::string term; std::getline(in, term, ',');) {
      if (term.empty()) continue;
      Term t{};
      size_t at = term.find("!=");
      size_t len = 2;
      t.equal = at == std::string::npos;
      if (t.equal) {
        at = term.find("==");
        if (at == std::string::npos) at = term.find('='), len = 1;
      }
      if (at == std::string::npos) return Unexpected(ErrorCode::kInvalid, "invalid selector: '" + text + "'; can't understand '" + term + "'");
      t.field = term.substr(0, at);
      t.value = term.substr(at + len);
      if (t.field != "metadata.name" && t.field != "metadata.namespace") {
        return Unexpected(ErrorCode::kInvalid, "field label not supported: " + t.field);
      }
      out.terms.push_back(std::move(t));
    }
    return out;
  }
  bool Matches(const model::Object& o) const {
    for (const auto& t : terms) {
      const std::string& have = t.field == "metadata.name" ? o.meta.name : o.meta.namespace_;
      if ((have == t.value) != t.equal) return false;
    }
    return true;
  }
};

}  // namespace keelson::api
