#include "util/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace keelson {

namespace fs = std::filesystem;

bool IsWithin(const fs::path& path, const fs::path& root) {
  auto p = path.begin(), r = root.begin();
  for (; r != root.end(); ++r, ++p) {
    if (r->empty()) continue;  // a trailing separator
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

Result<fs::path> ConfinePath(const std::string& path, const fs::path& base, const std::vector<fs::path>& allowed) {
  std::error_code ec;
  if (base.empty()) {
    // Sent over the API: no manifest directory, only what the server allows.
    if (!fs::path(path).is_absolute()) {
      return Unexpected(ErrorCode::kInvalid, path + ": a path sent to the API must be absolute (a file on the keelson host)");
    }
    fs::path resolved = fs::weakly_canonical(path, ec);
    if (ec) return Unexpected(ErrorCode::kInvalid, path + ": cannot resolve: " + ec.message());
    for (const auto& a : allowed) {
      fs::path r = fs::weakly_canonical(a, ec);
      if (!ec && IsWithin(resolved, r)) return resolved;
    }
    return Unexpected(ErrorCode::kInvalid, path + ": resolves to " + resolved.string() +
                                               ", outside the directories the API server allows (its "
                                               "KEELSON_ALLOWED_PATHS)");
  }
  fs::path full = fs::path(path).is_absolute() ? fs::path(path) : base / path;
  fs::path resolved = fs::weakly_canonical(full, ec);
  if (ec) return Unexpected(ErrorCode::kInvalid, path + ": cannot resolve: " + ec.message());
  fs::path root = fs::weakly_canonical(base, ec);
  if (!ec && IsWithin(resolved, root)) return resolved;
  for (const auto& a : allowed) {
    fs::path r = fs::weakly_canonical(a, ec);
    if (!ec && IsWithin(resolved, r)) return resolved;
  }
  return Unexpected(ErrorCode::kInvalid, path + ": resolves to " + resolved.string() +
                                             ", outside the manifest's directory " + root.string() +
                                             " (name a file inside it, or list its directory in "
                                             "KEELSON_ALLOWED_PATHS)");
}

Result<std::string> ReadSecretFile(const std::string& path) {
  // O_NOFOLLOW: a file replaced by a symlink since apply confined it is refused.
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    return Unexpected(ErrorCode::kInvalid,
                      "cannot read " + path + ": " +
                          (err == ELOOP ? std::string("it became a symlink after apply; apply the manifest again")
                                        : std::string(std::strerror(err))));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Unexpected(ErrorCode::kInvalid, "cannot read " + path + ": not a regular file");
  }
  if (static_cast<uintmax_t>(st.st_size) > kMaxSecretFileBytes) {
    ::close(fd);
    return Unexpected(ErrorCode::kInvalid, "cannot read " + path + ": larger than 1 MiB");
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(got);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  if (!out.empty() && out.back() == '\r') out.pop_back();
  return out;
}

std::vector<fs::path> AllowedPathsFromEnvironment() {
  std::vector<fs::path> out;
  const char* env = std::getenv("KEELSON_ALLOWED_PATHS");
  if (!env) return out;
  std::string all = env;
  for (size_t start = 0; start <= all.size();) {
    size_t colon = all.find(':', start);
    if (colon == std::string::npos) colon = all.size();
    std::string one = all.substr(start, colon - start);
    if (!one.empty()) out.emplace_back(one);
    start = colon + 1;
  }
  return out;
}

}  // namespace keelson
