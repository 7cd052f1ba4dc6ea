#pragma once
// A bare mirror of one remote repository, kept on disk between syncs, and
// the trees of its commits written out as files. The only libgit2 user: no
// git CLI is needed at run time.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "util/result.h"

struct git_repository;

namespace keelson::git {

/// Which commit of the remote to take.
struct RefSpec {
  enum class Type { kBranch, kTag, kSemver, kCommit };
  Type type = Type::kBranch;
  /// A branch or tag name, a semver constraint (the highest tag that
  /// satisfies it, git/semver.h), or a full commit sha.
  std::string value = "main";
};

/// Credentials, read from their files by the caller; never logged.
struct Credentials {
  std::string username, password;           ///< http(s) basic authentication
  std::string ssh_key_file, known_hosts_file;  ///< ssh
  /// https: the PEM bundle of the authorities to trust instead of the
  /// system's. libgit2 keeps this per process: set by the fetch helper,
  /// which fetches once and exits.
  std::string ca_file;
};

/// Sizes that bound what a remote can make keelson write to disk.
struct Limits {
  /// Bytes received in one fetch, and bytes of files in one checkout
  /// (0: no bound). A fetch past it stops: kTooLarge in the message's terms.
  uint64_t max_bytes = 0;
};

struct Fetched {
  std::string commit;    ///< 40 hex digits
  std::string revision;  ///< as Flux writes it: "main@sha1:HEX", "v1.0@sha1:HEX" (a tag or semver), "sha1:HEX"
  bool downloaded = false;  ///< objects were transferred (false: the mirror had the commit)
};

class Mirror {
 public:
  /// Opens the bare repository at `dir`, making it when absent.
  static Result<std::unique_ptr<Mirror>> Open(const std::string& dir);
  ~Mirror();
  Mirror(const Mirror&) = delete;
  Mirror& operator=(const Mirror&) = delete;

  /// Resolves `ref` on the remote at `url` (https, http, ssh, git, file, or
  /// a local path) and downloads the commit unless the mirror has it: a
  /// poll that finds the same commit lists the remote's refs and transfers
  /// nothing. Errors: kNotFound (no such branch, tag or commit),
  /// kUnauthorized (credentials refused, a certificate or host key not
  /// trusted), kTimeout, kUnavailable (the remote cannot be reached),
  /// kInvalid (not a repository; more than limits.max_bytes to receive; a
  /// commit that is not well-formed).
  Result<Fetched> Fetch(const std::string& url, const RefSpec& ref, const Credentials& credentials,
                        std::chrono::seconds timeout, Limits limits = {});

  /// Writes the files of `commit`'s tree into `dir`, which must not exist.
  /// kInvalid when the files add up to more than limits.max_bytes (nothing
  /// is written then).
  Result<void> Checkout(const std::string& commit, const std::string& dir, Limits limits = {});

 private:
  explicit Mirror(git_repository* repo) : repo_(repo) {}
  git_repository* repo_;
};

}  // namespace keelson::git
