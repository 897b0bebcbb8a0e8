// IIP's image processing against the values iipsrv 1.1 gives for the same
// requests on an 8-bit grey ramp and a 16-bit one (read off its replies at
// QLT=100; the order of the steps shows where two of them meet).

#include "process/adjust.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "common/error.hpp"

// Adjustments are written as designated initialisers naming only the steps a
// test sets; the others keep their defaults, which is the point.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace tessera {
namespace {

// One row of 8-bit samples, `bands` per pixel.
Raster row_of(const std::vector<uint8_t>& samples, int bands) {
  Raster r(uint32_t(samples.size() / bands), 1, bands);
  std::memcpy(r.data(), samples.data(), samples.size());
  return r;
}

std::vector<uint8_t> samples(const Raster& r) {
  return std::vector<uint8_t>(r.data(), r.data() + r.width() * r.height() * r.bands());
}

const std::vector<uint8_t> kRamp = {0, 32, 64, 128, 192, 255};

std::vector<uint8_t> grey(const Adjustments& a) { return samples(adjust(row_of(kRamp, 1), a, {})); }

TEST(Adjust, ContrastGammaAndInversionOfAGreyRamp) {
  Adjustments a;
  a.contrast = 2;
  EXPECT_EQ(grey(a), (std::vector<uint8_t>{0, 64, 128, 255, 255, 255}));
  a.contrast = 0.5;
  EXPECT_EQ(grey(a), (std::vector<uint8_t>{0, 16, 32, 64, 96, 127}));
  a = {};
  a.gamma = 2;
  EXPECT_EQ(grey(a), (std::vector<uint8_t>{0, 4, 16, 64, 144, 255}));
  a.gamma = 0.5;
  EXPECT_EQ(grey(a), (std::vector<uint8_t>{0, 90, 127, 180, 221, 255}));
  a = {};
  a.invert = true;
  EXPECT_EQ(grey(a), (std::vector<uint8_t>{255, 223, 191, 127, 63, 0}));
}

TEST(Adjust, ColourMapsOfTheFirstBand) {
  Adjustments a;
  a.colour_map = ColourMap::Jet;
  EXPECT_EQ(grey(a), (std::vector<uint8_t>{0, 0, 127, 0, 0, 255, 0, 128, 255, 129, 255, 125, 255,
                                           124, 0, 127, 0, 0}));
  a.colour_map = ColourMap::Hot;
  EXPECT_EQ(grey(a), (std::vector<uint8_t>{0, 0, 0, 96, 0, 0, 192, 0, 0, 255, 129, 0, 255, 255, 66,
                                           255, 255, 255}));
  a.colour_map = ColourMap::Cold;
  EXPECT_EQ(grey(a), (std::vector<uint8_t>{0, 0, 0, 0, 0, 96, 0, 0, 192, 0, 129, 255, 66, 255, 255,
                                           255, 255, 255}));
  a.colour_map = ColourMap::Green;
  EXPECT_EQ(grey(a),
            (std::vector<uint8_t>{0, 0, 0, 0, 32, 0, 0, 64, 0, 0, 128, 0, 0, 192, 0, 0, 255, 0}));
  a.colour_map = ColourMap::Grey;
  EXPECT_EQ(grey(a), kRamp);
  // Of an RGB image, the first band: red 32 is jet(32).
  const Raster rgb =
      adjust(row_of({32, 200, 100}, 3), a = Adjustments{.colour_map = ColourMap::Jet}, {});
  EXPECT_EQ(samples(rgb), (std::vector<uint8_t>{0, 0, 255}));
}

TEST(Adjust, StepsRunInIipsrvsOrder) {
  // Contrast after the colour map: hot(64) is (0.75, 0, 0), doubled red.
  Adjustments a{.colour_map = ColourMap::Hot, .contrast = 2};
  EXPECT_EQ(samples(adjust(row_of({64}, 1), a, {})), (std::vector<uint8_t>{255, 0, 0}));
  // Gamma, then inversion: 1 - (32/255)^2.
  a = {.gamma = 2, .invert = true};
  EXPECT_EQ(grey(a)[1], 250);
  // Inversion before the map: inverted 0 is white in hot.
  a = {.invert = true, .colour_map = ColourMap::Hot};
  EXPECT_EQ(samples(adjust(row_of({0}, 1), a, {})), (std::vector<uint8_t>{255, 255, 255}));
  // Contrast before black and white, cut at the image's threshold (127 for
  // iipsrv's ramp): 255 halved is 127, white; 192 halved is black.
  a = {.contrast = 0.5, .conversion = ColourConversion::Binary};
  EXPECT_EQ(samples(adjust(row_of(kRamp, 1), a, {}, 127)),
            (std::vector<uint8_t>{0, 0, 0, 0, 0, 255}));
  // The twist before gamma: (0.5 * (32 + 96))/255 squared.
  a = {.twist = {{0.5, 0.5, 0}, {0, 1, 0}, {0, 0, 1}}, .gamma = 2};
  EXPECT_EQ(samples(adjust(row_of({32, 96, 223}, 3), a, {}))[0], 16);
}

TEST(Adjust, TwistAndConversions) {
  // Swapping red and blue; one row makes grey.
  Adjustments a{.twist = {{0, 0, 1}, {0, 1, 0}, {1, 0, 0}}};
  EXPECT_EQ(samples(adjust(row_of({10, 20, 30, 40, 50, 60}, 3), a, {})),
            (std::vector<uint8_t>{30, 20, 10, 60, 50, 40}));
  a = {.twist = {{0.5, 0.5, 0}}};
  const Raster one = adjust(row_of({32, 96, 223}, 3), a, {});
  EXPECT_EQ(one.bands(), 1);
  EXPECT_EQ(samples(one), std::vector<uint8_t>{64});
  // Rows that do not fit the bands are a client's error.
  a = {.twist = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}};
  EXPECT_THROW(adjust(row_of({1, 2}, 1), a, {}), Error);
  // COL: Rec. 601 grey; binary at the threshold given and above.
  a = {.conversion = ColourConversion::Grey};
  EXPECT_EQ(samples(adjust(row_of({32, 96, 223}, 3), a, {})), std::vector<uint8_t>{91});
  a = {.conversion = ColourConversion::Binary};
  EXPECT_EQ(samples(adjust(row_of({126, 127, 100}, 1), a, {}, 127)),
            (std::vector<uint8_t>{0, 255, 0}));
  EXPECT_EQ(samples(adjust(row_of({126, 127, 100}, 1), a, {}, 100)),
            (std::vector<uint8_t>{255, 255, 255}));
  // Alpha goes: the steps make new colours.
  a = {.invert = true};
  const Raster rgba = adjust(row_of({0, 0, 0, 7}, 4), a, {});
  EXPECT_EQ(samples(rgba), (std::vector<uint8_t>{255, 255, 255}));
}

