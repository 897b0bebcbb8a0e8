// `tessera convert`: the pyramids it writes are what Tessera serves, hold the
// source's pixels, and a bad input or output says so in one line and leaves
// nothing behind.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <tiffio.h>  // the compression tags

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "image/image_source.hpp"
#include "support/decode_image.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/test_images.hpp"
#include "support/tiff_directories.hpp"

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;

int line_count(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// The names in a folder, so that a test sees a temporary file left behind.
std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// A 16-bit grey ramp with detail, as a PGM (maxval 65535, big-endian).
std::vector<uint16_t> write_grey16(const fs::path& path, uint32_t w, uint32_t h) {
  std::vector<uint16_t> values(std::size_t(w) * h);
  std::ofstream out(path, std::ios::binary);
  out << "P5\n" << w << " " << h << "\n65535\n";
  for (uint32_t y = 0; y < h; ++y) {
    for (uint32_t x = 0; x < w; ++x) {
      const uint16_t v = uint16_t((x * 97 + y * 131 + (x * y) % 251) % 65536);
      values[std::size_t(y) * w + x] = v;
      const char bytes[2] = {char(v >> 8), char(v & 0xff)};
      out.write(bytes, 2);
    }
  }
  return values;
}

class Convert : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("tessera-convert"); }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `tessera convert` and expects it to succeed.
  std::string convert(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"convert"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out;
    EXPECT_EQ(run_tessera(argv, out), 0) << out;
    return out;
  }

  // Runs `tessera convert` and expects one line of refusal, no output file
  // and no temporary file left in the folder.
  std::string refused(const std::vector<std::string>& args, const fs::path& output) {
    const auto before = names_in(dir_);
    std::vector<std::string> argv{"convert"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out;
    EXPECT_NE(run_tessera(argv, out), 0) << out;
    EXPECT_EQ(line_count(out), 1) << out;
    EXPECT_EQ(out.rfind("tessera: ", 0), 0u) << out;
    EXPECT_FALSE(fs::exists(output)) << out;
    EXPECT_EQ(names_in(dir_), before) << out;
    return out;
  }

  fs::path dir_;
};

TEST_F(Convert, MakesAJpegPyramidTesseraServes) {
  const Raster source = make_pattern(1500, 1100, 3);
  write_pnm(dir_ / "scan.ppm", source);
  const std::string out = convert({(dir_ / "scan.ppm").string(), (dir_ / "scan.tif").string()});
  EXPECT_EQ(line_count(out), 1) << out;
  EXPECT_NE(out.find("1500x1100"), std::string::npos) << out;
  EXPECT_NE(out.find("JPEG"), std::string::npos) << out;

  // Levels halve (rounding down, as vips does) until one tile holds the
  // image; every level is tiled 256.
  const auto dirs = tiff_directories(dir_ / "scan.tif");
  ASSERT_GE(dirs.size(), 4u);
  uint32_t w = 1500, h = 1100;
  for (const TiffDirectory& d : dirs) {
    EXPECT_EQ(d.width, w);
    EXPECT_EQ(d.height, h);
    EXPECT_EQ(d.tile_width, 256u);
    EXPECT_EQ(d.tile_height, 256u);
    EXPECT_EQ(d.compression, COMPRESSION_JPEG);
    w /= 2;
    h /= 2;
  }
  EXPECT_LE(std::max(dirs.back().width, dirs.back().height), 256u);
  EXPECT_EQ(names_in(dir_), (std::vector<std::string>{"scan.ppm", "scan.tif"}));

  // Readable by a server running as another user, as any new file is.
  struct stat st {};
  ASSERT_EQ(stat((dir_ / "scan.tif").c_str(), &st), 0);
  const mode_t mask = umask(0);
  umask(mask);
  EXPECT_EQ(st.st_mode & 0777, 0666 & ~mask);

  // The pixels are the source's: the full level, and the next one as the
  // source reduced by two.
  const auto image = open_image(dir_ / "scan.tif");
  EXPECT_EQ(image->info().levels.size(), dirs.size());
  EXPECT_LT(mean_abs_diff(image->tile(0, 2, 1), source.crop(512, 256, 256, 256)), 2.5);
  const Raster half = box_reduce(source, 2);
  EXPECT_LT(mean_abs_diff(image->tile(1, 1, 0), half.crop(256, 0, 256, 256)), 2.5);

  // And a server started on the folder serves it.
  ServerProcess server(dir_);
  const auto info = http_get(server.port(), "/iiif/3/scan.tif/info.json");
  EXPECT_EQ(info.status, 200);
  EXPECT_NE(info.body.find("\"width\": 1500"), std::string::npos) << info.body;
  const auto tile = http_get(server.port(), "/iiif/3/scan.tif/512,256,256,256/256,/0/default.jpg");
  ASSERT_EQ(tile.status, 200);
  EXPECT_LT(mean_abs_diff(decode_image(tile.body), source.crop(512, 256, 256, 256)), 3.5);
}

