// CODEC_PASSTHROUGH below the server: splicing a TIFF's JPEG tables into its
// abbreviated tiles, TiffSource::stored_tile against what libtiff decodes,
// plan_stored_tile, and render_image answering with stored bytes.

#include <gtest/gtest.h>

#include <exception>
#include <filesystem>
#include <string>
#include <thread>

#include "common/error.hpp"
#include "encode/encoder.hpp"
#include "encode/jpeg.hpp"
#include "image/jpeg_tile.hpp"
#include "image/tiff_source.hpp"
#include "render/executor.hpp"
#include "render/planner.hpp"
#include "support/decode_image.hpp"
#include "support/test_images.hpp"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using testing::make_pattern;
using testing::make_pyramid;
using testing::write_pnm;

bool identical(const Raster& a, const Raster& b) {
  return a.width() == b.width() && a.height() == b.height() && a.bands() == b.bands() &&
         a.size_bytes() == b.size_bytes() &&
         std::equal(a.data(), a.data() + a.size_bytes(), b.data());
}

// Decodes in a thread of its own: a JPEG decoder keeps the tables of the
// streams it read before, which would hide tables missing from this one.
Raster decode_fresh(const std::string& bytes) {
  Raster out;
  std::exception_ptr error;
  std::thread([&] {
    try {
      out = testing::decode_image(bytes);
    } catch (...) {
      error = std::current_exception();
    }
  }).join();
  if (error) std::rethrow_exception(error);
  return out;
}

// Equal pixels but for the last row and column, which may differ a little:
// where a frame is cut, the decoder's chroma upsampling sees the edge (and
// copies the last chroma sample) instead of the stored padding beyond it.
bool identical_but_cut_edge(const Raster& cut, const Raster& whole) {
  if (cut.width() != whole.width() || cut.height() != whole.height() ||
      cut.bands() != whole.bands() || cut.empty()) {
    return false;
  }
  const std::size_t inner = std::size_t(cut.width() - 1) * cut.bands();
  for (uint32_t y = 0; y + 1 < cut.height(); ++y) {
    if (!std::equal(cut.row(y), cut.row(y) + inner, whole.row(y))) return false;
  }
  return testing::mean_abs_diff(cut, whole) < 1.0;
}

// --- complete_jpeg_tile on streams made here ---------------------------------

constexpr JpegColour kGrey = JpegColour::Grey, kYcc = JpegColour::YCbCr, kRgb = JpegColour::Rgb;

JpegColour colour_of(int bands) { return bands == 1 ? kGrey : kYcc; }

// A complete JPEG cut the way a TIFF stores it: its DQT and DHT segments as a
// tables stream (SOI ... EOI), the rest as the abbreviated tile.
struct SplitJpeg {
  std::string tables, tile;
};

SplitJpeg split_tables(const std::string& jpeg) {
  SplitJpeg out;
  out.tables = "\xff\xd8";
  out.tile = "\xff\xd8";
  std::size_t pos = 2;
  while (pos + 4 <= jpeg.size()) {
    const uint8_t marker = uint8_t(jpeg[pos + 1]);
    if (marker == 0xDA) break;  // the scan and all after it stay in the tile
    const std::size_t length = (uint8_t(jpeg[pos + 2]) << 8) | uint8_t(jpeg[pos + 3]);
    const std::string segment = jpeg.substr(pos, 2 + length);
    (marker == 0xDB || marker == 0xC4 ? out.tables : out.tile) += segment;
    pos += 2 + length;
  }
  out.tables += "\xff\xd9";
  out.tile += jpeg.substr(pos);
  return out;
}

// Where the frame header's parameters start in a JPEG (after FFC0 and length).
std::size_t frame_params(const std::string& jpeg) {
  std::size_t pos = 2;
  while (uint8_t(jpeg.at(pos + 1)) != 0xC0) {
    pos += 2 + ((uint8_t(jpeg.at(pos + 2)) << 8) | uint8_t(jpeg.at(pos + 3)));
  }
  return pos + 4;
}

