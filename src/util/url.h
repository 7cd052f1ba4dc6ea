#pragma once
// Percent-encoding for URL paths and query values.

#include <string>
#include <string_view>

namespace keelson {

/// Every byte but RFC 3986's unreserved characters (letters, digits, "-._~")
/// as %XX.
std::string UrlEncode(std::string_view s);

}  // namespace keelson
