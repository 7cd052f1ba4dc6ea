// The engine contract suite: see engine_contract.h. Each case labels what it
// creates with a run-unique label and removes exactly that at the end.

#include "contract/engine_contract.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

namespace keelson::contract {
namespace {

using namespace docker;

std::string RunId() {
  static const std::string id = [] {
    std::random_device rd;
    std::string s;
    for (int i = 0; i < 8; ++i) s += "abcdefghijklmnopqrstuvwxyz0123456789"[rd() % 36];
    return s;
  }();
  return id;
}

// One case's engine and names; removes what the case made, by label.
struct Scope {
  std::unique_ptr<Engine> engine = MakeContractEngine();
  std::string label = "dev.keelson.contract=" + RunId();
  std::string prefix;

  explicit Scope(const std::string& name) : prefix("kc-" + RunId() + "-" + name) {}
  ~Scope() {
    ListFilter f{{label}, true};
    if (auto cs = engine->ListContainers(f)) {
      for (const auto& c : *cs) (void)engine->RemoveContainer(c.id, true);
    }
    if (auto ns = engine->ListNetworks(f)) {
      for (const auto& n : *ns) (void)engine->RemoveNetwork(n.id);
    }
    if (auto vs = engine->ListVolumes(f)) {
      for (const auto& v : *vs) (void)engine->RemoveVolume(v.spec.name, true);
    }
  }
  Labels Labelled() const { return {{"dev.keelson.contract", RunId()}}; }
  ContainerSpec Sleeper(const std::string& name) const {
    ContainerSpec s;
    s.name = prefix + "-" + name;
    s.image = ContractImage();
    s.cmd = std::vector<std::string>{"sleep", "3600"};
    s.labels = Labelled();
    return s;
  }
};

template <typename T>
T Must(Result<T> r) {
  REQUIRE_MESSAGE(r.has_value(), (r.has_value() ? "" : r.error().message));
  return std::move(r).value();
}
void Must(Result<void> r) { REQUIRE_MESSAGE(r.has_value(), (r.has_value() ? "" : r.error().message)); }

template <typename T>
ErrorCode CodeOf(const Result<T>& r) {
  REQUIRE_FALSE(r.has_value());
  return r.error().code;
}

bool HasEnv(const ContainerSpec& s, const std::string& kv) {
  return std::find(s.env.begin(), s.env.end(), kv) != s.env.end();
}

TEST_CASE("contract: version is negotiated") {
  Scope s("version");
  Must(s.engine->Ping());
  auto v = Must(s.engine->Version());
  CHECK_FALSE(v.version.empty());
  CHECK_FALSE(v.negotiated.empty());
  CHECK(Must(s.engine->Info()).cpus > 0);
}

TEST_CASE("contract: a container is created with every field, and inspect reads them back") {
  Scope s("create");
  auto net = Must(s.engine->CreateNetwork({s.prefix + "-net", "bridge", false, false, "", "", {}, s.Labelled()}));
  auto net2 = Must(s.engine->CreateNetwork({s.prefix + "-net2", "bridge", true, false, "", "", {}, s.Labelled()}));
  Must(s.engine->CreateVolume({s.prefix + "-vol", "local", {}, s.Labelled()}));
  ContainerSpec spec = s.Sleeper("full");
  spec.env = {"A=1", "B=two words"};
  spec.working_dir = "/tmp";
  spec.user = "65534";
  spec.labels["extra"] = "yes";
  spec.ports = {{8080, "tcp", "127.0.0.1", 18080}};
  spec.networks = {{s.prefix + "-net", {"web", "www"}}, {s.prefix + "-net2", {"backend"}}};
  spec.mounts = {{Mount::Type::kVolume, s.prefix + "-vol", "/data", false},
                 {Mount::Type::kBind, "/tmp", "/host-tmp", true},
                 {Mount::Type::kTmpfs, "", "/scratch", false}};
  spec.nano_cpus = 500000000;
  spec.memory = 64 << 20;
  spec.pids_limit = 64;
  spec.healthcheck = Healthcheck{{"CMD-SHELL", "true"}, 1000000000, 2000000000, 0, 3};
  spec.read_only_rootfs = true;
  spec.no_new_privileges = true;
  spec.cap_drop = {"NET_RAW"};
  spec.stop_timeout = 3;
  spec.hostname = "web1";
  spec.extra_hosts = {"cache:10.0.0.5", "mirror:10.0.0.5"};
  spec.dns = {"10.0.0.53"};
  spec.dns_search = {"ci.internal"};
  spec.dns_options = {"ndots:2"};
  spec.init = true;
  spec.shm_size = 128 << 20;
  spec.ulimits = {{"nofile", 1024, 4096}};
  spec.sysctls = {{"net.core.somaxconn", "1024"}};
  spec.log_driver = "json-file";
  spec.log_options = {{"max-size", "10m"}};
  const std::string id = Must(s.engine->CreateContainer(spec));
  CHECK(id.size() == 64);

  auto c = Must(s.engine->InspectContainer(spec.name));
  CHECK(c.id == id);
  CHECK(c.name == spec.name);
  CHECK(c.state.status == "created");
  CHECK_FALSE(c.state.running);
  const ContainerSpec& got = c.config;
  CHECK(got.image == spec.image);
  CHECK(got.cmd == spec.cmd);
  CHECK(HasEnv(got, "A=1"));
  CHECK(HasEnv(got, "B=two words"));
  CHECK(HasEnv(got, "PATH=/bin"));  // the image's own env is kept
  CHECK(got.working_dir == "/tmp");
  CHECK(got.user == "65534");
  CHECK(got.labels.at("extra") == "yes");
  CHECK(got.ports == spec.ports);
  REQUIRE(got.networks.size() == 2);
  CHECK(got.networks[0] == spec.networks[0]);
  CHECK(got.networks[1] == spec.networks[1]);
  auto mounts = got.mounts;
  auto want = spec.mounts;
  auto by_target = [](const Mount& a, const Mount& b) { return a.target < b.target; };
  std::sort(mounts.begin(), mounts.end(), by_target);
  std::sort(want.begin(), want.end(), by_target);
  CHECK(mounts == want);
  CHECK(got.nano_cpus == spec.nano_cpus);
  CHECK(got.memory == spec.memory);
  CHECK(got.pids_limit == 64);
  REQUIRE(got.healthcheck.has_value());
  CHECK(*got.healthcheck == *spec.healthcheck);
  CHECK(got.read_only_rootfs);
  CHECK(got.no_new_privileges);
  CHECK_FALSE(got.privileged);
  CHECK(got.cap_drop == spec.cap_drop);
  CHECK(got.stop_timeout == std::optional<int>(3));
  CHECK(got.hostname == "web1");
  CHECK(got.extra_hosts == spec.extra_hosts);
  CHECK(got.dns == spec.dns);
  CHECK(got.dns_search == spec.dns_search);
  CHECK(got.dns_options == spec.dns_options);
  CHECK(got.init);
  CHECK(got.shm_size == 128 << 20);
  CHECK(got.ulimits == spec.ulimits);
  CHECK(got.sysctls == spec.sysctls);
  CHECK(got.log_driver == "json-file");
  CHECK(got.log_options == spec.log_options);

  // Endpoints exist once it runs.
  CHECK(Must(s.engine->InspectNetwork(net)).containers.empty());
  Must(s.engine->StartContainer(id));
  auto n = Must(s.engine->InspectNetwork(net));
  CHECK(std::find(n.containers.begin(), n.containers.end(), id) != n.containers.end());
  CHECK(Must(s.engine->InspectNetwork(net2)).spec.internal);
  CHECK(Must(s.engine->InspectContainer(id)).config.networks.size() == 2);
}

TEST_CASE("contract: image defaults fill what the spec leaves out") {
  Scope s("defaults");
  ContainerSpec spec = s.Sleeper("plain");
  spec.cmd.reset();
  Must(s.engine->CreateContainer(spec));
  auto c = Must(s.engine->InspectContainer(spec.name));
  CHECK(c.config.cmd == std::optional<std::vector<std::string>>(std::vector<std::string>{"/bin/sh"}));
  CHECK_FALSE(c.config.stop_timeout.has_value());
  CHECK_FALSE(c.config.healthcheck.has_value());
  CHECK(c.config.pids_limit == 0);
}

TEST_CASE("contract: create refuses taken names and missing images; start refuses missing networks") {
  Scope s("refuse");
  auto spec = s.Sleeper("dup");
  Must(s.engine->CreateContainer(spec));
  CHECK(CodeOf(s.engine->CreateContainer(spec)) == ErrorCode::kConflict);
  auto missing = s.Sleeper("noimage");
  missing.image = "keelson-test/does-not-exist:1";
  CHECK(CodeOf(s.engine->CreateContainer(missing)) == ErrorCode::kNotFound);
  auto nonet = s.Sleeper("nonet");
  nonet.networks = {{s.prefix + "-missing-net", {}}};
  const std::string id = Must(s.engine->CreateContainer(nonet));  // networks are looked up at start
  CHECK(CodeOf(s.engine->StartContainer(id)) == ErrorCode::kNotFound);
  CHECK(CodeOf(s.engine->InspectContainer(s.prefix + "-never")) == ErrorCode::kNotFound);
}

TEST_CASE("contract: start, list by label, stop, remove") {
  Scope s("life");
  auto spec = s.Sleeper("a");
  const std::string id = Must(s.engine->CreateContainer(spec));
  Must(s.engine->StartContainer(id));
  Must(s.engine->StartContainer(id));  // starting a running container is a no-op
  auto c = Must(s.engine->InspectContainer(id));
  CHECK(c.state.running);
  CHECK(c.state.status == "running");
  CHECK_FALSE(c.state.started_at.empty());

  auto listed = Must(s.engine->ListContainers({{s.label}, true}));
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].id == id);
  CHECK(listed[0].name == spec.name);
  CHECK(listed[0].state == "running");
  CHECK(listed[0].labels.at("dev.keelson.contract") == RunId());
  CHECK(Must(s.engine->ListContainers({{s.label + "-other"}, true})).empty());

