// iipsrv's other protocols over HTTP: DeepZoom, Zoomify and IIP, each tile
// checked against the source pixels, and conditional requests.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>

#include "e2e/fixture.hpp"
#include "support/decode_image.hpp"

namespace tessera::testing {
namespace {

using TileProtocols = ServedImages;

Raster fetch(unsigned short port, const std::string& url) {
  const auto result = http_get(port, url);
  EXPECT_EQ(result.status, 200) << url << ": " << result.body;
  if (result.status != 200) return {};
  return decode_image(result.body);
}

// The pattern at a power-of-two reduction, and a part of it.
Raster reduced(const Raster& source, uint32_t factor) {
  return factor == 1 ? source : box_reduce(source, factor);
}

TEST_F(TileProtocols, DeepZoomDescriptorAndEveryLevel) {
  const auto dzi = http_get(port(), "/deepzoom/pattern.dzi");
  ASSERT_EQ(dzi.status, 200) << dzi.body;
  EXPECT_NE(dzi.body.find("TileSize=\"256\" Overlap=\"0\" Format=\"jpg\""), std::string::npos)
      << dzi.body;
  EXPECT_NE(dzi.body.find("<Size Width=\"1000\" Height=\"700\"/>"), std::string::npos);

  // L = ceil(log2(1000)) = 10; level k is ceil(1000/2^(10-k)) x ceil(700/2^(10-k)).
  for (int k = 0; k <= 10; ++k) {
    const uint32_t f = 1u << (10 - k);
    const uint32_t w = (1000 + f - 1) / f, h = (700 + f - 1) / f;
    const Raster tile = fetch(port(), fmt::format("/deepzoom/pattern_files/{}/0_0.jpg", k));
    ASSERT_EQ(tile.width(), std::min(w, 256u)) << "level " << k;
    ASSERT_EQ(tile.height(), std::min(h, 256u)) << "level " << k;
  }
  // Stored levels 10, 9, 8: pixels match the source; an edge tile too.
  const Raster edge = fetch(port(), "/deepzoom/pattern_files/10/3_2.jpg");
  ASSERT_EQ(edge.width(), 1000u - 768u);
  ASSERT_EQ(edge.height(), 700u - 512u);
  EXPECT_LT(mean_abs_diff(edge, tree().pattern.crop(768, 512, 232, 188)), 4.0);
  const Raster level9 = fetch(port(), "/deepzoom/pattern_files/9/1_1.jpg");
  const Raster want9 = reduced(tree().pattern, 2);
  EXPECT_LT(mean_abs_diff(level9, want9.crop(256, 256, level9.width(), level9.height())), 4.0);

  EXPECT_EQ(http_get(port(), "/deepzoom/pattern_files/11/0_0.jpg").status, 404);
  EXPECT_EQ(http_get(port(), "/deepzoom/pattern_files/10/4_0.jpg").status, 404);
  EXPECT_EQ(http_get(port(), "/deepzoom/pattern_files/x/0_0.jpg").status, 400);
  EXPECT_EQ(http_get(port(), "/deepzoom/nothing.dzi").status, 404);
}

TEST_F(TileProtocols, ZoomifyPropertiesAndTiles) {
  const auto xml = http_get(port(), "/zoomify/pattern/ImageProperties.xml");
  ASSERT_EQ(xml.status, 200);
  // Tiers 1000x700 (4x3 tiles), 500x350 (2x2), 250x175 (1): 17 tiles.
  EXPECT_NE(xml.body.find("WIDTH=\"1000\" HEIGHT=\"700\" NUMTILES=\"17\""), std::string::npos)
      << xml.body;
  EXPECT_NE(xml.body.find("TILESIZE=\"256\""), std::string::npos);
  const Raster whole = fetch(port(), "/zoomify/pattern/TileGroup0/0-0-0.jpg");
  EXPECT_EQ(whole.width(), 250u);
  EXPECT_EQ(whole.height(), 175u);
  EXPECT_LT(mean_abs_diff(whole, reduced(tree().pattern, 4)), 4.0);
  const Raster full = fetch(port(), "/zoomify/pattern/TileGroup0/2-1-1.jpg");
  ASSERT_EQ(full.width(), 256u);
  EXPECT_LT(mean_abs_diff(full, tree().pattern.crop(256, 256, 256, 256)), 4.0);
  EXPECT_EQ(http_get(port(), "/zoomify/pattern/TileGroup0/3-0-0.jpg").status, 404);
}

TEST_F(TileProtocols, IipObjectsAndTiles) {
  for (const char* script : {"/iip", "/fcgi-bin/iipsrv.fcgi"}) {
    const auto obj = http_get(port(), fmt::format("{}?FIF=pattern.tif&OBJ=IIP,1.0&OBJ=Max-size&"
                                                  "OBJ=Tile-size&OBJ=Resolution-number",
                                                  script));
    ASSERT_EQ(obj.status, 200) << obj.body;
    EXPECT_EQ(obj.header("content-type"), "application/vnd.netfpx");
    EXPECT_EQ(obj.body,
              "IIP:1.0\r\nMax-size:1000 700\r\nTile-size:256 256\r\nResolution-number:3\r\n");
  }
  // Resolution 2 is the full size; tile 5 is the second row's second tile.
  const Raster tile = fetch(port(), "/iip?FIF=pattern.tif&JTL=2,5");
  ASSERT_EQ(tile.width(), 256u);
  EXPECT_LT(mean_abs_diff(tile, tree().pattern.crop(256, 256, 256, 256)), 4.0);
  const auto png = http_get(port(), "/iip?FIF=/sub/deflate.tiff&PTL=0,0");
  EXPECT_EQ(png.header("content-type"), "image/png");
  const Raster small = decode_image(png.body);
  EXPECT_EQ(small.width(), 250u);
  EXPECT_LT(mean_abs_diff(small, reduced(tree().pattern, 4)), 1.0);

  const Raster cvt = fetch(port(), "/iip?FIF=pattern.tif&WID=200&RGN=0.5,0.5,0.5,0.5&CVT=jpeg");
  EXPECT_EQ(cvt.width(), 200u);
  EXPECT_EQ(cvt.height(), 140u);
  const Raster rotated = fetch(port(), "/iip?FIF=pattern.tif&WID=100&ROT=90&CVT=png");
  EXPECT_EQ(rotated.width(), 70u);
  EXPECT_EQ(rotated.height(), 100u);
}

TEST_F(TileProtocols, IipErrorsAreIipReplies) {
  const auto unknown = http_get(port(), "/iip?FIF=pattern.tif&FOO=1");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.body, "Error/7:2 2 FOO\r\n");
  EXPECT_EQ(http_get(port(), "/iip?FIF=pattern.tif&CNV=sobel&JTL=1,0").status, 501);
  EXPECT_EQ(http_get(port(), "/iip?FIF=pattern.tif&CMP=sepia&JTL=1,0").status, 400);
  EXPECT_EQ(http_get(port(), "/iip?FIF=nothing.tif&JTL=1,0").status, 404);
  EXPECT_EQ(http_get(port(), "/iip?FIF=pattern.tif&JTL=9,0").status, 404);
  EXPECT_EQ(http_get(port(), "/iip?FIF=../outside.tif&OBJ=Max-size").status, 400);
}

TEST_F(TileProtocols, IiifThroughIipQueryString) {
  const auto info = http_get(port(), "/fcgi-bin/iipsrv.fcgi?IIIF=/pattern.tif/info.json");
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_NE(info.body.find(fmt::format(
                "\"id\": \"http://127.0.0.1:{}/fcgi-bin/iipsrv.fcgi?IIIF=pattern.tif\"", port())),
            std::string::npos)
      << info.body;
}

TEST_F(TileProtocols, IfModifiedSinceAnswers304) {
  const auto first = http_get(port(), "/deepzoom/pattern_files/10/0_0.jpg");
  const std::string modified = first.header("last-modified");
  ASSERT_FALSE(modified.empty());
  const auto again =
      http_get(port(), "/deepzoom/pattern_files/10/0_0.jpg", {{"If-Modified-Since", modified}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  const auto old = http_get(port(), "/deepzoom/pattern_files/10/0_0.jpg",
                            {{"If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT"}});
  EXPECT_EQ(old.status, 200);
}

// The same tile over two protocols is the same entity: one ETag, and a
// client holding it gets 304 whichever URL it revalidates.
TEST_F(TileProtocols, ETagAndIfNoneMatchAnswer304) {
  const auto tile = http_get(port(), "/deepzoom/pattern_files/10/0_0.jpg");
  ASSERT_EQ(tile.status, 200);
  const std::string tag = tile.header("etag");
  ASSERT_FALSE(tag.empty());
  const auto again = http_get(port(), "/deepzoom/pattern_files/10/0_0.jpg",
                              {{"If-None-Match", "\"stale\", " + tag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(again.header("etag"), tag);
  // If-None-Match decides alone: a matching date does not rescue a stale tag.
  const auto stale = http_get(
      port(), "/deepzoom/pattern_files/10/0_0.jpg",
      {{"If-None-Match", "\"stale\""}, {"If-Modified-Since", tile.header("last-modified")}});
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.body, tile.body);
  const auto other = http_get(port(), "/deepzoom/pattern_files/9/0_0.jpg");
  ASSERT_EQ(other.status, 200);
  EXPECT_NE(other.header("etag"), tag);
  // Descriptions are validated too.
  const auto info = http_get(port(), "/iiif/3/pattern/info.json");
  ASSERT_FALSE(info.header("etag").empty());
  EXPECT_EQ(http_get(port(), "/iiif/3/pattern/info.json", {{"If-None-Match", info.header("etag")}})
                .status,
            304);
}

}  // namespace
}  // namespace tessera::testing

namespace tessera::testing {
namespace {

TEST(TileProtocolsConfig, UriMapCacheControlAndPrefix) {
  const TestTree tree = make_test_tree();
  ServerProcess server(
      tree.root, {},
      {"URI_MAP=img=>IIIF dz=>DeepZoom zoom=>Zoomify fif=>IIP", "CACHE_CONTROL=public, max-age=60",
       "FILESYSTEM_PREFIX=sub/", "FILESYSTEM_SUFFIX=.tiff"});
  const auto info = http_get(server.port(), "/img/deflate/info.json");
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_NE(
      info.body.find(fmt::format("\"id\": \"http://127.0.0.1:{}/img/deflate\"", server.port())),
      std::string::npos)
      << info.body;
  EXPECT_EQ(info.header("cache-control"), "public, max-age=60");
  EXPECT_EQ(http_get(server.port(), "/dz/deflate.dzi").status, 200);
  EXPECT_EQ(http_get(server.port(), "/zoom/deflate/TileGroup0/0-0-0.jpg").status, 200);
  const auto obj = http_get(server.port(), "/fif?FIF=deflate&OBJ=Max-size");
  EXPECT_EQ(obj.body, "Max-size:1000 700\r\n");
  // The default routes stay; errors are not cacheable.
  const auto missing = http_get(server.port(), "/iiif/3/nothing/info.json");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("cache-control"), "");
  std::filesystem::remove_all(tree.dir);
}

}  // namespace
}  // namespace tessera::testing