TEST(Adjust, SixteenBitSamplesAgainstTheirRangeOrMinmax) {
  Raster r(4, 1, 1, SampleType::U16);
  const uint16_t v[4] = {0, 8192, 32768, 65280};
  std::memcpy(r.data(), v, sizeof v);
  Adjustments a{.contrast = 2};
  EXPECT_EQ(samples(adjust(r, a, {default_range(SampleType::U16)})),
            (std::vector<uint8_t>{0, 63, 255, 255}));
  // MINMAX=1:16384,49152: below is black, the middle half-way.
  a = {.ranges = {{0, BandRange{16384, 49152}}}};
  EXPECT_EQ(samples(adjust(r, a, {default_range(SampleType::U16)})),
            (std::vector<uint8_t>{0, 0, 127, 255}));
  // 12 bits in a 16-bit container: the caller's range says 4095.
  a = {.contrast = 1.5};
  EXPECT_EQ(samples(adjust(r, a, {BandRange{0, 4095}}))[1], 255);
}

// SHD on a normal map: each pixel's normal (0 for -1, 255 for +1) against
// the light, as iipsrv 1.1 renders it. Normals: flat, east, west, +y, -y, and
// half-way between flat and east, +y and west.
TEST(Adjust, ShadingOfANormalMap) {
  const std::vector<uint8_t> normals = {128, 128, 255, 255, 128, 128, 0,   128, 128, 128, 255, 128,
                                        128, 0,   128, 218, 128, 218, 128, 218, 218, 38,  128, 218};
  const auto shade = [&](double azimuth, double altitude) {
    return samples(
        adjust(row_of(normals, 3), Adjustments{.shading = Shading{azimuth, altitude}}, {}));
  };
  EXPECT_EQ(shade(0, 90), (std::vector<uint8_t>{90, 0, 0, 0, 90, 63, 0, 63}));
  EXPECT_EQ(shade(0, 45), (std::vector<uint8_t>{73, 0, 0, 0, 104, 52, 0, 52}));
  EXPECT_EQ(shade(90, 45), (std::vector<uint8_t>{73, 0, 104, 0, 0, 0, 52, 125}));
  EXPECT_EQ(shade(270, 45), (std::vector<uint8_t>{73, 104, 0, 0, 0, 125, 52, 0}));
  EXPECT_EQ(shade(0, 0), (std::vector<uint8_t>{0, 0, 0, 0, 127, 0, 0, 0}));
  // The other steps follow: doubled, inverted, through a colour map.
  Adjustments a{.shading = Shading{0, 90}, .contrast = 2};
  EXPECT_EQ(samples(adjust(row_of({128, 128, 255}, 3), a, {})), std::vector<uint8_t>{180});
  a = {.shading = Shading{0, 90}, .invert = true};
  EXPECT_EQ(samples(adjust(row_of({128, 128, 255}, 3), a, {})), std::vector<uint8_t>{164});
  // A normal map has three bands.
  EXPECT_THROW(adjust(row_of({1, 2}, 1), Adjustments{.shading = Shading{0, 45}}, {}), Error);
  const Adjustments from_top{.shading = Shading{0, 45}}, from_right{.shading = Shading{45, 0}};
  EXPECT_NE(from_top.key(), from_right.key());
}

