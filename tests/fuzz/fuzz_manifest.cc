// libFuzzer target: any bytes through the YAML parser, the CRD validator and
// the loader must end in objects or error lines, never a crash or a hang.

#include <cstddef>
#include <cstdint>
#include <string>

#include "manifest/crds.h"
#include "manifest/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace keelson::manifest;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto result = LoadManifests({Source{"fuzz.yaml", text}}, "default", CrdSet::Builtin());
  for (const auto& e : result.errors) {
    if (e.ToString().empty()) __builtin_trap();  // every error must say something
  }
  for (const auto& o : result.objects) {
    if (o.object.meta.name.empty()) __builtin_trap();  // a loaded object always has a name
    (void)EmitYaml(o.object.spec);
  }
  return 0;
}
