// git::Mirror against repositories the git CLI makes.

#include "git/mirror.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace keelson::git {
namespace {

namespace fs = std::filesystem;

// A work repository with a commit per Commit().
struct Upstream {
  fs::path dir;
  Upstream() {
    char tmpl[] = "/tmp/keelson-git-XXXXXX";
    dir = ::mkdtemp(tmpl);
    Git("init -q -b main " + (dir / "up").string());
  }
  ~Upstream() { fs::remove_all(dir); }
  static void Git(const std::string& args) {
    std::string cmd = "git -c user.name=t -c user.email=t@example.com -c init.defaultBranch=main " + args + " >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  void In(const std::string& args) { Git("-C " + (dir / "up").string() + " " + args); }
  std::string Commit(const std::string& file, const std::string& text) {
    std::ofstream(dir / "up" / file) << text;
    In("add -A");
    In("commit -q -m change");
    return Head();
  }
  std::string Head() {
    std::string cmd = "git -C " + (dir / "up").string() + " rev-parse HEAD";
    FILE* p = ::popen(cmd.c_str(), "r");
    char buf[64] = {0};
    REQUIRE(std::fgets(buf, sizeof buf, p) != nullptr);
    ::pclose(p);
    return std::string(buf, 40);
  }
  std::string url() const { return "file://" + (dir / "up").string(); }
};

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_CASE("git mirror: a branch's commit, fetched once, then only listed") {
  Upstream up;
  const std::string first = up.Commit("a.yaml", "one\n");
  auto mirror = Mirror::Open((up.dir / "mirror.git").string());
  REQUIRE(mirror.has_value());
  auto got = (*mirror)->Fetch(up.url(), {}, {}, std::chrono::seconds(30));
  REQUIRE(got.has_value());
  CHECK(got->commit == first);
  CHECK(got->revision == "main@sha1:" + first);
  CHECK(got->downloaded);
  auto again = (*mirror)->Fetch(up.url(), {}, {}, std::chrono::seconds(30));
  REQUIRE(again.has_value());
  CHECK(again->commit == first);
  CHECK_FALSE(again->downloaded);  // nothing new: no transfer

  const std::string second = up.Commit("a.yaml", "two\n");
  auto next = (*mirror)->Fetch(up.url(), {}, {}, std::chrono::seconds(30));
  REQUIRE(next.has_value());
  CHECK(next->commit == second);
  CHECK(next->downloaded);
  REQUIRE((*mirror)->Checkout(first, (up.dir / "at-first").string()).has_value());
  CHECK(Read(up.dir / "at-first" / "a.yaml") == "one\n");
  REQUIRE((*mirror)->Checkout(second, (up.dir / "at-second").string()).has_value());
  CHECK(Read(up.dir / "at-second" / "a.yaml") == "two\n");

  // A mirror opened again (another controller run) keeps what it fetched.
  mirror->reset();
  auto reopened = Mirror::Open((up.dir / "mirror.git").string());
  REQUIRE(reopened.has_value());
  CHECK_FALSE((*reopened)->Fetch(up.url(), {}, {}, std::chrono::seconds(30))->downloaded);
}

TEST_CASE("git mirror: a force-pushed branch and a deleted one") {
  Upstream up;
  up.Commit("a.yaml", "one\n");
  const std::string before = up.Commit("a.yaml", "two\n");
  auto mirror = Mirror::Open((up.dir / "m.git").string());
  REQUIRE(mirror.has_value());
  CHECK((*mirror)->Fetch(up.url(), {}, {}, std::chrono::seconds(30))->commit == before);
  // History rewritten: the branch now names a commit that does not descend from the old one.
  up.In("reset -q --hard HEAD~1");
  const std::string rewritten = up.Commit("a.yaml", "two, rewritten\n");
  REQUIRE(rewritten != before);
  auto after = (*mirror)->Fetch(up.url(), {}, {}, std::chrono::seconds(30));
  REQUIRE(after.has_value());
  CHECK(after->commit == rewritten);
  up.In("checkout -q -b other");
  up.In("branch -q -D main");
  auto gone = (*mirror)->Fetch(up.url(), {}, {}, std::chrono::seconds(30));
  CHECK(gone.error().code == ErrorCode::kNotFound);
  CHECK(gone.error().message == "git " + up.url() + ": no branch \"main\"");
}

TEST_CASE("git mirror: tags (annotated and light), a commit, and what is not there") {
  Upstream up;
  const std::string tagged = up.Commit("a.yaml", "v1\n");
  up.In("tag -a v1.0.0 -m release");
  up.In("tag light");
  const std::string later = up.Commit("a.yaml", "v2\n");
  auto mirror = Mirror::Open((up.dir / "m.git").string());
  REQUIRE(mirror.has_value());
  auto annotated = (*mirror)->Fetch(up.url(), {RefSpec::Type::kTag, "v1.0.0"}, {}, std::chrono::seconds(30));
  REQUIRE(annotated.has_value());
  CHECK(annotated->revision == "v1.0.0@sha1:" + tagged);  // the commit, not the tag object
  CHECK((*mirror)->Fetch(up.url(), {RefSpec::Type::kTag, "light"}, {}, std::chrono::seconds(30))->commit == tagged);
  auto commit = (*mirror)->Fetch(up.url(), {RefSpec::Type::kCommit, later}, {}, std::chrono::seconds(30));
  REQUIRE(commit.has_value());
  CHECK(commit->revision == "sha1:" + later);

  auto branch = (*mirror)->Fetch(up.url(), {RefSpec::Type::kBranch, "nope"}, {}, std::chrono::seconds(30));
  CHECK(branch.error().code == ErrorCode::kNotFound);
  CHECK(branch.error().message == "git " + up.url() + ": no branch \"nope\"");
  CHECK((*mirror)->Fetch(up.url(), {RefSpec::Type::kTag, "v9"}, {}, std::chrono::seconds(30)).error().code ==
        ErrorCode::kNotFound);
  auto absent = (*mirror)->Fetch(up.url(), {RefSpec::Type::kCommit, std::string(40, 'a')}, {}, std::chrono::seconds(30));
  CHECK(absent.error().code == ErrorCode::kNotFound);
  CHECK((*mirror)->Fetch(up.url(), {RefSpec::Type::kCommit, "abc"}, {}, std::chrono::seconds(30)).error().code ==
        ErrorCode::kInvalid);
  auto nowhere = (*mirror)->Fetch("file:///nonexistent/repo", {}, {}, std::chrono::seconds(30));
  REQUIRE_FALSE(nowhere.has_value());
  CHECK(nowhere.error().message.starts_with("git file:///nonexistent/repo: "));
}

TEST_CASE("git mirror: a semver range takes the highest matching tag, and a moved tag moves with it") {
  Upstream up;
  const std::string one = up.Commit("a.yaml", "1.0\n");
  up.In("tag v1.0.0");
  const std::string two = up.Commit("a.yaml", "1.2\n");
  up.In("tag -a v1.2.0 -m r");
  up.Commit("a.yaml", "2.0-rc\n");
  up.In("tag v2.0.0-rc.1");
  up.In("tag not-a-version");
  auto mirror = Mirror::Open((up.dir / "m.git").string());
  REQUIRE(mirror.has_value());
  const RefSpec range{RefSpec::Type::kSemver, ">=1.0.0 <2.0.0"};
  auto got = (*mirror)->Fetch(up.url(), range, {}, std::chrono::seconds(30));
  REQUIRE(got.has_value());
  CHECK(got->revision == "v1.2.0@sha1:" + two);
  CHECK((*mirror)->Fetch(up.url(), {RefSpec::Type::kSemver, "~1.0"}, {}, std::chrono::seconds(30))->revision ==
        "v1.0.0@sha1:" + one);
  CHECK((*mirror)->Fetch(up.url(), {RefSpec::Type::kSemver, ">=2.0.0-0"}, {}, std::chrono::seconds(30))->revision
            .starts_with("v2.0.0-rc.1@sha1:"));
  auto none = (*mirror)->Fetch(up.url(), {RefSpec::Type::kSemver, ">=3"}, {}, std::chrono::seconds(30));
  CHECK(none.error().code == ErrorCode::kNotFound);
  CHECK(none.error().message == "git " + up.url() + ": no tag matches semver \">=3\"");

  // A new release joins the range; a tag moved by force is followed.
  const std::string three = up.Commit("a.yaml", "1.3\n");
  up.In("tag v1.3.0");
  CHECK((*mirror)->Fetch(up.url(), range, {}, std::chrono::seconds(30))->revision == "v1.3.0@sha1:" + three);
  const std::string moved = up.Commit("a.yaml", "1.3 again\n");
  up.In("tag -f v1.3.0");
  auto after = (*mirror)->Fetch(up.url(), range, {}, std::chrono::seconds(30));
  CHECK(after->revision == "v1.3.0@sha1:" + moved);
  CHECK(after->downloaded);
}

TEST_CASE("git mirror: a fetch or a checkout past the size limit stops, and says so") {
  Upstream up;
  up.Commit("a.yaml", "small\n");
  // Random bytes do not compress: the pack is as large as the file.
  Upstream::Git("-C " + (up.dir / "up").string() + " config core.compression 0");
  REQUIRE(std::system(("head -c 3000000 /dev/urandom > " + (up.dir / "up" / "big.bin").string()).c_str()) == 0);
  up.In("add -A");
  up.In("commit -q -m big");
  auto mirror = Mirror::Open((up.dir / "m.git").string());
  REQUIRE(mirror.has_value());
  auto got = (*mirror)->Fetch(up.url(), {}, {}, std::chrono::seconds(30), Limits{1 << 20});
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().code == ErrorCode::kInvalid);
  CHECK(got.error().message.starts_with("git " + up.url() + ": the fetch passed the limit of 1Mi (received "));
  CHECK(got.error().message.ends_with("; see --git-max-size)"));
  // Under the limit it goes through.
  auto fits = (*mirror)->Fetch(up.url(), {}, {}, std::chrono::seconds(30), Limits{8 << 20});
  REQUIRE(fits.has_value());

