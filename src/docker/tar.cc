#include "docker/tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <vector>

namespace keelson::docker {
namespace {

namespace fs = std::filesystem;

la_ssize_t Append(archive*, void* user, const void* data, size_t size) {
  static_cast<std::string*>(user)->append(static_cast<const char*>(data), size);
  return static_cast<la_ssize_t>(size);
}

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct DiskDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

Result<void> AddFile(archive* out, archive* disk, const fs::path& path, const std::string& name) {
  std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
  archive_entry_copy_sourcepath(entry.get(), path.c_str());
  if (archive_read_disk_entry_from_file(disk, entry.get(), -1, nullptr) != ARCHIVE_OK) {
    return Unexpected(ErrorCode::kInvalid, "build context: " + path.string() + ": " + archive_error_string(disk));
  }
  archive_entry_set_pathname(entry.get(), name.c_str());
  // Owner names of the build host mean nothing inside an image.
  archive_entry_set_uname(entry.get(), "");
  archive_entry_set_gname(entry.get(), "");
  if (archive_write_header(out, entry.get()) != ARCHIVE_OK) {
    return Unexpected(ErrorCode::kInternal, std::string("build context: ") + archive_error_string(out));
  }
  if (archive_entry_filetype(entry.get()) != AE_IFREG) return {};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Unexpected(ErrorCode::kInvalid, "build context: cannot read " + path.string());
  char buf[64 * 1024];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) {
    if (archive_write_data(out, buf, static_cast<size_t>(n)) < 0) {
      ::close(fd);
      return Unexpected(ErrorCode::kInternal, std::string("build context: ") + archive_error_string(out));
    }
  }
  ::close(fd);
  return {};
}

}  // namespace

Result<std::string> TarDirectory(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return Unexpected(ErrorCode::kNotFound, "build context " + dir + ": no such directory");
  if (!fs::is_directory(dir, ec)) return Unexpected(ErrorCode::kInvalid, "build context " + dir + ": not a directory");

  std::vector<fs::path> paths;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    paths.push_back(it->path());
  }
  if (ec) return Unexpected(ErrorCode::kInvalid, "build context " + dir + ": " + ec.message());
  std::sort(paths.begin(), paths.end());

  std::string tar;
  std::unique_ptr<archive, ArchiveDeleter> out(archive_write_new());
  std::unique_ptr<archive, DiskDeleter> disk(archive_read_disk_new());
  archive_read_disk_set_symlink_physical(disk.get());
  archive_read_disk_set_standard_lookup(disk.get());
  archive_write_set_format_pax_restricted(out.get());
  archive_write_set_bytes_in_last_block(out.get(), 1);
  if (archive_write_open(out.get(), &tar, nullptr, Append, nullptr) != ARCHIVE_OK) {
    return Unexpected(ErrorCode::kInternal, std::string("build context: ") + archive_error_string(out.get()));
  }
  for (const auto& p : paths) {
    if (auto r = AddFile(out.get(), disk.get(), p, fs::relative(p, dir).generic_string()); !r) {
      return Unexpected(r.error());
    }
  }
  if (archive_write_close(out.get()) != ARCHIVE_OK) {
    return Unexpected(ErrorCode::kInternal, std::string("build context: ") + archive_error_string(out.get()));
  }
  return tar;
}

}  // namespace keelson::docker
