#include "serve/image_catalog.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <system_error>
#include <utility>

#include "common/error.hpp"

namespace tessera {

namespace fs = std::filesystem;

namespace {

char lower(char c) { return char(std::tolower(static_cast<unsigned char>(c))); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool has_image_extension(std::string_view name) {
  const std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  const std::string_view ext = name.substr(dot);
  for (const std::string& known : Resolver::image_extensions()) {
    if (known.size() == ext.size() &&
        std::equal(ext.begin(), ext.end(), known.begin(),
                   [](char a, char b) { return lower(a) == lower(b); })) {
      return true;
    }
  }
  return false;
}

std::string join_id(std::string_view folder, std::string_view name) {
  return folder.empty() ? std::string(name) : fmt::format("{}/{}", folder, name);
}

std::string_view last_segment(std::string_view id) {
  const std::size_t slash = id.rfind('/');
  return slash == std::string_view::npos ? id : id.substr(slash + 1);
}

std::string_view parent_of(std::string_view id) {
  const std::size_t slash = id.rfind('/');
  return slash == std::string_view::npos ? std::string_view{} : id.substr(0, slash);
}

std::string stem_of(std::string_view name) {
  const std::size_t dot = name.rfind('.');
  return std::string(dot == std::string_view::npos || dot == 0 ? name : name.substr(0, dot));
}

// A symlink is listed only when it stays inside the root, as the resolver
// would refuse what it leads to anyway.
bool stays_inside(const fs::directory_entry& entry, const Resolver& resolver) {
  std::error_code ec;
  if (!entry.is_symlink(ec)) return true;
  const fs::path target = fs::canonical(entry.path(), ec);
  if (ec) return false;
  const std::string& root = resolver.root().native();
  const std::string& path = target.native();
  return root == "/" || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                         path[root.size()] == '/');
}

// The image files and folders directly inside `dir`, by name, bounded.
struct FolderScan {
  std::vector<std::string> folders, images;
  bool truncated = false;
};

FolderScan scan_folder(const Resolver& resolver, const fs::path& dir) {
  FolderScan scan;
  std::error_code ec;
  std::size_t seen = 0;
  for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    if (++seen > kMaxScanned) {
      scan.truncated = true;
      break;
    }
    std::string name = it->path().filename().string();
    if (name.empty() || name.front() == '.') continue;
    std::error_code type_ec;
    if (it->is_directory(type_ec)) {
      if (stays_inside(*it, resolver)) scan.folders.push_back(std::move(name));
    } else if (it->is_regular_file(type_ec) && has_image_extension(name) &&
               stays_inside(*it, resolver)) {
      scan.images.push_back(std::move(name));
    }
  }
  return scan;
}

void sort_naturally(std::vector<std::string>& names) {
  std::sort(names.begin(), names.end(),
            [](const std::string& a, const std::string& b) { return natural_less(a, b); });
}

int compare_natural(std::string_view a, std::string_view b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      // Compare digit runs by value: skip leading zeros, then longer is larger.
      std::size_t i0 = i, j0 = j;
      while (i0 < a.size() && a[i0] == '0') ++i0;
      while (j0 < b.size() && b[j0] == '0') ++j0;
      std::size_t i1 = i0, j1 = j0;
      while (i1 < a.size() && is_digit(a[i1])) ++i1;
      while (j1 < b.size() && is_digit(b[j1])) ++j1;
      if (i1 - i0 != j1 - j0) return i1 - i0 < j1 - j0 ? -1 : 1;
      if (const int c = a.substr(i0, i1 - i0).compare(b.substr(j0, j1 - j0)); c != 0) {
        return c < 0 ? -1 : 1;
      }
      i = i1;
      j = j1;
      continue;
    }
    const char ca = lower(a[i]), cb = lower(b[j]);
    if (ca != cb) return ca < cb ? -1 : 1;
    ++i;
    ++j;
  }
  if (i < a.size()) return 1;
  if (j < b.size()) return -1;
  return 0;
}

}  // namespace

std::optional<NumberedName> split_numbered(std::string_view stem) {
  std::size_t digits = 0;
  while (digits < stem.size() && is_digit(stem[stem.size() - 1 - digits])) ++digits;
  if (digits == 0 || digits > 9) return std::nullopt;
  NumberedName result;
  for (char c : stem.substr(stem.size() - digits)) result.number = result.number * 10 + (c - '0');
  std::string_view prefix = stem.substr(0, stem.size() - digits);
  while (!prefix.empty() && (prefix.back() == '_' || prefix.back() == '-' || prefix.back() == '.' ||
                             prefix.back() == ' ')) {
    prefix.remove_suffix(1);
  }
  result.prefix = std::string(prefix);
  return result;
}

bool natural_less(std::string_view a, std::string_view b) {
  const int c = compare_natural(a, b);
  return c != 0 ? c < 0 : a < b;  // names equal but for case still need an order
}

