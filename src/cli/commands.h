#pragma once
// One Register function per command (one file each); main.cc wires them up.

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace keelson::cli {

struct Globals;

void RegisterApply(CLI::App& app, Globals& g);
void RegisterGet(CLI::App& app, Globals& g);
void RegisterDescribe(CLI::App& app, Globals& g);
void RegisterDelete(CLI::App& app, Globals& g);
void RegisterDiff(CLI::App& app, Globals& g);
void RegisterScale(CLI::App& app, Globals& g);
void RegisterEvents(CLI::App& app, Globals& g);
void RegisterHistory(CLI::App& app, Globals& g);
void RegisterWait(CLI::App& app, Globals& g);
void RegisterVersion(CLI::App& app, Globals& g);
void RegisterController(CLI::App& app, Globals& g);
void RegisterPlan(CLI::App& app, Globals& g);
void RegisterRollout(CLI::App& app, Globals& g);
void RegisterCompletion(CLI::App& app, Globals& g);
/// `keelson __complete WORD...`: the shells' completion scripts ask it for
/// candidates, one a line (completion.cc).
int RunHiddenComplete(CLI::App& app, const std::vector<std::string>& words);
void RegisterKubeconfig(CLI::App& app, Globals& g);
void RegisterServe(CLI::App& app, Globals& g);
void RegisterExplain(CLI::App& app, Globals& g);
/// label and annotate.
void RegisterLabel(CLI::App& app, Globals& g);
void RegisterLogs(CLI::App& app, Globals& g);
void RegisterExec(CLI::App& app, Globals& g);
void RegisterTop(CLI::App& app, Globals& g);
void RegisterSync(CLI::App& app, Globals& g);
void RegisterApiResources(CLI::App& app, Globals& g);
void RegisterPatch(CLI::App& app, Globals& g);
void RegisterEdit(CLI::App& app, Globals& g);
void RegisterConvert(CLI::App& app, Globals& g);

}  // namespace keelson::cli
