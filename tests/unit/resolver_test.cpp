#include "serve/resolver.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "common/error.hpp"
#include "support/test_images.hpp"

namespace tessera {
namespace {

namespace fs = std::filesystem;

class ResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("tessera-resolver");
    root_ = dir_ / "root";
    fs::create_directories(root_ / "maps" / "old");
    touch(root_ / "scan.tif");
    touch(root_ / "maps" / "atlas.tiff");
    touch(root_ / "maps" / "old" / "chart.ptif");
    touch(root_ / "exact.name");
    touch(dir_ / "secret.tif");
    fs::create_symlink(dir_ / "secret.tif", root_ / "leak.tif");
    fs::create_directory_symlink(dir_, root_ / "parent");
    fs::create_symlink(root_ / "scan.tif", root_ / "alias.tif");  // stays inside: allowed
    fs::create_symlink("/etc/passwd", root_ / "passwd");
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void touch(const fs::path& p) { std::ofstream(p) << "x"; }

  int status_of(std::string_view id) {
    try {
      Resolver(root_).resolve(id);
      return 200;
    } catch (const Error& e) {
      return e.status();
    }
  }

  fs::path dir_, root_;
};

TEST_F(ResolverTest, FindsFilesWithOrWithoutTheirExtension) {
  const Resolver resolver(root_);
  const fs::path root = fs::canonical(root_);
  EXPECT_EQ(resolver.resolve("scan"), root / "scan.tif");
  EXPECT_EQ(resolver.resolve("scan.tif"), root / "scan.tif");
  EXPECT_EQ(resolver.resolve("maps/atlas"), root / "maps" / "atlas.tiff");
  EXPECT_EQ(resolver.resolve("maps/old/chart"), root / "maps" / "old" / "chart.ptif");
  EXPECT_EQ(resolver.resolve("exact.name"), root / "exact.name");
  EXPECT_EQ(resolver.resolve("alias"), root / "scan.tif");
}

TEST_F(ResolverTest, UnknownIdentifiersAre404) {
  EXPECT_EQ(status_of("nothing"), 404);
  EXPECT_EQ(status_of("maps"), 404);  // a folder
  EXPECT_EQ(status_of("maps/nothing"), 404);
  EXPECT_EQ(status_of("scan.tif/more"), 404);
}

TEST_F(ResolverTest, EscapesAreRefused) {
  EXPECT_EQ(status_of(""), 400);
  EXPECT_EQ(status_of(".."), 400);
  EXPECT_EQ(status_of("../secret"), 400);
  EXPECT_EQ(status_of("../secret.tif"), 400);
  EXPECT_EQ(status_of("maps/../../secret"), 400);
  EXPECT_EQ(status_of("maps/.."), 400);
  EXPECT_EQ(status_of("./scan"), 400);
  EXPECT_EQ(status_of("maps//atlas"), 400);
  EXPECT_EQ(status_of("maps/"), 400);
  EXPECT_EQ(status_of("/etc/passwd"), 400);
  EXPECT_EQ(status_of(fs::canonical(root_ / "scan.tif").string()), 400);
  EXPECT_EQ(status_of(std::string("scan\0.tif", 9)), 400);
  // Symlinks that lead out of the root, to a file or through a folder.
  EXPECT_EQ(status_of("leak"), 403);
  EXPECT_EQ(status_of("parent/secret"), 403);
  EXPECT_EQ(status_of("passwd"), 403);
}

TEST_F(ResolverTest, RootMustExist) {
  EXPECT_THROW(Resolver(dir_ / "missing"), std::invalid_argument);
}

}  // namespace
}  // namespace tessera
