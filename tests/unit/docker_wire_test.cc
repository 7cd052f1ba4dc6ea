// The Engine API's JSON and stream formats, and FakeEngine's failure injection.

#include <doctest/doctest.h>

#include "docker/endpoint.h"
#include "docker/wire.h"
#include "fake_engine.h"

namespace keelson::docker {
namespace {

std::string Frame(char stream, const std::string& payload) {
  std::string h(8, '\0');
  h[0] = stream;
  h[4] = static_cast<char>((payload.size() >> 24) & 0xff);
  h[5] = static_cast<char>((payload.size() >> 16) & 0xff);
  h[6] = static_cast<char>((payload.size() >> 8) & 0xff);
  h[7] = static_cast<char>(payload.size() & 0xff);
  return h + payload;
}

TEST_CASE("wire: logs with stream headers are demultiplexed; raw logs are stdout") {
  std::string big(70000, 'x');
  auto logs = wire::Demultiplex(Frame(1, "out1\n") + Frame(2, "err\n") + Frame(1, big));
  CHECK(logs.out == "out1\n" + big);
  CHECK(logs.err == "err\n");
  auto raw = wire::Demultiplex("plain tty output\n");
  CHECK(raw.out == "plain tty output\n");
  CHECK(raw.err.empty());
  auto truncated = wire::Demultiplex(Frame(1, "abc").substr(0, 9));  // header claims more than sent
  CHECK(truncated.err.empty());
}

TEST_CASE("wire: the stream demuxer gives each frame out whole, however the bytes are split") {
  const std::string body = Frame(1, "out1\n") + Frame(2, "err\n") + Frame(1, "") + Frame(1, "out2\n");
  for (size_t step : {size_t{1}, size_t{3}, size_t{8}, size_t{9}, body.size()}) {
    std::string out, err;
    std::vector<std::string> pieces;
    wire::Demuxer d(
        [&](OutputStream s, std::string_view data) {
          (s == OutputStream::kStderr ? err : out).append(data);
          pieces.emplace_back(data);
          return true;
        },
        std::nullopt);
    for (size_t i = 0; i < body.size(); i += step) CHECK(d.Feed(std::string_view(body).substr(i, step)));
    d.Finish();
    CHECK(out == "out1\nout2\n");
    CHECK(err == "err\n");
    CHECK(pieces == std::vector<std::string>{"out1\n", "err\n", "out2\n"});
  }
  // A TTY's raw stream (told, or seen in its first bytes) passes as it comes.
  std::string raw;
  wire::Demuxer tty([&](OutputStream, std::string_view data) { return raw.append(data), true; }, false);
  tty.Feed("ab");
  CHECK(raw == "ab");
  wire::Demuxer guess([&](OutputStream, std::string_view data) { return raw.append(data), true; }, std::nullopt);
  guess.Feed("plain ");
  guess.Feed("tty output\n");
  guess.Finish();
  CHECK(raw == "abplain tty output\n");
  wire::Demuxer shortraw([&](OutputStream, std::string_view data) { return raw.append(data), true; }, std::nullopt);
  shortraw.Feed("hi");
  shortraw.Finish();  // fewer than 8 bytes in all: still given out at the end
  CHECK(raw == "abplain tty output\nhi");
  // The sink stops the stream.
  wire::Demuxer stop([](OutputStream, std::string_view) { return false; }, true);
  CHECK_FALSE(stop.Feed(Frame(1, "x")));
}

TEST_CASE("wire: HTTP statuses and stream errors map to error codes") {
  CHECK(wire::StatusError(404, R"({"message":"No such container: x"})", "inspect").code == ErrorCode::kNotFound);
  CHECK(wire::StatusError(404, R"({"message":"No such container: x"})", "inspect").message ==
        "inspect: No such container: x");
  CHECK(wire::StatusError(409, "{}", "c").code == ErrorCode::kConflict);
  CHECK(wire::StatusError(403, R"({"message":"network n has active endpoints"})", "rm").code == ErrorCode::kConflict);
  CHECK(wire::StatusError(401, "{}", "c").code == ErrorCode::kUnauthorized);
  // Docker 20.10 answers a pull the registry refused with a 500.
  CHECK(wire::StatusError(500, R"({"message":"Head \"http://127.0.0.1:5104/v2/x/manifests/1\": no basic auth credentials"})",
                          "pull").code == ErrorCode::kUnauthorized);
  CHECK(wire::StatusError(503, "", "c").transient());
  CHECK(wire::StatusError(500, R"({"message":"dial tcp: connection refused"})", "pull").transient());
  CHECK(wire::StatusError(500, R"({"message":"boom"})", "c").code == ErrorCode::kUnavailable);  // transient
  CHECK(wire::StreamError("manifest for x:1 not found: manifest unknown", "pull").code == ErrorCode::kNotFound);
  CHECK(wire::StreamError("unauthorized: authentication required", "pull").code == ErrorCode::kUnauthorized);
  // A registry the engine cannot reach (as Docker 20.10 words it): retried, not an invalid spec.
  const char* unreachable = R"({"message":"Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io on 10.0.0.53:53: dial udp 10.0.0.53:53: connect: network is unreachable"})";
  CHECK(wire::StatusError(500, unreachable, "pull busybox").transient());
  CHECK(wire::StreamError("Get https://r/v2/: net/http: TLS handshake timeout", "pull").transient());
}

