// WATERMARK as iipsrv lays it: one copy of the mark somewhere inside each
// 256 px block that the draw picks, added to the pixels times the opacity.

#include "process/watermark.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace tessera {
namespace {

// A flat raster of `value` in every sample.
Raster flat(uint32_t w, uint32_t h, int bands, uint8_t value) {
  Raster r(w, h, bands);
  std::memset(r.data(), value, r.size_bytes());
  return r;
}

// A 20 x 10 mark: 200 in its left half, 0 (adds nothing) in its right.
Raster half_mark(int bands) {
  Raster m(20, 10, bands);
  for (uint32_t y = 0; y < 10; ++y)
    for (uint32_t x = 0; x < 10; ++x)
      for (int b = 0; b < bands; ++b) m.row(y)[x * bands + b] = 200;
  return m;
}

struct Changed {
  std::size_t pixels = 0;
  uint32_t x0 = UINT32_MAX, y0 = UINT32_MAX, x1 = 0, y1 = 0;
};

Changed changed(const Raster& a, const Raster& b) {
  Changed c;
  const int bands = a.bands();
  for (uint32_t y = 0; y < a.height(); ++y) {
    for (uint32_t x = 0; x < a.width(); ++x) {
      if (std::memcmp(a.row(y) + x * bands, b.row(y) + x * bands, std::size_t(bands)) != 0) {
        ++c.pixels;
        c.x0 = std::min(c.x0, x), c.y0 = std::min(c.y0, y);
        c.x1 = std::max(c.x1, x), c.y1 = std::max(c.y1, y);
      }
    }
  }
  return c;
}

TEST(Watermark, OneMarkInsideEachBlockAddedTimesTheOpacity) {
  const Watermark w{half_mark(3), 1.0, 0.5};
  const Raster before = flat(256, 256, 3, 100);
  Raster after = before;
  apply_watermark(after, w, 7);
  const Changed c = changed(before, after);
  // The mark's bright half, 10 x 10, somewhere inside the tile.
  EXPECT_EQ(c.pixels, 100u);
  EXPECT_EQ(c.x1 - c.x0, 9u);
  EXPECT_EQ(c.y1 - c.y0, 9u);
  EXPECT_EQ(after.row(c.y0)[c.x0 * 3], 200);  // 100 + 0.5 * 200
  // Another seed, another place; the same seed, the same place.
  Raster again = before, elsewhere = before;
  apply_watermark(again, w, 7);
  apply_watermark(elsewhere, w, 8);
  EXPECT_EQ(changed(after, again).pixels, 0u);
  EXPECT_NE(changed(after, elsewhere).pixels, 0u);
}

TEST(Watermark, AddsUpToWhite) {
  Raster pixels = flat(256, 256, 1, 180);
  apply_watermark(pixels, Watermark{half_mark(1), 1.0, 1.0}, 1);
  std::size_t white = 0;
  for (std::size_t i = 0; i < pixels.size_bytes(); ++i) white += pixels.data()[i] == 255;
  EXPECT_EQ(white, 100u);
}

TEST(Watermark, EveryBlockOfAnExportHasItsChance) {
  const Raster before = flat(2560, 2560, 3, 10);  // 100 blocks
  Raster all = before, none = before, some = before;
  apply_watermark(all, Watermark{half_mark(3), 1.0, 1.0}, 3);
  apply_watermark(none, Watermark{half_mark(3), 0.0, 1.0}, 3);
  apply_watermark(some, Watermark{half_mark(3), 0.5, 1.0}, 3);
  EXPECT_EQ(changed(before, all).pixels, 100u * 100);
  EXPECT_EQ(changed(before, none).pixels, 0u);
  const std::size_t marked = changed(before, some).pixels / 100;
  EXPECT_GT(marked, 30u);
  EXPECT_LT(marked, 70u);
  // Each mark stays inside its block.
  for (uint32_t by = 0; by < 2560; by += 256) {
    for (uint32_t bx = 0; bx < 2560; bx += 256) {
      const Changed c = changed(before.crop(bx, by, 256, 256), all.crop(bx, by, 256, 256));
      EXPECT_EQ(c.pixels, 100u) << bx << "," << by;
    }
  }
}

TEST(Watermark, BandsAndDepths) {
  // A grey mark on RGB marks every band; an RGB mark on grey gives its luma.
  Raster rgb = flat(256, 256, 3, 0);
  apply_watermark(rgb, Watermark{half_mark(1), 1.0, 0.5}, 5);
  const Changed c = changed(flat(256, 256, 3, 0), rgb);
  const uint8_t* p = rgb.row(c.y0) + c.x0 * 3;
  EXPECT_EQ((std::vector<uint8_t>{p[0], p[1], p[2]}), (std::vector<uint8_t>{100, 100, 100}));
  Raster red(20, 10, 3);
  for (uint32_t y = 0; y < 10; ++y)
    for (uint32_t x = 0; x < 20; ++x) red.row(y)[x * 3] = 200;
  Raster grey = flat(256, 256, 1, 0);
  apply_watermark(grey, Watermark{red, 1.0, 1.0}, 5);
  const Changed g = changed(flat(256, 256, 1, 0), grey);
  EXPECT_EQ(grey.row(g.y0)[g.x0], 60);  // 0.299 * 200
  // Alpha is left as it is.
  Raster rgba = flat(256, 256, 4, 0);
  apply_watermark(rgba, Watermark{half_mark(3), 1.0, 1.0}, 5);
  for (std::size_t i = 3; i < rgba.size_bytes(); i += 4) ASSERT_EQ(rgba.data()[i], 0);
  // 16 bits: the same on the 16-bit scale.
  Raster deep(256, 256, 1, SampleType::U16);
  apply_watermark(deep, Watermark{half_mark(1), 1.0, 0.5}, 5);
  uint16_t most = 0;
  for (std::size_t i = 0; i < deep.size_bytes(); i += 2) {
    uint16_t v;
    std::memcpy(&v, deep.data() + i, 2);
    most = std::max(most, v);
  }
  EXPECT_EQ(most, 25700);  // 0.5 * 200 * 257
}

TEST(Watermark, AMarkLargerThanTheRasterIsCut) {
  Raster small = flat(8, 6, 1, 0);
  apply_watermark(small, Watermark{half_mark(1), 1.0, 1.0}, 9);
  // At the top left: the first 8 columns are the mark's bright half.
  for (uint32_t y = 0; y < 6; ++y)
    for (uint32_t x = 0; x < 8; ++x) EXPECT_EQ(small.row(y)[x], 200);
}

}  // namespace
}  // namespace tessera
