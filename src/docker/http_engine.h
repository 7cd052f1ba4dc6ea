#pragma once
// HttpEngine: docker::Engine over the Engine API (unix socket, TCP, TLS).

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "docker/endpoint.h"
#include "docker/engine.h"
#include "docker/http_client.h"

namespace keelson::docker {

/// The API versions keelson speaks: 1.41 (Docker 20.10, Debian 12's) and up.
inline constexpr const char* kMinApiVersion = "1.41";
inline constexpr const char* kMaxApiVersion = "1.47";

class HttpEngine : public Engine {
 public:
  struct Options {
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds request_timeout{60000};  ///< per request; none on streams
    /// Pulls and pushes fail when nothing arrives for this long (a registry
    /// that accepts the connection and never answers).
    std::chrono::seconds pull_idle_timeout{120};
    /// Builds too; longer, since a RUN step may be silent for minutes.
    std::chrono::seconds build_idle_timeout{600};
  };
  explicit HttpEngine(Endpoint endpoint) : HttpEngine(std::move(endpoint), Options{}) {}
  HttpEngine(Endpoint endpoint, Options options);

  /// The API version in use, negotiating it first if needed (GET /_ping, the
  /// lower of the engine's and kMaxApiVersion). Negotiation is retried on the
  /// next call while the engine is unreachable. kInvalid if the engine is
  /// older than kMinApiVersion or requires newer than kMaxApiVersion.
  Result<std::string> ApiVersion();

  /// Requests sent so far (the version negotiation's included): what the
  /// controller's metrics and the benchmarks count as engine calls.
  uint64_t Requests() const { return requests_; }

  /// Aborts every request in flight and refuses later ones (kUnavailable),
  /// so a process can stop within a second whatever the engine does.
  void Shutdown();

  Result<void> Ping() override;
  Result<EngineVersion> Version() override;
  Result<EngineInfo> Info() override;

  Result<std::vector<ContainerSummary>> ListContainers(const ListFilter& filter) override;
  Result<Container> InspectContainer(const std::string& ref) override;
  Result<std::string> CreateContainer(const ContainerSpec& spec) override;
  Result<void> StartContainer(const std::string& ref) override;
  Result<void> StopContainer(const std::string& ref, int timeout_s) override;
  Result<void> RemoveContainer(const std::string& ref, bool force) override;
  Result<Logs> ContainerLogs(const std::string& ref, const LogOptions& options) override;
  Result<void> StreamLogs(const std::string& ref, const LogOptions& options, const OutputSink& sink,
                          CancelFlag& cancel) override;
  Result<Stats> ContainerStats(const std::string& ref, StatsMode mode) override;
  Result<int> Exec(const std::string& ref, const ExecRequest& request) override;

  Result<Image> InspectImage(const std::string& ref) override;
  Result<void> PullImage(const std::string& ref, const std::optional<RegistryAuth>& auth,
                         const ProgressFn& progress) override;
  Result<void> PushImage(const std::string& ref, const std::optional<RegistryAuth>& auth,
                         const ProgressFn& progress) override;
  Result<void> TagImage(const std::string& source, const std::string& target) override;
  Result<void> RemoveImage(const std::string& ref, bool force) override;
  Result<std::string> BuildImage(const BuildRequest& request, const ProgressFn& progress) override;

  Result<std::vector<Network>> ListNetworks(const ListFilter& filter) override;
  Result<Network> InspectNetwork(const std::string& ref) override;
  Result<std::string> CreateNetwork(const NetworkSpec& spec) override;
  Result<void> RemoveNetwork(const std::string& ref) override;
  Result<void> ConnectNetwork(const std::string& network, const std::string& container,
                              const std::vector<std::string>& aliases) override;
  Result<void> DisconnectNetwork(const std::string& network, const std::string& container, bool force) override;

  Result<std::vector<Volume>> ListVolumes(const ListFilter& filter) override;
  Result<Volume> InspectVolume(const std::string& name) override;
  Result<Volume> CreateVolume(const VolumeSpec& spec) override;
  Result<void> RemoveVolume(const std::string& name, bool force) override;

  Result<void> StreamEvents(const EventFilter& filter, const std::function<void(const Event&)>& on_event,
                            CancelFlag& cancel) override;

 private:
  std::atomic<uint64_t> requests_{0};
  /// Sends with the negotiated version prefixed; an HTTP error status becomes
  /// an Error whose message starts with `context`.
  Result<HttpResponse> Send(HttpRequest request, const std::string& context);
  Result<std::string> SendForBody(HttpRequest request, const std::string& context);
  Result<void> SendForNothing(HttpRequest request, const std::string& context);
  /// A pull/push/build stream: progress lines to `progress`, the first error
  /// line becomes the result; returns the image id a build reports.
  Result<std::string> Stream(HttpRequest request, const std::string& context, const ProgressFn& progress);

  HttpClient http_;
  Options options_;
  std::mutex mu_;
  std::string api_version_;  ///< empty until negotiated
  EngineVersion version_;    ///< from negotiation
};

}  // namespace keelson::docker
