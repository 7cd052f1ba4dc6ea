// keelson patch KIND NAME -p PATCH [--type merge|json|strategic] [--patch-file F]
// keelson edit KIND NAME | KIND/NAME
//
// Both end as an apply of one object under the resourceVersion that was
// read: the same validation (errors at file:line:column and field), the same
// admission, and a conflict when someone else changed it meanwhile.

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/context.h"
#include "cli/manifests.h"
#include "cli/remote.h"
#include "cli/resolve.h"
#include "manifest/document.h"
#include "util/secret_file.h"

namespace keelson::cli {
namespace {

using nlohmann::json;

struct ObjectOptions {
  std::vector<std::string> words;
  std::string patch, patch_file, type = "strategic";
};

Result<ObjectRef> OneObject(const std::vector<std::string>& words, const std::string& command) {
  auto refs = ParseRefs(words);
  if (!refs) return Unexpected(refs.error());
  if (refs->size() != 1 || refs->front().name.empty()) {
    return Unexpected(ErrorCode::kInvalid, command + " takes one object: keelson " + command + " KIND NAME");
  }
  return refs->front();
}

// The files an object already names (env files, password files, build
// contexts) stay nameable when it is edited or patched from elsewhere: the
// user keeps what was admitted, and may name new files only as apply allows.
void NamedPaths(const json& v, const std::string& key, std::vector<std::filesystem::path>* out) {
  if (v.is_object()) {
    for (const auto& [k, child] : v.items()) NamedPaths(child, k, out);
  } else if (v.is_array()) {
    for (const auto& child : v) NamedPaths(child, key, out);
  } else if (v.is_string() && (key == "file" || key == "passwordFile" || key == "context")) {
    const std::filesystem::path p = v.get<std::string>();
    if (p.is_absolute()) out->push_back(key == "context" ? p : p.parent_path());
  }
}

struct Stored {
  std::string action;  ///< configured, unchanged
};

// Validates `text` (named `name` in errors, its relative paths from the
// working directory) as the new state of `original`, and stores it under
// the resourceVersion read. Errors are printed, one line each; the result
// says whether it was stored.
Result<std::optional<Stored>> StoreEdited(Session& session, const model::Object& original, const std::string& name,
                                          const std::string& text, const std::string& source,
                                          std::vector<std::string>* errors) {
  auto allowed = AllowedPathsFromEnvironment();
  NamedPaths(original.spec, "", &allowed);
  auto loaded = manifest::LoadManifests({manifest::Source{name, text}}, original.meta.namespace_,
                                        manifest::CrdSet::Builtin(), allowed);
  for (const auto& e : loaded.errors) errors->push_back(e.ToString());
  if (!errors->empty()) return std::optional<Stored>();
  if (loaded.objects.size() != 1) {
    errors->push_back(name + ": holds " + std::to_string(loaded.objects.size()) + " objects; one was expected");
    return std::optional<Stored>();
  }
  const model::Object& o = loaded.objects.front().object;
  if (o.kind != original.kind || o.meta.name != original.meta.name || o.meta.namespace_ != original.meta.namespace_) {
    errors->push_back(name + ": the kind, name and namespace cannot be changed (" + model::DisplayName(original) +
                      " in " + original.meta.namespace_ + ")");
    return std::optional<Stored>();
  }
  std::vector<store::ApplyRequest> requests;
  requests.push_back({o, source});
  requests.back().precondition = {store::Precondition::Exists::kPresent, original.meta.resource_version,
                                  original.meta.uid};
  auto admitted = Admit(*session.objects, requests, loaded.objects);
  if (!admitted) return Unexpected(admitted.error());
  if (!*admitted) {
    errors->push_back(name + ": refused by admission (above)");
    return std::optional<Stored>();
  }
  auto result = session.objects->Apply(requests, std::nullopt, false);
  if (!result) return Unexpected(result.error());
  return std::optional<Stored>(Stored{store::ToString(result->applied.front().action)});
}

// --- patch ------------------------------------------------------------------------

// kubectl's --type: merge (RFC 7386), json (RFC 6902), or strategic. keelson's
// kinds are custom resources without patch strategies, on which a strategic
// merge patch merges maps and replaces lists as a merge patch does; it is
// taken as one (kubectl's default type then works without --type merge).
Result<json> Patched(const json& target, const json& patch, const std::string& type) {
  if (type == "merge" || type == "strategic") {
    json out = target;
    out.merge_patch(patch);
    return out;
  }
  if (!patch.is_array()) return Unexpected(ErrorCode::kInvalid, "a JSON patch (--type json) must be an array of operations");
  try {
    return target.patch(patch);
  } catch (const json::exception& e) {
    std::string why = e.what();
    if (auto at = why.find("] "); at != std::string::npos) why = why.substr(at + 2);
    return Unexpected(ErrorCode::kInvalid, "the JSON patch cannot be applied: " + why);
  }
}

const char* MediaType(const std::string& type) {
  return type == "json" ? "application/json-patch+json" : "application/merge-patch+json";
}

int RunPatch(const Globals& g, const ObjectOptions& opts) {
  auto ref = OneObject(opts.words, "patch");
  if (!ref) return Fail(ref.error().message, kExitUsage);
  if (opts.type != "merge" && opts.type != "json" && opts.type != "strategic") {
    return Fail("--type: json, merge or strategic, not " + opts.type, kExitUsage);
  }
  if (opts.patch.empty() == opts.patch_file.empty()) return Fail("give one of -p/--patch and --patch-file", kExitUsage);
  std::string text = opts.patch;
  if (!opts.patch_file.empty()) {
    std::ifstream in(opts.patch_file);
    if (!in) return Fail("--patch-file: cannot read " + opts.patch_file);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  // JSON or YAML, as kubectl takes either.
  auto docs = manifest::ParseYaml(text, "<patch>");
  if (!docs) return Fail(docs.error().message, kExitUsage);
  if (docs->size() != 1) return Fail("the patch must be one JSON or YAML document", kExitUsage);
  const json* patch_doc = &docs->front().value;
  const std::string what = std::string(model::Info(ref->kind).singular) + "/" + ref->name;
  if (IsRemote(g)) {
    auto client = OpenRemote(g);
    if (!client) return Fail(client.error().message, client.error().code == ErrorCode::kInvalid ? kExitUsage : kExitFailure);
    auto reply = (*client)->Call("PATCH", ApiPath(ref->kind, g.namespace_, ref->name), patch_doc->dump(), MediaType(opts.type));
    if (!reply) return Fail(reply.error().message);
    if (reply->status != 200) return Fail(ApiError(*reply).message);
    std::cout << what << " patched\n";
    return kExitOk;
  }
  auto session = OpenSession(g, Access::kWrite);
  if (!session) return Fail(session.error().message);
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto current = (*session)->objects->Get(ref->kind, g.namespace_, ref->name);
    if (!current) return Fail(current.error().message);
    if (!*current) return Fail(std::string(model::Info(ref->kind).singular) + " \"" + ref->name + "\" not found in namespace " + g.namespace_);
    json before = model::ToJson(**current);
    before.erase("status");
    auto after = Patched(before, *patch_doc, opts.type);
    if (!after) return Fail(after.error().message);
    std::vector<std::string> errors;
    auto stored = StoreEdited(**session, **current, "<patch>", after->dump(2), "keelson patch", &errors);
    if (!stored && stored.error().code == ErrorCode::kConflict) continue;  // changed since the read: again
    if (!stored) return Fail(stored.error().message);
    for (const auto& e : errors) std::cerr << "error: " << e << "\n";
    if (!*stored) return kExitFailure;
    std::cout << what << " patched" << ((*stored)->action == "unchanged" ? " (no change)" : "") << "\n";
    return kExitOk;
  }
  return Fail(what + ": changed by another writer on every attempt");
}

// --- edit -------------------------------------------------------------------------

constexpr const char* kEditHeader =
    "# Please edit the object below. Lines beginning with a '#' will be ignored,\n"
    "# and an empty file will abort the edit. If an error occurs while saving this file will be\n"
    "# reopened with the relevant failures.\n"
    "#\n";

std::string WithoutComments(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.rfind("#", 0) == 0) continue;
    out += line + "\n";
  }
  return out;
}

