// engine_bench: times a fixed sequence of Engine API calls through HttpEngine,
// for scripts/bench/engine_client.sh to compare with curl.
//
//   engine_bench inspect NAME COUNT | list LABEL COUNT | create-remove IMAGE PREFIX COUNT
// Prints the elapsed seconds.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "docker/http_engine.h"

using namespace keelson::docker;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: engine_bench inspect NAME N | list LABEL N | create-remove IMAGE PREFIX N\n");
    return 2;
  }
  auto endpoint = EndpointFromEnvironment("");
  if (!endpoint) return std::fprintf(stderr, "%s\n", endpoint.error().message.c_str()), 1;
  HttpEngine engine(*endpoint);
  if (auto v = engine.ApiVersion(); !v) return std::fprintf(stderr, "%s\n", v.error().message.c_str()), 1;
  const std::string op = argv[1];
  const int n = std::atoi(argv[argc - 1]);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    bool ok = true;
    if (op == "inspect") {
      ok = engine.InspectContainer(argv[2]).has_value();
    } else if (op == "list") {
      ok = engine.ListContainers({{argv[2]}, true}).has_value();
    } else if (op == "create-remove") {
      ContainerSpec spec;
      spec.name = std::string(argv[3]) + std::to_string(i);
      spec.image = argv[2];
      ok = engine.CreateContainer(spec).has_value() && engine.RemoveContainer(spec.name, false).has_value();
    }
    if (!ok) return std::fprintf(stderr, "engine_bench: %s failed\n", op.c_str()), 1;
  }
  std::printf("%.6f\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}
