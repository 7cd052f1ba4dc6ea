#include "git/mirror.h"

#include "git/known_hosts.h"
#include "git/semver.h"

#include <git2.h>

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <vector>

namespace keelson::git {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { git_libgit2_init(); });
}

// `url` with a password in it (https://user:token@host/...) hidden.
std::string Redacted(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto at = url.find('@', scheme + 3);
  auto slash = url.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && at > slash)) return url;
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + ":***" + url.substr(at);
}

// libgit2's last error, with `url`'s password hidden wherever it appears.
std::string LastError(const std::string& url) {
  const git_error* e = git_error_last();
  std::string msg = e && e->message ? e->message : "unknown libgit2 error";
  if (std::string red = Redacted(url); red != url) {
    for (size_t at; (at = msg.find(url)) != std::string::npos;) msg.replace(at, url.size(), red);
  }
  return msg;
}

// What the callbacks share during one fetch.
struct Session {
  const Credentials* credentials = nullptr;
  std::chrono::steady_clock::time_point deadline;
  std::string url;
  int credential_calls = 0;
  bool refused = false;    // the remote turned the credentials down
  bool timed_out = false;
  uint64_t max_bytes = 0;      // Limits::max_bytes
  uint64_t received = 0;       // bytes the remote sent when it stopped
  bool too_large = false;
  std::string host_key_error;  // why the ssh host key was not trusted
};

// "512Mi", "3.2Mi", "700 bytes": a size as the limit's flag spells it.
std::string Size(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"Ki", "Mi", "Gi", "Ti"};
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  double v = static_cast<double>(bytes);
  int unit = -1;
  while (v >= 1024 && unit < 3) v /= 1024, ++unit;
  char buf[32];
  std::snprintf(buf, sizeof buf, v == static_cast<uint64_t>(v) ? "%.0f%s" : "%.1f%s", v, kUnits[unit]);
  return buf;
}

// The port an ssh URL names ("" for 22 or scp-like "user@host:path").
std::string SshPort(const std::string& url) {
  if (url.rfind("ssh://", 0) != 0) return "";
  std::string authority = url.substr(6, url.find('/', 6) - 6);
  if (auto at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  auto colon = authority.rfind(':');
  if (colon == std::string::npos || authority.back() == ']') return "";
  std::string port = authority.substr(colon + 1);
  return port == "22" ? "" : port;
}

int OnCertificate(git_cert* cert, int, const char* host, void* payload) {
  auto* s = static_cast<Session*>(payload);
  if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2) return GIT_PASSTHROUGH;  // TLS: libgit2 verified it
  const auto* key = reinterpret_cast<const git_cert_hostkey*>(cert);
  const std::string& file = s->credentials->known_hosts_file;
  if (file.empty()) {
    s->host_key_error = "ssh needs spec.auth.knownHostsFile: the host key of " + std::string(host) + " cannot be checked";
    return GIT_ECERTIFICATE;
  }
  if (!(key->type & GIT_CERT_SSH_RAW)) {
    s->host_key_error = "the ssh library gave no host key to check";
    return GIT_ECERTIFICATE;
  }
  auto known = KnownHostsAccepts(file, host, SshPort(s->url), std::string(key->hostkey, key->hostkey_len));
  if (!known) {
    s->host_key_error = known.error().message;
    return GIT_ECERTIFICATE;
  }
  return 0;
}

int OnCredentials(git_credential** out, const char*, const char* username_from_url, unsigned int allowed,
                  void* payload) {
  auto* s = static_cast<Session*>(payload);
  // libgit2 asks again after a refusal: once is an answer, twice is a loop.
  if (++s->credential_calls > 1) {
    s->refused = true;
    return GIT_EUSER;
  }
  const Credentials& c = *s->credentials;
  if (allowed & GIT_CREDENTIAL_USERNAME) {
    --s->credential_calls;  // ssh asks who first: not an attempt
    return git_credential_username_new(out, username_from_url ? username_from_url : "git");
  }
  if ((allowed & GIT_CREDENTIAL_SSH_KEY) && !c.ssh_key_file.empty()) {
    return git_credential_ssh_key_new(out, username_from_url ? username_from_url : "git", nullptr,
                                      c.ssh_key_file.c_str(), nullptr);
  }
  if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) && !c.password.empty()) {
    return git_credential_userpass_plaintext_new(out, c.username.c_str(), c.password.c_str());
  }
  s->refused = true;  // nothing to offer for what the remote asks
  return GIT_EUSER;
}

