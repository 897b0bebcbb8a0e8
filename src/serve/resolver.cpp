#include "serve/resolver.hpp"

#include <fmt/format.h>

#include <stdexcept>
#include <system_error>

#include "common/error.hpp"

namespace tessera {
namespace fs = std::filesystem;

namespace {

// Checks the identifier's shape before it touches the file system.
void check_identifier(std::string_view id) {
  if (id.empty()) bad_request("empty identifier");
  if (id.find('\0') != std::string_view::npos) bad_request("identifier contains a NUL byte");
  if (id.front() == '/') bad_request("identifier is an absolute path");
  std::size_t start = 0;
  while (start <= id.size()) {
    const std::size_t end = std::min(id.find('/', start), id.size());
    const std::string_view segment = id.substr(start, end - start);
    if (segment.empty()) bad_request("identifier has an empty path segment");
    if (segment == "." || segment == "..") {
      bad_request(fmt::format("identifier may not contain '{}' segments", segment));
    }
    start = end + 1;
  }
}

bool is_image_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);  // follows symlinks
}

}  // namespace

Resolver::Resolver(const fs::path& root) {
  std::error_code ec;
  root_ = fs::canonical(root, ec);
  if (ec || !fs::is_directory(root_, ec)) {
    throw std::invalid_argument(fmt::format("image folder {} does not exist", root.string()));
  }
}

const std::vector<std::string>& Resolver::image_extensions() {
  static const std::vector<std::string> extensions{".tif", ".tiff", ".ptif", ".TIF", ".TIFF",
                                                   ".jp2", ".jpx",  ".j2k",  ".j2c", ".JP2"};
  return extensions;
}

bool Resolver::inside_root(const fs::path& canonical) const {
  const std::string& root = root_.native();
  const std::string& file = canonical.native();
  // "/" as root holds everything; otherwise the file must be below root + '/'.
  if (root == "/") return true;
  return file.size() > root.size() && file.compare(0, root.size(), root) == 0 &&
         file[root.size()] == '/';
}

// The file an identifier names before symlinks are followed: root/identifier,
// or with the first image extension that exists. Throws 404 if none does.
fs::path Resolver::candidate_file(std::string_view identifier) const {
  fs::path candidate = root_ / fs::path(std::string(identifier));
  if (is_image_file(candidate)) return candidate;
  for (const auto& ext : image_extensions()) {
    fs::path with_ext = candidate;
    with_ext += ext;
    if (is_image_file(with_ext)) return with_ext;
  }
  not_found(fmt::format("no image named '{}'", identifier));
}

fs::path Resolver::resolve(std::string_view identifier) const {
  return resolve_file(identifier).path;
}

std::optional<ResolvedFile> Resolver::from_memo(std::string_view identifier) const {
  std::shared_ptr<const Memo> memo;
  {
    std::lock_guard lock(memo_mutex_);
    const auto it = memo_.find(identifier);
    if (it == memo_.end() || it->second->expires < std::chrono::steady_clock::now()) {
      return std::nullopt;
    }
    memo = it->second;
  }
  const std::optional<FileIdentity> now = regular_file_identity(memo->candidate);
  if (!now || now->device != memo->device || now->inode != memo->inode) return std::nullopt;
  // A file without the extension that has appeared since would now win.
  if (memo->extension_added && is_image_file(root_ / fs::path(std::string(identifier)))) {
    return std::nullopt;
  }
  if (memo->candidate == memo->canonical) return ResolvedFile{memo->canonical, *now};
  // Symlinks on the way: the canonical path must still be that same file.
  const std::optional<FileIdentity> target = regular_file_identity(memo->canonical);
  if (!target || target->device != memo->device || target->inode != memo->inode) {
    return std::nullopt;
  }
  return ResolvedFile{memo->canonical, *target};
}

ResolvedFile Resolver::resolve_file(std::string_view identifier) const {
  check_identifier(identifier);
  if (std::optional<ResolvedFile> known = from_memo(identifier)) return std::move(*known);

  const fs::path candidate = candidate_file(identifier);
  std::error_code ec;
  fs::path canonical = fs::canonical(candidate, ec);
  if (ec) not_found(fmt::format("no image named '{}'", identifier));
  if (!inside_root(canonical)) {
    throw Error(403, fmt::format("'{}' leads outside the image folder", identifier));
  }
  const std::optional<FileIdentity> identity = regular_file_identity(canonical);
  if (!identity) not_found(fmt::format("no image named '{}'", identifier));

  auto memo = std::make_shared<Memo>();
  memo->candidate = candidate;
  memo->canonical = canonical;
  memo->extension_added = candidate.native().size() > root_.native().size() + 1 + identifier.size();
  memo->device = identity->device;
  memo->inode = identity->inode;
  memo->expires = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  {
    std::lock_guard lock(memo_mutex_);
    // Bounded: a client walking many names only makes the memo start over.
    if (memo_.size() >= 4096) memo_.clear();
    memo_.insert_or_assign(std::string(identifier), std::move(memo));
  }
  return ResolvedFile{std::move(canonical), *identity};
}

fs::path Resolver::resolve_folder(std::string_view identifier) const {
  if (identifier.empty()) return root_;
  check_identifier(identifier);
  std::error_code ec;
  const fs::path candidate = root_ / fs::path(std::string(identifier));
  if (!fs::is_directory(candidate, ec)) not_found(fmt::format("no folder named '{}'", identifier));
  const fs::path canonical = fs::canonical(candidate, ec);
  if (ec) not_found(fmt::format("no folder named '{}'", identifier));
  if (canonical != root_ && !inside_root(canonical)) {
    throw Error(403, fmt::format("'{}' leads outside the image folder", identifier));
  }
  return canonical;
}

}  // namespace tessera
