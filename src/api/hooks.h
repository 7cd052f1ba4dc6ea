#pragma once
// Push webhooks for git sources: POST /hooks/git/NAMESPACE/NAME on the API's
// listener starts a sync of that GitRepository at once, when the request
// carries the source's secret (spec.webhook.secretFile) the way its forge
// signs: GitHub's X-Hub-Signature-256 (sha256=HMAC-SHA256 of the body),
// Gitea's and Forgejo's X-Gitea-Signature / X-Forgejo-Signature (the bare hex
// HMAC), or GitLab's X-Gitlab-Token (the secret itself). Anything else is 401
// and starts nothing. No bearer token: the signature is the authentication.

#include <string>

#include "server/http_server.h"
#include "store/object_store.h"
#include "util/clock.h"

namespace keelson::api {

inline constexpr const char* kGitHookPrefix = "/hooks/git/";

/// Judges one webhook delivery and, when it is genuine, asks for a sync
/// (controller::RequestSourceSync). 202 when a sync was asked for, 200 for a
/// GitHub ping, 401 for a bad or missing signature, 404 for no such source
/// or one without a webhook secret, 405 for other methods.
server::Response HandleGitHook(const server::Request& request, store::ObjectStore& store, const Clock& clock);

/// Lower-case hex HMAC-SHA256 of `body` under `secret`.
std::string HmacSha256Hex(const std::string& secret, const std::string& body);

}  // namespace keelson::api
