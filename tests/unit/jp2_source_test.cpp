// Jp2Source against files written by opj_compress (and JP2 boxes the test
// wraps around its codestreams): every layout read back tile by tile and
// compared with the pixels it was made from; and broken files that must fail
// with a reason.

#include "image/jp2_source.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "common/error.hpp"
#include "image/image_source.hpp"
#include "image/jp2_codestream.hpp"
#include "support/test_images.hpp"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using testing::box_reduce;
using testing::make_pattern;
using testing::mean_abs_diff;
using testing::run_command;
using testing::write_pnm;

constexpr uint32_t kWidth = 600, kHeight = 420;

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string be16(uint32_t v) { return {char(v >> 8), char(v)}; }
std::string be32(uint32_t v) { return be16(v >> 16) + be16(v & 0xffff); }
std::string box(const char* type, const std::string& payload) {
  return be32(uint32_t(payload.size() + 8)) + type + payload;
}

// A JP2 file around a raw codestream, with the header boxes a test needs.
std::string wrap_jp2(const std::string& codestream, uint32_t width, uint32_t height, int comps,
                     uint32_t enumcs, const std::string& extra_boxes = "") {
  const std::string ihdr =
      be32(height) + be32(width) + be16(comps) + char(7) + char(7) + char(0) + char(0);
  const std::string colr = std::string{char(1), char(0), char(0)} + be32(enumcs);
  return box("jP  ", "\r\n\x87\n") + box("ftyp", "jp2 " + be32(0) + "jp2 ") +
         box("jp2h", box("ihdr", ihdr) + box("colr", colr) + extra_boxes) + box("jp2c", codestream);
}

int error_status(auto&& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.status();
  }
  return 0;
}

bool identical(const Raster& a, const Raster& b) {
  return a.width() == b.width() && a.height() == b.height() && a.bands() == b.bands() &&
         a.sample_type() == b.sample_type() && a.size_bytes() == b.size_bytes() &&
         std::equal(a.data(), a.data() + a.size_bytes(), b.data());
}

// Reads a whole level back by pasting every tile, checking each tile's size.
Raster read_level(ImageSource& source, int level) {
  const LevelInfo& li = source.info().levels.at(level);
  Raster out;
  for (uint32_t ty = 0; ty < li.tiles_down(); ++ty) {
    for (uint32_t tx = 0; tx < li.tiles_across(); ++tx) {
      Raster tile = source.tile(level, tx, ty);
      EXPECT_EQ(tile.width(), std::min(li.tile_width, li.width - tx * li.tile_width));
      EXPECT_EQ(tile.height(), std::min(li.tile_height, li.height - ty * li.tile_height));
      EXPECT_EQ(tile.bands(), source.info().bands);
      EXPECT_EQ(tile.sample_type(), source.info().sample_type);
      if (out.empty()) out = Raster(li.width, li.height, tile.bands(), tile.sample_type());
      out.paste(tile, int64_t(tx) * li.tile_width, int64_t(ty) * li.tile_height);
    }
  }
  return out;
}

// `level` of the whole image as opj_decompress decodes it (the same
// library, decoding everything at once): planar raw samples, interleaved.
Raster reference_decode(const fs::path& image, int level, const LevelInfo& li, int bands) {
  const fs::path out = image.string() + ".ref.raw";
  run_command(
      {"opj_decompress", "-i", image.string(), "-o", out.string(), "-r", std::to_string(level)});
  const std::string planes = read_bytes(out);
  fs::remove(out);
  const std::size_t plane = std::size_t(li.width) * li.height;
  if (planes.size() != plane * bands) throw std::runtime_error("unexpected reference size");
  Raster raster(li.width, li.height, bands);
  for (std::size_t i = 0; i < plane; ++i)
    for (int b = 0; b < bands; ++b) raster.data()[i * bands + b] = uint8_t(planes[b * plane + i]);
  return raster;
}

// Every tile of every level: at full resolution against the picture (exact
// when lossless); below, pixel for pixel against OpenJPEG's own whole-image
// decode, which checks the areas and reductions, and level 1 against a box
// reduction of the picture, which checks what a level means. (The wavelet's
// low-pass is no box filter: deeper levels drift from box averages.)
void expect_pyramid_matches(ImageSource& source, const fs::path& path, const Raster& picture,
                            double level0_tolerance = 0) {
  const ImageInfo& info = source.info();
  for (int level = 0; level < int(info.levels.size()); ++level) {
    const Raster got = read_level(source, level);
    if (level == 0) {
      if (level0_tolerance == 0) {
        EXPECT_TRUE(identical(got, picture));
      } else {
        EXPECT_LT(mean_abs_diff(got, picture), level0_tolerance);
      }
      continue;
    }
    EXPECT_TRUE(identical(got, reference_decode(path, level, info.levels[level], info.bands)))
        << path << " level " << level;
    if (level == 1) {
      EXPECT_LT(mean_abs_diff(got, box_reduce(picture, 2)), 1.5 + 2 * level0_tolerance);
    }
  }
}

// The pattern with deterministic fine texture, which lossy coding cannot keep
// in its first quality layers.
Raster make_textured(uint32_t width, uint32_t height, int bands) {
  Raster r = make_pattern(width, height, bands);
  for (uint32_t y = 0; y < height; ++y)
    for (uint32_t x = 0; x < width; ++x)
      for (int b = 0; b < bands; ++b) {
        uint8_t& v = r.row(y)[x * bands + b];
        const int noise = int((x * 73856093u ^ y * 19349663u ^ uint32_t(b) * 83492791u) % 61) - 30;
        v = uint8_t(std::clamp(int(v) + noise, 0, 255));
      }
  return r;
}

