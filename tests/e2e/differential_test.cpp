// Tessera against the server it replaces. Debian's iipimage-server 1.1 runs
// as it is deployed: one iipsrv.fcgi under spawn-fcgi on a unix socket,
// behind nginx (the server block of docs/deploy.md), with FILESYSTEM_PREFIX
// naming the test images' folder. Tessera serves the same folder over its
// own HTTP front, where /fcgi-bin/iipsrv.fcgi speaks IIP. The same IIP,
// DeepZoom and Zoomify requests go to both: the statuses, the types, the
// sizes of the images and their pixels (PSNR >= 35 dB) and the OBJ replies
// line by line must agree.
//
// Where iipsrv 1.1 is wrong or lacks a feature, the test checks Tessera's
// answer against the source pixels instead and says why the two differ.
// The test does not assert iipsrv's wrong answers, only that Tessera's
// answers are right.
//
// iipsrv runs commands in the order they come (WID after CVT is too late
// for it), so every query here puts the image command last, as IIP clients
// do.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "e2e/fcgi_support.hpp"
#include "e2e/fixture.hpp"
#include "encode/jpeg.hpp"
#include "process/resample.hpp"
#include "support/decode_image.hpp"

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kIipsrv = "/usr/lib/iipimage-server/iipsrv.fcgi";
constexpr double kMinPsnr = 35.0;
constexpr const char* kScript = "/fcgi-bin/iipsrv.fcgi?";
// Both servers encode at the same quality, so that their JPEGs differ only
// by what each does to the pixels.
constexpr const char* kJpegQuality = "JPEG_QUALITY=90";

// The images both servers read, all of the same pattern. iipsrv 1.1 reads
// no JPEG 2000 codestream without its JP2 box (tiled.j2k, htj2k.j2c), so
// only pattern.jp2 is here.
const std::vector<std::string> kImages = {
    "pattern.tif",       // JPEG-compressed tiles, 256 px: served as stored
    "sub/deflate.tiff",  // deflate tiles, in a sub-folder: decoded and encoded
    "other.ptif",        // 128 px tiles, the pyramid in SubIFDs
    "pattern.jp2",       // JPEG 2000, untiled, 4 resolution levels
    "grey.tif",          // one band, JPEG-compressed tiles (made below)
    "u16.tif",           // 16 bits per sample, deflate (made below)
    "flat.tif",          // tiled, deflate, no pyramid (made below)
};

// Peak signal-to-noise ratio of two 8-bit images of the same size and bands.
double psnr(const Raster& a, const Raster& b) {
  if (a.width() != b.width() || a.height() != b.height() || a.bands() != b.bands() ||
      a.sample_type() != SampleType::U8 || b.sample_type() != SampleType::U8) {
    ADD_FAILURE() << "psnr of " << a.width() << "x" << a.height() << "x" << a.bands() << " and "
                  << b.width() << "x" << b.height() << "x" << b.bands();
    return 0;
  }
  double sum = 0;
  const std::size_t samples = std::size_t(a.width()) * std::size_t(a.bands());
  for (uint32_t y = 0; y < a.height(); ++y) {
    for (std::size_t i = 0; i < samples; ++i) {
      const double d = double(a.row(y)[i]) - double(b.row(y)[i]);
      sum += d * d;
    }
  }
  const double mse = sum / (double(samples) * a.height());
  if (mse == 0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(255.0 * 255.0 / mse);
}

// The body decoded, or an empty raster and a failure when it is no image.
Raster decode_reply(const HttpResult& reply, const std::string& what) {
  try {
    return decode_image(reply.body);
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": " << e.what();
    return {};
  }
}

// The lines of an OBJ reply. iipsrv 1.1 begins every reply with its
// protocol line, which is empty unless IIP,1.0 was asked for; Tessera
// writes no empty line. Clients read the lines by their names, so the
// blank line is left out.
std::vector<std::string> obj_lines(const std::string& body) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < body.size()) {
    std::size_t end = body.find("\r\n", start);
    if (end == std::string::npos) end = body.size();
    if (end > start) lines.push_back(body.substr(start, end - start));
    start = end + 2;
  }
  return lines;
}

struct Size {
  uint32_t width = 0, height = 0;
  bool operator==(const Size&) const = default;
};

// "Resolutions:250 175,500 350,1000 700": smallest first.
std::vector<Size> parse_resolutions(const std::string& body) {
  std::vector<Size> sizes;
  for (const std::string& line : obj_lines(body)) {
    if (!line.starts_with("Resolutions:")) continue;
    std::stringstream list(line.substr(12));
    for (std::string item; std::getline(list, item, ',');) {
      Size size;
      std::stringstream(item) >> size.width >> size.height;
      sizes.push_back(size);
    }
  }
  return sizes;
}

// A rectangle of the source pattern at 1/factor of its size, as the
// pyramid's levels are made; `factor` a power of two.
Raster truth(const Raster& pattern, uint32_t factor, uint32_t x, uint32_t y, uint32_t w,
             uint32_t h) {
  if (factor == 1) return pattern.crop(x, y, w, h);
  return box_reduce(pattern, factor).crop(x, y, w, h);
}

