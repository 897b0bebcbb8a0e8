#include "process/colour.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "common/error.hpp"
#include "support/error_status.hpp"

namespace tessera {
namespace {

using testing::status_of;

// One row of pixels, each a list of band values.
template <typename T = uint8_t>
Raster pixels(const std::vector<std::vector<double>>& values, SampleType type = SampleType::U8) {
  const int bands = int(values[0].size());
  Raster r(uint32_t(values.size()), 1, bands, type);
  T* row = reinterpret_cast<T*>(r.row(0));
  for (std::size_t x = 0; x < values.size(); ++x)
    for (int b = 0; b < bands; ++b) row[x * bands + b] = T(values[x][b]);
  return r;
}

template <typename T = uint8_t>
T at(const Raster& r, uint32_t x, int band = 0) {
  return reinterpret_cast<const T*>(r.row(0))[std::size_t(x) * r.bands() + band];
}

// --- grey ------------------------------------------------------------------

TEST(Colour, GreyOfPrimariesUsesRec601Weights) {
  const Raster rgb = pixels({{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}, {0, 0, 0}});
  const Raster grey = to_gray(rgb);
  ASSERT_EQ(grey.bands(), 1);
  ASSERT_EQ(grey.width(), 5u);
  EXPECT_EQ(at(grey, 0), std::lround(0.299 * 255));  // 76
  EXPECT_EQ(at(grey, 1), std::lround(0.587 * 255));  // 150
  EXPECT_EQ(at(grey, 2), std::lround(0.114 * 255));  // 29
  EXPECT_EQ(at(grey, 3), 255);
  EXPECT_EQ(at(grey, 4), 0);
}

TEST(Colour, GreyRoundsLikeTheRealWeightsAt8And16Bits) {
  std::vector<std::vector<double>> values;
  for (int i = 0; i < 200; ++i)
    values.push_back({double(i * 37 % 256), double(i * 91 % 256), double(i * 13 % 256)});
  const Raster grey8 = to_gray(pixels(values));
  std::vector<std::vector<double>> deep;
  for (auto& v : values) deep.push_back({v[0] * 251, v[1] * 257, v[2] * 199});
  const Raster grey16 = to_gray(pixels<uint16_t>(deep, SampleType::U16));
  ASSERT_EQ(grey16.sample_type(), SampleType::U16);
  for (uint32_t i = 0; i < values.size(); ++i) {
    const auto& v = values[i];
    const double exact8 = 0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2];
    EXPECT_NEAR(at(grey8, i), exact8, 0.5 + 1e-3) << i;
    const auto& d = deep[i];
    const double exact16 = 0.299 * d[0] + 0.587 * d[1] + 0.114 * d[2];
    EXPECT_NEAR(at<uint16_t>(grey16, i), exact16, 0.5 + 1e-2) << i;
  }
}

TEST(Colour, GreyKeepsAlphaAndLeavesGreyAlone) {
  const Raster rgba = pixels({{255, 0, 0, 17}, {0, 255, 0, 200}});
  const Raster grey = to_gray(rgba);
  ASSERT_EQ(grey.bands(), 2);
  EXPECT_EQ(at(grey, 0, 0), 76);
  EXPECT_EQ(at(grey, 0, 1), 17);
  EXPECT_EQ(at(grey, 1, 1), 200);

  const Raster ga = pixels({{12, 34}, {56, 78}});
  const Raster same = to_gray(ga);
  ASSERT_EQ(same.bands(), 2);
  EXPECT_EQ(std::memcmp(same.data(), ga.data(), ga.size_bytes()), 0);

  EXPECT_EQ(status_of([] { to_gray(Raster(2, 2, 5)); }), 400);
}

// --- bitonal ---------------------------------------------------------------

TEST(Colour, BitonalThresholdsGreyAt128) {
  const Raster grey = pixels({{0}, {127}, {128}, {255}});
  const Raster out = to_bitonal(grey);
  ASSERT_EQ(out.bands(), 1);
  ASSERT_EQ(out.sample_type(), SampleType::U8);
  EXPECT_EQ(at(out, 0), 0);
  EXPECT_EQ(at(out, 1), 0);
  EXPECT_EQ(at(out, 2), 255);
  EXPECT_EQ(at(out, 3), 255);
  const Raster strict = to_bitonal(grey, 200);
  EXPECT_EQ(at(strict, 2), 0);
  EXPECT_EQ(at(strict, 3), 255);
}

TEST(Colour, BitonalOfColourGoesThroughGrey) {
  // Green's luma is 150, blue's 29, red's 76.
  const Raster out = to_bitonal(pixels({{0, 255, 0}, {0, 0, 255}, {255, 0, 0}, {200, 200, 200}}));
  ASSERT_EQ(out.bands(), 1);
  EXPECT_EQ(at(out, 0), 255);
  EXPECT_EQ(at(out, 1), 0);
  EXPECT_EQ(at(out, 2), 0);
  EXPECT_EQ(at(out, 3), 255);
}

TEST(Colour, BitonalMakesTransparencyWhiteAndHandles16Bit) {
  const Raster ga = to_bitonal(pixels({{0, 0}, {0, 255}, {255, 255}}));
  ASSERT_EQ(ga.bands(), 1);
  EXPECT_EQ(at(ga, 0), 255);  // transparent black: white
  EXPECT_EQ(at(ga, 1), 0);
  EXPECT_EQ(at(ga, 2), 255);
  const Raster deep =
      to_bitonal(pixels<uint16_t>({{128 * 257}, {127 * 257 + 128}}, SampleType::U16));
  ASSERT_EQ(deep.sample_type(), SampleType::U8);
  EXPECT_EQ(at(deep, 0), 255);
  EXPECT_EQ(at(deep, 1), 0);
}

TEST(Colour, OtsuSplitsTwoPopulations) {
  std::vector<std::vector<double>> values;
  for (int i = 0; i < 60; ++i) values.push_back({double(30 + i % 7)});
  for (int i = 0; i < 40; ++i) values.push_back({double(210 + i % 5)});
  const Raster grey = pixels(values);
  const uint8_t t = otsu_threshold(grey);
  EXPECT_GT(t, 36);
  EXPECT_LE(t, 210);
  const Raster out = to_bitonal(grey, t);
  for (uint32_t i = 0; i < 100; ++i) EXPECT_EQ(at(out, i), i < 60 ? 0 : 255) << i;
  EXPECT_EQ(otsu_threshold(pixels({{90}, {90}})), kBitonalThreshold);  // nothing to split
}

// --- depth -----------------------------------------------------------------

TEST(Colour, SixteenToEightBitRoundsEveryValue) {
  Raster all(65536, 1, 1, SampleType::U16);
  uint16_t* row = reinterpret_cast<uint16_t*>(all.row(0));
  for (uint32_t v = 0; v < 65536; ++v) row[v] = uint16_t(v);
  const Raster out = to_8bit(all);
  ASSERT_EQ(out.sample_type(), SampleType::U8);
  for (uint32_t v = 0; v < 65536; ++v) {
    ASSERT_EQ(out.row(0)[v], std::lround(v * 255.0 / 65535.0)) << v;
  }
}

TEST(Colour, ThirtyTwoToEightBitRounds) {
  const std::vector<double> values = {
      0, 8421504, 8421505, 16843009, 2147483647, 2147483648, 4294967295.0 - 8421504, 4294967295.0};
  std::vector<std::vector<double>> px;
  for (double v : values) px.push_back({v});
  const Raster out = to_8bit(pixels<uint32_t>(px, SampleType::U32));
  for (uint32_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(at(out, i), std::lround(values[i] * 255.0 / 4294967295.0)) << values[i];
  }
}

TEST(Colour, FloatIsStretchedPerBandByItsOwnRange) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Raster src =
      pixels<float>({{-1, 100}, {0, 150}, {1, 200}, {3, 200}, {nan, 100}}, SampleType::F32);
  const Raster out = to_8bit(src);
  ASSERT_EQ(out.bands(), 2);
  EXPECT_EQ(at(out, 0, 0), 0);
  EXPECT_EQ(at(out, 1, 0), 64);   // 63.75
  EXPECT_EQ(at(out, 2, 0), 128);  // 127.5
  EXPECT_EQ(at(out, 3, 0), 255);
  EXPECT_EQ(at(out, 4, 0), 0);  // NaN
  EXPECT_EQ(at(out, 0, 1), 0);
  EXPECT_EQ(at(out, 1, 1), 128);
  EXPECT_EQ(at(out, 2, 1), 255);
  // A constant band has no range to stretch.
  EXPECT_EQ(at(to_8bit(pixels<float>({{5}, {5}}, SampleType::F32)), 1), 0);
}

