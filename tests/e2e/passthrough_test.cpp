// CODEC_PASSTHROUGH end to end: a stored tile asked for over IIIF, IIP,
// DeepZoom and Zoomify comes back as the same bytes, those of the tile as
// stored (tables spliced in); with the setting off it is encoded again.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "image/tiff_source.hpp"
#include "support/decode_image.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/test_images.hpp"

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;

// 1000x700, 256 px tiles. Level 0 is 4x3 tiles (the right column 232 wide,
// too narrow to cut from a 256 px frame); level 1, 500x350, is 2x2 (the
// right column 244 wide, within the last 16 px MCU; the bottom row 94 high);
// level 2, 250x175, is one tile.
class Passthrough : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(make_temp_dir("tessera-passthrough-e2e"));
    const fs::path root = *dir_ / "root";
    fs::create_directories(root);
    write_pnm(*dir_ / "pattern.ppm", make_pattern(1000, 700, 3));
    // vips writes YCbCr 4:2:0 JPEG tiles below Q 90, RGB ones from Q 90.
    make_pyramid(*dir_ / "pattern.ppm", root / "jpeg.tif", 256,
                 {"--compression", "jpeg", "--Q", "85"});
    make_pyramid(*dir_ / "pattern.ppm", root / "rgb.tif", 256,
                 {"--compression", "jpeg", "--Q", "95"});
    make_pyramid(*dir_ / "pattern.ppm", root / "webp.tif", 256,
                 {"--compression", "webp", "--Q", "80"});
    on_ = new ServerProcess(root, {}, {"VERBOSITY=0"});
    off_ = new ServerProcess(root, {}, {"VERBOSITY=0", "CODEC_PASSTHROUGH=0"});
  }
  static void TearDownTestSuite() {
    delete on_;
    delete off_;
    fs::remove_all(*dir_);
    delete dir_;
  }

  // The stored tile as TiffSource completes it, read here, not by the server.
  static std::string stored(const std::string& name, int level, uint32_t tx, uint32_t ty) {
    TiffSource source(*dir_ / "root" / name);
    const auto tile = source.stored_tile(level, tx, ty);
    return tile ? tile->bytes : std::string();
  }

  static std::string body(unsigned short port, const std::string& url) {
    const HttpResult result = http_get(port, url);
    EXPECT_EQ(result.status, 200) << url << ": " << result.body;
    return result.body;
  }

  static fs::path* dir_;
  static ServerProcess* on_;
  static ServerProcess* off_;
};
fs::path* Passthrough::dir_ = nullptr;
ServerProcess* Passthrough::on_ = nullptr;
ServerProcess* Passthrough::off_ = nullptr;

// One tile in each protocol's words. IIP numbers resolutions from the
// smallest and tiles row by row; DeepZoom numbers levels up to
// ceil(log2(1000)) = 10; Zoomify tiers from the smallest.
struct TileUrls {
  int level;  // stored level
  uint32_t tx, ty;
  std::vector<std::string> urls;
};

std::vector<TileUrls> tile_urls() {
  return {
      {0,
       1,
       1,
       {"/iiif/3/jpeg.tif/256,256,256,256/256,/0/default.jpg",
        "/iiif/2/jpeg.tif/256,256,256,256/256,/0/default.jpg", "/iip?FIF=jpeg.tif&JTL=2,5",
        "/deepzoom/jpeg_files/10/1_1.jpg", "/zoomify/jpeg/TileGroup0/2-1-1.jpg"}},
      // An edge tile cut from its padded frame, narrower and shorter.
      {1,
       1,
       1,
       {"/iiif/3/jpeg.tif/512,512,488,188/244,/0/default.jpg", "/iip?FIF=jpeg.tif&JTL=1,3",
        "/deepzoom/jpeg_files/9/1_1.jpg", "/zoomify/jpeg/TileGroup0/1-1-1.jpg"}},
      // The smallest level, one tile 250x175.
      {2,
       0,
       0,
       {"/iiif/3/jpeg.tif/full/250,/0/default.jpg", "/iip?FIF=jpeg.tif&JTL=0,0",
        "/deepzoom/jpeg_files/8/0_0.jpg", "/zoomify/jpeg/TileGroup0/0-0-0.jpg"}},
  };
}

TEST_F(Passthrough, EveryProtocolSendsTheStoredBytes) {
  for (const TileUrls& tile : tile_urls()) {
    const std::string want = stored("jpeg.tif", tile.level, tile.tx, tile.ty);
    ASSERT_FALSE(want.empty()) << "level " << tile.level;
    for (const std::string& url : tile.urls) {
      const HttpResult result = http_get(on_->port(), url);
      ASSERT_EQ(result.status, 200) << url << ": " << result.body;
      EXPECT_EQ(result.header("content-type"), "image/jpeg") << url;
      EXPECT_TRUE(result.body == want) << url << " is not the stored tile";
    }
  }
  // RGB JPEG tiles (vips from Q 90) too, marked as RGB.
  const std::string rgb = stored("rgb.tif", 0, 1, 1);
  ASSERT_NE(rgb.find("Adobe"), std::string::npos);
  for (const char* url :
       {"/iiif/3/rgb.tif/256,256,256,256/256,/0/default.jpg", "/iip?FIF=rgb.tif&JTL=2,5",
        "/deepzoom/rgb_files/10/1_1.jpg", "/zoomify/rgb/TileGroup0/2-1-1.jpg"}) {
    EXPECT_TRUE(body(on_->port(), url) == rgb) << url << " is not the stored tile";
  }
  EXPECT_LT(mean_abs_diff(decode_image(rgb), make_pattern(1000, 700, 3).crop(256, 256, 256, 256)),
            2.0);
}