class Differential : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_EQ(::access(kIipsrv, X_OK), 0)
        << kIipsrv << " is missing: install iipimage-server (scripts/setup.sh does)";
    tree_ = std::make_unique<TestTree>(make_test_tree());
    grey_ = make_pattern(tree_->pattern.width(), tree_->pattern.height(), 1);
    write_pnm(tree_->dir / "grey.pgm", grey_);
    make_pyramid(tree_->dir / "grey.pgm", tree_->root / "grey.tif", 256,
                 {"--compression", "jpeg", "--Q", "95"});
    // The pattern's samples times 257: the same picture in 16 bits.
    run_command({"vips", "linear", (tree_->dir / "pattern.ppm").string(),
                 (tree_->dir / "u16f.v").string(), "257", "0"});
    run_command({"vips", "cast", (tree_->dir / "u16f.v").string(), (tree_->dir / "u16.v").string(),
                 "ushort"});
    make_pyramid(tree_->dir / "u16.v", tree_->root / "u16.tif", 256, {"--compression", "deflate"});
    // A normal map, for hillshading: the normals of a bumpy surface.
    Raster normals(1000, 700, 3);
    for (uint32_t y = 0; y < normals.height(); ++y) {
      for (uint32_t x = 0; x < normals.width(); ++x) {
        const double gx = 0.8 * std::cos(x / 40.0) * std::cos(y / 55.0);
        const double gy = -0.6 * std::sin(x / 40.0) * std::sin(y / 55.0);
        const double length = std::sqrt(gx * gx + gy * gy + 1);
        const double n[3] = {-gx / length, -gy / length, 1 / length};
        for (int b = 0; b < 3; ++b) {
          normals.row(y)[x * 3 + b] = uint8_t(std::lround((n[b] + 1) / 2 * 255));
        }
      }
    }
    write_pnm(tree_->dir / "normals.ppm", normals);
    make_pyramid(tree_->dir / "normals.ppm", tree_->root / "normals.tif", 256,
                 {"--compression", "deflate"});
    run_command({"vips", "tiffsave", (tree_->dir / "pattern.ppm").string(),
                 (tree_->root / "flat.tif").string(), "--tile", "--tile-width", "256",
                 "--tile-height", "256", "--compression", "deflate"});
    // An image sequence "seq": four views, two pictures of one layout (as
    // the views of a real sequence are), so that the view served shows.
    fs::copy_file(tree_->root / "pattern.tif", tree_->root / "seq_pyr_000_090.tif");
    fs::copy_file(tree_->root / "normals.tif", tree_->root / "seq_pyr_010_090.tif");
    fs::copy_file(tree_->root / "normals.tif", tree_->root / "seq_pyr_000_080.tif");
    fs::copy_file(tree_->root / "pattern.tif", tree_->root / "seq_pyr_010_080.tif");
    // A multispectral set: grey views at "wavelengths" 0, 10 and 20 (the
    // middle one the grey image inverted).
    run_command({"vips", "invert", (tree_->dir / "grey.pgm").string(),
                 (tree_->dir / "inverted.v").string()});
    make_pyramid(tree_->dir / "inverted.v", tree_->root / "bands_pyr_010_090.tif", 256,
                 {"--compression", "deflate"});
    make_pyramid(tree_->dir / "grey.pgm", tree_->root / "bands_pyr_000_090.tif", 256,
                 {"--compression", "deflate"});
    fs::copy_file(tree_->root / "bands_pyr_000_090.tif", tree_->root / "bands_pyr_020_090.tif");
    const fs::path socket = tree_->dir / "iipsrv.sock";
    // -n: spawn-fcgi binds the socket, puts it on fd 0 and becomes iipsrv.
    iipsrv_ = std::make_unique<Child>(
        std::vector<std::string>{find_program("spawn-fcgi"), "-n", "-s", socket.string(), "--",
                                 kIipsrv},
        std::vector<std::string>{"FILESYSTEM_PREFIX=" + tree_->root.string() + "/",
                                 "LOGFILE=" + (tree_->dir / "iipsrv.log").string(), "VERBOSITY=1",
                                 kJpegQuality},
        tree_->dir / "iipsrv.out");
    ASSERT_TRUE(wait_for([&] { return can_connect(socket); })) << iipsrv_->output();
    nginx_ = std::make_unique<Nginx>(tree_->dir / "nginx", "unix:" + socket.string());
    tessera_ = std::make_unique<ServerProcess>(tree_->root, std::vector<std::string>{},
                                               std::vector<std::string>{kJpegQuality});
  }
  static void TearDownTestSuite() {
    tessera_.reset();
    nginx_.reset();
    if (iipsrv_) iipsrv_->stop(SIGTERM);
    iipsrv_.reset();
    if (tree_) fs::remove_all(tree_->dir);
    tree_.reset();
  }

  void SetUp() override { ASSERT_TRUE(nginx_ && tessera_) << "the servers did not start"; }

  static HttpResult iipsrv(const std::string& query) {
    return http_get(nginx_->port(), kScript + query);
  }
  static HttpResult tessera(const std::string& query) {
    return http_get(tessera_->port(), kScript + query);
  }
  static const Raster& pattern() { return tree_->pattern; }
  // The full-size 8-bit pixels of `fif`.
  static const Raster& truth_of(const std::string& fif) {
    return fif == "grey.tif" ? grey_ : tree_->pattern;
  }

  // Both answer 200 with the same type and an image of the same size whose
  // pixels agree. Returns Tessera's image.
  static Raster expect_same_image(const std::string& iipsrv_query,
                                  const std::string& tessera_query) {
    SCOPED_TRACE("iipsrv " + iipsrv_query + ", Tessera " + tessera_query);
    const HttpResult a = iipsrv(iipsrv_query);
    const HttpResult b = tessera(tessera_query);
    EXPECT_EQ(a.status, 200) << a.body;
    EXPECT_EQ(b.status, 200) << b.body;
    if (a.status != 200 || b.status != 200) return {};
    EXPECT_EQ(a.header("content-type"), b.header("content-type"));
    const Raster ia = decode_reply(a, "iipsrv");
    const Raster ib = decode_reply(b, "Tessera");
    EXPECT_EQ(ia.width(), ib.width());
    EXPECT_EQ(ia.height(), ib.height());
    if (ia.width() == ib.width() && ia.height() == ib.height() && !ia.empty()) {
      EXPECT_GE(psnr(ia, ib), kMinPsnr);
    }
    return ib;
  }
  static Raster expect_same_image(const std::string& query) {
    return expect_same_image(query, query);
  }

  // Both refuse with the same status. (iipsrv 1.1 sends its 404 reasons
  // with no Content-Type; Tessera's are text/plain.)
  static void expect_same_refusal(const std::string& query) {
    SCOPED_TRACE(query);
    const HttpResult a = iipsrv(query);
    const HttpResult b = tessera(query);
    EXPECT_GE(a.status, 400) << a.body;
    EXPECT_EQ(a.status, b.status) << a.body << "\n" << b.body;
  }

  // Tessera alone: a 200 image of `type` whose pixels are `want`'s, for
  // where iipsrv 1.1 is wrong. A JPEG is held to `want` as Tessera's encoder
  // would carry it (its 4:2:0 chroma blurs the colours of tiny images).
  static Raster expect_right_image(const std::string& query, const std::string& type,
                                   const Raster& want, double min_psnr = kMinPsnr) {
    SCOPED_TRACE("Tessera " + query);
    const HttpResult reply = tessera(query);
    EXPECT_EQ(reply.status, 200) << reply.body;
    EXPECT_EQ(reply.header("content-type"), type);
    if (reply.status != 200) return {};
    Raster got = decode_reply(reply, "Tessera");
    EXPECT_EQ(got.width(), want.width());
    EXPECT_EQ(got.height(), want.height());
    if (got.width() == want.width() && got.height() == want.height() && !got.empty()) {
      const Raster served = type == "image/jpeg" ? decode_jpeg(encode_jpeg(want, {90})) : want;
      EXPECT_GE(psnr(got, served), min_psnr);
    }
    return got;
  }

  // The resolutions each server states for `fif`, smallest first.
  static std::vector<Size> iipsrv_resolutions(const std::string& fif) {
    return parse_resolutions(iipsrv("FIF=" + fif + "&OBJ=Resolutions").body);
  }
  static std::vector<Size> tessera_resolutions(const std::string& fif) {
    return parse_resolutions(tessera("FIF=" + fif + "&OBJ=Resolutions").body);
  }

  static std::unique_ptr<TestTree> tree_;
  static Raster grey_;
  static std::unique_ptr<Child> iipsrv_;
  static std::unique_ptr<Nginx> nginx_;
  static std::unique_ptr<ServerProcess> tessera_;
};