CatalogListing list_folder(const Resolver& resolver, std::string_view folder) {
  const fs::path dir = resolver.resolve_folder(folder);
  FolderScan scan = scan_folder(resolver, dir);
  sort_naturally(scan.folders);
  sort_naturally(scan.images);

  CatalogListing listing;
  listing.truncated = scan.truncated;
  for (const std::string& name : scan.folders) {
    listing.entries.push_back(
        {EntryKind::Folder, join_id(folder, name), name, std::string(folder), 0, {}});
  }

  // Numbered files grouped by prefix; a group of two or more is a sequence,
  // unless a folder already answers to its id.
  std::map<std::string, std::vector<std::pair<uint32_t, std::string>>> groups;
  for (const std::string& name : scan.images) {
    if (auto numbered = split_numbered(stem_of(name)); numbered && !numbered->prefix.empty()) {
      groups[numbered->prefix].emplace_back(numbered->number, name);
    }
  }
  std::vector<CatalogEntry> sequences;
  for (auto& [prefix, pages] : groups) {
    if (pages.size() < 2) continue;
    if (std::binary_search(
            scan.folders.begin(), scan.folders.end(), prefix,
            [](const std::string& a, const std::string& b) { return natural_less(a, b); })) {
      continue;
    }
    std::sort(pages.begin(), pages.end());
    sequences.push_back({EntryKind::Sequence, join_id(folder, prefix), prefix, std::string(folder),
                         pages.size(), join_id(folder, pages.front().second)});
  }
  std::sort(sequences.begin(), sequences.end(), [](const CatalogEntry& a, const CatalogEntry& b) {
    return natural_less(a.name, b.name);
  });
  for (CatalogEntry& s : sequences) listing.entries.push_back(std::move(s));

  for (const std::string& name : scan.images) {
    listing.entries.push_back(
        {EntryKind::Image, join_id(folder, name), name, std::string(folder), 0, {}});
  }
  return listing;
}

CatalogListing search_catalog(const Resolver& resolver, std::string_view folder,
                              std::string_view text) {
  const fs::path dir = resolver.resolve_folder(folder);
  std::string needle(text);
  std::transform(needle.begin(), needle.end(), needle.begin(), lower);
  const auto matches = [&needle](std::string_view name) {
    if (needle.empty()) return true;
    std::string hay(name);
    std::transform(hay.begin(), hay.end(), hay.begin(), lower);
    return hay.find(needle) != std::string::npos;
  };

  CatalogListing listing;
  const std::size_t base = dir.native().size() + 1;
  std::error_code ec;
  std::size_t seen = 0;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec),
       end;
       !ec && it != end; it.increment(ec)) {
    if (++seen > kMaxScanned) {
      listing.truncated = true;
      break;
    }
    const std::string name = it->path().filename().string();
    const bool hidden = name.empty() || name.front() == '.';
    std::error_code type_ec;
    const bool is_folder = it->is_directory(type_ec);
    if (is_folder && (hidden || it.depth() + 1 >= kMaxDepth)) it.disable_recursion_pending();
    if (hidden || !matches(name)) continue;
    const std::string relative = it->path().native().substr(base);
    const std::string id = join_id(folder, relative);
    if (is_folder) {
      if (stays_inside(*it, resolver)) {
        listing.entries.push_back({EntryKind::Folder, id, name, std::string(parent_of(id)), 0, {}});
      }
    } else if (it->is_regular_file(type_ec) && has_image_extension(name) &&
               stays_inside(*it, resolver)) {
      listing.entries.push_back({EntryKind::Image, id, name, std::string(parent_of(id)), 0, {}});
    }
  }
  std::sort(listing.entries.begin(), listing.entries.end(),
            [](const CatalogEntry& a, const CatalogEntry& b) { return natural_less(a.id, b.id); });
  return listing;
}

Sequence find_sequence(const Resolver& resolver, std::string_view id) {
  if (id.empty()) not_found("empty sequence name");
  Sequence sequence;
  sequence.id = std::string(id);

  std::optional<fs::path> folder;
  try {
    folder = resolver.resolve_folder(id);
  } catch (const Error& e) {
    if (e.status() != 404) throw;
  }
  if (folder) {
    FolderScan scan = scan_folder(resolver, *folder);
    sort_naturally(scan.images);
    sequence.label = std::string(last_segment(id));
    sequence.truncated = scan.truncated;
    for (const std::string& name : scan.images) sequence.pages.push_back(join_id(id, name));
    if (sequence.pages.empty()) not_found(fmt::format("folder '{}' holds no images", id));
    return sequence;
  }

  const std::string_view parent = parent_of(id);
  const std::string_view prefix = last_segment(id);
  const FolderScan scan = scan_folder(resolver, resolver.resolve_folder(parent));
  std::vector<std::pair<uint32_t, std::string>> pages;
  for (const std::string& name : scan.images) {
    if (auto numbered = split_numbered(stem_of(name)); numbered && numbered->prefix == prefix) {
      pages.emplace_back(numbered->number, name);
    }
  }
  if (pages.empty()) not_found(fmt::format("no folder or numbered sequence named '{}'", id));
  std::sort(pages.begin(), pages.end());
  sequence.label = std::string(prefix);
  sequence.truncated = scan.truncated;
  for (const auto& [number, name] : pages) sequence.pages.push_back(join_id(parent, name));
  return sequence;
}

}  // namespace tessera