int OnTransfer(const git_indexer_progress* progress, void* payload) {
  auto* s = static_cast<Session*>(payload);
  if (progress && s->max_bytes > 0 && progress->received_bytes > s->max_bytes) {
    s->too_large = true;
    s->received = progress->received_bytes;
    return GIT_EUSER;
  }
  if (std::chrono::steady_clock::now() < s->deadline) return 0;
  s->timed_out = true;
  return GIT_EUSER;
}

int OnSideband(const char*, int, void* payload) { return OnTransfer(nullptr, payload); }

git_remote_callbacks Callbacks(Session& s) {
  git_remote_callbacks cb = GIT_REMOTE_CALLBACKS_INIT;
  cb.credentials = OnCredentials;
  cb.certificate_check = OnCertificate;
  cb.transfer_progress = OnTransfer;
  cb.sideband_progress = OnSideband;
  cb.payload = &s;
  return cb;
}

template <typename T, void (*Free)(T*)>
struct Owned {
  T* p = nullptr;
  ~Owned() {
    if (p) Free(p);
  }
};

std::string Hex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, &oid);
  return buf;
}

// The error of a failed libgit2 call during a fetch, by what went wrong.
// `transferring`: the remote had listed its refs and was sending objects.
Error FetchError(const Session& s, const std::string& url, int rc, bool transferring = false) {
  const std::string where = "git " + Redacted(url) + ": ";
  if (s.timed_out) return MakeError(ErrorCode::kTimeout, where + "timed out");
  if (s.too_large) {
    return MakeError(ErrorCode::kInvalid, where + "the fetch passed the limit of " + Size(s.max_bytes) +
                                              " (received " + Size(s.received) + "; see --git-max-size)");
  }
  if (s.refused || rc == GIT_EAUTH) return MakeError(ErrorCode::kUnauthorized, where + "credentials refused");
  if (!s.host_key_error.empty()) return MakeError(ErrorCode::kUnauthorized, where + s.host_key_error);
  if (rc == GIT_ECERTIFICATE) return MakeError(ErrorCode::kUnauthorized, where + LastError(url));
  if (rc == GIT_ENOTFOUND) return MakeError(ErrorCode::kInvalid, where + LastError(url));
  if (const git_error* e = git_error_last(); e && e->klass == GIT_ERROR_OBJECT) {
    return MakeError(ErrorCode::kInvalid, where + "the remote has a malformed object: " + LastError(url));
  }
  if (const git_error* e = git_error_last(); transferring && e && e->klass == GIT_ERROR_NET) {
    // A git server that cannot read an object it should send hangs up.
    return MakeError(ErrorCode::kUnavailable, where + "the remote broke off the transfer: " + LastError(url));
  }
  return MakeError(ErrorCode::kUnavailable, where + LastError(url));
}

// The commit `oid` names (peeling an annotated tag), when the mirror has it.
std::optional<git_oid> CommitOf(git_repository* repo, const git_oid& oid) {
  Owned<git_object, git_object_free> obj, peeled;
  if (git_object_lookup(&obj.p, repo, &oid, GIT_OBJECT_ANY) != 0) return std::nullopt;
  if (git_object_peel(&peeled.p, obj.p, GIT_OBJECT_COMMIT) != 0) return std::nullopt;
  return *git_object_id(peeled.p);
}

}  // namespace

Result<std::unique_ptr<Mirror>> Mirror::Open(const std::string& dir) {
  GlobalInit();
  git_repository* repo = nullptr;
  std::error_code ec;
  int rc = std::filesystem::exists(std::filesystem::path(dir) / "HEAD", ec) ? git_repository_open_bare(&repo, dir.c_str())
                                                                             : git_repository_init(&repo, dir.c_str(), 1);
  if (rc != 0) return Unexpected(ErrorCode::kUnavailable, "git mirror " + dir + ": " + LastError(""));
  return std::unique_ptr<Mirror>(new Mirror(repo));
}