std::unique_ptr<TestTree> Differential::tree_;
Raster Differential::grey_;
std::unique_ptr<Child> Differential::iipsrv_;
std::unique_ptr<Nginx> Differential::nginx_;
std::unique_ptr<ServerProcess> Differential::tessera_;

// The pyramid as iipsrv 1.1 sees it is the top of Tessera's. iipsrv 1.1
// reads no SubIFDs (it sees other.ptif's full resolution only), makes
// virtual levels below the stored ones for JPEG 2000 only (flat.tif has
// one level for it) and keeps no JPEG 2000 level below the first that fits
// in one tile (it drops pattern.jp2's 125x88). Tessera serves every level
// the file holds and halves the smallest until it fits in a tile. Returns
// how many more resolutions Tessera states: IIP resolution r of iipsrv is
// resolution r + that of Tessera.
int extra_tessera_levels(const std::vector<Size>& iipsrv_levels,
                         const std::vector<Size>& tessera_levels) {
  EXPECT_FALSE(iipsrv_levels.empty());
  EXPECT_GE(tessera_levels.size(), iipsrv_levels.size());
  if (iipsrv_levels.empty() || tessera_levels.size() < iipsrv_levels.size()) return 0;
  const std::size_t extra = tessera_levels.size() - iipsrv_levels.size();
  EXPECT_TRUE(std::equal(iipsrv_levels.begin(), iipsrv_levels.end(),
                         tessera_levels.begin() + std::ptrdiff_t(extra)));
  return int(extra);
}

// How close a reduced level of `fif` comes to the box-filtered source: a
// JPEG 2000 level is the wavelet's low pass, which is not a box filter.
double min_psnr_of_levels(const std::string& fif) {
  return fif.ends_with(".jp2") ? 30.0 : kMinPsnr;
}

// ---------------------------------------------------------------------------
// OBJ

TEST_F(Differential, ObjRepliesAgreeLineByLine) {
  {
    const std::string objects =
        "OBJ=IIP,1.0&OBJ=IIP-server&OBJ=Max-size&OBJ=Tile-size&OBJ=Bits-per-channel"
        "&OBJ=Vertical-views&OBJ=Horizontal-views&OBJ=Min-Max-sample-values"
        "&OBJ=Resolution-number&OBJ=Resolutions&OBJ=colorspace,*,*&OBJ=Basic-info";
    for (const std::string& fif : kImages) {
      SCOPED_TRACE(fif);
      for (const std::string& extra : {std::string(), std::string("&ROT=90")}) {
        const std::string query = "FIF=" + fif + extra + "&" + objects;
        const HttpResult a = iipsrv(query);
        const HttpResult b = tessera(query);
        ASSERT_EQ(a.status, 200) << a.body;
        ASSERT_EQ(b.status, 200) << b.body;
        EXPECT_EQ(a.header("content-type"), "application/vnd.netfpx");
        EXPECT_EQ(b.header("content-type"), a.header("content-type"));
        std::vector<std::string> la = obj_lines(a.body);
        std::vector<std::string> lb = obj_lines(b.body);
        ASSERT_EQ(la.size(), lb.size()) << a.body << "\n" << b.body;
        const std::size_t ia = iipsrv_resolutions(fif).size();
        const std::size_t ib = tessera_resolutions(fif).size();
        for (std::size_t i = 0; i < la.size(); ++i) {
          if (ia != ib) {
            // Where iipsrv sees fewer levels (extra_tessera_levels says why),
            // the lines that count them differ by that count alone, and the
            // resolutions iipsrv lists end Tessera's list.
            const std::string from_a = fmt::format("{}", ia), from_b = fmt::format("{}", ib);
            if (la[i] == "Resolution-number:" + from_a) la[i] = "Resolution-number:" + from_b;
            if (la[i].starts_with("Colorspace,0-")) {
              la[i] = fmt::format("Colorspace,0-{}{}", ib - 1, la[i].substr(la[i].find(',', 11)));
            }
            if (la[i].starts_with("Resolutions:")) {
              ASSERT_TRUE(lb[i].starts_with("Resolutions:"));
              EXPECT_TRUE(lb[i].ends_with(la[i].substr(12))) << la[i] << "\n" << lb[i];
              continue;
            }
          }
          EXPECT_EQ(la[i], lb[i]);
        }
      }
    }
    const std::vector<std::string> tif =
        obj_lines(tessera("FIF=pattern.tif&ROT=90&" + objects).body);
    EXPECT_NE(std::find(tif.begin(), tif.end(), "Max-size:700 1000"), tif.end());
  }
  // The levels iipsrv 1.1 lacks: halvings below the ones it has.
  {
    for (const std::string& fif : kImages) {
      SCOPED_TRACE(fif);
      const auto a = iipsrv_resolutions(fif);
      const auto b = tessera_resolutions(fif);
      const int extra = extra_tessera_levels(a, b);
      for (int r = 0; r < extra; ++r) {
        // floor (TIFF pyramids) or ceil (JPEG 2000) of half the next level.
        EXPECT_LE(std::abs(2 * int(b[r].width) - int(b[r + 1].width)), 1) << r;
        EXPECT_LE(std::abs(2 * int(b[r].height) - int(b[r + 1].height)), 1) << r;
      }
    }
    // Where iipsrv 1.1 does read the pyramid, both see the same levels.
    EXPECT_EQ(iipsrv_resolutions("pattern.tif"), tessera_resolutions("pattern.tif"));
    EXPECT_EQ(iipsrv_resolutions("sub/deflate.tiff"), tessera_resolutions("sub/deflate.tiff"));
  }
}

TEST_F(Differential, IipErrorRepliesAgree) {
  for (const std::string& query : {
           std::string("FIF=pattern.tif&OBJ=Nonsense"),
           std::string("FIF=pattern.tif&OBJ=IIP,1.0&OBJ=Nonsense"),
           std::string("FIF=pattern.tif&FOO=1"),
       }) {
    SCOPED_TRACE(query);
    const HttpResult a = iipsrv(query);
    const HttpResult b = tessera(query);
    EXPECT_EQ(a.status, 400);
    EXPECT_EQ(b.status, a.status);
    EXPECT_EQ(b.header("content-type"), a.header("content-type"));
    EXPECT_EQ(b.body, a.body);
  }
  // A request that asks for nothing.
  {
    const HttpResult a = iipsrv("WID=100");
    const HttpResult b = tessera("WID=100");
    EXPECT_EQ(a.status, 400);
    EXPECT_EQ(b.status, a.status);
    EXPECT_EQ(b.header("content-type"), a.header("content-type"));
    EXPECT_EQ(b.body, a.body);
  }
  // iipsrv 1.1 writes error lines into a 32-byte buffer and cuts the
  // longer ones short of the length they state; Tessera writes the line
  // whole.
  {
    const HttpResult a = iipsrv("FIF=pattern.tif&WID=5");
    const HttpResult b = tessera("FIF=pattern.tif&WID=5");
    EXPECT_EQ(a.status, 400);
    EXPECT_EQ(b.status, a.status);
    EXPECT_EQ(b.header("content-type"), a.header("content-type"));
    const std::string line = "2 1 FIF=pattern.tif&WID=5";
    EXPECT_EQ(b.body, fmt::format("Error/{}:{}\r\n", line.size(), line));
    EXPECT_TRUE(b.body.starts_with(a.body.substr(0, a.body.find("\r\n")))) << a.body;
  }
  expect_same_refusal("FIF=missing.tif&OBJ=IIP,1.0&OBJ=Max-size");
  expect_same_refusal("FIF=missing.tif&JTL=0,0");
  expect_same_refusal("FIF=sub/missing.tif&WID=100&CVT=jpeg");
  // No image at all: iipsrv 1.1 writes its Content-Type header into the
  // body (a bug); Tessera sends the reply it meant.
  const HttpResult alone = tessera("OBJ=IIP,1.0");
  EXPECT_EQ(alone.status, 200);
  EXPECT_EQ(alone.header("content-type"), "application/vnd.netfpx");
  EXPECT_EQ(alone.body, "IIP:1.0\r\n");
}

