// TiffSource against files written by the vips CLI and libtiff's tools: every
// layout the Foundation issue names, read back and compared with the pixels
// they were made from; and broken files that must fail with a reason.

#include "image/tiff_source.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <random>

#include "common/error.hpp"
#include "image/image_source.hpp"
#include "support/test_images.hpp"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using testing::box_reduce;
using testing::make_pattern;
using testing::make_pyramid;
using testing::mean_abs_diff;
using testing::run_command;
using testing::write_pnm;

constexpr uint32_t kWidth = 600, kHeight = 420;

// The pattern reduced by `factor` and cut to `like`'s size: vips floors the
// sizes of its pyramid levels.
Raster reduced_like(const Raster& like, int bands, uint32_t factor) {
  return box_reduce(make_pattern(kWidth, kHeight, bands), factor)
      .crop(0, 0, like.width(), like.height());
}

// The source pictures and their pyramids, made once for the whole suite.
class TiffSourceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(testing::make_temp_dir("tessera-tiff"));
    for (int bands : {1, 2, 3, 4}) {
      write_pnm(*dir_ / ("src" + std::to_string(bands) + ".pnm"),
                make_pattern(kWidth, kHeight, bands));
    }
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  static fs::path src(int bands) { return *dir_ / ("src" + std::to_string(bands) + ".pnm"); }
  static fs::path file(const std::string& name) { return *dir_ / name; }

  // Reads a whole level back by pasting every tile.
  static Raster read_level(ImageSource& source, int level) {
    const LevelInfo& li = source.info().levels.at(level);
    Raster out;
    for (uint32_t ty = 0; ty < li.tiles_down(); ++ty) {
      for (uint32_t tx = 0; tx < li.tiles_across(); ++tx) {
        Raster tile = source.tile(level, tx, ty);
        EXPECT_EQ(tile.width(), std::min(li.tile_width, li.width - tx * li.tile_width));
        EXPECT_EQ(tile.height(), std::min(li.tile_height, li.height - ty * li.tile_height));
        if (out.empty()) out = Raster(li.width, li.height, tile.bands(), tile.sample_type());
        out.paste(tile, int64_t(tx) * li.tile_width, int64_t(ty) * li.tile_height);
      }
    }
    return out;
  }

  static bool identical(const Raster& a, const Raster& b) {
    return a.width() == b.width() && a.height() == b.height() && a.bands() == b.bands() &&
           a.size_bytes() == b.size_bytes() &&
           std::equal(a.data(), a.data() + a.size_bytes(), b.data());
  }

  static fs::path* dir_;
};
fs::path* TiffSourceTest::dir_ = nullptr;

int error_status(auto&& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.status();
  }
  return 0;
}

TEST_F(TiffSourceTest, VipsPyramidHasEveryLevelInSuccessiveIfds) {
  make_pyramid(src(3), file("rgb.tif"), 128, {"--compression", "deflate"});
  TiffSource source(file("rgb.tif"));
  const ImageInfo& info = source.info();
  EXPECT_EQ(info.format, "tiff");
  EXPECT_EQ(info.width, kWidth);
  EXPECT_EQ(info.height, kHeight);
  EXPECT_EQ(info.bands, 3);
  EXPECT_FALSE(info.has_alpha);
  EXPECT_EQ(info.colour_space, ColourSpace::Rgb);
  // 600x420 -> 300x210 -> 150x105 -> 75x52 (vips stops once a level fits a tile).
  ASSERT_EQ(info.levels.size(), 4u);
  const uint32_t widths[] = {600, 300, 150, 75};
  for (std::size_t i = 0; i < info.levels.size(); ++i) {
    EXPECT_EQ(info.levels[i].width, widths[i]);
    EXPECT_EQ(info.levels[i].tile_width, 128u);
    EXPECT_EQ(info.levels[i].scale, double(1u << i));
  }
  EXPECT_TRUE(identical(read_level(source, 0), make_pattern(kWidth, kHeight, 3)));
  const Raster level1 = read_level(source, 1), level3 = read_level(source, 3);
  EXPECT_LT(mean_abs_diff(level1, reduced_like(level1, 3, 2)), 1.0);
  EXPECT_LT(mean_abs_diff(level3, reduced_like(level3, 3, 8)), 2.0);
}

