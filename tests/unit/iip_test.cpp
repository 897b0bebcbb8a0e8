#include "protocol/iip.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "protocol/deepzoom.hpp"
#include "render/planner.hpp"
#include "support/error_status.hpp"

namespace tessera {
namespace {

using testing::reason_of;
using testing::status_of;

using Action = IipRequest::Action;

// A pyramid as vips makes it (floor halving), or only its first levels.
ImageInfo pyramid(uint32_t width, uint32_t height, uint32_t tile = 256, int stored_levels = 0) {
  ImageInfo info;
  info.width = width;
  info.height = height;
  info.bands = 3;
  uint32_t w = width, h = height;
  for (int n = 0;; ++n) {
    info.levels.push_back(LevelInfo{w, h, tile, tile, level_scale(width, height, w, h)});
    if (stored_levels > 0 ? n + 1 >= stored_levels : (w <= tile && h <= tile)) break;
    if (w == 1 && h == 1) break;
    w = std::max(w / 2, 1u);
    h = std::max(h / 2, 1u);
  }
  return info;
}

IipRequest tile_request(int resolution, uint32_t tile, RotationSpec rotation = {}) {
  IipRequest r =
      parse_iip("FIF=im.tif&JTL=" + std::to_string(resolution) + "," + std::to_string(tile));
  r.rotation = rotation;
  return r;
}

RegionSpec px(double x, double y, double w, double h) {
  return {RegionSpec::Kind::Pixels, x, y, w, h};
}

// --- parsing -----------------------------------------------------------------

TEST(IipParse, TheDocumentationsExamples) {
  IipRequest r = parse_iip("OBJ=IIP,1.0&FIF=/path/image.tif&JTL=1,0");
  EXPECT_EQ(r.fif, "/path/image.tif");  // exactly as sent; the resolver decides
  EXPECT_TRUE(r.has_fif);
  EXPECT_EQ(r.objects, std::vector<std::string>{"iip,1.0"});
  EXPECT_EQ(r.action, Action::Tile);
  EXPECT_EQ(r.command, "JTL");
  EXPECT_EQ(r.format, Format::Jpeg);
  EXPECT_EQ(r.resolution, 1);
  EXPECT_EQ(r.tile, 0u);
  EXPECT_TRUE(r.errors.empty());

  r = parse_iip("FIF=/path/image.tif&WID=400&CVT=jpeg");
  EXPECT_EQ(r.action, Action::Convert);
  EXPECT_EQ(r.width, 400u);
  EXPECT_EQ(r.height, 0u);
  EXPECT_FALSE(r.region.has_value());

  r = parse_iip("FIF=/tmp/test.tif&WID=400&RGN=0.25,0.25,0.5,0.5&CVT=jpeg");
  EXPECT_EQ(r.fif, "/tmp/test.tif");
  ASSERT_TRUE(r.region.has_value());
  EXPECT_EQ(*r.region, (IipRegion{0.25, 0.25, 0.5, 0.5}));

  // What iipmooviewer asks first.
  r = parse_iip("FIF=image.tif&OBJ=IIP,1.0&OBJ=Max-size&OBJ=Tile-size&OBJ=Resolution-number");
  EXPECT_EQ(r.action, Action::None);
  EXPECT_EQ(r.objects,
            (std::vector<std::string>{"iip,1.0", "max-size", "tile-size", "resolution-number"}));
  EXPECT_TRUE(r.errors.empty());
}

TEST(IipParse, CommandsAreCaseInsensitive) {
  IipRequest r = parse_iip("fif=a.tif&jtl=2,3&Wid=5&rOt=90");
  EXPECT_EQ(r.fif, "a.tif");
  EXPECT_EQ(r.action, Action::Tile);
  EXPECT_EQ(r.resolution, 2);
  EXPECT_EQ(r.tile, 3u);
  EXPECT_EQ(r.width, 5u);
  EXPECT_EQ(r.rotation.degrees, 90);
  r = parse_iip("Fif=a.tif&obj=MAX-SIZE&Obj=Colorspace,*,*");
  EXPECT_EQ(r.objects, (std::vector<std::string>{"max-size", "colorspace,*,*"}));
  EXPECT_EQ(parse_iip("FIF=a&cvt=PNG").format, Format::Png);
}

TEST(IipParse, FifIsDecodedExactly) {
  EXPECT_EQ(parse_iip("FIF=a%20b.tif&JTL=0,0").fif, "a b.tif");
  EXPECT_EQ(parse_iip("FIF=a+b.tif&JTL=0,0").fif, "a b.tif");  // iipsrv's '+'
  EXPECT_EQ(parse_iip("FIF=dir%2Fimg.tif&JTL=0,0").fif, "dir/img.tif");
  EXPECT_EQ(parse_iip("FIF=dir/img.tif&JTL=0,0").fif, "dir/img.tif");
  EXPECT_EQ(parse_iip("FIF=caf%C3%A9.tif&JTL=0,0").fif, "caf\xC3\xA9.tif");
  EXPECT_EQ(parse_iip("FIF=50%25.tif&JTL=0,0").fif, "50%.tif");
  EXPECT_EQ(parse_iip("FIF=a%3Db%26c.tif&JTL=0,0").fif, "a=b&c.tif");
  // Path safety is the resolver's: the parser keeps ".." and leading '/'.
  EXPECT_EQ(parse_iip("FIF=../secret.tif&JTL=0,0").fif, "../secret.tif");
  EXPECT_EQ(parse_iip("FIF=..%2F..%2Fetc%2Fpasswd&JTL=0,0").fif, "../../etc/passwd");
  EXPECT_EQ(parse_iip("FIF=/abs.tif&JTL=0,0").fif, "/abs.tif");
  // The same FIF twice is one FIF; two different ones are ambiguous.
  EXPECT_EQ(parse_iip("FIF=a&FIF=a&JTL=0,0").fif, "a");
  EXPECT_EQ(status_of([] { parse_iip("FIF=a&FIF=b&JTL=0,0"); }), 400);
}

TEST(IipParse, BadFifsAreBadRequests) {
  for (const char* q :
       {"FIF=a%00b&JTL=0,0", "FIF=a%0Ab&JTL=0,0", "FIF=a%0D%0Ab&JTL=0,0", "FIF=a%zz&JTL=0,0",
        "FIF=a%2&JTL=0,0", "FIF=a%2541&JTL=0,0", "FIF&JTL=0,0"}) {
    EXPECT_EQ(status_of([&] { parse_iip(q); }), 400) << q;
  }
}

TEST(IipParse, EveryValueIsPercentDecoded) {
  const IipRequest r = parse_iip("FIF=a&RGN=0.1%2C0.2%2C0.3%2C0.4&OBJ=iip%2C1.0&CVT=jpeg");
  EXPECT_EQ(*r.region, (IipRegion{0.1, 0.2, 0.3, 0.4}));
  EXPECT_EQ(r.objects, std::vector<std::string>{"iip,1.0"});
}

TEST(IipParse, TileCommands) {
  IipRequest r = parse_iip("FIF=a&PTL=3,7");
  EXPECT_EQ(r.action, Action::Tile);
  EXPECT_EQ(r.format, Format::Png);
  EXPECT_EQ(r.resolution, 3);
  EXPECT_EQ(r.tile, 7u);
  r = parse_iip("FIF=a&WTL=0,0");
  EXPECT_EQ(r.format, Format::Webp);
  r = parse_iip("FIF=a&JTLS=0,2,5,90");
  EXPECT_EQ(r.action, Action::Tile);
  EXPECT_EQ(r.resolution, 2);
  EXPECT_EQ(r.tile, 5u);
  EXPECT_EQ(r.view_x, 0);
  EXPECT_EQ(r.view_y, 90);
  r = parse_iip("FIF=a&TIL=2,0-5");
  EXPECT_EQ(r.action, Action::Tiles);
  EXPECT_EQ(r.resolution, 2);
  EXPECT_EQ(r.tile, 0u);
  EXPECT_EQ(r.last_tile, 5u);
  r = parse_iip("FIF=a&TIL=2,3");
  EXPECT_EQ(r.tile, 3u);
  EXPECT_EQ(r.last_tile, 3u);
  r = parse_iip("FIF=a&TIL=2,5-1");  // a range backwards is its first tile, as iipsrv
  EXPECT_EQ(r.tile, 5u);
  EXPECT_EQ(r.last_tile, 5u);
  // The first image command is the action; iipsrv would send both images.
  r = parse_iip("FIF=a&JTL=0,0&CVT=jpeg&PTL=1,1");
  EXPECT_EQ(r.action, Action::Tile);
  EXPECT_EQ(r.format, Format::Jpeg);
  EXPECT_EQ(r.resolution, 0);
}

TEST(IipParse, ConvertFormats) {
  EXPECT_EQ(parse_iip("FIF=a&CVT=jpeg").format, Format::Jpeg);
  EXPECT_EQ(parse_iip("FIF=a&CVT=jpg").format, Format::Jpeg);
  EXPECT_EQ(parse_iip("FIF=a&CVT=png").format, Format::Png);
  EXPECT_EQ(parse_iip("FIF=a&CVT=webp").format, Format::Webp);
  EXPECT_EQ(parse_iip("FIF=a&CVT=tiff").format, Format::Tiff);
  EXPECT_EQ(parse_iip("FIF=a&CVT=TIF").format, Format::Tiff);
  // iipsrv falls back to JPEG; a reply in a format not asked for is wrong.
  EXPECT_EQ(status_of([] { parse_iip("FIF=a&CVT=gif"); }), 400);
  EXPECT_EQ(status_of([] { parse_iip("FIF=a&CVT=jpeg2000"); }), 400);
}

TEST(IipParse, ViewParameters) {
  IipRequest r = parse_iip("FIF=a&WID=300&HEI=200&QLT=85&LYR=3&SDS=10,20&CVT=jpeg");
  EXPECT_EQ(r.width, 300u);
  EXPECT_EQ(r.height, 200u);
  EXPECT_EQ(r.quality, 85);
  EXPECT_EQ(r.layers, 3);
  EXPECT_EQ(r.view_x, 10);
  EXPECT_EQ(r.view_y, 20);
  r = parse_iip("FIF=a&SDS=5&JTL=0,0");
  EXPECT_EQ(r.view_x, 5);
  EXPECT_EQ(r.view_y, 0);  // iipsrv: one angle means y = 0
  r = parse_iip("FIF=a&JTL=0,0");
  EXPECT_EQ(r.quality, -1);
  EXPECT_EQ(r.layers, 0);
  EXPECT_EQ(r.view_y, 90);
  // Order does not matter, unlike in iipsrv; the last of a repeat wins.
  r = parse_iip("FIF=a&CVT=jpeg&WID=10&WID=20&QLT=0&QLT=100");
  EXPECT_EQ(r.width, 20u);
  EXPECT_EQ(r.quality, 100);
  // JavaScript prints small fractions in exponent form.
  r = parse_iip("FIF=a&RGN=1e-7,0,1,1.0&CVT=jpeg");
  EXPECT_EQ(*r.region, (IipRegion{1e-7, 0, 1, 1}));
}

TEST(IipParse, Rotation) {
  const auto rot = [](const char* value) {
    return parse_iip(std::string("FIF=a&JTL=0,0&ROT=") + value).rotation;
  };
  EXPECT_EQ(rot("0"), (RotationSpec{0, false}));
  EXPECT_EQ(rot("90"), (RotationSpec{90, false}));
  EXPECT_EQ(rot("180.0"), (RotationSpec{180, false}));
  EXPECT_EQ(rot("270"), (RotationSpec{270, false}));
  EXPECT_EQ(rot("360"), (RotationSpec{0, false}));
  EXPECT_EQ(rot("450"), (RotationSpec{90, false}));
  EXPECT_EQ(rot("-90"), (RotationSpec{270, false}));
  EXPECT_EQ(rot("!0"), (RotationSpec{0, true}));
  EXPECT_EQ(rot("!90"), (RotationSpec{90, true}));
  EXPECT_EQ(rot("!180"), (RotationSpec{180, true}));  // iipsrv's vertical flip
  EXPECT_EQ(rot("%21270"), (RotationSpec{270, true}));
  // Any angle for exports; tiles only by quarter turns.
  EXPECT_EQ(rot("45"), (RotationSpec{45, false}));
  EXPECT_EQ(rot("-30"), (RotationSpec{330, false}));
  EXPECT_EQ(parse_iip("FIF=a&CVT=jpeg&ROT=22.5").rotation, (RotationSpec{22.5, false}));
  ImageInfo info;
  info.width = 100, info.height = 80;
  info.levels = {LevelInfo{100, 80, 64, 64, 1.0}};
  EXPECT_EQ(reason_of([&] { iip_tile_query(parse_iip("FIF=a&JTL=0,0&ROT=45"), info); }),
            "ROT 45 turns tiles by other than a multiple of 90 degrees");
  EXPECT_EQ(status_of([&] { iip_til_tiles(parse_iip("FIF=a&TIL=0,0-1&ROT=45"), info); }), 400);
  for (const char* bad : {"abc", "", "!", "!!90", "nan", "inf", "9e999", "90deg"}) {
    if (*bad == '\0') continue;  // "ROT=" is skipped, as iipsrv skips empty values
    EXPECT_EQ(status_of([&] { rot(bad); }), 400) << bad;
  }
}

// Values iipsrv takes although they are out of range, read as it reads them,
// so that URLs that work with it work here.
TEST(IipParse, OutOfRangeValuesAsIipsrvReadsThem) {
  IipRequest r = parse_iip("FIF=a&RGN=-0.25,-1,0.5,1&WID=0&HEI=0&QLT=101&CVT=jpeg");
  EXPECT_EQ(r.region, (IipRegion{0, 0, 0.5, 1}));  // from the edge, the size kept
  EXPECT_EQ(r.width, 0u);                          // 0: not given
  EXPECT_EQ(r.height, 0u);
  EXPECT_EQ(r.quality, 100);
  EXPECT_EQ(parse_iip("FIF=a&QLT=-5&CVT=jpeg").quality, 0);
  EXPECT_EQ(parse_iip("FIF=a&QLT=250&CVT=jpeg").quality, 100);
}

TEST(IipParse, MalformedValuesAreBadRequests) {
  const std::vector<std::string> bad = {
      "FIF=a&JTL=abc",
      "FIF=a&JTL=1",
      "FIF=a&JTL=1,2,3",
      "FIF=a&JTL=-1,0",
      "FIF=a&JTL=1,-5",
      "FIF=a&JTL=1,",
      "FIF=a&JTL=,1",
      "FIF=a&JTL=99999999999,0",
      "FIF=a&JTL=0,99999999999",
      "FIF=a&JTL=0x1,0",
      "FIF=a&JTL=%201,0",
      "FIF=a&JTL=1.5,0",
      "FIF=a&PTL=1",
      "FIF=a&JTLS=1,2,3",
      "FIF=a&TIL=1",
      "FIF=a&TIL=1,a-2",
      "FIF=a&TIL=1,2-b",
      "FIF=a&WID=-5&CVT=jpeg",
      "FIF=a&WID=abc&CVT=jpeg",
      "FIF=a&WID=1.5&CVT=jpeg",
      "FIF=a&HEI=1e3&CVT=jpeg",
      "FIF=a&RGN=nan,0,1,1",
      "FIF=a&RGN=inf,0,1,1",
      "FIF=a&RGN=0,0,1",
      "FIF=a&RGN=0,0,1,1,1",
      "FIF=a&RGN=0,0,0,1",
      "FIF=a&RGN=0,0,1,0",
      "FIF=a&RGN=0,0,1e999,1",
      "FIF=a&RGN=a,b,c,d",
      "FIF=a&RGN=0,,1,1",
      "FIF=a&QLT=high",
      "FIF=a&QLT=50.5",
      "FIF=a&RGN=0,0,-1,1",
      "FIF=a&LYR=x",
      "FIF=a&LYR=70000",
      "FIF=a&SDS=a",
      "FIF=a&SDS=1,2,3",
      "FIF=a&JTL=1%2",
  };
  for (const auto& q : bad) {
    EXPECT_EQ(status_of([&] { parse_iip(q); }), 400) << q;
  }
  EXPECT_EQ(reason_of([] { parse_iip("FIF=a&JTL=x,0"); }),
            "invalid JTL value 'x,0'; expected resolution,tile");
}

TEST(IipParse, AnEmptyRequestIsABadRequest) {
  EXPECT_EQ(status_of([] { parse_iip(""); }), 400);
}

TEST(IipParse, ObjectsAreBounded) {
  std::string query = "FIF=a";
  for (int i = 0; i < 64; ++i) query += "&OBJ=Metadata";
  EXPECT_EQ(parse_iip(query).objects.size(), 64u);
  EXPECT_EQ(status_of([&] { parse_iip(query + "&OBJ=Max-size"); }), 400);
}

TEST(IipParse, EmptyPairsAreSkippedAsIipsrvDoes) {
  IipRequest r = parse_iip("FIF=a&&OBJ=&=x&OBJ=Max-size&");
  EXPECT_EQ(r.objects, std::vector<std::string>{"max-size"});
  EXPECT_TRUE(r.errors.empty());
  // A request of nothing but skipped pairs asks for nothing.
  r = parse_iip("&&");
  EXPECT_EQ(r.errors, (std::vector<IipError>{{"2 1", "&&"}}));
}

TEST(IipParse, IipErrorsAsIipsrvReportsThem) {
  // Unknown commands and objects, in request order.
  IipRequest r = parse_iip("FIF=a&OBJ=foo&FOO=1&OBJ=bar");
  EXPECT_EQ(r.errors, (std::vector<IipError>{{"3 2", "foo"}, {"2 2", "FOO"}, {"3 2", "bar"}}));
  r = parse_iip("FIF=a&OBJ=Max-size&Foo=1");
  EXPECT_EQ(r.errors, (std::vector<IipError>{{"2 2", "Foo"}}));
  r = parse_iip("FIF=a&OBJ=Max-size&FOO");
  EXPECT_EQ(r.errors, (std::vector<IipError>{{"2 2", "FOO"}}));
  r = parse_iip("FIF=a&OBJ=iip,2.0");  // any IIP version is answered as 1.0
  EXPECT_TRUE(r.errors.empty());
  // Asking for nothing: "2 1" with the whole request.
  r = parse_iip("FIF=im1000x700.tif");
  EXPECT_EQ(r.errors, (std::vector<IipError>{{"2 1", "FIF=im1000x700.tif"}}));
  r = parse_iip("FIF=a&WID=10");
  EXPECT_EQ(r.errors, (std::vector<IipError>{{"2 1", "FIF=a&WID=10"}}));
  // No image: "1 3" with the object, or with nothing for an image command.
  r = parse_iip("OBJ=Max-size");
  EXPECT_EQ(r.errors, (std::vector<IipError>{{"1 3", "max-size"}}));
  r = parse_iip("OBJ=IIP,1.0&OBJ=IIP-server&OBJ=Tile-size");
  EXPECT_EQ(r.errors, (std::vector<IipError>{{"1 3", "tile-size"}}));
  r = parse_iip("OBJ=IIP,1.0&OBJ=IIP-opt-comm&OBJ=IIP-opt-obj&OBJ=IIP-server");
  EXPECT_TRUE(r.errors.empty());
  r = parse_iip("JTL=0,0");
  EXPECT_EQ(r.errors, (std::vector<IipError>{{"1 3", ""}}));
  r = parse_iip("WID=100&CVT=jpeg");
  EXPECT_EQ(r.errors, (std::vector<IipError>{{"1 3", ""}}));
}

TEST(IipParse, ImageRequestsIgnoreUnknownCommands) {
  // Cache busters and unknown objects do not spoil a tile request.
  IipRequest r = parse_iip("FIF=a&JTL=1,2&_=1699999999&OBJ=foo");
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.action, Action::Tile);
  r = parse_iip("_=12&FIF=a&CVT=jpeg");
  EXPECT_TRUE(r.errors.empty());
}

TEST(IipParse, ProcessingCommandsBecomeAdjustments) {
  IipRequest r = parse_iip(
      "FIF=a&cnt=2.5&GAM=0.5&INV&CMP=jet&MINMAX=2:10,4000&MINMAX=1:0,1e3&"
      "CTW=[0.5,0.5,0;0,1,0;0,0,1]&COL=gray&JTL=0,0");
  EXPECT_TRUE(r.unimplemented.empty());
  EXPECT_TRUE(r.errors.empty());
  const Adjustments& a = r.adjust;
  EXPECT_EQ(a.contrast, 2.5);
  EXPECT_EQ(a.gamma, 0.5);
  EXPECT_TRUE(a.invert);
  EXPECT_EQ(a.colour_map, ColourMap::Jet);
  ASSERT_EQ(a.ranges.size(), 2u);
  EXPECT_EQ(a.ranges[0], (std::pair<int, BandRange>{1, {10, 4000}}));
  EXPECT_EQ(a.ranges[1], (std::pair<int, BandRange>{0, {0, 1000}}));
  EXPECT_EQ(a.twist, (std::vector<std::vector<double>>{{0.5, 0.5, 0}, {0, 1, 0}, {0, 0, 1}}));
  EXPECT_EQ(a.conversion, ColourConversion::Grey);
  EXPECT_EQ(status_of([&] { require_implemented(r); }), 200);
  // They reach the tile's query; a single-row twist without brackets too.
  r = parse_iip("FIF=a&SHD=45,30.5&JTL=0,0");
  EXPECT_EQ(r.adjust.shading, (Shading{45, 30.5}));
  r = parse_iip("FIF=a&CTW=0.3,0.6,0.1&COL=binary&CNT=1&JTL=0,0");
  EXPECT_EQ(r.adjust.twist, (std::vector<std::vector<double>>{{0.3, 0.6, 0.1}}));
  EXPECT_EQ(r.adjust.conversion, ColourConversion::Binary);
  EXPECT_EQ(r.adjust.contrast, 1.0);
  // A contrast and gamma of 1 change nothing.
  EXPECT_FALSE(parse_iip("FIF=a&CNT=1&GAM=1.0&JTL=0,0").adjust.any());
}

TEST(IipParse, MalformedProcessingValuesAnswer400) {
  for (const char* query : {
           "CNT=abc",       "CNT=-1",     "GAM=0",         "GAM=-2",          "GAM=x",
           "CMP=purple",    "COL=sepia",  "MINMAX=1:5,2",  "MINMAX=0:1,2",    "MINMAX=1:1",
           "MINMAX=a:1,2",  "MINMAX=1,2", "SHD=45",        "SHD=45,91",       "SHD=a,b",
           "SHD=1,2,3",     "CTW=abc",    "CTW=[1,0;0,1]", "CTW=[1,0,0;0,1]", "CTW=[]",
           "CTW=[1;2;3;4]",
       }) {
    EXPECT_EQ(status_of([&] { parse_iip(std::string("FIF=a&") + query + "&JTL=0,0"); }), 400)
        << query;
  }
  EXPECT_EQ(reason_of([] { parse_iip("FIF=a&CMP=purple&JTL=0,0"); }),
            "invalid CMP value 'purple'; expected GREY, JET, HOT, COLD, RED, GREEN or BLUE");
}

TEST(IipParse, ProcessingNotDoneIsRecordedForA501) {
  IipRequest r = parse_iip("FIF=a&CNV=2&JTL=0,0");
  EXPECT_EQ(r.unimplemented, std::vector<std::string>{"CNV"});
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(status_of([&] { require_implemented(r); }), 501);
  r = parse_iip("FIF=a&cnt=eq&GAM=log&INV&CNV=sobel&JTL=0,0");
  EXPECT_EQ(r.unimplemented, (std::vector<std::string>{"CNT=eq", "GAM=log", "CNV"}));
  EXPECT_EQ(reason_of([&] { require_implemented(r); }),
            "IIP image processing (CNT=eq, GAM=log, CNV) is not implemented");
  // OBJ replies are not changed by them.
  r = parse_iip("FIF=a&CNV=2&OBJ=Max-size");
  EXPECT_EQ(status_of([&] { require_implemented(r); }), 200);
}

TEST(IipParse, SpectraPoints) {
  IipRequest r = parse_iip("FIF=a&SPECTRA=2,5,10,3");
  EXPECT_EQ(r.action, Action::Spectra);
  EXPECT_EQ(status_of([&] { require_implemented(r); }), 200);
  ImageInfo info;
  info.width = 100, info.height = 80;
  info.levels = {LevelInfo{100, 80, 32, 32, 1.0}};
  const std::vector<ProtocolLevel> levels = {{25, 20, 4}, {50, 40, 2}, {100, 80, 1}};
  // Tile 5 of 4 x 3 is the second column of the second row.
  EXPECT_EQ(iip_spectra_point(r, levels, info), (std::pair<uint32_t, uint32_t>{42, 35}));
  // The last tile of a row is narrower: 100 - 96 = 4 pixels.
  r = parse_iip("FIF=a&SPECTRA=2,3,3,0");
  EXPECT_EQ(iip_spectra_point(r, levels, info), (std::pair<uint32_t, uint32_t>{99, 0}));
  r = parse_iip("FIF=a&SPECTRA=2,3,4,0");
  EXPECT_EQ(reason_of([&] { iip_spectra_point(r, levels, info); }),
            "SPECTRA point 4,0 lies outside tile 3, which is 4x32");
  r = parse_iip("FIF=a&SPECTRA=2,12,0,0");
  EXPECT_EQ(status_of([&] { iip_spectra_point(r, levels, info); }), 404);
  for (const char* bad :
       {"SPECTRA=1,2,3", "SPECTRA=a,0,0,0", "SPECTRA=0:0,0", "SPECTRA=0,0,-1,0"}) {
    EXPECT_EQ(status_of([&] { parse_iip(std::string("FIF=a&") + bad); }), 400) << bad;
  }
  EXPECT_EQ(format_iip_spectra({{0, 0.0392157}, {10, 1}}),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<spectra>\n"
            "\t<point>\n\t\t<wavelength>0</wavelength>\n\t\t<reflectance>0.039216</reflectance>\n"
            "\t</point>\n"
            "\t<point>\n\t\t<wavelength>10</wavelength>\n\t\t<reflectance>1.000000</reflectance>\n"
            "\t</point>\n</spectra>");
}

TEST(IipParse, ProfileLines) {
  IipRequest r = parse_iip("FIF=a&PFL=2:10,5-14,5");
  EXPECT_EQ(r.action, Action::Profile);
  EXPECT_EQ(r.resolution, 2);
  EXPECT_EQ(status_of([&] { require_implemented(r); }), 200);
  const std::vector<ProtocolLevel> levels = {{10, 8, 4}, {20, 15, 2}, {40, 30, 1}};
  using Points = std::vector<std::pair<uint32_t, uint32_t>>;
  // Horizontal and vertical as iipsrv: the end left out.
  EXPECT_EQ(iip_profile_line(r, levels).points, (Points{{10, 5}, {11, 5}, {12, 5}, {13, 5}}));
  EXPECT_EQ(iip_profile_line(r, levels).level, &levels[2]);
  r = parse_iip("FIF=a&PFL=1:3,0-3,3");
  EXPECT_EQ(iip_profile_line(r, levels).points, (Points{{3, 0}, {3, 1}, {3, 2}}));
  // Any other line, a step of one pixel along its longer axis; one point.
  r = parse_iip("FIF=a&PFL=2:0,0-4,2");
  EXPECT_EQ(iip_profile_line(r, levels).points, (Points{{0, 0}, {1, 1}, {2, 1}, {3, 2}}));
  r = parse_iip("FIF=a&PFL=2:5,5-2,5");
  EXPECT_EQ(iip_profile_line(r, levels).points, (Points{{5, 5}, {4, 5}, {3, 5}}));
  r = parse_iip("FIF=a&PFL=0:7,7-7,7");
  EXPECT_EQ(iip_profile_line(r, levels).points, (Points{{7, 7}}));
  // Out of the resolution, or no such resolution.
  r = parse_iip("FIF=a&PFL=0:0,0-10,0");
  EXPECT_EQ(reason_of([&] { iip_profile_line(r, levels); }),
            "PFL line 0,0-10,0 leaves resolution 0, which is 10x8");
  r = parse_iip("FIF=a&PFL=3:0,0-1,0");
  EXPECT_EQ(status_of([&] { iip_profile_line(r, levels); }), 404);
  for (const char* bad : {"PFL=abc", "PFL=0:1,2", "PFL=0:1,2-3", "PFL=0:-1,0-2,0", "PFL=x:1,1-2,2",
                          "PFL=0-1,1:2,2"}) {
    EXPECT_EQ(status_of([&] { parse_iip(std::string("FIF=a&") + bad); }), 400) << bad;
  }
  EXPECT_EQ(format_iip_profile({0, 256, 65535, 0.25}), "{\n\t\"profile\": [0,256,65535,0.25]\n}");
}

TEST(IipParse, OtherProtocolsInTheQueryString) {
  IipRequest r = parse_iip("DeepZoom=dir/image.tif.dzi");
  EXPECT_EQ(r.action, Action::DeepZoom);
  EXPECT_EQ(r.path, "dir/image.tif.dzi");
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(parse_deepzoom(r.path).identifier, "dir/image.tif");
  r = parse_iip("Zoomify=image.tif/TileGroup0/0-0-0.jpg");
  EXPECT_EQ(r.action, Action::Zoomify);
  EXPECT_EQ(r.path, "image.tif/TileGroup0/0-0-0.jpg");
  r = parse_iip("IIIF=a%20b.tif/full/max/0/default.jpg");
  EXPECT_EQ(r.action, Action::Iiif);
  EXPECT_EQ(r.path, "a%20b.tif/full/max/0/default.jpg");  // still encoded, for parse_iiif
}

// --- resolutions -------------------------------------------------------------

TEST(IipLevels, StoredLevelsSmallestFirst) {
  const auto levels = iip_levels(pyramid(1000, 700));
  ASSERT_EQ(levels.size(), 3u);
  EXPECT_EQ(levels[0], (ProtocolLevel{250, 175, 4}));
  EXPECT_EQ(levels[1], (ProtocolLevel{500, 350, 2}));
  EXPECT_EQ(levels[2], (ProtocolLevel{1000, 700, 1}));
}

TEST(IipLevels, VirtualLevelsBelowTheSmallestStoredOne) {
  // vips stops a 65536x3 pyramid at 32768x1; IIP goes on to one tile.
  const ImageInfo strip = pyramid(65536, 3, 256, 2);
  auto levels = iip_levels(strip);
  ASSERT_EQ(levels.size(), 9u);
  EXPECT_EQ(levels[0], (ProtocolLevel{256, 1, 256}));
  EXPECT_EQ(levels[6], (ProtocolLevel{16384, 1, 4}));
  EXPECT_EQ(levels[7], (ProtocolLevel{32768, 1, 2}));
  EXPECT_EQ(levels[8], (ProtocolLevel{65536, 3, 1}));
  IipOptions stored_only;
  stored_only.virtual_levels = false;
  EXPECT_EQ(iip_levels(strip, stored_only).size(), 2u);  // iipsrv's count for TIFF

  // A single stored level: floor halving as iipsrv's JPEG 2000 readers do.
  levels = iip_levels(pyramid(1001, 701, 256, 1));
  ASSERT_EQ(levels.size(), 3u);
  EXPECT_EQ(levels[0], (ProtocolLevel{250, 175, 4}));
  EXPECT_EQ(levels[1], (ProtocolLevel{500, 350, 2}));

  levels = iip_levels(pyramid(1, 1, 128));
  ASSERT_EQ(levels.size(), 1u);
  EXPECT_EQ(levels[0], (ProtocolLevel{1, 1, 1}));
}

// --- tiles -------------------------------------------------------------------

TEST(IipTiles, TileIndexCountsRowsAtTheResolution) {
  const ImageInfo info = pyramid(1000, 700);
  // Resolution 2 is 1000x700: 4x3 tiles.
  Query q = iip_tile_query(tile_request(2, 0), info);
  EXPECT_EQ(q.identifier, "im.tif");
  EXPECT_EQ(q.region, px(0, 0, 256, 256));
  EXPECT_EQ(q.size.kind, SizeSpec::Kind::WidthHeight);
  EXPECT_EQ(q.size.w, 256);
  EXPECT_EQ(q.size.h, 256);
  q = iip_tile_query(tile_request(2, 3), info);
  EXPECT_EQ(q.region, px(768, 0, 232, 256));
  EXPECT_EQ(q.size.w, 232);
  q = iip_tile_query(tile_request(2, 4), info);
  EXPECT_EQ(q.region, px(0, 256, 256, 256));
  q = iip_tile_query(tile_request(2, 11), info);
  EXPECT_EQ(q.region, px(768, 512, 232, 188));
  EXPECT_EQ(q.size.w, 232);
  EXPECT_EQ(q.size.h, 188);

  // Resolution 1 is 500x350: tile 3 is (1,1), 244x94.
  q = iip_tile_query(tile_request(1, 3), info);
  EXPECT_EQ(q.region, px(512, 512, 488, 188));
  EXPECT_EQ(q.size.w, 244);
  EXPECT_EQ(q.size.h, 94);
  const Plan plan = plan_image(q, info, {});
  EXPECT_EQ(plan.level, 1);
  EXPECT_EQ(plan.read, (PixelRect{256, 256, 244, 94}));

  // Resolution 0 is the whole image in one tile.
  q = iip_tile_query(tile_request(0, 0), info);
  EXPECT_EQ(q.region, px(0, 0, 1000, 700));
  EXPECT_EQ(q.size.w, 250);
  EXPECT_EQ(q.size.h, 175);
}

TEST(IipTiles, FormatsAndRotationComeAlong) {
  const ImageInfo info = pyramid(1000, 700);
  EXPECT_EQ(iip_tile_query(parse_iip("FIF=a&PTL=2,1"), info).format, Format::Png);
  EXPECT_EQ(iip_tile_query(parse_iip("FIF=a&WTL=2,1"), info).format, Format::Webp);
  Query q = iip_tile_query(parse_iip("FIF=a&ROT=90&JTL=2,1"), info);
  EXPECT_EQ(q.rotation, (RotationSpec{90, false}));
  EXPECT_EQ(q.region, px(256, 0, 256, 256));
  // Turned by 180 degrees, tiles count from the other end (iipsrv).
  q = iip_tile_query(parse_iip("FIF=a&ROT=180&JTL=2,0"), info);
  EXPECT_EQ(q.region, px(768, 512, 232, 188));
  EXPECT_EQ(q.rotation, (RotationSpec{180, false}));
  q = iip_tile_query(parse_iip("FIF=a&ROT=!180&JTL=2,0"), info);  // a flip does not
  EXPECT_EQ(q.region, px(0, 0, 256, 256));
}

TEST(IipTiles, VirtualResolutionsAreServed) {
  const ImageInfo one_level = pyramid(1000, 700, 256, 1);
  Query q = iip_tile_query(tile_request(0, 0), one_level);
  EXPECT_EQ(q.region, px(0, 0, 1000, 700));
  EXPECT_EQ(q.size.w, 250);
  EXPECT_EQ(q.size.h, 175);
  EXPECT_EQ(plan_image(q, one_level, {}).out_width, 250u);

  const ImageInfo strip = pyramid(65536, 3, 256, 2);
  q = iip_tile_query(tile_request(0, 0), strip);
  EXPECT_EQ(q.region, px(0, 0, 65536, 3));
  EXPECT_EQ(q.size.w, 256);
  EXPECT_EQ(q.size.h, 1);
  q = iip_tile_query(tile_request(8, 255), strip);
  EXPECT_EQ(q.region, px(65280, 0, 256, 3));
  EXPECT_EQ(q.size.h, 3);

  const ImageInfo dot = pyramid(1, 1, 128);
  q = iip_tile_query(tile_request(0, 0), dot);
  EXPECT_EQ(q.region, px(0, 0, 1, 1));
  EXPECT_EQ(q.size.w, 1);
}

TEST(IipTiles, MissingResolutionsAndTilesAreNotFound) {
  const ImageInfo info = pyramid(1000, 700);
  EXPECT_EQ(status_of([&] { iip_tile_query(tile_request(3, 0), info); }), 404);
  EXPECT_EQ(status_of([&] { iip_tile_query(tile_request(999999999, 0), info); }), 404);
  EXPECT_EQ(status_of([&] { iip_tile_query(tile_request(2, 12), info); }), 404);
  EXPECT_EQ(status_of([&] { iip_tile_query(tile_request(0, 1), info); }), 404);
  EXPECT_EQ(status_of([&] { iip_tile_query(tile_request(2, 999999999), info); }), 404);
  EXPECT_EQ(reason_of([&] { iip_tile_query(tile_request(2, 12), info); }),
            "IIP tile 12 does not exist; resolution 2 has 12 tiles (4x3)");
  EXPECT_EQ(reason_of([&] { iip_tile_query(tile_request(3, 0), info); }),
            "IIP resolution 3 does not exist; this image has resolutions 0 to 2");
}

TEST(IipTiles, TilRectangles) {
  const ImageInfo info = pyramid(1000, 700);
  auto tiles = iip_til_tiles(parse_iip("FIF=a&TIL=2,1-6"), info);
  std::vector<uint64_t> indices;
  for (const auto& t : tiles) indices.push_back(t.index);
  EXPECT_EQ(indices, (std::vector<uint64_t>{1, 5, 2, 6}));  // column by column
  EXPECT_EQ(tiles[1].query.region, px(256, 256, 256, 256));

  tiles = iip_til_tiles(parse_iip("FIF=a&TIL=2,3-4"), info);  // corners swap across
  EXPECT_EQ(tiles.size(), 8u);
  EXPECT_EQ(tiles.front().index, 0u);
  EXPECT_EQ(tiles.back().index, 7u);
  EXPECT_EQ(iip_til_tiles(parse_iip("FIF=a&TIL=2,0-11"), info).size(), 12u);
  EXPECT_EQ(iip_til_tiles(parse_iip("FIF=a&TIL=0,0"), info).size(), 1u);
  EXPECT_EQ(status_of([&] { iip_til_tiles(parse_iip("FIF=a&TIL=2,0-12"), info); }), 404);
  EXPECT_EQ(status_of([&] { iip_til_tiles(parse_iip("FIF=a&TIL=3,0"), info); }), 404);

  const ImageInfo big = pyramid(8192, 8192);  // 32x32 tiles at full size
  EXPECT_EQ(iip_til_tiles(parse_iip("FIF=a&TIL=5,0-495"), big).size(), 256u);
  EXPECT_EQ(status_of([&] { iip_til_tiles(parse_iip("FIF=a&TIL=5,0-1023"), big); }), 400);
}

TEST(IipTiles, TilFraming) {
  const std::string framed = frame_iip_til_tile(2, 5, "JPEG!");
  const std::string expected = std::string("Tile,2,5,0/13:") +
                               std::string("\x02\x00\x00\x00\x00\x11\x00\x00", 8) + "JPEG!\r\n";
  EXPECT_EQ(framed, expected);
}

// --- CVT ---------------------------------------------------------------------

Query cvt(const std::string& params, const ImageInfo& info, IipOptions options = {}) {
  return iip_cvt_query(parse_iip("FIF=im.tif&" + params + "&CVT=jpeg"), info, options);
}

TEST(IipConvert, SizesAsIipsrvComputesThem) {
  const ImageInfo info = pyramid(1000, 700);
  const auto size = [&](const std::string& params) {
    const Query q = cvt(params, info);
    return std::pair<int, int>(q.size.w, q.size.h);
  };
  // Each compared with Debian's iipsrv 1.1 on a 1000x700 image.
  EXPECT_EQ(size("WID=300"), (std::pair<int, int>{300, 210}));
  EXPECT_EQ(size("HEI=300"), (std::pair<int, int>{429, 300}));
  EXPECT_EQ(size("WID=300&HEI=300"), (std::pair<int, int>{300, 210}));
  EXPECT_EQ(size("RGN=0.5,0.5,0.5,0.5&WID=100"), (std::pair<int, int>{100, 70}));
  EXPECT_EQ(size("RGN=0.8,0.8,0.5,0.5&WID=100"), (std::pair<int, int>{100, 70}));
  EXPECT_EQ(size("RGN=0.1,0.1,0.3,0.2&WID=100&HEI=100"), (std::pair<int, int>{100, 47}));
  EXPECT_EQ(size("WID=2000"), (std::pair<int, int>{2000, 1400}));
  // Without WID or HEI, the region at full resolution (iipsrv 1.1 scales a
  // region up to the image's width instead).
  EXPECT_EQ(size("RGN=0.1,0.1,0.3,0.2"), (std::pair<int, int>{300, 140}));
  EXPECT_EQ(size("WID=1&HEI=1"), (std::pair<int, int>{1, 1}));
}

TEST(IipConvert, Regions) {
  const ImageInfo info = pyramid(1000, 700);
  Query q = cvt("WID=100", info);
  EXPECT_EQ(q.kind, QueryKind::Image);
  EXPECT_EQ(q.identifier, "im.tif");
  EXPECT_EQ(q.region, px(0, 0, 1000, 700));
  EXPECT_EQ(q.format, Format::Jpeg);
  q = cvt("RGN=0.25,0.25,0.5,0.5", info);
  EXPECT_EQ(q.region, px(250, 175, 500, 350));
  q = cvt("RGN=0.8,0.8,0.5,0.5", info);  // clipped at the image's edge
  EXPECT_EQ(q.region, px(800, 560, 200, 140));
  q = cvt("RGN=0,0,5,5", info);
  EXPECT_EQ(q.region, px(0, 0, 1000, 700));
  q = cvt("RGN=0,0,1e-9,1e-9", info);  // at least one pixel
  EXPECT_EQ(q.region, px(0, 0, 1, 1));
  EXPECT_EQ(q.size.w, 1);
  // iipsrv 1.1 crashes on this one.
  EXPECT_EQ(status_of([&] { cvt("RGN=1,1,1,1", info); }), 400);
  EXPECT_EQ(status_of([&] { cvt("RGN=0.9995,0,1,1", info); }), 400);
  // Each resolves inside the image for the planner.
  for (const char* params : {"RGN=0.999,0.999,1,1", "RGN=0.3333,0.6667,0.3333,0.3333&WID=77",
                             "RGN=0,0,1,1&WID=1000&HEI=700"}) {
    const Query c = cvt(params, info);
    const Plan plan = plan_image(c, info, {5000, 5000, 0});
    EXPECT_EQ(plan.out_width, uint32_t(c.size.w)) << params;
    EXPECT_EQ(plan.out_height, uint32_t(c.size.h)) << params;
  }
}

TEST(IipConvert, LimitsAndOptions) {
  const ImageInfo info = pyramid(1000, 700);
  Query q = cvt("WID=20000", info);  // MAX_CVT 5000 by default
  EXPECT_EQ(q.size.w, 5000);
  EXPECT_EQ(q.size.h, 3500);
  q = cvt("HEI=9000&RGN=0,0,0.1,1", info);  // a tall region fits by its height
  EXPECT_EQ(q.size.h, 5000);
  EXPECT_EQ(q.size.w, 714);
  IipOptions options;
  options.max_cvt = 0;
  q = cvt("WID=20000", info, options);
  EXPECT_EQ(q.size.w, 20000);
  options.allow_upscaling = false;
  q = cvt("WID=2000", info, options);
  EXPECT_EQ(q.size.w, 1000);
  EXPECT_EQ(q.size.h, 700);
  q = cvt("WID=500", info, options);
  EXPECT_EQ(q.size.w, 500);
}

TEST(IipConvert, RotationAndFormat) {
  const ImageInfo info = pyramid(1000, 700);
  Query q = iip_cvt_query(parse_iip("FIF=a&WID=300&ROT=90&CVT=png"), info);
  EXPECT_EQ(q.rotation, (RotationSpec{90, false}));
  EXPECT_EQ(q.format, Format::Png);
  EXPECT_EQ(q.size.w, 300);  // before rotation, as iipsrv
  EXPECT_EQ(q.size.h, 210);
}

// --- OBJ ---------------------------------------------------------------------

TEST(IipObj, IipsrvsReplyLineByLine) {
  const ImageInfo info = pyramid(1000, 700);
  const IipRequest r = parse_iip(
      "FIF=im1000x700.tif&OBJ=IIP,1.0&OBJ=Max-size&OBJ=Tile-size&OBJ=Resolution-number&"
      "OBJ=Resolutions&OBJ=Bits-per-channel&OBJ=Vertical-views&OBJ=Horizontal-views&"
      "OBJ=Min-Max-sample-values&OBJ=IIP-opt-obj&OBJ=IIP-server&OBJ=colorspace,*,*&"
      "OBJ=Summary-info&OBJ=title");
  ASSERT_TRUE(r.errors.empty());
  const IipReply reply = describe_iip_obj(r.objects, info);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.content_type, "application/vnd.netfpx");
  // Debian's iipsrv 1.1 answers this request with exactly these lines.
  EXPECT_EQ(reply.body,
            "IIP:1.0\r\n"
            "Max-size:1000 700\r\n"
            "Tile-size:256 256\r\n"
            "Resolution-number:3\r\n"
            "Resolutions:250 175,500 350,1000 700\r\n"
            "Bits-per-channel:8\r\n"
            "Vertical-views:90\r\n"
            "Horizontal-views:0\r\n"
            "Min-Max-sample-values: 0  255  0  255  0  255\r\n"
            "IIP-opt-obj:Horizontal-views Vertical-views Tile-size Bits-per-channel "
            "Min-Max-sample-values Resolutions\r\n"
            "IIP-server:3.65\r\n"
            "Colorspace,0-2,0:0 0 3 3 0 1 2\r\n");
}

