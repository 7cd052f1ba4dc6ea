#include "docker/http_engine.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <poll.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "docker/tar.h"
#include "docker/wire.h"

namespace keelson::docker {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

HttpRequest Get(std::string target) {
  HttpRequest r;
  r.target = std::move(target);
  return r;
}
HttpRequest Post(std::string target, std::string body = "") {
  HttpRequest r;
  r.method = "POST";
  r.target = std::move(target);
  r.body = std::move(body);
  return r;
}
HttpRequest Delete(std::string target) {
  HttpRequest r;
  r.method = "DELETE";
  r.target = std::move(target);
  return r;
}

Result<json> ParseJson(Result<std::string> body, const std::string& context) {
  if (!body) return Unexpected(body.error());
  auto j = json::parse(*body, nullptr, false);
  if (j.is_discarded()) return Unexpected(ErrorCode::kInternal, context + ": the engine sent malformed JSON");
  return j;
}

std::string Q(const std::string& s) { return wire::UrlEncode(s); }

// "name:tag" -> {"name", "tag"}; digests and registry ports are respected.
std::pair<std::string, std::string> SplitTag(const std::string& ref) {
  if (ref.find('@') != std::string::npos) return {ref, ""};
  auto colon = ref.rfind(':');
  auto slash = ref.rfind('/');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) return {ref, "latest"};
  return {ref.substr(0, colon), ref.substr(colon + 1)};
}

}  // namespace

HttpEngine::HttpEngine(Endpoint endpoint, Options options)
    : http_(std::move(endpoint), HttpClient::Options{options.connect_timeout}), options_(options) {}

Result<std::string> HttpEngine::ApiVersion() {
  std::lock_guard lock(mu_);
  if (!api_version_.empty()) return api_version_;
  HttpRequest ping = Get("/_ping");
  ping.timeout = options_.request_timeout;
  auto r = http_.Send(ping);
  if (!r) return Unexpected(r.error());
  std::string engine_max = r->headers.count("api-version") ? r->headers["api-version"] : "";
  HttpRequest version = Get("/version");
  version.timeout = options_.request_timeout;
  auto v = http_.Send(version);
  if (!v) return Unexpected(v.error());
  if (v->status != 200) return Unexpected(wire::StatusError(v->status, v->body, "engine: GET /version"));
  version_ = wire::ParseVersion(json::parse(v->body, nullptr, false));
  if (engine_max.empty()) engine_max = version_.api_version;
  const std::string where = "engine " + http_.endpoint().ToString() + ": ";
  if (wire::ApiVersionLess(engine_max, kMinApiVersion)) {
    return Unexpected(ErrorCode::kInvalid, where + "API " + engine_max + " (Docker " + version_.version +
                                               ") is too old; keelson needs API " + kMinApiVersion +
                                               " (Docker 20.10) or newer");
  }
  if (!version_.min_api_version.empty() && wire::ApiVersionLess(kMaxApiVersion, version_.min_api_version)) {
    return Unexpected(ErrorCode::kInvalid, where + "the engine requires API " + version_.min_api_version +
                                               " or newer; keelson speaks up to " + kMaxApiVersion);
  }
  api_version_ = wire::ApiVersionLess(engine_max, kMaxApiVersion) ? engine_max : kMaxApiVersion;
  version_.negotiated = api_version_;
  return api_version_;
}

Result<HttpResponse> HttpEngine::Send(HttpRequest request, const std::string& context) {
  auto version = ApiVersion();
  if (!version) return Unexpected(version.error());
  request.target = "/v" + *version + request.target;
  ++requests_;
  if (request.timeout.count() == 0 && !request.on_line && !request.on_data) request.timeout = options_.request_timeout;
  auto r = http_.Send(request);
  if (!r) return Unexpected(Error{r.error().code, context + ": " + r.error().message});
  if (r->status >= 400) return Unexpected(wire::StatusError(r->status, r->body, context));
  return r;
}

Result<std::string> HttpEngine::SendForBody(HttpRequest request, const std::string& context) {
  auto r = Send(std::move(request), context);
  if (!r) return Unexpected(r.error());
  return std::move(r->body);
}

Result<void> HttpEngine::SendForNothing(HttpRequest request, const std::string& context) {
  auto r = Send(std::move(request), context);
  if (!r) return Unexpected(r.error());
  return {};
}

void HttpEngine::Shutdown() { http_.Shutdown(); }

