#include "process/rotate.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <vector>

#include "common/error.hpp"
#include "support/test_images.hpp"

namespace tessera {
namespace {

using testing::make_pattern;

// A raster of width x height whose pixel (x, y) is value(x, y, band).
template <typename T, typename F>
Raster make_raster(uint32_t width, uint32_t height, int bands, SampleType type, F value) {
  Raster r(width, height, bands, type);
  for (uint32_t y = 0; y < height; ++y) {
    T* row = reinterpret_cast<T*>(r.row(y));
    for (uint32_t x = 0; x < width; ++x)
      for (int b = 0; b < bands; ++b) row[std::size_t(x) * bands + b] = T(value(x, y, b));
  }
  return r;
}

// One-band 8-bit rows from a list, top first.
Raster grey_rows(const std::vector<std::vector<uint8_t>>& rows) {
  Raster r(uint32_t(rows[0].size()), uint32_t(rows.size()), 1);
  for (uint32_t y = 0; y < rows.size(); ++y) std::memcpy(r.row(y), rows[y].data(), rows[y].size());
  return r;
}

template <typename T = uint8_t>
T at(const Raster& r, uint32_t x, uint32_t y, int band = 0) {
  return reinterpret_cast<const T*>(r.row(y))[std::size_t(x) * r.bands() + band];
}

bool same_pixels(const Raster& a, const Raster& b) {
  return a.width() == b.width() && a.height() == b.height() && a.bands() == b.bands() &&
         a.sample_type() == b.sample_type() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
}

int status_of(auto&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.status();
  }
  return 0;
}

// a b c
// d e f
const Raster kSmall = grey_rows({{'a', 'b', 'c'}, {'d', 'e', 'f'}});

TEST(Rotate, QuarterTurnsOfA3x2ImageMovePixelsExactly) {
  EXPECT_TRUE(same_pixels(rotate(kSmall, 90), grey_rows({{'d', 'a'}, {'e', 'b'}, {'f', 'c'}})));
  EXPECT_TRUE(same_pixels(rotate(kSmall, 180), grey_rows({{'f', 'e', 'd'}, {'c', 'b', 'a'}})));
  EXPECT_TRUE(same_pixels(rotate(kSmall, 270), grey_rows({{'c', 'f'}, {'b', 'e'}, {'a', 'd'}})));
  EXPECT_TRUE(same_pixels(rotate(kSmall, 0), kSmall));
  EXPECT_TRUE(same_pixels(rotate(kSmall, 360), kSmall));
}

TEST(Rotate, MirrorSwapsLeftAndRight) {
  EXPECT_TRUE(
      same_pixels(mirror_horizontal(kSmall), grey_rows({{'c', 'b', 'a'}, {'f', 'e', 'd'}})));
}

// IIIF "!90": mirror first, then rotate.
TEST(Rotate, MirrorThenQuarterTurnIsIiifBang90) {
  EXPECT_TRUE(same_pixels(rotate(mirror_horizontal(kSmall), 90),
                          grey_rows({{'f', 'c'}, {'e', 'b'}, {'d', 'a'}})));
  // ... which is the transpose.
  EXPECT_TRUE(same_pixels(rotate(mirror_horizontal(kSmall), 270),
                          grey_rows({{'a', 'd'}, {'b', 'e'}, {'c', 'f'}})));
}

TEST(Rotate, MirrorAndQuarterTurnsKeepEverySampleOfAnyLayout) {
  struct Layout {
    int bands;
    SampleType type;
  };
  for (Layout layout :
       {Layout{1, SampleType::U8}, Layout{3, SampleType::U8}, Layout{4, SampleType::U16},
        Layout{5, SampleType::U8}, Layout{2, SampleType::F32}}) {
    // Larger than the 64-pixel blocks quarter turns work in, and odd-sized.
    const uint32_t w = 150, h = 71;
    auto value = [](uint32_t x, uint32_t y, int b) { return (x * 7 + y * 13 + b * 29) % 251; };
    Raster src =
        layout.type == SampleType::U8 ? make_raster<uint8_t>(w, h, layout.bands, layout.type, value)
        : layout.type == SampleType::U16
            ? make_raster<uint16_t>(w, h, layout.bands, layout.type,
                                    [&](auto x, auto y, int b) { return 300 * value(x, y, b); })
            : make_raster<float>(w, h, layout.bands, layout.type, value);
    const std::size_t pixel = std::size_t(layout.bands) * bytes_per_sample(layout.type);
    auto pixel_at = [&](const Raster& r, uint32_t x, uint32_t y) {
      return r.row(y) + std::size_t(x) * pixel;
    };
    const Raster mirrored = mirror_horizontal(src);
    const Raster r90 = rotate(src, 90), r180 = rotate(src, 180), r270 = rotate(src, 270);
    ASSERT_EQ(r90.width(), h);
    ASSERT_EQ(r90.height(), w);
    ASSERT_EQ(r180.width(), w);
    ASSERT_EQ(r270.height(), w);
    for (uint32_t y = 0; y < h; ++y) {
      for (uint32_t x = 0; x < w; ++x) {
        const uint8_t* p = pixel_at(src, x, y);
        EXPECT_EQ(std::memcmp(pixel_at(mirrored, w - 1 - x, y), p, pixel), 0);
        EXPECT_EQ(std::memcmp(pixel_at(r90, h - 1 - y, x), p, pixel), 0);
        EXPECT_EQ(std::memcmp(pixel_at(r180, w - 1 - x, h - 1 - y), p, pixel), 0);
        EXPECT_EQ(std::memcmp(pixel_at(r270, y, w - 1 - x), p, pixel), 0);
      }
    }
    EXPECT_TRUE(same_pixels(rotate(rotate(r90, 90), 180), src));
  }
}

TEST(Rotate, BoundingBoxSizes) {
  auto expect_size = [](uint32_t w, uint32_t h, double degrees, uint32_t ew, uint32_t eh) {
    const RotatedSize size = rotated_size(w, h, degrees);
    EXPECT_EQ(size.width, ew) << w << "x" << h << " by " << degrees;
    EXPECT_EQ(size.height, eh) << w << "x" << h << " by " << degrees;
    const Raster out = rotate(Raster(w, h, 3), degrees);
    EXPECT_EQ(out.width(), ew);
    EXPECT_EQ(out.height(), eh);
  };
  expect_size(100, 100, 45, 142, 142);     // 141.42
  expect_size(100, 50, 30, 112, 94);       // 86.60 + 25, 50 + 43.30
  expect_size(100, 100, 359.5, 101, 101);  // 99.996 + 0.873
  expect_size(100, 50, 90, 50, 100);
  expect_size(100, 50, 270, 50, 100);
  expect_size(100, 50, 180, 100, 50);
  expect_size(100, 50, 135, 107, 107);  // 70.71 + 35.36 both ways
  expect_size(1, 1, 45, 2, 2);          // 1.414
  // The general formula, for angles on a fine grid.
  for (double degrees = 0.25; degrees < 360; degrees += 7.25) {
    const double r = degrees * std::numbers::pi / 180;
    const double c = std::abs(std::cos(r)), s = std::abs(std::sin(r));
    const RotatedSize size = rotated_size(640, 480, degrees);
    EXPECT_EQ(size.width, uint32_t(std::ceil(640 * c + 480 * s - 1e-6))) << degrees;
    EXPECT_EQ(size.height, uint32_t(std::ceil(640 * s + 480 * c - 1e-6))) << degrees;
  }
}

// Clockwise on screen, where y grows downwards: a spot above the centre moves
// to the right.
TEST(Rotate, TurnsClockwise) {
  const Raster src =
      make_raster<uint8_t>(61, 61, 1, SampleType::U8, [](uint32_t x, uint32_t y, int) {
        return (x >= 29 && x <= 31 && y >= 9 && y <= 11) ? 255
                                                         : 0;  // centred 20 px above the middle
      });
  const Raster out = rotate(src, 30, {.transparent = false, .background = {0}});
  double sum = 0, sx = 0, sy = 0;
  for (uint32_t y = 0; y < out.height(); ++y) {
    for (uint32_t x = 0; x < out.width(); ++x) {
      const double v = at(out, x, y);
      sum += v;
      sx += v * (x + 0.5);
      sy += v * (y + 0.5);
    }
  }
  ASSERT_GT(sum, 0);
  const double cx = out.width() / 2.0 + 20 * std::sin(std::numbers::pi / 6);
  const double cy = out.height() / 2.0 - 20 * std::cos(std::numbers::pi / 6);
  EXPECT_NEAR(sx / sum, cx, 0.1);
  EXPECT_NEAR(sy / sum, cy, 0.1);
  // Bilinear sampling keeps the spot's total brightness, near enough.
  EXPECT_NEAR(sum / (9 * 255.0), 1.0, 0.1);
}

// A linear ramp stays linear under bilinear sampling: every output pixel whose
// centre maps well inside the source equals the ramp at that point, rounded
// (positions are held to 1/256 pixel, which the ramp's slope of 2 turns into
// at most 0.006 of a level).
TEST(Rotate, InteriorSamplesFollowABilinearRamp) {
  const uint32_t w = 64, h = 48;
  auto ramp = [](double x, double y) { return 20 + 2 * x + y; };  // at pixel centres x + .5
  const Raster src = make_raster<uint8_t>(w, h, 1, SampleType::U8,
                                          [&](uint32_t x, uint32_t y, int) { return ramp(x, y); });
  for (double degrees : {10.0, 30.0, 135.0, 200.5, 333.0}) {
    const Raster out = rotate(src, degrees);
    const double r = degrees * std::numbers::pi / 180, c = std::cos(r), s = std::sin(r);
    int checked = 0;
    for (uint32_t y = 0; y < out.height(); ++y) {
      for (uint32_t x = 0; x < out.width(); ++x) {
        const double dx = x + 0.5 - out.width() / 2.0, dy = y + 0.5 - out.height() / 2.0;
        const double u = c * dx + s * dy + w / 2.0 - 0.5, v = -s * dx + c * dy + h / 2.0 - 0.5;
        if (u < 0.01 || v < 0.01 || u > w - 1.01 || v > h - 1.01) continue;
        EXPECT_NEAR(at(out, x, y), ramp(u, v), 0.507) << degrees << " at " << x << "," << y;
        ++checked;
      }
    }
    EXPECT_GT(checked, int(w * h) / 2);
  }
}

TEST(Rotate, TransparentCornersAndOpaqueCentre) {
  const Raster src = make_raster<uint8_t>(100, 100, 3, SampleType::U8,
                                          [](uint32_t, uint32_t, int b) { return 50 + 70 * b; });
  const Raster out = rotate(src, 45, {.transparent = true});
  ASSERT_EQ(out.bands(), 4);
  ASSERT_EQ(out.width(), 142u);
  for (auto [x, y] : {std::pair{0u, 0u}, {141u, 0u}, {0u, 141u}, {141u, 141u}, {5u, 5u}}) {
    EXPECT_EQ(at(out, x, y, 3), 0) << x << "," << y;
  }
  for (auto [x, y] : {std::pair{71u, 71u}, {70u, 70u}, {71u, 20u}, {30u, 71u}}) {
    EXPECT_EQ(at(out, x, y, 0), 50);
    EXPECT_EQ(at(out, x, y, 1), 120);
    EXPECT_EQ(at(out, x, y, 2), 190);
    EXPECT_EQ(at(out, x, y, 3), 255) << x << "," << y;
  }
  // The diagonal edge is antialiased: along the middle row alpha climbs from
  // 0 to 255 through partial values, and the colour of partly covered pixels
  // is the edge's own (not darkened by the fill).
  int partial = 0;
  for (uint32_t x = 0; x < 71; ++x) {
    const uint8_t alpha = at(out, x, 71, 3);
    if (x > 0) {
      EXPECT_GE(alpha, at(out, x - 1, 71, 3));
    }
    if (alpha > 0 && alpha < 255) {
      ++partial;
      EXPECT_EQ(at(out, x, 71, 0), 50);
      EXPECT_EQ(at(out, x, 71, 2), 190);
    }
  }
  EXPECT_GE(partial, 1);
  // Total alpha is the rotated square's area, 100 x 100.
  double area = 0;
  for (uint32_t y = 0; y < out.height(); ++y)
    for (uint32_t x = 0; x < out.width(); ++x) area += at(out, x, y, 3) / 255.0;
  EXPECT_NEAR(area, 100.0 * 100.0, 100.0);
}

TEST(Rotate, TransparentAddsAlphaToGreyAndKeepsExistingAlpha) {
  const Raster grey =
      make_raster<uint8_t>(40, 30, 1, SampleType::U8, [](uint32_t, uint32_t, int) { return 90; });
  const Raster grey_out = rotate(grey, 20, {.transparent = true});
  ASSERT_EQ(grey_out.bands(), 2);
  EXPECT_EQ(at(grey_out, grey_out.width() / 2, grey_out.height() / 2, 0), 90);
  EXPECT_EQ(at(grey_out, grey_out.width() / 2, grey_out.height() / 2, 1), 255);
  EXPECT_EQ(at(grey_out, 0, 0, 1), 0);

  const Raster rgba = make_raster<uint8_t>(
      40, 30, 4, SampleType::U8, [](uint32_t, uint32_t, int b) { return b == 3 ? 128 : 200; });
  const Raster rgba_out = rotate(rgba, 20, {.transparent = true});
  ASSERT_EQ(rgba_out.bands(), 4);
  EXPECT_EQ(at(rgba_out, rgba_out.width() / 2, rgba_out.height() / 2, 3), 128);
  EXPECT_EQ(at(rgba_out, 0, 0, 3), 0);
  // Not transparent: the alpha band is filled like any other.
  const Raster filled = rotate(rgba, 20);
  ASSERT_EQ(filled.bands(), 4);
  EXPECT_EQ(at(filled, 0, 0, 3), 255);
}

TEST(Rotate, BackgroundFillsTheCorners) {
  const Raster src =
      make_raster<uint8_t>(100, 100, 3, SampleType::U8, [](uint32_t, uint32_t, int) { return 10; });
  const Raster white = rotate(src, 45);
  ASSERT_EQ(white.bands(), 3);
  for (int b = 0; b < 3; ++b) {
    EXPECT_EQ(at(white, 0, 0, b), 255);
    EXPECT_EQ(at(white, 141, 141, b), 255);
    EXPECT_EQ(at(white, 71, 71, b), 10);
  }
  const Raster blue = rotate(src, 45, {.transparent = false, .background = {0, 0, 255}});
  EXPECT_EQ(at(blue, 0, 141, 0), 0);
  EXPECT_EQ(at(blue, 0, 141, 1), 0);
  EXPECT_EQ(at(blue, 0, 141, 2), 255);
  // The edge blends into the background: between the two, never outside.
  for (uint32_t x = 0; x < 71; ++x) {
    EXPECT_LE(at(blue, x, 71, 0), 10);
    EXPECT_GE(at(blue, x, 71, 2), 10);
  }
  const Raster grey = rotate(src, 45, {.transparent = false, .background = {128}});
  for (int b = 0; b < 3; ++b) EXPECT_EQ(at(grey, 141, 0, b), 128);
}

TEST(Rotate, SixteenBitSamples) {
  const Raster src = make_raster<uint16_t>(50, 40, 1, SampleType::U16,
                                           [](uint32_t, uint32_t, int) { return 1000; });
  const Raster out = rotate(src, 30);
  ASSERT_EQ(out.sample_type(), SampleType::U16);
  EXPECT_EQ(at<uint16_t>(out, out.width() / 2, out.height() / 2), 1000);
  EXPECT_EQ(at<uint16_t>(out, 0, 0), 65535);  // white background at 16 bits
  const Raster clear = rotate(src, 30, {.transparent = true});
  ASSERT_EQ(clear.bands(), 2);
  EXPECT_EQ(at<uint16_t>(clear, clear.width() / 2, clear.height() / 2, 1), 65535);
  EXPECT_EQ(at<uint16_t>(clear, 0, 0, 1), 0);
}

TEST(Rotate, SmallAngleKeepsAnImageNearlyAsItWas) {
  const Raster src = make_pattern(80, 60, 3);
  const Raster out = rotate(src, 359.5);
  ASSERT_EQ(out.width(), 81u);
  ASSERT_EQ(out.height(), 61u);
  // The output is half a pixel larger each side; away from the edges a 0.5
  // degree turn moves a pixel by at most 0.35 px, so the smooth pattern barely
  // changes.
  double diff = 0;
  int n = 0;
  for (uint32_t y = 10; y < 50; ++y) {
    for (uint32_t x = 10; x < 70; ++x) {
      for (int b = 0; b < 3; ++b) {
        const double a = at(src, x, y, b);
        const double l = at(out, x, y, b), r = at(out, x + 1, y + 1, b);
        diff += std::abs((l + r) / 2 - a);
        ++n;
      }
    }
  }
  EXPECT_LT(diff / n, 3.0);
}

TEST(Rotate, RejectsBadAnglesAndDeepSamples) {
  EXPECT_EQ(status_of([] { rotate(kSmall, -1); }), 400);
  EXPECT_EQ(status_of([] { rotate(kSmall, 360.5); }), 400);
  EXPECT_EQ(status_of([] { rotate(kSmall, std::numeric_limits<double>::quiet_NaN()); }), 400);
  EXPECT_EQ(status_of([] { rotate(Raster(4, 4, 1, SampleType::F32), 45); }), 500);
  EXPECT_EQ(status_of([] { rotate(Raster(4, 4, 1, SampleType::U32), 90); }), 0);
}

TEST(Rotate, TinySourcesDoNotBreak) {
  const Raster one = grey_rows({{200}});
  const Raster out = rotate(one, 45, {.transparent = true});
  ASSERT_EQ(out.width(), 2u);
  ASSERT_EQ(out.height(), 2u);
  for (uint32_t y = 0; y < 2; ++y) {
    for (uint32_t x = 0; x < 2; ++x) {
      EXPECT_EQ(at(out, x, y, 0), 200);
      EXPECT_GT(at(out, x, y, 1), 0);
      EXPECT_LT(at(out, x, y, 1), 255);
    }
  }
  const Raster row = grey_rows({{1, 2, 3, 4, 5}});
  EXPECT_EQ(rotate(row, 10).height(), 2u);  // 5 sin 10 + 1 cos 10 = 1.85
}

}  // namespace
}  // namespace tessera
