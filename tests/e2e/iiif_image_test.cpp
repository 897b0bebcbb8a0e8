// IIIF Image API 3.0 over HTTP: info.json against the file, every tile of
// every level against the source pixels, and the size forms.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "e2e/fixture.hpp"
#include "support/tiff_directories.hpp"

namespace tessera::testing {
namespace {

using json = nlohmann::json;

using IiifImage = ServedImages;

TEST_F(IiifImage, InfoJsonDescribesTheFile) {
  const auto result = http_get(port(), "/iiif/3/pattern/info.json");
  ASSERT_EQ(result.status, 200) << result.body;
  EXPECT_EQ(result.header("content-type"), "application/json");
  const json info = json::parse(result.body);
  const auto levels = tiff_directories(tree().root / "pattern.tif");
  ASSERT_GE(levels.size(), 3u);

  EXPECT_EQ(info["@context"], "http://iiif.io/api/image/3/context.json");
  EXPECT_EQ(info["id"], fmt::format("http://127.0.0.1:{}/iiif/3/pattern", port()));
  EXPECT_EQ(info["type"], "ImageService3");
  EXPECT_EQ(info["protocol"], "http://iiif.io/api/image");
  EXPECT_EQ(info["profile"], "level2");
  EXPECT_EQ(info["width"], levels[0].width);
  EXPECT_EQ(info["height"], levels[0].height);
  ASSERT_EQ(info["tiles"].size(), 1u);
  EXPECT_EQ(info["tiles"][0]["width"], levels[0].tile_width);
  EXPECT_EQ(info["tiles"][0]["height"], levels[0].tile_height);
  std::vector<int> factors;
  for (std::size_t i = 0; i < levels.size(); ++i) factors.push_back(1 << i);
  EXPECT_EQ(info["tiles"][0]["scaleFactors"].get<std::vector<int>>(), factors);
  // One size per level, smallest first, none above the full size.
  ASSERT_EQ(info["sizes"].size(), levels.size());
  EXPECT_EQ(info["sizes"].back()["width"], levels[0].width);
  EXPECT_EQ(info["sizes"].front()["width"], levels.back().width);
}

TEST_F(IiifImage, InfoJsonIsJsonLdWhenAskedFor) {
  const auto result =
      http_get(port(), "/iiif/3/pattern/info.json", {{"Accept", "application/ld+json"}});
  ASSERT_EQ(result.status, 200);
  EXPECT_EQ(result.header("content-type"),
            "application/ld+json;profile=\"http://iiif.io/api/image/3/context.json\"");
}

TEST_F(IiifImage, UnversionedPrefixIsVersion3) {
  const auto result = http_get(port(), "/iiif/pattern/info.json");
  ASSERT_EQ(result.status, 200);
  const json info = json::parse(result.body);
  EXPECT_EQ(info["id"], fmt::format("http://127.0.0.1:{}/iiif/pattern", port()));
  EXPECT_EQ(info["@context"], "http://iiif.io/api/image/3/context.json");
}

TEST_F(IiifImage, BaseUriRedirectsToInfoJson) {
  const auto result = http_get(port(), "/iiif/3/pattern");
  EXPECT_EQ(result.status, 303);
  EXPECT_EQ(result.header("location"),
            fmt::format("http://127.0.0.1:{}/iiif/3/pattern/info.json", port()));
}

// Every tile of every level, asked for as OpenSeadragon asks, decoded and
// compared with the source reduced by the level's scale.
TEST_F(IiifImage, EveryTileOfEveryLevelMatchesTheSource) {
  const Raster& source = tree().pattern;
  const uint32_t W = source.width(), H = source.height(), tile = 256;
  int tiles_checked = 0;
  for (uint32_t f = 1; f <= 4; f *= 2) {
    const Raster level = f == 1 ? source : box_reduce(source, f);
    for (uint32_t y = 0; y < H; y += tile * f) {
      for (uint32_t x = 0; x < W; x += tile * f) {
        const uint32_t rw = std::min(tile * f, W - x), rh = std::min(tile * f, H - y);
        const uint32_t ow = (rw + f - 1) / f;
        const auto url =
            fmt::format("/iiif/3/pattern/{},{},{},{}/{},/0/default.jpg", x, y, rw, rh, ow);
        const auto result = http_get(port(), url);
        ASSERT_EQ(result.status, 200) << url << ": " << result.body;
        const Raster got = decode_body(result);
        const uint32_t oh = uint32_t(std::lround(double(rh) * ow / rw));
        ASSERT_EQ(got.width(), ow) << url;
        ASSERT_EQ(got.height(), std::max(1u, oh)) << url;
        const Raster want = level.crop(x / f, y / f, std::min(ow, level.width() - x / f),
                                       std::min(got.height(), level.height() - y / f));
        if (want.width() == got.width() && want.height() == got.height()) {
          EXPECT_LT(mean_abs_diff(got, want), 4.0) << url;
        } else {
          EXPECT_LT(mean_abs_diff(got.crop(0, 0, want.width(), want.height()), want), 4.0) << url;
        }
        ++tiles_checked;
      }
    }
  }
  EXPECT_EQ(tiles_checked, 12 + 4 + 1);
}

TEST_F(IiifImage, EdgeTilesAreCroppedToTheImage) {
  const auto result = http_get(port(), "/iiif/3/pattern/768,512,232,188/232,/0/default.jpg");
  ASSERT_EQ(result.status, 200) << result.body;
  const Raster got = decode_body(result);
  EXPECT_EQ(got.width(), 232u);
  EXPECT_EQ(got.height(), 188u);
  EXPECT_LT(mean_abs_diff(got, tree().pattern.crop(768, 512, 232, 188)), 4.0);

  // A region reaching past the edge is clipped to it.
  const auto clipped = http_get(port(), "/iiif/3/pattern/768,512,512,512/max/0/default.jpg");
  ASSERT_EQ(clipped.status, 200) << clipped.body;
  const Raster c = decode_body(clipped);
  EXPECT_EQ(c.width(), 232u);
  EXPECT_EQ(c.height(), 188u);
}

struct SizeCase {
  const char* region_size;
  uint32_t width, height;
};

TEST_F(IiifImage, SizeFormsGiveTheRightDimensions) {
  const SizeCase cases[] = {
      {"full/max", 1000, 700},     {"full/500,", 500, 350},         {"full/,350", 500, 350},
      {"full/200,100", 200, 100},  {"square/max", 700, 700},        {"square/70,", 70, 70},
      {"0,0,10,10/10,10", 10, 10}, {"full/!100,100", 100, 70},      {"full/pct:10", 100, 70},
      {"full/^1200,", 1200, 840},  {"100,100,300,200/,50", 75, 50},
  };
  for (const auto& c : cases) {
    const auto url = fmt::format("/iiif/3/pattern/{}/0/default.jpg", c.region_size);
    const auto result = http_get(port(), url);
    ASSERT_EQ(result.status, 200) << url << ": " << result.body;
    const Raster got = decode_body(result);
    EXPECT_EQ(got.width(), c.width) << url;
    EXPECT_EQ(got.height(), c.height) << url;
  }
}

TEST_F(IiifImage, DownscaledFullImageMatchesTheSource) {
  const auto result = http_get(port(), "/iiif/3/pattern/full/250,/0/color.jpg");
  ASSERT_EQ(result.status, 200) << result.body;
  const Raster got = decode_body(result);
  ASSERT_EQ(got.width(), 250u);
  ASSERT_EQ(got.height(), 175u);
  EXPECT_LT(mean_abs_diff(got, box_reduce(tree().pattern, 4)), 4.0);
}

TEST_F(IiifImage, IdentifiersMayOmitTheExtensionAndNameSubfolders) {
  for (const char* id :
       {"pattern.tif", "other", "other.ptif", "sub/deflate", "sub%2Fdeflate", "sub/deflate.tiff"}) {
    const auto result = http_get(port(), fmt::format("/iiif/3/{}/0,0,64,64/max/0/default.jpg", id));
    EXPECT_EQ(result.status, 200) << id << ": " << result.body;
  }
}

TEST_F(IiifImage, SubIfdPyramidWithSmallTilesIsDescribed) {
  const auto result = http_get(port(), "/iiif/3/other/info.json");
  ASSERT_EQ(result.status, 200) << result.body;
  const json info = json::parse(result.body);
  EXPECT_EQ(info["tiles"][0]["width"], 128);
  EXPECT_EQ(info["tiles"][0]["scaleFactors"].get<std::vector<int>>(),
            (std::vector<int>{1, 2, 4, 8}));
}

}  // namespace
}  // namespace tessera::testing
