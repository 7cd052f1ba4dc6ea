#pragma once
// FakeEngine: an in-memory model of a Docker engine (containers, images,
// networks, volumes, events), not a script of expected calls. It answers as
// dockerd 20.10 does, which the contract suite (tests/contract/) checks by
// running the same cases against both. Failure injection: the next calls
// fail, the engine is down, or slow.

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "docker/engine.h"
#include "util/clock.h"

namespace keelson::testing {

class FakeEngine : public docker::Engine {
 public:
  FakeEngine();

  // --- the world, for tests -------------------------------------------------------
  /// An image present locally (env and cmd are its config, as `docker import -c` sets).
  void AddImage(const std::string& ref, std::vector<std::string> env = {"PATH=/bin"},
                std::vector<std::string> cmd = {"/bin/sh"});
  /// An image a pull of `ref` finds in a registry.
  void AddRegistryImage(const std::string& ref);
  /// A registry at `host` answers (pulls and pushes to a host no image or
  /// call named fail as unreachable, as a closed port does). Docker Hub
  /// (docker.io) answers from the start.
  void AddRegistry(const std::string& host);
  /// Someone pushed new content under `ref`: the next pull gets another digest.
  void PushToRegistry(const std::string& ref);
  /// A pull of `ref` would find it (it was added, or pushed).
  bool InRegistry(const std::string& ref) const;
  /// The container is left "dead", as an engine that stopped uncleanly
  /// leaves it: it can never start again.
  void KillToDead(const std::string& ref);
  /// The container's main process exits with `code`, as if on its own.
  void ExitContainer(const std::string& ref, int code);
  /// The container's healthcheck reports "starting", "healthy" or "unhealthy".
  void SetHealth(const std::string& ref, const std::string& health);
  void AppendLogs(const std::string& ref, const std::string& out, const std::string& err);
  /// What an exec in a running container does, given the container's name
  /// (default: exits 0, says nothing); an error is the call's.
  using ExecHandler = std::function<Result<int>(const std::string& name, const docker::ExecRequest&)>;
  void SetExecHandler(ExecHandler handler);

  /// Timestamps (created, startedAt, finishedAt) come from `clock` (not owned)
  /// instead of the system clock.
  void SetClock(const Clock* clock) { clock_ = clock; }

  // --- failure injection ----------------------------------------------------------
  /// The next `times` calls (of any method) fail with `error`.
  void FailNext(Error error, int times = 1);
  /// Down: every call fails with kUnavailable and open event streams end.
  void SetDown(bool down);
  /// Every call first sleeps this long.
  void SetLatency(std::chrono::milliseconds latency);
  /// The most calls of `method` that were in their latency at once.
  int PeakConcurrency(const std::string& method) const;

  /// Calls made so far, by method name ("ListContainers", ...).
  std::map<std::string, int> Calls() const;
  int TotalCalls() const;
  void ResetCalls();

  // --- docker::Engine -------------------------------------------------------------
  Result<void> Ping() override;
  Result<docker::EngineVersion> Version() override;
  Result<docker::EngineInfo> Info() override;

  Result<std::vector<docker::ContainerSummary>> ListContainers(const docker::ListFilter& filter) override;
  Result<docker::Container> InspectContainer(const std::string& ref) override;
  Result<std::string> CreateContainer(const docker::ContainerSpec& spec) override;
  Result<void> StartContainer(const std::string& ref) override;
  Result<void> StopContainer(const std::string& ref, int timeout_s) override;
  Result<void> RemoveContainer(const std::string& ref, bool force) override;
  Result<docker::Logs> ContainerLogs(const std::string& ref, const docker::LogOptions& options) override;
  Result<void> StreamLogs(const std::string& ref, const docker::LogOptions& options, const docker::OutputSink& sink,
                          docker::CancelFlag& cancel) override;
  Result<docker::Stats> ContainerStats(const std::string& ref, docker::StatsMode mode) override;
  Result<int> Exec(const std::string& ref, const docker::ExecRequest& request) override;