class Jp2SourceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(testing::make_temp_dir("tessera-jp2"));
    for (int bands : {1, 2, 3, 4}) {
      write_pnm(src(bands), make_pattern(kWidth, kHeight, bands));
    }
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  static fs::path src(int bands) {
    return *dir_ / ("src" + std::to_string(bands) +
                    (bands == 1   ? ".pgm"
                     : bands == 3 ? ".ppm"
                                  : ".pam"));
  }
  static fs::path file(const std::string& name) { return *dir_ / name; }

  static void compress(const fs::path& in, const fs::path& out,
                       const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{"opj_compress", "-i", in.string(), "-o", out.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    run_command(argv);
  }

  // The Ghent University Library's Kakadu recipe in OpenJPEG's words: 8
  // quality layers, 8 decompositions, RPCL, 256/256/128 precincts, 64x64
  // code-blocks, SOP markers, PLT markers and tile-parts per resolution.
  static void compress_ghent(const fs::path& in, const fs::path& out) {
    compress(in, out,
             {"-I", "-n", "9", "-r", "320,160,80,40,20,10,5,2", "-p", "RPCL", "-c",
              "[256,256],[256,256],[128,128]", "-b", "64,64", "-SOP", "-PLT", "-TP", "R"});
  }

  static fs::path* dir_;
};
fs::path* Jp2SourceTest::dir_ = nullptr;

TEST_F(Jp2SourceTest, LosslessRgbUntiled) {
  compress(src(3), file("rgb.jp2"), {"-n", "6"});
  Jp2Source source(file("rgb.jp2"));
  const ImageInfo& info = source.info();
  EXPECT_EQ(info.format, "jp2");
  EXPECT_EQ(info.width, kWidth);
  EXPECT_EQ(info.height, kHeight);
  EXPECT_EQ(info.bands, 3);
  EXPECT_FALSE(info.has_alpha);
  EXPECT_EQ(info.bits_per_sample, 8);
  EXPECT_EQ(info.sample_type, SampleType::U8);
  EXPECT_EQ(info.colour_space, ColourSpace::Rgb);
  EXPECT_EQ(source.quality_layers(), 1);
  // Six resolutions: 600x420 down to ceil(600/32) x ceil(420/32), in 256 virtual tiles.
  ASSERT_EQ(info.levels.size(), 6u);
  for (std::size_t i = 0; i < info.levels.size(); ++i) {
    const uint32_t factor = 1u << i;
    EXPECT_EQ(info.levels[i].width, (kWidth + factor - 1) / factor);
    EXPECT_EQ(info.levels[i].height, (kHeight + factor - 1) / factor);
    EXPECT_EQ(info.levels[i].tile_width, 256u);
    EXPECT_EQ(info.levels[i].tile_height, 256u);
    EXPECT_EQ(info.levels[i].scale, double(factor));
  }
  expect_pyramid_matches(source, file("rgb.jp2"), make_pattern(kWidth, kHeight, 3));
}

TEST_F(Jp2SourceTest, TiledCodestreamTilesBecomeLevelTiles) {
  constexpr uint32_t w = 1100, h = 700;
  const Raster picture = make_pattern(w, h, 3);
  write_pnm(file("big.ppm"), picture);
  compress(file("big.ppm"), file("tiled.jp2"), {"-t", "512,512", "-n", "5"});
  Jp2Source source(file("tiled.jp2"));
  const ImageInfo& info = source.info();
  ASSERT_EQ(info.levels.size(), 5u);
  // 512 at full resolution, 256 at half; smaller codestream tiles would make
  // too many requests, so the lower levels use 256 virtual tiles.
  const uint32_t tile_sizes[] = {512, 256, 256, 256, 256};
  for (std::size_t i = 0; i < info.levels.size(); ++i) {
    EXPECT_EQ(info.levels[i].tile_width, tile_sizes[i]) << i;
    EXPECT_EQ(info.levels[i].tile_height, tile_sizes[i]) << i;
  }
  EXPECT_EQ(info.levels[0].tiles_across(), 3u);
  EXPECT_EQ(info.levels[0].tiles_down(), 2u);
  expect_pyramid_matches(source, file("tiled.jp2"), picture);
}

TEST_F(Jp2SourceTest, GreyAndAlphaLayouts) {
  for (int bands : {1, 2, 4}) {
    const fs::path out = file("bands" + std::to_string(bands) + ".jp2");
    compress(src(bands), out);
    Jp2Source source(out);
    const ImageInfo& info = source.info();
    EXPECT_EQ(info.bands, bands);
    EXPECT_EQ(info.has_alpha, bands == 2 || bands == 4) << bands;
    EXPECT_EQ(info.colour_space, bands <= 2 ? ColourSpace::Grey : ColourSpace::Rgb) << bands;
    expect_pyramid_matches(source, out, make_pattern(kWidth, kHeight, bands));
  }
}

TEST_F(Jp2SourceTest, RawCodestreams) {
  for (const std::string name : {"raw.j2k", "raw.j2c"}) {
    compress(src(3), file(name));
    const auto source = open_image(file(name));
    EXPECT_EQ(source->info().format, "jp2");
    EXPECT_EQ(source->info().colour_space, ColourSpace::Rgb);
    EXPECT_TRUE(identical(read_level(*source, 0), make_pattern(kWidth, kHeight, 3))) << name;
  }
}