TEST_F(Convert, SixteenBitIsKeptLosslessly) {
  const auto values = write_grey16(dir_ / "depth.pgm", 700, 500);
  const std::string why = refused(
      {(dir_ / "depth.pgm").string(), (dir_ / "depth.tif").string(), "--compression", "webp"},
      dir_ / "depth.tif");
  EXPECT_NE(why.find("WebP tiles hold 8-bit RGB or RGBA only, and the image has 1 band(s) of "
                     "16-bit samples"),
            std::string::npos)
      << why;
  const std::string out = convert({(dir_ / "depth.pgm").string(), (dir_ / "depth.tif").string()});
  EXPECT_NE(out.find("deflate"), std::string::npos) << out;
  const auto dirs = tiff_directories(dir_ / "depth.tif");
  ASSERT_FALSE(dirs.empty());
  EXPECT_EQ(dirs[0].compression, COMPRESSION_ADOBE_DEFLATE);
  EXPECT_EQ(dirs[0].predictor, PREDICTOR_HORIZONTAL);
  EXPECT_EQ(dirs[0].bits, 16);
  EXPECT_EQ(dirs[0].bands, 1);

  const auto image = open_image(dir_ / "depth.tif");
  const Raster tile = image->tile(0, 1, 1);  // x 256..511, y 256..499
  ASSERT_EQ(tile.sample_type(), SampleType::U16);
  ASSERT_EQ(tile.height(), 244u);
  int wrong = 0;
  for (uint32_t y = 0; y < tile.height(); ++y) {
    const auto* row = reinterpret_cast<const uint16_t*>(tile.row(y));
    for (uint32_t x = 0; x < tile.width(); ++x) {
      wrong += row[x] != values[std::size_t(256 + y) * 700 + 256 + x];
    }
  }
  EXPECT_EQ(wrong, 0);
}

TEST_F(Convert, EachCompressionAndTileSize) {
  const Raster source = make_pattern(600, 400, 3);
  write_pnm(dir_ / "p.ppm", source);
  struct Case {
    std::string name;
    uint16_t tag;
    bool lossless;
  };
  for (const Case& c :
       {Case{"deflate", COMPRESSION_ADOBE_DEFLATE, true}, Case{"lzw", COMPRESSION_LZW, true},
        Case{"zstd", COMPRESSION_ZSTD, true}, Case{"none", COMPRESSION_NONE, true},
        Case{"webp", COMPRESSION_WEBP, false}, Case{"jpeg", COMPRESSION_JPEG, false}}) {
    SCOPED_TRACE(c.name);
    const fs::path output = dir_ / (c.name + ".tif");
    convert({(dir_ / "p.ppm").string(), output.string(), "--compression", c.name, "--tile", "512"});
    const auto dirs = tiff_directories(output);
    ASSERT_EQ(dirs.size(), 2u);  // 600x400, then 300x200 in one tile
    EXPECT_EQ(dirs[0].compression, c.tag);
    EXPECT_EQ(dirs[0].tile_width, 512u);
    const auto image = open_image(output);
    const double diff = mean_abs_diff(image->tile(0, 0, 0), source.crop(0, 0, 512, 400));
    if (c.lossless) {
      EXPECT_EQ(diff, 0.0);
    } else {
      EXPECT_LT(diff, 3.0);
    }
  }
}