// ---------------------------------------------------------------------------
// JTL and TIL

// A TIL reply's frames: "Tile,<resolution>,<n>,0/<length>:" then <length>
// bytes (IIP's 8-byte compression header and a JPEG) and CRLF.
struct TilFrame {
  std::string name;  // "Tile,2,5,0"
  std::string header;
  std::string jpeg;
};

std::vector<TilFrame> parse_til(const std::string& body) {
  std::vector<TilFrame> frames;
  std::size_t at = 0;
  while (at < body.size()) {
    const std::size_t slash = body.find('/', at);
    const std::size_t colon = body.find(':', at);
    if (slash == std::string::npos || colon == std::string::npos || colon < slash) {
      ADD_FAILURE() << "malformed TIL frame at byte " << at;
      break;
    }
    const std::size_t length = std::stoul(body.substr(slash + 1, colon - slash - 1));
    if (length < 8 || colon + 1 + length + 2 > body.size()) {
      ADD_FAILURE() << "TIL frame longer than the reply at byte " << at;
      break;
    }
    frames.push_back({body.substr(at, slash - at), body.substr(colon + 1, 8),
                      body.substr(colon + 9, length - 8)});
    EXPECT_EQ(body.substr(colon + 1 + length, 2), "\r\n");
    at = colon + 1 + length + 2;
  }
  return frames;
}

// ---------------------------------------------------------------------------
// Image processing

// CNT, GAM, INV, CMP, CTW and COL give iipsrv's pictures, alone and
// together, on tiles and exports: whatever order the commands come in, the
// steps run in iipsrv's (contrast after a colour map, gamma before
// inversion, a twist first).
TEST_F(Differential, ImageProcessingAgrees) {
  const std::vector<std::string> steps = {
      "CNT=1.8",
      "CNT=0.4",
      "GAM=0.6",
      "GAM=2.2",
      "INV",
      "CMP=JET",
      "CMP=HOT",
      "CMP=COLD",
      "CMP=BLUE",
      "CTW=[0,0,1;0,1,0;1,0,0]",
      "CTW=[0.6,0.3,0.1;0,1,0;0.2,0.2,0.6]",
      "COL=grey",
      "CNT=2&CMP=HOT",
      "CMP=HOT&CNT=2",
      "INV&GAM=2&CNT=1.3",
      "CMP=JET&GAM=0.7",
      "COL=grey&CTW=[0,0,1;0,1,0;1,0,0]",
  };
  for (const std::string fif : {"pattern.tif", "sub/deflate.tiff"}) {
    for (const std::string& step : steps) {
      expect_same_image("FIF=" + fif + "&" + step + "&WID=300&CVT=jpeg");
      expect_same_image("FIF=" + fif + "&" + step + "&JTL=2,5");
    }
  }
  for (const std::string step : {"CNT=1.5", "GAM=0.5", "INV", "CMP=JET", "CMP=COLD&INV"}) {
    expect_same_image("FIF=grey.tif&" + step + "&WID=300&CVT=jpeg");
    expect_same_image("FIF=grey.tif&" + step + "&JTL=1,3");
  }
  // 16 bits: each sample against 0..65535, or MINMAX's range.
  for (const std::string step :
       {"CNT=1.5", "GAM=1.8", "MINMAX=1:10000,40000&MINMAX=2:0,30000&MINMAX=3:20000,60000",
        "MINMAX=1:0,32768&CMP=HOT"}) {
    expect_same_image("FIF=u16.tif&" + step + "&WID=300&CVT=jpeg");
  }
  // Black and white: the same threshold. At a stored level's own size (no
  // resampling, whose differences would move greys across it) the pictures
  // agree but for pixels on an edge, which JPEG may put either side.
  for (const std::string fif : {"pattern.tif", "grey.tif"}) {
    const std::string query = "FIF=" + fif + "&COL=binary&WID=500&CVT=jpeg";
    const HttpResult a = iipsrv(query), b = tessera(query);
    ASSERT_EQ(a.status, 200);
    ASSERT_EQ(b.status, 200) << b.body;
    const Raster ia = decode_reply(a, "iipsrv"), ib = decode_reply(b, "Tessera");
    ASSERT_EQ(ia.width(), ib.width());
    ASSERT_EQ(ia.height(), ib.height());
    ASSERT_EQ(ib.bands(), 1);
    std::size_t differ = 0;
    for (uint32_t y = 0; y < ia.height(); ++y) {
      for (uint32_t x = 0; x < ia.width(); ++x) {
        differ += (ia.row(y)[x * ia.bands()] >= 128) != (ib.row(y)[x] >= 128);
      }
    }
    EXPECT_LE(differ, std::size_t(ia.width()) * ia.height() / 50) << fif;
  }
  // Hillshading of a normal map, from several directions and heights, then
  // the other steps.
  for (const std::string step : {"SHD=0,90", "SHD=30,45", "SHD=135,20", "SHD=250,60",
                                 "SHD=315,45&CNT=2", "SHD=90,30&CMP=JET", "SHD=200,50&INV"}) {
    expect_same_image("FIF=normals.tif&" + step + "&WID=500&CVT=jpeg");
    expect_same_image("FIF=normals.tif&" + step + "&JTL=2,5");
  }
  // Where iipsrv 1.1 reads a malformed value as 0 or ignores it, Tessera
  // says what is wrong.
  EXPECT_EQ(tessera("FIF=pattern.tif&CNT=abc&JTL=2,5").status, 400);
  EXPECT_EQ(tessera("FIF=pattern.tif&CMP=sepia&JTL=2,5").status, 400);
  EXPECT_EQ(tessera("FIF=grey.tif&CTW=[0,0,1;0,1,0;1,0,0]&JTL=2,5").status, 400);
  EXPECT_EQ(tessera("FIF=pattern.tif&CNV=sobel&JTL=2,5").status, 501);
  // Hillshading wants a normal map: iipsrv reads a grey image as one anyway.
  EXPECT_EQ(tessera("FIF=grey.tif&SHD=30,30&JTL=2,5").status, 400);
}

