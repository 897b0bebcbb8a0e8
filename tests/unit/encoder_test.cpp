#include "encode/encoder.hpp"

#include <gtest/gtest.h>
#include <tiffio.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "encode/gif.hpp"
#include "encode/jp2.hpp"
#include "encode/png.hpp"
#include "encode/tiff.hpp"
#include "encode/webp.hpp"
#include "support/decode_image.hpp"
#include "support/test_images.hpp"

namespace tessera {
namespace {

using testing::decode_image;
using testing::make_pattern;
using testing::sniff_format;

constexpr Format kEncodedFormats[] = {Format::Jpeg, Format::Png, Format::Webp,
                                      Format::Tiff, Format::Gif, Format::Jp2};

bool keeps_16bit(Format f) { return f == Format::Png || f == Format::Tiff || f == Format::Jp2; }

// The test pattern; at 16 bits each sample gets low bits of its own, so that
// a codec that kept only the high byte would show.
Raster pattern(uint32_t width, uint32_t height, int bands, bool sixteen = false) {
  const Raster p = make_pattern(width, height, bands);
  if (!sixteen) return p;
  Raster out(width, height, bands, SampleType::U16);
  for (uint32_t y = 0; y < height; ++y) {
    auto* o = reinterpret_cast<uint16_t*>(out.row(y));
    for (uint32_t x = 0; x < width; ++x) {
      for (int b = 0; b < bands; ++b) {
        const std::size_t i = std::size_t(x) * bands + b;
        o[i] = uint16_t(p.row(y)[i] * 256 + ((x * 37 + y * 11 + b * 73) & 0xFF));
      }
    }
  }
  return out;
}

uint32_t at(const Raster& r, uint32_t x, uint32_t y, int b) {
  const std::size_t i = std::size_t(x) * r.bands() + b;
  if (r.sample_type() == SampleType::U16) return reinterpret_cast<const uint16_t*>(r.row(y))[i];
  return r.row(y)[i];
}

// Any raster seen as RGBA: grey repeats, a missing alpha is opaque.
uint32_t colour(const Raster& r, uint32_t x, uint32_t y, int c) {
  return at(r, x, y, r.bands() <= 2 ? 0 : c);
}
uint32_t alpha(const Raster& r, uint32_t x, uint32_t y) {
  if (r.bands() == 2 || r.bands() == 4) return at(r, x, y, r.bands() - 1);
  return r.sample_type() == SampleType::U16 ? 65535 : 255;
}

bool identical(const Raster& a, const Raster& b) {
  return a.width() == b.width() && a.height() == b.height() && a.bands() == b.bands() &&
         a.sample_type() == b.sample_type() && a.size_bytes() == b.size_bytes() &&
         std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
}

struct Difference {
  double mean_colour = 0;
  uint32_t max_colour = 0;
  uint32_t max_alpha = 0;
};

// Compares colour (as RGB) and alpha; colour only where `expected` is opaque
// enough to be seen when `visible_only`.
Difference compare(const Raster& expected, const Raster& decoded, bool visible_only = false) {
  EXPECT_EQ(decoded.width(), expected.width());
  EXPECT_EQ(decoded.height(), expected.height());
  Difference d;
  if (decoded.width() != expected.width() || decoded.height() != expected.height()) return d;
  double sum = 0;
  std::size_t n = 0;
  for (uint32_t y = 0; y < expected.height(); ++y) {
    for (uint32_t x = 0; x < expected.width(); ++x) {
      const uint32_t a = alpha(expected, x, y);
      d.max_alpha = std::max(d.max_alpha, uint32_t(std::abs(int(a) - int(alpha(decoded, x, y)))));
      if (visible_only && a < 128) continue;
      for (int c = 0; c < 3; ++c) {
        const uint32_t e =
            uint32_t(std::abs(int(colour(expected, x, y, c)) - int(colour(decoded, x, y, c))));
        sum += e;
        d.max_colour = std::max(d.max_colour, e);
        ++n;
      }
    }
  }
  d.mean_colour = n ? sum / n : 0;
  return d;
}

// Without its alpha band, as JPEG encodes it.
Raster without_alpha(const Raster& r) {
  if (r.bands() == 1 || r.bands() == 3) return r;
  Raster out(r.width(), r.height(), r.bands() - 1, r.sample_type());
  for (uint32_t y = 0; y < r.height(); ++y)
    for (uint32_t x = 0; x < r.width(); ++x)
      for (int b = 0; b < out.bands(); ++b)
        out.row(y)[x * out.bands() + b] = r.row(y)[x * r.bands() + b];
  return out;
}

// Four levels per channel: at most 64 colours, so GIF keeps them exactly.
Raster posterized(uint32_t width, uint32_t height, int bands) {
  Raster r = make_pattern(width, height, bands);
  const bool has_alpha = bands == 2 || bands == 4;
  for (uint32_t y = 0; y < height; ++y)
    for (uint32_t x = 0; x < width; ++x)
      for (int b = 0; b < (has_alpha ? bands - 1 : bands); ++b) r.row(y)[x * bands + b] &= 0xC0;
  return r;
}

int error_status(auto&& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.status();
  }
  return 0;
}

std::string make_icc(bool grey) { return testing::make_icc_profile(grey); }

// --- the 8-bit reduction ---------------------------------------------------------

TEST(EncodeImage, ReducesSixteenBitsByRounding) {
  Raster r(7, 1, 1, SampleType::U16);
  const uint16_t in[] = {0, 128, 129, 257, 385, 386, 65535};
  std::memcpy(r.data(), in, sizeof in);
  const Raster out = reduce_to_8bit(r);
  ASSERT_EQ(out.sample_type(), SampleType::U8);
  const uint8_t expected[] = {0, 0, 1, 1, 1, 2, 255};
  for (int i = 0; i < 7; ++i) EXPECT_EQ(out.data()[i], expected[i]) << in[i];
  EXPECT_TRUE(identical(reduce_to_8bit(make_pattern(5, 3, 3)), make_pattern(5, 3, 3)));
  EXPECT_EQ(error_status([] { reduce_to_8bit(Raster(2, 2, 1, SampleType::F32)); }), 500);
}

// --- signatures ------------------------------------------------------------------------

TEST(EncodeImage, EveryFormatStartsWithItsSignature) {
  const Raster src = pattern(33, 21, 3);
  for (Format f : kEncodedFormats) {
    const std::string bytes = encode_image(src, f);
    ASSERT_GT(bytes.size(), 12u) << format_extension(f);
    EXPECT_EQ(sniff_format(bytes), f) << format_extension(f);
  }
  EXPECT_EQ(encode_image(src, Format::Png).substr(0, 8), "\x89PNG\r\n\x1a\n");
  EXPECT_EQ(encode_image(src, Format::Tiff).substr(0, 4), std::string("II*\0", 4));
  EXPECT_EQ(encode_image(src, Format::Gif).substr(0, 6), "GIF87a");
  const std::string webp = encode_image(src, Format::Webp);
  EXPECT_EQ(webp.substr(0, 4), "RIFF");
  EXPECT_EQ(webp.substr(8, 4), "WEBP");
  // A .jp2 file (signature box, then the file type box naming jp2), not a
  // bare codestream.
  const std::string jp2 = encode_image(src, Format::Jp2);
  EXPECT_EQ(jp2.substr(0, 12), std::string("\0\0\0\x0cjP  \r\n\x87\n", 12));
  EXPECT_EQ(jp2.substr(16, 8), "ftypjp2 ");
}

// --- lossless round trips ------------------------------------------------------------

TEST(EncodeImage, PngTiffAndJp2RoundTripExactlyAtBothDepths) {
  for (Format f : {Format::Png, Format::Tiff, Format::Jp2}) {
    for (bool sixteen : {false, true}) {
      for (int bands = 1; bands <= 4; ++bands) {
        const Raster src = pattern(67, 45, bands, sixteen);
        const Raster back = decode_image(encode_image(src, f));
        EXPECT_TRUE(identical(back, src))
            << format_extension(f) << " " << bands << " bands, " << (sixteen ? 16 : 8) << " bits";
      }
    }
  }
}

TEST(EncodeImage, LosslessWebpRoundTripsExactlyWithGreyAsRgb) {
  for (int bands = 1; bands <= 4; ++bands) {
    const Raster src = pattern(67, 45, bands);
    const Raster back = decode_image(encode_image(src, Format::Webp, {.webp_quality = -1}));
    EXPECT_EQ(back.bands(), bands % 2 == 0 ? 4 : 3) << bands;
    const Difference d = compare(src, back);
    EXPECT_EQ(d.max_colour, 0u) << bands << " bands";
    EXPECT_EQ(d.max_alpha, 0u) << bands << " bands";
  }
}

TEST(EncodeImage, GifKeepsFewColoursExactlyAndAlphaAsTransparency) {
  for (int bands = 1; bands <= 4; ++bands) {
    const Raster src = posterized(67, 45, bands);
    const Raster back = decode_image(encode_image(src, Format::Gif));
    const bool has_alpha = bands == 2 || bands == 4;
    EXPECT_EQ(back.bands(), (bands <= 2 ? 1 : 3) + (has_alpha ? 1 : 0)) << bands;
    for (uint32_t y = 0; y < src.height(); ++y) {
      for (uint32_t x = 0; x < src.width(); ++x) {
        const bool visible = alpha(src, x, y) >= 128;
        ASSERT_EQ(alpha(back, x, y), visible ? 255u : 0u) << bands << " bands at " << x << "," << y;
        if (!visible) continue;
        for (int c = 0; c < 3; ++c) {
          ASSERT_EQ(colour(back, x, y, c), colour(src, x, y, c))
              << bands << " bands at " << x << "," << y;
        }
      }
    }
  }
}

TEST(EncodeImage, GifWithEveryGreyLevelAndTransparencyStaysWithinOneLevel) {
  Raster src(256, 2, 2);
  for (uint32_t x = 0; x < 256; ++x) {
    src.row(0)[2 * x] = uint8_t(x);
    src.row(0)[2 * x + 1] = 255;
    src.row(1)[2 * x] = uint8_t(x);
    src.row(1)[2 * x + 1] = x % 2 ? 0 : 200;
  }
  const Raster back = decode_image(encode_image(src, Format::Gif));
  ASSERT_EQ(back.bands(), 2);
  const Difference d = compare(src, back, true);
  EXPECT_LE(d.max_colour, 1u);
  EXPECT_GT(d.max_colour, 0u);  // 256 levels do not fit beside a transparent index
  for (uint32_t x = 0; x < 256; ++x) EXPECT_EQ(alpha(back, x, 1), x % 2 ? 0u : 255u);
}

// --- lossy round trips ----------------------------------------------------------------

TEST(EncodeImage, LossyFormatsRoundTripWithinTolerance) {
  for (bool sixteen : {false, true}) {
    for (int bands = 1; bands <= 4; ++bands) {
      const Raster src = pattern(67, 45, bands, sixteen);
      const Raster src8 = reduce_to_8bit(src);
      const std::string label =
          std::to_string(bands) + " bands, " + (sixteen ? "16" : "8") + " bits";

      const Raster jpeg = decode_image(encode_image(src, Format::Jpeg));
      EXPECT_EQ(jpeg.bands(), bands <= 2 ? 1 : 3) << label;  // JPEG drops alpha
      EXPECT_LT(compare(without_alpha(src8), jpeg).mean_colour, 3.0) << "jpeg " << label;

      const Raster webp = decode_image(encode_image(src, Format::Webp));
      EXPECT_EQ(webp.sample_type(), SampleType::U8);
      EXPECT_EQ(webp.bands(), bands % 2 == 0 ? 4 : 3) << label;
      const Difference w = compare(src8, webp);
      EXPECT_LT(w.mean_colour, 4.0) << "webp " << label;
      EXPECT_EQ(w.max_alpha, 0u) << "webp " << label;  // alpha is always lossless

      // Many colours: median cut, judged on the visible pixels.
      const Raster gif = decode_image(encode_image(src, Format::Gif));
      EXPECT_EQ(gif.sample_type(), SampleType::U8);
      const Difference g = compare(src8, gif, true);
      EXPECT_LT(g.mean_colour, 4.5) << "gif " << label;
      EXPECT_LE(g.max_colour, 24u) << "gif " << label;
    }
  }
}

TEST(EncodeImage, LossyJp2KeepsDepthAndStaysClose) {
  for (bool sixteen : {false, true}) {
    for (int bands = 1; bands <= 4; ++bands) {
      const Raster src = pattern(67, 45, bands, sixteen);
      const std::string lossy = encode_image(src, Format::Jp2, {.jp2_rate = 10});
      EXPECT_LT(lossy.size(), encode_image(src, Format::Jp2).size());
      const Raster back = decode_image(lossy);
      EXPECT_EQ(back.bands(), bands);
      EXPECT_EQ(back.sample_type(), src.sample_type());
      const double scale = sixteen ? 257.0 : 1.0;
      EXPECT_LT(compare(src, back).mean_colour / scale, 4.0) << bands << " bands";
    }
  }
}

TEST(EncodeImage, Jp2ClampsResolutionLevelsToTinyImages) {
  for (auto [w, h] :
       std::vector<std::pair<uint32_t, uint32_t>>{{1, 1}, {2, 300}, {300, 3}, {5, 7}}) {
    const Raster src = pattern(w, h, 3);
    EXPECT_TRUE(identical(decode_image(encode_image(src, Format::Jp2)), src)) << w << "x" << h;
  }
}

TEST(EncodeImage, SmallAndOddSizesRoundTripInEveryLosslessFormat) {
  for (auto [w, h] : std::vector<std::pair<uint32_t, uint32_t>>{{1, 1}, {1, 9}, {9, 1}, {300, 2}}) {
    const Raster src = pattern(w, h, 4);
    for (Format f : {Format::Png, Format::Tiff}) {
      EXPECT_TRUE(identical(decode_image(encode_image(src, f)), src))
          << format_extension(f) << " " << w << "x" << h;
    }
    EXPECT_EQ(compare(src, decode_image(encode_image(src, Format::Webp, {.webp_quality = -1})))
                  .max_colour,
              0u);
  }
}

// --- determinism -----------------------------------------------------------------------

TEST(EncodeImage, SameInputGivesIdenticalBytesOnAnyThread) {
  const Raster src = pattern(80, 60, 4);
  const Raster src16 = pattern(80, 60, 3, true);
  std::vector<std::string> reference;
  for (Format f : kEncodedFormats) {
    reference.push_back(encode_image(src, f));
    reference.push_back(encode_image(src16, f));
  }
  std::vector<std::vector<std::string>> results(3);
  std::vector<std::thread> threads;
  for (auto& result : results) {
    threads.emplace_back([&] {
      for (Format f : kEncodedFormats) {
        result.push_back(encode_image(src, f));
        result.push_back(encode_image(src16, f));
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& result : results) {
    ASSERT_EQ(result.size(), reference.size());
    for (std::size_t i = 0; i < reference.size(); ++i) {
      EXPECT_TRUE(result[i] == reference[i]) << format_extension(kEncodedFormats[i / 2]);
    }
  }
}

TEST(EncodeImage, LeavesTheInputUntouched) {
  for (bool sixteen : {false, true}) {
    const Raster original = pattern(50, 40, 4, sixteen);
    const Raster src = original;
    for (Format f : kEncodedFormats) {
      encode_image(src, f, {.icc = make_icc(false)});
      EXPECT_TRUE(identical(src, original)) << format_extension(f);
    }
  }
}

TEST(EncodeImage, GifOfOnlyTransparentPixels) {
  const Raster src(5, 3, 4);  // all zero: alpha 0 everywhere
  const Raster back = decode_image(encode_image(src, Format::Gif));
  ASSERT_EQ(back.bands(), 2);  // no colour is used, so the decoder calls it grey

  for (uint32_t y = 0; y < 3; ++y)
    for (uint32_t x = 0; x < 5; ++x) EXPECT_EQ(alpha(back, x, y), 0u);
}

TEST(EncodeImage, SixteenBitsAreKeptOnlyWhereTheFormatCan) {
  const Raster src = pattern(20, 10, 3, true);
  for (Format f : kEncodedFormats) {
    const Raster back = decode_image(encode_image(src, f));
    EXPECT_EQ(back.sample_type(), keeps_16bit(f) ? SampleType::U16 : SampleType::U8)
        << format_extension(f);
  }
  // The 8-bit formats get the rounded reduction, not the high byte.
  EXPECT_EQ(encode_image(src, Format::Png, {.png_level = 9}),
            encode_image(src, Format::Png, {.png_level = 9}));
  EXPECT_EQ(encode_image(src, Format::Webp, {.webp_quality = -1}),
            encode_image(reduce_to_8bit(src), Format::Webp, {.webp_quality = -1}));
}

// --- options -----------------------------------------------------------------------------

TEST(EncodeImage, PngLevelChangesTheSize) {
  const Raster src = pattern(128, 128, 3);
  const std::size_t stored = encode_image(src, Format::Png, {.png_level = 0}).size();
  const std::size_t fast = encode_image(src, Format::Png, {.png_level = 1}).size();
  const std::size_t best = encode_image(src, Format::Png, {.png_level = 9}).size();
  EXPECT_GT(stored, 128u * 128 * 3);  // level 0 stores
  EXPECT_LT(fast, stored);
  EXPECT_LT(best, fast);
  // Out-of-range levels are clamped, not refused.
  EXPECT_EQ(encode_image(src, Format::Png, {.png_level = 42}).size(), best);
  EXPECT_EQ(encode_image(src, Format::Png, {.png_level = -3}).size(), stored);
}

TEST(EncodeImage, WebpQualityChangesTheSize) {
  const Raster src = pattern(128, 128, 3);
  const std::size_t low = encode_image(src, Format::Webp, {.webp_quality = 10}).size();
  const std::size_t standard = encode_image(src, Format::Webp).size();
  const std::size_t high = encode_image(src, Format::Webp, {.webp_quality = 95}).size();
  EXPECT_LT(low, standard);
  EXPECT_LT(standard, high);
  EXPECT_EQ(encode_image(src, Format::Webp, {.webp_quality = 500}).size(),
            encode_image(src, Format::Webp, {.webp_quality = 100}).size());
  // VP8L (lossless) and VP8 (lossy) say which they are in their chunk name.
  EXPECT_EQ(encode_image(src, Format::Webp, {.webp_quality = -1}).substr(12, 4), "VP8L");
  EXPECT_EQ(encode_image(make_pattern(64, 64, 3), Format::Webp).substr(12, 4), "VP8 ");
}

TEST(EncodeImage, JpegQualityChangesTheSize) {
  const Raster src = pattern(128, 128, 3);
  EXPECT_LT(encode_image(src, Format::Jpeg, {.jpeg_quality = 20}).size(),
            encode_image(src, Format::Jpeg, {.jpeg_quality = 95}).size());
}

uint32_t big_endian32(const std::string& s, std::size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) |
         (uint32_t(uint8_t(s[at + 2])) << 8) | uint8_t(s[at + 3]);
}

TEST(EncodeImage, PngCarriesDpiAndIcc) {
  const Raster src = pattern(16, 16, 3);
  EXPECT_EQ(encode_image(src, Format::Png).find("pHYs"), std::string::npos);
  EXPECT_EQ(encode_image(src, Format::Png).find("iCCP"), std::string::npos);

  const std::string png =
      encode_image(src, Format::Png, {.dpi_x = 300, .dpi_y = 150, .icc = make_icc(false)});
  const std::size_t phys = png.find("pHYs");
  ASSERT_NE(phys, std::string::npos);
  EXPECT_EQ(big_endian32(png, phys + 4), 11811u);  // 300 per inch in pixels per metre
  EXPECT_EQ(big_endian32(png, phys + 8), 5906u);
  EXPECT_EQ(png[phys + 12], 1);  // the unit is the metre
  EXPECT_NE(png.find("iCCP"), std::string::npos);
  EXPECT_TRUE(identical(decode_image(png), src));

  // A profile for the wrong colour space is left out; the image still encodes.
  const std::string grey = encode_image(pattern(16, 16, 1), Format::Png, {.icc = make_icc(false)});
  EXPECT_EQ(grey.find("iCCP"), std::string::npos);
  EXPECT_NE(encode_image(pattern(16, 16, 1), Format::Png, {.icc = make_icc(true)}).find("iCCP"),
            std::string::npos);
  EXPECT_EQ(encode_image(src, Format::Png, {.icc = "not a profile"}).find("iCCP"),
            std::string::npos);
}

uint32_t big_endian16(const std::string& s, std::size_t at) {
  return (uint32_t(uint8_t(s[at])) << 8) | uint8_t(s[at + 1]);
}

TEST(EncodeImage, JpegCarriesDpiAndIccInSegments) {
  const Raster src = pattern(40, 30, 3);
  const std::string plain = encode_image(src, Format::Jpeg);
  EXPECT_EQ(plain.find("ICC_PROFILE"), std::string::npos);

  // A profile larger than one segment holds is split in two.
  std::string icc = make_icc(false);
  icc.resize(70000, 'x');
  const std::string jpeg = encode_image(src, Format::Jpeg, {.dpi_x = 300, .dpi_y = 72, .icc = icc});
  ASSERT_EQ(jpeg.substr(6, 5), std::string("JFIF\0", 5));
  EXPECT_EQ(jpeg[13], 1);  // dots per inch
  EXPECT_EQ(big_endian16(jpeg, 14), 300u);
  EXPECT_EQ(big_endian16(jpeg, 16), 72u);
  // The segments follow JFIF, numbered 1 and 2 of 2, and rejoin to the profile.
  std::string joined;
  std::size_t at = 20;
  for (int part = 1; part <= 2; ++part) {
    ASSERT_EQ(jpeg.substr(at, 2), "\xff\xe2");
    const std::size_t length = big_endian16(jpeg, at + 2);
    ASSERT_EQ(jpeg.substr(at + 4, 12), std::string("ICC_PROFILE\0", 12));
    EXPECT_EQ(jpeg[at + 16], part);
    EXPECT_EQ(jpeg[at + 17], 2);
    joined += jpeg.substr(at + 18, length - 16);
    at += 2 + length;
  }
  EXPECT_EQ(joined, icc);
  // The pixels are untouched by the added segments.
  EXPECT_TRUE(identical(decode_image(jpeg), decode_image(plain)));
}

TEST(EncodeImage, TiffCarriesDpiAndIcc) {
  const std::string icc = make_icc(false);
  const std::string bytes =
      encode_image(pattern(16, 16, 4), Format::Tiff, {.dpi_x = 300, .dpi_y = 150, .icc = icc});
  const auto dir = testing::make_temp_dir("encoder_tiff");
  const auto path = dir / "out.tif";
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));

  TIFF* tif = TIFFOpen(path.c_str(), "r");
  ASSERT_NE(tif, nullptr);
  float x = 0, y = 0;
  uint16_t unit = 0, compression = 0, extra_count = 0;
  uint16_t* extra = nullptr;
  uint32_t icc_size = 0;
  void* icc_data = nullptr;
  EXPECT_TRUE(TIFFGetField(tif, TIFFTAG_XRESOLUTION, &x));
  EXPECT_TRUE(TIFFGetField(tif, TIFFTAG_YRESOLUTION, &y));
  EXPECT_TRUE(TIFFGetField(tif, TIFFTAG_RESOLUTIONUNIT, &unit));
  EXPECT_TRUE(TIFFGetField(tif, TIFFTAG_COMPRESSION, &compression));
  EXPECT_TRUE(TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, &extra_count, &extra));
  ASSERT_TRUE(TIFFGetField(tif, TIFFTAG_ICCPROFILE, &icc_size, &icc_data));
  EXPECT_FLOAT_EQ(x, 300);
  EXPECT_FLOAT_EQ(y, 150);
  EXPECT_EQ(unit, RESUNIT_INCH);
  EXPECT_EQ(compression, COMPRESSION_ADOBE_DEFLATE);
  ASSERT_EQ(extra_count, 1);
  EXPECT_EQ(extra[0], EXTRASAMPLE_UNASSALPHA);
  EXPECT_EQ(std::string(static_cast<const char*>(icc_data), icc_size), icc);
  EXPECT_EQ(TIFFReadDirectory(tif), 0);  // a single image
  TIFFClose(tif);
  std::filesystem::remove_all(dir);
}