  CHECK(CodeOf(s.engine->RemoveContainer(id, false)) == ErrorCode::kConflict);
  Must(s.engine->StopContainer(id, 0));  // sleep ignores nothing: SIGKILL at once
  c = Must(s.engine->InspectContainer(id));
  CHECK_FALSE(c.state.running);
  CHECK(c.state.status == "exited");
  CHECK(c.state.exit_code == 137);
  CHECK(Must(s.engine->ListContainers({{s.label}, false})).empty());  // running only
  Must(s.engine->RemoveContainer(id, false));
  CHECK(CodeOf(s.engine->InspectContainer(id)) == ErrorCode::kNotFound);
  CHECK(CodeOf(s.engine->RemoveContainer(id, false)) == ErrorCode::kNotFound);
}

TEST_CASE("contract: exec runs in a running container only; logs of a missing container") {
  Scope s("exec");
  const std::string id = Must(s.engine->CreateContainer(s.Sleeper("x")));
  ExecRequest quiet;
  quiet.cmd = {"true"};
  quiet.output = [](OutputStream, std::string_view) { return true; };
  CHECK(CodeOf(s.engine->Exec(id, quiet)) == ErrorCode::kConflict);  // created, not running
  Must(s.engine->StartContainer(id));
  CHECK(Must(s.engine->Exec(id, quiet)) == 0);
  CHECK(CodeOf(s.engine->Exec(s.prefix + "-absent", quiet)) == ErrorCode::kNotFound);

  CancelFlag cancel{false};
  std::string seen;
  auto sink = [&](OutputStream, std::string_view d) {
    seen.append(d);
    return true;
  };
  Must(s.engine->StreamLogs(id, {}, sink, cancel));  // without follow: what there is, then the end
  CHECK(seen.empty());
  CHECK(CodeOf(s.engine->StreamLogs(s.prefix + "-absent", {}, sink, cancel)) == ErrorCode::kNotFound);
  CHECK(CodeOf(s.engine->ContainerLogs(s.prefix + "-absent", {})) == ErrorCode::kNotFound);
  // Following a running container's logs ends when the container stops.
  LogOptions follow;
  follow.follow = true;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    (void)s.engine->StopContainer(id, 0);
  });
  Must(s.engine->StreamLogs(id, follow, sink, cancel));
  stopper.join();
  CHECK_FALSE(Must(s.engine->InspectContainer(id)).state.running);
}