TEST_F(Passthrough, OffEncodesAgain) {
  for (const TileUrls& tile : tile_urls()) {
    const std::string want = stored("jpeg.tif", tile.level, tile.tx, tile.ty);
    for (const std::string& url : tile.urls) {
      const std::string got = body(off_->port(), url);
      EXPECT_FALSE(got == want) << url << " was passed through";
      const Raster decoded = decode_image(got), reference = decode_image(want);
      ASSERT_EQ(decoded.width(), reference.width()) << url;
      ASSERT_EQ(decoded.height(), reference.height()) << url;
      EXPECT_LT(mean_abs_diff(decoded, reference), 3.0) << url;
    }
  }
}

TEST_F(Passthrough, EdgeTilesDecodeToTheirSize) {
  struct Edge {
    std::string url;
    uint32_t width, height;
    bool passed;  // sent as stored, or decoded and encoded
  };
  const std::vector<Edge> edges = {
      {"/deepzoom/jpeg_files/10/3_0.jpg", 232, 256, false},  // too narrow to cut
      {"/deepzoom/jpeg_files/10/0_2.jpg", 256, 188, true},
      {"/deepzoom/jpeg_files/10/3_2.jpg", 232, 188, false},
      {"/deepzoom/jpeg_files/9/1_0.jpg", 244, 256, true},
      {"/deepzoom/jpeg_files/9/0_1.jpg", 256, 94, true},
      {"/deepzoom/jpeg_files/9/1_1.jpg", 244, 94, true},
  };
  for (const Edge& edge : edges) {
    const std::string got = body(on_->port(), edge.url);
    const Raster pixels = decode_image(got);
    EXPECT_EQ(pixels.width(), edge.width) << edge.url;
    EXPECT_EQ(pixels.height(), edge.height) << edge.url;
    const std::string encoded = body(off_->port(), edge.url);
    EXPECT_EQ(got != encoded, edge.passed) << edge.url;
    // Passed through or not, the same pixels within JPEG's error.
    const Raster reference = decode_image(encoded);
    EXPECT_LT(mean_abs_diff(pixels, reference), 3.0) << edge.url;
  }
  // Which ones passed: the stored tile's bytes, or not.
  EXPECT_TRUE(body(on_->port(), "/deepzoom/jpeg_files/10/0_2.jpg") == stored("jpeg.tif", 0, 0, 2));
  EXPECT_TRUE(stored("jpeg.tif", 0, 3, 0).empty());
  EXPECT_TRUE(stored("jpeg.tif", 0, 3, 2).empty());
}

TEST_F(Passthrough, ProcessedTilesAreNotPassedThrough) {
  const std::string want = stored("jpeg.tif", 0, 1, 1);
  for (const char* url : {
           "/iiif/3/jpeg.tif/256,256,256,256/128,/0/default.jpg",  // scaled
           "/iiif/3/jpeg.tif/256,256,256,256/256,/90/default.jpg",
           "/iiif/3/jpeg.tif/256,256,256,256/256,/!0/default.jpg",
           "/iiif/3/jpeg.tif/256,256,256,256/256,/0/gray.jpg",
           "/iiif/3/jpeg.tif/256,256,200,256/200,/0/default.jpg",  // part of the tile
       }) {
    const std::string got = body(on_->port(), url);
    EXPECT_FALSE(got.empty()) << url;
    EXPECT_FALSE(got == want) << url;
  }
  // Another format: a PNG of the same tile.
  const HttpResult png =
      http_get(on_->port(), "/iiif/3/jpeg.tif/256,256,256,256/256,/0/default.png");
  EXPECT_EQ(png.header("content-type"), "image/png");
}

TEST_F(Passthrough, WebpTilesPassAsWebp) {
  const std::string want = stored("webp.tif", 0, 1, 1);
  ASSERT_FALSE(want.empty());
  ASSERT_EQ(sniff_format(want), Format::Webp);
  for (const char* url : {"/iiif/3/webp.tif/256,256,256,256/256,/0/default.webp",
                          "/iip?FIF=webp.tif&WTL=2,5", "/deepzoom/webp_files/10/1_1.webp"}) {
    const HttpResult result = http_get(on_->port(), url);
    ASSERT_EQ(result.status, 200) << url << ": " << result.body;
    EXPECT_EQ(result.header("content-type"), "image/webp") << url;
    EXPECT_TRUE(result.body == want) << url << " is not the stored tile";
    const std::string again = body(off_->port(), url);
    EXPECT_FALSE(again == want) << url << " was passed through";
    EXPECT_LT(mean_abs_diff(decode_image(again), decode_image(want)), 3.0) << url;
  }
  // Asked for as JPEG, a WebP tile is decoded and encoded.
  const HttpResult jpeg =
      http_get(on_->port(), "/iiif/3/webp.tif/256,256,256,256/256,/0/default.jpg");
  EXPECT_EQ(jpeg.header("content-type"), "image/jpeg");
  EXPECT_EQ(sniff_format(jpeg.body), Format::Jpeg);
  // Edge tiles cannot be cut without decoding, but come out at their size.
  const Raster edge = decode_image(body(on_->port(), "/deepzoom/webp_files/10/3_2.webp"));
  EXPECT_EQ(edge.width(), 232u);
  EXPECT_EQ(edge.height(), 188u);
}

}  // namespace
}  // namespace tessera::testing
