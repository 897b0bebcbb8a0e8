#include "process/resample.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>
#include <vector>

#include "support/test_images.hpp"

namespace tessera {
namespace {

using testing::box_reduce;
using testing::make_pattern;
using testing::mean_abs_diff;

uint8_t at(const Raster& r, uint32_t x, uint32_t y, int band = 0) {
  return r.row(y)[std::size_t(x) * r.bands() + band];
}

// The source value of pixel (x, y), for one-band images built from a formula.
template <typename F>
Raster make_grey(uint32_t width, uint32_t height, F value) {
  Raster r(width, height, 1);
  for (uint32_t y = 0; y < height; ++y)
    for (uint32_t x = 0; x < width; ++x) r.row(y)[x] = uint8_t(value(x, y));
  return r;
}

Raster make_checkerboard(uint32_t width, uint32_t height) {
  return make_grey(width, height, [](uint32_t x, uint32_t y) { return (x + y) % 2 ? 255 : 0; });
}

Raster make_constant(uint32_t width, uint32_t height, std::vector<uint8_t> values) {
  Raster r(width, height, int(values.size()));
  for (uint32_t y = 0; y < height; ++y)
    for (uint32_t x = 0; x < width; ++x)
      for (std::size_t b = 0; b < values.size(); ++b) r.row(y)[x * values.size() + b] = values[b];
  return r;
}

bool same_pixels(const Raster& a, const Raster& b) {
  if (a.width() != b.width() || a.height() != b.height() || a.bands() != b.bands() ||
      a.sample_type() != b.sample_type()) {
    return false;
  }
  return std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
}

int max_abs_diff(const Raster& a, const Raster& b) {
  EXPECT_EQ(a.size_bytes(), b.size_bytes());
  int worst = 0;
  for (std::size_t i = 0; i < std::min(a.size_bytes(), b.size_bytes()); ++i) {
    worst = std::max(worst, std::abs(int(a.data()[i]) - int(b.data()[i])));
  }
  return worst;
}

double max_deviation_from_mid_grey(const Raster& r) {
  double worst = 0;
  for (std::size_t i = 0; i < r.size_bytes(); ++i) {
    worst = std::max(worst, std::abs(r.data()[i] - 127.5));
  }
  return worst;
}

Raster band_of(const Raster& r, int band) {
  Raster out(r.width(), r.height(), 1);
  for (uint32_t y = 0; y < r.height(); ++y)
    for (uint32_t x = 0; x < r.width(); ++x) out.row(y)[x] = at(r, x, y, band);
  return out;
}

constexpr Interpolation kAll[] = {Interpolation::Nearest, Interpolation::Bilinear,
                                  Interpolation::Lanczos3};

TEST(Resample, WholeWindowAtItsOwnSizeIsAnExactCopy) {
  const Raster src = make_pattern(37, 23, 3);
  for (Interpolation interpolation : kAll) {
    EXPECT_TRUE(same_pixels(resample(src, {0, 0, 37, 23}, 37, 23, interpolation), src));
  }
}

TEST(Resample, IntegerAlignedWindowAtItsOwnSizeIsACrop) {
  const Raster src = make_pattern(64, 48, 4);
  for (Interpolation interpolation : kAll) {
    EXPECT_TRUE(
        same_pixels(resample(src, {5, 3, 10, 7}, 10, 7, interpolation), src.crop(5, 3, 10, 7)));
  }
}

TEST(Resample, IntegerDownscaleEqualsTheBoxAverage) {
  const Raster src = make_pattern(120, 60, 3);
  for (Interpolation interpolation : {Interpolation::Bilinear, Interpolation::Lanczos3}) {
    EXPECT_LE(
        max_abs_diff(resample(src, {0, 0, 120, 60}, 60, 30, interpolation), box_reduce(src, 2)), 1);
    EXPECT_LE(
        max_abs_diff(resample(src, {0, 0, 120, 60}, 40, 20, interpolation), box_reduce(src, 3)), 1);
  }
}

TEST(Resample, LargeIntegerDownscaleEqualsTheBoxAverage) {
  const Raster src = make_pattern(256, 192, 3);
  EXPECT_LE(max_abs_diff(resample(src, {0, 0, 256, 192}, 32, 24), box_reduce(src, 8)), 1);
}

TEST(Resample, CheckerboardHalvedIsFlatGrey) {
  const Raster src = make_checkerboard(240, 240);
  const Raster out = resample(src, {0, 0, 240, 240}, 120, 120);
  EXPECT_LE(max_deviation_from_mid_grey(out), 0.5);
}

// A box of odd width n over a 1-px checkerboard holds one more pixel of one
// colour than of the other, so it leaves 127.5 / n^2 of the pattern: 14 levels
// at n = 3, where nearest leaves all of it (0 or 255).
TEST(Resample, CheckerboardDividedByThreeKeepsOnlyTheBoxResidue) {
  const Raster src = make_checkerboard(240, 240);
  const Raster out = resample(src, {0, 0, 240, 240}, 80, 80);
  EXPECT_LE(max_abs_diff(out, box_reduce(src, 3)), 1);
  EXPECT_LE(max_deviation_from_mid_grey(out), 127.5 / 9 + 0.5);
  EXPECT_GT(
      max_deviation_from_mid_grey(resample(src, {0, 0, 240, 240}, 80, 80, Interpolation::Nearest)),
      127);
}

// At 2.7 a box covers 2 whole pixels and 0.7 of others; the alternating
// signal it integrates is at most 0.7 per axis, so what is left is at most
// 127.5 * (0.7 / 2.7)^2 = 8.6 levels, and it averages out to mid-grey.
TEST(Resample, CheckerboardAtNonIntegerFactorStaysNearMidGrey) {
  const Raster src = make_checkerboard(270, 270);
  const Raster out = resample(src, {0, 0, 270, 270}, 100, 100);
  EXPECT_LE(max_deviation_from_mid_grey(out), 127.5 * (0.7 / 2.7) * (0.7 / 2.7) + 0.5);
  double sum = 0;
  for (std::size_t i = 0; i < out.size_bytes(); ++i) sum += out.data()[i];
  EXPECT_NEAR(sum / double(out.size_bytes()), 127.5, 0.5);
}

TEST(Resample, ConstantImageStaysConstantUnderAnyWindowAndScale) {
  const std::vector<uint8_t> values{77, 200, 3};
  const Raster src = make_constant(40, 30, values);
  const SourceWindow windows[] = {
      {0, 0, 40, 30}, {0.3, 1.7, 10.2, 5.5}, {2.5, 2.5, 1, 1}, {39.5, 0, 0.5, 30}, {0, 0, 40, 1}};
  const std::pair<uint32_t, uint32_t> sizes[] = {{1, 1}, {7, 3}, {31, 17}, {80, 90}, {13, 60}};
  for (Interpolation interpolation : kAll) {
    for (const SourceWindow& window : windows) {
      for (auto [w, h] : sizes) {
        const Raster out = resample(src, window, w, h, interpolation);
        ASSERT_EQ(out.width(), w);
        ASSERT_EQ(out.height(), h);
        EXPECT_TRUE(same_pixels(out, make_constant(w, h, values)))
            << "window " << window.x << "," << window.y << "," << window.width << ","
            << window.height << " -> " << w << "x" << h;
      }
    }
  }
}

TEST(Resample, BilinearDoublingOfAGradientIsMonotonicWithTheSameEnds) {
  const Raster src = make_grey(16, 4, [](uint32_t x, uint32_t) { return 17 * x; });
  const Raster out = resample(src, {0, 0, 16, 4}, 32, 8);
  for (uint32_t y = 0; y < 8; ++y) {
    EXPECT_EQ(at(out, 0, y), 0);
    EXPECT_EQ(at(out, 31, y), 255);
    for (uint32_t x = 1; x < 32; ++x) EXPECT_LE(at(out, x - 1, y), at(out, x, y));
  }
  // Output pixel 2i+1 sits a quarter of a pixel right of source pixel i.
  EXPECT_EQ(at(out, 11, 0), uint8_t(std::lround(17 * 5.25)));
}

TEST(Resample, LanczosEnlargementFollowsAGradientInTheInterior) {
  const Raster src = make_grey(32, 4, [](uint32_t x, uint32_t) { return 4 + 7 * x; });
  const Raster out = resample(src, {0, 0, 32, 4}, 96, 4, Interpolation::Lanczos3);
  for (uint32_t x = 12; x < 84; ++x) {  // away from the repeated edge
    const double expected = 4 + 7 * ((x + 0.5) / 3 - 0.5);
    EXPECT_NEAR(at(out, x, 1), expected, 1.0) << "x=" << x;
  }
}

// A mirror-symmetric source gives a mirror-symmetric result: every filter is
// centred on the output pixel, with as many taps on each side.
TEST(Resample, SymmetricSourceGivesASymmetricResult) {
  const Raster src = make_grey(11, 3, [](uint32_t x, uint32_t) { return x == 5 ? 255 : 20; });
  for (Interpolation interpolation : {Interpolation::Bilinear, Interpolation::Lanczos3}) {
    for (uint32_t w : {44u, 23u, 7u, 4u}) {
      const Raster out = resample(src, {0, 0, 11, 3}, w, 3, interpolation);
      for (uint32_t x = 0; x < w / 2; ++x) {
        EXPECT_NEAR(at(out, x, 1), at(out, w - 1 - x, 1), 1) << "w=" << w << " x=" << x;
      }
    }
  }
}

TEST(Resample, NearestPicksOnlySourceValues) {
  const Raster src = make_grey(20, 12, [](uint32_t x, uint32_t y) { return x * 12 + y; });
  std::set<uint8_t> source_values(src.data(), src.data() + src.size_bytes());
  const std::pair<SourceWindow, std::pair<uint32_t, uint32_t>> cases[] = {
      {{0, 0, 20, 12}, {7, 5}}, {{0, 0, 20, 12}, {53, 41}}, {{1.3, 2.6, 9.1, 4.4}, {13, 3}}};
  for (const auto& [window, size] : cases) {
    const Raster out = resample(src, window, size.first, size.second, Interpolation::Nearest);
    for (std::size_t i = 0; i < out.size_bytes(); ++i) {
      EXPECT_TRUE(source_values.contains(out.data()[i]));
    }
  }
  const Raster tripled = resample(src, {0, 0, 20, 12}, 60, 36, Interpolation::Nearest);
  for (uint32_t y = 0; y < 36; ++y)
    for (uint32_t x = 0; x < 60; ++x) ASSERT_EQ(at(tripled, x, y), at(src, x / 3, y / 3));
}

TEST(Resample, FractionalWindowOffsetShiftsTheResult) {
  // Pixel j holds 10 j at its centre j + 0.5: a ramp of 10 per pixel.
  const Raster src = make_grey(20, 4, [](uint32_t x, uint32_t) { return 10 * x; });
  // Same size, half a pixel right: each output is midway between two sources.
  const Raster shifted = resample(src, {0.5, 0, 19, 4}, 19, 4);
  for (uint32_t x = 0; x < 19; ++x) EXPECT_EQ(at(shifted, x, 2), 10 * x + 5);
  // Halving: [0,2) averages to 5, [0.5,2.5) to 10.
  const Raster halved = resample(src, {0, 0, 4, 4}, 2, 2);
  const Raster halved_shifted = resample(src, {0.5, 0, 4, 4}, 2, 2);
  EXPECT_EQ(at(halved, 0, 0), 5);
  EXPECT_EQ(at(halved, 1, 0), 25);
  EXPECT_EQ(at(halved_shifted, 0, 0), 10);
  EXPECT_EQ(at(halved_shifted, 1, 0), 30);
}

TEST(Resample, EachAxisScalesOnItsOwn) {
  // Halve x (box) and triple y (bilinear) of v = 4x + 10y.
  const Raster src = make_grey(40, 10, [](uint32_t x, uint32_t y) { return 4 * x + 10 * y; });
  const Raster out = resample(src, {0, 0, 40, 10}, 20, 30);
  for (uint32_t y = 0; y < 30; ++y) {
    const double source_y = std::clamp((y + 0.5) / 3 - 0.5, 0.0, 9.0);
    for (uint32_t x = 0; x < 20; ++x) {
      EXPECT_NEAR(at(out, x, y), 8 * x + 2 + 10 * source_y, 0.5) << x << "," << y;
    }
  }
}

TEST(Resample, SinglePixelOutputIsTheMean) {
  const Raster src = make_pattern(64, 64, 3);
  const Raster out = resample(src, {0, 0, 64, 64}, 1, 1);
  EXPECT_LE(max_abs_diff(out, box_reduce(src, 64)), 1);
}

TEST(Resample, SinglePixelSourceEnlargesToAFlatImage) {
  const Raster src = make_constant(1, 1, {10, 20, 30});
  for (Interpolation interpolation : kAll) {
    EXPECT_TRUE(same_pixels(resample(src, {0, 0, 1, 1}, 7, 5, interpolation),
                            make_constant(7, 5, {10, 20, 30})));
  }
}

TEST(Resample, EveryBandIsResampledAlone) {
  for (int bands : {1, 2, 3, 4, 5}) {
    Raster src(50, 30, bands);
    const Raster pattern = make_pattern(50, 30, 4);
    for (uint32_t y = 0; y < 30; ++y)
      for (uint32_t x = 0; x < 50; ++x)
        for (int b = 0; b < bands; ++b) src.row(y)[x * bands + b] = at(pattern, x, y, b % 4) ^ b;
    const std::pair<SourceWindow, std::pair<uint32_t, uint32_t>> cases[] = {
        {{0, 0, 50, 30}, {17, 11}}, {{3.5, 2.25, 20, 10}, {47, 23}}};
    for (Interpolation interpolation : kAll) {
      for (const auto& [window, size] : cases) {
        const Raster out = resample(src, window, size.first, size.second, interpolation);
        ASSERT_EQ(out.bands(), bands);
        for (int b = 0; b < bands; ++b) {
          const Raster alone =
              resample(band_of(src, b), window, size.first, size.second, interpolation);
          EXPECT_TRUE(same_pixels(band_of(out, b), alone)) << bands << " bands, band " << b;
        }
      }
    }
  }
}

TEST(Resample, WindowOutsideTheRasterOrEmptyOutputThrows) {
  const Raster src = make_pattern(20, 10, 1);
  EXPECT_THROW(resample(src, {-1, 0, 5, 5}, 5, 5), std::invalid_argument);
  EXPECT_THROW(resample(src, {16, 0, 5, 5}, 5, 5), std::invalid_argument);
  EXPECT_THROW(resample(src, {0, 6, 5, 5}, 5, 5), std::invalid_argument);
  EXPECT_THROW(resample(src, {0, 0, 0, 5}, 5, 5), std::invalid_argument);
  EXPECT_THROW(resample(src, {0, 0, 5, -1}, 5, 5), std::invalid_argument);
  EXPECT_THROW(resample(src, {std::nan(""), 0, 5, 5}, 5, 5), std::invalid_argument);
  EXPECT_THROW(resample(src, {0, 0, 5, 5}, 0, 5), std::invalid_argument);
  EXPECT_THROW(resample(src, {0, 0, 5, 5}, 5, 0), std::invalid_argument);
  EXPECT_THROW(resample(Raster(), {0, 0, 1, 1}, 1, 1), std::invalid_argument);
  // A rounding overshoot is not outside.
  EXPECT_NO_THROW(resample(src, {0, 0, 20 + 1e-9, 10}, 7, 7));
}

TEST(Resample, SixteenBitSamples) {
  Raster src(8, 4, 1, SampleType::U16);
  for (uint32_t y = 0; y < 4; ++y) {
    auto* row = reinterpret_cast<uint16_t*>(src.row(y));
    for (uint32_t x = 0; x < 8; ++x) row[x] = uint16_t(60000 + 100 * x);
  }
  const Raster half = resample(src, {0, 0, 8, 4}, 4, 2);
  ASSERT_EQ(half.sample_type(), SampleType::U16);
  for (uint32_t x = 0; x < 4; ++x) {
    EXPECT_EQ(reinterpret_cast<const uint16_t*>(half.row(1))[x], 60000 + 200 * x + 50);
  }
}

// Lanczos overshoots at a sharp edge; the overshoot must clamp, not wrap.
TEST(Resample, LanczosOvershootClampsAtTheEndsOfTheRange) {
  Raster step8(8, 1, 1);
  Raster step16(8, 1, 1, SampleType::U16);
  for (uint32_t x = 4; x < 8; ++x) {
    step8.row(0)[x] = 255;
    reinterpret_cast<uint16_t*>(step16.row(0))[x] = 65535;
  }
  const Raster out8 = resample(step8, {0, 0, 8, 1}, 40, 1, Interpolation::Lanczos3);
  const Raster out16 = resample(step16, {0, 0, 8, 1}, 40, 1, Interpolation::Lanczos3);
  const auto* row16 = reinterpret_cast<const uint16_t*>(out16.row(0));
  for (uint32_t x = 0; x < 40; ++x) {
    if (x < 17) {
      EXPECT_LE(out8.row(0)[x], 30) << x;
      EXPECT_LE(row16[x], 7000) << x;
    } else if (x >= 23) {
      EXPECT_GE(out8.row(0)[x], 225) << x;
      EXPECT_GE(row16[x], 58000) << x;
    }
  }
}

TEST(Resample, FloatSamplesAreNotRounded) {
  Raster src(2, 1, 1, SampleType::F32);
  auto* row = reinterpret_cast<float*>(src.row(0));
  row[0] = 0.25f;
  row[1] = 0.5f;
  const Raster out = resample(src, {0, 0, 2, 1}, 1, 1);
  EXPECT_FLOAT_EQ(reinterpret_cast<const float*>(out.row(0))[0], 0.375f);
}

TEST(ReduceBy2, EqualsTheBoxAverageAtOddSizes) {
  for (auto [w, h] : std::vector<std::pair<uint32_t, uint32_t>>{
           {7, 5}, {1, 1}, {1, 6}, {6, 1}, {8, 8}, {33, 17}}) {
    for (int bands : {1, 2, 3, 4, 5}) {
      Raster src(w, h, bands);
      const Raster pattern = make_pattern(w, h, 4);
      for (uint32_t y = 0; y < h; ++y)
        for (uint32_t x = 0; x < w; ++x)
          for (int b = 0; b < bands; ++b)
            src.row(y)[x * bands + b] = uint8_t(at(pattern, x, y, b % 4) * 7 + x * 31 + y * 5);
      const Raster out = reduce_by_2(src);
      EXPECT_EQ(out.width(), (w + 1) / 2);
      EXPECT_EQ(out.height(), (h + 1) / 2);
      EXPECT_TRUE(same_pixels(out, box_reduce(src, 2))) << w << "x" << h << "x" << bands;
    }
  }
}

TEST(ReduceBy2, SixteenBitSamplesDoNotOverflow) {
  Raster src(3, 3, 1, SampleType::U16);
  for (uint32_t y = 0; y < 3; ++y) {
    auto* row = reinterpret_cast<uint16_t*>(src.row(y));
    for (uint32_t x = 0; x < 3; ++x) row[x] = uint16_t(65535 - (x + y));
  }
  const Raster out = reduce_by_2(src);
  ASSERT_EQ(out.sample_type(), SampleType::U16);
  const auto* top = reinterpret_cast<const uint16_t*>(out.row(0));
  const auto* bottom = reinterpret_cast<const uint16_t*>(out.row(1));
  EXPECT_EQ(top[0], 65534);     // (65535 + 65534 + 65534 + 65533) / 4
  EXPECT_EQ(top[1], 65533);     // (65533 + 65532) / 2, half up
  EXPECT_EQ(bottom[0], 65533);  // (65533 + 65532) / 2, half up
  EXPECT_EQ(bottom[1], 65531);
}

}  // namespace
}  // namespace tessera
