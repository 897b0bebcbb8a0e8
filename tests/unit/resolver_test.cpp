#include "serve/resolver.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

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

// A resolver reuses what it found for an identifier only while the name
// still leads to the same file: every change below is seen at once.
TEST_F(ResolverTest, RemembersOnlyWhatIsStillTrue) {
  const Resolver resolver(root_);
  const fs::path root = fs::canonical(root_);
  auto status = [&](std::string_view id) {
    try {
      resolver.resolve_file(id);
      return 200;
    } catch (const Error& e) {
      return e.status();
    }
  };

  // The identity comes with the path, from the same file.
  ResolvedFile first = resolver.resolve_file("scan");
  EXPECT_EQ(first.path, root / "scan.tif");
  EXPECT_EQ(first.identity, file_identity(root / "scan.tif"));
  EXPECT_EQ(resolver.resolve_file("scan").identity, first.identity);

  // Rewritten in place (same inode): the new size and time are reported.
  std::ofstream(root_ / "scan.tif") << "longer now";
  EXPECT_EQ(resolver.resolve_file("scan").identity, file_identity(root / "scan.tif"));
  EXPECT_EQ(resolver.resolve_file("scan").identity.size, 10u);

  // A file without the extension appears: it is what the name means now.
  touch(root_ / "scan");
  EXPECT_EQ(resolver.resolve("scan"), root / "scan");

  // A symlink that stayed inside is turned outwards: refused.
  EXPECT_EQ(resolver.resolve("alias"), root / "scan.tif");
  fs::remove(root_ / "alias.tif");
  fs::create_symlink(dir_ / "secret.tif", root_ / "alias.tif");
  EXPECT_EQ(status("alias"), 403);

  // A folder on the way moved out of the root, a symlink left in its place:
  // the file is the same, so this is seen when the memory expires (1 s).
  EXPECT_EQ(resolver.resolve("maps/atlas"), root / "maps" / "atlas.tiff");
  fs::rename(root_ / "maps", dir_ / "maps-moved");
  fs::create_directory_symlink(dir_ / "maps-moved", root_ / "maps");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(status("maps/atlas"), 403);

  // Removed: gone.
  EXPECT_EQ(status("exact.name"), 200);
  fs::remove(root_ / "exact.name");
  EXPECT_EQ(status("exact.name"), 404);
}

TEST_F(ResolverTest, RootMustExist) {
  EXPECT_THROW(Resolver(dir_ / "missing"), std::invalid_argument);
}

}  // namespace
}  // namespace tessera