TEST(IipObj, BasicInfoAndTheProtocolLine) {
  const ImageInfo info = pyramid(1000, 700);
  EXPECT_EQ(describe_iip_obj({"basic-info"}, info).body,
            "IIP-server:3.65\r\nMax-size:1000 700\r\nResolution-number:3\r\n"
            "Colorspace,0-2,0:0 0 3 3 0 1 2\r\n");
  // The protocol line comes first wherever it was asked.
  EXPECT_EQ(describe_iip_obj({"max-size", "iip,1.0"}, info).body,
            "IIP:1.0\r\nMax-size:1000 700\r\n");
  EXPECT_EQ(describe_iip_obj({"iip,1.0"}, info).body, "IIP:1.0\r\n");
  EXPECT_EQ(describe_iip_obj({"iip-opt-comm"}, info).body,
            "IIP-opt-comm:CVT QLT JTL JTLS PTL WTL TIL WID HEI RGN ROT SDS LYR CNT GAM INV CMP CTW "
            "MINMAX COL SHD PFL SPECTRA\r\n");
}

TEST(IipObj, SizesFollowRotationAndVirtualLevels) {
  const ImageInfo info = pyramid(1000, 700);
  EXPECT_EQ(describe_iip_obj({"max-size"}, info, {}, {90, false}).body, "Max-size:700 1000\r\n");
  EXPECT_EQ(describe_iip_obj({"max-size"}, info, {}, {270, true}).body, "Max-size:700 1000\r\n");
  EXPECT_EQ(describe_iip_obj({"max-size"}, info, {}, {180, false}).body, "Max-size:1000 700\r\n");

  const ImageInfo strip = pyramid(65536, 3, 256, 2);
  EXPECT_EQ(describe_iip_obj({"resolution-number", "resolutions"}, strip).body,
            "Resolution-number:9\r\n"
            "Resolutions:256 1,512 1,1024 1,2048 1,4096 1,8192 1,16384 1,32768 1,65536 3\r\n");
  IipOptions stored_only;
  stored_only.virtual_levels = false;
  EXPECT_EQ(
      describe_iip_obj({"resolution-number", "resolutions", "colorspace"}, strip, stored_only).body,
      "Resolution-number:2\r\nResolutions:32768 1,65536 3\r\n"
      "Colorspace,0-1,0:0 0 3 3 0 1 2\r\n");

  const ImageInfo dot = pyramid(1, 1, 128);
  EXPECT_EQ(
      describe_iip_obj({"max-size", "resolutions", "resolution-number", "tile-size"}, dot).body,
      "Max-size:1 1\r\nResolutions:1 1\r\nResolution-number:1\r\nTile-size:128 128\r\n");
}