Result<std::string> HttpEngine::Stream(HttpRequest request, const std::string& context,
                                       const ProgressFn& progress) {
  std::string error, image_id;
  request.on_line = [&](const std::string& line) {
    auto parsed = wire::ParseStreamLine(line);
    if (!parsed.error.empty()) {
      error = parsed.error;
      return false;
    }
    if (!parsed.image_id.empty()) image_id = parsed.image_id;
    if (progress) progress(parsed.progress);
    return true;
  };
  auto r = Send(std::move(request), context);
  if (!r) return Unexpected(r.error());
  if (!error.empty()) return Unexpected(wire::StreamError(error, context));
  return image_id;
}

// --- engine ---------------------------------------------------------------------

Result<void> HttpEngine::Ping() {
  HttpRequest r = Get("/_ping");
  r.timeout = options_.request_timeout;
  auto resp = http_.Send(r);
  if (!resp) return Unexpected(resp.error());
  if (resp->status != 200) return Unexpected(wire::StatusError(resp->status, resp->body, "engine: ping"));
  return {};
}

Result<EngineVersion> HttpEngine::Version() {
  if (auto v = ApiVersion(); !v) return Unexpected(v.error());
  std::lock_guard lock(mu_);
  return version_;
}

Result<EngineInfo> HttpEngine::Info() {
  auto j = ParseJson(SendForBody(Get("/info"), "engine: info"), "engine: info");
  if (!j) return Unexpected(j.error());
  return wire::ParseInfo(*j);
}

// --- containers -----------------------------------------------------------------

Result<std::vector<ContainerSummary>> HttpEngine::ListContainers(const ListFilter& filter) {
  std::string target = std::string("/containers/json?all=") + (filter.all ? "1" : "0");
  if (auto f = wire::Filters(filter.labels); !f.empty()) target += "&filters=" + f;
  auto j = ParseJson(SendForBody(Get(target), "list containers"), "list containers");
  if (!j) return Unexpected(j.error());
  std::vector<ContainerSummary> out;
  for (const auto& c : *j) out.push_back(wire::ParseContainerSummary(c));
  return out;
}

Result<Container> HttpEngine::InspectContainer(const std::string& ref) {
  const std::string ctx = "inspect container " + ref;
  auto j = ParseJson(SendForBody(Get("/containers/" + Q(ref) + "/json"), ctx), ctx);
  if (!j) return Unexpected(j.error());
  return wire::ParseContainer(*j);
}

Result<std::string> HttpEngine::CreateContainer(const ContainerSpec& spec) {
  const std::string ctx = "create container " + spec.name;
  std::string target = "/containers/create";
  if (!spec.name.empty()) target += "?name=" + Q(spec.name);
  auto j = ParseJson(SendForBody(Post(target, wire::ContainerCreateBody(spec).dump()), ctx), ctx);
  if (!j) return Unexpected(j.error());
  std::string id = j->value("Id", "");
  for (size_t i = 1; i < spec.networks.size(); ++i) {
    const auto& n = spec.networks[i];
    if (auto r = ConnectNetwork(n.network, id, n.aliases); !r) {
      // Leave nothing half-made: the caller sees one failed create.
      (void)RemoveContainer(id, true);
      return Unexpected(Error{r.error().code, ctx + ": " + r.error().message});
    }
  }
  return id;
}

Result<void> HttpEngine::StartContainer(const std::string& ref) {
  // 304 Not Modified: already running.
  return SendForNothing(Post("/containers/" + Q(ref) + "/start"), "start container " + ref);
}

Result<void> HttpEngine::StopContainer(const std::string& ref, int timeout_s) {
  HttpRequest r = Post("/containers/" + Q(ref) + "/stop?t=" + std::to_string(timeout_s));
  r.timeout = options_.request_timeout + std::chrono::seconds(timeout_s);
  return SendForNothing(std::move(r), "stop container " + ref);
}

Result<void> HttpEngine::RemoveContainer(const std::string& ref, bool force) {
  return SendForNothing(Delete("/containers/" + Q(ref) + "?v=1&force=" + (force ? "1" : "0")),
                        "remove container " + ref);
}

namespace {

std::string LogsTarget(const std::string& ref, const LogOptions& options) {
  return "/containers/" + wire::UrlEncode(ref) + "/logs?stdout=" + (options.stdout_ ? "1" : "0") +
         "&stderr=" + (options.stderr_ ? "1" : "0") +
         "&tail=" + (options.tail < 0 ? std::string("all") : std::to_string(options.tail)) +
         (options.timestamps ? "&timestamps=1" : "") +
         (options.since > 0 ? "&since=" + std::to_string(options.since) : "") + (options.follow ? "&follow=1" : "");
}

}  // namespace

