// Integration tests: the real engine named by DOCKER_HOST (scripts/test-engine.sh
// starts an isolated one). Without DOCKER_HOST they are skipped (exit 77).

#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
  if (!std::getenv("DOCKER_HOST")) {
    std::cerr << "integration: DOCKER_HOST is not set; skipped (scripts/test-engine.sh start)\n";
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