TEST_F(TiffSourceTest, LosslessCompressionsDecodeExactly) {
  for (const std::string compression : {"none", "lzw", "deflate", "packbits", "zstd"}) {
    const fs::path out = file("c-" + compression + ".tif");
    make_pyramid(src(3), out, 256, {"--compression", compression});
    TiffSource source(out);
    EXPECT_TRUE(identical(read_level(source, 0), make_pattern(kWidth, kHeight, 3))) << compression;
  }
  // WebP tiles, lossless.
  make_pyramid(src(3), file("webp.tif"), 256, {"--compression", "webp", "--lossless"});
  TiffSource webp(file("webp.tif"));
  EXPECT_TRUE(identical(read_level(webp, 0), make_pattern(kWidth, kHeight, 3)));
}

TEST_F(TiffSourceTest, JpegTilesDecodeToRgb) {
  make_pyramid(src(3), file("jpeg.tif"), 256, {"--compression", "jpeg", "--Q", "95"});
  TiffSource source(file("jpeg.tif"));
  EXPECT_EQ(source.info().bands, 3);
  const Raster level0 = read_level(source, 0);
  EXPECT_EQ(level0.bands(), 3);
  EXPECT_LT(mean_abs_diff(level0, make_pattern(kWidth, kHeight, 3)), 2.0);
}

TEST_F(TiffSourceTest, BigTiffAndSubIfdPyramids) {
  make_pyramid(src(3), file("big.tif"), 256, {"--bigtiff", "--compression", "lzw"});
  TiffSource big(file("big.tif"));
  EXPECT_EQ(big.info().levels.size(), 3u);
  EXPECT_TRUE(identical(read_level(big, 0), make_pattern(kWidth, kHeight, 3)));

  make_pyramid(src(3), file("sub.tif"), 128, {"--subifd", "--compression", "deflate"});
  TiffSource sub(file("sub.tif"));
  ASSERT_EQ(sub.info().levels.size(), 4u);
  EXPECT_EQ(sub.info().levels[2].width, 150u);
  // Going back and forth between the main IFD and the SubIFDs.
  const Raster small = read_level(sub, 3);
  EXPECT_TRUE(identical(read_level(sub, 0), make_pattern(kWidth, kHeight, 3)));
  EXPECT_TRUE(identical(read_level(sub, 3), small));
  EXPECT_LT(mean_abs_diff(small, reduced_like(small, 3, 8)), 2.0);
}

TEST_F(TiffSourceTest, GreyAndAlphaLayouts) {
  for (int bands : {1, 2, 4}) {
    const fs::path out = file("bands" + std::to_string(bands) + ".tif");
    make_pyramid(src(bands), out, 256, {"--compression", "deflate"});
    TiffSource source(out);
    const ImageInfo& info = source.info();
    EXPECT_EQ(info.bands, bands);
    EXPECT_EQ(info.has_alpha, bands == 2 || bands == 4) << bands;
    EXPECT_EQ(info.colour_space, bands <= 2 ? ColourSpace::Grey : ColourSpace::Rgb) << bands;
    EXPECT_TRUE(identical(read_level(source, 0), make_pattern(kWidth, kHeight, bands))) << bands;
  }
}

TEST_F(TiffSourceTest, StrippedTiffIsCutIntoVirtualTiles) {
  run_command(
      {"vips", "tiffsave", src(3).string(), file("strips.tif").string(), "--compression", "lzw"});
  TiffSource source(file("strips.tif"));
  ASSERT_EQ(source.info().levels.size(), 1u);
  EXPECT_EQ(source.info().levels[0].tile_width, 256u);
  EXPECT_TRUE(identical(read_level(source, 0), make_pattern(kWidth, kHeight, 3)));
}