// An image sequence (FILENAME_PATTERN): FIF names the prefix, OBJ lists
// the views' angles, SDS picks a view's file (0, 90 by default), and a view
// there is not answers 404.
TEST_F(Differential, ImageSequencesAgree) {
  const std::string objects = "OBJ=IIP,1.0&OBJ=Horizontal-views&OBJ=Vertical-views&OBJ=Max-size";
  const HttpResult a = iipsrv("FIF=seq&" + objects), b = tessera("FIF=seq&" + objects);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(obj_lines(b.body), obj_lines(a.body));
  EXPECT_EQ(obj_lines(b.body)[1], "Horizontal-views:0 10");
  EXPECT_EQ(obj_lines(b.body)[2], "Vertical-views:80 90");
  for (const std::string view : {"", "SDS=0,90&", "SDS=10,90&", "SDS=10,80&"}) {
    expect_same_image("FIF=seq&" + view + "JTL=2,5");
    expect_same_image("FIF=seq&" + view + "WID=300&CVT=jpeg");
  }
  // The views are the files'.
  EXPECT_EQ(tessera("FIF=seq&SDS=10,90&JTL=2,5").body, tessera("FIF=normals.tif&JTL=2,5").body);
  EXPECT_EQ(tessera("FIF=seq&JTL=2,5").body, tessera("FIF=pattern.tif&JTL=2,5").body);
  expect_same_refusal("FIF=seq&SDS=20,90&JTL=2,5");
  expect_same_refusal("FIF=nothing&JTL=2,5");
}

// SPECTRA: a point's value in each view of a multispectral set, the same
// XML byte for byte, at several points, tiles and resolutions; and of a
// single 16-bit image.
TEST_F(Differential, SpectraAgree) {
  for (const std::string query :
       {"FIF=bands&SPECTRA=2,0,10,20", "FIF=bands&SPECTRA=2,5,100,200", "FIF=bands&SPECTRA=1,3,0,0",
        "FIF=bands&SDS=0,90&SPECTRA=2,6,3,4"}) {
    SCOPED_TRACE(query);
    const HttpResult a = iipsrv(query), b = tessera(query);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(b.status, 200) << b.body;
    EXPECT_EQ(b.header("content-type"), "application/xml");
    EXPECT_EQ(b.body, a.body);
  }
  // Three wavelengths, the middle one inverted.
  const std::string body = tessera("FIF=bands&SPECTRA=2,0,10,20").body;
  EXPECT_NE(body.find("<wavelength>0</wavelength>"), std::string::npos) << body;
  EXPECT_NE(body.find("<wavelength>20</wavelength>"), std::string::npos) << body;
  EXPECT_EQ(tessera("FIF=bands&SPECTRA=2,0,300,0").status, 400);
  // Where iipsrv 1.1 reads the wrong pixel, Tessera is held to the source:
  // - in a tile at the right edge (narrower than 256), iipsrv counts rows of
  //   256 pixels: tile 11 is (768, 512) and 232 wide;
  const std::string edge = tessera("FIF=bands&SPECTRA=2,11,200,150").body;
  const uint8_t grey = grey_.row(512 + 150)[768 + 200];
  EXPECT_NE(edge.find(fmt::format("<reflectance>{:.6f}</reflectance>", grey / 255.0f)),
            std::string::npos)
      << edge;
  EXPECT_NE(edge.find(fmt::format("<reflectance>{:.6f}</reflectance>", (255 - grey) / 255.0f)),
            std::string::npos)
      << edge;
  // - of an RGB image iipsrv counts one sample per pixel; Tessera gives the
  //   first band's (16 bits: the pattern times 257).
  const std::string rgb = tessera("FIF=u16.tif&SPECTRA=2,1,7,9").body;
  const uint8_t red = pattern().row(9)[(256 + 7) * 3];
  EXPECT_NE(rgb.find(fmt::format("<reflectance>{:.6f}</reflectance>", red / 255.0f)),
            std::string::npos)
      << rgb;
}

// Values out of IIP's ranges that iipsrv reads anyway give the same
// pictures: a region starting left of the image, WID=0, QLT past 100.
TEST_F(Differential, OutOfRangeValuesAgree) {
  expect_same_image("FIF=pattern.tif&RGN=-0.2,0.1,0.5,0.5&WID=300&CVT=jpeg");
  expect_same_image("FIF=pattern.tif&RGN=0.1,-0.3,0.5,0.5&WID=300&CVT=jpeg");
  expect_same_image("FIF=pattern.tif&WID=0&HEI=200&CVT=jpeg");
  expect_same_image("FIF=pattern.tif&QLT=101&WID=300&CVT=jpeg");
  // Below 0 is 0, above 100 is 100 (the pictures of two encoders at quality
  // 0 are too coarse to compare with each other).
  EXPECT_EQ(iipsrv("FIF=pattern.tif&QLT=-5&WID=300&CVT=jpeg").status, 200);
  EXPECT_EQ(tessera("FIF=pattern.tif&QLT=-5&WID=300&CVT=jpeg").body,
            tessera("FIF=pattern.tif&QLT=0&WID=300&CVT=jpeg").body);
  EXPECT_EQ(tessera("FIF=pattern.tif&QLT=250&WID=300&CVT=jpeg").body,
            tessera("FIF=pattern.tif&QLT=100&WID=300&CVT=jpeg").body);
  // Any angle for an export: iipsrv 1.1 ignores ROT=45; Tessera turns the
  // picture, which then fills the bounding box of the turned 300 x 210.
  const HttpResult turned = tessera("FIF=pattern.tif&ROT=45&WID=300&CVT=jpeg");
  ASSERT_EQ(turned.status, 200) << turned.body;
  const Raster image = decode_reply(turned, "Tessera");
  const double side = (300 + 210) / std::sqrt(2.0);
  EXPECT_NEAR(image.width(), side, 2);
  EXPECT_NEAR(image.height(), side, 2);
  // Tiles turn by quarter turns only.
  EXPECT_EQ(tessera("FIF=pattern.tif&ROT=45&JTL=2,5").status, 400);
}

