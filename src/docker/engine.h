#pragma once
// docker::Engine: the Docker Engine as keelson uses it, in keelson's own
// types only, split by resource. Only what keelson calls is here.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "docker/types.h"
#include "util/result.h"

namespace keelson::docker {

// The engine's seams, one per resource, so that a backend of another kind
// (Swarm services beside containers) implements the parts it has, and each
// user names the part it needs. Every method is safe to call from several
// threads at once. Errors carry the engine's own message and a code:
// kNotFound, kConflict (exists, in use), kInvalid (refused as malformed),
// kUnauthorized, kUnavailable/kTimeout (transient: the engine is down, slow
// or failing; retry with backoff).

class ContainerEngine {
 public:
  virtual ~ContainerEngine() = default;
  // `ref` is an id, an unambiguous id prefix, or a name.
  virtual Result<std::vector<ContainerSummary>> ListContainers(const ListFilter& filter) = 0;
  virtual Result<Container> InspectContainer(const std::string& ref) = 0;
  /// Creates (not starts) the container and connects it to every network of
  /// spec.networks. Returns its id. kConflict if the name is taken, kNotFound
  /// if the image is missing (create never pulls).
  virtual Result<std::string> CreateContainer(const ContainerSpec& spec) = 0;
  virtual Result<void> StartContainer(const std::string& ref) = 0;  ///< no-op if running
  /// SIGTERM, then SIGKILL after timeout_s. No-op if not running.
  virtual Result<void> StopContainer(const std::string& ref, int timeout_s) = 0;
  /// force: kill first if running. Anonymous volumes go with it.
  virtual Result<void> RemoveContainer(const std::string& ref, bool force) = 0;
  /// For `keelson logs` and `top` (the everyday verbs), and the output a
  /// finished run leaves behind.
  virtual Result<Logs> ContainerLogs(const std::string& ref, const LogOptions& options) = 0;
  /// The output as it arrives (with options.follow, until the container
  /// stops, `sink` returns false, or `cancel` is set).
  virtual Result<void> StreamLogs(const std::string& ref, const LogOptions& options, const OutputSink& sink,
                                  CancelFlag& cancel) = 0;
  virtual Result<Stats> ContainerStats(const std::string& ref, StatsMode mode) = 0;
  /// Runs a command in a running container (kConflict when it is not
  /// running) and returns its exit code.
  virtual Result<int> Exec(const std::string& ref, const ExecRequest& request) = 0;
};

class ImageEngine {
 public:
  virtual ~ImageEngine() = default;
  virtual Result<Image> InspectImage(const std::string& ref) = 0;
  /// Errors that arrive inside the progress stream are returned as errors.
  virtual Result<void> PullImage(const std::string& ref, const std::optional<RegistryAuth>& auth,
                                 const ProgressFn& progress) = 0;
  virtual Result<void> PushImage(const std::string& ref, const std::optional<RegistryAuth>& auth,
                                 const ProgressFn& progress) = 0;
  /// For Image.spec.tags (the image pipeline).
  virtual Result<void> TagImage(const std::string& source, const std::string& target) = 0;
  virtual Result<void> RemoveImage(const std::string& ref, bool force) = 0;
  /// Builds from a context directory; returns the new image's id.
  virtual Result<std::string> BuildImage(const BuildRequest& request, const ProgressFn& progress) = 0;
};

class NetworkEngine {
 public:
  virtual ~NetworkEngine() = default;
  // `ref` is an id or a name.
  virtual Result<std::vector<Network>> ListNetworks(const ListFilter& filter) = 0;
  virtual Result<Network> InspectNetwork(const std::string& ref) = 0;
  virtual Result<std::string> CreateNetwork(const NetworkSpec& spec) = 0;  ///< kConflict if the name is taken
  virtual Result<void> RemoveNetwork(const std::string& ref) = 0;  ///< kConflict while containers use it
  virtual Result<void> ConnectNetwork(const std::string& network, const std::string& container,
                                      const std::vector<std::string>& aliases) = 0;
  virtual Result<void> DisconnectNetwork(const std::string& network, const std::string& container,
                                         bool force) = 0;
};

class VolumeEngine {
 public:
  virtual ~VolumeEngine() = default;
  // `name` is the volume's name.
  virtual Result<std::vector<Volume>> ListVolumes(const ListFilter& filter) = 0;
  virtual Result<Volume> InspectVolume(const std::string& name) = 0;
  /// Like the engine: creating an existing volume with the same driver returns it.
  virtual Result<Volume> CreateVolume(const VolumeSpec& spec) = 0;
  virtual Result<void> RemoveVolume(const std::string& name, bool force) = 0;  ///< kConflict while in use
};

class EventSource {
 public:
  virtual ~EventSource() = default;
  /// Streams events until `cancel` is set (then returns ok) or the stream
  /// breaks (then returns the error: the caller reconnects and resyncs).
  /// `on_event` runs on the calling thread.
  virtual Result<void> StreamEvents(const EventFilter& filter, const std::function<void(const Event&)>& on_event,
                                    CancelFlag& cancel) = 0;
};

/// A Docker Engine, all of it: HttpEngine (http_engine.h) talks to a real
/// one; tests use FakeEngine (tests/fake_engine.h), and one contract suite
/// runs against both.
class Engine : public ContainerEngine,
               public ImageEngine,
               public NetworkEngine,
               public VolumeEngine,
               public EventSource {
 public:
  virtual Result<void> Ping() = 0;
  virtual Result<EngineVersion> Version() = 0;
  virtual Result<EngineInfo> Info() = 0;
};

}  // namespace keelson::docker
