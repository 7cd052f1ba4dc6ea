// libFuzzer target: any bytes through the YAML parser, the CRD validator and
// the loader must end in objects or error lines, never a crash or a hang; and
// a stream cut into pieces at its document markers (how large files are
// parsed, in parallel) must parse to the same documents as the whole.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "manifest/crds.h"
#include "manifest/document.h"
#include "manifest/loader.h"

namespace {

using namespace keelson::manifest;

void CheckPiecesAgreeWithWhole(const std::string& text) {
  auto whole = ParseYaml(text, "fuzz.yaml");
  std::vector<Document> parts;
  bool failed = false;
  for (const auto& piece : SplitDocuments(text, 1)) {
    auto docs = ParseYaml(piece.text, "fuzz.yaml", {}, piece.first_line);
    if (!docs) {
      failed = true;
      break;
    }
    for (auto& d : *docs) parts.push_back(std::move(d));
  }
  if (!whole) return;  // an invalid stream may fail in pieces anywhere, or not at all
  if (failed || parts.size() != whole->size()) __builtin_trap();
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].value != (*whole)[i].value) __builtin_trap();
    if (parts[i].start.line != (*whole)[i].start.line) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto result = LoadManifests({Source{"fuzz.yaml", text}}, "default", CrdSet::Builtin());
  for (const auto& e : result.errors) {
    if (e.ToString().empty()) __builtin_trap();  // every error must say something
  }
  for (const auto& o : result.objects) {
    if (o.object.meta.name.empty()) __builtin_trap();  // a loaded object always has a name
    (void)EmitYaml(o.object.spec);
  }
  CheckPiecesAgreeWithWhole(text);
  return 0;
}
