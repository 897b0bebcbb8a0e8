#include "serve/image_catalog.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "common/error.hpp"
#include "support/error_status.hpp"
#include "support/test_images.hpp"

namespace tessera {
namespace {

using testing::status_of;

namespace fs = std::filesystem;

TEST(SplitNumbered, TakesTheTrailingNumberAndDropsItsSeparator) {
  const auto check = [](std::string_view stem, std::string prefix, uint32_t number) {
    const auto n = split_numbered(stem);
    ASSERT_TRUE(n.has_value()) << stem;
    EXPECT_EQ(n->prefix, prefix) << stem;
    EXPECT_EQ(n->number, number) << stem;
  };
  check("page_012", "page", 12);
  check("scan-10", "scan", 10);
  check("folio 3", "folio", 3);
  check("vol.2", "vol", 2);
  check("f1r2", "f1r", 2);
  check("007", "", 7);
  check("book_a_page_999999999", "book_a_page", 999999999);
  EXPECT_FALSE(split_numbered("f1r"));
  EXPECT_FALSE(split_numbered(""));
  EXPECT_FALSE(split_numbered("x1234567890"));  // ten digits: no page number
}

TEST(NaturalLess, OrdersNumbersByValueAndIgnoresCase) {
  std::vector<std::string> names{"page_10", "Page_9", "page_2", "page_002", "a", "B", "page", "z1"};
  std::sort(names.begin(), names.end(),
            [](const auto& a, const auto& b) { return natural_less(a, b); });
  EXPECT_EQ(names, (std::vector<std::string>{"a", "B", "page", "page_002", "page_2", "Page_9",
                                             "page_10", "z1"}));
  // A strict weak order: irreflexive, and never both ways.
  for (const auto& a : names) {
    EXPECT_FALSE(natural_less(a, a));
    for (const auto& b : names) EXPECT_FALSE(natural_less(a, b) && natural_less(b, a));
  }
}

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("tessera-catalog");
    root_ = dir_ / "root";
    for (const char* name :
         {"b.tif", "A.TIF", "page_1.tif", "page_2.tif", "page_10.tif", "notes.txt", ".hidden.tif",
          "lone_1.tif", "maps/atlas.tiff", "maps/old/chart.ptif", "maps/old/Atlas-2.jp2",
          ".git/atlas.tif", "book/p2.tif", "book/p10.tif", "book/p1.tif", "scan/scan_1.tif",
          "scan_1.tif", "scan_2.tif"}) {
      touch(root_ / name);
    }
    fs::create_directories(root_ / "empty");
    touch(dir_ / "outside.tif");
    fs::create_symlink(dir_ / "outside.tif", root_ / "leak.tif");
    fs::create_directory_symlink(dir_, root_ / "up");
    fs::create_directory_symlink(root_ / "maps", root_ / "maps-again");  // stays inside
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void touch(const fs::path& p) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "x";
  }

  static std::vector<std::string> ids(const CatalogListing& listing) {
    std::vector<std::string> out;
    for (const auto& e : listing.entries) out.push_back(e.id);
    return out;
  }

  fs::path dir_, root_;
};

TEST_F(CatalogTest, ListsFoldersThenSequencesThenImages) {
  const Resolver resolver(root_);
  const CatalogListing listing = list_folder(resolver, "");
  EXPECT_FALSE(listing.truncated);
  EXPECT_EQ(ids(listing),
            (std::vector<std::string>{"book", "empty", "maps", "maps-again", "scan", "page",
                                      "A.TIF", "b.tif", "lone_1.tif", "page_1.tif", "page_2.tif",
                                      "page_10.tif", "scan_1.tif", "scan_2.tif"}));
  // "scan" is a folder, so the numbered scan_* files make no sequence of that name.
  const CatalogEntry& page = listing.entries[5];
  EXPECT_EQ(page.kind, EntryKind::Sequence);
  EXPECT_EQ(page.name, "page");
  EXPECT_EQ(page.pages, 3u);
  EXPECT_EQ(page.first_page, "page_1.tif");
  EXPECT_EQ(listing.entries[0].kind, EntryKind::Folder);
  EXPECT_EQ(listing.entries.back().kind, EntryKind::Image);
}