Result<Logs> HttpEngine::ContainerLogs(const std::string& ref, const LogOptions& options) {
  LogOptions once = options;
  once.follow = false;
  auto body = SendForBody(Get(LogsTarget(ref, once)), "logs of container " + ref);
  if (!body) return Unexpected(body.error());
  return wire::Demultiplex(*body);
}

Result<void> HttpEngine::StreamLogs(const std::string& ref, const LogOptions& options, const OutputSink& sink,
                                    CancelFlag& cancel) {
  wire::Demuxer demux(sink, std::nullopt);
  HttpRequest r = Get(LogsTarget(ref, options));
  r.cancel = &cancel;
  r.on_data = [&](const char* data, size_t size) { return demux.Feed(std::string_view(data, size)); };
  auto sent = Send(std::move(r), "logs of container " + ref);
  if (!sent) return Unexpected(sent.error());
  demux.Finish();
  return {};
}

Result<Stats> HttpEngine::ContainerStats(const std::string& ref, StatsMode mode) {
  const std::string ctx = "stats of container " + ref;
  const char* query = mode == StatsMode::kOneShot ? "?stream=0&one-shot=1" : "?stream=0";
  auto j = ParseJson(SendForBody(Get("/containers/" + Q(ref) + "/stats" + query), ctx), ctx);
  if (!j) return Unexpected(j.error());
  return wire::ParseStats(*j);
}

Result<int> HttpEngine::Exec(const std::string& ref, const ExecRequest& request) {
  const std::string ctx = "exec in container " + ref;
  json create = {{"AttachStdin", request.stdin_fd >= 0}, {"AttachStdout", true}, {"AttachStderr", true},
                 {"Tty", request.tty}, {"Cmd", request.cmd}};
  if (!request.user.empty()) create["User"] = request.user;
  if (!request.working_dir.empty()) create["WorkingDir"] = request.working_dir;
  if (!request.env.empty()) create["Env"] = request.env;
  if (request.tty && request.rows > 0 && request.cols > 0) create["ConsoleSize"] = {request.rows, request.cols};
  auto created = ParseJson(SendForBody(Post("/containers/" + Q(ref) + "/exec", create.dump()), ctx), ctx);
  if (!created) return Unexpected(created.error());
  const std::string id = created->value("Id", "");
  if (id.empty()) return Unexpected(ErrorCode::kInternal, ctx + ": the engine returned no exec id");

  auto version = ApiVersion();
  if (!version) return Unexpected(version.error());
  HttpRequest start = Post("/v" + *version + "/exec/" + id + "/start", json{{"Detach", false}, {"Tty", request.tty}}.dump());
  start.headers = {"Connection: Upgrade", "Upgrade: tcp"};
  ++requests_;
  auto hijacked = http_.Hijack(start);
  if (!hijacked) return Unexpected(Error{hijacked.error().code, ctx + ": " + hijacked.error().message});
  if (!hijacked->connection) return Unexpected(wire::StatusError(hijacked->response.status, hijacked->response.body, ctx));
  RawConnection& conn = *hijacked->connection;
  if (request.tty && request.rows > 0 && request.cols > 0) {
    // For engines before API 1.42, which ignore ConsoleSize.
    (void)SendForNothing(Post("/exec/" + id + "/resize?h=" + std::to_string(request.rows) +
                              "&w=" + std::to_string(request.cols)),
                         ctx);
  }

  wire::Demuxer demux(request.output, !request.tty);
  std::string got = conn.TakeInitial();
  bool open = true, input = request.stdin_fd >= 0;
  const auto deadline = std::chrono::steady_clock::now() + request.timeout;
  while (open) {
    if (!got.empty()) {
      demux.Feed(got);
      got.clear();
    }
    int wait_ms = 1000;
    if (request.timeout.count() > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return Unexpected(ErrorCode::kTimeout,
                          ctx + ": the command ran past " + std::to_string(request.timeout.count()) + "ms");
      }
      wait_ms = static_cast<int>(std::min<int64_t>(left.count(), 1000));
    }
    pollfd fds[2] = {{conn.fd(), POLLIN, 0}, {input ? request.stdin_fd : -1, POLLIN, 0}};
    if (::poll(fds, 2, wait_ms) < 0) {
      if (errno == EINTR) continue;
      return Unexpected(ErrorCode::kInternal, ctx + ": poll: " + std::strerror(errno));
    }
    if (fds[0].revents) {
      auto more = conn.Read(&got);
      if (!more) return Unexpected(Error{more.error().code, ctx + ": " + more.error().message});
      open = *more;
    }
    if (input && fds[1].revents) {
      char buf[16384];
      ssize_t n = ::read(request.stdin_fd, buf, sizeof buf);
      if (n > 0) {
        if (auto w = conn.Write(std::string_view(buf, static_cast<size_t>(n))); !w) {
          return Unexpected(Error{w.error().code, ctx + ": " + w.error().message});
        }
      } else if (n == 0 || errno != EINTR) {
        input = false;  // end of input: the command's stdin closes
        conn.CloseWrite();
      }
    }
  }
  if (!got.empty()) demux.Feed(got);
  demux.Finish();
  auto inspected = ParseJson(SendForBody(Get("/exec/" + id + "/json"), ctx), ctx);
  if (!inspected) return Unexpected(inspected.error());
  const json& code = (*inspected)["ExitCode"];
  if (!code.is_number_integer()) return Unexpected(ErrorCode::kInternal, ctx + ": the engine reported no exit code");
  return code.get<int>();
}

