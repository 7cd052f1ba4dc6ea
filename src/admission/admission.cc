#include "admission/admission.h"

#include <algorithm>
#include <map>

#include "manifest/crds.h"
#include "policy/policy.h"
#include "reconcile/depends.h"

namespace keelson::admission {
namespace {

// "FILE:LINE:COL: FIELD: message" for a document, "kind/name: FIELD: message" otherwise.
Finding Line(const Candidate& c, const manifest::Path& path, bool at_key, const std::string& message) {
  std::string field = manifest::PathString(path);
  if (c.doc) return {c.doc->At(path, at_key, message).ToString(), field, message};
  return {model::DisplayName(*c.object) + ": " + (field.empty() ? "" : field + ": ") + message, field, message};
}

// Objects from files were validated with their positions by the loader;
// anything else (an edited stored spec) is checked against the CRD here.
void CheckSchemas(const std::vector<Candidate>& candidates, Review* review) {
  for (const auto& c : candidates) {
    if (c.doc) continue;
    for (const auto& e : manifest::CrdSet::Builtin().For(c.object->kind).Validate(model::ToJson(*c.object))) {
      review->errors.push_back(Line(c, e.path, e.at_key, e.message));
    }
  }
}

// The stored objects of `kinds`, with candidates of the same key in their place.
Result<std::vector<model::Object>> AfterWrite(store::ObjectStore& store, std::initializer_list<model::Kind> kinds,
                                              const std::vector<Candidate>& candidates) {
  std::map<std::string, model::Object> by_key;
  for (auto kind : kinds) {
    auto stored = store.List({kind, std::nullopt, nullptr});
    if (!stored) return Unexpected(stored.error());
    for (auto& o : *stored) by_key[model::Key(o)] = std::move(o);
  }
  for (const auto& c : candidates) {
    if (std::find(kinds.begin(), kinds.end(), c.object->kind) != kinds.end()) by_key[model::Key(*c.object)] = *c.object;
  }
  std::vector<model::Object> out;
  out.reserve(by_key.size());
  for (auto& [key, o] : by_key) out.push_back(std::move(o));
  return out;
}

// A dependsOn cycle among Runners and RunnerPools as they will be, reported
// at the first candidate on it.
Result<void> CheckDependencyCycles(store::ObjectStore& store, const std::vector<Candidate>& candidates,
                                   Review* review) {
  // Every object on a cycle depends on another: candidates that depend on
  // nothing cannot close one (and none was stored), so nothing is read.
  const bool depends = std::any_of(candidates.begin(), candidates.end(), [](const Candidate& c) {
    const auto it = c.object->spec.find("dependsOn");
    return it != c.object->spec.end() && it->is_array() && !it->empty();
  });
  if (!depends) return {};
  auto all = AfterWrite(store, {model::Kind::kRunner, model::Kind::kRunnerPool}, candidates);
  if (!all) return Unexpected(all.error());
  auto cycle = reconcile::FindDependencyCycle(*all);
  if (cycle.empty()) return {};
  std::string path;
  for (const auto& c : cycle) path += (path.empty() ? "" : " -> ") + c;
  for (const auto& c : candidates) {
    if (std::find(cycle.begin(), cycle.end(), model::DisplayName(*c.object)) == cycle.end()) continue;
    const std::string message = "spec.dependsOn: cycle: " + path;
    if (c.doc) {
      review->errors.push_back({c.doc->file + ":" + std::to_string(c.depends_on.line) + ":" +
                                    std::to_string(c.depends_on.column) + ": " + message,
                                "spec.dependsOn", "cycle: " + path});
    } else {
      review->errors.push_back({model::DisplayName(*c.object) + ": " + message, "spec.dependsOn", "cycle: " + path});
    }
    return {};
  }
  review->errors.push_back({"spec.dependsOn: cycle: " + path, "spec.dependsOn", "cycle: " + path});
  return {};
}

// Policies as they will be judge every candidate. enforce: an error line;
// warn: a warning line and a PolicyWarning event; audit: a PolicyViolation event.
Result<void> CheckPolicies(store::ObjectStore& store, const std::vector<Candidate>& candidates, Review* review) {
  auto policies = AfterWrite(store, {model::Kind::kPolicy}, candidates);
  if (!policies) return Unexpected(policies.error());
  if (policies->empty()) return {};
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    for (const auto& v : policy::Admit(*policies, *c.object)) {
      if (v.enforcement == "enforce") {
        review->errors.push_back(Line(c, v.violation.path, false, "denied by " + v.Describe()));
        continue;
      }
      if (v.enforcement == "warn") review->warnings.push_back(Line(c, v.violation.path, false, v.Describe()).line);
      review->events[i].push_back({"Warning", v.enforcement == "warn" ? "PolicyWarning" : "PolicyViolation",
                                   v.Describe() + " (at " + manifest::PathString(v.violation.path) + ")"});
    }
  }
  return {};
}

}  // namespace

