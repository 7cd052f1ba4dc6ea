#include "controller/executor.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include <spdlog/spdlog.h>

#include "docker/config_file.h"
#include "model/specs.h"
#include "reconcile/labels.h"
#include "util/secret_file.h"
#include "util/text.h"

namespace keelson::controller {
namespace {

using namespace reconcile;

const char* CodeText(ErrorCode c) {
  switch (c) {
    case ErrorCode::kInvalid: return "invalid";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kUnauthorized: return "unauthorized";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kStorage: return "storage";
    case ErrorCode::kInternal: return "internal";
  }
  return "error";
}

// The password is read when needed and never kept or printed; it goes only
// to the registry it names (apply checks that this is ref's, and so does this).
// Without spec.auth, what `docker login` left for ref's registry in the
// docker CLI's configuration (auths, credsStore, credHelpers), if anything.
Result<std::optional<docker::RegistryAuth>> Auth(const std::optional<model::RegistryAuthSpec>& auth,
                                                 const std::string& ref) {
  if (!auth) {
    auto config = docker::DockerConfig::Load();
    if (!config) return Unexpected(config.error());
    return config->CredentialsFor(model::RegistryOf(ref));
  }
  const std::string registry = model::NormalizeRegistry(auth->registry), from = model::RegistryOf(ref);
  if (registry != from) {
    return Unexpected(ErrorCode::kInvalid, "spec.auth.registry: credentials for " + registry +
                                               " are not sent to " + from + ", the registry of " + ref);
  }
  auto password = ReadSecretFile(auth->password_file);
  if (!password) return Unexpected(ErrorCode::kInvalid, "spec.auth.passwordFile: " + password.error().message);
  return std::optional<docker::RegistryAuth>(docker::RegistryAuth{auth->username, *password, "", registry});
}

// Pull and build progress goes to the debug log, one line per layer state
// change, and to the board (when there is one) for a display.
docker::ProgressFn LogProgress(const std::string& what, ProgressBoard* board) {
  return [what, board](const docker::Progress& p) {
    if (p.total == 0) spdlog::debug("{}: {} {}", what, p.id, p.status);
    if (board) board->Update(what, p);
  };
}

// Takes the operation off the board however it ends.
struct OnBoard {
  ProgressBoard* board;
  std::string what;
  ~OnBoard() {
    if (board) board->Finish(what);
  }
};

Result<void> Void(const Result<std::string>& r) { return r ? Result<void>() : Result<void>(Unexpected(r.error())); }

// "failed to start shim: mkdir .../moby/ID: file exists": the one start
// failure a fresh container cures.
// What dockerd says when an unclean stop left a container's runtime state
// behind: the shim's directory ("failed to start shim: mkdir ...: file
// exists"), or containerd's task ("task ID: already exists", when the engine
// went down while the start was in flight).
bool StaleRuntime(const Error& e) {
  const std::string& m = e.message;
  const bool shim = m.find("failed to start shim") != std::string::npos && m.find("file exists") != std::string::npos;
  const size_t task = m.find("task ");
  return shim || (task != std::string::npos && m.find(": already exists", task) != std::string::npos);
}

Result<void> IgnoreNotFound(Result<void> r) {
  if (!r && r.error().code == ErrorCode::kNotFound) return {};
  return r;
}

}  // namespace

Result<void> Executor::Call(const char* operation, Result<void> r) {
  metrics_.EngineCall(operation, r ? "ok" : CodeText(r.error().code));
  return r;
}

Result<void> Executor::Run(const std::vector<Action>& actions, Ledger& ledger, const Report& report) {
  for (size_t i = 0; i < actions.size();) {
    size_t j = i + 1;
    while (j < actions.size() && Parallel(actions[i], actions[j])) ++j;
    if (j - i > 1) {
      std::vector<Action> batch(actions.begin() + static_cast<long>(i), actions.begin() + static_cast<long>(j));
      if (auto r = RunParallel(batch, ledger, report); !r) return r;
      i = j;
      continue;
    }
    auto r = Execute(actions[i]);
    if (r) Note(actions[i], ledger);
    report(actions[i], r);
    if (!r) return r;
    ++i;
  }
  return {};
}

Result<void> Executor::RunParallel(const std::vector<Action>& batch, Ledger& ledger, const Report& report) {
  // Creates (a scale-up) and removes (a scale-down or a deletion, each
  // perhaps waiting out a stop timeout) are independent, and the engine
  // serves them in parallel; a bound keeps hundreds from flooding it.
  std::vector<Result<void>> results(batch.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < std::min(batch.size(), kParallelActions); ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < batch.size(); i = next++) results[i] = Execute(batch[i]);
    });
  }
  for (auto& t : threads) t.join();
  Result<void> first;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (results[i]) Note(batch[i], ledger);
    report(batch[i], results[i]);
    if (!results[i] && first) first = results[i];
  }
  return first;
}

