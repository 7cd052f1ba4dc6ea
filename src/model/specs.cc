#include "model/specs.h"

#include <cctype>

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

std::string RegistryOf(const std::string& image) {
  const std::string name = image.substr(0, image.find('@'));
  const auto slash = name.find('/');
  if (slash == std::string::npos) return "docker.io";
  const std::string first = name.substr(0, slash);
  if (first.find('.') != std::string::npos || first.find(':') != std::string::npos || first == "localhost") {
    return NormalizeRegistry(first);
  }
  return "docker.io";
}

std::string NormalizeRegistry(const std::string& server) {
  std::string host = server;
  if (auto scheme = host.find("://"); scheme != std::string::npos) host.erase(0, scheme + 3);
  host = host.substr(0, host.find('/'));
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (host == "index.docker.io" || host == "registry-1.docker.io") return "docker.io";
  return host;
}

}  // namespace keelson::model