TEST(JpegTile, SplicedTablesDecodeLikeTheWholeStream) {
  for (int bands : {1, 3}) {
    const std::string whole = encode_jpeg(make_pattern(64, 48, bands), {.quality = 80});
    const SplitJpeg split = split_tables(whole);
    ASSERT_EQ(split.tile.find("\xff\xdb"), std::string::npos) << "the tile kept its tables";
    EXPECT_ANY_THROW(decode_fresh(split.tile)) << "an abbreviated stream should not decode";

    const auto spliced = complete_jpeg_tile(split.tables, split.tile, 64, 48, colour_of(bands));
    ASSERT_TRUE(spliced) << bands;
    EXPECT_TRUE(identical(decode_fresh(*spliced), decode_jpeg(whole))) << bands;
    // No tables to splice: the stream is left as it is.
    EXPECT_EQ(complete_jpeg_tile("", whole, 64, 48, colour_of(bands)), whole);
    // The wrong component count is refused.
    EXPECT_FALSE(complete_jpeg_tile(split.tables, split.tile, 64, 48, bands == 1 ? kYcc : kGrey));
  }
}

TEST(JpegTile, EdgeTilesAreCutByTheirFrameHeaderWhereThatIsSafe) {
  // 4:2:0: MCUs of 16x16. The stream is 64x48, as a padded edge tile.
  const Raster pixels = make_pattern(64, 48, 3);
  const std::string whole = encode_jpeg(pixels, {.quality = 90});
  const Raster decoded = decode_jpeg(whole);
  const SplitJpeg split = split_tables(whole);
  // Shorter, even by whole MCU rows: the rows that remain decode the same.
  for (uint32_t height : {48u, 40u, 33u, 17u, 5u}) {
    const auto cut = complete_jpeg_tile(split.tables, split.tile, 64, height, kYcc);
    ASSERT_TRUE(cut) << height;
    const Raster got = decode_jpeg(*cut);
    ASSERT_EQ(got.height(), height);
    EXPECT_TRUE(identical_but_cut_edge(got, decoded.crop(0, 0, 64, height))) << height;
  }
  // Narrower within the last MCU column: the same MCUs per row.
  for (uint32_t width : {63u, 49u}) {
    const auto cut = complete_jpeg_tile(split.tables, split.tile, width, 48, kYcc);
    ASSERT_TRUE(cut) << width;
    EXPECT_TRUE(identical_but_cut_edge(decode_jpeg(*cut), decoded.crop(0, 0, width, 48))) << width;
  }
  // Narrower by a whole MCU column or more would misplace every row's blocks.
  for (uint32_t width : {48u, 40u, 1u}) {
    EXPECT_FALSE(complete_jpeg_tile(split.tables, split.tile, width, 48, kYcc)) << width;
  }
  // Never larger than stored, never empty.
  EXPECT_FALSE(complete_jpeg_tile(split.tables, split.tile, 65, 48, kYcc));
  EXPECT_FALSE(complete_jpeg_tile(split.tables, split.tile, 64, 49, kYcc));
  EXPECT_FALSE(complete_jpeg_tile(split.tables, split.tile, 64, 0, kYcc));

  // Greyscale scans are not interleaved: blocks of 8.
  const std::string grey = encode_jpeg(make_pattern(64, 48, 1), {.quality = 90});
  EXPECT_TRUE(complete_jpeg_tile("", grey, 57, 48, kGrey));
  EXPECT_FALSE(complete_jpeg_tile("", grey, 56, 48, kGrey));
}

