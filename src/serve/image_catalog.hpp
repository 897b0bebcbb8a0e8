#pragma once
// What the gallery and the book pages see of the image root: the folders,
// numbered sequences and images a folder holds, a search by name, and the
// pages of a sequence. Only names are read here (directory entries), never
// pixels or headers, so a listing costs one directory scan whatever the
// images weigh; the caller opens the few images it shows.
//
// A sequence is either a folder (its images, in natural order) or the files
// of one folder named like a prefix followed by a page number:
// page_001.tif, page_002.tif, ... form the sequence "page" of that folder,
// whose id is "folder/page" ("page" at the root).
//
// Every scan is bounded (kMaxScanned entries, kMaxDepth levels for searches);
// a folder larger than that is listed in part, with `truncated` set.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "serve/resolver.hpp"

namespace tessera {

inline constexpr std::size_t kMaxScanned = 100000;
inline constexpr int kMaxDepth = 16;

enum class EntryKind { Folder, Sequence, Image };

struct CatalogEntry {
  EntryKind kind = EntryKind::Image;
  std::string id;          // relative path with '/'; images keep their extension
  std::string name;        // the last segment (a sequence: its prefix)
  std::string folder;      // the folder holding it; "" at the root
  std::size_t pages = 0;   // sequences: how many
  std::string first_page;  // sequences: the id of the first page
};

struct CatalogListing {
  std::vector<CatalogEntry> entries;
  bool truncated = false;  // the scan stopped at kMaxScanned entries
};

// A stem's page number: "page_012" -> {"page", 12}; separators '_', '-',
// '.' and ' ' before the digits are dropped. nullopt when the stem does not
// end in 1 to 9 digits.
struct NumberedName {
  std::string prefix;
  uint32_t number = 0;
};
std::optional<NumberedName> split_numbered(std::string_view stem);

// Orders names as people do: "page_2" before "page_10", case-insensitively.
bool natural_less(std::string_view a, std::string_view b);

// The folders, sequences (two or more numbered files with a non-empty
// prefix) and images directly inside `folder` ("" is the root), in that
// order, each group in natural order. Hidden entries and symlinks that lead
// outside the root are left out. Throws what Resolver::resolve_folder throws.
CatalogListing list_folder(const Resolver& resolver, std::string_view folder);

// The folders and images anywhere below `folder` whose name contains `text`,
// ignoring ASCII case, ordered by id.
CatalogListing search_catalog(const Resolver& resolver, std::string_view folder,
                              std::string_view text);

struct Sequence {
  std::string id;
  std::string label;               // the folder's name or the prefix
  std::vector<std::string> pages;  // image ids in reading order
  bool truncated = false;
};

// The sequence named `id`: the folder `id` if there is one, else the
// numbered files "prefix*" of the folder before the last '/'. Throws Error
// 404 when it names neither, or when it holds no image.
Sequence find_sequence(const Resolver& resolver, std::string_view id);

}  // namespace tessera
