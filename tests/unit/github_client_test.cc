// GitHub's REST API as a RunnerPool's runner lifecycle uses it (ci/github.h)
// against a fake sender on a fake clock: App JWTs that verify, installation
// tokens minted and reused, just-in-time configurations, pages of runners,
// rate limits honoured, refusals named.

#include <filesystem>
#include <fstream>
#include <memory>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "ci/github.h"
#include "ci/jwt.h"
#include "fake_clock.h"

using namespace keelson;
using nlohmann::json;

namespace {

struct Key {
  std::string private_pem, public_pem;
};

Key MakeKey() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(EVP_RSA_gen(2048), &EVP_PKEY_free);
  REQUIRE(pkey);
  auto pem = [](auto write) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    write(bio.get());
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(n));
  };
  Key k;
  k.private_pem = pem([&](BIO* b) { PEM_write_bio_PrivateKey(b, pkey.get(), nullptr, nullptr, 0, nullptr, nullptr); });
  k.public_pem = pem([&](BIO* b) { PEM_write_bio_PUBKEY(b, pkey.get()); });
  return k;
}

std::string FromBase64Url(std::string s) {
  for (auto& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4) s += '=';
  std::string out(s.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(s.data()),
                          static_cast<int>(s.size()));
  REQUIRE(n >= 0);
  out.resize(static_cast<size_t>(n) - (s.size() - s.find_last_not_of('=') - 1));
  return out;
}

bool Verifies(const std::string& jwt, const std::string& public_pem) {
  const auto dot = jwt.rfind('.');
  const std::string input = jwt.substr(0, dot), sig = FromBase64Url(jwt.substr(dot + 1));
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size())), &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pub(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr),
                                                          &EVP_PKEY_free);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  return EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pub.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
}

struct Files {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("keelson-gh-" + std::to_string(std::rand()));
  Files() { std::filesystem::create_directories(dir); }
  ~Files() { std::filesystem::remove_all(dir); }
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  }
};

ci::WebResponse Answer(long status, json body, std::map<std::string, std::string> headers = {}) {
  return ci::WebResponse{status, std::move(headers), body.dump()};
}

}  // namespace

TEST_CASE("AppJwt: RS256 over GitHub's claims, verifiable with the App's public key") {
  const Key key = MakeKey();
  const TimePoint now = TimePoint(std::chrono::seconds(1700000000));
  auto jwt = ci::AppJwt(key.private_pem, "123456", now);
  REQUIRE(jwt);
  const auto first = jwt->find('.'), second = jwt->rfind('.');
  CHECK(json::parse(FromBase64Url(jwt->substr(0, first))) == json{{"alg", "RS256"}, {"typ", "JWT"}});
  CHECK(json::parse(FromBase64Url(jwt->substr(first + 1, second - first - 1))) ==
        json{{"iat", 1700000000 - 60}, {"exp", 1700000000 + 540}, {"iss", "123456"}});
  CHECK(Verifies(*jwt, key.public_pem));
  CHECK_FALSE(Verifies(*jwt, MakeKey().public_pem));
  auto bad = ci::AppJwt("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n", "1", now);
  CHECK(bad.error().message == "the GitHub App's private key is not an RSA private key in PEM");
  CHECK(ci::Base64UrlNoPad("\xfb\xff") == "-_8");
  CHECK(ci::Base64UrlNoPad("any carnal pleasure.") == "YW55IGNhcm5hbCBwbGVhc3VyZS4");
}

TEST_CASE("ScopeOf: organisations, repositories, enterprises, on github.com or a GitHub Enterprise Server") {
  auto scope = [](const std::string& url, const std::string& api = "") {
    model::GitHubSpec s;
    s.url = url;
    s.api_url = api;
    auto r = ci::ScopeOf(s);
    return r ? r->api_url + " " + r->path : r.error().message;
  };
  CHECK(scope("https://github.com/octo-org") == "https://api.github.com orgs/octo-org");
  CHECK(scope("https://github.com/octo-org/") == "https://api.github.com orgs/octo-org");
  CHECK(scope("https://github.com/octo-org/hello-world") == "https://api.github.com repos/octo-org/hello-world");
  CHECK(scope("https://github.com/enterprises/octo-ent") == "https://api.github.com enterprises/octo-ent");
  CHECK(scope("https://ghe.example.com/octo-org") == "https://ghe.example.com/api/v3 orgs/octo-org");
  CHECK(scope("https://127.0.0.1:8443/octo-org", "https://127.0.0.1:8443/api/") == "https://127.0.0.1:8443/api orgs/octo-org");
  CHECK(scope("https://github.com/") ==
        "spec.github.url: https://github.com/ names no organisation, repository or enterprise (https://github.com/ORG, "
        "https://github.com/ORG/REPO, https://github.com/enterprises/ENT)");
}