Mirror::~Mirror() { git_repository_free(repo_); }

Result<Fetched> Mirror::Fetch(const std::string& url, const RefSpec& ref, const Credentials& credentials,
                              std::chrono::seconds timeout, Limits limits) {
  Session s;
  s.credentials = &credentials;
  s.max_bytes = limits.max_bytes;
  if (!credentials.ca_file.empty() &&
      git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, credentials.ca_file.c_str(), nullptr) != 0) {
    return Unexpected(ErrorCode::kInvalid, "git " + Redacted(url) + ": spec.auth.caFile: " + LastError(url));
  }
  s.deadline = std::chrono::steady_clock::now() + timeout;
  s.url = url;
  Owned<git_remote, git_remote_free> remote;
  if (git_remote_create_anonymous(&remote.p, repo_, url.c_str()) != 0) {
    return Unexpected(ErrorCode::kInvalid, "git " + Redacted(url) + ": " + LastError(url));
  }
  git_remote_callbacks cb = Callbacks(s);
  if (int rc = git_remote_connect(remote.p, GIT_DIRECTION_FETCH, &cb, nullptr, nullptr); rc != 0) {
    return Unexpected(FetchError(s, url, rc));
  }
  const git_remote_head** heads = nullptr;
  size_t count = 0;
  if (int rc = git_remote_ls(&heads, &count, remote.p); rc != 0) return Unexpected(FetchError(s, url, rc));

  // What the remote says the ref is now: one listing, no transfer yet.
  std::string want, refspec, shown = ref.value;
  std::optional<git_oid> listed;
  if (ref.type == RefSpec::Type::kSemver) {
    auto constraint = Constraints::Parse(ref.value);
    if (!constraint) return Unexpected(ErrorCode::kInvalid, "git: ref.semver: " + constraint.error().message);
    std::vector<std::string> tags;
    for (size_t i = 0; i < count; ++i) {
      std::string_view name = heads[i]->name;
      if (name.rfind("refs/tags/", 0) != 0 || name.ends_with("^{}")) continue;
      tags.emplace_back(name.substr(10));
    }
    auto best = HighestMatching(tags, *constraint);
    if (!best) {
      git_remote_disconnect(remote.p);
      return Unexpected(ErrorCode::kNotFound, "git " + Redacted(url) + ": no tag matches semver \"" + ref.value + "\"");
    }
    shown = *best;
  }
  switch (ref.type) {
    case RefSpec::Type::kBranch:
      want = "refs/heads/" + ref.value;
      refspec = "+" + want + ":refs/remotes/origin/" + ref.value;
      break;
    case RefSpec::Type::kTag:
    case RefSpec::Type::kSemver:
      want = "refs/tags/" + shown;
      refspec = "+" + want + ":" + want;
      break;
    case RefSpec::Type::kCommit:
      refspec = "+refs/heads/*:refs/remotes/origin/*";
      break;
  }
  for (size_t i = 0; i < count && !want.empty(); ++i) {
    // An annotated tag is listed twice: the tag, then "^{}" with its commit.
    if (want == heads[i]->name || want + "^{}" == heads[i]->name) listed = heads[i]->oid;
  }
  git_remote_disconnect(remote.p);
  if (!want.empty() && !listed) {
    const char* what = ref.type == RefSpec::Type::kBranch ? "branch" : "tag";
    return Unexpected(ErrorCode::kNotFound, "git " + Redacted(url) + ": no " + what + " \"" + ref.value + "\"");
  }
  if (ref.type == RefSpec::Type::kCommit) {
    git_oid oid;
    if (ref.value.size() != GIT_OID_HEXSZ || git_oid_fromstr(&oid, ref.value.c_str()) != 0) {
      return Unexpected(ErrorCode::kInvalid, "git: not a full commit sha: " + ref.value);
    }
    listed = oid;
  }

  Fetched out;
  std::optional<git_oid> commit = CommitOf(repo_, *listed);
  if (!commit) {
    char* specs[] = {refspec.data()};
    git_strarray refspecs{specs, 1};
    git_fetch_options fo = GIT_FETCH_OPTIONS_INIT;
    fo.callbacks = cb;
    fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
    s.credential_calls = 0;
    if (int rc = git_remote_fetch(remote.p, &refspecs, &fo, nullptr); rc != 0) {
      return Unexpected(FetchError(s, url, rc, true));
    }
    out.downloaded = true;
    commit = CommitOf(repo_, *listed);
    if (!commit) {
      return Unexpected(ErrorCode::kNotFound, "git " + Redacted(url) + ": no commit " + ref.value);
    }
  }
  // A commit whose text does not parse, or whose tree is missing, is the
  // remote's fault: say so now rather than at checkout.
  Owned<git_commit, git_commit_free> parsed;
  Owned<git_tree, git_tree_free> tree;
  if (git_commit_lookup(&parsed.p, repo_, &*commit) != 0 || git_commit_tree(&tree.p, parsed.p) != 0) {
    return Unexpected(ErrorCode::kInvalid,
                      "git " + Redacted(url) + ": commit " + Hex(*commit) + " is malformed: " + LastError(url));
  }
  out.commit = Hex(*commit);
  out.revision = (ref.type == RefSpec::Type::kCommit ? "" : shown + "@") + "sha1:" + out.commit;
  return out;
}