TEST_F(Convert, LowerQualityMakesSmallerTiles) {
  write_pnm(dir_ / "p.ppm", make_pattern(800, 600, 3));
  convert({(dir_ / "p.ppm").string(), (dir_ / "q95.tif").string(), "--quality", "95"});
  convert({(dir_ / "p.ppm").string(), (dir_ / "q40.tif").string(), "--quality", "40"});
  EXPECT_LT(fs::file_size(dir_ / "q40.tif") * 3 / 2, fs::file_size(dir_ / "q95.tif"));
}

TEST_F(Convert, AlphaGoesLosslessAndJpegIsRefused) {
  const Raster source = make_pattern(300, 200, 4);
  write_pnm(dir_ / "a.pam", source);
  const std::string why =
      refused({(dir_ / "a.pam").string(), (dir_ / "a.tif").string(), "--compression", "jpeg"},
              dir_ / "a.tif");
  EXPECT_NE(why.find("JPEG tiles hold 8-bit grey or RGB only"), std::string::npos) << why;

  convert({(dir_ / "a.pam").string(), (dir_ / "a.tif").string()});
  const auto dirs = tiff_directories(dir_ / "a.tif");
  ASSERT_FALSE(dirs.empty());
  EXPECT_EQ(dirs[0].compression, COMPRESSION_ADOBE_DEFLATE);
  EXPECT_EQ(dirs[0].bands, 4);
  const auto image = open_image(dir_ / "a.tif");
  EXPECT_TRUE(image->info().has_alpha);
  EXPECT_EQ(mean_abs_diff(image->tile(0, 0, 0), source.crop(0, 0, 256, 200)), 0.0);
}

TEST_F(Convert, OrientationIsApplied) {
  // A 300x200 TIFF whose Orientation tag (6) says: turn right to view.
  const Raster source = make_pattern(300, 200, 3);
  write_pnm(dir_ / "r.ppm", source);
  run_command({"vips", "copy", (dir_ / "r.ppm").string(), (dir_ / "r.tif").string()});
  run_command({"tiffset", "-s", "274", "6", (dir_ / "r.tif").string()});
  convert({(dir_ / "r.tif").string(), (dir_ / "up.tif").string(), "--compression", "deflate"});

  const auto image = open_image(dir_ / "up.tif");
  ASSERT_EQ(image->info().width, 200u);
  ASSERT_EQ(image->info().height, 300u);
  // Turned right: the viewed pixel (x, y) is the stored (y, 199 - x).
  const Raster tile = image->tile(0, 0, 0);
  int wrong = 0;
  for (uint32_t y = 0; y < 256; y += 17) {
    for (uint32_t x = 0; x < 200; x += 13) {
      for (int b = 0; b < 3; ++b) {
        wrong += tile.row(y)[x * 3 + b] != source.row(199 - x)[y * 3 + b];
      }
    }
  }
  EXPECT_EQ(wrong, 0);
}

TEST_F(Convert, CmykBecomesRgb) {
  const Raster source = make_pattern(300, 200, 3);
  write_pnm(dir_ / "c.ppm", source);
  run_command(
      {"vips", "colourspace", (dir_ / "c.ppm").string(), (dir_ / "cmyk.tif").string(), "cmyk"});
  ASSERT_EQ(tiff_directories(dir_ / "cmyk.tif").at(0).bands, 4);
  convert({(dir_ / "cmyk.tif").string(), (dir_ / "rgb.tif").string(), "--compression", "deflate"});
  const auto dirs = tiff_directories(dir_ / "rgb.tif");
  ASSERT_FALSE(dirs.empty());
  EXPECT_EQ(dirs[0].bands, 3);
  // The colours libvips' own colour management makes of the CMYK (through
  // its embedded profile), not the CMYK samples read as something else.
  run_command(
      {"vips", "colourspace", (dir_ / "cmyk.tif").string(), (dir_ / "ref.tif").string(), "srgb"});
  const Raster tile = open_image(dir_ / "rgb.tif")->tile(0, 0, 0);
  EXPECT_EQ(mean_abs_diff(tile, open_image(dir_ / "ref.tif")->tile(0, 0, 0)), 0.0);
  // Round trip through CMYK: close to the source (the pattern's most
  // saturated colours lie outside the CMYK gamut).
  EXPECT_LT(mean_abs_diff(tile, source.crop(0, 0, 256, 200)), 20.0);
}