  // Zeros compress to almost nothing: the fetch is small, the files are not.
  Upstream zeros;
  zeros.In("config core.compression 9");
  REQUIRE(std::system(("head -c 4000000 /dev/zero > " + (zeros.dir / "up" / "zeros.bin").string()).c_str()) == 0);
  zeros.In("add -A");
  zeros.In("commit -q -m zeros");
  const std::string head = zeros.Head();
  auto m2 = Mirror::Open((zeros.dir / "m.git").string());
  REQUIRE(m2.has_value());
  REQUIRE((*m2)->Fetch(zeros.url(), {}, {}, std::chrono::seconds(30), Limits{1 << 20}).has_value());
  auto out = (*m2)->Checkout(head, (zeros.dir / "tree").string(), Limits{1 << 20});
  REQUIRE_FALSE(out.has_value());
  CHECK(out.error().message == "git: the files of commit " + head + " pass the limit of 1Mi (see --git-max-size)");
  CHECK_FALSE(fs::exists(zeros.dir / "tree" / "zeros.bin"));  // nothing written
  REQUIRE((*m2)->Checkout(head, (zeros.dir / "tree2").string(), Limits{8 << 20}).has_value());
  CHECK(fs::file_size(zeros.dir / "tree2" / "zeros.bin") == 4000000);
}

TEST_CASE("git mirror: a malformed commit is refused by name, and the mirror keeps what it had") {
  Upstream up;
  const std::string good = up.Commit("a.yaml", "one\n");
  auto mirror = Mirror::Open((up.dir / "m.git").string());
  REQUIRE(mirror.has_value());
  REQUIRE((*mirror)->Fetch(up.url(), {}, {}, std::chrono::seconds(30)).has_value());
  // A commit object whose text is not a commit (git accepts it with --literally).
  const std::string bad_file = (up.dir / "bad-commit").string();
  std::ofstream(bad_file) << "tree not-a-sha\nauthor nobody\n\nbroken\n";
  std::string cmd = "git -C " + (up.dir / "up").string() + " hash-object -t commit --literally -w " + bad_file;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[64] = {0};
  REQUIRE(std::fgets(buf, sizeof buf, p) != nullptr);
  ::pclose(p);
  const std::string bad(buf, 40);
  std::ofstream(up.dir / "up" / ".git" / "refs" / "heads" / "broken") << bad << "\n";  // git itself refuses to
  auto got = (*mirror)->Fetch(up.url(), {RefSpec::Type::kBranch, "broken"}, {}, std::chrono::seconds(30));
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().code == ErrorCode::kInvalid);
  CHECK(got.error().message ==
        "git " + up.url() + ": the remote has a malformed object: failed to parse bad commit object");
  // What the mirror has stays: the good branch needs no transfer and checks out.
  auto main = (*mirror)->Fetch(up.url(), {}, {}, std::chrono::seconds(30));
  REQUIRE(main.has_value());
  CHECK(main->commit == good);
  CHECK_FALSE(main->downloaded);
  REQUIRE((*mirror)->Checkout(good, (up.dir / "kept").string()).has_value());
  CHECK(Read(up.dir / "kept" / "a.yaml") == "one\n");
}

}  // namespace
}  // namespace keelson::git