// A 16-bit PGM written by hand (opj_compress keeps its depth), with values
// that use the low byte too.
TEST_F(Jp2SourceTest, SixteenBitSamplesKeepTheirDepth) {
  const Raster pattern = make_pattern(kWidth, kHeight, 1);
  auto value = [&](uint32_t x, uint32_t y) {
    return uint16_t(pattern.row(y)[x] * 256 + ((x * 7 + y * 3) & 0xff));
  };
  std::string pgm = "P5\n" + std::to_string(kWidth) + " " + std::to_string(kHeight) + "\n65535\n";
  for (uint32_t y = 0; y < kHeight; ++y)
    for (uint32_t x = 0; x < kWidth; ++x) pgm += be16(value(x, y));
  write_bytes(file("u16.pgm"), pgm);
  compress(file("u16.pgm"), file("u16.jp2"));
  Jp2Source source(file("u16.jp2"));
  EXPECT_EQ(source.info().bits_per_sample, 16);
  EXPECT_EQ(source.info().sample_type, SampleType::U16);
  const Raster level0 = read_level(source, 0);
  ASSERT_EQ(level0.sample_type(), SampleType::U16);
  int mismatches = 0;
  for (uint32_t y = 0; y < kHeight; ++y) {
    const auto* row = reinterpret_cast<const uint16_t*>(level0.row(y));
    for (uint32_t x = 0; x < kWidth; ++x) mismatches += row[x] != value(x, y);
  }
  EXPECT_EQ(mismatches, 0);
}

// Precisions other than 8 and 16 are stretched to the full range of the
// nearest type: 12-bit to 16, 4-bit to 8.
TEST_F(Jp2SourceTest, OtherPrecisionsAreScaledToFullRange) {
  const Raster pattern = make_pattern(kWidth, kHeight, 1);
  for (const int bits : {4, 12}) {
    const uint32_t max = (1u << bits) - 1;
    // Raw input keeps the precision (opj_compress widens PGM maxvals to 8 bits).
    std::string raw;
    for (uint32_t y = 0; y < kHeight; ++y)
      for (uint32_t x = 0; x < kWidth; ++x) {
        const uint32_t v = pattern.row(y)[x] * max / 255;
        raw += bits > 8 ? be16(v) : std::string(1, char(v));
      }
    const fs::path in = file(fmt::format("p{}.raw", bits));
    const fs::path out = file(fmt::format("p{}.j2k", bits));
    write_bytes(in, raw);
    compress(in, out, {"-F", fmt::format("{},{},1,{},u@1x1", kWidth, kHeight, bits)});
    Jp2Source source(out);
    EXPECT_EQ(source.info().bits_per_sample, bits > 8 ? 16 : 8);
    const Raster tile = source.tile(0, 1, 1);
    const uint32_t target = bits > 8 ? 65535 : 255;
    int mismatches = 0;
    for (uint32_t y = 0; y < tile.height(); ++y)
      for (uint32_t x = 0; x < tile.width(); ++x) {
        const uint32_t v = pattern.row(256 + y)[256 + x] * max / 255;
        const uint32_t expected = (v * target + max / 2) / max;
        const uint32_t got =
            bits > 8 ? reinterpret_cast<const uint16_t*>(tile.row(y))[x] : tile.row(y)[x];
        mismatches += got != expected;
      }
    EXPECT_EQ(mismatches, 0) << bits << "-bit";
  }
}

TEST_F(Jp2SourceTest, SignedSamplesAreShiftedToUnsigned) {
  const Raster pattern = make_pattern(kWidth, kHeight, 1);
  std::string raw;
  for (uint32_t y = 0; y < kHeight; ++y)
    for (uint32_t x = 0; x < kWidth; ++x) raw += char(int(pattern.row(y)[x]) - 128);
  write_bytes(file("signed.raw"), raw);
  compress(file("signed.raw"), file("signed.j2k"),
           {"-F", std::to_string(kWidth) + "," + std::to_string(kHeight) + ",1,8,s@1x1"});
  Jp2Source source(file("signed.j2k"));
  EXPECT_EQ(source.info().colour_space, ColourSpace::Grey);
  EXPECT_TRUE(identical(read_level(source, 0), pattern));
}

TEST_F(Jp2SourceTest, GhentParametersLayersAndLevels) {
  const Raster picture = make_textured(kWidth, kHeight, 3);
  write_pnm(file("textured.ppm"), picture);
  compress_ghent(file("textured.ppm"), file("ghent.jp2"));
  Jp2Source all(file("ghent.jp2"), Jp2Options{.layers = -1});
  EXPECT_EQ(all.quality_layers(), 8);
  EXPECT_EQ(all.layers_decoded(), 8);
  ASSERT_EQ(all.info().levels.size(), 9u);
  EXPECT_EQ(all.info().levels[8].width, 3u);  // ceil(600 / 256)
  expect_pyramid_matches(all, file("ghent.jp2"), picture, 3.0);

  // Fewer layers: the same geometry, coarser pixels, monotonically; one
  // source changes its mind between tiles (LYR per request).
  Jp2Source limited(file("ghent.jp2"));
  double previous = 0;
  for (const int layers : {8, 4, 1}) {
    limited.set_quality_layers(layers);
    EXPECT_EQ(limited.layers_decoded(), layers);
    const double error = mean_abs_diff(read_level(limited, 0), picture);
    EXPECT_GT(error, previous) << layers << " layers";
    previous = error;
  }
  EXPECT_GT(previous, 8.0);  // one layer of 8 is visibly lossy
  limited.set_quality_layers(99);
  EXPECT_EQ(limited.layers_decoded(), 8);
  EXPECT_TRUE(identical(read_level(limited, 1), read_level(all, 1)));

  // iipsrv's default: half the layers, rounded up.
  Jp2Source by_default(file("ghent.jp2"));
  EXPECT_EQ(by_default.layers_decoded(), 4);
  limited.set_quality_layers(4);
  EXPECT_TRUE(identical(read_level(by_default, 0), read_level(limited, 0)));
}

