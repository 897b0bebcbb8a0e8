#include "render/planner.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace tessera {
namespace {

// 1000x700 with vips-style floor halving, 256 px tiles.
ImageInfo pyramid() {
  ImageInfo info;
  info.width = 1000;
  info.height = 700;
  info.bands = 3;
  for (uint32_t f = 1, w = 1000, h = 700; f <= 4; f *= 2, w /= 2, h /= 2) {
    info.levels.push_back(LevelInfo{w, h, 256, 256, level_scale(1000, 700, w, h)});
  }
  return info;
}

Query image_query(RegionSpec region, SizeSpec size, int version = 3) {
  Query q;
  q.region = region;
  q.size = size;
  q.iiif_version = version;
  return q;
}

int status_of(const Query& q, Limits limits = {}) {
  try {
    plan_image(q, pyramid(), limits);
    return 200;
  } catch (const Error& e) {
    return e.status();
  }
}

using Kind = SizeSpec::Kind;
using RKind = RegionSpec::Kind;

TEST(Planner, TileRequestsReadExactlyOneStoredTile) {
  // Level 1 (scale 2), tile (1,0): full-res region 512,0,488,512 -> 244 wide.
  const Plan plan =
      plan_image(image_query({RKind::Pixels, 512, 0, 488, 512}, {Kind::Width, 244}), pyramid(), {});
  EXPECT_EQ(plan.level, 1);
  EXPECT_EQ(plan.read, (PixelRect{256, 0, 244, 256}));
  EXPECT_EQ(plan.out_width, 244u);
  EXPECT_EQ(plan.out_height, 256u);
  EXPECT_DOUBLE_EQ(plan.window_x, 256);
  EXPECT_DOUBLE_EQ(plan.window_width, 244);
}

TEST(Planner, SmallOutputsReadTheSmallestSufficientLevel) {
  EXPECT_EQ(plan_image(image_query({}, {Kind::Width, 250}), pyramid(), {}).level, 2);
  EXPECT_EQ(plan_image(image_query({}, {Kind::Width, 100}), pyramid(), {}).level, 2);
  EXPECT_EQ(plan_image(image_query({}, {Kind::Width, 251}), pyramid(), {}).level, 2);  // 1px slack
  EXPECT_EQ(plan_image(image_query({}, {Kind::Width, 400}), pyramid(), {}).level, 1);
  EXPECT_EQ(plan_image(image_query({}, {Kind::Max}), pyramid(), {}).level, 0);
  // A small region at full size needs full resolution.
  EXPECT_EQ(
      plan_image(image_query({RKind::Pixels, 10, 10, 50, 50}, {Kind::Max}), pyramid(), {}).level,
      0);
}

TEST(Planner, RegionsAreClippedAndChecked) {
  EXPECT_EQ(resolve_region({RKind::Pixels, 900, 600, 500, 500}, 1000, 700),
            (PixelRect{900, 600, 100, 100}));
  EXPECT_EQ(resolve_region({RKind::Square}, 1000, 700), (PixelRect{150, 0, 700, 700}));
  EXPECT_EQ(resolve_region({RKind::Percent, 10, 10, 50, 50}, 1000, 700),
            (PixelRect{100, 70, 500, 350}));
  EXPECT_THROW(resolve_region({RKind::Pixels, 1000, 0, 10, 10}, 1000, 700), Error);
  EXPECT_THROW(resolve_region({RKind::Pixels, 0, 0, 0, 10}, 1000, 700), Error);
}

TEST(Planner, SizesFollowIiif3) {
  uint32_t w = 0, h = 0;
  resolve_size({Kind::Width, 500}, 3, 1000, 700, {}, w, h);
  EXPECT_EQ(w, 500u);
  EXPECT_EQ(h, 350u);
  resolve_size({Kind::BestFit, 100, 100}, 3, 1000, 700, {}, w, h);
  EXPECT_EQ(w, 100u);
  EXPECT_EQ(h, 70u);
  resolve_size({Kind::BestFit, 5000, 5000}, 3, 1000, 700, {}, w, h);  // no upscaling without ^
  EXPECT_EQ(w, 1000u);
  resolve_size({Kind::BestFit, 2000, 2000, 0, true}, 3, 1000, 700, {}, w, h);
  EXPECT_EQ(w, 2000u);
  EXPECT_EQ(h, 1400u);
  resolve_size({Kind::Max}, 3, 8000, 6000, {5000, 5000, 0}, w, h);  // max fits the limits
  EXPECT_EQ(w, 5000u);
  EXPECT_EQ(h, 3750u);
  resolve_size({Kind::Max, 0, 0, 0, true}, 3, 100, 50, {400, 400, 0}, w, h);  // ^max grows to them
  EXPECT_EQ(w, 400u);
  EXPECT_EQ(h, 200u);
  resolve_size({Kind::Width, 2000}, 2, 1000, 700, {}, w, h);  // 2.1 upscales freely
  EXPECT_EQ(w, 2000u);

  EXPECT_EQ(status_of(image_query({}, {Kind::Width, 1001})), 400);
  EXPECT_EQ(status_of(image_query({}, {Kind::Width, 1001, 0, 0, true})), 200);
  EXPECT_EQ(status_of(image_query({}, {Kind::Width, 6000, 0, 0, true}), {5000, 5000, 0}), 400);
  EXPECT_EQ(status_of(image_query({}, {Kind::WidthHeight, 1000, 701})), 400);
}

TEST(Planner, EveryFeatureButPdfIsPlanned) {
  Query q = image_query({}, {});
  q.rotation = {33.5, true};
  q.quality = Quality::Bitonal;
  q.format = Format::Webp;
  EXPECT_EQ(status_of(q), 200);
  q.format = Format::Pdf;
  EXPECT_EQ(status_of(q), 501);
}

}  // namespace
}  // namespace tessera
