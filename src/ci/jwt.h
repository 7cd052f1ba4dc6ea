#pragma once
// The JSON Web Token a GitHub App signs to ask for installation tokens:
// RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518) over a header and the
// claims GitHub documents: iat 60 s in the past (clock drift), exp 9 min
// ahead (GitHub accepts at most 10), iss the app's id.

#include <string>

#include "util/clock.h"
#include "util/result.h"

namespace keelson::ci {

/// kInvalid when `private_key_pem` is not an RSA private key in PEM; the
/// message never holds the key.
Result<std::string> AppJwt(const std::string& private_key_pem, const std::string& app_id, TimePoint now);

/// RFC 4648 base64url without padding, as JWTs use it.
std::string Base64UrlNoPad(std::string_view data);

}  // namespace keelson::ci