TEST(LayersToDecode, FollowsIipsrv) {
  // MAX_LAYERS 0 (the default): LYR decides, 0 leaving the reader's half.
  EXPECT_EQ(layers_to_decode(0, 0), 0);
  EXPECT_EQ(layers_to_decode(0, 5), 5);
  // A positive MAX_LAYERS caps LYR and is the default.
  EXPECT_EQ(layers_to_decode(3, 0), 3);
  EXPECT_EQ(layers_to_decode(3, 2), 2);
  EXPECT_EQ(layers_to_decode(3, 7), 3);
  // -1: all by default, LYR still chooses.
  EXPECT_EQ(layers_to_decode(-1, 0), -1);
  EXPECT_EQ(layers_to_decode(-1, 2), 2);
}

TEST_F(Jp2SourceTest, ThreadedDecodeGivesTheSamePixels) {
  compress_ghent(src(3), file("threads.jp2"));
  Jp2Source one(file("threads.jp2"));
  Jp2Source two(file("threads.jp2"), Jp2Options{.threads = 2});
  for (int level : {0, 2}) {
    EXPECT_TRUE(identical(read_level(one, level), read_level(two, level))) << level;
  }
}

// Odd sizes and an image offset on the reference grid: level sizes round up
// from the grid, and edge tiles are cut to them.
TEST_F(Jp2SourceTest, EdgeTilesAndImageOffset) {
  constexpr uint32_t w = 601, h = 299;
  const Raster picture = make_pattern(w, h, 3);
  write_pnm(file("odd.ppm"), picture);
  compress(file("odd.ppm"), file("odd.jp2"), {"-n", "4"});
  Jp2Source odd(file("odd.jp2"));
  const uint32_t widths[] = {601, 301, 151, 76}, heights[] = {299, 150, 75, 38};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(odd.info().levels[i].width, widths[i]);
    EXPECT_EQ(odd.info().levels[i].height, heights[i]);
  }
  EXPECT_EQ(odd.tile(0, 2, 1).width(), 601u - 512u);
  EXPECT_EQ(odd.tile(0, 2, 1).height(), 299u - 256u);
  EXPECT_EQ(odd.tile(1, 1, 0).width(), 301u - 256u);
  expect_pyramid_matches(odd, file("odd.jp2"), picture);

  // Image at (3, 5) on the grid: level i spans ceil(x/2^i) over [3, 604).
  compress(file("odd.ppm"), file("offset.jp2"), {"-n", "4", "-d", "3,5"});
  Jp2Source offset(file("offset.jp2"));
  const uint32_t offset_widths[] = {601, 300, 150, 75}, offset_heights[] = {299, 149, 74, 37};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(offset.info().levels[i].width, offset_widths[i]) << i;
    EXPECT_EQ(offset.info().levels[i].height, offset_heights[i]) << i;
  }
  EXPECT_TRUE(identical(read_level(offset, 0), picture));
  EXPECT_LT(mean_abs_diff(read_level(offset, 1).crop(1, 1, 290, 140),
                          box_reduce(picture, 2).crop(1, 1, 290, 140)),
            6.0);
}

// A region in one decode gives the pixels its tiles give, across tile
// borders, at the edges and with an image offset; outside the level is 400.
TEST_F(Jp2SourceTest, RegionsMatchTheirTiles) {
  const Raster picture = make_pattern(601, 299, 3);
  write_pnm(file("region.ppm"), picture);
  compress(file("region.ppm"), file("region.jp2"), {"-n", "4", "-d", "3,5"});
  compress(file("region.ppm"), file("region_tiled.j2k"), {"-n", "3", "-t", "256,256"});
  for (const char* name : {"region.jp2", "region_tiled.j2k"}) {
    Jp2Source source(file(name));
    ASSERT_TRUE(source.decodes_regions());
    for (const int level : {0, 1}) {
      const Raster whole = read_level(source, level);
      const LevelInfo& li = source.info().levels[level];
      const struct {
        uint32_t x, y, w, h;
      } rects[] = {{li.width / 3, li.height / 3, li.width / 3, li.height / 2},
                   {li.width - 70, li.height - 40, 70, 40},
                   {0, 0, 1, 1}};
      for (const auto& r : rects) {
        EXPECT_TRUE(
            identical(source.region(level, r.x, r.y, r.w, r.h), whole.crop(r.x, r.y, r.w, r.h)))
            << name << " level " << level << " at " << r.x << "," << r.y;
      }
      EXPECT_EQ(error_status([&] { source.region(level, li.width - 10, 0, 11, 5); }), 400);
      EXPECT_EQ(error_status([&] { source.region(level, 0, 0, 0, 5); }), 400);
    }
  }
}