// An object a git source applied belongs to it: a write that does not carry
// the same source's labels is refused (kubectl's server-side apply refuses a
// field another manager owns the same way), unless it takes ownership.
static Result<void> CheckOwnership(store::ObjectStore& store, const std::vector<Candidate>& candidates, Review* review) {
  for (const auto& c : candidates) {
    if (c.take_ownership) continue;
    auto stored = store.Get(c.object->kind, c.object->meta.namespace_, c.object->meta.name);
    if (!stored) return Unexpected(stored.error());
    if (!*stored) continue;
    const std::string owner = model::SourceOf((*stored)->meta.labels);
    if (owner.empty() || owner == model::SourceOf(c.object->meta.labels)) continue;
    const std::string claimant = model::SourceOf(c.object->meta.labels);
    review->errors.push_back(Line(c, {{"metadata", -1}}, true,
                                  model::DisplayName(*c.object) + " is managed by " + owner +
                                      (claimant.empty() ? ": change it in git, or take it with --force-conflicts"
                                                        : ", not " + claimant + " (two sources claim it)")));
  }
  return {};
}

Result<Review> Admit(store::ObjectStore& store, const std::vector<Candidate>& candidates) {
  Review review;
  review.events.resize(candidates.size());
  CheckSchemas(candidates, &review);
  if (!review.errors.empty()) return review;  // the other checks read the spec's shape
  if (auto r = CheckOwnership(store, candidates, &review); !r) return Unexpected(r.error());
  if (!review.errors.empty()) return review;
  if (auto r = CheckDependencyCycles(store, candidates, &review); !r) return Unexpected(r.error());
  if (!review.errors.empty()) return review;
  if (auto r = CheckPolicies(store, candidates, &review); !r) return Unexpected(r.error());
  return review;
}

Result<Updated> Update(store::ObjectStore& store, model::Kind kind, const std::string& ns, const std::string& name,
                       const SpecChange& change, const std::string& source) {
  const std::string display = std::string(model::Info(kind).singular) + "/" + name;
  Error last{ErrorCode::kConflict, display + ": changed by another writer on every attempt"};
  for (int attempt = 0; attempt < kUpdateAttempts; ++attempt) {
    auto found = store.Get(kind, ns, name);
    if (!found) return Unexpected(found.error());
    if (!*found) return Unexpected(ErrorCode::kNotFound, display + " not found in namespace " + ns);
    const model::Object& current = **found;
    model::Object next = current;
    std::string note;
    auto changed = change(current, next.spec, &note);
    if (!changed) return Unexpected(changed.error());
    if (!*changed) return Updated{};
    auto review = Admit(store, {Candidate{&next, nullptr, {}}});
    if (!review) return Unexpected(review.error());
    if (!review->admitted()) {
      std::string lines;
      for (const auto& e : review->errors) lines += (lines.empty() ? "" : "\n") + e.line;
      return Unexpected(ErrorCode::kInvalid, lines);
    }
    auto written = store.UpdateSpec(current, next.spec, note.empty() ? source : source + " (" + note + ")");
    if (written) {
      for (const auto& e : review->events.front()) (void)store.RecordEvent(current, e.type, e.reason, e.message);
      return Updated{*written, review->warnings};
    }
    if (written.error().code != ErrorCode::kConflict) return Unexpected(written.error());
    last = written.error();
  }
  return Unexpected(last);
}

}  // namespace keelson::admission
