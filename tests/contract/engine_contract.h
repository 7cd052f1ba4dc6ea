#pragma once
// The engine contract: cases every docker::Engine must pass. The unit tests
// link them with a FakeEngine, the integration tests with an HttpEngine on a
// real dockerd, so the fake cannot drift from the engine it models.

#include <memory>
#include <string>

#include "docker/engine.h"

namespace keelson::contract {

/// Defined once per test binary: the engine under test, with ContractImage()
/// present locally.
std::unique_ptr<docker::Engine> MakeContractEngine();
/// A small local image whose default command is a shell and that has `sleep`.
std::string ContractImage();
/// A registry the engine can push to and pull from ("127.0.0.1:5000").
std::string ContractRegistry();

}  // namespace keelson::contract