// An untiled file's decoder is reused for the next decode of the same level:
// whatever the order of requests, every area decodes as a fresh decoder
// decodes it.
TEST_F(Jp2SourceTest, ReusedDecodersGiveWhatFreshOnesGive) {
  const Raster picture = make_textured(kWidth, kHeight, 3);
  write_pnm(file("reuse.ppm"), picture);
  compress_ghent(file("reuse.ppm"), file("reuse.jp2"));
  // The packet index would serve this file (see SparseCodestreams...).
  Jp2Source reused(file("reuse.jp2"), Jp2Options{.packet_index = false});
  ASSERT_FALSE(reused.reads_packets());
  std::mt19937 random(7);
  for (int i = 0; i < 24; ++i) {
    const int level = i < 8 ? 0 : int(random() % 3);
    if (i == 16) reused.set_quality_layers(-1);
    const LevelInfo& li = reused.info().levels[level];
    const uint32_t w = 1 + random() % std::min(li.width, 300u);
    const uint32_t h = 1 + random() % std::min(li.height, 300u);
    const uint32_t x = random() % (li.width - w + 1), y = random() % (li.height - h + 1);
    Jp2Source fresh(file("reuse.jp2"),
                    Jp2Options{.layers = i < 16 ? 0 : -1, .packet_index = false});
    EXPECT_TRUE(identical(reused.region(level, x, y, w, h), fresh.region(level, x, y, w, h)))
        << "request " << i << ": level " << level << " " << x << "," << y << "," << w << "," << h;
  }
}

// Untiled codestreams with packet lengths are decoded from the packets an
// area needs: for every progression order, with and without SOP and EPH
// markers, tile-parts, an image offset and quality layers, every area at
// every level decodes to exactly what OpenJPEG makes of the whole codestream.
TEST_F(Jp2SourceTest, SparseCodestreamsDecodeAsTheWholeOne) {
  const Raster picture = make_textured(kWidth, kHeight, 3);
  write_pnm(file("sparse.ppm"), picture);
  const std::vector<std::vector<std::string>> variants = {
      {"-p", "LRCP"},
      {"-p", "RLCP", "-SOP", "-EPH"},
      {"-p", "RPCL", "-SOP", "-TP", "R"},
      {"-p", "PCRL", "-EPH", "-d", "13,7"},
      {"-p", "CPRL", "-SOP", "-EPH", "-TP", "C"},
  };
  std::mt19937 random(11);
  for (std::size_t v = 0; v < variants.size(); ++v) {
    const std::string name = fmt::format("sparse{}.jp2", v);
    // 5 resolutions, 3 quality layers, precincts from 64 down to 4 samples.
    std::vector<std::string> args = {"-I", "-n",    "5",   "-r", "80,20,5", "-c", "[64,64],[32,32]",
                                     "-b", "16,16", "-PLT"};
    args.insert(args.end(), variants[v].begin(), variants[v].end());
    compress(file("sparse.ppm"), file(name), args);
    for (const int layers : {0, -1}) {
      Jp2Source sparse(file(name), Jp2Options{.layers = layers});
      Jp2Source whole(file(name), Jp2Options{.layers = layers, .packet_index = false});
      ASSERT_TRUE(sparse.reads_packets()) << name;
      ASSERT_FALSE(whole.reads_packets());
      for (int level = 0; level < int(sparse.info().levels.size()); ++level) {
        EXPECT_TRUE(identical(read_level(sparse, level), read_level(whole, level)))
            << name << " level " << level;
        const LevelInfo& li = sparse.info().levels[level];
        for (int i = 0; i < 6; ++i) {
          const uint32_t w = 1 + random() % std::min(li.width, 200u);
          const uint32_t h = 1 + random() % std::min(li.height, 200u);
          const uint32_t x = random() % (li.width - w + 1), y = random() % (li.height - h + 1);
          EXPECT_TRUE(identical(sparse.region(level, x, y, w, h), whole.region(level, x, y, w, h)))
              << name << " layers " << layers << " level " << level << " " << x << "," << y << ","
              << w << "," << h;
        }
      }
    }
  }

  // Without packet lengths, or with tiles, OpenJPEG reads as before.
  compress(file("sparse.ppm"), file("no_plt.jp2"), {"-n", "5", "-c", "[64,64],[32,32]"});
  EXPECT_FALSE(Jp2Source(file("no_plt.jp2")).reads_packets());
  compress(file("sparse.ppm"), file("tiled_plt.jp2"), {"-n", "3", "-t", "256,256", "-PLT"});
  EXPECT_FALSE(Jp2Source(file("tiled_plt.jp2")).reads_packets());
}

