#pragma once
// What the server knows of an image file without opening it: its identity
// for caches and its modification time for Last-Modified.

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <optional>

namespace tessera {

struct FileIdentity {
  uint64_t device = 0, inode = 0, size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileIdentity&) const = default;
};

// The file's identity; all zero when it cannot be stat()ed.
FileIdentity file_identity(const std::filesystem::path& path);

// The identity of the regular file at `path` (symlinks followed), or nullopt
// when there is none.
std::optional<FileIdentity> regular_file_identity(const std::filesystem::path& path);

// Seconds since the epoch of the last modification; 0 when unknown.
std::time_t file_mtime(const std::filesystem::path& path);

}  // namespace tessera