TEST(JpegTile, StreamsDecodersMightReadDifferentlyAreRefused) {
  const std::string whole = encode_jpeg(make_pattern(32, 32, 3), {.quality = 90});
  const SplitJpeg split = split_tables(whole);
  ASSERT_TRUE(complete_jpeg_tile(split.tables, split.tile, 32, 32, kYcc));
  const std::size_t sof = frame_params(split.tile);

  std::string progressive = split.tile;
  progressive[sof - 3] = char(0xC2);
  EXPECT_FALSE(complete_jpeg_tile(split.tables, progressive, 32, 32, kYcc));
  std::string arithmetic = split.tile;
  arithmetic[sof - 3] = char(0xC9);
  EXPECT_FALSE(complete_jpeg_tile(split.tables, arithmetic, 32, 32, kYcc));
  std::string twelve_bit = split.tile;
  twelve_bit[sof] = 12;
  EXPECT_FALSE(complete_jpeg_tile(split.tables, twelve_bit, 32, 32, kYcc));
  // libtiff numbers RGB components 'R', 'G', 'B'; YCbCr ones 1, 2, 3.
  std::string rgb_ids = split.tile;
  rgb_ids[sof + 6] = 'R', rgb_ids[sof + 9] = 'G', rgb_ids[sof + 12] = 'B';
  EXPECT_FALSE(complete_jpeg_tile(split.tables, rgb_ids, 32, 32, kYcc));
  // RGB tiles get an Adobe segment, and must not be subsampled (libtiff
  // hands them over without upsampling) nor have a JFIF segment (which says
  // YCbCr). Sampling factors set to 1x1 here for the layout check only.
  EXPECT_FALSE(complete_jpeg_tile(split.tables, split.tile, 32, 32, kRgb));
  std::string rgb = split.tile;
  rgb[sof + 7] = 0x11;
  ASSERT_NE(rgb.find("JFIF"), std::string::npos);
  EXPECT_FALSE(complete_jpeg_tile(split.tables, rgb, 32, 32, kRgb));
  rgb.erase(2, 2 + ((uint8_t(rgb[4]) << 8) | uint8_t(rgb[5])));  // the APP0 segment
  ASSERT_EQ(rgb.find("JFIF"), std::string::npos);
  const auto marked = complete_jpeg_tile(split.tables, rgb, 32, 32, kRgb);
  ASSERT_TRUE(marked);
  EXPECT_EQ(marked->substr(0, 18), std::string("\xff\xd8\xff\xee\x00\x0e"
                                               "Adobe\x00\x64\x00\x00\x00\x00\x00",
                                               18));
  // An Adobe segment says how to read the colours, and libtiff ignores it.
  std::string adobe = split.tile;
  adobe.insert(2, std::string("\xff\xee\x00\x0e"
                              "Adobe\x00\x64\x00\x00\x00\x00\x00",
                              16));
  EXPECT_FALSE(complete_jpeg_tile(split.tables, adobe, 32, 32, kYcc));
  // Tables holding a frame or a scan are not tables.
  std::string bad_tables = split.tables;
  bad_tables.insert(2, split.tile.substr(sof - 4, 4 + 6 + 9));
  EXPECT_FALSE(complete_jpeg_tile(bad_tables, split.tile, 32, 32, kYcc));
  // Comments and application segments in the tables are left out.
  std::string commented = split.tables;
  commented.insert(2, std::string("\xff\xfe\x00\x05hi!", 7));
  const auto spliced = complete_jpeg_tile(commented, split.tile, 32, 32, kYcc);
  ASSERT_TRUE(spliced);
  EXPECT_EQ(spliced->find("hi!"), std::string::npos);
  EXPECT_TRUE(identical(decode_fresh(*spliced), decode_jpeg(whole)));
}

TEST(JpegTile, TruncatedOrGarbledStreamsNeverReadOutOfBounds) {
  const std::string whole = encode_jpeg(make_pattern(32, 32, 3), {.quality = 90});
  const SplitJpeg split = split_tables(whole);
  const std::size_t scan = split.tile.find("\xff\xda");
  ASSERT_NE(scan, std::string::npos);
  // Cut anywhere before the scan's header ends, tile or tables: refused.
  for (std::size_t n = 0; n < scan + 4; ++n) {
    EXPECT_FALSE(complete_jpeg_tile(split.tables, split.tile.substr(0, n), 32, 32, kYcc)) << n;
  }
  // (No tables at all is a stream that brings its own.)
  for (std::size_t n = 1; n + 1 < split.tables.size(); ++n) {
    EXPECT_FALSE(complete_jpeg_tile(split.tables.substr(0, n), split.tile, 32, 32, kYcc)) << n;
  }
  // Every byte of the headers set to 0xFF or to 0: no crash, whatever comes of it.
  for (std::size_t i = 0; i < scan + 4; ++i) {
    for (char value : {char(0xFF), char(0)}) {
      std::string garbled = split.tile;
      garbled[i] = value;
      (void)complete_jpeg_tile(split.tables, garbled, 32, 32, kYcc);
    }
  }
}

// --- TiffSource::stored_tile on files vips and libtiff wrote ------------------

class StoredTileTest : public ::testing::Test {
 protected:
  // 506x356 with 256 px tiles: the right column of tiles is 250 wide (within
  // the last 16 px MCU of the stored 256), the bottom row 100 high.
  static constexpr uint32_t kWidth = 506, kHeight = 356;