TEST_F(TiffSourceTest, SixteenBitSamplesKeepTheirDepth) {
  run_command({"vips", "linear", src(1).string(), file("lin.v").string(), "257", "0"});
  run_command({"vips", "cast", file("lin.v").string(), file("u16.v").string(), "ushort"});
  make_pyramid(file("u16.v"), file("u16.tif"), 256, {"--compression", "deflate"});
  TiffSource source(file("u16.tif"));
  EXPECT_EQ(source.info().bits_per_sample, 16);
  EXPECT_EQ(source.info().sample_type, SampleType::U16);
  const Raster tile = source.tile(0, 1, 1);
  ASSERT_EQ(tile.sample_type(), SampleType::U16);
  const Raster pattern = make_pattern(kWidth, kHeight, 1);
  for (uint32_t y = 0; y < tile.height(); y += 17) {
    for (uint32_t x = 0; x < tile.width(); x += 13) {
      const auto* row = reinterpret_cast<const uint16_t*>(tile.row(y));
      EXPECT_EQ(row[x], 257 * pattern.row(256 + y)[256 + x]);
    }
  }
}

TEST_F(TiffSourceTest, BilevelImagesExpandToBlackAndWhite) {
  Raster bilevel = make_pattern(kWidth, kHeight, 1);
  for (uint32_t y = 0; y < kHeight; ++y)
    for (uint32_t x = 0; x < kWidth; ++x) bilevel.row(y)[x] = bilevel.row(y)[x] > 120 ? 255 : 0;
  write_pnm(file("bilevel.pgm"), bilevel);
  for (const bool miniswhite : {false, true}) {
    const fs::path out = file(miniswhite ? "bw-white.tif" : "bw.tif");
    std::vector<std::string> argv{"vips",       "tiffsave", file("bilevel.pgm").string(),
                                  out.string(), "--tile",   "--bitdepth",
                                  "1"};
    if (miniswhite) argv.push_back("--miniswhite");
    run_command(argv);
    TiffSource source(out);
    EXPECT_EQ(source.info().bands, 1);
    EXPECT_TRUE(identical(read_level(source, 0), bilevel)) << "miniswhite " << miniswhite;
  }
}

TEST_F(TiffSourceTest, MetadataAndResolution) {
  run_command({"vips", "tiffsave", src(3).string(), file("meta.tif").string(), "--tile",
               "--pyramid", "--xres", "11.811", "--yres", "11.811"});
  run_command({"tiffset", "-s", "315", "Ada Lovelace", file("meta.tif").string()});
  run_command({"tiffset", "-s", "270", "A test pattern", file("meta.tif").string()});
  TiffSource source(file("meta.tif"));
  EXPECT_NEAR(source.info().dpi_x, 300.0, 0.1);
  EXPECT_NEAR(source.info().dpi_y, 300.0, 0.1);
  EXPECT_EQ(source.info().metadata.at("creator"), "Ada Lovelace");
  EXPECT_EQ(source.info().metadata.at("description"), "A test pattern");
}

TEST_F(TiffSourceTest, TileCoordinatesOutsideTheLevelAreRefused) {
  make_pyramid(src(3), file("coords.tif"), 256);
  TiffSource source(file("coords.tif"));
  EXPECT_EQ(error_status([&] { source.tile(0, 3, 0); }), 400);
  EXPECT_EQ(error_status([&] { source.tile(0, 0, 2); }), 400);
  EXPECT_EQ(error_status([&] { source.tile(7, 0, 0); }), 400);
  EXPECT_EQ(error_status([&] { source.tile(-1, 0, 0); }), 400);
}