// --- images ---------------------------------------------------------------------

Result<Image> HttpEngine::InspectImage(const std::string& ref) {
  const std::string ctx = "inspect image " + ref;
  auto j = ParseJson(SendForBody(Get("/images/" + ref + "/json"), ctx), ctx);
  if (!j) return Unexpected(j.error());
  return wire::ParseImage(*j);
}

Result<void> HttpEngine::PullImage(const std::string& ref, const std::optional<RegistryAuth>& auth,
                                   const ProgressFn& progress) {
  auto [name, tag] = SplitTag(ref);
  std::string target = "/images/create?fromImage=" + Q(name);
  if (!tag.empty()) target += "&tag=" + Q(tag);
  HttpRequest r = Post(target);
  if (auth) r.headers.push_back(wire::AuthHeader(*auth));
  r.idle_timeout = options_.pull_idle_timeout;
  auto id = Stream(std::move(r), "pull " + ref, progress);
  if (!id) return Unexpected(id.error());
  return {};
}

Result<void> HttpEngine::PushImage(const std::string& ref, const std::optional<RegistryAuth>& auth,
                                   const ProgressFn& progress) {
  auto [name, tag] = SplitTag(ref);
  std::string target = "/images/" + name + "/push";
  if (!tag.empty()) target += "?tag=" + Q(tag);
  HttpRequest r = Post(target);
  // The engine wants the header even without credentials.
  r.headers.push_back(auth ? wire::AuthHeader(*auth) : "X-Registry-Auth: " + wire::Base64Url("{}"));
  r.idle_timeout = options_.pull_idle_timeout;
  auto id = Stream(std::move(r), "push " + ref, progress);
  if (!id) return Unexpected(id.error());
  return {};
}

Result<void> HttpEngine::TagImage(const std::string& source, const std::string& target) {
  auto [name, tag] = SplitTag(target);
  return SendForNothing(Post("/images/" + source + "/tag?repo=" + Q(name) + "&tag=" + Q(tag)),
                        "tag image " + source + " as " + target);
}

Result<void> HttpEngine::RemoveImage(const std::string& ref, bool force) {
  return SendForNothing(Delete("/images/" + ref + "?force=" + (force ? "1" : "0")), "remove image " + ref);
}

Result<std::string> HttpEngine::BuildImage(const BuildRequest& request, const ProgressFn& progress) {
  const std::string ctx = "build " + (request.tags.empty() ? request.context_dir : request.tags.front());
  auto tar = TarDirectory(request.context_dir);
  if (!tar) return Unexpected(Error{tar.error().code, ctx + ": " + tar.error().message});
  std::string target = "/build?rm=1&forcerm=1&dockerfile=" + Q(request.dockerfile);
  for (const auto& t : request.tags) target += "&t=" + Q(t);
  if (!request.args.empty()) target += "&buildargs=" + Q(json(request.args).dump());
  if (!request.labels.empty()) target += "&labels=" + Q(json(request.labels).dump());
  if (!request.target.empty()) target += "&target=" + Q(request.target);
  HttpRequest r = Post(target, std::move(*tar));
  r.content_type = "application/x-tar";
  r.idle_timeout = options_.build_idle_timeout;
  auto id = Stream(std::move(r), ctx, progress);
  if (!id) return Unexpected(id.error());
  if (id->empty() && !request.tags.empty()) {
    // Older engines report the id only as "Successfully built ..." text.
    auto image = InspectImage(request.tags.front());
    if (!image) return Unexpected(image.error());
    return image->id;
  }
  return *id;
}

// --- networks -------------------------------------------------------------------