TEST_CASE("contract: stop ends a running container and is a no-op on a stopped one") {
  Scope s("stop");
  auto spec = s.Sleeper("b");
  const std::string id = Must(s.engine->CreateContainer(spec));
  Must(s.engine->StartContainer(id));
  Must(s.engine->StopContainer(id, 1));
  CHECK_FALSE(Must(s.engine->InspectContainer(id)).state.running);
  Must(s.engine->StopContainer(id, 1));
  Must(s.engine->StartContainer(id));  // a stopped container starts again
  CHECK(Must(s.engine->InspectContainer(id)).state.running);
  Must(s.engine->RemoveContainer(id, true));
  CHECK(CodeOf(s.engine->InspectContainer(id)) == ErrorCode::kNotFound);
}

TEST_CASE("contract: networks: create, conflict, list by label, connect, in-use, remove") {
  Scope s("net");
  NetworkSpec spec{s.prefix + "-n", "bridge", true, false, "10.231.7.0/24", "10.231.7.1", {}, s.Labelled()};
  const std::string id = Must(s.engine->CreateNetwork(spec));
  CHECK(CodeOf(s.engine->CreateNetwork(spec)) == ErrorCode::kConflict);
  auto n = Must(s.engine->InspectNetwork(spec.name));
  CHECK(n.id == id);
  CHECK(n.spec.name == spec.name);
  CHECK(n.spec.driver == "bridge");
  CHECK(n.spec.internal);
  CHECK(n.spec.subnet == "10.231.7.0/24");
  CHECK(n.spec.gateway == "10.231.7.1");
  CHECK(n.spec.labels == spec.labels);
  auto listed = Must(s.engine->ListNetworks({{s.label}, true}));
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].id == id);

  const std::string c = Must(s.engine->CreateContainer(s.Sleeper("member")));
  Must(s.engine->StartContainer(c));
  Must(s.engine->ConnectNetwork(id, c, {"member-alias"}));
  CHECK(CodeOf(s.engine->ConnectNetwork(id, c, {})) == ErrorCode::kConflict);
  auto attached = Must(s.engine->InspectContainer(c)).config.networks;
  CHECK(std::find(attached.begin(), attached.end(), NetworkAttachment{spec.name, {"member-alias"}}) != attached.end());
  auto members = Must(s.engine->InspectNetwork(id)).containers;
  CHECK(std::find(members.begin(), members.end(), c) != members.end());
  CHECK(CodeOf(s.engine->RemoveNetwork(id)) == ErrorCode::kConflict);
  Must(s.engine->DisconnectNetwork(id, c, false));
  CHECK(Must(s.engine->InspectNetwork(id)).containers.empty());
  Must(s.engine->RemoveNetwork(id));
  CHECK(CodeOf(s.engine->InspectNetwork(id)) == ErrorCode::kNotFound);
}