TEST(Colour, ExplicitRangeAppliesToAnySampleType) {
  const Raster src = pixels<uint16_t>({{999, 1000}, {1500, 1100}, {3000, 1200}}, SampleType::U16);
  const std::vector<double> min = {1000, 1000}, max = {2000, 1200};
  const Raster out = to_8bit(src, min, max);
  EXPECT_EQ(at(out, 0, 0), 0);
  EXPECT_EQ(at(out, 1, 0), 128);
  EXPECT_EQ(at(out, 2, 0), 255);
  EXPECT_EQ(at(out, 0, 1), 0);
  EXPECT_EQ(at(out, 1, 1), 128);
  EXPECT_EQ(at(out, 2, 1), 255);
  const std::vector<double> one_min = {0}, one_max = {1};
  const Raster f = to_8bit(pixels<float>({{0.5, 2}}, SampleType::F32), one_min, one_max);
  EXPECT_EQ(at(f, 0, 0), 128);
  EXPECT_EQ(at(f, 0, 1), 255);
  const std::vector<double> none;
  EXPECT_THROW(to_8bit(src, none, max), std::invalid_argument);
}

// --- alpha -----------------------------------------------------------------

TEST(Colour, DropAlphaRemovesTheLastBandOnlyWhenAsked) {
  const Raster rgba = pixels({{1, 2, 3, 4}, {5, 6, 7, 8}});
  const Raster rgb = drop_alpha(rgba, true);
  ASSERT_EQ(rgb.bands(), 3);
  EXPECT_EQ(at(rgb, 1, 0), 5);
  EXPECT_EQ(at(rgb, 1, 2), 7);
  EXPECT_EQ(drop_alpha(rgba, false).bands(), 4);
  const Raster deep = drop_alpha(pixels<uint16_t>({{1000, 60000}}, SampleType::U16), true);
  ASSERT_EQ(deep.bands(), 1);
  EXPECT_EQ(at<uint16_t>(deep, 0), 1000);
}