  Result<docker::Image> InspectImage(const std::string& ref) override;
  Result<void> PullImage(const std::string& ref, const std::optional<docker::RegistryAuth>& auth,
                         const docker::ProgressFn& progress) override;
  Result<void> PushImage(const std::string& ref, const std::optional<docker::RegistryAuth>& auth,
                         const docker::ProgressFn& progress) override;
  Result<void> TagImage(const std::string& source, const std::string& target) override;
  Result<void> RemoveImage(const std::string& ref, bool force) override;
  Result<std::string> BuildImage(const docker::BuildRequest& request, const docker::ProgressFn& progress) override;

  Result<std::vector<docker::Network>> ListNetworks(const docker::ListFilter& filter) override;
  Result<docker::Network> InspectNetwork(const std::string& ref) override;
  Result<std::string> CreateNetwork(const docker::NetworkSpec& spec) override;
  Result<void> RemoveNetwork(const std::string& ref) override;
  Result<void> ConnectNetwork(const std::string& network, const std::string& container,
                              const std::vector<std::string>& aliases) override;
  Result<void> DisconnectNetwork(const std::string& network, const std::string& container, bool force) override;

  Result<std::vector<docker::Volume>> ListVolumes(const docker::ListFilter& filter) override;
  Result<docker::Volume> InspectVolume(const std::string& name) override;
  Result<docker::Volume> CreateVolume(const docker::VolumeSpec& spec) override;
  Result<void> RemoveVolume(const std::string& name, bool force) override;

  Result<void> StreamEvents(const docker::EventFilter& filter,
                            const std::function<void(const docker::Event&)>& on_event,
                            docker::CancelFlag& cancel) override;

 private:
  struct FakeImage {
    docker::Image image;  ///< with its config: env, cmd, ...
  };
  struct FakeContainer {
    docker::Container c;
    docker::Logs logs;
  };

  Result<void> Enter(const char* method);  ///< counts, sleeps, injects failures; lock not held
  std::string NewId();
  FakeContainer* FindContainer(const std::string& ref);
  FakeImage* FindImage(const std::string& ref);
  docker::Network* FindNetwork(const std::string& ref);
  bool ImageInUse(const std::string& id) const;
  void Emit(const std::string& type, const std::string& action, const std::string& id,
            docker::Labels attributes);
  void ContainerEvent(const FakeContainer& fc, const std::string& action, docker::Labels extra = {});
  void Exited(FakeContainer& fc, int code);
  Result<void> Connect(docker::Network& n, FakeContainer& fc, const std::vector<std::string>& aliases);
  std::vector<std::string> Endpoints(const docker::Network& n) const;  ///< running containers on n

  std::string Now() const;  ///< RFC 3339, from clock_ or the system clock

  const Clock* clock_ = nullptr;
  ExecHandler exec_handler_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  uint64_t next_id_ = 1;
  std::map<std::string, FakeContainer> containers_;  ///< by id
  std::map<std::string, FakeImage> images_;          ///< by id
  struct RegistryEntry {
    int version = 0;                  ///< the content's version: the digest changes with it
    std::optional<FakeImage> pushed;  ///< what a push put there (a pull brings back the same image)
  };
  std::map<std::string, RegistryEntry> registry_;  ///< refs a pull finds
  std::set<std::string> registry_hosts_{"docker.io"};
  std::map<std::string, docker::Network> networks_;  ///< by id
  std::map<std::string, docker::Volume> volumes_;    ///< by name
  std::vector<docker::Event> events_;                ///< the whole history
  std::map<std::string, int> calls_;
  std::map<std::string, int> in_flight_, peak_in_flight_;
  std::deque<Error> failures_;
  bool down_ = false;
  std::chrono::milliseconds latency_{0};
  int64_t clock_ns_ = 1700000000LL * 1000000000LL;
};

}  // namespace keelson::testing