TEST_F(CatalogTest, ListsSubfoldersWithTheirPath) {
  const Resolver resolver(root_);
  const CatalogListing listing = list_folder(resolver, "maps");
  EXPECT_EQ(ids(listing), (std::vector<std::string>{"maps/old", "maps/atlas.tiff"}));
  EXPECT_EQ(listing.entries[1].folder, "maps");
  EXPECT_EQ(listing.entries[1].name, "atlas.tiff");
}

TEST_F(CatalogTest, RefusesFoldersThatAreNoneOrLeadOutside) {
  const Resolver resolver(root_);
  EXPECT_EQ(status_of([&] { list_folder(resolver, "nothing"); }), 404);
  EXPECT_EQ(status_of([&] { list_folder(resolver, "b.tif"); }), 404);
  EXPECT_EQ(status_of([&] { list_folder(resolver, "../root"); }), 400);
  EXPECT_EQ(status_of([&] { list_folder(resolver, "up"); }), 403);
  EXPECT_EQ(resolver.resolve_folder(""), fs::canonical(root_));
  EXPECT_EQ(resolver.resolve_folder("maps-again"), fs::canonical(root_ / "maps"));
}

TEST_F(CatalogTest, SearchFindsNamesBelowTheFolderIgnoringCase) {
  const Resolver resolver(root_);
  EXPECT_EQ(ids(search_catalog(resolver, "", "atlas")),
            (std::vector<std::string>{"maps/atlas.tiff", "maps/old/Atlas-2.jp2"}));
  EXPECT_EQ(ids(search_catalog(resolver, "maps/old", "ATLAS")),
            (std::vector<std::string>{"maps/old/Atlas-2.jp2"}));
  EXPECT_EQ(ids(search_catalog(resolver, "", "old")), (std::vector<std::string>{"maps/old"}));
  // Not hidden files, not what lies outside the root.
  EXPECT_TRUE(search_catalog(resolver, "", "hidden").entries.empty());
  EXPECT_TRUE(search_catalog(resolver, "", "leak").entries.empty());
  EXPECT_TRUE(search_catalog(resolver, "", "outside").entries.empty());
}

TEST_F(CatalogTest, SequencesAreFoldersOrNumberedFiles) {
  const Resolver resolver(root_);
  const Sequence book = find_sequence(resolver, "book");
  EXPECT_EQ(book.label, "book");
  EXPECT_EQ(book.pages, (std::vector<std::string>{"book/p1.tif", "book/p2.tif", "book/p10.tif"}));
  const Sequence pages = find_sequence(resolver, "page");
  EXPECT_EQ(pages.pages, (std::vector<std::string>{"page_1.tif", "page_2.tif", "page_10.tif"}));
  // The folder wins over numbered files of the same name.
  EXPECT_EQ(find_sequence(resolver, "scan").pages, (std::vector<std::string>{"scan/scan_1.tif"}));
  EXPECT_EQ(find_sequence(resolver, "maps/old/Atlas").pages,
            (std::vector<std::string>{"maps/old/Atlas-2.jp2"}));

  EXPECT_EQ(status_of([&] { find_sequence(resolver, "empty"); }), 404);
  EXPECT_EQ(status_of([&] { find_sequence(resolver, "nothing"); }), 404);
  EXPECT_EQ(status_of([&] { find_sequence(resolver, "maps/nothing"); }), 404);
  EXPECT_EQ(status_of([&] { find_sequence(resolver, ""); }), 404);
  EXPECT_EQ(status_of([&] { find_sequence(resolver, "../root/page"); }), 400);
  EXPECT_EQ(status_of([&] { find_sequence(resolver, "up/outside"); }), 403);
}

}  // namespace
}  // namespace tessera