TEST_F(TiffSourceTest, OpenImageChoosesByTheFileSignature) {
  make_pyramid(src(1), file("renamed.jp2"), 256);
  EXPECT_EQ(open_image(file("renamed.jp2"))->info().format, "tiff");

  std::ofstream(file("text.tif")) << "not an image at all\n";
  EXPECT_EQ(error_status([&] { open_image(file("text.tif")); }), 500);
  std::ofstream(file("empty.tif")).close();
  EXPECT_EQ(error_status([&] { open_image(file("empty.tif")); }), 500);
  std::ofstream(file("fake.jp2"), std::ios::binary)
      << std::string("\0\0\0\x0cjP  \r\n\x87\n", 12) << "rest";
  EXPECT_EQ(error_status([&] { open_image(file("fake.jp2")); }), 500);
  EXPECT_EQ(error_status([&] { open_image(file("missing.tif")); }), 404);
}

// Reads every tile of every level, decoded and as stored bytes; a broken
// file may fail, but only with Error(500) and a one-line reason.
void read_everything_or_fail_cleanly(const fs::path& path, int& failures) {
  auto expect_clean = [&](const Error& e) {
    EXPECT_EQ(e.status(), 500) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    ++failures;
  };
  try {
    TiffSource source(path);
    for (int level = 0; level < int(source.info().levels.size()); ++level) {
      const LevelInfo& li = source.info().levels[level];
      for (uint32_t ty = 0; ty < li.tiles_down(); ++ty)
        for (uint32_t tx = 0; tx < li.tiles_across(); ++tx) {
          for (auto read :
               {+[](TiffSource&s, int l, uint32_t x, uint32_t y) { s.tile(l, x, y); },
                +[](TiffSource&s, int l, uint32_t x, uint32_t y) { s.stored_tile(l, x, y); },
                +[](TiffSource&s, int l, uint32_t x, uint32_t y) { s.fetch_tile(l, x, y); }}) {
            try {
              read(source, level, tx, ty);
            } catch (const Error& e) {
              expect_clean(e);
            }
          }
        }
    }
  } catch (const Error& e) {
    expect_clean(e);
  }
}

TEST_F(TiffSourceTest, TruncatedFilesFailWithAReason) {
  make_pyramid(src(3), file("whole.tif"), 128, {"--compression", "jpeg"});
  const auto size = fs::file_size(file("whole.tif"));
  int failures = 0;
  for (int tenth = 1; tenth < 10; ++tenth) {
    const fs::path cut = file("cut" + std::to_string(tenth) + ".tif");
    fs::copy_file(file("whole.tif"), cut, fs::copy_options::overwrite_existing);
    fs::resize_file(cut, size * tenth / 10);
    read_everything_or_fail_cleanly(cut, failures);
  }
  EXPECT_GE(failures, 9);  // every truncation is noticed somewhere
}

// Points tile `index` of the first IFD of a little-endian classic TIFF at
// its file's last 100 bytes, so that the tile's bytes run past the end (vips
// writes each level's directory after its tiles: a cut file loses
// directories before it loses tiles).
void point_tile_past_the_end(const fs::path& path, uint32_t index) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  auto read = [&](uint64_t at, int bytes) {
    uint32_t value = 0;
    f.seekg(std::streamoff(at));
    f.read(reinterpret_cast<char*>(&value), bytes);
    return value;
  };
  ASSERT_EQ(read(0, 2), 0x4949u);  // "II"
  const uint32_t ifd = read(4, 4);
  const uint32_t entries = read(ifd, 2);
  for (uint32_t i = 0; i < entries; ++i) {
    const uint64_t entry = ifd + 2 + 12 * i;
    if (read(entry, 2) != 324) continue;  // TileOffsets
    ASSERT_EQ(read(entry + 2, 2), 4u);    // LONG
    ASSERT_GT(read(entry + 4, 4), index);
    const uint32_t near_end = uint32_t(fs::file_size(path) - 100);
    f.seekp(std::streamoff(read(entry + 8, 4) + 4 * index));
    f.write(reinterpret_cast<const char*>(&near_end), 4);
    return;
  }
  FAIL() << "no TileOffsets";
}

