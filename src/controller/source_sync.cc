// Reconciler::SyncSource: a GitRepository's pass. Fetch the ref; when it names
// a revision not yet applied, check it out, load and admit every manifest
// under spec.path as `keelson apply -R` would, and store them all, pruning
// what the source applied before and the revision no longer has; or, when
// anything is wrong, store nothing and say what in the Ready condition.

#include "controller/source_sync.h"

#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <stdio.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <set>

#include "admission/admission.h"
#include "controller/reconciler.h"
#include "git/fetch_helper.h"
#include "git/mirror.h"
#include "manifest/crds.h"
#include "manifest/decode.h"
#include "manifest/loader.h"
#include "reconcile/status.h"
#include "util/secret_file.h"
#include "util/units.h"

namespace keelson::controller {

std::optional<TimePoint> Sources::LastFetch(const std::string& uid) const {
  std::lock_guard lock(mu_);
  auto it = fetched_.find(uid);
  if (it == fetched_.end()) return std::nullopt;
  return it->second;
}

void Sources::NoteFetch(const std::string& uid, TimePoint at) {
  std::lock_guard lock(mu_);
  fetched_[uid] = at;
}

Result<std::string> RequestSourceSync(store::ObjectStore& store, const std::string& ns, const std::string& name,
                                      const Clock& clock) {
  const TimePoint now = clock.Now();
  const auto ns_part = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() % 1000000000;
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(ns_part));
  std::string stamp = FormatTimestamp(now);
  stamp = stamp.substr(0, stamp.size() - 1) + frac + "Z";
  for (int attempt = 0;; ++attempt) {
    auto current = store.Get(model::Kind::kGitRepository, ns, name);
    if (!current) return Unexpected(current.error());
    if (!*current) return Unexpected(ErrorCode::kNotFound, "gitrepository/" + name + " not found in namespace " + ns);
    model::Object next = **current;
    next.meta.annotations[kSyncRequestedAnnotation] = stamp;
    store::ApplyRequest request{next, "keelson sync"};
    request.precondition = {store::Precondition::Exists::kPresent, next.meta.resource_version, next.meta.uid};
    auto written = store.Apply({request}, std::nullopt, false);
    if (written) return stamp;
    if (written.error().code != ErrorCode::kConflict || attempt + 1 >= 5) return Unexpected(written.error());
  }
}

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// What a sync that did not apply says, and whether trying again may help.
struct Failed {
  std::string reason;  // FetchFailed, ValidationFailed, ApplyFailed
  std::string message;
  bool stalled;  // only a new revision or spec helps (not retried with backoff)
};

git::RefSpec RefOf(const model::GitRepositorySpec& spec) {
  using T = model::GitRepositorySpec::RefType;
  switch (spec.ref_type) {
    case T::kTag: return {git::RefSpec::Type::kTag, spec.ref};
    case T::kSemver: return {git::RefSpec::Type::kSemver, spec.ref};
    case T::kCommit: return {git::RefSpec::Type::kCommit, spec.ref};
    case T::kBranch: break;
  }
  return {git::RefSpec::Type::kBranch, spec.ref};
}

// spec.path inside the repository, or nullopt when it leaves it.
std::optional<fs::path> InsideRepository(const std::string& path) {
  fs::path p = fs::path(path).lexically_normal();
  if (p.is_absolute()) return std::nullopt;
  if (!p.empty() && *p.begin() == "..") return std::nullopt;
  return p;
}

// The manifests under `root`/`dir` as sources named by their path inside the
// repository; relative file fields resolve against each file's directory
// inside the checkout and stay inside it.
Result<std::vector<manifest::Source>> ReadRevision(const fs::path& root, const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(root / dir, ec)) {
    return Unexpected(ErrorCode::kInvalid, "path \"" + dir.string() + "\" is not a directory in this revision");
  }
  auto read = manifest::ReadSources({(root / dir).string()}, true, std::cin);
  if (!read) return Unexpected(read.error());
  for (auto& s : *read) {
    const fs::path abs = fs::path(s.name).lexically_normal();
    s.base = abs.parent_path().string();
    s.remote = true;
    s.name = abs.lexically_relative(root.lexically_normal()).string();
  }
  return read;
}