  static void SetUpTestSuite() {
    dir_ = new fs::path(testing::make_temp_dir("tessera-passthrough"));
    for (int bands : {1, 3}) {
      write_pnm(src(bands), make_pattern(kWidth, kHeight, bands));
    }
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static fs::path src(int bands) { return *dir_ / ("src" + std::to_string(bands) + ".pnm"); }
  static fs::path file(const std::string& name) { return *dir_ / name; }

  // Every tile of every level that passes through decodes, with the decoder
  // libtiff uses, to the pixels tile() gives: exactly, but for the cut edge
  // of a cut frame. Returns how many passed.
  static int check_every_tile(TiffSource& source, Format format) {
    int passed = 0;
    for (int l = 0; l < int(source.info().levels.size()); ++l) {
      const LevelInfo& level = source.info().levels[l];
      for (uint32_t ty = 0; ty < level.tiles_down(); ++ty) {
        for (uint32_t tx = 0; tx < level.tiles_across(); ++tx) {
          const auto stored = source.stored_tile(l, tx, ty);
          if (!stored) continue;
          ++passed;
          EXPECT_EQ(stored->format, format);
          EXPECT_EQ(testing::sniff_format(stored->bytes), format);
          const Raster want = source.tile(l, tx, ty);
          const Raster got = decode_fresh(stored->bytes);
          const bool whole = want.width() == level.tile_width && want.height() == level.tile_height;
          EXPECT_TRUE(whole ? identical(got, want) : identical_but_cut_edge(got, want))
              << "level " << l << " tile " << tx << "," << ty;
        }
      }
    }
    return passed;
  }

  static fs::path* dir_;
};
fs::path* StoredTileTest::dir_ = nullptr;

TEST_F(StoredTileTest, VipsJpegTilesPassThroughAsTheyDecode) {
  make_pyramid(src(3), file("jpeg.tif"), 256, {"--compression", "jpeg", "--Q", "85"});
  TiffSource source(file("jpeg.tif"));
  // Level 0 (506x356): 2x2 tiles, all four pass (the right column narrows
  // within its last MCU). Level 1 (253x178): one tile, which passes too.
  ASSERT_EQ(source.info().levels.size(), 2u);
  EXPECT_EQ(check_every_tile(source, Format::Jpeg), 5);
  const auto corner = source.stored_tile(0, 1, 1);
  ASSERT_TRUE(corner);
  const Raster pixels = testing::decode_image(corner->bytes);
  EXPECT_EQ(pixels.width(), 250u);
  EXPECT_EQ(pixels.height(), 100u);
  EXPECT_THROW(source.stored_tile(0, 2, 0), Error);
  EXPECT_THROW(source.stored_tile(2, 0, 0), Error);

  // 600x420: the right column (600 - 512 = 88 wide) is narrower than its
  // frame by more than an MCU and is decoded instead.
  write_pnm(file("wide.ppm"), make_pattern(600, 420, 3));
  make_pyramid(file("wide.ppm"), file("wide.tif"), 256, {"--compression", "jpeg"});
  TiffSource wide(file("wide.tif"));
  EXPECT_TRUE(wide.stored_tile(0, 1, 0));
  EXPECT_FALSE(wide.stored_tile(0, 2, 0));
  EXPECT_TRUE(wide.stored_tile(0, 1, 1));  // bottom row: 420 - 256 = 164 high
  EXPECT_FALSE(wide.stored_tile(0, 2, 1));
  EXPECT_EQ(wide.tile(0, 2, 1).width(), 88u);
}

TEST_F(StoredTileTest, GreyAndRgbJpegsPassToo) {
  make_pyramid(src(1), file("grey.tif"), 256, {"--compression", "jpeg"});
  TiffSource grey(file("grey.tif"));
  EXPECT_EQ(check_every_tile(grey, Format::Jpeg), 5);

  // From Q 90 vips writes RGB JPEG tiles, not subsampled; so does tiffcp's
  // "jpeg:r". They pass with an Adobe segment saying RGB.
  make_pyramid(src(3), file("q95.tif"), 256, {"--compression", "jpeg", "--Q", "95"});
  TiffSource q95(file("q95.tif"));
  EXPECT_EQ(check_every_tile(q95, Format::Jpeg), 5);
  make_pyramid(src(3), file("plain.tif"), 256, {"--compression", "none"});
  testing::run_command(
      {"tiffcp", "-c", "jpeg:r", file("plain.tif").string(), file("rgbjpeg.tif").string()});
  TiffSource rgb(file("rgbjpeg.tif"));
  EXPECT_EQ(check_every_tile(rgb, Format::Jpeg), 5);
  const auto stored = rgb.stored_tile(0, 0, 0);
  ASSERT_TRUE(stored);
  EXPECT_NE(stored->bytes.find("Adobe"), std::string::npos);
  EXPECT_LT(testing::mean_abs_diff(testing::decode_image(stored->bytes),
                                   make_pattern(kWidth, kHeight, 3).crop(0, 0, 256, 256)),
            3.0);

  // Uncompressed tiles have no stored form to send.
  TiffSource plain(file("plain.tif"));
  EXPECT_FALSE(plain.stored_tile(0, 0, 0));
}

TEST_F(StoredTileTest, WebpTilesPassThroughWhenWhole) {
  make_pyramid(src(3), file("webp.tif"), 256, {"--compression", "webp", "--Q", "80"});
  TiffSource source(file("webp.tif"));
  // Only level 0's top-left tile is whole; WebP frames cannot be cut.
  EXPECT_EQ(check_every_tile(source, Format::Webp), 1);
  EXPECT_TRUE(source.stored_tile(0, 0, 0));
  EXPECT_FALSE(source.stored_tile(0, 1, 0));
}

// --- plan_stored_tile and render_image -----------------------------------------

ImageInfo pyramid() {
  ImageInfo info;
  info.width = 1000;
  info.height = 700;
  info.bands = 3;
  for (uint32_t w = 1000, h = 700; w >= 250; w /= 2, h /= 2) {
    info.levels.push_back(LevelInfo{w, h, 256, 256, level_scale(1000, 700, w, h)});
  }
  return info;
}

Query iiif_tile(double x, double y, double w, double h, int out_w) {
  Query q;
  q.region = {RegionSpec::Kind::Pixels, x, y, w, h};
  q.size = {SizeSpec::Kind::Width, out_w};
  return q;
}

TEST(PlanStoredTile, WholeStoredTilesOnly) {
  const ImageInfo info = pyramid();
  auto stored = [&](const Query& q) { return plan_stored_tile(plan_image(q, info, {}), info); };
  EXPECT_EQ(stored(iiif_tile(256, 512, 256, 256, 256)), (TileIndex{0, 1, 2}));
  EXPECT_EQ(stored(iiif_tile(768, 512, 232, 188, 232)), (TileIndex{0, 3, 2}));  // edge
  EXPECT_EQ(stored(iiif_tile(512, 0, 488, 512, 244)), (TileIndex{1, 1, 0}));
  Query whole;  // the smallest level, 250x175, is one tile
  whole.size = {SizeSpec::Kind::Width, 250};
  EXPECT_EQ(stored(whole), (TileIndex{2, 0, 0}));

  EXPECT_FALSE(stored(iiif_tile(256, 512, 256, 256, 128)));  // scaled
  EXPECT_FALSE(stored(iiif_tile(0, 0, 512, 512, 300)));      // scaled from level 1
  EXPECT_FALSE(stored(iiif_tile(128, 0, 256, 256, 256)));    // two tiles
  EXPECT_FALSE(stored(iiif_tile(0, 0, 200, 200, 200)));      // part of a tile
  Query q = iiif_tile(0, 0, 256, 256, 256);
  q.rotation.degrees = 90;
  EXPECT_FALSE(stored(q));
  q.rotation = {360, false};
  EXPECT_TRUE(stored(q));
  q.rotation = {0, true};
  EXPECT_FALSE(stored(q));
  q.rotation = {};
  q.quality = Quality::Gray;
  EXPECT_FALSE(stored(q));
  q.quality = Quality::Color;
  EXPECT_TRUE(stored(q));
}

TEST_F(StoredTileTest, RenderImageAnswersWithStoredBytesWhenAllowed) {
  make_pyramid(src(3), file("render.tif"), 256, {"--compression", "jpeg", "--Q", "85"});
  TiffSource source(file("render.tif"));
  const Query q = iiif_tile(256, 0, 250, 256, 250);
  const Plan plan = plan_image(q, source.info(), {});
  const auto stored = source.stored_tile(0, 1, 0);
  ASSERT_TRUE(stored);

  RenderOptions options;
  options.passthrough = true;
  EXPECT_EQ(render_image(source, plan, options), stored->bytes);
  // Off, or with a profile to embed: decoded and encoded again.
  RenderOptions off;
  const std::string encoded = render_image(source, plan, off);
  EXPECT_NE(encoded, stored->bytes);
  EXPECT_LT(
      testing::mean_abs_diff(testing::decode_image(encoded), testing::decode_image(stored->bytes)),
      3.0);
  RenderOptions icc = options;
  icc.encode.icc = "not really a profile";
  EXPECT_NE(render_image(source, plan, icc), stored->bytes);
  // Another format than the stored one.
  Query png = q;
  png.format = Format::Png;
  EXPECT_EQ(
      testing::sniff_format(render_image(source, plan_image(png, source.info(), {}), options)),
      Format::Png);
}

}  // namespace
}  // namespace tessera
