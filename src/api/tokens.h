#pragma once
// Bearer tokens for the API server, in the format of kube-apiserver's
// --token-auth-file: one line per token, `token,user,uid,"group1,group2"`
// (the groups column optional). keelson keeps the file beside the store
// (STORE.api-tokens, mode 0600) and makes an admin token there at first use.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace keelson::api {

/// Who a request is from, once authenticated.
struct Identity {
  std::string user;
  std::vector<std::string> groups;
};

/// The token file of the store at `db_path`.
std::filesystem::path TokenFileFor(const std::string& db_path);

class Tokens {
 public:
  /// Reads the file; a missing file is no tokens. Malformed lines are
  /// errors naming the line (FILE:N: ...).
  static Result<Tokens> Load(const std::filesystem::path& path);
  /// The identity whose token this is, compared in constant time.
  std::optional<Identity> Find(const std::string& token) const;

 private:
  struct Entry {
    std::string token;
    Identity identity;
  };
  std::vector<Entry> entries_;
};

/// The token of `user` with exactly `groups` in the file at `path`, added
/// (a fresh random token) when there is none. Creates the file 0600.
Result<std::string> TokenFor(const std::filesystem::path& path, const std::string& user,
                             const std::vector<std::string>& groups);

/// The built-in administrator: user "admin" in group "system:masters".
inline const char* kAdminUser = "admin";
inline const char* kMastersGroup = "system:masters";

}  // namespace keelson::api