bool Blank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

// $KUBE_EDITOR, then $EDITOR, then vi, as kubectl; run through the shell so
// that an editor with arguments ("code --wait") works.
int RunEditor(const std::string& path) {
  const char* editor = std::getenv("KUBE_EDITOR");
  if (!editor || !*editor) editor = std::getenv("EDITOR");
  const std::string command = std::string(editor && *editor ? editor : "vi") + " \"$0\"";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), path.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int RunEdit(const Globals& g, const ObjectOptions& opts) {
  if (IsRemote(g)) return NotOverTheApi("edit");
  auto ref = OneObject(opts.words, "edit");
  if (!ref) return Fail(ref.error().message, kExitUsage);
  auto session = OpenSession(g, Access::kWrite);
  if (!session) return Fail(session.error().message);
  auto current = (*session)->objects->Get(ref->kind, g.namespace_, ref->name);
  if (!current) return Fail(current.error().message);
  if (!*current) {
    return Fail(std::string(model::Info(ref->kind).singular) + " \"" + ref->name + "\" not found in namespace " + g.namespace_);
  }
  const std::string what = std::string(model::Info(ref->kind).singular) + "/" + ref->name;
  // The object as stored, status included (edits to it are ignored, as a
  // custom resource's main endpoint ignores status).
  const std::string original = manifest::EmitYaml(model::ToJson(**current));
  char dir_template[] = "/tmp/keelson-edit-XXXXXX";
  if (!::mkdtemp(dir_template)) return Fail("cannot make a directory for the edit in /tmp");
  const std::filesystem::path file = std::filesystem::path(dir_template) / (ref->name + ".yaml");
  std::string errors_text;
  std::string last_saved;
  for (;;) {
    {
      std::ofstream out(file);
      out << kEditHeader << errors_text << (last_saved.empty() ? original : last_saved);
    }
    if (int rc = RunEditor(file.string()); rc != 0) {
      return Fail("the editor exited with " + std::to_string(rc) + "; nothing was changed");
    }
    std::ifstream in(file);
    std::string edited((std::istreambuf_iterator<char>(in)), {});
    const std::string body = WithoutComments(edited);
    if (Blank(body)) {
      std::cout << "Edit cancelled, no changes made.\n";
      std::filesystem::remove_all(dir_template);
      return kExitOk;
    }
    if (body == WithoutComments(original)) {
      std::cout << "Edit cancelled, no changes made.\n";
      std::filesystem::remove_all(dir_template);
      return kExitOk;
    }
    if (!last_saved.empty() && body == WithoutComments(last_saved)) {
      // Saved again as it was refused: kubectl stops here, keeping the file.
      std::cerr << "error: Edit cancelled, no valid changes were saved.\n"
                << "A copy of your changes has been stored to \"" << file.string() << "\"\n";
      return kExitFailure;
    }
    std::vector<std::string> errors;
    auto stored = StoreEdited(**session, **current, file.string(), edited, "keelson edit", &errors);
    if (!stored && stored.error().code == ErrorCode::kConflict) {
      std::cerr << "error: " << what << " was changed by someone else while it was open; nothing was stored\n"
                << "A copy of your changes has been stored to \"" << file.string() << "\"\n";
      return kExitFailure;
    }
    if (!stored) return Fail(stored.error().message);
    if (stored && *stored) {
      std::cout << what << " " << ((*stored)->action == "unchanged" ? "unchanged" : "edited") << "\n";
      std::filesystem::remove_all(dir_template);
      return kExitOk;
    }
    // Reopened with what was wrong, as kubectl does.
    for (const auto& e : errors) std::cerr << "error: " << e << "\n";
    errors_text = "# " + what + " was not valid:\n";
    for (const auto& e : errors) errors_text += "# * " + e + "\n";
    errors_text += "#\n";
    last_saved = body;
  }
}

}  // namespace

void RegisterPatch(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<ObjectOptions>();
  auto* cmd = app.add_subcommand("patch", "Change fields of an object with a merge or JSON patch");
  cmd->add_option("object", opts->words, "KIND NAME or KIND/NAME")->required();
  cmd->add_option("-p,--patch", opts->patch, "The patch, JSON or YAML");
  cmd->add_option("--patch-file", opts->patch_file, "A file holding the patch");
  cmd->add_option("--type", opts->type, "merge (RFC 7386), json (RFC 6902), or strategic (taken as merge)");
  cmd->callback([&g, opts] { g.exit_code = RunPatch(g, *opts); });
}

void RegisterEdit(CLI::App& app, Globals& g) {
  auto opts = std::make_shared<ObjectOptions>();
  auto* cmd = app.add_subcommand("edit", "Edit an object in $KUBE_EDITOR or $EDITOR; validated on save");
  cmd->add_option("object", opts->words, "KIND NAME or KIND/NAME")->required();
  cmd->callback([&g, opts] { g.exit_code = RunEdit(g, *opts); });
}

}  // namespace keelson::cli
