#include "protocol/zoomify.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "render/planner.hpp"
#include "support/error_status.hpp"

namespace tessera {
namespace {

using testing::status_of;

ImageInfo pyramid(uint32_t width, uint32_t height, uint32_t tile = 256) {
  ImageInfo info;
  info.width = width;
  info.height = height;
  info.bands = 3;
  uint32_t w = width, h = height;
  for (;;) {
    info.levels.push_back(LevelInfo{w, h, tile, tile, level_scale(width, height, w, h)});
    if ((w <= tile && h <= tile) || (w == 1 && h == 1)) break;
    w = std::max(w / 2, 1u);
    h = std::max(h / 2, 1u);
  }
  return info;
}

ZoomifyRequest properties(std::string id) {
  ZoomifyRequest r;
  r.identifier = std::move(id);
  return r;
}

ZoomifyRequest tile(std::string id, uint32_t group, int tier, uint32_t x, uint32_t y,
                    Format format = Format::Jpeg) {
  ZoomifyRequest r;
  r.kind = ZoomifyRequest::Kind::Tile;
  r.identifier = std::move(id);
  r.tile_group = group;
  r.tier = tier;
  r.x = x;
  r.y = y;
  r.format = format;
  return r;
}

// The tile numbering as OpenSeadragon's Zoomify tile source computes it on
// the client: tier sizes halved with floor, tile counts summed from tier 0.
uint64_t client_group(uint32_t width, uint32_t height, uint32_t ts, int level, uint32_t x,
                      uint32_t y) {
  std::vector<std::pair<uint64_t, uint64_t>> grid;
  uint64_t w = width, h = height;
  grid.push_back({(w + ts - 1) / ts, (h + ts - 1) / ts});
  while (w > ts || h > ts) {
    w = std::max<uint64_t>(w / 2, 1);
    h = std::max<uint64_t>(h / 2, 1);
    grid.push_back({(w + ts - 1) / ts, (h + ts - 1) / ts});
  }
  std::reverse(grid.begin(), grid.end());
  uint64_t n = 0;
  for (int z = 0; z < level; ++z) n += grid[size_t(z)].first * grid[size_t(z)].second;
  n += grid[size_t(level)].first * y + x;
  return n / 256;
}

TEST(ZoomifyParse, PropertiesAndTilePaths) {
  EXPECT_EQ(parse_zoomify("image.tif/ImageProperties.xml"), properties("image.tif"));
  EXPECT_EQ(parse_zoomify("maps/sheet%201.tif/ImageProperties.xml"),
            properties("maps/sheet 1.tif"));
  EXPECT_EQ(parse_zoomify("image.tif/TileGroup0/0-0-0.jpg"), tile("image.tif", 0, 0, 0, 0));
  EXPECT_EQ(parse_zoomify("image.tif/TileGroup6/6-39-31.jpg"), tile("image.tif", 6, 6, 39, 31));
  EXPECT_EQ(parse_zoomify("a/b/c.tif/TileGroup12/3-1-2.jpeg"), tile("a/b/c.tif", 12, 3, 1, 2));
  EXPECT_EQ(parse_zoomify("c.tif/TileGroup0/1-0-0.png"), tile("c.tif", 0, 1, 0, 0, Format::Png));
  EXPECT_EQ(parse_zoomify("..%2Fx.tif/ImageProperties.xml").identifier, "../x.tif");
}

TEST(ZoomifyParse, MalformedPathsAreBadRequests) {
  const std::vector<std::string> bad = {
      "",
      "ImageProperties.xml",
      "/ImageProperties.xml",
      "image.tif/imageproperties.xml",
      "image.tif/ImageProperties.xml/",
      "image.tif/0-0-0.jpg",
      "TileGroup0/0-0-0.jpg",
      "image.tif/TileGroup/0-0-0.jpg",
      "image.tif/Tilegroup0/0-0-0.jpg",
      "image.tif/TileGroupX/0-0-0.jpg",
      "image.tif/TileGroup-1/0-0-0.jpg",
      "image.tif/TileGroup0/0-0.jpg",
      "image.tif/TileGroup0/0-0-0-0.jpg",
      "image.tif/TileGroup0/a-0-0.jpg",
      "image.tif/TileGroup0/0--1-0.jpg",
      "image.tif/TileGroup0/0-0-0",
      "image.tif/TileGroup0/0-0-0.gif",
      "image.tif/TileGroup0/99999999999-0-0.jpg",
      "im%00.tif/ImageProperties.xml",
      "im%2541.tif/ImageProperties.xml",
      "a//b/ImageProperties.xml",
  };
  for (const auto& path : bad) {
    EXPECT_EQ(status_of([&] { parse_zoomify(path); }), 400) << path;
  }
}

TEST(ZoomifyTiers, TiersOf1000x700) {
  const auto tiers = zoomify_tiers(1000, 700, 256);
  ASSERT_EQ(tiers.size(), 3u);
  EXPECT_EQ(tiers[0], (ZoomifyTier{{250, 175, 4.0}, 1, 1, 0}));
  EXPECT_EQ(tiers[1], (ZoomifyTier{{500, 350, 2.0}, 2, 2, 1}));
  EXPECT_EQ(tiers[2], (ZoomifyTier{{1000, 700, 1.0}, 4, 3, 5}));
  EXPECT_EQ(zoomify_tile_count(tiers), 17u);
}

TEST(ZoomifyTiers, SmallAndExtremeShapes) {
  auto tiers = zoomify_tiers(1, 1, 256);
  ASSERT_EQ(tiers.size(), 1u);
  EXPECT_EQ(tiers[0], (ZoomifyTier{{1, 1, 1.0}, 1, 1, 0}));

  tiers = zoomify_tiers(256, 256, 256);
  ASSERT_EQ(tiers.size(), 1u);
  tiers = zoomify_tiers(257, 10, 256);
  ASSERT_EQ(tiers.size(), 2u);
  EXPECT_EQ(tiers[0].level, (ProtocolLevel{128, 5, 2.0}));

  // 65536x3: heights stop at one pixel; nine tiers down to 256x1.
  tiers = zoomify_tiers(65536, 3, 256);
  ASSERT_EQ(tiers.size(), 9u);
  EXPECT_EQ(tiers[0].level, (ProtocolLevel{256, 1, 256.0}));
  EXPECT_EQ(tiers[1].level, (ProtocolLevel{512, 1, 128.0}));
  EXPECT_EQ(tiers[8].level, (ProtocolLevel{65536, 3, 1.0}));
  EXPECT_EQ(zoomify_tile_count(tiers), 511u);  // 1 + 2 + 4 + ... + 256
}

TEST(ZoomifyTiers, TileGroupsOfAMultiGroupImage) {
  // 10000x8000 in 256 px tiles: 1709 tiles in seven tiers, groups 0 to 6.
  const auto tiers = zoomify_tiers(10000, 8000, 256);
  ASSERT_EQ(tiers.size(), 7u);
  const uint64_t first[] = {0, 1, 3, 9, 29, 109, 429};
  const uint32_t across[] = {1, 2, 3, 5, 10, 20, 40};
  const uint32_t down[] = {1, 1, 2, 4, 8, 16, 32};
  for (size_t t = 0; t < 7; ++t) {
    EXPECT_EQ(tiers[t].first_tile, first[t]) << t;
    EXPECT_EQ(tiers[t].tiles_across, across[t]) << t;
    EXPECT_EQ(tiers[t].tiles_down, down[t]) << t;
  }
  EXPECT_EQ(zoomify_tile_count(tiers), 1709u);
  EXPECT_EQ(zoomify_tile_group(tiers, 0, 0, 0), 0u);
  EXPECT_EQ(zoomify_tile_group(tiers, 5, 0, 0), 0u);    // tile 109
  EXPECT_EQ(zoomify_tile_group(tiers, 5, 6, 7), 0u);    // tile 255
  EXPECT_EQ(zoomify_tile_group(tiers, 5, 7, 7), 1u);    // tile 256
  EXPECT_EQ(zoomify_tile_group(tiers, 6, 0, 0), 1u);    // tile 429
  EXPECT_EQ(zoomify_tile_group(tiers, 6, 26, 2), 2u);   // tile 535
  EXPECT_EQ(zoomify_tile_group(tiers, 6, 39, 31), 6u);  // tile 1708

  // The same numbering as a client's, for every tile.
  for (size_t t = 0; t < tiers.size(); ++t)
    for (uint32_t y = 0; y < tiers[t].tiles_down; ++y)
      for (uint32_t x = 0; x < tiers[t].tiles_across; ++x)
        ASSERT_EQ(zoomify_tile_group(tiers, int(t), x, y),
                  client_group(10000, 8000, 256, int(t), x, y))
            << t << "-" << x << "-" << y;
}

TEST(ZoomifyDescribe, ImagePropertiesCountsTheTilesOfAllTiers) {
  EXPECT_EQ(describe_zoomify(pyramid(1000, 700), 256),
            "<IMAGE_PROPERTIES WIDTH=\"1000\" HEIGHT=\"700\" NUMTILES=\"17\" NUMIMAGES=\"1\" "
            "VERSION=\"1.8\" TILESIZE=\"256\" />");
  EXPECT_EQ(describe_zoomify(pyramid(1, 1, 128), 128),
            "<IMAGE_PROPERTIES WIDTH=\"1\" HEIGHT=\"1\" NUMTILES=\"1\" NUMIMAGES=\"1\" "
            "VERSION=\"1.8\" TILESIZE=\"128\" />");
}

TEST(ZoomifyTiles, TilesMapOntoRegions) {
  const ImageInfo info = pyramid(1000, 700);
  Query q = zoomify_tile_query(tile("im", 0, 2, 3, 2), info, 256);
  EXPECT_EQ(q.identifier, "im");
  EXPECT_EQ(q.region, (RegionSpec{RegionSpec::Kind::Pixels, 768, 512, 232, 188}));
  EXPECT_EQ(q.size.kind, SizeSpec::Kind::WidthHeight);
  EXPECT_EQ(q.size.w, 232);
  EXPECT_EQ(q.size.h, 188);

  q = zoomify_tile_query(tile("im", 0, 1, 1, 1), info, 256);
  EXPECT_EQ(q.region, (RegionSpec{RegionSpec::Kind::Pixels, 512, 512, 488, 188}));
  EXPECT_EQ(q.size.w, 244);
  EXPECT_EQ(q.size.h, 94);
  const Plan plan = plan_image(q, info, {});
  EXPECT_EQ(plan.level, 1);
  EXPECT_EQ(plan.read, (PixelRect{256, 256, 244, 94}));

  q = zoomify_tile_query(tile("im", 0, 0, 0, 0), info, 256);
  EXPECT_EQ(q.region, (RegionSpec{RegionSpec::Kind::Pixels, 0, 0, 1000, 700}));
  EXPECT_EQ(q.size.w, 250);
  EXPECT_EQ(q.size.h, 175);

  // Tier 0 of a long strip fits one tile, below any stored level.
  const ImageInfo strip = pyramid(65536, 3);
  q = zoomify_tile_query(tile("s", 0, 0, 0, 0), strip, 256);
  EXPECT_EQ(q.region, (RegionSpec{RegionSpec::Kind::Pixels, 0, 0, 65536, 3}));
  EXPECT_EQ(q.size.w, 256);
  EXPECT_EQ(q.size.h, 1);
  EXPECT_EQ(plan_image(q, strip, {}).out_width, 256u);
}

TEST(ZoomifyTiles, TheTileGroupNumberIsNotChecked) {
  const ImageInfo info = pyramid(1000, 700);
  EXPECT_EQ(zoomify_tile_query(tile("im", 9, 2, 3, 2), info, 256),
            zoomify_tile_query(tile("im", 0, 2, 3, 2), info, 256));
}

// OpenSeadragon counts tier 2 of a 1000x1537 image as 768.5 rows high, 4
// tiles of 256, where the tier has 768 rows (3 tiles): the 4th row is the
// image's last full-resolution row, not a 404.
TEST(ZoomifyTiles, TheSliverRowOpenSeadragonCountsIsServed) {
  const ImageInfo info = pyramid(1000, 1537);
  Query q = zoomify_tile_query(tile("im", 0, 2, 0, 3), info, 256);
  EXPECT_EQ(q.region, (RegionSpec{RegionSpec::Kind::Pixels, 0, 1536, 512, 1}));
  EXPECT_EQ(q.size.w, 256);
  EXPECT_EQ(q.size.h, 1);
  const Plan plan = plan_image(q, info, {});
  EXPECT_EQ(plan.out_width, 256u);
  EXPECT_EQ(plan.out_height, 1u);
  // The regular last row still runs to the image's edge.
  q = zoomify_tile_query(tile("im", 0, 2, 1, 2), info, 256);
  EXPECT_EQ(q.region, (RegionSpec{RegionSpec::Kind::Pixels, 512, 1024, 488, 513}));
  // No further: beyond the exact size, and where the width divides evenly.
  EXPECT_EQ(status_of([&] { zoomify_tile_query(tile("im", 0, 2, 0, 4), info, 256); }), 404);
  EXPECT_EQ(status_of([&] { zoomify_tile_query(tile("im", 0, 2, 2, 0), info, 256); }), 404);
}

TEST(ZoomifyTiles, MissingTiersAndTilesAreNotFound) {
  const ImageInfo info = pyramid(1000, 700);
  EXPECT_EQ(status_of([&] { zoomify_tile_query(tile("im", 0, 3, 0, 0), info, 256); }), 404);
  EXPECT_EQ(status_of([&] { zoomify_tile_query(tile("im", 0, 0, 1, 0), info, 256); }), 404);
  EXPECT_EQ(status_of([&] { zoomify_tile_query(tile("im", 0, 2, 4, 0), info, 256); }), 404);
  EXPECT_EQ(status_of([&] { zoomify_tile_query(tile("im", 0, 2, 0, 3), info, 256); }), 404);
  EXPECT_EQ(status_of([&] { zoomify_tile_query(tile("im", 0, 2, 3, 2), info, 256); }), 200);
}

}  // namespace
}  // namespace tessera