Result<std::vector<Network>> HttpEngine::ListNetworks(const ListFilter& filter) {
  std::string target = "/networks";
  if (auto f = wire::Filters(filter.labels); !f.empty()) target += "?filters=" + f;
  auto j = ParseJson(SendForBody(Get(target), "list networks"), "list networks");
  if (!j) return Unexpected(j.error());
  std::vector<Network> out;
  for (const auto& n : *j) out.push_back(wire::ParseNetwork(n));
  return out;
}

Result<Network> HttpEngine::InspectNetwork(const std::string& ref) {
  const std::string ctx = "inspect network " + ref;
  auto j = ParseJson(SendForBody(Get("/networks/" + Q(ref)), ctx), ctx);
  if (!j) return Unexpected(j.error());
  return wire::ParseNetwork(*j);
}

Result<std::string> HttpEngine::CreateNetwork(const NetworkSpec& spec) {
  const std::string ctx = "create network " + spec.name;
  auto j = ParseJson(SendForBody(Post("/networks/create", wire::NetworkCreateBody(spec).dump()), ctx), ctx);
  if (!j) return Unexpected(j.error());
  return j->value("Id", "");
}

Result<void> HttpEngine::RemoveNetwork(const std::string& ref) {
  return SendForNothing(Delete("/networks/" + Q(ref)), "remove network " + ref);
}

Result<void> HttpEngine::ConnectNetwork(const std::string& network, const std::string& container,
                                        const std::vector<std::string>& aliases) {
  json body = {{"Container", container}};
  if (!aliases.empty()) body["EndpointConfig"] = {{"Aliases", aliases}};
  return SendForNothing(Post("/networks/" + Q(network) + "/connect", body.dump()),
                        "connect container " + container + " to network " + network);
}

Result<void> HttpEngine::DisconnectNetwork(const std::string& network, const std::string& container, bool force) {
  json body = {{"Container", container}, {"Force", force}};
  return SendForNothing(Post("/networks/" + Q(network) + "/disconnect", body.dump()),
                        "disconnect container " + container + " from network " + network);
}

// --- volumes --------------------------------------------------------------------

Result<std::vector<Volume>> HttpEngine::ListVolumes(const ListFilter& filter) {
  std::string target = "/volumes";
  if (auto f = wire::Filters(filter.labels); !f.empty()) target += "?filters=" + f;
  auto j = ParseJson(SendForBody(Get(target), "list volumes"), "list volumes");
  if (!j) return Unexpected(j.error());
  std::vector<Volume> out;
  if (j->contains("Volumes") && (*j)["Volumes"].is_array()) {
    for (const auto& v : (*j)["Volumes"]) out.push_back(wire::ParseVolume(v));
  }
  return out;
}

Result<Volume> HttpEngine::InspectVolume(const std::string& name) {
  const std::string ctx = "inspect volume " + name;
  auto j = ParseJson(SendForBody(Get("/volumes/" + Q(name)), ctx), ctx);
  if (!j) return Unexpected(j.error());
  return wire::ParseVolume(*j);
}

Result<Volume> HttpEngine::CreateVolume(const VolumeSpec& spec) {
  const std::string ctx = "create volume " + spec.name;
  auto j = ParseJson(SendForBody(Post("/volumes/create", wire::VolumeCreateBody(spec).dump()), ctx), ctx);
  if (!j) return Unexpected(j.error());
  return wire::ParseVolume(*j);
}

Result<void> HttpEngine::RemoveVolume(const std::string& name, bool force) {
  return SendForNothing(Delete("/volumes/" + Q(name) + "?force=" + (force ? "1" : "0")), "remove volume " + name);
}

// --- events ---------------------------------------------------------------------

Result<void> HttpEngine::StreamEvents(const EventFilter& filter,
                                      const std::function<void(const Event&)>& on_event, CancelFlag& cancel) {
  std::vector<std::pair<std::string, std::string>> extra;
  for (const auto& t : filter.types) extra.emplace_back("type", t);
  std::string target = "/events";
  std::string sep = "?";
  if (auto f = wire::Filters(filter.labels, extra); !f.empty()) {
    target += sep + "filters=" + f;
    sep = "&";
  }
  if (filter.since > 0) target += sep + "since=" + std::to_string(filter.since);
  HttpRequest r = Get(target);
  r.cancel = &cancel;
  r.on_line = [&](const std::string& line) {
    auto j = json::parse(line, nullptr, false);
    if (j.is_object()) on_event(wire::ParseEvent(j));
    return !cancel.load();
  };
  auto resp = Send(std::move(r), "events");
  if (!resp) return Unexpected(resp.error());
  if (resp->cancelled || cancel.load()) return {};
  return Unexpected(ErrorCode::kUnavailable, "events: the engine closed the stream");
}

}  // namespace keelson::docker