TEST(Colour, FlattenCompositesOverTheBackground) {
  const Raster rgba = pixels({{200, 100, 0, 0}, {200, 100, 0, 255}, {200, 100, 0, 128}});
  const Raster white = flatten_alpha(rgba);
  ASSERT_EQ(white.bands(), 3);
  for (int b = 0; b < 3; ++b) EXPECT_EQ(at(white, 0, b), 255);
  EXPECT_EQ(at(white, 1, 0), 200);
  EXPECT_EQ(at(white, 1, 1), 100);
  EXPECT_EQ(at(white, 1, 2), 0);
  const double a = 128 / 255.0;
  EXPECT_EQ(at(white, 2, 0), std::lround(200 * a + 255 * (1 - a)));
  EXPECT_EQ(at(white, 2, 1), std::lround(100 * a + 255 * (1 - a)));
  EXPECT_EQ(at(white, 2, 2), std::lround(255 * (1 - a)));

  const Raster black = flatten_alpha(rgba, 0);
  EXPECT_EQ(at(black, 0, 0), 0);
  EXPECT_EQ(at(black, 2, 0), std::lround(200 * a));

  const Raster deep = flatten_alpha(pixels<uint16_t>({{1000, 0}, {1000, 65535}}, SampleType::U16));
  ASSERT_EQ(deep.bands(), 1);
  EXPECT_EQ(at<uint16_t>(deep, 0), 65535);
  EXPECT_EQ(at<uint16_t>(deep, 1), 1000);

  const Raster rgb = pixels({{1, 2, 3}});
  EXPECT_EQ(flatten_alpha(rgb).bands(), 3);
  EXPECT_EQ(status_of([] { flatten_alpha(Raster(1, 1, 2, SampleType::F32)); }), 500);
}

// --- CIELAB ----------------------------------------------------------------

// TIFF's 8-bit CIELAB encoding of (L*, a*, b*).
std::vector<double> tiff_lab(double l, double a, double b) {
  return {std::round(l * 2.55), double(uint8_t(int8_t(std::lround(a)))),
          double(uint8_t(int8_t(std::lround(b))))};
}

double srgb_encode(double linear) {
  linear = std::clamp(linear, 0.0, 1.0);
  return 255 * (linear <= 0.0031308 ? 12.92 * linear : 1.055 * std::pow(linear, 1 / 2.4) - 0.055);
}

