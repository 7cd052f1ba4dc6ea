#include "cli/resolve.h"

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
  auto kind = model::ParseKind(words[0]);
  if (!kind) return Unexpected(ErrorCode::kInvalid, UnknownKindMessage(words[0]));
  if (words.size() == 1) refs.push_back({*kind, ""});
  for (size_t i = 1; i < words.size(); ++i) refs.push_back({*kind, words[i]});
  return refs;
}

}  // namespace keelson::cli
