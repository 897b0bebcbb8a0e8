#pragma once
// Turns a client's identifier into a file under the image root, and nothing
// else: whatever the identifier says, the result is a regular file inside
// the root (after following symlinks), or an Error.

#include <filesystem>
#include <string_view>
#include <vector>

namespace tessera {

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

  // A folder under the root, by the same rules: "" is the root itself.
  // Throws Error 400 for malformed identifiers, 403 when the folder lies
  // outside the root through a symlink, 404 when there is no such folder.
  std::filesystem::path resolve_folder(std::string_view identifier) const;

  const std::filesystem::path& root() const noexcept { return root_; }

  // Extensions tried, in order, when the identifier names no existing file.
  static const std::vector<std::string>& image_extensions();

 private:
  bool inside_root(const std::filesystem::path& canonical) const;

  std::filesystem::path root_;  // canonical, no trailing slash
};

}  // namespace tessera
