#include "cli/resolve.h"

#include <algorithm>

#include "util/names.h"

namespace keelson::cli {

std::string UnknownKindMessage(const std::string& word) {
  std::string kinds;
  for (const auto& k : model::AllKinds()) kinds += (kinds.empty() ? "" : ", ") + std::string(k.singular);
  return "unknown kind " + Quote(word) + ": use one of " + kinds;
}

Result<std::vector<ObjectRef>> ParseRefs(const std::vector<std::string>& words) {
  std::vector<ObjectRef> refs;
  if (words.empty()) return Unexpected(ErrorCode::kInvalid, "name a kind, e.g. runners");
  if (words[0].find('/') != std::string::npos) {
    for (const auto& w : words) {
      size_t slash = w.find('/');
      if (slash == std::string::npos) {
        return Unexpected(ErrorCode::kInvalid, "mixed forms: use KIND/NAME for every argument");
      }
      auto kind = model::ParseKind(w.substr(0, slash));
      if (!kind) return Unexpected(ErrorCode::kInvalid, UnknownKindMessage(w.substr(0, slash)));
      refs.push_back({*kind, w.substr(slash + 1)});
    }
    return refs;
  }
  // "runners,pools NAME...": each kind, with each name (as kubectl reads it).
  std::vector<model::Kind> kinds;
  std::string_view list = words[0];
  for (size_t start = 0; start <= list.size();) {
    size_t comma = list.find(',', start);
    std::string_view one = list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    auto kind = model::ParseKind(one);
    if (!kind) return Unexpected(ErrorCode::kInvalid, UnknownKindMessage(std::string(one)));
    if (std::find(kinds.begin(), kinds.end(), *kind) == kinds.end()) kinds.push_back(*kind);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  for (auto kind : kinds) {
    if (words.size() == 1) refs.push_back({kind, ""});
    for (size_t i = 1; i < words.size(); ++i) refs.push_back({kind, words[i]});
  }
  return refs;
}

}  // namespace keelson::cli