// 8-bit rasters and large 16-bit ones go through a table per band; the
// table must give what the direct computation (taken with a twist that
// changes nothing, or on one row at a time) gives.
TEST(Adjust, TablesGiveWhatTheDirectComputationGives) {
  std::mt19937 random(7);
  Raster rgb(256, 256, 3);
  for (std::size_t i = 0; i < rgb.size_bytes(); ++i) rgb.data()[i] = uint8_t(random());
  Raster wide(256, 256, 1, SampleType::U16);
  for (uint32_t y = 0; y < 256; ++y) {
    for (uint32_t x = 0; x < 256; ++x) {
      const uint16_t v = uint16_t(random());
      std::memcpy(wide.row(y) + x * 2, &v, 2);
    }
  }
  const std::vector<Adjustments> cases = {
      {.gamma = 0.7, .contrast = 1.4},
      {.gamma = 2.2, .invert = true},
      {.colour_map = ColourMap::Jet, .contrast = 1.2},
      {.ranges = {{0, {1000, 30000}}}, .colour_map = ColourMap::Hot},
      {.ranges = {{1, {40, 200}}}, .invert = true},
  };
  for (const Adjustments& a : cases) {
    Adjustments direct = a;
    direct.twist = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    EXPECT_EQ(samples(adjust(rgb, a, {})), samples(adjust(rgb, direct, {}))) << a.key();
    const Raster whole = adjust(wide, a, {default_range(SampleType::U16)});
    for (uint32_t y = 0; y < 256; y += 51) {
      const Raster row = adjust(wide.crop(0, y, 256, 1), a, {default_range(SampleType::U16)});
      ASSERT_EQ(row.bands(), whole.bands());
      EXPECT_EQ(0, std::memcmp(row.data(), whole.row(y), 256 * std::size_t(row.bands())))
          << a.key() << " row " << y;
    }
  }
}

TEST(Adjust, KeysTellAdjustmentsApart) {
  EXPECT_EQ(Adjustments{}.key(), "");
  EXPECT_FALSE(Adjustments{}.any());
  const Adjustments a{.contrast = 2}, b{.gamma = 2}, c{.twist = {{1}}}, d{.twist = {{2}}};
  EXPECT_NE(a.key(), b.key());
  EXPECT_NE(c.key(), d.key());
  EXPECT_NE(Adjustments{.colour_map = ColourMap::Hot}.key(),
            Adjustments{.colour_map = ColourMap::Cold}.key());
  EXPECT_NE((Adjustments{.ranges = {{0, {0, 10}}}}.key()),
            (Adjustments{.ranges = {{1, {0, 10}}}}.key()));
}

}  // namespace
}  // namespace tessera
