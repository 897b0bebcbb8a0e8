#include "e2e/fixture.hpp"

#include <fstream>

#include "encode/jpeg.hpp"

namespace tessera::testing {

namespace fs = std::filesystem;

std::unique_ptr<TestTree> ServedImages::tree_;
std::unique_ptr<ServerProcess> ServedImages::server_;

TestTree make_test_tree() {
  TestTree tree;
  tree.dir = make_temp_dir("tessera-e2e");
  tree.root = tree.dir / "root";
  fs::create_directories(tree.root / "sub");
  tree.pattern = make_pattern(1000, 700, 3);
  write_pnm(tree.dir / "pattern.ppm", tree.pattern);

  make_pyramid(tree.dir / "pattern.ppm", tree.root / "pattern.tif", 256,
               {"--compression", "jpeg", "--Q", "95"});
  make_pyramid(tree.dir / "pattern.ppm", tree.root / "sub" / "deflate.tiff", 256,
               {"--compression", "deflate"});
  make_pyramid(tree.dir / "pattern.ppm", tree.root / "other.ptif", 128, {"--subifd"});
  // The pattern as JPEG 2000: a lossless untiled .jp2 with 4 resolution
  // levels, and a tiled raw codestream.
  run_command({"opj_compress", "-i", (tree.dir / "pattern.ppm").string(), "-o",
               (tree.root / "pattern.jp2").string(), "-n", "4"});
  run_command({"opj_compress", "-i", (tree.dir / "pattern.ppm").string(), "-o",
               (tree.root / "tiled.j2k").string(), "-n", "3", "-t", "256,256"});
  // Lossy, in four quality layers, for IIP's LYR and MAX_LAYERS.
  run_command({"opj_compress", "-i", (tree.dir / "pattern.ppm").string(), "-o",
               (tree.root / "layers.jp2").string(), "-n", "4", "-r", "160,80,40,20"});
  // HTJ2K (JPEG 2000 part 15), lossless, made by OpenJPH.
  run_command({"ojph_compress", "-i", (tree.dir / "pattern.ppm").string(), "-o",
               (tree.root / "htj2k.j2c").string(), "-num_decomps", "3", "-reversible", "true"});
  // A small RGBA image, lossless, for alpha and pixel-exact checks.
  tree.rgba = make_pattern(120, 80, 4);
  write_pnm(tree.dir / "rgba.pam", tree.rgba);
  make_pyramid(tree.dir / "rgba.pam", tree.root / "rgba.tif", 256, {"--compression", "deflate"});
  // A pyramid outside the root, and a symlink to it from inside.
  make_pyramid(tree.dir / "pattern.ppm", tree.dir / "outside.tif", 256);
  fs::create_symlink(tree.dir / "outside.tif", tree.root / "escape.tif");
  fs::create_directory_symlink(tree.dir, tree.root / "up");

  // A truncated copy of a good pyramid, and a text file posing as a TIFF.
  std::ifstream in(tree.root / "pattern.tif", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(tree.root / "corrupt.tif", std::ios::binary)
      .write(bytes.data(), std::streamsize(bytes.size() / 3));
  std::ofstream(tree.root / "notes.tif") << "not an image\n";
  return tree;
}

void ServedImages::SetUpTestSuite() {
  tree_ = std::make_unique<TestTree>(make_test_tree());
  server_ = std::make_unique<ServerProcess>(tree_->root, std::vector<std::string>{},
                                            std::vector<std::string>{"VERBOSITY=1"});
}

void ServedImages::TearDownTestSuite() {
  server_.reset();
  if (tree_) fs::remove_all(tree_->dir);
  tree_.reset();
}

Raster decode_body(const HttpResult& result) {
  EXPECT_EQ(result.header("content-type"), "image/jpeg");
  return decode_jpeg(result.body);
}

}  // namespace tessera::testing
