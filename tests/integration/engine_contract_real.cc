// The engine contract suite, run against HttpEngine on the real engine.

#include "contract/engine_contract.h"
#include "docker/http_engine.h"

#include <doctest/doctest.h>

namespace keelson::contract {

std::string ContractImage() { return "keelson-test/busybox:1"; }
std::string ContractRegistry() { return "127.0.0.1:5000"; }

std::unique_ptr<docker::Engine> MakeContractEngine() {
  auto endpoint = docker::EndpointFromEnvironment("");
  REQUIRE_MESSAGE(endpoint.has_value(), (endpoint ? "" : endpoint.error().message));
  return std::make_unique<docker::HttpEngine>(*endpoint);
}

}  // namespace keelson::contract