// What a small area's codestream holds: a small part of the file, and for
// the whole image at full resolution every byte of the original's packets.
TEST_F(Jp2SourceTest, SparseCodestreamsHoldOnlyWhatTheAreaNeeds) {
  write_pnm(file("sizes.ppm"), make_textured(kWidth, kHeight, 3));
  compress(file("sizes.ppm"), file("sizes.j2k"),
           {"-n", "5", "-r", "20,5", "-c", "[64,64],[32,32]", "-b", "16,16", "-PLT", "-SOP"});
  const std::string bytes = read_bytes(file("sizes.j2k"));
  const std::vector<uint8_t> data(bytes.begin(), bytes.end());
  const MemoryReader reader(data);
  const MainHeader header = read_main_header(reader, 0);
  ASSERT_TRUE(header.complete);
  EXPECT_EQ(header.layers, 2);
  EXPECT_TRUE(header.sop);
  const auto index = Jp2PacketIndex::read(reader, 0, data.size(), header);
  ASSERT_TRUE(index);
  // 2 layers of 3 components at 5 resolutions, each resolution cut into
  // 10x7 precincts (opj_compress halves the last precinct size given for
  // every lower resolution: 64 on 600x420, 32 on 300x210, ... 4 on 38x27).
  EXPECT_EQ(index->packets(), 2u * 3 * 5 * 10 * 7);
  // Everything: the original but its PLT markers (at most 3 bytes a length).
  const auto all = index->sparse_codestream(reader, 0, 0, 0, 0, kWidth, kHeight).bytes;
  EXPECT_LT(all.size(), data.size());
  EXPECT_GT(all.size(), data.size() - 3 * index->packets() - 64);
  const auto corner = index->sparse_codestream(reader, 0, 0, 0, 0, 16, 16).bytes;
  EXPECT_LT(corner.size(), data.size() / 5);
  const auto reduced = index->sparse_codestream(reader, 3, 0, 0, 0, kWidth, kHeight);
  EXPECT_LT(reduced.bytes.size(), data.size() / 5);
  // Reduced by 3 levels, the codestream is the image 8 times smaller.
  EXPECT_EQ(reduced.levels_dropped, 3);
  const MainHeader small = read_main_header(MemoryReader(reduced.bytes), 0);
  ASSERT_TRUE(small.complete);
  EXPECT_EQ(small.width, (kWidth + 7) / 8);
  EXPECT_EQ(small.cod.resolutions, 2);
  const auto one_layer = index->sparse_codestream(reader, 0, 1, 0, 0, kWidth, kHeight).bytes;
  EXPECT_LT(one_layer.size(), all.size());
}

// A second SIZ segment (found by fuzz/image_fuzz: its components' coding
// styles then ran short of their subsampling) makes the header malformed,
// and the file a clear error.
TEST_F(Jp2SourceTest, SecondSizSegmentIsMalformed) {
  write_pnm(file("siz.ppm"), make_pattern(64, 48, 3));
  compress(file("siz.ppm"), file("siz.j2k"), {"-n", "2"});
  const std::string bytes = read_bytes(file("siz.j2k"));
  ASSERT_EQ(uint8_t(bytes[2]), 0xff);
  ASSERT_EQ(uint8_t(bytes[3]), 0x51);  // SIZ right after SOC
  const std::size_t siz_size = 2 + (uint8_t(bytes[4]) << 8 | uint8_t(bytes[5]));
  // The same SIZ again, declaring one component instead of three.
  std::string second = bytes.substr(2, siz_size);
  second[4 + 34] = 0;
  second[4 + 35] = 1;
  const std::string doubled = bytes.substr(0, 2 + siz_size) + second + bytes.substr(2 + siz_size);
  const std::vector<uint8_t> data(doubled.begin(), doubled.end());
  EXPECT_TRUE(
      read_main_header(MemoryReader(std::vector<uint8_t>(bytes.begin(), bytes.end())), 0).complete);
  EXPECT_FALSE(read_main_header(MemoryReader(data), 0).complete);
  {
    std::ofstream out(file("doubled.j2k"), std::ios::binary);
    out.write(doubled.data(), std::streamsize(doubled.size()));
  }
  EXPECT_THROW(Jp2Source source(file("doubled.j2k")), Error);
}

