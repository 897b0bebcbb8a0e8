// Deflate tiles decoded without libtiff's codec (image/deflate_tile.hpp):
// the vector predictor against the definition, whole files against the
// pixels they were made from for every predictor and layout, and damaged
// tiles, which must decode or fail with a reason, never crash.

#include "image/deflate_tile.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <isa-l/igzip_lib.h>
#include <tiffio.h>

#include <fstream>
#include <random>

#include "common/error.hpp"
#include "image/tiff_source.hpp"
#include "support/test_images.hpp"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using testing::make_pattern;
using testing::make_pyramid;
using testing::write_pnm;

// TIFF Predictor 2 as the specification words it, one sample at a time.
void reference_undo(std::vector<uint8_t>& data, uint32_t width, uint32_t rows, int samples) {
  const std::size_t row_bytes = std::size_t(width) * samples;
  for (uint32_t r = 0; r < rows; ++r) {
    for (std::size_t i = std::size_t(samples); i < row_bytes; ++i) {
      data[r * row_bytes + i] =
          uint8_t(data[r * row_bytes + i] + data[r * row_bytes + i - samples]);
    }
  }
}

TEST(DeflateTileTest, PredictorUndoneAsDefinedForEveryWidthAndLayout) {
  std::mt19937 rng(7);
  for (int samples = 1; samples <= 5; ++samples) {
    // Widths around the vector steps (5 RGB pixels, 4 RGBA, 16 grey) and
    // a tile's.
    for (uint32_t width : {1u, 2u, 5u, 6u, 10u, 11u, 15u, 16u, 17u, 31u, 32u, 33u, 100u, 256u}) {
      // Three rows: a pair for the two-row loops, one left for the others.
      const uint32_t rows = 3;
      for (const bool avx2 : {true, false}) {
        std::vector<uint8_t> data(std::size_t(width) * samples * rows);
        for (uint8_t& b : data) b = uint8_t(rng());
        std::vector<uint8_t> expected = data;
        reference_undo(expected, width, rows, samples);
        undo_horizontal_differencing(data.data(), width, rows, samples,
                                     std::size_t(width) * samples, avx2);
        EXPECT_EQ(data, expected) << samples << " samples, width " << width << ", AVX2 " << avx2;
      }
    }
  }
}

// A zlib stream of `data`, as TIFF writers store a deflate tile.
std::vector<uint8_t> zlib_stream(const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out(data.size() + data.size() / 8 + 1024);
  isal_zstream stream;
  isal_deflate_stateless_init(&stream);
  stream.gzip_flag = IGZIP_ZLIB;
  stream.end_of_stream = 1;
  stream.next_in = const_cast<uint8_t*>(data.data());
  stream.avail_in = uint32_t(data.size());
  stream.next_out = out.data();
  stream.avail_out = uint32_t(out.size());
  EXPECT_EQ(isal_deflate_stateless(&stream), COMP_OK);
  out.resize(stream.total_out);
  return out;
}

// Exactly the stored bytes, or false: a damaged checksum, a stream cut
// short, an output of another size.
TEST(DeflateTileTest, InflatesExactlyOrRefuses) {
  std::mt19937 rng(3);
  std::vector<uint8_t> data(256 * 256 * 3);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = uint8_t(i % 251 < 120 ? i / 97 : rng());
  const std::vector<uint8_t> zlib = zlib_stream(data);
  ASSERT_GT(zlib.size(), 6u);
  std::vector<uint8_t> out(data.size() + 1);
  ASSERT_TRUE(inflate_tile(zlib.data(), zlib.size(), out.data(), data.size()));
  EXPECT_TRUE(std::equal(data.begin(), data.end(), out.begin()));

  std::vector<uint8_t> bad_checksum = zlib;
  bad_checksum.back() ^= 1;  // the Adler-32's last byte
  EXPECT_FALSE(inflate_tile(bad_checksum.data(), bad_checksum.size(), out.data(), data.size()));
  EXPECT_FALSE(inflate_tile(zlib.data(), zlib.size() - 5, out.data(), data.size()));
  EXPECT_FALSE(inflate_tile(zlib.data(), zlib.size(), out.data(), data.size() - 1));
  EXPECT_FALSE(inflate_tile(zlib.data(), zlib.size(), out.data(), data.size() + 1));
}