void Executor::Note(const Action& a, Ledger& ledger) {
  if (const auto* start = std::get_if<StartContainer>(&a); start && start->exit_code && !start->stopped_outside) {
    ++ledger.restarts;
    metrics_.ContainerRestarted(start->name);
  }
  if (const auto* rm = std::get_if<RemoveContainer>(&a); rm && rm->run) {
    ledger.runs.push_back(*rm->run);
    std::lock_guard lock(outputs_mu_);
    if (auto it = outputs_.find(rm->id); it != outputs_.end()) {
      ledger.runs.back().output = std::move(it->second);
      outputs_.erase(it);
    }
    metrics_.EphemeralRun(rm->run->exit_code == 0 ? "completed" : "failed");
  }
  if (const auto* pull = std::get_if<PullImage>(&a)) {
    ledger.pulled = true;
    ledger.brought_image |= pull->absent;
  }
  if (const auto* build = std::get_if<BuildImage>(&a)) {
    ledger.built = true;
    ledger.brought_image |= build->absent;
  }
}

Result<void> Executor::Execute(const Action& action) {
  if (fence_ && !fence_->Held()) return Unexpected(ErrorCode::kUnavailable, kFencedMessage);
  return std::visit(*this, action);
}

Result<void> Executor::RemoveContainerById(const std::string& id, int stop_timeout_s) {
  // Forgotten below, so the events of this stop need no inspect (they lapse
  // unmet when the container had already stopped).
  cache_.Expect(id, {"kill", "die", "stop"}, /*repeats=*/true);
  auto failed = [&](Result<void> r) {
    // Left in some state: the events tell it, and so does an inspect now.
    cache_.Unexpect(id, {"kill", "die", "stop"});
    (void)cache_.RefreshContainer(id);
    return r;
  };
  auto stop = Call("stop", engine_.StopContainer(id, stop_timeout_s));
  if (!stop && stop.error().code != ErrorCode::kNotFound) return failed(stop);
  auto rm = Call("remove", engine_.RemoveContainer(id, true));
  if (!rm && rm.error().code != ErrorCode::kNotFound) return failed(rm);
  cache_.ForgetContainer(id);
  return {};
}

Result<void> Executor::CreateAndStart(const docker::ContainerSpec& spec, int stop_timeout_s) {
  // Inspected after the start (below), so the engine's create and start
  // events tell nothing new: two inspects a container fewer, while the
  // engine is busiest.
  cache_.Expect(spec.name, {"create"});
  auto id = engine_.CreateContainer(spec);
  if (!id && id.error().code == ErrorCode::kConflict) {
    // The name is taken. Ours (a leftover of an older object of that name):
    // remove it and try again. Anyone else's: never touch it.
    auto other = engine_.InspectContainer(spec.name);
    if (other && !IsManaged(other->config.labels)) {
      return Unexpected(ErrorCode::kConflict,
                        "container name " + spec.name + " is taken by a container keelson did not create");
    }
    const std::string theirs = other ? LabelValue(other->config.labels, kStoreLabel) : "";
    if (other && theirs != LabelValue(spec.labels, kStoreLabel)) {
      return Unexpected(ErrorCode::kConflict, "container name " + spec.name +
                                                  " is taken by a container of another keelson store (" + theirs + ")");
    }
    if (other) {
      if (auto r = RemoveContainerById(other->id, stop_timeout_s); !r) return r;
    }
    id = engine_.CreateContainer(spec);
  }
  if (auto r = Call("create", Void(id)); !r) {
    cache_.Unexpect(spec.name, {"create"});
    return r;
  }
  cache_.Expect(*id, {"start"});
  auto started = Call("start", engine_.StartContainer(*id));
  if (!started) cache_.Unexpect(*id, {"start"});
  // Known either way: a failed start leaves a created container.
  if (auto r = cache_.RefreshContainer(*id); !r) return r;
  return started;
}