// sRGB -> CIELAB relative to D50, the way an ICC colour managed application
// (Photoshop) writes a CIELAB TIFF: the Bradford-adapted sRGB matrix
// published by B. Lindbloom, then the CIE formulas.
std::array<double, 3> srgb_to_lab_d50(double r, double g, double b) {
  auto linear = [](double v) {
    v /= 255;
    return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
  };
  const double lr = linear(r), lg = linear(g), lb = linear(b);
  const double x = 0.4360747 * lr + 0.3850649 * lg + 0.1430804 * lb;
  const double y = 0.2225045 * lr + 0.7168786 * lg + 0.0606169 * lb;
  const double z = 0.0139322 * lr + 0.0971045 * lg + 0.7141733 * lb;
  auto f = [](double t) {
    const double d = 6.0 / 29;
    return t > d * d * d ? std::cbrt(t) : t / (3 * d * d) + 4.0 / 29;
  };
  const double fx = f(x / 0.96422), fy = f(y / 1.0), fz = f(z / 0.82521);
  return {116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)};
}

TEST(Colour, CielabWhiteBlackAndNeutralGreys) {
  std::vector<std::vector<double>> px;
  for (int l = 0; l <= 255; l += 15) px.push_back({double(l), 0, 0});
  const Raster out = cielab_to_srgb(pixels(px));
  ASSERT_EQ(out.bands(), 3);
  ASSERT_EQ(out.sample_type(), SampleType::U8);
  for (uint32_t i = 0; i < px.size(); ++i) {
    const double l = px[i][0] * 100 / 255;
    const double fy = (l + 16) / 116;
    const double y = fy > 6.0 / 29 ? fy * fy * fy : 3 * (6.0 / 29) * (6.0 / 29) * (fy - 4.0 / 29);
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(at(out, i, c), srgb_encode(y), 0.51 + 1e-3) << px[i][0];
  }
  EXPECT_EQ(at(out, 0, 0), 0);
  EXPECT_EQ(at(out, px.size() - 1, 0), 255);  // L* = 100: white
  EXPECT_EQ(at(out, px.size() - 1, 1), 255);
  EXPECT_EQ(at(out, px.size() - 1, 2), 255);
}

// TIFF's 16-bit CIELAB encoding of (L*, a*, b*).
std::vector<double> tiff_lab16(double l, double a, double b) {
  return {std::round(l * 655.35), double(uint16_t(int16_t(std::lround(a * 256)))),
          double(uint16_t(int16_t(std::lround(b * 256))))};
}

TEST(Colour, CielabPrimariesComeBackAsSrgbPrimaries) {
  // sRGB red, green and blue in D50 CIELAB (Lindbloom's calculator, Bradford),
  // to two decimals; 16-bit samples hold them to 1/256.
  const Raster out = cielab_to_srgb(
      pixels<uint16_t>({tiff_lab16(54.29, 80.81, 69.89), tiff_lab16(87.82, -79.29, 80.99),
                        tiff_lab16(29.57, 68.30, -112.03), tiff_lab16(100, 0, 0)},
                       SampleType::U16));
  const std::array<std::array<int, 3>, 4> expected = {
      {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}}};
  for (uint32_t i = 0; i < 4; ++i) {
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(at(out, i, c), expected[i][c], 1) << i << "," << c;
  }
  // In 8 bits a* and b* are whole units, which still leaves red red.
  const Raster red = cielab_to_srgb(pixels({tiff_lab(54.29, 80.81, 69.89)}));
  EXPECT_GE(at(red, 0, 0), 250);
  EXPECT_LE(at(red, 0, 1), 12);
  EXPECT_LE(at(red, 0, 2), 12);
}

// A grid of sRGB colours whose D50 CIELAB fits TIFF's 8-bit a* and b*.
struct LabGrid {
  std::vector<std::array<double, 3>> lab;
  std::vector<std::array<double, 3>> rgb;
};
LabGrid lab_grid() {
  LabGrid grid;
  for (int r = 0; r <= 255; r += 51)
    for (int g = 0; g <= 255; g += 51)
      for (int b = 0; b <= 255; b += 51) {
        const auto v = srgb_to_lab_d50(r, g, b);
        if (std::abs(v[1]) > 127 || std::abs(v[2]) > 127) continue;
        grid.lab.push_back(v);
        grid.rgb.push_back({double(r), double(g), double(b)});
      }
  return grid;
}

double worst_round_trip(const Raster& out, const LabGrid& grid) {
  double worst = 0;
  for (uint32_t i = 0; i < grid.rgb.size(); ++i)
    for (int c = 0; c < 3; ++c) worst = std::max(worst, std::abs(at(out, i, c) - grid.rgb[i][c]));
  return worst;
}

