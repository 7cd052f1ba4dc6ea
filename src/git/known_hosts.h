#pragma once
// OpenSSH's known_hosts, read as ssh reads it to trust a server's host key:
// plain host patterns ("host", "[host]:port", "*.example.com", "!bad"),
// hashed hosts ("|1|SALT|HASH", HMAC-SHA1 of the name), @revoked lines.

#include <string>

#include "util/result.h"

namespace keelson::git {

/// Whether `known_hosts` (the file's text) trusts `key` (the raw key blob
/// the server sent) for `host`, contacted on `port` ("" for 22). kNotFound
/// when no line names the host, kUnauthorized when lines name it with other
/// keys ("the host key of H does not match KNOWN_HOSTS", as ssh refuses a
/// changed key) or a @revoked line has this key.
Result<void> KnownHostsTrust(const std::string& known_hosts, const std::string& host, const std::string& port,
                             const std::string& key);

/// KnownHostsTrust on the file at `path` (read whole, at most 1 MiB); errors name the path.
Result<void> KnownHostsAccepts(const std::string& path, const std::string& host, const std::string& port,
                               const std::string& key);

}  // namespace keelson::git