TEST_CASE("contract: volumes: create is idempotent, in use, remove") {
  Scope s("vol");
  VolumeSpec spec{s.prefix + "-v", "local", {}, s.Labelled()};
  auto v = Must(s.engine->CreateVolume(spec));
  CHECK(v.spec.name == spec.name);
  CHECK(v.spec.labels == spec.labels);
  CHECK_FALSE(v.mountpoint.empty());
  auto again = Must(s.engine->CreateVolume(spec));
  CHECK(again.spec.name == spec.name);
  CHECK(Must(s.engine->ListVolumes({{s.label}, true})).size() == 1);

  auto user = s.Sleeper("user");
  user.mounts = {{Mount::Type::kVolume, spec.name, "/data", false}};
  const std::string c = Must(s.engine->CreateContainer(user));
  CHECK(CodeOf(s.engine->RemoveVolume(spec.name, false)) == ErrorCode::kConflict);
  Must(s.engine->RemoveContainer(c, true));
  Must(s.engine->RemoveVolume(spec.name, false));
  CHECK(CodeOf(s.engine->InspectVolume(spec.name)) == ErrorCode::kNotFound);
  CHECK(CodeOf(s.engine->RemoveVolume(spec.name, false)) == ErrorCode::kNotFound);
}

TEST_CASE("contract: images: inspect, tag, untag, missing") {
  Scope s("img");
  auto img = Must(s.engine->InspectImage(ContractImage()));
  CHECK(img.id.rfind("sha256:", 0) == 0);
  const std::string tag = "keelson-test/contract-" + RunId() + ":t1";
  Must(s.engine->TagImage(ContractImage(), tag));
  CHECK(Must(s.engine->InspectImage(tag)).id == img.id);
  auto tags = Must(s.engine->InspectImage(ContractImage())).repo_tags;
  CHECK(std::find(tags.begin(), tags.end(), tag) != tags.end());
  Must(s.engine->RemoveImage(tag, false));  // untags: the image keeps its other tag
  CHECK(CodeOf(s.engine->InspectImage(tag)) == ErrorCode::kNotFound);
  CHECK(Must(s.engine->InspectImage(ContractImage())).id == img.id);
  CHECK(CodeOf(s.engine->InspectImage("keelson-test/never-there:1")) == ErrorCode::kNotFound);
}