TEST_CASE("wire: stream lines carry progress, errors and a build's image id") {
  auto p = wire::ParseStreamLine(R"({"status":"Downloading","id":"abc","progressDetail":{"current":5,"total":10}})");
  CHECK(p.progress.status == "Downloading");
  CHECK(p.progress.current == 5);
  CHECK(p.error.empty());
  CHECK(wire::ParseStreamLine(R"({"errorDetail":{"message":"boom"},"error":"boom"})").error == "boom");
  CHECK(wire::ParseStreamLine(R"({"aux":{"ID":"sha256:1"}})").image_id == "sha256:1");
  CHECK(wire::ParseStreamLine(R"({"stream":"Step 1/2 : FROM x\n"})").progress.status == "Step 1/2 : FROM x\n");
}

TEST_CASE("wire: health comes from a list row's status text") {
  CHECK(wire::HealthFromStatus("Up 3 seconds (health: starting)") == "starting");
  CHECK(wire::HealthFromStatus("Up 2 minutes (healthy)") == "healthy");
  CHECK(wire::HealthFromStatus("Up 2 minutes (unhealthy)") == "unhealthy");
  CHECK(wire::HealthFromStatus("Exited (0) 1 second ago") == "");
}

TEST_CASE("wire: encodings") {
  // RFC 4648 section 10's test vectors, in the URL alphabet, padded.
  CHECK(wire::Base64Url("") == "");
  CHECK(wire::Base64Url("f") == "Zg==");
  CHECK(wire::Base64Url("fo") == "Zm8=");
  CHECK(wire::Base64Url("foo") == "Zm9v");
  CHECK(wire::Base64Url("foob") == "Zm9vYg==");
  CHECK(wire::Base64Url("fooba") == "Zm9vYmE=");
  CHECK(wire::Base64Url("foobar") == "Zm9vYmFy");
  CHECK(wire::Base64Url("{}") == "e30=");
  CHECK(wire::Base64Url("\xfb\xff") == "-_8=");
  CHECK(wire::UrlEncode("a b/{\"}") == "a%20b%2F%7B%22%7D");
  CHECK(wire::Filters({}) == "");
  CHECK(wire::ApiVersionLess("1.41", "1.47"));
  CHECK(wire::ApiVersionLess("1.9", "1.41"));
  CHECK_FALSE(wire::ApiVersionLess("1.47", "1.47"));
}

TEST_CASE("endpoint: DOCKER_HOST forms as the docker CLI reads them") {
  auto unix_ep = ParseEndpoint("unix:///run/d.sock", false, "");
  REQUIRE(unix_ep.has_value());
  CHECK(unix_ep->socket_path == "/run/d.sock");
  auto tls = ParseEndpoint("tcp://127.0.0.1:2376", true, "/certs");
  REQUIRE(tls.has_value());
  CHECK(tls->tls);
  CHECK(tls->ca_file == "/certs/ca.pem");
  CHECK(tls->key_file == "/certs/key.pem");
  CHECK_FALSE(ParseEndpoint("tcp://127.0.0.1:2375", false, "")->tls);
  CHECK(ParseEndpoint("http://x", false, "").error().code == ErrorCode::kInvalid);
  CHECK(ParseEndpoint("tcp://nohost", false, "").error().code == ErrorCode::kInvalid);
  CHECK(ParseEndpoint("unix://relative", false, "").error().code == ErrorCode::kInvalid);
}

