// JPEG 2000 over every protocol: the same requests to the lossless .jp2 and
// to the lossless deflate TIFF of the same picture give the same pixels.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "e2e/fixture.hpp"
#include "support/decode_image.hpp"

namespace tessera::testing {
namespace {

using Jp2Served = ServedImages;

Raster fetch(unsigned short port, const std::string& url) {
  const auto result = http_get(port, url);
  EXPECT_EQ(result.status, 200) << url << ": " << result.body;
  if (result.status != 200) return {};
  return decode_image(result.body);
}

TEST_F(Jp2Served, InfoJsonDescribesTheResolutionLevels) {
  const auto result = http_get(port(), "/iiif/3/pattern.jp2/info.json");
  ASSERT_EQ(result.status, 200) << result.body;
  const auto info = nlohmann::json::parse(result.body);
  EXPECT_EQ(info["width"], 1000);
  EXPECT_EQ(info["height"], 700);
  // -n 4: full resolution and three reductions.
  EXPECT_EQ(info["tiles"][0]["scaleFactors"].get<std::vector<int>>(),
            (std::vector<int>{1, 2, 4, 8}));
}

TEST_F(Jp2Served, EveryProtocolAgreesWithTheTiff) {
  // {jp2 url, tiff url, tolerance}: full resolution is lossless and exact;
  // reduced levels come from the wavelet's low pass, close to a box filter.
  struct Pair {
    std::string jp2, tiff;
    double tolerance;
  };
  const std::vector<Pair> pairs = {
      {"/iiif/3/pattern.jp2/256,256,256,256/max/0/default.png",
       "/iiif/3/sub%2Fdeflate/256,256,256,256/max/0/default.png", 0.0},
      {"/iiif/3/tiled.j2k/768,512,232,188/max/0/default.png",
       "/iiif/3/sub%2Fdeflate/768,512,232,188/max/0/default.png", 0.0},
      {"/iiif/3/htj2k.j2c/0,0,1000,700/max/0/default.png",
       "/iiif/3/sub%2Fdeflate/full/max/0/default.png", 0.0},
      {"/iiif/3/pattern.jp2/full/250,/0/default.png",
       "/iiif/3/sub%2Fdeflate/full/250,/0/default.png", 3.0},
      {"/deepzoom/pattern.jp2_files/10/1_1.png", "/deepzoom/sub/deflate.tiff_files/10/1_1.png",
       0.0},
      {"/deepzoom/pattern.jp2_files/9/0_1.png", "/deepzoom/sub/deflate.tiff_files/9/0_1.png", 3.0},
      {"/deepzoom/pattern.jp2_files/3/0_0.png", "/deepzoom/sub/deflate.tiff_files/3/0_0.png", 3.0},
      {"/zoomify/pattern.jp2/TileGroup0/0-0-0.jpg",
       "/zoomify/sub/deflate.tiff/TileGroup0/0-0-0.jpg", 4.0},
      {"/iip?FIF=pattern.jp2&PTL=3,5", "/iip?FIF=sub/deflate.tiff&PTL=2,5", 0.0},
      {"/iip?FIF=pattern.jp2&WID=300&CVT=png", "/iip?FIF=sub/deflate.tiff&WID=300&CVT=png", 3.0},
  };
  for (const Pair& p : pairs) {
    const Raster a = fetch(port(), p.jp2), b = fetch(port(), p.tiff);
    ASSERT_EQ(a.width(), b.width()) << p.jp2;
    ASSERT_EQ(a.height(), b.height()) << p.jp2;
    EXPECT_LE(mean_abs_diff(a, b), p.tolerance) << p.jp2;
  }
}

// IIP's LYR picks how many quality layers decode; without it half of them
// do (iipsrv's MAX_LAYERS default), and the tile cache keeps them apart.
TEST_F(Jp2Served, LyrChoosesTheQualityLayers) {
  const std::string tile = "/iip?FIF=layers.jp2&PTL=3,5";
  const Raster truth = fetch(port(), "/iip?FIF=sub/deflate.tiff&PTL=2,5");
  double previous = 1e9;
  for (const int layers : {1, 2, 4}) {
    const Raster decoded = fetch(port(), fmt::format("{}&LYR={}", tile, layers));
    const double error = mean_abs_diff(decoded, truth);
    EXPECT_LT(error, previous) << layers << " layers";
    previous = error;
  }
  const auto half = http_get(port(), tile);
  ASSERT_EQ(half.status, 200);
  EXPECT_EQ(half.body, http_get(port(), tile + "&LYR=2").body);
  EXPECT_NE(half.body, http_get(port(), tile + "&LYR=1").body);
  EXPECT_EQ(http_get(port(), tile + "&LYR=9").body, http_get(port(), tile + "&LYR=4").body);
}

}  // namespace
}  // namespace tessera::testing
