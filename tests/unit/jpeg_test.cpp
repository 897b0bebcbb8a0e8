#include "encode/jpeg.hpp"

#include <gtest/gtest.h>
#include <turbojpeg.h>

#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "support/test_images.hpp"

namespace tessera {
namespace {

using testing::make_pattern;
using testing::mean_abs_diff;

struct Header {
  int width = 0, height = 0, subsampling = -1, colourspace = -1;
};

Header read_header(const std::string& jpeg) {
  Header h;
  tjhandle handle = tjInitDecompress();
  const int status =
      tjDecompressHeader3(handle, reinterpret_cast<const unsigned char*>(jpeg.data()), jpeg.size(),
                          &h.width, &h.height, &h.subsampling, &h.colourspace);
  tjDestroy(handle);
  EXPECT_EQ(status, 0);
  return h;
}

int error_status(auto&& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.status();
  }
  return 0;
}

TEST(Jpeg, HeaderCarriesSizeAndSubsamplingForEveryBandCount) {
  for (int bands : {1, 2, 3, 4}) {
    for (auto [w, h] : std::vector<std::pair<uint32_t, uint32_t>>{
             {1, 1}, {257, 13}, {13, 257}, {64, 64}, {17, 16}}) {
      const std::string jpeg = encode_jpeg(make_pattern(w, h, bands), {});
      ASSERT_GT(jpeg.size(), 2u);
      EXPECT_EQ(uint8_t(jpeg[0]), 0xFF);  // SOI
      EXPECT_EQ(uint8_t(jpeg[1]), 0xD8);
      const Header header = read_header(jpeg);
      EXPECT_EQ(header.width, int(w));
      EXPECT_EQ(header.height, int(h));
      const bool grey = bands <= 2;
      EXPECT_EQ(header.subsampling, grey ? TJSAMP_GRAY : TJSAMP_420) << bands << " bands";
      EXPECT_EQ(header.colourspace, grey ? TJCS_GRAY : TJCS_YCbCr);
    }
  }
}

TEST(Jpeg, RoundTripStaysCloseToTheSource) {
  for (int bands : {1, 2, 3, 4}) {
    const Raster src = make_pattern(256, 192, bands);
    const Raster decoded = decode_jpeg(encode_jpeg(src, {.quality = 90}));
    ASSERT_EQ(decoded.width(), 256u);
    ASSERT_EQ(decoded.height(), 192u);
    EXPECT_EQ(decoded.bands(), bands <= 2 ? 1 : 3);
    EXPECT_EQ(decoded.sample_type(), SampleType::U8);
    // Compares the colour or grey bands; alpha is not in a JPEG.
    EXPECT_LT(mean_abs_diff(src, decoded), 2.0) << bands << " bands";
  }
}

TEST(Jpeg, OddSizesRoundTrip) {
  for (auto [w, h] : std::vector<std::pair<uint32_t, uint32_t>>{{257, 13}, {13, 257}}) {
    const Raster src = make_pattern(w, h, 3);
    const Raster decoded = decode_jpeg(encode_jpeg(src, {.quality = 95}));
    ASSERT_EQ(decoded.width(), w);
    ASSERT_EQ(decoded.height(), h);
    EXPECT_LT(mean_abs_diff(src, decoded), 3.0) << w << "x" << h;
  }
  // Images smaller than one 16x16 block; a flat colour, since 4:2:0 chroma
  // cannot follow a pattern that changes colour at every pixel.
  for (auto [w, h] : std::vector<std::pair<uint32_t, uint32_t>>{{1, 1}, {3, 5}, {17, 1}}) {
    Raster src(w, h, 3);
    for (uint32_t y = 0; y < h; ++y)
      for (uint32_t x = 0; x < w; ++x) {
        src.row(y)[3 * x] = 200;
        src.row(y)[3 * x + 1] = 90;
        src.row(y)[3 * x + 2] = 40;
      }
    const Raster decoded = decode_jpeg(encode_jpeg(src, {.quality = 95}));
    ASSERT_EQ(decoded.width(), w);
    ASSERT_EQ(decoded.height(), h);
    EXPECT_LT(mean_abs_diff(src, decoded), 2.0) << w << "x" << h;
  }
}

TEST(Jpeg, HigherQualityIsLarger) {
  const Raster src = make_pattern(256, 256, 3);
  EXPECT_GT(encode_jpeg(src, {.quality = 95}).size(), encode_jpeg(src, {.quality = 30}).size());
  // Out-of-range qualities are clamped, not refused.
  EXPECT_EQ(encode_jpeg(src, {.quality = 0}), encode_jpeg(src, {.quality = 1}));
  EXPECT_EQ(encode_jpeg(src, {.quality = 250}), encode_jpeg(src, {.quality = 100}));
}

// Larger than the buffer a thread keeps, then small again: both buffer paths.
TEST(Jpeg, LargeImagesAndBufferReuse) {
  const Raster small = make_pattern(64, 64, 3);
  const std::string first = encode_jpeg(small, {});
  const Raster large = make_pattern(1500, 1400, 3);
  const Raster decoded = decode_jpeg(encode_jpeg(large, {.quality = 90}));
  ASSERT_EQ(decoded.width(), 1500u);
  ASSERT_EQ(decoded.height(), 1400u);
  EXPECT_LT(mean_abs_diff(large, decoded), 2.0);
  EXPECT_EQ(encode_jpeg(small, {}), first);
}

TEST(Jpeg, ThreadsEncodeIndependently) {
  const Raster a = make_pattern(300, 200, 3), b = make_pattern(128, 96, 1);
  const std::string expected_a = encode_jpeg(a, {}), expected_b = encode_jpeg(b, {});
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        if (encode_jpeg(a, {}) != expected_a) ++mismatches[t];
        if (encode_jpeg(b, {}) != expected_b) ++mismatches[t];
        if (decode_jpeg(expected_b).width() != 128) ++mismatches[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int count : mismatches) EXPECT_EQ(count, 0);
}

TEST(Jpeg, UnsupportedRastersAreErrors) {
  EXPECT_EQ(error_status([] { encode_jpeg(Raster(4, 4, 3, SampleType::U16), {}); }), 500);
  EXPECT_EQ(error_status([] { encode_jpeg(Raster(4, 4, 5), {}); }), 500);
  EXPECT_EQ(error_status([] { encode_jpeg(Raster(), {}); }), 500);
  EXPECT_EQ(error_status([] { encode_jpeg(Raster(70000, 1, 1), {}); }), 500);
}

TEST(Jpeg, GarbageIsAnError) {
  EXPECT_EQ(error_status([] { decode_jpeg("this is not a jpeg at all"); }), 500);
  EXPECT_EQ(error_status([] { decode_jpeg(""); }), 500);
  const std::string jpeg = encode_jpeg(make_pattern(32, 32, 3), {});
  EXPECT_EQ(error_status([&] { decode_jpeg(std::string_view(jpeg).substr(0, 20)); }), 500);
  std::string noise(4096, '\0');
  for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = char((i * 7919) >> 3);
  EXPECT_EQ(error_status([&] { decode_jpeg(noise); }), 500);
}

}  // namespace
}  // namespace tessera