TEST_CASE("contract: images: build a context, push it, pull it back; a missing tag and an unreachable registry") {
  Scope s("build");
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / (s.prefix + "-ctx");
  fs::create_directories(dir);
  std::ofstream(dir / "Dockerfile") << "FROM " << ContractImage() << "\nARG V\nRUN echo \"$V\" > /v\n";
  const std::string repo = ContractRegistry() + "/" + s.prefix;
  const std::string ref = repo + ":1";
  int lines = 0;
  auto count = [&](const Progress&) { ++lines; };
  const std::string id = Must(s.engine->BuildImage({dir.string(), "Dockerfile", {ref}, {{"V", "1"}}, "", {}}, count));
  CHECK(id.rfind("sha256:", 0) == 0);
  CHECK(Must(s.engine->InspectImage(ref)).id == id);
  CHECK(lines > 0);

  Must(s.engine->PushImage(ref, std::nullopt, nullptr));
  Must(s.engine->RemoveImage(ref, false));
  CHECK(CodeOf(s.engine->InspectImage(ref)) == ErrorCode::kNotFound);
  Must(s.engine->PullImage(ref, std::nullopt, nullptr));
  auto pulled = Must(s.engine->InspectImage(ref));
  CHECK(pulled.id == id);  // content-addressed: the same image comes back
  REQUIRE_FALSE(pulled.repo_digests.empty());
  CHECK(pulled.repo_digests[0].rfind(repo + "@sha256:", 0) == 0);

  auto missing = s.engine->PullImage(repo + ":never-pushed", std::nullopt, nullptr);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == ErrorCode::kNotFound);
  CHECK(missing.error().message.find("never-pushed") != std::string::npos);
  // Nothing listens there: transient, worth a retry with backoff.
  auto unreachable = s.engine->PullImage("127.0.0.1:5999/" + s.prefix + ":1", std::nullopt, nullptr);
  REQUIRE_FALSE(unreachable.has_value());
  CHECK(unreachable.error().transient());
  auto no_push = s.engine->PushImage(ContractRegistry() + "/" + s.prefix + "-absent:1", std::nullopt, nullptr);
  CHECK(CodeOf(no_push) == ErrorCode::kNotFound);  // nothing local by that name

  Must(s.engine->RemoveImage(ref, true));
  fs::remove_all(dir);
}

TEST_CASE("contract: events: a label filter sees a container's life, and cancel ends the stream") {
  Scope s("events");
  std::atomic<bool> cancel{false};
  std::mutex mu;
  std::vector<Event> seen;
  Result<void> ended;
  std::thread watcher([&] {
    ended = s.engine->StreamEvents({{s.label}, {"container"}, 0},
                                   [&](const Event& e) {
                                     std::lock_guard lock(mu);
                                     seen.push_back(e);
                                   },
                                   cancel);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the stream is open
  auto spec = s.Sleeper("watched");
  const std::string id = Must(s.engine->CreateContainer(spec));
  Must(s.engine->StartContainer(id));
  Must(s.engine->RemoveContainer(id, true));
  auto other = s.Sleeper("unlabelled");
  other.labels = {{"dev.keelson.contract", "someone-else"}};
  Must(s.engine->RemoveContainer(Must(s.engine->CreateContainer(other)), true));

  auto actions = [&] {
    std::lock_guard lock(mu);
    std::vector<std::string> out;
    for (const auto& e : seen) {
      if (e.id == id) out.push_back(e.action);
      CHECK(e.attributes.count("dev.keelson.contract"));
      CHECK(e.attributes.at("dev.keelson.contract") == RunId());
    }
    return out;
  };
  for (int i = 0; i < 100; ++i) {
    auto a = actions();
    if (std::find(a.begin(), a.end(), "destroy") != a.end()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto a = actions();
  CHECK(std::find(a.begin(), a.end(), "create") != a.end());
  CHECK(std::find(a.begin(), a.end(), "start") != a.end());
  CHECK(std::find(a.begin(), a.end(), "die") != a.end());
  CHECK(std::find(a.begin(), a.end(), "destroy") != a.end());
  {
    std::lock_guard lock(mu);
    for (const auto& e : seen) {
      if (e.id == id && e.action == "create") CHECK(e.attributes.at("name") == spec.name);
    }
  }
  cancel = true;
  watcher.join();
  CHECK(ended.has_value());
}

TEST_CASE("contract: network and volume events carry no labels, so a label filter drops them") {
  Scope s("evlabels");
  std::atomic<bool> cancel{false};
  std::atomic<int> count{0};
  std::thread watcher([&] {
    (void)s.engine->StreamEvents({{s.label}, {"network", "volume"}, 0}, [&](const Event&) { ++count; }, cancel);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Must(s.engine->RemoveNetwork(Must(s.engine->CreateNetwork({s.prefix + "-evn", "bridge", false, false, "", "", {}, s.Labelled()}))));
  Must(s.engine->CreateVolume({s.prefix + "-evv", "local", {}, s.Labelled()}));
  Must(s.engine->RemoveVolume(s.prefix + "-evv", false));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  cancel = true;
  watcher.join();
  CHECK(count.load() == 0);
}

}  // namespace
}  // namespace keelson::contract
