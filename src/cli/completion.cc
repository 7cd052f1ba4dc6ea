// keelson completion bash|zsh|fish: a script that asks the binary itself.
//
// As kubectl (cobra) does, the script is a thin shim: on each TAB it runs
// `keelson __complete WORD...` with the words typed so far (the last one the
// word being completed) and offers what that prints, one candidate a line.
// The binary knows its commands, their flags and which take values (from
// its own command table), -o formats, kinds, KIND/NAME forms, and the names
// of stored objects in the store and namespace the words name (--db and -n
// may come before the command). A last line "__files__" asks the shell to
// complete file names instead.

#include <iostream>
#include <memory>
#include <set>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "model/kind.h"

namespace keelson::cli {
namespace {

constexpr const char* kFiles = "__files__";

// The commands whose positional words are objects: KIND NAME or KIND/NAME.
const std::set<std::string> kObjectCommands = {
    "get",   "describe", "delete", "wait", "history", "events", "scale", "label", "annotate", "logs",
    "exec",  "top",      "patch",  "edit", "status",  "undo",   "restart"};

// Flags whose values are files.
const std::set<std::string> kFileFlags = {"-f", "--filename", "--db", "--patch-file", "--kubeconfig",
                                          "--certificate-authority", "--api-tls-cert-file",
                                          "--api-tls-key-file", "--client-certificate"};

std::vector<std::string> Values(const std::string& flag, const std::string& command) {
  if (flag == "-o" || flag == "--output") {
    return {"table", "wide", "yaml", "json", "name", "jsonpath=", "custom-columns="};
  }
  if (flag == "--log-level") return {"trace", "debug", "info", "warn", "error"};
  if (flag == "--log-format") return {"text", "json"};
  if (flag == "--type") return {"json", "merge", "strategic"};
  if (flag == "--sort-by" && command == "top") return {"cpu", "memory"};
  if (flag == "--for") return {"condition=Ready", "delete"};
  return {};
}

const CLI::Option* FindFlag(const CLI::App* app, const std::string& word) {
  for (const CLI::App* a = app; a; a = a->get_parent()) {
    for (const CLI::Option* o : a->get_options()) {
      if (o->get_positional()) continue;
      for (const auto& l : o->get_lnames()) {
        if ("--" + l == word) return o;
      }
      for (const auto& s : o->get_snames()) {
        if ("-" + s == word) return o;
      }
    }
  }
  return nullptr;
}

bool TakesValue(const CLI::Option* o) { return o && o->get_type_size_max() > 0; }

void AddFlags(const CLI::App* app, std::vector<std::string>* out) {
  for (const CLI::App* a = app; a; a = a->get_parent()) {
    for (const CLI::Option* o : a->get_options()) {
      if (o->get_positional()) continue;
      for (const auto& l : o->get_lnames()) out->push_back("--" + l);
      for (const auto& s : o->get_snames()) out->push_back("-" + s);
    }
  }
}

std::vector<std::string> Names(const std::string& db, const std::string& ns, model::Kind kind) {
  Globals g;
  g.db_path = db.empty() ? DefaultDbPath() : db;
  std::vector<std::string> out;
  auto session = OpenSession(g, Access::kRead);
  if (!session) return out;
  store::ListOptions list{kind, ns, nullptr};
  (void)(*session)->objects->ForEach(list, [&out](model::Object&& o) { out.push_back(o.meta.name); });
  return out;
}

std::vector<std::string> Complete(CLI::App& root, const std::vector<std::string>& words) {
  const std::string current = words.empty() ? "" : words.back();
  std::string db, ns = "default";
  CLI::App* command = &root;
  std::vector<std::string> positionals;  // of the command, before the current word
  std::string previous_flag;
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    const std::string& w = words[i];
    if (!previous_flag.empty()) {
      if (previous_flag == "--db") db = w;
      if (previous_flag == "-n" || previous_flag == "--namespace") ns = w;
      previous_flag.clear();
      continue;
    }
    if (w.rfind("-", 0) == 0) {
      const auto eq = w.find('=');
      const std::string name = w.substr(0, eq);
      if (eq != std::string::npos) {
        if (name == "--db") db = w.substr(eq + 1);
        if (name == "--namespace") ns = w.substr(eq + 1);
      } else if (TakesValue(FindFlag(command, name))) {
        previous_flag = name;
      }
      continue;
    }
    if (positionals.empty()) {
      // A word that names a subcommand goes down a level (rollout status).
      try {
        CLI::App* sub = command->get_subcommand(w);
        if (sub && sub->get_group() != "") {
          command = sub;
          continue;
        }
      } catch (const CLI::OptionNotFound&) {
      }
    }
    positionals.push_back(w);
  }
  const std::string name = command == &root ? "" : command->get_name();
  std::vector<std::string> out;
  if (!previous_flag.empty()) {
    if (kFileFlags.count(previous_flag)) return {kFiles};
    if (previous_flag == "-n" || previous_flag == "--namespace") {
      Globals g;
      g.db_path = db.empty() ? DefaultDbPath() : db;
      if (auto s = OpenSession(g, Access::kRead)) {
        if (auto all = (*s)->objects->Namespaces()) return *all;
      }
      return {};
    }
    return Values(previous_flag, name);
  }
  if (current.rfind("-", 0) == 0) {
    AddFlags(command, &out);
    return out;
  }
  if (command->get_subcommands({}).size() > 0 && positionals.empty()) {
    for (const CLI::App* sub : command->get_subcommands({})) {
      if (sub->get_group() != "") out.push_back(sub->get_name());
    }
    return out;
  }
  if (name == "completion") return {"bash", "zsh", "fish"};
  if (name == "explain") {
    for (const auto& k : model::AllKinds()) out.emplace_back(k.singular);
    return out;
  }
  if (!kObjectCommands.count(name)) return out;
  // KIND/NAME being typed: the kind's names, in that form.
  if (auto slash = current.find('/'); slash != std::string::npos) {
    auto kind = model::ParseKind(current.substr(0, slash));
    if (!kind) return out;
    for (const auto& n : Names(db, ns, *kind)) out.push_back(current.substr(0, slash + 1) + n);
    return out;
  }
  if (positionals.empty()) {
    for (const auto& k : model::AllKinds()) {
      out.emplace_back(k.singular);
      out.emplace_back(k.plural);
    }
    if (name == "get") out.emplace_back("all");
    return out;
  }
  auto kind = model::ParseKind(positionals.front());
  if (kind && positionals.front().find('/') == std::string::npos) out = Names(db, ns, *kind);
  return out;
}

std::string BashScript() {
  return R"(# bash completion for keelson: source <(keelson completion bash)
_keelson() {
  local cur="${COMP_WORDS[COMP_CWORD]}" out
  out=$(keelson __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
  if [[ "$out" == "__files__" ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  else
    local IFS=$'\n'
    COMPREPLY=($(compgen -W "$out" -- "$cur"))
  fi
}
complete -o nospace -o bashdefault -F _keelson keelson 2>/dev/null || complete -F _keelson keelson
)";
}

std::string ZshScript() {
  return R"(#compdef keelson
# zsh completion for keelson: source <(keelson completion zsh)
_keelson() {
  local -a candidates
  local out
  out=$(keelson __complete "${(@)words[2,CURRENT]}" 2>/dev/null)
  if [[ "$out" == "__files__" ]]; then
    _files
    return
  fi
  candidates=("${(@f)out}")
  compadd -- "${(@)candidates}"
}
if (( $+functions[compdef] )); then compdef _keelson keelson; fi
)";
}

std::string FishScript() {
  return R"(# fish completion for keelson: keelson completion fish | source
function __keelson_complete
    set -l words (commandline -opc) (commandline -ct)
    set -e words[1]
    set -l out (keelson __complete $words 2>/dev/null)
    if test "$out" = "__files__"
        __fish_complete_path (commandline -ct)
    else
        printf '%s\n' $out
    end
end
complete -c keelson -f -a '(__keelson_complete)'
)";
}

}  // namespace

int RunHiddenComplete(CLI::App& app, const std::vector<std::string>& words) {
  const std::string current = words.empty() ? "" : words.back();
  for (const auto& c : Complete(app, words)) {
    if (c == kFiles || c.rfind(current, 0) == 0) std::cout << c << "\n";
  }
  return kExitOk;
}

void RegisterCompletion(CLI::App& app, Globals& g) {
  auto shell = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("completion", "Print a shell completion script (bash, zsh or fish)");
  cmd->add_option("shell", *shell, "bash, zsh or fish")->required()->check(CLI::IsMember({"bash", "zsh", "fish"}));
  // `shell` is captured: the option writes into it when the command line is parsed.
  cmd->callback([&g, shell] {
    std::cout << (*shell == "zsh" ? ZshScript() : *shell == "fish" ? FishScript() : BashScript());
    g.exit_code = kExitOk;
  });
}

}  // namespace keelson::cli
