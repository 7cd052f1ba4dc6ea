#pragma once
// The Docker Engine API's JSON, mapped to and from keelson's types. Pure
// functions, used by HttpEngine and tested on recorded engine answers.
// Internal to src/docker/.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "docker/engine.h"
#include "docker/types.h"
#include "util/result.h"
#include "util/url.h"

namespace keelson::docker::wire {

using nlohmann::json;

using keelson::UrlEncode;  ///< util/url.h
/// RFC 4648 base64url with padding (Go's base64.URLEncoding).
std::string Base64Url(std::string_view s);

/// `filters=` value for label (and other) filters, URL-encoded; "" when none.
std::string Filters(const std::vector<std::string>& labels,
                    const std::vector<std::pair<std::string, std::string>>& extra = {});

/// Maps an HTTP error status and the engine's {"message": ...} body to an Error.
Error StatusError(long status, const std::string& body, const std::string& context);
/// Classifies an error that arrived inside a pull/push/build stream.
Error StreamError(const std::string& message, const std::string& context);

json ContainerCreateBody(const ContainerSpec& spec);
Container ParseContainer(const json& j);
ContainerSummary ParseContainerSummary(const json& j);
/// "Up 5 minutes (healthy)" -> "healthy"; "" when the status has no health.
std::string HealthFromStatus(const std::string& status);

Image ParseImage(const json& j);  std::string AuthHeader(const RegistryAuth& auth);

json NetworkCreateBody(const NetworkSpec& spec);
Network ParseNetwork(const json& j);
json VolumeCreateBody(const VolumeSpec& spec);
Volume ParseVolume(const json& j);

Event ParseEvent(const json& j);
Stats ParseStats(const json& j);
EngineVersion ParseVersion(const json& j);
EngineInfo ParseInfo(const json& j);

/// Splits a logs body into stdout and stderr. Bodies framed with the 8-byte
/// stream headers ({stream, 0, 0, 0, size32be}) are demultiplexed; anything
/// else (a TTY container's raw stream) is all stdout.
Logs Demultiplex(std::string_view body);

/// Demultiplex for a stream: fed chunks as they arrive, it hands each
/// frame's payload to the sink as soon as it is whole. `framed` unknown:
/// decided from the first 8 bytes, as Demultiplex does.
class Demuxer {
 public:
  Demuxer(OutputSink sink, std::optional<bool> framed) : sink_(std::move(sink)), framed_(framed) {}
  /// False once the sink asked to stop.
  bool Feed(std::string_view data);
  /// The end of the stream: what is left of a raw stream goes out.
  void Finish();

 private:
  OutputSink sink_;
  std::optional<bool> framed_;
  std::string pending_;
};

/// One line of a pull, push or build stream: its progress, or the error it
/// carries (errors arrive inside a 200 response).
struct StreamLine {
  Progress progress;
  std::string error;     ///< non-empty: the operation failed
  std::string image_id;  ///< build: {"aux": {"ID": ...}}
};
StreamLine ParseStreamLine(const std::string& line);

/// "1.41" < "1.47"; false when either does not parse.
bool ApiVersionLess(const std::string& a, const std::string& b);

}  // namespace keelson::docker::wire