TEST_CASE("GitHubClient: an App's installation token is minted from a JWT, reused, and minted again before it expires") {
  testing::FakeClock clock(TimePoint(std::chrono::seconds(1700000000)));
  Files files;
  const Key key = MakeKey();
  model::GitHubSpec spec;
  spec.url = "https://github.com/octo-org";
  spec.app_id = "7";
  spec.installation_id = "42";
  spec.private_key_file = files.Write("app.pem", key.private_pem);
  std::vector<ci::WebRequest> sent;
  int minted = 0;
  ci::GitHubClient gh(spec, *ci::ScopeOf(spec), clock, [&](const ci::WebRequest& r) -> Result<ci::WebResponse> {
    sent.push_back(r);
    if (r.url == "https://api.github.com/app/installations/42/access_tokens") {
      const std::string auth = r.headers.back();
      CHECK(auth.rfind("Authorization: Bearer ", 0) == 0);
      CHECK(Verifies(auth.substr(22), key.public_pem));
      ++minted;
      return Answer(201, {{"token", "ghs_" + std::to_string(minted)},
                          {"expires_at", FormatTimestamp(clock.Now() + std::chrono::hours(1))}});
    }
    CHECK(r.url == "https://api.github.com/orgs/octo-org/actions/runners/generate-jitconfig");
    CHECK(json::parse(r.body) == json{{"name", "ci.ci.ab12c"}, {"runner_group_id", 3},
                                      {"labels", {"self-hosted", "linux"}}, {"work_folder", "_work"}});
    CHECK(std::find(r.headers.begin(), r.headers.end(), "X-GitHub-Api-Version: 2022-11-28") != r.headers.end());
    return Answer(201, {{"runner", {{"id", 23}, {"name", "ci.ci.ab12c"}, {"status", "offline"}}},
                        {"encoded_jit_config", "abc123=="}});
  });
  auto jit = gh.GenerateJitConfig("ci.ci.ab12c", 3, {"self-hosted", "linux"});
  REQUIRE(jit);
  CHECK(jit->runner_id == 23);
  CHECK(jit->encoded == "abc123==");
  CHECK(sent.back().headers.back() == "Authorization: Bearer ghs_1");
  clock.Advance(std::chrono::minutes(50));
  REQUIRE(gh.GenerateJitConfig("ci.ci.ab12c", 3, {"self-hosted", "linux"}));
  CHECK(minted == 1);  // still good for 10 minutes
  clock.Advance(std::chrono::minutes(6));
  REQUIRE(gh.GenerateJitConfig("ci.ci.ab12c", 3, {"self-hosted", "linux"}));
  CHECK(minted == 2);  // within 5 minutes of its end: a new one
  CHECK(sent.back().headers.back() == "Authorization: Bearer ghs_2");
}

TEST_CASE("GitHubClient: rate limits stop every call until they pass; refusals and answers are named") {
  testing::FakeClock clock(TimePoint(std::chrono::seconds(1700000000)));
  Files files;
  model::GitHubSpec spec;
  spec.url = "https://github.com/octo-org/hello-world";
  spec.token_file = files.Write("token", "ghp_secret\n");
  int calls = 0;
  std::function<Result<ci::WebResponse>(const ci::WebRequest&)> next;
  ci::GitHubClient gh(spec, *ci::ScopeOf(spec), clock, [&](const ci::WebRequest& r) {
    ++calls;
    CHECK(r.headers.back() == "Authorization: Bearer ghp_secret");
    return next(r);
  });
  next = [&](const ci::WebRequest&) {
    return Result<ci::WebResponse>(Answer(403, {{"message", "API rate limit exceeded"}},
                                          {{"x-ratelimit-remaining", "0"}, {"x-ratelimit-reset", "1700000600"}}));
  };
  auto r = gh.ListRunners();
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(r.error().message == "github runners: rate limited by GitHub until 2023-11-14T22:23:20Z");
  CHECK(gh.DeleteRunner(5).error().message == "github delete runner 5: rate limited by GitHub until 2023-11-14T22:23:20Z");
  CHECK(calls == 1);
  clock.Advance(std::chrono::seconds(600));
  // Pages of 100 until a short one.
  next = [&](const ci::WebRequest& req) {
    json runners = json::array();
    const bool first = req.url.ends_with("&page=1");
    for (int i = 0; i < (first ? 100 : 1); ++i) {
      runners.push_back({{"id", i + (first ? 0 : 100)}, {"name", "r" + std::to_string(i)}, {"os", "linux"},
                         {"status", "online"}, {"busy", i == 0}, {"labels", json::array()}});
    }
    return Result<ci::WebResponse>(Answer(200, {{"total_count", 101}, {"runners", runners}}));
  };
  auto all = gh.ListRunners();
  REQUIRE(all);
  CHECK(all->size() == 101);
  CHECK((*all)[0].busy);
  CHECK((*all)[100].id == 100);
  next = [&](const ci::WebRequest&) {
    return Result<ci::WebResponse>(Answer(401, {{"message", "Bad credentials"}}));
  };
  auto refused = gh.GenerateJitConfig("x", 1, {"self-hosted"});
  CHECK(refused.error().code == ErrorCode::kUnauthorized);
  CHECK(refused.error().message == "github generate-jitconfig for x: GitHub refused the credentials (HTTP 401 Bad credentials)");
  next = [&](const ci::WebRequest&) { return Result<ci::WebResponse>(Answer(404, {{"message", "Not Found"}})); };
  CHECK(gh.DeleteRunner(9));  // already gone
  next = [&](const ci::WebRequest&) {
    return Result<ci::WebResponse>(Answer(429, {{"message", "slow down"}}, {{"retry-after", "30"}}));
  };
  CHECK(gh.DeleteRunner(9).error().message ==
        "github delete runner 9: rate limited by GitHub until " + FormatTimestamp(clock.Now() + std::chrono::seconds(30)));
  CHECK(*gh.RunnerGroupId("") == 1);  // a repository's: the default group, no call
  for (const auto& field : {"ghp_secret"}) CHECK(refused.error().message.find(field) == std::string::npos);
}