// A tile whose bytes run past the end of the file fails with its name,
// whether decoded, passed through or cut into a region.
TEST_F(TiffSourceTest, ATileBeyondTheEndOfTheFileIsNamed) {
  for (const std::string compression : {"deflate", "jpeg"}) {
    const fs::path path = file("past-the-end-" + compression + ".tif");
    make_pyramid(src(3), path, 128, {"--compression", compression});
    point_tile_past_the_end(path, 4);  // tile 0,1 of level 0: 5 tiles across
    TiffSource source(path);
    ASSERT_EQ(source.info().levels[0].tiles_across(), 5u);
    (void)source.tile(0, 4, 1);  // its neighbours are intact
    std::vector<std::function<void()>> reads = {[&] { source.tile(0, 4, 0); }};
    if (compression == "jpeg") {
      reads.push_back([&] { source.stored_tile(0, 4, 0); });
      reads.push_back([&] { source.fetch_tile(0, 4, 0); });
    }
    for (const auto& read : reads) {
      try {
        read();
        ADD_FAILURE() << compression << ": read a tile that runs past the end";
      } catch (const Error& e) {
        EXPECT_EQ(e.status(), 500);
        EXPECT_NE(std::string(e.what()).find("tile 4,0 of level 0"), std::string::npos) << e.what();
      }
    }
  }
}

// Raw reads (which keep each level's tile table) and libtiff's decodes
// (which switch the directory) interleaved over levels give what a fresh
// source gives for each tile alone.
TEST_F(TiffSourceTest, RawReadsAndDecodesInterleaveAcrossLevels) {
  for (const std::string compression : {"jpeg", "deflate"}) {
    const fs::path path = file("mixed-" + compression + ".tif");
    make_pyramid(src(3), path, 128, {"--compression", compression});
    TiffSource shared(path);
    std::mt19937 random(7);
    int stored = 0;  // tiles passed through
    for (int round = 0; round < 60; ++round) {
      const int level = int(random() % shared.info().levels.size());
      const LevelInfo& li = shared.info().levels[level];
      const uint32_t tx = random() % li.tiles_across(), ty = random() % li.tiles_down();
      TiffSource fresh(path);
      switch (random() % 3) {
        case 0: {
          const Raster a = shared.tile(level, tx, ty), b = fresh.tile(level, tx, ty);
          ASSERT_EQ(a.width(), b.width());
          ASSERT_EQ(a.height(), b.height());
          ASSERT_EQ(a.stride(), b.stride());
          ASSERT_EQ(0, std::memcmp(a.data(), b.data(), a.size_bytes())) << compression << level;
          break;
        }
        case 1: {
          const auto a = shared.stored_tile(level, tx, ty), b = fresh.stored_tile(level, tx, ty);
          ASSERT_EQ(a.has_value(), b.has_value());
          if (a) {
            ++stored;
            ASSERT_EQ(a->bytes, b->bytes);
          }
          break;
        }
        default: {
          const auto a = shared.fetch_tile(level, tx, ty), b = fresh.fetch_tile(level, tx, ty);
          ASSERT_EQ(a.has_value(), b.has_value());
          if (a) {
            ASSERT_EQ(a->bytes, b->bytes);
            ASSERT_EQ(*a->tables, *b->tables);
          }
        }
      }
    }
    EXPECT_EQ(stored > 0, compression == "jpeg");
  }
}

TEST_F(TiffSourceTest, DamagedBytesNeverCrash) {
  for (const std::string compression : {"jpeg", "deflate", "lzw"}) {
    const fs::path whole = file("whole-" + compression + ".tif");
    make_pyramid(src(3), whole, 128, {"--compression", compression});
    std::ifstream in(whole, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::mt19937 random(42);
    int failures = 0;
    for (int round = 0; round < 40; ++round) {
      std::string damaged = bytes;
      for (int i = 0; i < 20; ++i) damaged[random() % damaged.size()] = char(random());
      const fs::path path = file("damaged.tif");
      std::ofstream(path, std::ios::binary) << damaged;
      read_everything_or_fail_cleanly(path, failures);
    }
    SUCCEED() << compression << ": " << failures << " clean failures";
  }
}

}  // namespace
}  // namespace tessera