// 4:2:0 YCbCr from a raw file: the chroma planes are a quarter the size and
// the colour space is inferred from the subsampling.
TEST_F(Jp2SourceTest, SubsampledYccConvertsToRgb) {
  const Raster picture = make_pattern(kWidth, kHeight, 3);
  const uint32_t cw = (kWidth + 1) / 2, ch = (kHeight + 1) / 2;
  std::string y_plane, cb_plane, cr_plane;
  auto at = [&](uint32_t x, uint32_t y, int b) { return double(picture.row(y)[x * 3 + b]); };
  auto clamp8 = [](double v) { return char(std::clamp<long>(std::lround(v), 0, 255)); };
  for (uint32_t y = 0; y < kHeight; ++y)
    for (uint32_t x = 0; x < kWidth; ++x)
      y_plane += clamp8(0.299 * at(x, y, 0) + 0.587 * at(x, y, 1) + 0.114 * at(x, y, 2));
  for (uint32_t y = 0; y < ch; ++y)
    for (uint32_t x = 0; x < cw; ++x) {
      const double r = at(2 * x, 2 * y, 0), g = at(2 * x, 2 * y, 1), b = at(2 * x, 2 * y, 2);
      cb_plane += clamp8(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
      cr_plane += clamp8(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
    }
  write_bytes(file("ycc.raw"), y_plane + cb_plane + cr_plane);
  compress(file("ycc.raw"), file("ycc.j2k"),
           {"-F", fmt::format("{},{},3,8,u@1x1:2x2:2x2", kWidth, kHeight), "-mct", "0"});
  Jp2Source source(file("ycc.j2k"));
  EXPECT_EQ(source.info().bands, 3);
  EXPECT_EQ(source.info().colour_space, ColourSpace::Rgb);
  EXPECT_LT(mean_abs_diff(read_level(source, 0), picture), 3.0);
  EXPECT_LT(mean_abs_diff(read_level(source, 1), box_reduce(picture, 2)), 3.0);

  // The same planes declared sYCC in a JP2 colour box.
  write_bytes(file("sycc.jp2"), wrap_jp2(read_bytes(file("ycc.j2k")), kWidth, kHeight, 3, 18));
  Jp2Source declared(file("sycc.jp2"));
  EXPECT_LT(mean_abs_diff(read_level(declared, 0), picture), 3.0);
}

// JP2 boxes that OpenJPEG leaves to the caller: a palette with its component
// mapping, and the capture resolution.
TEST_F(Jp2SourceTest, PaletteAndResolutionBoxes) {
  const Raster grey = make_pattern(kWidth, kHeight, 1);
  compress(src(1), file("index.j2k"));
  std::string pclr = be16(256) + char(3) + char(7) + char(7) + char(7);
  for (int i = 0; i < 256; ++i) pclr += std::string{char(i), char(255 - i), char(i / 2)};
  std::string cmap;
  for (int i = 0; i < 3; ++i) cmap += be16(0) + char(1) + char(i);
  // 11811 px/m = 300 dpi horizontally, 5906 px/m = 150 dpi vertically.
  const std::string resc = be16(5906) + be16(1) + be16(11811) + be16(1) + char(0) + char(0);
  write_bytes(file("palette.jp2"),
              wrap_jp2(read_bytes(file("index.j2k")), kWidth, kHeight, 1, 16,
                       box("pclr", pclr) + box("cmap", cmap) + box("res ", box("resc", resc))));
  Jp2Source source(file("palette.jp2"));
  const ImageInfo& info = source.info();
  EXPECT_EQ(info.bands, 3);
  EXPECT_EQ(info.colour_space, ColourSpace::Rgb);
  EXPECT_NEAR(info.dpi_x, 300.0, 0.1);
  EXPECT_NEAR(info.dpi_y, 150.0, 0.1);
  const Raster level0 = read_level(source, 0);
  int mismatches = 0;
  for (uint32_t y = 0; y < kHeight; ++y)
    for (uint32_t x = 0; x < kWidth; ++x) {
      const uint8_t i = grey.row(y)[x];
      const uint8_t* p = level0.row(y) + 3 * x;
      mismatches += p[0] != i || p[1] != 255 - i || p[2] != i / 2;
    }
  EXPECT_EQ(mismatches, 0);
}

TEST_F(Jp2SourceTest, TileCoordinatesOutsideTheLevelAreRefused) {
  compress(src(3), file("coords.jp2"), {"-n", "3"});
  Jp2Source source(file("coords.jp2"));
  EXPECT_EQ(error_status([&] { source.tile(0, 3, 0); }), 400);
  EXPECT_EQ(error_status([&] { source.tile(0, 0, 2); }), 400);
  EXPECT_EQ(error_status([&] { source.tile(3, 0, 0); }), 400);
  EXPECT_EQ(error_status([&] { source.tile(-1, 0, 0); }), 400);
  EXPECT_EQ(error_status([&] { source.tile(2, 0, 0); }), 0);
}

TEST_F(Jp2SourceTest, OpenImageChoosesByTheFileSignature) {
  compress(src(1), file("grey.jp2"));
  fs::copy_file(file("grey.jp2"), file("renamed.tif"));
  EXPECT_EQ(open_image(file("renamed.tif"))->info().format, "jp2");
  write_bytes(file("fake.jp2"), std::string("\0\0\0\x0cjP  \r\n\x87\n", 12) + "rest");
  EXPECT_EQ(error_status([&] { open_image(file("fake.jp2")); }), 500);
  write_bytes(file("fake.j2k"), "\xff\x4f\xff\x51 and nothing else");
  EXPECT_EQ(error_status([&] { open_image(file("fake.j2k")); }), 500);
  EXPECT_EQ(error_status([&] { Jp2Source(file("missing.jp2")); }), 404);
  EXPECT_EQ(error_status([&] { Jp2Source(src(1)); }), 500);  // a PGM is no JPEG 2000
}

// Reads every tile of every level; a broken file may fail, but only with
// Error(500) and a one-line reason. Returns the tiles that failed.
int read_everything_or_fail_cleanly(const fs::path& path, std::vector<Raster>* tiles = nullptr) {
  int failures = 0;
  auto check = [&](const Error& e) {
    EXPECT_EQ(e.status(), 500) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    ++failures;
  };
  try {
    Jp2Source source(path);
    for (int level = 0; level < int(source.info().levels.size()); ++level) {
      const LevelInfo& li = source.info().levels[level];
      for (uint32_t ty = 0; ty < li.tiles_down(); ++ty)
        for (uint32_t tx = 0; tx < li.tiles_across(); ++tx) {
          try {
            Raster tile = source.tile(level, tx, ty);
            if (tiles) tiles->push_back(std::move(tile));
          } catch (const Error& e) {
            check(e);
            if (tiles) tiles->emplace_back();
          }
        }
    }
  } catch (const Error& e) {
    check(e);
  }
  return failures;
}

// Strict decoding: a tile whose data is all before the cut decodes exactly,
// any other fails; nothing decodes half-filled.
TEST_F(Jp2SourceTest, TruncatedFilesDecodeWhatIsWholeOrFail) {
  constexpr uint32_t w = 1100, h = 700;
  write_pnm(file("trunc.ppm"), make_pattern(w, h, 3));
  for (const auto& [name, options] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"untiled.jp2", {}},
           {"tiled.j2k", {"-t", "256,256"}},
           {"ghent-cut.jp2", {"-n", "5", "-r", "40,10,1", "-p", "RPCL", "-SOP", "-PLT"}}}) {
    compress(file("trunc.ppm"), file(name), options);
    std::vector<Raster> whole;
    ASSERT_EQ(read_everything_or_fail_cleanly(file(name), &whole), 0) << name;
    const std::string bytes = read_bytes(file(name));
    for (int tenth = 1; tenth < 10; ++tenth) {
      const fs::path cut = file("cut-" + name);
      write_bytes(cut, bytes.substr(0, bytes.size() * tenth / 10));
      std::vector<Raster> tiles;
      EXPECT_GT(read_everything_or_fail_cleanly(cut, &tiles), 0) << name << " cut at " << tenth;
      for (std::size_t i = 0; i < tiles.size() && i < whole.size(); ++i) {
        if (tiles[i].empty()) continue;
        EXPECT_TRUE(identical(tiles[i], whole[i])) << name << " tile " << i;
      }
    }
  }
}

