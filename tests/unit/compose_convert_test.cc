// Compose projects read as docker compose reads them (compose/project.h) and
// converted to keelson manifests (compose/convert.h): merged files, .env,
// profiles, extends, the field mapping, and a line for what does not carry
// over, at its position.

#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

#include "compose/convert.h"
#include "compose/project.h"

using namespace keelson;
using nlohmann::json;

namespace {

struct Dir {
  std::filesystem::path path = std::filesystem::temp_directory_path() / ("keelson-compose-" + std::to_string(std::rand())) / "shop";
  Dir() { std::filesystem::create_directories(path); }
  ~Dir() { std::filesystem::remove_all(path.parent_path()); }
  std::string Write(const std::string& name, const std::string& text) {
    std::filesystem::create_directories((path / name).parent_path());
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
};

std::optional<std::string> Env(const std::string& name) {
  if (name == "TAG") return "2.0";
  if (name == "HOME") return "/home/ci";
  return std::nullopt;
}

const json* Find(const compose::Conversion& c, const std::string& kind, const std::string& name) {
  for (const auto& o : c.objects) {
    if (o["kind"] == kind && o["metadata"]["name"] == name) return &o;
  }
  return nullptr;
}

std::vector<std::string> Lines(const std::vector<manifest::Diagnostic>& ds) {
  std::vector<std::string> out;
  for (const auto& d : ds) out.push_back(d.ToString());
  return out;
}

}  // namespace

TEST_CASE("LoadProject: files merge in order, .env and the environment interpolate, profiles and extends apply") {
  Dir d;
  d.Write(".env", "TAG=1.0\nREGISTRY=127.0.0.1:5000\n");
  d.Write("base.yaml", "services:\n  base:\n    image: busybox\n    environment: {A: '1'}\n    build: ./ctx\n");
  const std::string main = d.Write("compose.yaml",
      "services:\n"
      "  web:\n    image: ${REGISTRY}/web:${TAG}\n    ports: ['80:80']\n    environment: [A=1, B=2]\n"
      "  debug:\n    image: busybox\n    profiles: [debug]\n"
      "  worker:\n    extends: {file: base.yaml, service: base}\n    environment: {B: '3'}\n");
  const std::string over = d.Write("override.yaml",
      "services:\n  web:\n    ports: ['443:443']\n    environment: {B: '9', C: '3'}\n    command: [run]\n");
  compose::LoadOptions opts{{main, over}, "", {}, Env};
  auto p = compose::LoadProject(opts);
  REQUIRE_MESSAGE(p.has_value(), (p ? std::string() : p.error().message));
  CHECK(p->name == "shop");  // the directory's
  const json& web = p->model["services"]["web"];
  CHECK(web["image"] == "127.0.0.1:5000/web:2.0");  // the environment before .env
  CHECK(web["ports"] == json{"80:80", "443:443"});
  CHECK(web["environment"] == json{{"A", "1"}, {"B", "9"}, {"C", "3"}});
  CHECK(web["command"] == json{"run"});
  CHECK_FALSE(p->model["services"].contains("debug"));
  const json& worker = p->model["services"]["worker"];
  CHECK(worker["image"] == "busybox");
  CHECK(worker["environment"] == json{{"A", "1"}, {"B", "3"}});
  CHECK(worker["build"] == (d.path / "ctx").string());  // relative to the file it came from
  opts.profiles = {"debug"};
  opts.project_name = "My Shop!";
  p = compose::LoadProject(opts);
  REQUIRE(p);
  CHECK(p->model["services"].contains("debug"));
  CHECK(p->name == "myshop");
}

TEST_CASE("LoadProject: a missing required variable, a bad template and a loop are errors at their place") {
  Dir d;
  auto load = [&](const std::string& text) {
    compose::LoadOptions opts{{d.Write("compose.yaml", text)}, "", {}, Env};
    auto p = compose::LoadProject(opts);
    return p ? std::string("ok") : p.error().message;
  };
  const std::string file = (d.path / "compose.yaml").string();
  CHECK(load("services:\n  web:\n    image: ${IMAGE:?set IMAGE}\n") ==
        file + ":3:12: services.web.image: required variable IMAGE is missing a value: set IMAGE");
  CHECK(load("services:\n  web:\n    image: busybox\n    command: echo ${ oops}\n") ==
        file + ":4:14: services.web.command: Invalid template: \"echo ${ oops}\"");
  CHECK(load("services:\n  a: {image: x, extends: b}\n  b: {image: y, extends: a}\n").find("extends loops back to") !=
        std::string::npos);
  CHECK(load("services:\n  a: {extends: nope}\n").find("no service \"nope\" to extend") != std::string::npos);
}

TEST_CASE("Convert: services, networks, volumes and builds become keelson objects, field by field") {
  Dir d;
  d.Write("web/Dockerfile", "FROM scratch\n");
  const std::string file = d.Write("compose.yaml",
      "services:\n"
      "  web:\n"
      "    build: {context: ./web, args: [V=1], target: prod}\n"
      "    command: sh -c 'echo \"hi there\"'\n"
      "    entrypoint: [/bin/sh]\n"
      "    environment: {MODE: prod, HOME: null, GONE: null, N: 3}\n"
      "    ports: ['8080:80', '127.0.0.1:9000-9001:9000-9001/udp', {target: 53, published: '5353', protocol: udp}]\n"
      "    volumes: [cache:/cache, './conf:/etc/conf:ro', {type: tmpfs, target: /scratch}]\n"
      "    networks: {front: {aliases: [www]}}\n"
      "    healthcheck: {test: [CMD, wget, -q, localhost], interval: 5s, timeout: 2s, retries: 3, start_period: 1s}\n"
      "    restart: on-failure\n"
      "    user: '1000:1000'\n"
      "    working_dir: /srv\n"
      "    cap_add: [net_admin]\n"
      "    read_only: true\n"
      "    security_opt: [no-new-privileges:true]\n"
      "    stop_grace_period: 30s\n"
      "    mem_limit: 1g\n"
      "    cpus: 1.5\n"
      "    depends_on: [db]\n"
      "    hostname: web1\n"
      "    extra_hosts: ['cache:10.0.0.5', 'mirror=10.0.0.5', 'gw:host-gateway']\n"
      "    dns: 10.0.0.53\n"
      "    dns_search: [ci.internal]\n"
      "    dns_opt: ['ndots:2', edns0]\n"
      "    init: true\n"
      "    shm_size: 256m\n"
      "    ulimits: {nofile: {soft: 1024, hard: 4096}, nproc: 512}\n"
      "    sysctls: {net.core.somaxconn: 1024}\n"
      "    logging: {driver: json-file, options: {max-size: 10m}}\n"
      "    secrets: [token, {source: token, target: api-token}]\n"
      "    configs: [{source: app, target: /etc/app.conf}, app]\n"
      "    env_file: [web.env, {path: ./more.env, required: true}]\n"
      "  db:\n"
      "    image: busybox:1\n"
      "    deploy: {replicas: 3, resources: {limits: {memory: 64m, pids: 100}}, restart_policy: {condition: none}}\n"
      "networks:\n  front: {driver: bridge, internal: true, ipam: {config: [{subnet: 10.9.0.0/24, gateway: 10.9.0.1}]}}\n"
      "volumes:\n  cache: {driver: local, labels: {keep: 'yes'}}\n"
      "secrets:\n  token: {file: ./secrets/token}\n"
      "configs:\n  app: {file: ./app.conf}\n");
  compose::LoadOptions opts{{file}, "", {}, Env};
  auto p = compose::LoadProject(opts);
  REQUIRE(p);
  auto c = compose::Convert(*p, d.path.string(), Env);
  CHECK(Lines(c.errors).empty());
  CHECK(Lines(c.unsupported).empty());
  const json* web = Find(c, "Runner", "web");
  REQUIRE(web);
  CHECK((*web)["metadata"]["namespace"] == "shop");
  CHECK((*web)["metadata"]["labels"]["app.kubernetes.io/part-of"] == "shop");
  const json& s = (*web)["spec"];
  CHECK(s["imageRef"] == "web");
  CHECK(s["command"] == json{"sh", "-c", "echo \"hi there\""});
  CHECK(s["entrypoint"] == json{"/bin/sh"});
  CHECK(s["env"] == json{{{"name", "HOME"}, {"value", "/home/ci"}}, {{"name", "MODE"}, {"value", "prod"}},
                         {{"name", "N"}, {"value", "3"}}});
  CHECK(s["ports"] == json{{{"containerPort", 80}, {"hostPort", 8080}, {"protocol", "tcp"}},
                           {{"containerPort", 9000}, {"hostPort", 9000}, {"hostIP", "127.0.0.1"}, {"protocol", "udp"}},
                           {{"containerPort", 9001}, {"hostPort", 9001}, {"hostIP", "127.0.0.1"}, {"protocol", "udp"}},
                           {{"containerPort", 53}, {"hostPort", 5353}, {"protocol", "udp"}}});
  CHECK(s["volumes"] == json{{{"name", "cache"}, {"mountPath", "/cache"}, {"readOnly", false}}});
  // Fields in their (alphabetical) order: configs, secrets, volumes.
  CHECK(s["binds"] == json{{{"hostPath", (d.path / "app.conf").string()}, {"mountPath", "/etc/app.conf"}, {"readOnly", true}},
                           {{"hostPath", (d.path / "app.conf").string()}, {"mountPath", "/app"}, {"readOnly", true}},
                           {{"hostPath", (d.path / "secrets/token").string()}, {"mountPath", "/run/secrets/token"}, {"readOnly", true}},
                           {{"hostPath", (d.path / "secrets/token").string()}, {"mountPath", "/run/secrets/api-token"}, {"readOnly", true}},
                           {{"hostPath", (d.path / "conf").string()}, {"mountPath", "/etc/conf"}, {"readOnly", true}}});
  CHECK(s["tmpfs"] == json{"/scratch"});
  CHECK(s["networks"] == json{{{"name", "front"}, {"aliases", {"web", "www"}}}});
  CHECK(s["healthcheck"] == json{{"test", {"CMD", "wget", "-q", "localhost"}}, {"interval", "5s"}, {"timeout", "2s"},
                                 {"retries", 3}, {"startPeriod", "1s"}});
  CHECK(s["restartPolicy"] == "OnFailure");
  CHECK(s["user"] == "1000:1000");
  CHECK(s["workingDir"] == "/srv");
  CHECK(s["securityContext"] == json{{"capAdd", {"NET_ADMIN"}}, {"readOnlyRootFilesystem", true}, {"noNewPrivileges", true},
                                     {"sysctls", {{{"name", "net.core.somaxconn"}, {"value", "1024"}}}}});
  CHECK(s["hostname"] == "web1");
  CHECK(s["envFrom"] == json{{{"file", "web.env"}}, {{"file", "more.env"}}});
  CHECK(s["hostAliases"] == json{{{"ip", "10.0.0.5"}, {"hostnames", {"cache", "mirror"}}},
                                 {{"ip", "host-gateway"}, {"hostnames", {"gw"}}}});
  CHECK(s["dnsConfig"] == json{{"nameservers", {"10.0.0.53"}}, {"searches", {"ci.internal"}},
                               {"options", {{{"name", "ndots"}, {"value", "2"}}, {{"name", "edns0"}}}}});
  CHECK(s["init"] == true);
  CHECK(s["shmSize"] == "256Mi");
  CHECK(s["ulimits"] == json{{{"name", "nofile"}, {"soft", 1024}, {"hard", 4096}}, {{"name", "nproc"}, {"soft", 512}, {"hard", 512}}});
  CHECK(s["logging"] == json{{"driver", "json-file"}, {"options", {{"max-size", "10m"}}}});
  CHECK(s["stopTimeout"] == "30s");
  CHECK(s["resources"] == json{{"memory", "1Gi"}, {"cpus", "1.5"}});
  CHECK(s["dependsOn"] == json{{{"kind", "RunnerPool"}, {"name", "db"}}});
  const json* image = Find(c, "Image", "web");
  REQUIRE(image);
  CHECK((*image)["spec"] == json{{"ref", "shop-web:latest"}, {"build", {{"context", "web"}, {"args", {{"V", "1"}}}, {"target", "prod"}}}});
  const json* db = Find(c, "RunnerPool", "db");
  REQUIRE(db);
  CHECK((*db)["spec"]["replicas"] == 3);
  CHECK((*db)["spec"]["template"]["resources"] == json{{"memory", "64Mi"}, {"pids", 100}});
  CHECK((*db)["spec"]["template"]["restartPolicy"] == "Never");
  CHECK((*db)["spec"]["template"]["networks"] == json{{{"name", "default"}, {"aliases", {"db"}}}});
  CHECK(Find(c, "Network", "default"));
  CHECK((*Find(c, "Network", "front"))["spec"] ==
        json{{"driver", "bridge"}, {"internal", true}, {"subnet", "10.9.0.0/24"}, {"gateway", "10.9.0.1"}});
  CHECK((*Find(c, "Volume", "cache"))["spec"] == json{{"driver", "local"}, {"labels", {{"keep", "yes"}}}});
}

TEST_CASE("Convert: every field that does not carry over is one line at its place; broken references are errors") {
  Dir d;
  const std::string file = d.Write("compose.yaml",
      "services:\n"
      "  web:\n"
      "    image: busybox\n"
      "    container_name: web1\n"
      "    env_file: .env.web\n"
      "    domainname: example.com\n"
      "    volumes: ['/data', 'logs:/logs:z']\n"
      "    restart: on-failure:3\n"
      "    depends_on: {job: {condition: service_completed_successfully}}\n"
      "    networks: [back]\n"
      "  job: {image: busybox, network_mode: host}\n"
      "  nothing: {command: [true]}\n"
      "volumes:\n  logs: {external: true}\n"
      "secrets:\n  token: {environment: TOKEN}\n");
  compose::LoadOptions opts{{file}, "", {}, Env};
  auto p = compose::LoadProject(opts);
  REQUIRE(p);
  auto c = compose::Convert(*p, d.path.string(), Env);
  const std::string f = file + ":";
  CHECK(Lines(c.unsupported) == std::vector<std::string>{
      f + "16:3: secrets.token: not supported by keelson: secrets from anything but a file (environment, content, external) would put the value in a manifest or need a Swarm; keep it in a file",
      f + "14:10: volumes.logs.external: not supported by keelson: keelson creates the volumes it uses and never touches another's; remove external and let keelson own it",
      f + "11:25: services.job.network_mode: not supported by keelson: attach the Runner to Network objects (spec.networks)",
      f + "4:5: services.web.container_name: not supported by keelson: keelson names containers NAMESPACE.NAME; remove it",
      f + "9:24: services.web.depends_on.job.condition: not supported by keelson: the condition service_completed_successfully (keelson waits for Ready: running, and healthy when it has a healthcheck)",
      f + "6:5: services.web.domainname: not supported by keelson: keelson's Runner has no domainname; remove it, or keep this service on docker compose",
      f + "8:5: services.web.restart: not supported by keelson: a limit on restarts (on-failure:3); keelson restarts with a crash-loop backoff instead",
      f + "7:15: services.web.volumes[0]: not supported by keelson: an anonymous volume; name it under the top-level volumes and mount it by name",
      f + "7:24: services.web.volumes[1]: not supported by keelson: the mount option z (keelson takes ro and rw)",
  });
  CHECK(Lines(c.errors) == std::vector<std::string>{
      f + "12:12: services.nothing: a service needs an image or a build",
      f + "10:16: services.web.networks[0]: network \"back\" is not declared under the top-level networks",
  });
}

TEST_CASE("SplitCommand, ByteQuantity and ObjectName read compose's forms") {
  CHECK(*compose::SplitCommand("echo  'a b' \"c \\\"d\\\"\" e\\ f") == std::vector<std::string>{"echo", "a b", "c \"d\"", "e f"});
  CHECK(compose::SplitCommand("echo 'open").error().message == "unclosed ' in the command");
  CHECK(*compose::ByteQuantity(json("512m")) == "512Mi");
  CHECK(*compose::ByteQuantity(json("1GB")) == "1Gi");
  CHECK(*compose::ByteQuantity(json("1.5g")) == "1536Mi");
  CHECK(*compose::ByteQuantity(json(1000)) == "1000");
  CHECK(*compose::ByteQuantity(json("64k")) == "64Ki");
  CHECK(compose::ByteQuantity(json("lots")).error().message == "\"lots\" is not a size (a number with b, k, m or g)");
  CHECK(compose::ObjectName("My_Service.v2") == "my-service-v2");
}
