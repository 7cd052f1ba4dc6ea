#include "git/known_hosts.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <sstream>
#include <vector>

#include "util/secret_file.h"

namespace keelson::git {
namespace {

std::string Base64Decode(const std::string& in) {
  if (in.empty() || in.size() % 4 != 0) return "";
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return "";
  size_t pad = 0;
  if (in.back() == '=') ++pad;
  if (in.size() > 1 && in[in.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// ssh's match_pattern: '*' and '?' only ("[host]:port" is literal).
bool Glob(const char* p, const char* s) {
  for (; *p; ++p, ++s) {
    if (*p == '*') {
      for (const char* rest = s;; ++rest) {
        if (Glob(p + 1, rest)) return true;
        if (!*rest) return false;
      }
    }
    if (!*s || (*p != '?' && *p != *s)) return false;
  }
  return !*s;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// "|1|SALT|HASH": HMAC-SHA1 of `name` under the salt is the hash.
bool HashedMatch(const std::string& entry, const std::string& name) {
  auto bar = entry.find('|', 3);
  if (bar == std::string::npos) return false;
  const std::string salt = Base64Decode(entry.substr(3, bar - 3)), hash = Base64Decode(entry.substr(bar + 1));
  if (salt.empty() || hash.empty()) return false;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), salt.data(), static_cast<int>(salt.size()), reinterpret_cast<const unsigned char*>(name.data()),
       name.size(), mac, &len);
  return hash == std::string(reinterpret_cast<char*>(mac), len);
}

// Whether a line's host field names `name`, as ssh's match_hostname: a
// negated pattern that matches rules the line out.
bool HostsMatch(const std::string& field, const std::string& name) {
  if (field.rfind("|1|", 0) == 0) return HashedMatch(field, name);
  bool matched = false;
  std::stringstream patterns(field);
  for (std::string p; std::getline(patterns, p, ',');) {
    const bool negated = !p.empty() && p[0] == '!';
    if (negated) p.erase(0, 1);
    if (!Glob(Lower(p).c_str(), Lower(name).c_str())) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

}  // namespace

Result<void> KnownHostsTrust(const std::string& known_hosts, const std::string& host, const std::string& port,
                             const std::string& key) {
  const std::string name = port.empty() ? host : "[" + host + "]:" + port;
  bool named = false;
  std::stringstream lines(known_hosts);
  for (std::string line; std::getline(lines, line);) {
    std::stringstream fields(line);
    std::string first, hosts, type, blob;
    if (!(fields >> first) || first[0] == '#') continue;
    const bool revoked = first == "@revoked";
    if (first[0] == '@') {
      if (!revoked) continue;  // @cert-authority: certificates are not offered here
      if (!(fields >> hosts)) continue;
    } else {
      hosts = first;
    }
    if (!(fields >> type >> blob) || !HostsMatch(hosts, name)) continue;
    const bool same = Base64Decode(blob) == key;
    if (revoked && same) return Unexpected(ErrorCode::kUnauthorized, "the host key of " + name + " is revoked");
    if (revoked) continue;
    if (same) return {};
    named = true;
  }
  if (named) {
    return Unexpected(ErrorCode::kUnauthorized, "the host key of " + name + " does not match the known hosts");
  }
  return Unexpected(ErrorCode::kNotFound, "no known host key for " + name);
}

Result<void> KnownHostsAccepts(const std::string& path, const std::string& host, const std::string& port,
                               const std::string& key) {
  auto text = ReadSecretFile(path);
  if (!text) return Unexpected(text.error());
  auto trusted = KnownHostsTrust(*text, host, port, key);
  if (!trusted) return Unexpected(trusted.error().code, trusted.error().message + " (" + path + ")");
  return {};
}

}  // namespace keelson::git
