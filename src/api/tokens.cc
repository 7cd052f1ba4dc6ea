#include "api/tokens.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "util/secret_file.h"

namespace keelson::api {
namespace {

// Splits one CSV line: commas separate fields, a field in double quotes may
// hold commas ("g1,g2"), and "" inside quotes is one quote.
Result<std::vector<std::string>> SplitCsv(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  if (quoted) return Unexpected(ErrorCode::kInvalid, "unterminated quote");
  return fields;
}

std::vector<std::string> SplitGroups(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string g; std::getline(in, g, ',');) {
    if (!g.empty()) out.push_back(g);
  }
  return out;
}

std::string JoinGroups(const std::vector<std::string>& groups) {
  std::string out;
  for (const auto& g : groups) out += (out.empty() ? "" : ",") + g;
  return out;
}

bool SameBytes(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

Result<std::string> RandomHex(size_t bytes) {
  int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unexpected(ErrorCode::kInternal, std::string("/dev/urandom: ") + std::strerror(errno));
  std::string raw(bytes, '\0');
  size_t got = 0;
  while (got < bytes) {
    const ssize_t n = ::read(fd, raw.data() + got, bytes - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got != bytes) return Unexpected(ErrorCode::kInternal, "/dev/urandom: short read");
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) out += kHex[c >> 4], out += kHex[c & 15];
  return out;
}

}  // namespace

std::filesystem::path TokenFileFor(const std::string& db_path) { return db_path + ".api-tokens"; }

Result<Tokens> Tokens::Load(const std::filesystem::path& path) {
  Tokens out;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return out;
  auto text = ReadSecretFile(path.string());
  if (!text) return Unexpected(text.error());
  std::stringstream in(*text);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    auto fields = SplitCsv(line);
    const std::string where = path.string() + ":" + std::to_string(n) + ": ";
    if (!fields) return Unexpected(ErrorCode::kInvalid, where + fields.error().message);
    if (fields->size() < 3 || (*fields)[0].empty() || (*fields)[1].empty()) {
      return Unexpected(ErrorCode::kInvalid, where + "want token,user,uid[,\"group1,group2\"]");
    }
    Entry e{(*fields)[0], Identity{(*fields)[1], {}}};
    if (fields->size() > 3) e.identity.groups = SplitGroups((*fields)[3]);
    out.entries_.push_back(std::move(e));
  }
  return out;
}

std::optional<Identity> Tokens::Find(const std::string& token) const {
  std::optional<Identity> found;
  // Every entry is compared, so the time taken says nothing of which matched.
  for (const auto& e : entries_) {
    if (SameBytes(e.token, token) && !found) found = e.identity;
  }
  return found;
}

Result<std::string> TokenFor(const std::filesystem::path& path, const std::string& user,
                             const std::vector<std::string>& groups) {
  if (user.empty() || user.find_first_of(",\"\n\r") != std::string::npos) {
    return Unexpected(ErrorCode::kInvalid, "--user: a name without commas, quotes or newlines");
  }
  for (const auto& g : groups) {
    if (g.empty() || g.find_first_of(",\"\n\r") != std::string::npos) {
      return Unexpected(ErrorCode::kInvalid, "--groups: names without quotes or newlines, separated by commas");
    }
  }
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    auto text = ReadSecretFile(path.string());
    if (!text) return Unexpected(text.error());
    std::stringstream in(*text);
    for (std::string line; std::getline(in, line);) {
      auto fields = SplitCsv(line);
      if (!fields || fields->size() < 3 || line[0] == '#') continue;
      const std::vector<std::string> have = fields->size() > 3 ? SplitGroups((*fields)[3]) : std::vector<std::string>{};
      if ((*fields)[1] == user && have == groups) return (*fields)[0];
    }
  }
  auto token = RandomHex(32);
  if (!token) return Unexpected(token.error());
  // O_NOFOLLOW: a link planted where the file goes is refused, not written through.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Unexpected(ErrorCode::kStorage, path.string() + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
    ::close(fd);
    return Unexpected(ErrorCode::kInvalid, path.string() + ": not a regular file of mode 0600");
  }
  const std::string line = *token + "," + user + "," + user + ",\"" + JoinGroups(groups) + "\"\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok) return Unexpected(ErrorCode::kStorage, path.string() + ": write failed");
  return *token;
}

}  // namespace keelson::api