TEST(IipObj, SampleLayouts) {
  ImageInfo grey = pyramid(1000, 700);
  grey.bands = 1;
  grey.bits_per_sample = 16;
  grey.sample_type = SampleType::U16;
  grey.colour_space = ColourSpace::Grey;
  EXPECT_EQ(
      describe_iip_obj({"bits-per-channel", "min-max-sample-values", "colorspace,*,*"}, grey).body,
      "Bits-per-channel:16\r\nMin-Max-sample-values: 0  65535\r\n"
      "Colorspace,0-2,0:0 0 1 1 0\r\n");

  ImageInfo lab = pyramid(1000, 700);
  lab.colour_space = ColourSpace::Cielab;
  EXPECT_EQ(describe_iip_obj({"colorspace"}, lab).body, "Colorspace,0-2,0:1 0 4 3 0 1 2\r\n");

  ImageInfo floats = pyramid(1000, 700);
  floats.bands = 2;
  floats.bits_per_sample = 32;
  floats.sample_type = SampleType::F32;
  EXPECT_EQ(describe_iip_obj({"min-max-sample-values"}, floats).body,
            "Min-Max-sample-values: 0  1  0  1\r\n");
  IipOptions range;
  range.sample_min = {-1.5, 0.1};
  range.sample_max = {2.25, 1e10};
  EXPECT_EQ(describe_iip_obj({"min-max-sample-values"}, floats, range).body,
            "Min-Max-sample-values: -1.5  2.25  0.100000001  1e+10\r\n");

  ImageInfo u32 = pyramid(1000, 700);
  u32.bands = 1;
  u32.bits_per_sample = 32;
  u32.sample_type = SampleType::U32;
  EXPECT_EQ(describe_iip_obj({"min-max-sample-values"}, u32).body,
            "Min-Max-sample-values: 0  4.2949673e+09\r\n");

  ImageInfo twelve = pyramid(1000, 700);
  twelve.bands = 1;
  twelve.bits_per_sample = 12;
  twelve.sample_type = SampleType::U16;
  EXPECT_EQ(describe_iip_obj({"min-max-sample-values"}, twelve).body,
            "Min-Max-sample-values: 0  4095\r\n");
}

