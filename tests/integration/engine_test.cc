// HttpEngine against the real engine, beyond the contract: registry
// credentials, build args and labels and failures, logs, a dead socket,
// events caused by the docker CLI, network aliases.

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "docker/http_engine.h"

namespace keelson {
namespace {

using namespace docker;
namespace fs = std::filesystem;

constexpr const char* kImage = "keelson-test/busybox:1";

std::unique_ptr<HttpEngine> Engine() {
  auto endpoint = EndpointFromEnvironment("");
  REQUIRE(endpoint.has_value());
  return std::make_unique<HttpEngine>(*endpoint);
}

std::string Unique(const std::string& base) {
  static std::mt19937 rng(std::random_device{}());
  return base + "-" + std::to_string(rng() % 1000000);
}

template <typename T>
T Must(Result<T> r) {
  REQUIRE_MESSAGE(r.has_value(), (r.has_value() ? "" : r.error().message));
  return std::move(r).value();
}
void Must(Result<void> r) { REQUIRE_MESSAGE(r.has_value(), (r.has_value() ? "" : r.error().message)); }

// The exit code of a container that runs to its end (polled: keelson itself never waits on one).
int ExitCode(HttpEngine& e, const std::string& id) {
  for (int i = 0; i < 600; ++i) {
    auto c = Must(e.InspectContainer(id));
    if (!c.state.running && c.state.status != "created") return c.state.exit_code;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("container " << id << " did not exit within 30 s");
  return -1;
}

TEST_CASE("engine: the negotiated API is the engine's when it is older than keelson's") {
  auto e = Engine();
  auto v = Must(e->Version());
  CHECK(v.negotiated == (v.api_version < std::string(kMaxApiVersion) ? v.api_version : kMaxApiVersion));
  CHECK(Must(e->ApiVersion()) == v.negotiated);
}

TEST_CASE("engine: build from a context directory, with args and labels") {
  auto e = Engine();
  fs::path dir = fs::temp_directory_path() / Unique("keelson-build");
  fs::create_directories(dir / "sub");
  std::ofstream(dir / "Dockerfile") << "FROM keelson-test/busybox:1\nARG GREETING\nCOPY sub/hello.txt /hello.txt\n"
                                       "RUN echo \"$GREETING\" > /greeting\n";
  std::ofstream(dir / "sub" / "hello.txt") << "hello\n";
  const std::string tag = "keelson-test/" + Unique("built") + ":1";
  std::vector<std::string> lines;
  auto id = Must(e->BuildImage({dir.string(), "Dockerfile", {tag}, {{"GREETING", "hi there"}}, "", {{"built-by", "keelson"}}},
                               [&](const Progress& p) { lines.push_back(p.status); }));
  CHECK(id.rfind("sha256:", 0) == 0);
  auto img = Must(e->InspectImage(tag));
  CHECK(img.id == id);
  CHECK(img.labels.at("built-by") == "keelson");
  CHECK_FALSE(lines.empty());

  // The file and the build arg made it in: run it and read the logs.
  ContainerSpec spec;
  spec.name = Unique("keelson-built");
  spec.image = tag;
  spec.cmd = std::vector<std::string>{"sh", "-c", "cat /hello.txt /greeting"};
  const std::string c = Must(e->CreateContainer(spec));
  Must(e->StartContainer(c));
  CHECK(ExitCode(*e, c) == 0);
  CHECK(Must(e->ContainerLogs(c, {})).out == "hello\nhi there\n");
  Must(e->RemoveContainer(c, true));
  Must(e->RemoveImage(tag, false));

  std::ofstream(dir / "Dockerfile") << "FROM keelson-test/busybox:1\nRUN exit 3\n";
  auto failed = e->BuildImage({dir.string(), "Dockerfile", {tag}, {}, "", {}}, nullptr);
  REQUIRE_FALSE(failed.has_value());
  CHECK(failed.error().message.find("returned a non-zero code: 3") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("engine: logs are demultiplexed into stdout and stderr; exit codes read back") {
  auto e = Engine();
  ContainerSpec spec;
  spec.name = Unique("keelson-logs");
  spec.image = kImage;
  spec.cmd = std::vector<std::string>{"sh", "-c", "echo out1; echo err1 >&2; echo out2; exit 3"};
  const std::string c = Must(e->CreateContainer(spec));
  Must(e->StartContainer(c));
  CHECK(ExitCode(*e, c) == 3);
  auto logs = Must(e->ContainerLogs(c, {}));
  CHECK(logs.out == "out1\nout2\n");
  CHECK(logs.err == "err1\n");
  auto stats = e->ContainerStats(c, StatsMode::kOneShot);
  CHECK(stats.has_value());
  Must(e->RemoveContainer(c, true));

  // A busy container: a sample shows its CPU and memory, as docker stats does.
  spec.name = Unique("keelson-busy");
  spec.cmd = std::vector<std::string>{"sh", "-c", "while :; do :; done"};
  const std::string busy = Must(e->CreateContainer(spec));
  Must(e->StartContainer(busy));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto sampled = Must(e->ContainerStats(busy, StatsMode::kSampled));
  CHECK(sampled.Cores() > 0.3);  // one spinning shell on a 2-core machine, whatever else runs
  CHECK(sampled.Cores() <= 2.01);
  CHECK(sampled.WorkingSet() > 0);
  CHECK(sampled.WorkingSet() < 64u << 20);
  auto once = Must(e->ContainerStats(busy, StatsMode::kOneShot));
  CHECK(once.cpu_total_ns >= sampled.cpu_total_ns);
  Must(e->RemoveContainer(busy, true));

  // dockerd copies stdout and stderr on separate goroutines, so their order in
  // the log is not the order of the writes: tail is checked on one stream only.
  spec.name = Unique("keelson-tail");
  spec.cmd = std::vector<std::string>{"sh", "-c", "echo a; echo b; echo c"};
  const std::string t = Must(e->CreateContainer(spec));
  Must(e->StartContainer(t));
  CHECK(ExitCode(*e, t) == 0);
  CHECK(Must(e->ContainerLogs(t, {true, false, 2, false})).out == "b\nc\n");
  Must(e->RemoveContainer(t, true));
}

TEST_CASE("engine: a dead socket is a transient error, not a crash") {
  HttpEngine e(*ParseEndpoint("unix:///nonexistent/keelson-dead.sock", false, ""));
  auto r = e.Ping();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(r.error().transient());
  auto list = e.ListContainers({});
  REQUIRE_FALSE(list.has_value());
  CHECK(list.error().code == ErrorCode::kUnavailable);
  CHECK(list.error().message.find("keelson-dead.sock") != std::string::npos);
}

TEST_CASE("engine: the event stream sees a container removed with the docker CLI") {
  auto e = Engine();
  const std::string label = "dev.keelson.test=" + Unique("ev");
  ContainerSpec spec;
  spec.name = Unique("keelson-cli-removed");
  spec.image = kImage;
  spec.cmd = std::vector<std::string>{"sleep", "3600"};
  spec.labels = {{"dev.keelson.test", label.substr(label.find('=') + 1)}};
  const std::string id = Must(e->CreateContainer(spec));
  Must(e->StartContainer(id));

  std::atomic<bool> cancel{false}, destroyed{false};
  std::thread watcher([&] {
    (void)e->StreamEvents({{label}, {"container"}, 0}, [&](const Event& ev) {
      if (ev.id == id && ev.action == "destroy") destroyed = true;
    }, cancel);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(std::system(("docker rm -f " + spec.name + " >/dev/null").c_str()) == 0);
  for (int i = 0; i < 100 && !destroyed; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(destroyed.load());
  auto t0 = std::chrono::steady_clock::now();
  cancel = true;
  watcher.join();
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));  // cancel is prompt
}

TEST_CASE("engine: many threads share one client") {
  auto e = Engine();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        if (e->ListContainers({}).has_value() && e->InspectImage(kImage).has_value()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok.load() == 200);
}

TEST_CASE("engine: connect with aliases, aliases read back, disconnect, on a running container") {
  auto e = Engine();
  NetworkSpec net;
  net.name = Unique("keelson-aliases");
  net.labels = {{"dev.keelson.test", "aliases"}};
  const std::string net_id = Must(e->CreateNetwork(net));
  ContainerSpec spec;
  spec.name = Unique("keelson-aliased");
  spec.image = kImage;
  spec.cmd = std::vector<std::string>{"sleep", "60"};
  spec.stop_timeout = 1;
  const std::string c = Must(e->CreateContainer(spec));
  Must(e->StartContainer(c));
  Must(e->ConnectNetwork(net.name, c, {"db", "db-primary"}));
  auto attached = Must(e->InspectContainer(c)).config.networks;
  auto it = std::find_if(attached.begin(), attached.end(), [&](const auto& a) { return a.network == net.name; });
  REQUIRE(it != attached.end());
  std::sort(it->aliases.begin(), it->aliases.end());
  CHECK(it->aliases == std::vector<std::string>{"db", "db-primary"});  // the engine's short-id alias is left out
  CHECK(Must(e->InspectNetwork(net.name)).containers.size() == 1);
  // Connecting again is a conflict the caller can recognise.
  auto again = e->ConnectNetwork(net.name, c, {"db"});
  CHECK_FALSE(again.has_value());
  Must(e->DisconnectNetwork(net.name, c, false));
  attached = Must(e->InspectContainer(c)).config.networks;
  CHECK(std::none_of(attached.begin(), attached.end(), [&](const auto& a) { return a.network == net.name; }));
  CHECK(Must(e->InspectNetwork(net_id)).containers.empty());
  Must(e->RemoveContainer(c, true));
  Must(e->RemoveNetwork(net_id));
}

}  // namespace
}  // namespace keelson