TEST_CASE("endpoint: ssh:// as the docker CLI's connection helper reads it") {
  // docker/cli cli/connhelper/ssh/ssh_test.go's table.
  auto bare = ParseEndpoint("ssh://example.com", false, "");
  REQUIRE(bare.has_value());
  CHECK(bare->transport == Endpoint::Transport::kSsh);
  CHECK(SshCommand(*bare) == std::vector<std::string>{"ssh", "-o", "ConnectTimeout=30", "-T", "--", "example.com",
                                                      "docker", "system", "dial-stdio"});
  auto full = ParseEndpoint("ssh://me@example.com:10022/var/run/docker.sock", false, "");
  REQUIRE(full.has_value());
  CHECK(full->ssh_user == "me");
  CHECK(full->ssh_host == "example.com");
  CHECK(full->ssh_port == "10022");
  CHECK(full->socket_path == "/var/run/docker.sock");
  CHECK(full->ToString() == "ssh://me@example.com:10022/var/run/docker.sock");
  CHECK(SshCommand(*full) == std::vector<std::string>{"ssh", "-o", "ConnectTimeout=30", "-T", "-l", "me", "-p", "10022",
                                                      "--", "example.com", "docker",
                                                      "--host=unix:///var/run/docker.sock", "system", "dial-stdio"});
  // A path of only "/" is no path; one the remote shell would split is quoted.
  CHECK(SshCommand(*ParseEndpoint("ssh://h/", false, "")).size() == 9);
  CHECK(SshCommand(*ParseEndpoint("ssh://h/run/my%20docker.sock", false, ""))[7] ==
        "'--host=unix:///run/my docker.sock'");
  auto v6 = ParseEndpoint("ssh://[::1]:2222", false, "");
  REQUIRE(v6.has_value());
  CHECK(v6->ssh_host == "::1");
  CHECK(v6->ToString() == "ssh://[::1]:2222");
  CHECK(ParseEndpoint("ssh://me%40corp@h", false, "")->ssh_user == "me@corp");

  auto error = [](const std::string& url) { return ParseEndpoint(url, false, "").error().message; };
  CHECK(error("ssh://me:passw0rd@example.com") ==
        "docker host ssh://me:passw0rd@example.com: invalid ssh URL: plain-text password is not supported");
  CHECK(error("ssh://example.com?foo=bar&bar=baz").ends_with(
      R"(invalid ssh URL: query parameters are not allowed: "foo=bar&bar=baz")"));
  CHECK(error("ssh://example.com#bar").ends_with(R"(invalid ssh URL: fragments are not allowed: "bar")"));
  CHECK(error("ssh://").ends_with("invalid ssh URL: hostname is empty"));
  CHECK(error("ssh:///no-hostname").ends_with("invalid ssh URL: hostname is empty"));
  CHECK(error("ssh://h:abc").ends_with(R"(invalid ssh URL: invalid port ":abc" after host)"));
  CHECK(error("ssh://%%u@h").ends_with(R"(invalid URL escape in user "%%u")"));
}

TEST_CASE("FakeEngine: injected failures, down and recovery, call counts") {
  testing::FakeEngine fake;
  fake.FailNext(MakeError(ErrorCode::kUnavailable, "flaky"), 2);
  CHECK(fake.Ping().error().message == "flaky");
  CHECK(fake.ListContainers({}).error().code == ErrorCode::kUnavailable);
  CHECK(fake.Ping().has_value());
  fake.SetDown(true);
  CHECK(fake.Version().error().transient());
  fake.SetDown(false);
  CHECK(fake.Version().has_value());
  CHECK(fake.Calls().at("Ping") == 2);
  CHECK(fake.TotalCalls() == 5);
}

TEST_CASE("FakeEngine: a container that exits on its own is exited, with its code") {
  testing::FakeEngine fake;
  fake.AddImage("img:1");
  ContainerSpec spec;
  spec.name = "job";
  spec.image = "img:1";
  auto id = fake.CreateContainer(spec);
  REQUIRE(id.has_value());
  REQUIRE(fake.StartContainer(*id).has_value());
  fake.ExitContainer("job", 0);
  auto c = fake.InspectContainer("job").value();
  CHECK(c.state.status == "exited");
  CHECK(c.state.exit_code == 0);
  CHECK_FALSE(c.state.running);
}

}  // namespace
}  // namespace keelson::docker