// PFL: the samples along a horizontal or vertical line come back as the
// same JSON, byte for byte: 8-bit, 16-bit and grey images, at full size and
// at a smaller stored resolution, across tile boundaries.
TEST_F(Differential, ProfilesAgree) {
  for (const std::string fif : {"sub/deflate.tiff", "u16.tif", "grey.tif", "pattern.tif"}) {
    for (const std::string line :
         {"2:0,300-999,300", "2:700,0-700,699", "2:250,250-260,250", "1:3,10-3,340", "2:5,5-5,5"}) {
      SCOPED_TRACE(fif + " PFL=" + line);
      const HttpResult a = iipsrv("FIF=" + fif + "&PFL=" + line);
      const HttpResult b = tessera("FIF=" + fif + "&PFL=" + line);
      EXPECT_EQ(a.status, 200);
      EXPECT_EQ(b.status, 200) << b.body;
      EXPECT_EQ(b.header("content-type"), "application/json");
      EXPECT_EQ(a.header("content-type"), b.header("content-type"));
      EXPECT_EQ(a.body, b.body);
    }
  }
  // A line that leaves the image: iipsrv answers with its HTML home page,
  // Tessera with the reason.
  const HttpResult outside = tessera("FIF=pattern.tif&PFL=2:900,0-1200,0");
  EXPECT_EQ(outside.status, 400);
  EXPECT_EQ(outside.body, "PFL line 900,0-1200,0 leaves resolution 2, which is 1000x700\n");
}