TEST(EncodeImage, WebpAndJp2CarryTheIccProfile) {
  const std::string icc = make_icc(false);
  const Raster src = pattern(16, 16, 3);
  const std::string webp = encode_image(src, Format::Webp, {.webp_quality = -1, .icc = icc});
  EXPECT_NE(webp.find("ICCP"), std::string::npos);
  EXPECT_NE(webp.find(icc), std::string::npos);
  EXPECT_EQ(webp.substr(12, 4), "VP8X");  // the extended layout that holds chunks
  EXPECT_EQ(compare(src, decode_image(webp)).max_colour, 0u);

  const std::string jp2 = encode_image(src, Format::Jp2, {.icc = icc});
  EXPECT_NE(jp2.find(icc), std::string::npos);
  EXPECT_TRUE(identical(decode_image(jp2), src));
  EXPECT_EQ(encode_image(src, Format::Jp2).find("acsp"), std::string::npos);
}

// --- errors ---------------------------------------------------------------------------------

TEST(EncodeImage, RefusesWhatNoFormatCanHold) {
  for (Format f : kEncodedFormats) {
    EXPECT_EQ(error_status([&] { encode_image(Raster(4, 4, 5), f); }), 500) << format_extension(f);
    EXPECT_EQ(error_status([&] { encode_image(Raster(4, 4, 3, SampleType::F32), f); }), 500)
        << format_extension(f);
    EXPECT_EQ(error_status([&] { encode_image(Raster(4, 4, 3, SampleType::U32), f); }), 500)
        << format_extension(f);
    EXPECT_EQ(error_status([&] { encode_image(Raster(), f); }), 500) << format_extension(f);
  }
  EXPECT_EQ(error_status([] { encode_image(Raster(16384, 1, 3), Format::Webp); }), 500);
  EXPECT_EQ(error_status([] { encode_image(Raster(65536, 1, 1), Format::Gif); }), 500);
  // The codecs that take 16 bits only do so through encode_image for these.
  EXPECT_EQ(error_status([] { encode_gif(Raster(4, 4, 3, SampleType::U16)); }), 500);
  EXPECT_EQ(error_status([] { encode_webp(Raster(4, 4, 3, SampleType::U16)); }), 500);
}

TEST(EncodeImage, PdfIsNotImplemented) {
  try {
    encode_image(pattern(8, 8, 3), Format::Pdf);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), 501);
    EXPECT_STREQ(e.what(), "pdf output is not supported");
  }
}

TEST(EncodeImage, ReasonsNameTheCodec) {
  try {
    encode_image(Raster(4, 4, 5), Format::Png);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "png: cannot encode 5 bands");
  }
}

}  // namespace
}  // namespace tessera