// "850ms", "2.4s": how long a sync took, as Go prints a time.Duration.
std::string Took(std::chrono::nanoseconds d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms < 1000) return std::to_string(ms) + "ms";
  std::string s = std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100);
  return s + "s";
}

json HistoryEntry(const std::string& revision, TimePoint end, std::chrono::nanoseconds took, const std::string& result) {
  return {{"revision", revision},
          {"time", FormatTimestamp(end)},
          {"duration", Took(took)},
          {"result", result}};
}

void PushHistory(json& status, json entry) {
  json history = status.contains("history") && status["history"].is_array() ? status["history"] : json::array();
  history.insert(history.begin(), std::move(entry));
  if (history.size() > kSyncHistory) history.erase(history.begin() + kSyncHistory, history.end());
  status["history"] = std::move(history);
}

std::string InventoryEntry(const model::Object& o) {
  return std::string(model::Info(o.kind).name) + "/" + o.meta.namespace_ + "/" + o.meta.name;
}

// What storing a checked-out revision did, or why it stored nothing.
struct TreeApply {
  std::optional<Failed> failed;
  store::ApplyResult result;
  std::vector<std::string> inventory;  // KIND/NAMESPACE/NAME, sorted
};

// Loads every manifest under `worktree`/`inside`, labels them as `source`'s,
// admits them as `keelson apply` would and stores them in one transaction,
// pruning (with spec.prune) what the source applied before and they no
// longer include. Objects that already hold what the revision says are not
// written.
TreeApply ApplyTree(store::ObjectStore& store, const model::Object& source, const model::GitRepositorySpec& spec,
                    const fs::path& worktree, const fs::path& inside, const std::string& revision, const json& status) {
  TreeApply out;
  auto sources = ReadRevision(worktree, inside);
  if (!sources) {
    out.failed = Failed{"ValidationFailed", sources.error().message, true};
    return out;
  }
  auto loaded = manifest::LoadManifests(*sources, source.meta.namespace_, manifest::CrdSet::Builtin());
  std::vector<store::ApplyRequest> requests;
  std::vector<admission::Candidate> candidates;
  if (loaded.errors.empty()) {
    requests.reserve(loaded.objects.size());
    for (auto& lo : loaded.objects) {
      lo.object.meta.labels[kSourceNameLabel] = source.meta.name;
      lo.object.meta.labels[kSourceNamespaceLabel] = source.meta.namespace_;
      requests.push_back({lo.object, lo.source + "@" + revision});
    }
    for (size_t i = 0; i < requests.size(); ++i) {
      candidates.push_back({&requests[i].object, &loaded.objects[i].doc, loaded.objects[i].depends_on});
    }
  }
  std::vector<std::string> errors;
  for (const auto& e : loaded.errors) errors.push_back(e.ToString());
  if (errors.empty()) {
    auto review = admission::Admit(store, candidates);
    if (!review) {
      out.failed = Failed{"ApplyFailed", review.error().message, false};
      return out;
    }
    for (const auto& e : review->errors) errors.push_back(e.line);
    for (size_t i = 0; i < requests.size() && review->admitted(); ++i) requests[i].events = std::move(review->events[i]);
  }
  if (!errors.empty()) {
    std::string message;
    for (const auto& e : errors) message += (message.empty() ? "" : "; ") + e;
    out.failed = Failed{"ValidationFailed", message, true};
    return out;
  }
  std::optional<store::PruneRequest> prune;
  if (spec.prune) {
    auto selector = model::Selector::Parse(std::string(kSourceNameLabel) + "=" + source.meta.name + "," +
                                           kSourceNamespaceLabel + "=" + source.meta.namespace_);
    std::set<std::string> namespaces;
    for (const auto& r : requests) namespaces.insert(r.object.meta.namespace_);
    for (const auto& entry : status.value("inventory", json::array())) {
      if (!entry.is_string()) continue;
      const std::string e = entry.get<std::string>();
      auto first = e.find('/'), second = e.find('/', first + 1);
      if (first != std::string::npos && second != std::string::npos) {
        namespaces.insert(e.substr(first + 1, second - first - 1));
      }
    }
    prune = store::PruneRequest{std::move(*selector), std::move(namespaces)};
  }
  auto result = store.Apply(requests, prune, false);
  if (!result) {
    out.failed = Failed{"ApplyFailed", result.error().message, false};
    return out;
  }
  out.result = std::move(*result);
  for (const auto& r : requests) out.inventory.push_back(InventoryEntry(r.object));
  std::sort(out.inventory.begin(), out.inventory.end());
  return out;
}