namespace {

struct TreeSize {
  git_odb* odb = nullptr;
  uint64_t bytes = 0, limit = 0;
  int error = 0;
};

int AddBlob(const char*, const git_tree_entry* entry, void* payload) {
  auto* t = static_cast<TreeSize*>(payload);
  if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB) return 0;
  size_t len = 0;
  git_object_t type;
  if (int rc = git_odb_read_header(&len, &type, t->odb, git_tree_entry_id(entry)); rc != 0) {
    t->error = rc;
    return -1;
  }
  t->bytes += len;
  return t->bytes > t->limit ? -1 : 0;
}

}  // namespace

Result<void> Mirror::Checkout(const std::string& commit, const std::string& dir, Limits limits) {
  git_oid oid;
  if (git_oid_fromstr(&oid, commit.c_str()) != 0) return Unexpected(ErrorCode::kInvalid, "git: not a commit: " + commit);
  Owned<git_commit, git_commit_free> c;
  if (git_commit_lookup(&c.p, repo_, &oid) != 0) {
    return Unexpected(ErrorCode::kNotFound, "git: the mirror has no commit " + commit);
  }
  if (limits.max_bytes > 0) {
    // A small pack can hold files that are huge once written: count first.
    Owned<git_tree, git_tree_free> tree;
    Owned<git_odb, git_odb_free> odb;
    if (git_commit_tree(&tree.p, c.p) != 0 || git_repository_odb(&odb.p, repo_) != 0) {
      return Unexpected(ErrorCode::kInvalid, "git: commit " + commit + " is malformed: " + LastError(""));
    }
    TreeSize size{odb.p, 0, limits.max_bytes, 0};
    git_tree_walk(tree.p, GIT_TREEWALK_PRE, AddBlob, &size);
    if (size.error != 0) {
      return Unexpected(ErrorCode::kInvalid, "git: commit " + commit + " is malformed: " + LastError(""));
    }
    if (size.bytes > limits.max_bytes) {
      return Unexpected(ErrorCode::kInvalid, "git: the files of commit " + commit + " pass the limit of " +
                                                 Size(limits.max_bytes) + " (see --git-max-size)");
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Unexpected(ErrorCode::kUnavailable, "git: make " + dir + ": " + ec.message());
  git_checkout_options co = GIT_CHECKOUT_OPTIONS_INIT;
  co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX;
  co.target_directory = dir.c_str();
  if (git_checkout_tree(repo_, reinterpret_cast<const git_object*>(c.p), &co) != 0) {
    return Unexpected(ErrorCode::kUnavailable, "git: check out " + commit + " into " + dir + ": " + LastError(""));
  }
  return {};
}

}  // namespace keelson::git