TEST_F(Convert, KeepsTheIccProfile) {
  write_pnm(dir_ / "p.ppm", make_pattern(300, 200, 3));
  run_command({"vips", "icc_transform", (dir_ / "p.ppm").string(), (dir_ / "icc.tif").string(),
               "srgb", "--input-profile", "srgb"});
  const std::string profile = open_image(dir_ / "icc.tif")->info().icc;
  ASSERT_GT(profile.size(), 128u);
  convert({(dir_ / "icc.tif").string(), (dir_ / "out.tif").string()});
  EXPECT_EQ(open_image(dir_ / "out.tif")->info().icc, profile);
}

TEST_F(Convert, ShowsProgressOnATerminal) {
  write_pnm(dir_ / "big.ppm", make_pattern(2000, 1500, 3));
  // script(1) gives the command a terminal; without one (every other test
  // here) the summary is the only line.
  const std::string command = std::string("script -qec '") + TESSERA_BINARY + " convert " +
                              (dir_ / "big.ppm").string() + " " + (dir_ / "big.tif").string() +
                              "' /dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  while (const std::size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  ASSERT_EQ(pclose(pipe), 0) << out;
  EXPECT_NE(out.find("%\rbig.ppm: "), std::string::npos) << out;  // more than one step
  EXPECT_NE(out.find("\rbig.ppm: 100%"), std::string::npos) << out;
  EXPECT_NE(out.find("big.tif: 2000x1500"), std::string::npos) << out;
}

TEST_F(Convert, BadInputSaysWhyInOneLine) {
  write_pnm(dir_ / "ok.ppm", make_pattern(300, 200, 3));
  const fs::path out = dir_ / "out.tif";

  EXPECT_NE(refused({(dir_ / "missing.tif").string(), out.string()}, out).find("no such file"),
            std::string::npos);
  {
    std::ofstream junk(dir_ / "junk.tif", std::ios::binary);
    for (int i = 0; i < 5000; ++i) junk.put(char((i * 7919) % 251));
  }
  refused({(dir_ / "junk.tif").string(), out.string()}, out);

  // A JPEG cut in half: the damage stops the conversion.
  run_command({"vips", "copy", (dir_ / "ok.ppm").string(), (dir_ / "whole.jpg").string()});
  {
    std::ifstream in(dir_ / "whole.jpg", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream cut(dir_ / "cut.jpg", std::ios::binary);
    cut.write(bytes.data(), std::streamsize(bytes.size() / 2));
  }
  refused({(dir_ / "cut.jpg").string(), out.string()}, out);

  EXPECT_NE(refused({(dir_ / "ok.ppm").string(), (dir_ / "no" / "out.tif").string()},
                    dir_ / "no" / "out.tif")
                .find("no such folder"),
            std::string::npos);
  EXPECT_NE(refused({(dir_ / "ok.ppm").string(), (dir_ / "ok.ppm").string()}, dir_ / "none")
                .find("replace the input"),
            std::string::npos);
  fs::create_directory(dir_ / "folder.tif");
  refused({(dir_ / "ok.ppm").string(), (dir_ / "folder.tif").string()}, dir_ / "none");
  fs::remove(dir_ / "folder.tif");

  for (const std::vector<std::string>& flags : {std::vector<std::string>{"--tile", "100"},
                                                {"--tile", "8"},
                                                {"--quality", "0"},
                                                {"--compression", "gif"}}) {
    std::vector<std::string> args{(dir_ / "ok.ppm").string(), out.string()};
    args.insert(args.end(), flags.begin(), flags.end());
    refused(args, out);
  }
}

TEST_F(Convert, ReplacesAnEarlierOutput) {
  write_pnm(dir_ / "a.ppm", make_pattern(300, 200, 3));
  write_pnm(dir_ / "b.ppm", make_pattern(500, 300, 3));
  convert({(dir_ / "a.ppm").string(), (dir_ / "out.tif").string()});
  convert({(dir_ / "b.ppm").string(), (dir_ / "out.tif").string()});
  EXPECT_EQ(open_image(dir_ / "out.tif")->info().width, 500u);
  EXPECT_EQ(names_in(dir_), (std::vector<std::string>{"a.ppm", "b.ppm", "out.tif"}));
}

}  // namespace
}  // namespace tessera::testing
