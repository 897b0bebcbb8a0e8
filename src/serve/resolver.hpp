#pragma once
// Turns a client's identifier into a file under the image root, and nothing
// else: whatever the identifier says, the result is a regular file inside
// the root (after following symlinks), or an Error.

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "serve/file_info.hpp"

namespace tessera {

// A resolved image file and its identity, from one stat() of it.
struct ResolvedFile {
  std::filesystem::path path;  // canonical
  FileIdentity identity;
};

class Resolver {
 public:
  // `root` must be an existing folder. Throws std::invalid_argument if not.
  explicit Resolver(const std::filesystem::path& root);

  // `identifier` is already percent-decoded: a relative path with '/'
  // separators, with or without its file extension. Throws Error 400 for
  // identifiers that are not plain relative paths ("..", ".", empty
  // segments, absolute paths, NUL bytes), 403 when the file found lies
  // outside the root through a symlink, 404 when there is no such image.
  std::filesystem::path resolve(std::string_view identifier) const;

  // The same, with the file's identity. An identifier resolved in the last
  // second costs one stat() (two behind a symlink) instead of a walk of
  // every path component: the earlier answer is reused while the name still
  // leads to the same file (device and inode). Only a change that keeps the
  // file but moves a folder on its way can go unseen, for that second.
  ResolvedFile resolve_file(std::string_view identifier) const;

  // A folder under the root, by the same rules: "" is the root itself.
  // Throws Error 400 for malformed identifiers, 403 when the folder lies
  // outside the root through a symlink, 404 when there is no such folder.
  std::filesystem::path resolve_folder(std::string_view identifier) const;

  const std::filesystem::path& root() const noexcept { return root_; }

  // Extensions tried, in order, when the identifier names no existing file.
  static const std::vector<std::string>& image_extensions();

 private:
  // What an earlier resolve_file() found for one identifier.
  struct Memo {
    std::filesystem::path candidate;  // root/identifier, with the extension found
    std::filesystem::path canonical;
    bool extension_added = false;  // candidate is root/identifier + an extension
    uint64_t device = 0, inode = 0;
    std::chrono::steady_clock::time_point expires;
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  bool inside_root(const std::filesystem::path& canonical) const;
  std::filesystem::path candidate_file(std::string_view identifier) const;
  std::optional<ResolvedFile> from_memo(std::string_view identifier) const;

  std::filesystem::path root_;  // canonical, no trailing slash
  mutable std::mutex memo_mutex_;
  mutable std::unordered_map<std::string, std::shared_ptr<const Memo>, StringHash, std::equal_to<>>
      memo_;
};

}  // namespace tessera