TEST(DeflateTileTest, GarbageIsNotInflated) {
  std::vector<uint8_t> garbage(100, 0x5a);
  std::vector<uint8_t> out(1000);
  EXPECT_FALSE(inflate_tile(garbage.data(), garbage.size(), out.data(), out.size()));
  EXPECT_FALSE(inflate_tile(garbage.data(), 0, out.data(), out.size()));
}

class DeflateFileTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { dir_ = new fs::path(testing::make_temp_dir("tessera-deflate")); }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static fs::path file(const std::string& name) { return *dir_ / name; }
  static Raster read_level(ImageSource& source, int level) {
    const LevelInfo& li = source.info().levels.at(level);
    Raster out(li.width, li.height, source.info().bands);
    for (uint32_t ty = 0; ty < li.tiles_down(); ++ty) {
      for (uint32_t tx = 0; tx < li.tiles_across(); ++tx) {
        out.paste(source.tile(level, tx, ty), int64_t(tx) * li.tile_width,
                  int64_t(ty) * li.tile_height);
      }
    }
    return out;
  }
  static inline fs::path* dir_ = nullptr;
};

TEST_F(DeflateFileTest, EveryPredictorAndLayoutDecodesExactly) {
  for (int bands : {1, 2, 3, 4}) {
    const Raster picture = make_pattern(333, 270, bands);
    const fs::path src = file(fmt::format("src{}.pnm", bands));
    write_pnm(src, picture);
    for (const char* predictor : {"none", "horizontal"}) {
      const fs::path out = file(fmt::format("p{}{}.tif", bands, predictor));
      make_pyramid(src, out, 64, {"--compression", "deflate", "--predictor", predictor});
      TiffSource source(out);
      EXPECT_EQ(testing::mean_abs_diff(read_level(source, 0), picture), 0.0)
          << bands << " bands, predictor " << predictor;
    }
  }
}

TEST_F(DeflateFileTest, DamagedTilesDecodeOrFailWithAReason) {
  const Raster picture = make_pattern(256, 256, 3);
  write_pnm(file("d.pnm"), picture);
  make_pyramid(file("d.pnm"), file("d.tif"), 64, {"--compression", "deflate"});
  // Where tile 5 of level 0 lies in the file.
  uint64_t offset = 0, bytes = 0;
  {
    TIFF* tif = TIFFOpen(file("d.tif").c_str(), "r");
    ASSERT_NE(tif, nullptr);
    offset = TIFFGetStrileOffset(tif, 5);
    bytes = TIFFGetStrileByteCount(tif, 5);
    TIFFClose(tif);
  }
  ASSERT_GT(bytes, 16u);
  std::ifstream in(file("d.tif"), std::ios::binary);
  const std::string original((std::istreambuf_iterator<char>(in)), {});
  std::mt19937 rng(11);
  int failed = 0;
  for (int round = 0; round < 40; ++round) {
    std::string damaged = original;
    for (int k = 0; k < 1 + round % 4; ++k) {
      damaged[offset + rng() % bytes] = char(rng());
    }
    const fs::path path = file("damaged.tif");
    std::ofstream(path, std::ios::binary) << damaged;
    TiffSource source(path);
    try {
      const Raster tile = source.tile(0, 1, 1);  // tile 5: the second of the second row
      EXPECT_EQ(tile.width(), 64u);
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), 500);
      EXPECT_NE(std::string(e.what()).find("tile 1,1"), std::string::npos) << e.what();
      ++failed;
    }
  }
  // Most damage breaks the zlib stream or its checksum.
  EXPECT_GT(failed, 10);
}

}  // namespace
}  // namespace tessera