TEST(IipObj, Dpi) {
  ImageInfo info = pyramid(1000, 700);
  EXPECT_EQ(describe_iip_obj({"dpi"}, info).body, "");
  info.dpi_x = 300;
  info.dpi_y = 150.5;
  EXPECT_EQ(describe_iip_obj({"dpi"}, info).body, "DPI:300.000000 150.500000\r\n");
}

TEST(IipObj, MetadataFieldsAreIipStrings) {
  ImageInfo info = pyramid(1000, 700);
  info.metadata = {
      {"title", "My Title"}, {"description", "A \"quoted\" description"}, {"creator", "Jane Doe"},
      {"software", "vips"},  {"rights", "line one\r\nline two"},          {"icc", "binary"}};
  EXPECT_EQ(describe_iip_obj({"title"}, info).body, "title/8:My Title\r\n");
  // iipsrv 1.1's names for the same fields.
  EXPECT_EQ(describe_iip_obj({"subject", "author", "app-name"}, info).body,
            "subject/22:A \"quoted\" description\r\nauthor/8:Jane Doe\r\napp-name/4:vips\r\n");
  EXPECT_EQ(describe_iip_obj({"summary-info"}, info).body,
            "rights/18:line one\r\nline two\r\n"
            "description/22:A \"quoted\" description\r\n"
            "creator/8:Jane Doe\r\n"
            "software/4:vips\r\n");
  EXPECT_EQ(describe_iip_obj({"date", "keywords", "xmp"}, info).body, "");

  IipReply json = describe_iip_obj({"metadata"}, info);
  EXPECT_EQ(json.content_type, "application/json");
  EXPECT_EQ(json.body,
            "{ \n"
            "\t\"creator\": \"Jane Doe\",\n"
            "\t\"description\": \"A \\\"quoted\\\" description\",\n"
            "\t\"rights\": \"line one\\r\\nline two\",\n"
            "\t\"software\": \"vips\",\n"
            "\t\"title\": \"My Title\"\n"
            "}\r\n");
  EXPECT_EQ(nlohmann::json::parse(json.body)["creator"], "Jane Doe");
  info.metadata.clear();
  EXPECT_EQ(describe_iip_obj({"metadata"}, info).body, "{\n}\r\n");
}

