#pragma once
// Syntax of object names and labels, as Kubernetes defines them. Each check
// returns an empty string when valid, else a short reason for an error line.

#include <string>
#include <string_view>

namespace keelson {

/// RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, 1..63 chars.
std::string CheckDns1123Label(std::string_view s);
/// RFC 1123 subdomain: dot-separated labels, at most 253 chars.
std::string CheckDns1123Subdomain(std::string_view s);
/// Label and annotation keys: [prefix/]name; prefix a DNS-1123 subdomain, name
/// 1..63 chars of [A-Za-z0-9_.-] starting and ending alphanumeric.
std::string CheckQualifiedName(std::string_view s);
/// Label values: empty, or at most 63 chars of [A-Za-z0-9_.-] starting and
/// ending alphanumeric.
std::string CheckLabelValue(std::string_view s);
/// Docker image references: [host[:port]/]path[:tag][@algo:hex], path
/// components lower-case as the engine requires.
std::string CheckImageRef(std::string_view s);
/// Shortens and escapes a user-supplied string for an error message.
std::string Quote(std::string_view s);

}  // namespace keelson