// The objects of `inventory` (KIND/NAMESPACE/NAME) that are not Ready at
// their current generation, each as "kind/ns/name (Reason)".
std::vector<std::string> NotReady(store::ObjectStore& store, const json& inventory) {
  std::vector<std::string> out;
  if (!inventory.is_array()) return out;
  for (const auto& entry : inventory) {
    if (!entry.is_string()) continue;
    const std::string e = entry.get<std::string>();
    const auto first = e.find('/'), second = e.find('/', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    auto kind = model::KindFromManifestName(e.substr(0, first));
    if (!kind) continue;
    auto found = store.Get(*kind, e.substr(first + 1, second - first - 1), e.substr(second + 1));
    if (!found || !*found) continue;  // gone (pruned meanwhile): nothing to wait for
    const model::Object& o = **found;
    const json* ready = reconcile::ConditionIn(o.status, "Ready");
    const bool current = ready && ready->value("observedGeneration", int64_t{0}) == o.meta.generation;
    if (current && reconcile::TextField(*ready, "status") == "True") continue;
    const std::string reason = current ? reconcile::TextField(*ready, "reason") : "NotObserved";
    out.push_back(std::string(model::Info(o.kind).singular) + "/" + o.meta.namespace_ + "/" + o.meta.name + " (" +
                  reason + ")");
  }
  return out;
}

// How often a source looks at the objects it applied until they are Ready.
constexpr std::chrono::milliseconds kHealthPoll{1000};
constexpr size_t kNamedInMessage = 5;

std::string Named(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < kNamedInMessage; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > kNamedInMessage) out += " and " + std::to_string(names.size() - kNamedInMessage) + " more";
  return out;
}

