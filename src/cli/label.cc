// keelson label KIND NAME KEY=VALUE... KEY-... [--overwrite]
// keelson annotate KIND NAME KEY=VALUE... KEY-... [--overwrite]
//
// As kubectl: KEY=VALUE sets (a key that has another value needs
// --overwrite), KEY- removes. The object is judged again (Policies select by
// labels) and written under the resourceVersion read, read again on a race;
// the spec and generation stay.

#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>

#include "admission/admission.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/remote.h"
#include "cli/resolve.h"
#include "util/names.h"

namespace keelson::cli {
namespace {

struct LabelOptions {
  std::vector<std::string> words;
  bool overwrite = false;
};

struct Change {
  std::map<std::string, std::string> set;
  std::vector<std::string> remove;
};

// The object words and the KEY=VALUE / KEY- words, split; kInvalid naming a bad one.
Result<std::pair<std::vector<std::string>, Change>> Split(const std::vector<std::string>& words, bool labels) {
  std::vector<std::string> objects;
  Change change;
  for (const auto& w : words) {
    const auto eq = w.find('=');
    const bool removal = eq == std::string::npos && w.size() > 1 && w.back() == '-';
    if (eq == std::string::npos && !removal) {
      objects.push_back(w);
      continue;
    }
    const std::string key = removal ? w.substr(0, w.size() - 1) : w.substr(0, eq);
    if (std::string why = CheckQualifiedName(key); !why.empty()) {
      return Unexpected(ErrorCode::kInvalid, "invalid key \"" + key + "\": " + why);
    }
    if (removal) {
      change.remove.push_back(key);
      continue;
    }
    const std::string value = w.substr(eq + 1);
    if (labels) {
      if (std::string why = CheckLabelValue(value); !why.empty()) {
        return Unexpected(ErrorCode::kInvalid, "invalid label value \"" + value + "\": " + why);
      }
    }
    change.set[key] = value;
  }
  return std::make_pair(objects, change);
}

// `map` after `change`; false when nothing changes. kInvalid for a key that
// has another value without --overwrite (kubectl's words).
Result<bool> Edit(model::Labels& map, const Change& change, bool overwrite) {
  bool changed = false;
  for (const auto& [key, value] : change.set) {
    auto it = map.find(key);
    if (it != map.end() && it->second != value && !overwrite) {
      return Unexpected(ErrorCode::kInvalid,
                        "'" + key + "' already has a value (" + it->second + "), and --overwrite is false");
    }
    changed = changed || it == map.end() || it->second != value;
    map[key] = value;
  }
  for (const auto& key : change.remove) changed = map.erase(key) > 0 || changed;
  return changed;
}

int RunLabel(const Globals& g, const LabelOptions& opts, bool labels) {
  const char* verb = labels ? "labeled" : "annotated";
  if (IsRemote(g)) return NotOverTheApi(labels ? "label" : "annotate");
  auto split = Split(opts.words, labels);
  if (!split) return Fail(split.error().message, kExitUsage);
  auto& [words, change] = *split;
  if (change.set.empty() && change.remove.empty()) return Fail("name at least one KEY=VALUE or KEY- to change", kExitUsage);
  auto refs = ParseRefs(words);
  if (!refs) return Fail(refs.error().message, kExitUsage);
  auto session = OpenSession(g, Access::kWrite);
  if (!session) return Fail(session.error().message);
  store::ObjectStore& store = *(*session)->objects;
  int code = kExitOk;
  for (const auto& ref : *refs) {
    if (ref.name.empty()) return Fail("name objects: KIND NAME or KIND/NAME", kExitUsage);
    const std::string shown = std::string(model::Info(ref.kind).singular) + "/" + ref.name;
    std::string outcome;
    for (int attempt = 0; attempt < admission::kUpdateAttempts && outcome.empty(); ++attempt) {
      auto current = store.Get(ref.kind, g.namespace_, ref.name);
      if (!current) return Fail(current.error().message);
      if (!*current) {
        code = Fail(shown + " not found in namespace " + g.namespace_);
        outcome = "-";
        break;
      }
      model::Object next = **current;
      auto changed = Edit(labels ? next.meta.labels : next.meta.annotations, change, opts.overwrite);
      if (!changed) return Fail(changed.error().message);
      if (!*changed) {
        outcome = std::string("not ") + verb;
        break;
      }
      auto review = admission::Admit(store, {admission::Candidate{&next, nullptr, {}}});
      if (!review) return Fail(review.error().message);
      if (!review->admitted()) {
        for (const auto& e : review->errors) std::cerr << e.line << "\n";
        return kExitFailure;
      }
      store::ApplyRequest request{next, std::string("keelson ") + (labels ? "label" : "annotate")};
      request.precondition = {store::Precondition::Exists::kPresent, (*current)->meta.resource_version, (*current)->meta.uid};
      auto written = store.Apply({request}, std::nullopt, false);
      if (!written && written.error().code == ErrorCode::kConflict) continue;  // changed since the read
      if (!written) return Fail(written.error().message);
      outcome = verb;
    }
    if (outcome.empty()) return Fail(shown + ": changed by another writer on every attempt");
    if (outcome != "-") std::cout << shown << " " << outcome << "\n";
  }
  return code;
}

void Register(CLI::App& app, Globals& g, bool labels) {
  auto opts = std::make_shared<LabelOptions>();
  auto* cmd = app.add_subcommand(labels ? "label" : "annotate",
                                 labels ? "Set (KEY=VALUE) or remove (KEY-) labels of objects"
                                        : "Set (KEY=VALUE) or remove (KEY-) annotations of objects");
  cmd->add_option("args", opts->words, "KIND NAME... KEY=VALUE... KEY-...")->required();
  cmd->add_flag("--overwrite", opts->overwrite, "Replace a value the key already has");
  cmd->callback([&g, opts, labels] { g.exit_code = RunLabel(g, *opts, labels); });
}

}  // namespace

void RegisterLabel(CLI::App& app, Globals& g) {
  Register(app, g, true);
  Register(app, g, false);
}

}  // namespace keelson::cli