Result<void> Executor::InSlot(const std::function<Result<void>()>& op) {
  if (!slots_) return op();
  if (!slots_->TryAcquire()) {
    return Unexpected(ErrorCode::kUnavailable, std::string(kNoSlotPrefix) + " (" + std::to_string(slots_->capacity()) +
                                                   " at once, so that other objects keep a worker)");
  }
  auto r = op();
  slots_->Release();
  return r;
}

Result<void> Executor::operator()(const PullImage& a) {
  auto auth = Auth(a.auth, a.ref);
  if (!auth) return Unexpected(auth.error());
  OnBoard shown{board_, "pull " + a.ref};
  auto r = InSlot([&] { return Call("pull", engine_.PullImage(a.ref, *auth, LogProgress(shown.what, board_))); });
  cache_.ForgetImage(a.ref);
  return r;
}

Result<void> Executor::operator()(const BuildImage& a) {
  docker::BuildRequest req;
  req.context_dir = a.build.context;
  req.dockerfile = a.build.dockerfile;
  req.tags = {a.ref};
  req.args = a.build.args;
  req.target = a.build.target;
  OnBoard shown{board_, "build " + a.ref};
  auto r = InSlot([&] { return Call("build", Void(engine_.BuildImage(req, LogProgress(shown.what, board_)))); });
  cache_.ForgetImage(a.ref);
  return r;
}

Result<void> Executor::operator()(const PushImage& a) {
  auto auth = Auth(a.auth, a.ref);
  if (!auth) return Unexpected(auth.error());
  OnBoard shown{board_, "push " + a.ref};
  return InSlot([&] { return Call("push", engine_.PushImage(a.ref, *auth, LogProgress(shown.what, board_))); });
}

Result<void> Executor::operator()(const RemoveImage& a) {
  auto r = IgnoreNotFound(Call("remove_image", engine_.RemoveImage(a.ref, false)));
  cache_.ForgetImage(a.ref);
  return r;
}

Result<void> Executor::operator()(const CreateContainer& a) {
  if (!a.register_runner) return CreateAndStart(a.spec, a.spec.stop_timeout.value_or(10));
  // A runner registered for this replica alone: its JIT configuration goes
  // into the container's environment and nowhere else.
  if (!github_) return Unexpected(ErrorCode::kInternal, "github: this controller cannot register runners");
  auto jit = github_->Register(*a.register_runner, a.spec.name);
  if (!jit) return Unexpected(jit.error());
  docker::ContainerSpec spec = a.spec;
  spec.env.push_back(std::string(kJitConfigEnv) + "=" + jit->encoded);
  spec.labels[reconcile::kRunnerIdLabel] = std::to_string(jit->runner_id);
  auto r = CreateAndStart(spec, spec.stop_timeout.value_or(10));
  if (!r) {
    // Nothing runs with it: the registration goes too (the sweeper would
    // find it otherwise).
    auto seen = engine_.InspectContainer(spec.name);
    if (!seen && seen.error().code == ErrorCode::kNotFound) (void)github_->Deregister(*a.register_runner, jit->runner_id);
  }
  return r;
}

Result<void> Executor::operator()(const StartContainer& a) {
  cache_.Expect(a.id, {"start"});  // inspected below
  auto r = Call("start", engine_.StartContainer(a.id));
  if (!r) cache_.Unexpect(a.id, {"start"});
  if (!r && StaleRuntime(r.error())) {
    // The engine cannot start this container because its runtime state was
    // left behind by an unclean engine stop. A fresh one can start: remove
    // it, and the next pass (after backoff) creates it. Any other start
    // failure (a port taken, the engine shutting down) keeps the container.
    if (RemoveContainerById(a.id, 0)) {
      r = Unexpected(ErrorCode::kUnavailable, r.error().message + "; removed it to create a fresh one");
    }
  }
  if (r) cache_.NoteStopRequested(a.id, false);
  if (auto refresh = cache_.RefreshContainer(a.id); r && !refresh) r = refresh;
  return r;
}