TEST_F(Jp2SourceTest, DamagedBytesNeverCrash) {
  compress(src(3), file("damage-plain.jp2"), {"-n", "5"});
  compress(src(3), file("damage-tiled.j2k"), {"-t", "256,256", "-n", "4"});
  compress_ghent(src(3), file("damage-ghent.jp2"));
  for (const std::string name : {"damage-plain.jp2", "damage-tiled.j2k", "damage-ghent.jp2"}) {
    const std::string bytes = read_bytes(file(name));
    std::mt19937 random(7);
    int failures = 0;
    for (int round = 0; round < 40; ++round) {
      std::string damaged = bytes;
      // Early rounds hit the headers, later ones anywhere.
      const std::size_t span = round < 15 ? std::min<std::size_t>(bytes.size(), 300) : bytes.size();
      for (int i = 0; i < 1 + round % 8; ++i) damaged[random() % span] = char(random());
      write_bytes(file("damaged"), damaged);
      failures += read_everything_or_fail_cleanly(file("damaged"));
    }
    EXPECT_GT(failures, 0) << name;
  }
}

// The packet index reads tile-part headers itself: damaged packet lengths
// (PLT) and tile-part lengths (SOT) make it refuse the file's index, or
// decode what the damaged lengths say, or fail with a reason; never a crash
// or a read outside the file.
TEST_F(Jp2SourceTest, DamagedPacketLengthsNeverCrash) {
  compress(src(3), file("plt.jp2"),
           {"-n", "5", "-r", "40,10", "-c", "[64,64],[32,32]", "-PLT", "-SOP", "-TP", "R"});
  ASSERT_TRUE(Jp2Source(file("plt.jp2")).reads_packets());
  const std::string bytes = read_bytes(file("plt.jp2"));
  // Where the PLT and SOT marker segments' bodies lie.
  std::vector<std::size_t> targets;
  for (std::size_t i = 0; i + 4 < bytes.size(); ++i) {
    const auto marker = uint8_t(bytes[i + 1]);
    if (uint8_t(bytes[i]) != 0xff || (marker != 0x58 && marker != 0x90)) continue;
    const std::size_t length = uint8_t(bytes[i + 2]) << 8 | uint8_t(bytes[i + 3]);
    for (std::size_t k = i + 4; k < i + 2 + length && k < bytes.size(); ++k) targets.push_back(k);
  }
  ASSERT_GT(targets.size(), 50u);
  std::mt19937 random(3);
  int refused = 0;
  for (int round = 0; round < 40; ++round) {
    std::string damaged = bytes;
    for (int i = 0; i < 1 + round % 3; ++i) {
      damaged[targets[random() % targets.size()]] = char(random());
    }
    write_bytes(file("plt-damaged.jp2"), damaged);
    try {
      refused += !Jp2Source(file("plt-damaged.jp2")).reads_packets();
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), 500);
    }
    read_everything_or_fail_cleanly(file("plt-damaged.jp2"));
  }
  EXPECT_GT(refused, 0);
}

// Headers that declare huge images in a small file: OpenJPEG would set up
// bookkeeping for the declared size (gigabytes) before noticing the data is
// missing.
TEST_F(Jp2SourceTest, HugeDeclaredSizesFailCleanly) {
  compress(src(3), file("small.j2k"));
  const std::string bytes = read_bytes(file("small.j2k"));
  ASSERT_EQ(bytes.substr(0, 4), "\xff\x4f\xff\x51");
  // SIZ: marker, Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz, XTsiz, YTsiz.
  constexpr uint32_t kHuge = 0x7fff0000;
  std::string many_tiles = bytes, one_tile = bytes, wide = bytes;
  many_tiles.replace(8, 8, be32(kHuge) + be32(kHuge));
  one_tile.replace(8, 8, be32(kHuge) + be32(kHuge));
  one_tile.replace(24, 8, be32(kHuge) + be32(kHuge));
  wide.replace(8, 4, be32(kHuge));
  wide.replace(24, 4, be32(kHuge));
  // Refused before OpenJPEG allocates for them.
  for (const std::string& damaged : {many_tiles, one_tile, wide}) {
    write_bytes(file("huge.j2k"), damaged);
    EXPECT_EQ(error_status([&] { Jp2Source source(file("huge.j2k")); }), 500);
  }
}

}  // namespace
}  // namespace tessera
