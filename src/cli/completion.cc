// keelson completion bash: a completion script for bash.
// Kinds and commands are completed from this binary's tables; object names
// are asked of the store with `keelson get KIND -o name` as the user types.

#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "model/kind.h"

namespace keelson::cli {
namespace {

std::string Words(const std::vector<CLI::App*>& subs) {
  std::string out;
  for (const auto* s : subs) out += (out.empty() ? "" : " ") + s->get_name();
  return out;
}

std::string Script(const std::string& commands) {
  std::string kinds;
  for (const auto& k : model::AllKinds()) {
    kinds += std::string(kinds.empty() ? "" : " ") + std::string(k.singular) + " " + std::string(k.plural);
  }
  return R"(# bash completion for keelson: source <(keelson completion bash)
_keelson() {
  local cur prev cmd i
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in -*) ;; *) cmd="${COMP_WORDS[i]}"; break ;; esac
  done
  case "$prev" in
    -f|--filename|--db) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    -o|--output) COMPREPLY=($(compgen -W "table wide yaml json name" -- "$cur")); return ;;
    -n|--namespace|-l|--selector|--timeout|--replicas|--revision) return ;;
  esac
  if [[ -z "$cmd" ]]; then
    COMPREPLY=($(compgen -W ")" + commands + R"( --db --docker-host --namespace --log-level --log-format --kubeconfig --context --server --token --certificate-authority --help" -- "$cur"))
    return
  fi
  case "$cmd" in
    get|describe|delete|wait|history|events|scale)
      local kind="" j
      for ((j = i + 1; j < COMP_CWORD; j++)); do
        case "${COMP_WORDS[j]}" in -*) ;; *) kind="${COMP_WORDS[j]}"; break ;; esac
      done
      if [[ -z "$kind" ]]; then
        COMPREPLY=($(compgen -W ")" + kinds + R"( all" -- "$cur"))
      else
        local names
        names=$(keelson get "$kind" -o name 2>/dev/null | sed 's|.*/||')
        COMPREPLY=($(compgen -W "$names" -- "$cur"))
      fi ;;
    completion) COMPREPLY=($(compgen -W "bash" -- "$cur")) ;;
  esac
}
complete -F _keelson keelson
)";
}

}  // namespace

void RegisterCompletion(CLI::App& app, Globals& g) {
  auto shell = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("completion", "Print a shell completion script (bash)");
  cmd->add_option("shell", *shell, "bash")->required()->check(CLI::IsMember({"bash"}));
  // `shell` is captured: the option writes into it when the command line is parsed.
  cmd->callback([&app, &g, shell] {
    std::cout << Script(Words(app.get_subcommands({})));
    g.exit_code = kExitOk;
  });
}

}  // namespace keelson::cli