// 16-bit CIELAB holds a colour to 1/256 of a unit, so what comes back is the
// colour that went in, to the rounding of 8-bit output.
TEST(Colour, Cielab16BitRoundTripsSrgbColours) {
  const LabGrid grid = lab_grid();
  ASSERT_GT(grid.lab.size(), 150u);
  std::vector<std::vector<double>> px;
  for (const auto& v : grid.lab) {
    px.push_back({std::round(v[0] * 655.35), double(uint16_t(int16_t(std::lround(v[1] * 256)))),
                  double(uint16_t(int16_t(std::lround(v[2] * 256))))});
  }
  EXPECT_LE(worst_round_trip(cielab_to_srgb(pixels<uint16_t>(px, SampleType::U16)), grid), 1.0);
}

// D50 CIELAB -> sRGB by the inverse of the matrix above (Lindbloom's), for
// comparison with the library's own Bradford arithmetic.
std::array<double, 3> lab_d50_to_srgb(double l, double a, double b) {
  auto finv = [](double t) {
    const double d = 6.0 / 29;
    return t > d ? t * t * t : 3 * d * d * (t - 4.0 / 29);
  };
  const double fy = (l + 16) / 116;
  const double x = 0.96422 * finv(fy + a / 500), y = finv(fy), z = 0.82521 * finv(fy - b / 200);
  return {srgb_encode(3.1338561 * x - 1.6168667 * y - 0.4906146 * z),
          srgb_encode(-0.9787684 * x + 1.9161415 * y + 0.0334540 * z),
          srgb_encode(0.0719453 * x - 0.2289914 * y + 1.4052427 * z)};
}

// 8-bit CIELAB quantises L* to 100/255 and a*, b* to whole units; where a
// channel is near 0 the sRGB curve is steep (slope 12.92), so a colour comes
// back up to 11 levels off. Decoding itself agrees with the reference to one
// level: the two sets of matrices differ in their fourth digit, which the
// steep part of the curve turns into up to 0.7 of a level.
TEST(Colour, Cielab8BitDecodesToTheReferenceAndRoundTripsWithinQuantisation) {
  const LabGrid grid = lab_grid();
  std::vector<std::vector<double>> px;
  for (const auto& v : grid.lab) px.push_back(tiff_lab(v[0], v[1], v[2]));
  const Raster out = cielab_to_srgb(pixels(px));
  for (uint32_t i = 0; i < px.size(); ++i) {
    const auto ref = lab_d50_to_srgb(px[i][0] * 100 / 255, int8_t(px[i][1]), int8_t(px[i][2]));
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(at(out, i, c), ref[c], 1.0) << i << " band " << c;
  }
  EXPECT_LE(worst_round_trip(out, grid), 12.0);
}

TEST(Colour, Cielab16BitIsFinerAndAlphaIsKept) {
  const auto red = srgb_to_lab_d50(255, 0, 0);
  const auto teal = srgb_to_lab_d50(30, 140, 150);
  auto encode16 = [](const std::array<double, 3>& v, double alpha) {
    return std::vector<double>{std::round(v[0] * 655.35),
                               double(uint16_t(int16_t(std::lround(v[1] * 256)))),
                               double(uint16_t(int16_t(std::lround(v[2] * 256)))), alpha};
  };
  const Raster out =
      cielab_to_srgb(pixels<uint16_t>({encode16(red, 65535), encode16(teal, 0)}, SampleType::U16));
  ASSERT_EQ(out.bands(), 4);
  ASSERT_EQ(out.sample_type(), SampleType::U8);
  EXPECT_NEAR(at(out, 0, 0), 255, 1);
  EXPECT_NEAR(at(out, 0, 1), 0, 1);
  EXPECT_NEAR(at(out, 0, 2), 0, 1);
  EXPECT_EQ(at(out, 0, 3), 255);
  EXPECT_NEAR(at(out, 1, 0), 30, 1);
  EXPECT_NEAR(at(out, 1, 1), 140, 1);
  EXPECT_NEAR(at(out, 1, 2), 150, 1);
  EXPECT_EQ(at(out, 1, 3), 0);
  EXPECT_EQ(status_of([] { cielab_to_srgb(Raster(1, 1, 2)); }), 500);
}

}  // namespace
}  // namespace tessera
