// Push webhooks for git sources: signatures as GitHub, Gitea/Forgejo and
// GitLab send them, against a real SQLite store.

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "api/hooks.h"
#include "controller/source_sync.h"
#include "fake_clock.h"
#include "store/object_store.h"

namespace keelson::api {
namespace {

struct Fixture {
  testing::FakeClock clock;
  std::unique_ptr<store::Db> db = *store::Db::Open(":memory:");
  store::ObjectStore store{*db, clock};
  std::filesystem::path secret = std::filesystem::temp_directory_path() /
                                 ("keelson-hook-secret-" + std::to_string(::getpid()));
  Fixture() {
    std::ofstream(secret) << "It's a Secret to Everybody\n";
    model::Object o;
    o.kind = model::Kind::kGitRepository;
    o.meta.name = "fleet";
    o.spec = {{"url", "https://example.com/fleet.git"}, {"webhook", {{"secretFile", secret.string()}}}};
    model::Object bare = o;
    bare.meta.name = "nohook";
    bare.spec.erase("webhook");
    REQUIRE(store.Apply({{o, "t.yaml"}, {bare, "t.yaml"}}, std::nullopt, false).has_value());
  }
  ~Fixture() { std::filesystem::remove(secret); }
  server::Request Post(const std::string& path, std::map<std::string, std::string> headers) {
    server::Request r;
    r.method = "POST";
    r.path = path;
    r.body = "Hello, World!";
    r.headers = std::move(headers);
    r.peer = "127.0.0.1";
    return r;
  }
  std::string Requested(const std::string& name = "fleet") {
    auto o = store.Get(model::Kind::kGitRepository, "default", name);
    auto it = (*o)->meta.annotations.find(controller::kSyncRequestedAnnotation);
    return it == (*o)->meta.annotations.end() ? "" : it->second;
  }
};

TEST_CASE("HMAC-SHA256 as GitHub documents it for webhook deliveries") {
  // docs.github.com, "Validating webhook deliveries": its test values.
  CHECK(HmacSha256Hex("It's a Secret to Everybody", "Hello, World!") ==
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}

TEST_CASE_FIXTURE(Fixture, "git hooks: a signed push asks for a sync; anything else asks for nothing") {
  const std::string mac = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
  auto bad = HandleGitHook(Post("/hooks/git/default/fleet", {{"x-hub-signature-256", "sha256=" + std::string(64, '0')}}),
                           store, clock);
  CHECK(bad.status == 401);
  CHECK(bad.body.find("Secret") == std::string::npos);  // never echoes the secret
  CHECK(HandleGitHook(Post("/hooks/git/default/fleet", {}), store, clock).status == 401);
  CHECK(HandleGitHook(Post("/hooks/git/default/fleet", {{"x-gitlab-token", "guess"}}), store, clock).status == 401);
  CHECK(Requested() == "");

  auto ping = HandleGitHook(
      Post("/hooks/git/default/fleet", {{"x-hub-signature-256", "sha256=" + mac}, {"x-github-event", "ping"}}), store,
      clock);
  CHECK(ping.status == 200);
  CHECK(Requested() == "");

  auto github = HandleGitHook(
      Post("/hooks/git/default/fleet", {{"x-hub-signature-256", "sha256=" + mac}, {"x-github-event", "push"}}), store,
      clock);
  CHECK(github.status == 202);
  const std::string first = Requested();
  CHECK(first.size() == std::string("2027-01-15T08:00:00.000000000Z").size());
  CHECK(github.body.find(first) != std::string::npos);

  clock.Advance(std::chrono::milliseconds(5));
  CHECK(HandleGitHook(Post("/hooks/git/default/fleet", {{"x-gitea-signature", mac}}), store, clock).status == 202);
  CHECK(Requested() != first);  // each delivery a new request
  clock.Advance(std::chrono::milliseconds(5));
  CHECK(HandleGitHook(Post("/hooks/git/default/fleet", {{"x-forgejo-signature", mac}}), store, clock).status == 202);
  CHECK(HandleGitHook(Post("/hooks/git/default/fleet", {{"x-gitlab-token", "It's a Secret to Everybody"}}), store,
                      clock)
            .status == 202);

  CHECK(HandleGitHook(Post("/hooks/git/default/absent", {{"x-gitlab-token", "x"}}), store, clock).status == 404);
  CHECK(HandleGitHook(Post("/hooks/git/default/nohook", {{"x-gitlab-token", "x"}}), store, clock).status == 404);
  CHECK(HandleGitHook(Post("/hooks/git/fleet", {}), store, clock).status == 404);
  auto get = Post("/hooks/git/default/fleet", {});
  get.method = "GET";
  CHECK(HandleGitHook(get, store, clock).status == 405);
}

}  // namespace
}  // namespace keelson::api
