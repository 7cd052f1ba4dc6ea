#pragma once
// What long operations are doing now (pulls: bytes and layers; builds: the
// step), for a display to show (`controller --once` on a terminal).
// Thread-safe; an operation is on the board from its first progress line
// until it ends.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "docker/types.h"

namespace keelson::controller {

class ProgressBoard {
 public:
  /// One progress line of `what` ("pull busybox:1", "build ci/runner:1").
  void Update(const std::string& what, const docker::Progress& p);
  void Finish(const std::string& what);
  /// A line per operation: "pull busybox:1: 12.3 of 27.1 MB, 2 of 5 layers
  /// done", "build ci/runner:1: Step 3/7 : RUN make".
  std::vector<std::string> Lines() const;

 private:
  struct Layer {
    int64_t current = 0, total = 0;
    bool done = false;
  };
  struct Operation {
    std::map<std::string, Layer> layers;
    std::string step;  ///< a build's last "Step N/M" line
  };
  mutable std::mutex mu_;
  std::map<std::string, Operation> ops_;
};

}  // namespace keelson::controller
