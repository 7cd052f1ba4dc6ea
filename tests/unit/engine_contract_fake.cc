// The engine contract suite, run against FakeEngine.

#include "contract/engine_contract.h"
#include "fake_engine.h"

namespace keelson::contract {

std::string ContractImage() { return "keelson-test/busybox:1"; }
std::string ContractRegistry() { return "127.0.0.1:5000"; }

std::unique_ptr<docker::Engine> MakeContractEngine() {
  auto fake = std::make_unique<testing::FakeEngine>();
  fake->AddImage(ContractImage());
  fake->AddRegistry(ContractRegistry());
  return fake;
}

}  // namespace keelson::contract