TEST_F(Differential, JtlAndTilTilesAgree) {
  {
    for (const std::string& fif : kImages) {
      SCOPED_TRACE(fif);
      const auto levels = iipsrv_resolutions(fif);
      const auto tessera_levels = tessera_resolutions(fif);
      const int extra = extra_tessera_levels(levels, tessera_levels);
      const HttpResult size = tessera("FIF=" + fif + "&OBJ=Tile-size");
      uint32_t tile = 0;
      ASSERT_EQ(std::sscanf(size.body.c_str(), "Tile-size:%u", &tile), 1) << size.body;
      for (std::size_t r = 0; r < levels.size(); ++r) {
        const uint32_t across = (levels[r].width + tile - 1) / tile;
        const uint32_t down = (levels[r].height + tile - 1) / tile;
        for (uint32_t n = 0; n < across * down; ++n) {
          expect_same_image(fmt::format("FIF={}&JTL={},{}", fif, r, n),
                            fmt::format("FIF={}&JTL={},{}", fif, r + std::size_t(extra), n));
        }
      }
      // Past the last tile, and past the last resolution.
      const std::size_t top = tessera_levels.size() - 1;
      const Size full = tessera_levels.back();
      const uint32_t count = ((full.width + tile - 1) / tile) * ((full.height + tile - 1) / tile);
      expect_same_refusal(fmt::format("FIF={}&JTL={},{}", fif, levels.size() - 1, count));
      EXPECT_EQ(tessera(fmt::format("FIF={}&JTL={},{}", fif, top, count)).status, 404);
      expect_same_refusal(fmt::format("FIF={}&JTL={},0", fif, tessera_levels.size()));

      // The levels iipsrv 1.1 does not see hold the image at their size.
      for (int r = 0; r < extra; ++r) {
        const Size level = tessera_levels[std::size_t(r)];
        const uint32_t factor = 1u << (top - std::size_t(r));
        const uint32_t w = std::min(tile, level.width), h = std::min(tile, level.height);
        expect_right_image(fmt::format("FIF={}&JTL={},0", fif, r), "image/jpeg",
                           truth(truth_of(fif), factor, 0, 0, w, h), min_psnr_of_levels(fif));
      }
    }
  }
  {
    // ROT turns each tile, and 180 degrees counts the tiles from the other
    // end; QLT re-encodes what must be encoded; SDS names the only view a
    // single image has.
    for (const std::string fif : {"pattern.tif", "sub/deflate.tiff", "pattern.jp2"}) {
      SCOPED_TRACE(fif);
      const int full = int(iipsrv_resolutions(fif).size()) - 1;
      const int tessera_full = int(tessera_resolutions(fif).size()) - 1;
      for (const std::string extra : {"ROT=90", "ROT=180", "ROT=270", "ROT=!0", "ROT=!90",
                                      "ROT=!180", "ROT=!270", "QLT=60", "SDS=0,90"}) {
        for (const int n : {0, 3, 5, 11}) {
          expect_same_image(fmt::format("FIF={}&{}&JTL={},{}", fif, extra, full, n),
                            fmt::format("FIF={}&{}&JTL={},{}", fif, extra, tessera_full, n));
        }
      }
    }
    // QLT changes what Tessera encodes (here, deflate tiles it decodes).
    const HttpResult low = tessera("FIF=sub/deflate.tiff&QLT=20&JTL=2,5");
    const HttpResult high = tessera("FIF=sub/deflate.tiff&QLT=95&JTL=2,5");
    ASSERT_EQ(low.status, 200);
    ASSERT_EQ(high.status, 200);
    EXPECT_LT(low.body.size(), high.body.size());
  }
  // TIL: several tiles in one reply, in IIP's own frames.
  {
    for (const std::string query : {"FIF=pattern.tif&TIL=2,0-5", "FIF=sub/deflate.tiff&TIL=2,6-11",
                                    "FIF=pattern.tif&TIL=1,2"}) {
      SCOPED_TRACE(query);
      const HttpResult a = iipsrv(query);
      const HttpResult b = tessera(query);
      ASSERT_EQ(a.status, 200) << a.body;
      ASSERT_EQ(b.status, 200) << b.body;
      EXPECT_EQ(b.header("content-type"), a.header("content-type"));
      const auto fa = parse_til(a.body);
      const auto fb = parse_til(b.body);
      EXPECT_FALSE(fa.empty());
      ASSERT_EQ(fa.size(), fb.size());
      for (std::size_t i = 0; i < fa.size(); ++i) {
        EXPECT_EQ(fa[i].name, fb[i].name);
        EXPECT_EQ(fa[i].header, fb[i].header);
        const Raster ia = decode_jpeg(fa[i].jpeg), ib = decode_jpeg(fb[i].jpeg);
        ASSERT_EQ(ia.width(), ib.width()) << fa[i].name;
        ASSERT_EQ(ia.height(), ib.height()) << fa[i].name;
        EXPECT_GE(psnr(ia, ib), kMinPsnr) << fa[i].name;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// CVT

TEST_F(Differential, CvtExportsAgree) {
  {
    const std::vector<std::string> views = {
        "WID=300",
        "HEI=300",
        "WID=400&HEI=200",
        "WID=200&HEI=400",
        "WID=640&HEI=480&RGN=0,0,1,1",
        "WID=300&RGN=0.1,0.2,0.5,0.4",
        "WID=77&RGN=0.333,0.111,0.25,0.3",
        "HEI=123&RGN=0.5,0.5,0.5,0.5",
        "WID=300&RGN=0.9,0.9,0.5,0.5",  // runs past the edge: clipped
        "WID=300&ROT=90",
        "WID=300&ROT=180",
        "WID=300&ROT=270",
        "WID=200&HEI=100&ROT=90&RGN=0.25,0.25,0.5,0.5",
        "WID=300&ROT=!0",
        "WID=300&ROT=!90",
        "WID=300&ROT=!180",
        "WID=300&QLT=60",
        "WID=1500",  // larger than the image: both scale up by default
    };
    for (const std::string& fif : kImages) {
      for (const std::string& view : views) {
        expect_same_image("FIF=" + fif + "&" + view + "&CVT=jpeg");
      }
    }
    expect_same_image("FIF=pattern.tif&CVT=jpeg");
    expect_same_image("FIF=sub/deflate.tiff&RGN=0,0,1,1&CVT=jpeg");

    // Tessera alone, where iipsrv 1.1 differs:
    // - a region with neither WID nor HEI comes at its own pixel size;
    //   iipsrv scales it to the width of the whole image (1000x560 here),
    //   inventing pixels.
    expect_right_image("FIF=pattern.tif&RGN=0.1,0.2,0.5,0.4&CVT=jpeg", "image/jpeg",
                       pattern().crop(100, 140, 500, 280));
    // - WID or HEI is the size sent. iipsrv 1.1 fits the region's size at the
    //   pyramid level it reads, rounded there, and may send a pixel or two
    //   fewer (844x174, 89x38 and 515x826 here).
    struct Exact {
      std::string fif;
      double x, y, w, h;  // RGN
      uint32_t wid, hei;  // one of them
    };
    for (const Exact& e : {Exact{"pattern.tif", 0.2874, 0.3315, 0.8113, 0.2101, 846, 0},
                           Exact{"sub/deflate.tiff", 0.1754, 0.0566, 0.6096, 0.3693, 90, 0},
                           Exact{"pattern.jp2", 0.876, 0.5455, 0.2074, 0.2844, 0, 827}}) {
      const double W = pattern().width(), H = pattern().height();
      const double x = std::round(e.x * W), y = std::round(e.y * H);
      const double w = std::min(std::round(e.w * W), W - x),
                   h = std::min(std::round(e.h * H), H - y);
      const uint32_t ow = e.wid ? e.wid : uint32_t(std::lround(e.hei * w / h));
      const uint32_t oh = e.hei ? e.hei : uint32_t(std::lround(e.wid * h / w));
      const std::string size = e.wid ? fmt::format("WID={}", e.wid) : fmt::format("HEI={}", e.hei);
      expect_right_image(
          fmt::format("FIF={}&{}&RGN={},{},{},{}&CVT=jpeg", e.fif, size, e.x, e.y, e.w, e.h),
          "image/jpeg", resample(pattern(), {x, y, w, h}, ow, oh, Interpolation::Bilinear),
          min_psnr_of_levels(e.fif));
    }
    // - a region that starts outside the image is refused; iipsrv sends a
    //   200 whose body is no image.
    EXPECT_EQ(tessera("FIF=pattern.tif&WID=300&RGN=1.2,0,0.5,0.5&CVT=jpeg").status, 400);
  }
  {
    // Small exports agree in size with iipsrv's, but not closely in pixels:
    // iipsrv 1.1 shrinks with bilinear interpolation from the level above,
    // which aliases the pattern's detail once it shrinks more than about 3x
    // (31 dB from the source at 50 px wide; other.ptif, whose SubIFD levels
    // it does not read, shrinks from the full size). Tessera averages the
    // area each output pixel covers: its pixels are held to the source's,
    // box-filtered at these whole factors.
    const std::vector<std::pair<std::string, uint32_t>> thumbnails = {
        {"WID=100&HEI=300", 10}, {"WID=500&HEI=35", 20}, {"HEI=140", 5}, {"WID=40", 25}};
    for (const std::string& fif : kImages) {
      for (const auto& [view, factor] : thumbnails) {
        const std::string query = "FIF=" + fif + "&" + view + "&CVT=jpeg";
        SCOPED_TRACE(query);
        const HttpResult a = iipsrv(query);
        ASSERT_EQ(a.status, 200) << a.body;
        const Raster ia = decode_reply(a, "iipsrv");
        const Raster want = box_reduce(truth_of(fif), factor);
        EXPECT_EQ(ia.width(), want.width());
        EXPECT_EQ(ia.height(), want.height());
        expect_right_image(query, a.header("content-type"), want, min_psnr_of_levels(fif));
      }
    }
  }
  {
    // Debian's iipsrv 1.1 exports neither PNG (it is built without) nor
    // WebP: it answers CVT=png and CVT=webp with a JPEG. Tessera sends the
    // format asked for, with the same pixels.
    for (const auto& [format, type] : std::vector<std::pair<std::string, std::string>>{
             {"png", "image/png"}, {"webp", "image/webp"}}) {
      for (const std::string fif : {"pattern.tif", "sub/deflate.tiff"}) {
        SCOPED_TRACE(fif + " as " + format);
        const std::string view = "FIF=" + fif + "&WID=300&RGN=0.2,0.1,0.6,0.6&CVT=";
        const HttpResult jpeg = iipsrv(view + "jpeg");
        ASSERT_EQ(jpeg.status, 200);
        expect_right_image(view + format, type, decode_reply(jpeg, "iipsrv"));
      }
    }
  }
}

TEST_F(Differential, TransparentImages) {
  // rgba.tif: 120x80, RGB and a varying alpha, one tile.
  const std::string objects =
      "OBJ=IIP,1.0&OBJ=Max-size&OBJ=Tile-size&OBJ=Resolution-number&OBJ=Bits-per-channel"
      "&OBJ=colorspace,*,*&OBJ=Min-Max-sample-values";
  const HttpResult a = iipsrv("FIF=rgba.tif&" + objects);
  const HttpResult b = tessera("FIF=rgba.tif&" + objects);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(b.status, 200);
  EXPECT_EQ(obj_lines(b.body), obj_lines(a.body));

  // JPEG has no alpha. iipsrv 1.1 drops the alpha band, showing the colours
  // that transparent pixels hide; Tessera composites the image over white,
  // as it looks. The reply is otherwise the same.
  const Raster& rgba = tree_->rgba;
  Raster over_white(rgba.width(), rgba.height(), 3);
  for (uint32_t y = 0; y < rgba.height(); ++y) {
    for (uint32_t x = 0; x < rgba.width(); ++x) {
      const uint8_t* in = rgba.row(y) + x * 4;
      for (int c = 0; c < 3; ++c) {
        over_white.row(y)[x * 3 + c] =
            uint8_t(std::lround((in[c] * in[3] + 255.0 * (255 - in[3])) / 255.0));
      }
    }
  }
  for (const std::string query : {"FIF=rgba.tif&JTL=0,0", "FIF=rgba.tif&WID=120&CVT=jpeg"}) {
    const HttpResult jpeg = iipsrv(query);
    ASSERT_EQ(jpeg.status, 200) << query;
    const Raster got = expect_right_image(query, jpeg.header("content-type"), over_white);
    const Raster theirs = decode_reply(jpeg, "iipsrv");
    EXPECT_EQ(got.width(), theirs.width()) << query;
    EXPECT_EQ(got.height(), theirs.height()) << query;
  }
  // PNG keeps the alpha band, losslessly (iipsrv 1.1 sends a JPEG).
  expect_right_image("FIF=rgba.tif&WID=120&CVT=png", "image/png", rgba,
                     std::numeric_limits<double>::infinity());
}

// ---------------------------------------------------------------------------
// DeepZoom

TEST_F(Differential, DeepZoomDescriptorsAndTiles) {
  for (const std::string& fif : kImages) {
    SCOPED_TRACE(fif);
    const HttpResult a = iipsrv("DeepZoom=" + fif + ".dzi");
    const HttpResult b = tessera("DeepZoom=" + fif + ".dzi");
    ASSERT_EQ(a.status, 200) << a.body;
    ASSERT_EQ(b.status, 200) << b.body;
    EXPECT_EQ(b.header("content-type"), a.header("content-type"));
    EXPECT_EQ(b.body, a.body);

    const auto levels = iipsrv_resolutions(fif);
    const Size full = levels.back();
    const HttpResult size = tessera("FIF=" + fif + "&OBJ=Tile-size");
    uint32_t tile = 0;
    ASSERT_EQ(std::sscanf(size.body.c_str(), "Tile-size:%u", &tile), 1) << size.body;
    // L = ceil(log2(longest side)); level L - k is the full size over 2^k,
    // rounded up.
    int top = 0;
    while ((1u << top) < std::max(full.width, full.height)) ++top;
    // Every tile of the levels iipsrv 1.1 has stored.
    for (std::size_t k = 0; k < levels.size(); ++k) {
      const uint32_t f = 1u << k;
      const uint32_t w = (full.width + f - 1) / f, h = (full.height + f - 1) / f;
      for (uint32_t y = 0; y * tile < h; ++y) {
        for (uint32_t x = 0; x * tile < w; ++x) {
          expect_same_image(fmt::format("DeepZoom={}_files/{}/{}_{}.jpg", fif, top - int(k), x, y));
        }
      }
    }
    // Below them, iipsrv 1.1 sends its smallest level (the wrong size and,
    // for other.ptif, whose SubIFDs it does not read, the full-size
    // pixels). Tessera serves every level down to 1x1: the whole image
    // scaled to the level's size.
    for (int level = top - int(levels.size()); level >= 0; --level) {
      const uint32_t f = 1u << (top - level);
      const uint32_t w = (full.width + f - 1) / f, h = (full.height + f - 1) / f;
      const Raster scaled = resample(truth_of(fif), {0, 0, double(full.width), double(full.height)},
                                     w, h, Interpolation::Bilinear);
      expect_right_image(fmt::format("DeepZoom={}_files/{}/0_0.jpg", fif, level), "image/jpeg",
                         scaled.crop(0, 0, std::min(tile, w), std::min(tile, h)),
                         min_psnr_of_levels(fif));
    }
    // A level or tile that does not exist is 404 for Tessera; iipsrv 1.1
    // sends some other tile.
    const uint32_t across = (full.width + tile - 1) / tile;
    EXPECT_EQ(tessera(fmt::format("DeepZoom={}_files/{}/0_0.jpg", fif, top + 1)).status, 404);
    EXPECT_EQ(tessera(fmt::format("DeepZoom={}_files/{}/{}_0.jpg", fif, top, across)).status, 404);
  }
}

// ---------------------------------------------------------------------------
// Zoomify

TEST_F(Differential, ZoomifyPropertiesAndTiles) {
  for (const std::string& fif : kImages) {
    SCOPED_TRACE(fif);
    const HttpResult a = iipsrv("Zoomify=" + fif + "/ImageProperties.xml");
    const HttpResult b = tessera("Zoomify=" + fif + "/ImageProperties.xml");
    ASSERT_EQ(a.status, 200) << a.body;
    ASSERT_EQ(b.status, 200) << b.body;
    EXPECT_EQ(b.header("content-type"), a.header("content-type"));

    const auto levels = iipsrv_resolutions(fif);
    const Size full = levels.back();
    const HttpResult size = tessera("FIF=" + fif + "&OBJ=Tile-size");
    uint32_t tile = 0;
    ASSERT_EQ(std::sscanf(size.body.c_str(), "Tile-size:%u", &tile), 1) << size.body;
    // Zoomify's tiers: halved (rounding down) from the full size until one
    // fits in a tile.
    std::vector<Size> tiers{full};
    while (tiers.front().width > tile || tiers.front().height > tile) {
      tiers.insert(tiers.begin(),
                   {std::max(tiers.front().width / 2, 1u), std::max(tiers.front().height / 2, 1u)});
    }
    uint64_t all_tiles = 0;
    for (const Size& tier : tiers) {
      all_tiles += uint64_t((tier.width + tile - 1) / tile) * ((tier.height + tile - 1) / tile);
    }
    // iipsrv 1.1 counts the full-size tier's tiles in NUMTILES; Tessera
    // counts every tier's, as Zoomify's own converter does (viewers that
    // check it expect the total). The rest agrees byte for byte.
    const std::string numtiles = R"( NUMTILES=")";
    const std::size_t at = a.body.find(numtiles);
    ASSERT_NE(at, std::string::npos) << a.body;
    std::string want = a.body;
    want.replace(at, a.body.find('"', at + numtiles.size()) + 1 - at,
                 fmt::format(R"( NUMTILES="{}")", all_tiles));
    EXPECT_EQ(b.body, want);

    // iipsrv's tiers are its IIP resolutions: the top ones where it lacks
    // levels (other.ptif).
    const std::size_t extra = tiers.size() - std::min(tiers.size(), levels.size());
    uint64_t number = 0;
    for (std::size_t t = 0; t < tiers.size(); ++t) {
      const uint32_t across = (tiers[t].width + tile - 1) / tile;
      const uint32_t down = (tiers[t].height + tile - 1) / tile;
      for (uint32_t y = 0; y < down; ++y) {
        for (uint32_t x = 0; x < across; ++x, ++number) {
          const std::string path = fmt::format("{}-{}-{}.jpg", t, x, y);
          const std::string group = fmt::format("TileGroup{}/", number / 256);
          if (t >= extra) {
            expect_same_image(fmt::format("Zoomify={}/{}{}-{}-{}.jpg", fif, group, t - extra, x, y),
                              fmt::format("Zoomify={}/{}{}", fif, group, path));
          } else if (x == 0 && y == 0) {
            const uint32_t f = 1u << (tiers.size() - 1 - t);
            expect_right_image(fmt::format("Zoomify={}/{}{}", fif, group, path), "image/jpeg",
                               truth(truth_of(fif), f, 0, 0, std::min(tile, tiers[t].width),
                                     std::min(tile, tiers[t].height)),
                               min_psnr_of_levels(fif));
          }
        }
      }
    }
    EXPECT_EQ(tessera(fmt::format("Zoomify={}/TileGroup0/{}-0-0.jpg", fif, tiers.size())).status,
              404);
  }
}

}  // namespace
}  // namespace tessera::testing