Result<void> Executor::operator()(const RecreateContainer& a) {
  if (auto r = RemoveContainerById(a.id, a.stop_timeout_s); !r) return r;
  return CreateAndStart(a.spec, a.stop_timeout_s);
}

Result<void> Executor::operator()(const RemoveContainer& a) {
  if (a.run) {
    // The replica and its logs go together: keep the tail of what the run
    // printed first (best effort: a run whose output cannot be read is still
    // removed and replaced).
    docker::LogOptions tail;
    tail.tail = kRunOutputLines;
    std::string printed;  // stdout and stderr in the order they came
    docker::CancelFlag never{false};
    auto collect = [&printed](docker::OutputStream, std::string_view data) {
      printed.append(data);
      return true;
    };
    if (engine_.StreamLogs(a.id, tail, collect, never)) {
      std::string output = ValidUtf8(printed);
      if (output.size() > kRunOutputBytes) output = "..." + std::string(Utf8Suffix(output, kRunOutputBytes));
      std::lock_guard lock(outputs_mu_);
      outputs_[a.id] = std::move(output);
    }
  }
  auto r = RemoveContainerById(a.id, a.stop_timeout_s);
  if (!r && a.run) {
    std::lock_guard lock(outputs_mu_);
    outputs_.erase(a.id);  // read again when the removal is retried
  }
  if (r && a.deregister_runner && a.runner_id > 0 && github_) {
    // The container is gone either way; a registration left behind (GitHub
    // away) is the sweeper's to delete, so this pass does not fail for it.
    if (auto d = github_->Deregister(*a.deregister_runner, a.runner_id); !d) {
      spdlog::warn("{}: runner registration {} left for the sweeper: {}", a.name, a.runner_id, d.error().message);
    }
  }
  return r;
}

Result<void> Executor::operator()(const ConnectContainer& a) {
  auto r = Call("connect", engine_.ConnectNetwork(a.attachment.network, a.id, a.attachment.aliases));
  if (auto refresh = cache_.RefreshContainer(a.id); r && !refresh) r = refresh;
  return r;
}

Result<void> Executor::operator()(const DisconnectContainer& a) {
  auto r = Call("disconnect", engine_.DisconnectNetwork(a.attachment.network, a.id, true));
  if (auto refresh = cache_.RefreshContainer(a.id); r && !refresh) r = refresh;
  return r;
}

Result<void> Executor::operator()(const CreateNetwork& a) {
  auto r = Call("create_network", Void(engine_.CreateNetwork(a.spec)));
  if (auto refresh = cache_.RefreshNetwork(a.spec.name); r && !refresh) r = refresh;
  return r;
}

Result<void> Executor::operator()(const ReplaceNetwork& a) {
  if (auto r = IgnoreNotFound(Call("remove_network", engine_.RemoveNetwork(a.id))); !r) return r;
  return (*this)(CreateNetwork{a.spec});
}

Result<void> Executor::operator()(const RemoveNetwork& a) {
  auto r = IgnoreNotFound(Call("remove_network", engine_.RemoveNetwork(a.id.empty() ? a.name : a.id)));
  if (auto refresh = cache_.RefreshNetwork(a.name); r && !refresh) r = refresh;
  return r;
}

Result<void> Executor::operator()(const CreateVolume& a) {
  auto v = engine_.CreateVolume(a.spec);
  auto r = Call("create_volume", v ? Result<void>() : Result<void>(Unexpected(v.error())));
  if (auto refresh = cache_.RefreshVolume(a.spec.name); r && !refresh) r = refresh;
  return r;
}

Result<void> Executor::operator()(const ReplaceVolume& a) {
  if (auto r = IgnoreNotFound(Call("remove_volume", engine_.RemoveVolume(a.spec.name, false))); !r) return r;
  return (*this)(CreateVolume{a.spec});
}

Result<void> Executor::operator()(const RemoveVolume& a) {
  auto r = IgnoreNotFound(Call("remove_volume", engine_.RemoveVolume(a.name, false)));
  if (auto refresh = cache_.RefreshVolume(a.name); r && !refresh) r = refresh;
  return r;
}

}  // namespace keelson::controller
