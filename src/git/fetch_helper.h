#pragma once
// A fetch in a process of its own. libgit2 1.5 (Debian 12's) has no network
// timeouts: a remote that accepts a connection and then says nothing would
// hold a controller worker for ever. The controller runs each fetch as
// `keelson __git-fetch` and kills it when it outlives the source's timeout;
// the mirror on disk is all the two share.

#include <chrono>
#include <iosfwd>
#include <string>

#include "git/mirror.h"
#include "util/result.h"

namespace keelson::git {

struct FetchRequest {
  std::string mirror_dir;
  std::string url;
  RefSpec ref;
  Credentials credentials;  ///< sent on the helper's stdin, never on its command line
  std::chrono::seconds timeout{60};
  Limits limits;
};

/// Runs `program __git-fetch` with `request` and returns what it fetched.
/// The helper is killed after request.timeout (and a grace of 2 s): kTimeout
/// "git URL: no answer within 60s". Errors otherwise as Mirror::Fetch's.
Result<Fetched> FetchInHelper(const std::string& program, const FetchRequest& request);

/// The helper's side: reads one request from `in`, fetches in-process,
/// writes the result to `out`. Returns the process's exit code (0, or 2 for
/// a request it cannot read).
int ServeFetchHelper(std::istream& in, std::ostream& out);

}  // namespace keelson::git
