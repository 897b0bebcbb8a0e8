#include "protocol/deepzoom.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "render/planner.hpp"
#include "support/error_status.hpp"

namespace tessera {
namespace {

using testing::status_of;

// A pyramid as vips makes it: floor halving while a level exceeds one tile.
ImageInfo pyramid(uint32_t width, uint32_t height, uint32_t tile = 256, int stored_levels = 0) {
  ImageInfo info;
  info.width = width;
  info.height = height;
  info.bands = 3;
  uint32_t w = width, h = height;
  for (int n = 0;; ++n) {
    info.levels.push_back(LevelInfo{w, h, tile, tile, level_scale(width, height, w, h)});
    if (stored_levels > 0 ? n + 1 >= stored_levels : (w <= tile && h <= tile)) break;
    if (w == 1 && h == 1) break;
    w = std::max(w / 2, 1u);
    h = std::max(h / 2, 1u);
  }
  return info;
}

DeepZoomRequest tile(std::string id, int level, uint32_t x, uint32_t y,
                     Format format = Format::Jpeg) {
  DeepZoomRequest r;
  r.kind = DeepZoomRequest::Kind::Tile;
  r.identifier = std::move(id);
  r.level = level;
  r.x = x;
  r.y = y;
  r.format = format;
  return r;
}

DeepZoomRequest descriptor(std::string id) {
  DeepZoomRequest r;
  r.identifier = std::move(id);
  return r;
}

TEST(DeepZoomParse, DescriptorAndTilePaths) {
  EXPECT_EQ(parse_deepzoom("image.tif.dzi"), descriptor("image.tif"));
  EXPECT_EQ(parse_deepzoom("image.dzi"), descriptor("image"));
  EXPECT_EQ(parse_deepzoom("maps/1851/sheet%201.tif.dzi"), descriptor("maps/1851/sheet 1.tif"));
  EXPECT_EQ(parse_deepzoom("a%2Fb.dzi"), descriptor("a/b"));
  EXPECT_EQ(parse_deepzoom("image.tif_files/10/3_2.jpg"), tile("image.tif", 10, 3, 2));
  EXPECT_EQ(parse_deepzoom("image.tif_files/0/0_0.jpeg"), tile("image.tif", 0, 0, 0));
  EXPECT_EQ(parse_deepzoom("image.tif_files/12/40_7.png"),
            tile("image.tif", 12, 40, 7, Format::Png));
  EXPECT_EQ(parse_deepzoom("image.tif_files/12/1_1.webp"),
            tile("image.tif", 12, 1, 1, Format::Webp));
  EXPECT_EQ(parse_deepzoom("dir/sub%20dir/x.tif_files/5/0_1.jpg"),
            tile("dir/sub dir/x.tif", 5, 0, 1));
  // "_files" inside the identifier is just part of its name.
  EXPECT_EQ(parse_deepzoom("my_files/x_files/1/0_0.jpg"), tile("my_files/x", 1, 0, 0));
  // Level numbers above the image's are the planner's 404, not a syntax error.
  EXPECT_EQ(parse_deepzoom("x_files/999999999/0_0.jpg").level, 999999999);
}

TEST(DeepZoomParse, IdentifiersAreDecodedExactlyAndLeftToTheResolver) {
  EXPECT_EQ(parse_deepzoom("..%2Fsecret.tif.dzi").identifier, "../secret.tif");
  EXPECT_EQ(parse_deepzoom("../secret.tif.dzi").identifier, "../secret.tif");
  EXPECT_EQ(parse_deepzoom("caf%C3%A9.tif.dzi").identifier, "caf\xC3\xA9.tif");
  EXPECT_EQ(parse_deepzoom("a+b.dzi").identifier, "a+b");  // '+' is a plus in a path
}

TEST(DeepZoomParse, MalformedPathsAreBadRequests) {
  const std::vector<std::string> bad = {
      "",
      ".dzi",
      "/x.dzi",
      "a//b.dzi",
      "a%00b.dzi",
      "a%0Ab.dzi",
      "a%zzb.dzi",
      "a%2541.dzi",
      "image.tif",
      "image.tif_files/10/0_0",
      "image.tif_files/10/0-0.jpg",
      "image.tif_files/10/0_0.gif",
      "image.tif_files/10/_0.jpg",
      "image.tif_files/10/0_.jpg",
      "image.tif_files/10/a_0.jpg",
      "image.tif_files/10/0_-1.jpg",
      "image.tif_files/x/0_0.jpg",
      "image.tif_files/-1/0_0.jpg",
      "image.tif_files/1e3/0_0.jpg",
      "image.tif_files/9999999999/0_0.jpg",
      "image.tif_files/10/99999999999_0.jpg",
      "image.tif_files/10/0_0.jpg/",
      "image.tif_files/10/0_0.jpg/x",
      "image.tif/10/0_0.jpg",
      "_files/1/0_0.jpg",
      "image.tif_files//0_0.jpg",
      "image.tif_files/10/ 0_0.jpg",
  };
  for (const auto& path : bad) {
    EXPECT_EQ(status_of([&] { parse_deepzoom(path); }), 400) << path;
  }
}

TEST(DeepZoomLevels, MaxLevelIsCeilLog2OfTheLongerSide) {
  EXPECT_EQ(deepzoom_max_level(1, 1), 0);
  EXPECT_EQ(deepzoom_max_level(2, 1), 1);
  EXPECT_EQ(deepzoom_max_level(3, 1), 2);
  EXPECT_EQ(deepzoom_max_level(1000, 700), 10);
  EXPECT_EQ(deepzoom_max_level(700, 1000), 10);
  EXPECT_EQ(deepzoom_max_level(1024, 1024), 10);
  EXPECT_EQ(deepzoom_max_level(1025, 3), 11);
  EXPECT_EQ(deepzoom_max_level(65536, 3), 16);
  EXPECT_EQ(deepzoom_max_level(65537, 1), 17);
  EXPECT_EQ(deepzoom_max_level(4294967295u, 1), 32);
}

TEST(DeepZoomLevels, EveryLevelOf1000x700) {
  struct Size {
    uint32_t w, h;
  };
  // ceil(1000 / 2^(10-k)) x ceil(700 / 2^(10-k)), worked by hand.
  const Size expected[] = {{1, 1},   {2, 2},    {4, 3},     {8, 6},     {16, 11},   {32, 22},
                           {63, 44}, {125, 88}, {250, 175}, {500, 350}, {1000, 700}};
  for (int k = 0; k <= 10; ++k) {
    const ProtocolLevel level = deepzoom_level(1000, 700, k);
    EXPECT_EQ(level.width, expected[k].w) << k;
    EXPECT_EQ(level.height, expected[k].h) << k;
    EXPECT_DOUBLE_EQ(level.scale, std::ldexp(1.0, 10 - k)) << k;
  }
}

TEST(DeepZoomLevels, LevelSizesRoundUpForManyShapes) {
  const std::pair<uint32_t, uint32_t> shapes[] = {
      {1, 1}, {1, 7}, {3, 3}, {255, 257}, {1000, 700}, {1001, 701}, {65536, 3}, {12345, 6789}};
  for (const auto& [w, h] : shapes) {
    const int L = deepzoom_max_level(w, h);
    EXPECT_EQ(deepzoom_level(w, h, L), (ProtocolLevel{w, h, 1.0}));
    EXPECT_EQ(deepzoom_level(w, h, 0).width, 1u);
    EXPECT_EQ(deepzoom_level(w, h, 0).height, 1u);
    for (int k = 0; k <= L; ++k) {
      const double f = std::ldexp(1.0, L - k);
      const ProtocolLevel level = deepzoom_level(w, h, k);
      EXPECT_EQ(level.width, uint32_t(std::ceil(w / f))) << w << "x" << h << " level " << k;
      EXPECT_EQ(level.height, uint32_t(std::ceil(h / f))) << w << "x" << h << " level " << k;
    }
  }
}

TEST(DeepZoomDescribe, DziIsIipsrvsDocument) {
  EXPECT_EQ(describe_dzi(pyramid(1000, 700), 256),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
            "<Image xmlns=\"http://schemas.microsoft.com/deepzoom/2008\"\r\n"
            "TileSize=\"256\" Overlap=\"0\" Format=\"jpg\"><Size Width=\"1000\" "
            "Height=\"700\"/></Image>");
  EXPECT_NE(describe_dzi(pyramid(1, 1, 128), 128).find("TileSize=\"128\""), std::string::npos);
}

TEST(DeepZoomTiles, TilesOfStoredLevelsAreRegionsOfThoseTiles) {
  const ImageInfo info = pyramid(1000, 700);
  Query q = deepzoom_tile_query(tile("im.tif", 10, 0, 0), info, 256);
  EXPECT_EQ(q.kind, QueryKind::Image);
  EXPECT_EQ(q.identifier, "im.tif");
  EXPECT_EQ(q.region, (RegionSpec{RegionSpec::Kind::Pixels, 0, 0, 256, 256}));
  EXPECT_EQ(q.size.kind, SizeSpec::Kind::WidthHeight);
  EXPECT_EQ(q.size.w, 256);
  EXPECT_EQ(q.size.h, 256);

  q = deepzoom_tile_query(tile("im.tif", 10, 3, 2), info, 256);
  EXPECT_EQ(q.region, (RegionSpec{RegionSpec::Kind::Pixels, 768, 512, 232, 188}));
  EXPECT_EQ(q.size.w, 232);
  EXPECT_EQ(q.size.h, 188);

  // Level 9 is 500x350: tile 1_1 is its 244x94 corner, 488x188 at full size.
  q = deepzoom_tile_query(tile("im.tif", 9, 1, 1, Format::Png), info, 256);
  EXPECT_EQ(q.region, (RegionSpec{RegionSpec::Kind::Pixels, 512, 512, 488, 188}));
  EXPECT_EQ(q.size.w, 244);
  EXPECT_EQ(q.size.h, 94);
  EXPECT_EQ(q.format, Format::Png);

  // The planner reads exactly that stored tile.
  q.format = Format::Jpeg;
  const Plan plan = plan_image(q, info, {});
  EXPECT_EQ(plan.level, 1);
  EXPECT_EQ(plan.read, (PixelRect{256, 256, 244, 94}));
  EXPECT_EQ(plan.out_width, 244u);
  EXPECT_EQ(plan.out_height, 94u);
}

TEST(DeepZoomTiles, LevelsBelowTheSmallestStoredLevelHaveTheirOwnSize) {
  const ImageInfo info = pyramid(1000, 700);  // stored down to 250x175 only
  for (int k = 0; k <= 7; ++k) {
    const Query q = deepzoom_tile_query(tile("im.tif", k, 0, 0), info, 256);
    const ProtocolLevel level = deepzoom_level(1000, 700, k);
    EXPECT_EQ(q.region, (RegionSpec{RegionSpec::Kind::Pixels, 0, 0, 1000, 700})) << k;
    EXPECT_EQ(uint32_t(q.size.w), level.width) << k;
    EXPECT_EQ(uint32_t(q.size.h), level.height) << k;
    const Plan plan = plan_image(q, info, {});
    EXPECT_EQ(plan.out_width, level.width) << k;
    EXPECT_EQ(plan.out_height, level.height) << k;
    EXPECT_EQ(plan.level, 2) << k;  // read from the smallest stored level
  }
  EXPECT_EQ(deepzoom_tile_query(tile("im.tif", 7, 0, 0), info, 256).size.w, 125);
  EXPECT_EQ(deepzoom_tile_query(tile("im.tif", 7, 0, 0), info, 256).size.h, 88);
}

TEST(DeepZoomTiles, OddShapes) {
  // 1x1: a single level holding a single pixel.
  const ImageInfo dot = pyramid(1, 1, 128);
  Query q = deepzoom_tile_query(tile("dot", 0, 0, 0), dot, 128);
  EXPECT_EQ(q.region, (RegionSpec{RegionSpec::Kind::Pixels, 0, 0, 1, 1}));
  EXPECT_EQ(q.size.w, 1);
  EXPECT_EQ(q.size.h, 1);
  EXPECT_EQ(status_of([&] { deepzoom_tile_query(tile("dot", 1, 0, 0), dot, 128); }), 404);

  // 65536x3: level 16 is 256 tiles across; level 8 is 256x1; level 0 1x1.
  const ImageInfo strip = pyramid(65536, 3);
  q = deepzoom_tile_query(tile("s", 16, 255, 0), strip, 256);
  EXPECT_EQ(q.region, (RegionSpec{RegionSpec::Kind::Pixels, 65280, 0, 256, 3}));
  EXPECT_EQ(q.size.w, 256);
  EXPECT_EQ(q.size.h, 3);
  q = deepzoom_tile_query(tile("s", 15, 127, 0), strip, 256);
  EXPECT_EQ(q.region, (RegionSpec{RegionSpec::Kind::Pixels, 65024, 0, 512, 3}));
  EXPECT_EQ(q.size.h, 2);
  q = deepzoom_tile_query(tile("s", 8, 0, 0), strip, 256);
  EXPECT_EQ(q.region, (RegionSpec{RegionSpec::Kind::Pixels, 0, 0, 65536, 3}));
  EXPECT_EQ(q.size.w, 256);
  EXPECT_EQ(q.size.h, 1);
  q = deepzoom_tile_query(tile("s", 0, 0, 0), strip, 256);
  EXPECT_EQ(q.size.w, 1);
  EXPECT_EQ(q.size.h, 1);
  EXPECT_EQ(plan_image(q, strip, {}).out_width, 1u);

  // An odd width: the last tile runs to the image's edge.
  const ImageInfo odd = pyramid(1001, 701);
  q = deepzoom_tile_query(tile("o", 9, 1, 1), odd, 256);  // level 9 is 501x351
  EXPECT_EQ(q.region, (RegionSpec{RegionSpec::Kind::Pixels, 512, 512, 489, 189}));
  EXPECT_EQ(q.size.w, 245);
  EXPECT_EQ(q.size.h, 95);
  EXPECT_EQ(plan_image(q, odd, {}).out_width, 245u);
}

TEST(DeepZoomTiles, EveryTileOfEveryLevelCoversTheImageOnce) {
  const ImageInfo info = pyramid(1000, 700);
  for (int k = 0; k <= deepzoom_max_level(1000, 700); ++k) {
    const ProtocolLevel level = deepzoom_level(1000, 700, k);
    const uint32_t across = (level.width + 255) / 256, down = (level.height + 255) / 256;
    double covered = 0;
    uint64_t out = 0;
    for (uint32_t y = 0; y < down; ++y) {
      for (uint32_t x = 0; x < across; ++x) {
        const Query q = deepzoom_tile_query(tile("im", k, x, y), info, 256);
        covered += q.region.w * q.region.h;
        out += uint64_t(q.size.w) * q.size.h;
      }
    }
    EXPECT_DOUBLE_EQ(covered, 1000.0 * 700) << k;
    EXPECT_EQ(out, uint64_t(level.width) * level.height) << k;
  }
}

TEST(DeepZoomTiles, MissingLevelsAndTilesAreNotFound) {
  const ImageInfo info = pyramid(1000, 700);
  EXPECT_EQ(status_of([&] { deepzoom_tile_query(tile("im", 11, 0, 0), info, 256); }), 404);
  EXPECT_EQ(status_of([&] { deepzoom_tile_query(tile("im", 999999999, 0, 0), info, 256); }), 404);
  EXPECT_EQ(status_of([&] { deepzoom_tile_query(tile("im", 10, 4, 0), info, 256); }), 404);
  EXPECT_EQ(status_of([&] { deepzoom_tile_query(tile("im", 10, 0, 3), info, 256); }), 404);
  EXPECT_EQ(status_of([&] { deepzoom_tile_query(tile("im", 7, 1, 0), info, 256); }), 404);
  EXPECT_EQ(status_of([&] { deepzoom_tile_query(tile("im", 10, 3, 2), info, 256); }), 200);
  try {
    deepzoom_tile_query(tile("im", 10, 4, 0), info, 256);
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "DeepZoom tile 4_0 does not exist; level 10 has 4x3 tiles");
  }
}

}  // namespace
}  // namespace tessera
