#include "model/specs.h"

namespace keelson::model {

const char* ToString(RestartPolicy p) {
  switch (p) {
    case RestartPolicy::kAlways: return "Always";
    case RestartPolicy::kOnFailure: return "OnFailure";
    case RestartPolicy::kNever: return "Never";
  }
  return "Always";
}

int IntOrPercent::Resolve(int total, bool round_up) const {
  if (!percent) return std::max(0, value);
  const int scaled = total * value;
  return round_up ? (scaled + 99) / 100 : scaled / 100;
}

}  // namespace keelson::model