// Report mode: what storing the revision would change, without storing it:
// "kind/ns/name (absent)", "(differs)", or "(not in git)" for an object the
// source applied that the revision no longer has. Labels the source adds are
// not counted.
Result<std::vector<std::string>> Drift(store::ObjectStore& store, const model::Object& source, const fs::path& worktree,
                                       const fs::path& inside, std::vector<std::string>* errors) {
  auto sources = ReadRevision(worktree, inside);
  if (!sources) {
    errors->push_back(sources.error().message);
    return std::vector<std::string>{};
  }
  auto loaded = manifest::LoadManifests(*sources, source.meta.namespace_, manifest::CrdSet::Builtin());
  for (const auto& e : loaded.errors) errors->push_back(e.ToString());
  if (!errors->empty()) return std::vector<std::string>{};
  auto without_source = [](model::Labels labels) {
    labels.erase(kSourceNameLabel);
    labels.erase(kSourceNamespaceLabel);
    return labels;
  };
  std::vector<std::string> out;
  std::set<std::string> in_git;
  for (const auto& lo : loaded.objects) {
    const model::Object& want = lo.object;
    in_git.insert(model::Key(want));
    auto stored = store.Get(want.kind, want.meta.namespace_, want.meta.name);
    if (!stored) return Unexpected(stored.error());
    const std::string name = std::string(model::Info(want.kind).singular) + "/" + want.meta.namespace_ + "/" + want.meta.name;
    if (!*stored) {
      out.push_back(name + " (absent)");
    } else if ((*stored)->spec != want.spec || without_source((*stored)->meta.labels) != without_source(want.meta.labels) ||
               (*stored)->meta.annotations != want.meta.annotations) {
      out.push_back(name + " (differs)");
    }
  }
  auto selector = model::Selector::Parse(std::string(kSourceNameLabel) + "=" + source.meta.name + "," +
                                         kSourceNamespaceLabel + "=" + source.meta.namespace_);
  if (selector) {
    auto owned = store.List({std::nullopt, std::nullopt, &*selector});
    if (!owned) return Unexpected(owned.error());
    for (const auto& obj : *owned) {
      if (in_git.count(model::Key(obj)) || obj.meta.deletion_timestamp) continue;
      out.push_back(std::string(model::Info(obj.kind).singular) + "/" + obj.meta.namespace_ + "/" + obj.meta.name +
                    " (not in git)");
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Swaps two directories' names at once (renameat2 RENAME_EXCHANGE).
bool Exchange(const fs::path& a, const fs::path& b) {
  return ::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE) == 0;
}

}  // namespace

Outcome Reconciler::SyncSource(const model::Object& o) {
  json status = o.status.is_object() ? o.status : json::object();
  const TimePoint start = s_.clock.Now();
  auto decoded = manifest::DecodeSpecAs<model::GitRepositorySpec>(o);
  if (!decoded || !s_.sources || s_.sources->dir().empty()) {
    const std::string why = !decoded ? decoded.error().message : "git sources need a store file (no directory for mirrors)";
    reconcile::SetCondition(status, {"Ready", false, "InvalidSpec", why}, o.meta.generation, start);
    reconcile::SetCondition(status, {"Stalled", true, "InvalidSpec", why}, o.meta.generation, start);
    status["observedGeneration"] = o.meta.generation;
    if (status != o.status) (void)WriteStatus(o, status, json::object());
    return Outcome{Error{ErrorCode::kInvalid, why}, {}, false, std::nullopt};
  }
  const model::GitRepositorySpec& spec = *decoded;
  const auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(spec.interval);
  const std::string requested = [&] {
    auto it = o.meta.annotations.find(kSyncRequestedAnnotation);
    return it == o.meta.annotations.end() ? std::string() : it->second;
  }();
  const bool asked = !requested.empty() && requested != reconcile::TextField(status, "lastHandledSyncAt");
  const bool spec_changed = reconcile::IntField(status, "observedGeneration") != o.meta.generation;
  if (spec.suspend && !asked) return Outcome{};  // Flux: a suspended source is left as it is

  // After an apply: the objects it applied, until they are Ready or the
  // timeout passes (HealthCheckFailed, as Flux's wait).
  if (status.contains("healthCheck") && !asked && !spec_changed) {
    if (auto waited = WaitForHealth(o, spec, status)) return *waited;
  }

  // Polls keep to the interval; a spec change or a sync request goes at once.
  if (auto last = s_.sources->LastFetch(o.meta.uid); last && !asked && !spec_changed) {
    const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(start - *last);
    if (since < interval) return Outcome{std::nullopt, interval - since, false, std::nullopt};
  }
  const fs::path home = fs::path(s_.sources->dir()) / o.meta.namespace_ / o.meta.name;
  std::error_code ec;
  fs::create_directories(home, ec);

  auto fail = [&](const Failed& f, const std::string& revision) {
    const TimePoint end = s_.clock.Now();
    const std::string message = revision.empty() ? f.message : f.message + " (revision " + revision + ")";
    reconcile::SetCondition(status, {"Ready", false, f.reason, message}, o.meta.generation, end);
    reconcile::SetCondition(status, {"Reconciling", false, f.reason, ""}, o.meta.generation, end);
    reconcile::SetCondition(status, {"Stalled", f.stalled, f.reason, f.stalled ? message : ""}, o.meta.generation, end);
    status["observedGeneration"] = o.meta.generation;
    if (!revision.empty()) {
      const bool repeated = reconcile::TextField(status, "lastAttemptedRevision") == revision;
      status["lastAttemptedRevision"] = revision;
      if (!repeated || asked || spec_changed) PushHistory(status, HistoryEntry(revision, end, end - start, f.reason));
    }
    if (asked) status["lastHandledSyncAt"] = requested;
    if (status != o.status) {
      Event(o, "Warning", f.reason, message);
      (void)WriteStatus(o, status, json::object());
    }
    Outcome out{std::nullopt, interval, false, std::nullopt};
    if (!f.stalled) out = Outcome{Error{ErrorCode::kUnavailable, message}, {}, false, std::nullopt};
    return out;
  };

  auto mirror = git::Mirror::Open((home / "mirror.git").string());
  if (!mirror) return fail({"FetchFailed", mirror.error().message, false}, "");
  git::Credentials credentials{spec.username, "", spec.ssh_key_file, spec.known_hosts_file, spec.ca_file};
  if (!spec.password_file.empty()) {
    auto password = ReadSecretFile(spec.password_file);  // its error names the path, never the contents
    if (!password) return fail({"FetchFailed", "spec.auth.passwordFile: " + password.error().message, false}, "");
    credentials.password = std::move(*password);
  }
  const auto timeout = std::chrono::duration_cast<std::chrono::seconds>(spec.timeout);
  auto fetched = s_.sources->fetch_helper().empty()
                     ? (*mirror)->Fetch(spec.url, RefOf(spec), credentials, timeout, s_.sources->limits())
                     : git::FetchInHelper(s_.sources->fetch_helper(),
                                          {(home / "mirror.git").string(), spec.url, RefOf(spec), credentials, timeout,
                                           s_.sources->limits()});
  s_.sources->NoteFetch(o.meta.uid, s_.clock.Now());
  // Too large, malformed, not a repository: only a new commit or spec
  // helps, so it is looked at again each interval rather than retried soon.
  if (!fetched) return fail({"FetchFailed", fetched.error().message, fetched.error().code == ErrorCode::kInvalid}, "");
  const std::string& revision = fetched->revision;
  if (reconcile::TextField(status, "revision") != revision) status["revision"] = revision;

  if (spec.report_only) return Report(o, spec, status, **mirror, *fetched, home, asked ? requested : "");

  // Nothing new: no checkout, no store write.
  const bool applied = reconcile::TextField(status, "lastAppliedRevision") == revision;
  const bool refused = reconcile::TextField(status, "lastAttemptedRevision") == revision && !applied;
  if ((applied || refused) && !asked && !spec_changed && fs::is_directory(home / "worktree", ec)) {
    // The same revision: put back what was changed outside git since (as
    // Flux re-applies at every interval). Nothing is written when nothing was.
    const std::string last = reconcile::TextField(status, "lastAppliedRevision");
    if (auto inside = InsideRepository(spec.path); inside && !last.empty() && !Fenced()) {
      TreeApply again = ApplyTree(store_, o, spec, home / "worktree", *inside, last, status);
      int restored = static_cast<int>(again.result.pruned.size());
      for (const auto& a : again.result.applied) restored += a.action != store::ApplyAction::kUnchanged;
      if (again.failed) {
        spdlog::warn("{}: re-applying {}: {}", model::Key(o), last, again.failed->message);
      } else if (restored > 0) {
        Event(o, "Normal", "Restored",
              "put back " + std::to_string(restored) + " object(s) changed outside git to revision " + last);
      }
    }
    if (status != o.status) (void)WriteStatus(o, status, json::object());
    return Outcome{std::nullopt, interval, false, std::nullopt};
  }

  auto inside = InsideRepository(spec.path);
  if (!inside) return fail({"ValidationFailed", "spec.path \"" + spec.path + "\" leaves the repository", true}, revision);
  const fs::path staging = home / "staging", worktree = home / "worktree";
  fs::remove_all(staging, ec);
  if (auto r = (*mirror)->Checkout(fetched->commit, staging.string(), s_.sources->limits()); !r) {
    return fail({"FetchFailed", r.error().message, r.error().code == ErrorCode::kInvalid}, revision);
  }
  // The new files take the stable path; the old ones wait in staging/ to
  // come back if the revision is refused.
  const bool had_worktree = fs::is_directory(worktree, ec);
  if (had_worktree ? !Exchange(staging, worktree) : (fs::rename(staging, worktree, ec), static_cast<bool>(ec))) {
    return fail({"ApplyFailed", "cannot put the revision in place under " + home.string(), false}, revision);
  }
  auto restore = [&] {
    if (had_worktree) {
      Exchange(staging, worktree);
    } else {
      fs::remove_all(worktree, ec);
    }
  };

  if (Fenced()) {
    restore();
    return Outcome{Error{ErrorCode::kUnavailable, "not the leader"}, {}, false, std::nullopt};
  }
  TreeApply done = ApplyTree(store_, o, spec, worktree, *inside, revision, status);
  if (done.failed) {
    restore();
    return fail(*done.failed, revision);
  }
  const store::ApplyResult& result = done.result;
  fs::remove_all(staging, ec);

  int changed = 0;
  for (const auto& a : result.applied) changed += a.action != store::ApplyAction::kUnchanged;
  json inventory = json::array();
  for (auto& e : done.inventory) inventory.push_back(std::move(e));
  const TimePoint end = s_.clock.Now();
  const std::string message = "Applied revision: " + revision;
  status["lastAppliedRevision"] = revision;
  status["lastAttemptedRevision"] = revision;
  status["inventory"] = inventory;
  status["observedGeneration"] = o.meta.generation;
  if (asked) status["lastHandledSyncAt"] = requested;
  PushHistory(status, HistoryEntry(revision, end, end - start, "Applied"));
  reconcile::SetCondition(status, {"Stalled", false, "Succeeded", ""}, o.meta.generation, end);
  Event(o, "Normal", "Applied",
        message + ": " + std::to_string(result.applied.size()) + " object(s), " + std::to_string(changed) +
            " created or configured, " + std::to_string(result.pruned.size()) + " pruned");
  status["healthCheck"] = {{"revision", revision}, {"since", FormatTimestamp(end)}};
  if (auto waited = WaitForHealth(o, spec, status)) return *waited;
  return Outcome{std::nullopt, interval, false, std::nullopt};
}

Outcome Reconciler::Report(const model::Object& o, const model::GitRepositorySpec& spec, json& status,
                           git::Mirror& mirror, const git::Fetched& fetched, const fs::path& home,
                           const std::string& handled) {
  const auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(spec.interval);
  const TimePoint now = s_.clock.Now();
  std::vector<std::string> errors;
  std::vector<std::string> drift;
  auto inside = InsideRepository(spec.path);
  const fs::path staging = home / "report";
  std::error_code ec;
  fs::remove_all(staging, ec);
  if (!inside) {
    errors.push_back("spec.path \"" + spec.path + "\" leaves the repository");
  } else if (auto r = mirror.Checkout(fetched.commit, staging.string(), s_.sources->limits()); !r) {
    errors.push_back(r.error().message);
  } else {
    auto found = Drift(store_, o, staging, *inside, &errors);
    if (!found) errors.push_back(found.error().message);
    if (found) drift = std::move(*found);
  }
  fs::remove_all(staging, ec);
  status["lastAttemptedRevision"] = fetched.revision;
  status["observedGeneration"] = o.meta.generation;
  if (!handled.empty()) status["lastHandledSyncAt"] = handled;
  json listed = json::array();
  for (size_t i = 0; i < drift.size() && i < 20; ++i) listed.push_back(drift[i]);
  status["drift"] = listed;
  if (!errors.empty()) {
    std::string message;
    for (const auto& e : errors) message += (message.empty() ? "" : "; ") + e;
    reconcile::SetCondition(status, {"Ready", false, "ValidationFailed", message + " (revision " + fetched.revision + ")"},
                            o.meta.generation, now);
  } else if (drift.empty()) {
    reconcile::SetCondition(status, {"Ready", true, "InSync", "the store matches revision " + fetched.revision},
                            o.meta.generation, now);
  } else {
    reconcile::SetCondition(status,
                            {"Ready", false, "DriftDetected",
                             "revision " + fetched.revision + ": " + std::to_string(drift.size()) +
                                 " object(s) would change: " + Named(drift)},
                            o.meta.generation, now);
  }
  reconcile::SetCondition(status, {"Stalled", false, "ReportOnly", ""}, o.meta.generation, now);
  if (status != o.status) {
    const json* before = reconcile::ConditionIn(o.status, "Ready");
    const json* after = reconcile::ConditionIn(status, "Ready");
    if (!before || reconcile::TextField(*before, "message") != reconcile::TextField(*after, "message")) {
      Event(o, reconcile::TextField(*after, "status") == "True" ? "Normal" : "Warning",
            reconcile::TextField(*after, "reason"), reconcile::TextField(*after, "message"));
    }
    (void)WriteStatus(o, status, json::object());
  }
  return Outcome{std::nullopt, interval, false, std::nullopt};
}

std::optional<Outcome> Reconciler::WaitForHealth(const model::Object& o, const model::GitRepositorySpec& spec,
                                                  json& status) {
  const json check = status["healthCheck"];
  const std::string revision = check.value("revision", "");
  TimePoint since{};
  if (!ParseTimestamp(check.value("since", ""), &since)) since = s_.clock.Now();
  const TimePoint now = s_.clock.Now();
  const auto waiting = NotReady(store_, status.value("inventory", json::array()));
  const auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(spec.interval);
  std::optional<Outcome> out;
  // Flux's Reconciling: True while the sync is still under way (the wait).
  reconcile::SetCondition(status,
                          {"Reconciling", !waiting.empty() && now - since < std::chrono::duration_cast<TimePoint::duration>(spec.timeout),
                           "Progressing", ""},
                          o.meta.generation, now);
  if (waiting.empty()) {
    status.erase("healthCheck");
    reconcile::SetCondition(status, {"Ready", true, "Succeeded", "Applied revision: " + revision}, o.meta.generation,
                            now);
  } else if (now - since >= std::chrono::duration_cast<TimePoint::duration>(spec.timeout)) {
    // Reported, and looked at again each interval: objects may yet become Ready.
    reconcile::SetCondition(status,
                            {"Ready", false, "HealthCheckFailed",
                             "revision " + revision + " applied, but not Ready after " +
                                 std::to_string(std::chrono::duration_cast<std::chrono::seconds>(spec.timeout).count()) +
                                 "s: " + Named(waiting)},
                            o.meta.generation, now);
    out = Outcome{std::nullopt, interval, false, std::nullopt};
  } else {
    reconcile::SetCondition(status,
                            {"Ready", false, "Progressing",
                             "revision " + revision + " applied; waiting for " + Named(waiting) + " to be Ready"},
                            o.meta.generation, now);
    out = Outcome{std::nullopt, kHealthPoll, false, std::nullopt};
  }
  if (status != o.status) {
    const bool failed = reconcile::ConditionIn(status, "Ready") &&
                        reconcile::TextField(*reconcile::ConditionIn(status, "Ready"), "reason") == "HealthCheckFailed";
    const json* before = reconcile::ConditionIn(o.status, "Ready");
    if (failed && (!before || reconcile::TextField(*before, "reason") != "HealthCheckFailed")) {
      Event(o, "Warning", "HealthCheckFailed", reconcile::TextField(*reconcile::ConditionIn(status, "Ready"), "message"));
    }
    (void)WriteStatus(o, status, json::object());
  }
  return out;
}

void Reconciler::PruneSourceInventory(const model::Object& o) {
  auto spec = manifest::DecodeSpecAs<model::GitRepositorySpec>(o);
  if (!spec || !spec->prune || Fenced()) return;
  auto selector = model::Selector::Parse(std::string(kSourceNameLabel) + "=" + o.meta.name + "," +
                                         kSourceNamespaceLabel + "=" + o.meta.namespace_);
  if (!selector) return;
  auto owned = store_.List({std::nullopt, std::nullopt, &*selector});
  if (!owned) return;
  for (const auto& obj : *owned) {
    auto keep = obj.meta.annotations.find("keelson.dev/prune");
    if (keep != obj.meta.annotations.end() && keep->second == "disabled") continue;
    if (auto r = store_.Delete(obj.kind, obj.meta.namespace_, obj.meta.name, false); !r) {
      spdlog::warn("{}: prune {}: {}", model::Key(o), model::Key(obj), r.error().message);
    }
  }
  if (s_.sources && !s_.sources->dir().empty()) {
    std::error_code ec;
    fs::remove_all(fs::path(s_.sources->dir()) / o.meta.namespace_ / o.meta.name, ec);
  }
}

}  // namespace keelson::controller