TEST(IipObj, UnknownObjectsMakeAnErrorReply) {
  const IipReply reply = describe_iip_obj({"max-size", "foo"}, pyramid(1000, 700));
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body, "Error/7:3 2 foo\r\n");
}

// --- errors ------------------------------------------------------------------

TEST(IipErrors, IipsrvsErrorLines) {
  // Each as Debian's iipsrv 1.1 sends it.
  EXPECT_EQ(format_iip_error({"3 2", "foo"}), "Error/7:3 2 foo\r\n");
  EXPECT_EQ(format_iip_error({"3 2", "metadata"}), "Error/12:3 2 metadata\r\n");
  EXPECT_EQ(format_iip_error({"2 2", "FOO"}), "Error/7:2 2 FOO\r\n");
  EXPECT_EQ(format_iip_error({"1 3", "max-size"}), "Error/12:1 3 max-size\r\n");
  EXPECT_EQ(format_iip_error({"1 3", ""}), "Error/4:1 3 \r\n");
  EXPECT_EQ(format_iip_error({"2 1", "FIF=im1000x700.tif"}), "Error/22:2 1 FIF=im1000x700.tif\r\n");
  // iipsrv cuts the line at 31 bytes but states the full length; the whole
  // line is sent here, so the length is right.
  EXPECT_EQ(format_iip_error({"2 1", "FIF=meta.tif&OBJ=title"}),
            "Error/26:2 1 FIF=meta.tif&OBJ=title\r\n");
  // Control bytes cannot break the reply's lines.
  EXPECT_EQ(format_iip_error({"2 2", "a\r\nb"}), "Error/14:2 2 a\\x0D\\x0Ab\r\n");
  const std::string longest = format_iip_error({"2 1", std::string(5000, 'x')});
  EXPECT_LT(longest.size(), 120u);
}

TEST(IipErrors, ErrorReply) {
  const IipReply reply = iip_error_reply({{"3 2", "foo"}, {"3 2", "bar"}});
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.content_type, "application/vnd.netfpx");
  EXPECT_EQ(reply.body, "Error/7:3 2 foo\r\nError/7:3 2 bar\r\n");
  ASSERT_EQ(reply.headers.size(), 2u);
  EXPECT_EQ(reply.headers[0], (std::pair<std::string, std::string>{"Cache-Control", "no-cache"}));
  EXPECT_EQ(reply.headers[1].first, "Content-Disposition");
}

TEST(IipErrors, ParseToReply) {
  const IipRequest r = parse_iip("fif=im.tif&obj=max-size&OBJ=foo&OBJ=bar");
  EXPECT_EQ(iip_error_reply(r.errors).body, "Error/7:3 2 foo\r\nError/7:3 2 bar\r\n");
}

}  // namespace
}  // namespace tessera
