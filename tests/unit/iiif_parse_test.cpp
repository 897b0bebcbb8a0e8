#include <gtest/gtest.h>

#include <cctype>
#include <ostream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "protocol/iiif.hpp"
#include "protocol/percent.hpp"

namespace tessera {
namespace {

// --- builders for the expected Query values --------------------------------

RegionSpec full_region() { return {}; }
RegionSpec square_region() { return {RegionSpec::Kind::Square, 0, 0, 0, 0}; }
RegionSpec px(double x, double y, double w, double h) {
  return {RegionSpec::Kind::Pixels, x, y, w, h};
}
RegionSpec pct(double x, double y, double w, double h) {
  return {RegionSpec::Kind::Percent, x, y, w, h};
}

SizeSpec size_of(SizeSpec::Kind kind, int w, int h, double percent, bool upscale) {
  SizeSpec s;
  s.kind = kind;
  s.w = w;
  s.h = h;
  s.percent = percent;
  s.upscale = upscale;
  return s;
}
SizeSpec max_size(bool up = false) { return size_of(SizeSpec::Kind::Max, 0, 0, 0, up); }
SizeSpec by_w(int w, bool up = false) { return size_of(SizeSpec::Kind::Width, w, 0, 0, up); }
SizeSpec by_h(int h, bool up = false) { return size_of(SizeSpec::Kind::Height, 0, h, 0, up); }
SizeSpec by_pct(double n, bool up = false) { return size_of(SizeSpec::Kind::Percent, 0, 0, n, up); }
SizeSpec by_wh(int w, int h, bool up = false) {
  return size_of(SizeSpec::Kind::WidthHeight, w, h, 0, up);
}
SizeSpec fit(int w, int h, bool up = false) {
  return size_of(SizeSpec::Kind::BestFit, w, h, 0, up);
}

RotationSpec rot(double degrees, bool mirror = false) { return {degrees, mirror}; }

Query image(std::string id, RegionSpec region, SizeSpec size, RotationSpec rotation = rot(0),
            Quality quality = Quality::Default, Format format = Format::Jpeg, int version = 3) {
  Query q;
  q.kind = QueryKind::Image;
  q.identifier = std::move(id);
  q.iiif_version = version;
  q.region = region;
  q.size = size;
  q.rotation = rotation;
  q.quality = quality;
  q.format = format;
  return q;
}
Query v2(Query q) {
  q.iiif_version = 2;
  return q;
}
Query info(std::string id, int version = 3) {
  Query q;
  q.kind = QueryKind::Info;
  q.identifier = std::move(id);
  q.iiif_version = version;
  return q;
}
Query base(std::string id, int version = 3) {
  Query q;
  q.kind = QueryKind::BaseRedirect;
  q.identifier = std::move(id);
  q.iiif_version = version;
  return q;
}

std::string test_name(size_t index, const std::string& path) {
  std::string name = "c" + std::to_string(index) + "_";
  for (const unsigned char c : path) name.push_back(std::isalnum(c) ? char(c) : '_');
  return name.substr(0, 60);
}

// --- valid requests -----------------------------------------------------------

struct ValidCase {
  std::string path;
  int version;
  Query expected;
};

void PrintTo(const ValidCase& c, std::ostream* os) {
  *os << "v" << c.version << " " << quote_for_reason(c.path);
}

const Quality kDefault = Quality::Default;
const Format kJpg = Format::Jpeg;

std::vector<ValidCase> valid_cases() {
  return {
      // IIIF 3.0 spec, 4.1 region examples
      {"abcd1234/full/max/0/default.jpg", 3, image("abcd1234", full_region(), max_size())},
      {"abcd1234/square/max/0/default.jpg", 3, image("abcd1234", square_region(), max_size())},
      {"abcd1234/125,15,120,140/max/0/default.jpg", 3,
       image("abcd1234", px(125, 15, 120, 140), max_size())},
      {"abcd1234/pct:41.6,7.5,40,70/max/0/default.jpg", 3,
       image("abcd1234", pct(41.6, 7.5, 40, 70), max_size())},
      {"abcd1234/125,15,200,200/max/0/default.jpg", 3,
       image("abcd1234", px(125, 15, 200, 200), max_size())},
      {"abcd1234/pct:41.6,7.5,66.6,100/max/0/default.jpg", 3,
       image("abcd1234", pct(41.6, 7.5, 66.6, 100), max_size())},
      // 4.2 size examples
      {"abcd1234/full/^max/0/default.jpg", 3, image("abcd1234", full_region(), max_size(true))},
      {"abcd1234/full/150,/0/default.jpg", 3, image("abcd1234", full_region(), by_w(150))},
      {"abcd1234/full/^360,/0/default.jpg", 3, image("abcd1234", full_region(), by_w(360, true))},
      {"abcd1234/full/,150/0/default.jpg", 3, image("abcd1234", full_region(), by_h(150))},
      {"abcd1234/full/^,240/0/default.jpg", 3, image("abcd1234", full_region(), by_h(240, true))},
      {"abcd1234/full/pct:50/0/default.jpg", 3, image("abcd1234", full_region(), by_pct(50))},
      {"abcd1234/full/^pct:120/0/default.jpg", 3,
       image("abcd1234", full_region(), by_pct(120, true))},
      {"abcd1234/full/225,100/0/default.jpg", 3, image("abcd1234", full_region(), by_wh(225, 100))},
      {"abcd1234/full/^360,360/0/default.jpg", 3,
       image("abcd1234", full_region(), by_wh(360, 360, true))},
      {"abcd1234/full/!225,100/0/default.jpg", 3, image("abcd1234", full_region(), fit(225, 100))},
      {"abcd1234/full/^!360,360/0/default.jpg", 3,
       image("abcd1234", full_region(), fit(360, 360, true))},
      // 4.3 rotation examples
      {"abcd1234/full/max/180/default.jpg", 3,
       image("abcd1234", full_region(), max_size(), rot(180))},
      {"abcd1234/full/max/90/default.jpg", 3,
       image("abcd1234", full_region(), max_size(), rot(90))},
      {"abcd1234/full/max/22.5/default.png", 3,
       image("abcd1234", full_region(), max_size(), rot(22.5), kDefault, Format::Png)},
      {"abcd1234/full/max/!0/default.jpg", 3,
       image("abcd1234", full_region(), max_size(), rot(0, true))},
      {"abcd1234/full/max/!180/default.jpg", 3,
       image("abcd1234", full_region(), max_size(), rot(180, true))},
      // 4.4 qualities
      {"abcd1234/full/max/0/color.jpg", 3,
       image("abcd1234", full_region(), max_size(), rot(0), Quality::Color)},
      {"abcd1234/full/max/0/gray.jpg", 3,
       image("abcd1234", full_region(), max_size(), rot(0), Quality::Gray)},
      {"abcd1234/full/max/0/bitonal.jpg", 3,
       image("abcd1234", full_region(), max_size(), rot(0), Quality::Bitonal)},
      // 4.5 formats
      {"abcd1234/full/max/0/default.png", 3,
       image("abcd1234", full_region(), max_size(), rot(0), kDefault, Format::Png)},
      {"abcd1234/full/max/0/default.tif", 3,
       image("abcd1234", full_region(), max_size(), rot(0), kDefault, Format::Tiff)},
      {"abcd1234/full/max/0/default.gif", 3,
       image("abcd1234", full_region(), max_size(), rot(0), kDefault, Format::Gif)},
      {"abcd1234/full/max/0/default.jp2", 3,
       image("abcd1234", full_region(), max_size(), rot(0), kDefault, Format::Jp2)},
      {"abcd1234/full/max/0/default.pdf", 3,
       image("abcd1234", full_region(), max_size(), rot(0), kDefault, Format::Pdf)},
      {"abcd1234/full/max/0/default.webp", 3,
       image("abcd1234", full_region(), max_size(), rot(0), kDefault, Format::Webp)},
      // 4.6 order of implementation
      {"abcd1234/125,15,120,140/90,/!345/gray.jpg", 3,
       image("abcd1234", px(125, 15, 120, 140), by_w(90), rot(345, true), Quality::Gray)},
      // 5.3 a "sizes" request in the canonical w,h form
      {"abcd1234/full/150,100/0/default.jpg", 3, image("abcd1234", full_region(), by_wh(150, 100))},
      // 3.0 implementation notes: a tile request at scale factor 4
      {"abcd1234/1024,1024,1024,1024/256,256/0/default.jpg", 3,
       image("abcd1234", px(1024, 1024, 1024, 1024), by_wh(256, 256))},

      // Info and base URI
      {"abcd1234/info.json", 3, info("abcd1234")},
      {"abcd1234", 3, base("abcd1234")},
      {"abcd1234/", 3, base("abcd1234")},
      {"scan.tif", 3, base("scan.tif")},
      {"folder/scan.tif", 3, base("folder/scan.tif")},
      {"a/b/c/d/", 3, base("a/b/c/d")},
      {"a/b/c/d/e/", 3, base("a/b/c/d/e")},
      {"info.json/info.json", 3, info("info.json")},
      // Short paths are base URIs unless the last segment names a quality
      {"abcd/full/max/0", 3, base("abcd/full/max/0")},

      // Identifiers with raw slashes and with %2F
      {"folder/sub/scan/info.json", 3, info("folder/sub/scan")},
      {"folder/sub/scan/full/max/0/default.jpg", 3,
       image("folder/sub/scan", full_region(), max_size())},
      {"folder%2Fsub%2Fscan/full/max/0/default.jpg", 3,
       image("folder/sub/scan", full_region(), max_size())},
      {"folder%2fsub%2fscan/info.json", 3, info("folder/sub/scan")},
      {"folder%2Fsub/scan/info.json", 3, info("folder/sub/scan")},
      {"a%2Fb%2Fc%2Fd%2Fe", 3, base("a/b/c/d/e")},
      {"ark:%2F12025%2F654xz321/info.json", 3, info("ark:/12025/654xz321")},
      {"my%20scan%2B1.tif/info.json", 3, info("my scan+1.tif")},
      {"a+b/info.json", 3, info("a+b")},  // '+' is not a space in a path
      {"100%25/info.json", 3, info("100%")},
      {"50%25off/info.json", 3, info("50%off")},
      {"caf%C3%A9/info.json", 3, info("caf\xC3\xA9")},
      // The parser does not judge path safety: the resolver does.
      {"..%2F..%2Fetc%2Fpasswd/info.json", 3, info("../../etc/passwd")},
      {"../secret/info.json", 3, info("../secret")},
      {"%2Fetc%2Fpasswd/info.json", 3, info("/etc/passwd")},

      // Encoded parameter characters are decoded before parsing
      {"id/full/%5Emax/0/default.jpg", 3, image("id", full_region(), max_size(true))},
      {"id/pct%3A10,10,50,50/max/0/default.jpg", 3, image("id", pct(10, 10, 50, 50), max_size())},
      {"id/full/%21100,100/0/default.jpg", 3, image("id", full_region(), fit(100, 100))},
      {"id/info%2Ejson", 3, info("id")},

      // Number grammar edges that are accepted
      {"id/0,0,1,1/1,/0/default.jpg", 3, image("id", px(0, 0, 1, 1), by_w(1))},
      {"id/007,0,010,10/max/0/default.jpg", 3, image("id", px(7, 0, 10, 10), max_size())},
      {"id/999999999,0,999999999,1/max/0/default.jpg", 3,
       image("id", px(999999999, 0, 999999999, 1), max_size())},
      {"id/full/999999999,/0/default.jpg", 3, image("id", full_region(), by_w(999999999))},
      {"id/pct:0,0,0.5,100/max/0/default.jpg", 3, image("id", pct(0, 0, 0.5, 100), max_size())},
      {"id/pct:.5,5.,100.0,33.333333333333336/max/0/default.jpg", 3,
       image("id", pct(0.5, 5, 100, 33.333333333333336), max_size())},
      {"id/full/pct:100/0/default.jpg", 3, image("id", full_region(), by_pct(100))},
      {"id/full/pct:0.1/0/default.jpg", 3, image("id", full_region(), by_pct(0.1))},
      {"id/full/^pct:1000/0/default.jpg", 3, image("id", full_region(), by_pct(1000, true))},
      {"id/full/max/360/default.jpg", 3, image("id", full_region(), max_size(), rot(360))},
      {"id/full/max/!360/default.jpg", 3, image("id", full_region(), max_size(), rot(360, true))},
      {"id/full/max/0.000001/default.jpg", 3,
       image("id", full_region(), max_size(), rot(0.000001))},
      {"id/full/max/359.99/default.jpg", 3, image("id", full_region(), max_size(), rot(359.99))},
      {"id/full/max/90.0/default.jpg", 3, image("id", full_region(), max_size(), rot(90))},
      // A region beyond the image is syntax the planner judges
      {"id/pct:150,0,100,100/max/0/default.jpg", 3, image("id", pct(150, 0, 100, 100), max_size())},

      // IIIF 2.1: spec examples use size "full"; explicit sizes may upscale
      {"abcd1234/full/full/0/default.jpg", 2, v2(image("abcd1234", full_region(), max_size()))},
      {"abcd1234/square/full/0/default.jpg", 2, v2(image("abcd1234", square_region(), max_size()))},
      {"abcd1234/125,15,120,140/full/0/default.jpg", 2,
       v2(image("abcd1234", px(125, 15, 120, 140), max_size()))},
      {"abcd1234/pct:41.6,7.5,40,70/full/0/default.jpg", 2,
       v2(image("abcd1234", pct(41.6, 7.5, 40, 70), max_size()))},
      {"abcd1234/125,15,200,200/full/0/default.jpg", 2,
       v2(image("abcd1234", px(125, 15, 200, 200), max_size()))},
      {"abcd1234/pct:41.6,7.5,66.6,100/full/0/default.jpg", 2,
       v2(image("abcd1234", pct(41.6, 7.5, 66.6, 100), max_size()))},
      {"abcd1234/full/max/0/default.jpg", 2, v2(image("abcd1234", full_region(), max_size()))},
      {"abcd1234/full/150,/0/default.jpg", 2,
       v2(image("abcd1234", full_region(), by_w(150, true)))},
      {"abcd1234/full/,150/0/default.jpg", 2,
       v2(image("abcd1234", full_region(), by_h(150, true)))},
      {"abcd1234/full/pct:50/0/default.jpg", 2,
       v2(image("abcd1234", full_region(), by_pct(50, true)))},
      {"abcd1234/full/pct:120/0/default.jpg", 2,
       v2(image("abcd1234", full_region(), by_pct(120, true)))},
      {"abcd1234/full/225,100/0/default.jpg", 2,
       v2(image("abcd1234", full_region(), by_wh(225, 100, true)))},
      {"abcd1234/full/!225,100/0/default.jpg", 2,
       v2(image("abcd1234", full_region(), fit(225, 100, true)))},
      {"abcd1234/full/full/22.5/default.png", 2,
       v2(image("abcd1234", full_region(), max_size(), rot(22.5), kDefault, Format::Png))},
      {"abcd1234/full/full/!180/bitonal.tif", 2,
       v2(image("abcd1234", full_region(), max_size(), rot(180, true), Quality::Bitonal,
                Format::Tiff))},
      {"abcd1234/125,15,120,140/90,/!345/gray.jpg", 2,
       v2(image("abcd1234", px(125, 15, 120, 140), by_w(90, true), rot(345, true), Quality::Gray))},
      {"abcd1234/info.json", 2, info("abcd1234", 2)},
      {"abcd1234", 2, base("abcd1234", 2)},
      {"folder%2Fscan/full/full/0/default.jpg", 2,
       v2(image("folder/scan", full_region(), max_size()))},
  };
}

class IiifValid : public ::testing::TestWithParam<ValidCase> {};

TEST_P(IiifValid, ParsesToTheExpectedQuery) {
  const ValidCase& c = GetParam();
  const Query q = parse_iiif(c.path, c.version);
  EXPECT_EQ(q.kind, c.expected.kind);
  EXPECT_EQ(q.identifier, c.expected.identifier);
  EXPECT_EQ(q.iiif_version, c.expected.iiif_version);
  EXPECT_EQ(q.region, c.expected.region);
  EXPECT_EQ(q.size, c.expected.size);
  EXPECT_EQ(q.rotation, c.expected.rotation);
  EXPECT_EQ(q.quality, c.expected.quality);
  EXPECT_EQ(q.format, c.expected.format);
  EXPECT_EQ(q, c.expected);  // nothing else differs either
}

INSTANTIATE_TEST_SUITE_P(Corpus, IiifValid, ::testing::ValuesIn(valid_cases()),
                         [](const auto& info) { return test_name(info.index, info.param.path); });

// --- malformed requests -------------------------------------------------------

struct InvalidCase {
  std::string path;
  int version;
  std::string reason_contains;  // the reason must name the bad part
};

void PrintTo(const InvalidCase& c, std::ostream* os) {
  *os << "v" << c.version << " " << quote_for_reason(c.path);
}

std::vector<InvalidCase> invalid_cases() {
  using namespace std::string_literals;
  return {
      // Path shape
      {"", 3, "missing identifier"},
      {"/", 3, "missing identifier"},
      {"info.json", 3, "missing identifier"},
      {"/abcd/info.json", 3, "empty segment"},
      {"a//b", 3, "empty segment"},
      {"a//b/info.json", 3, "empty segment"},
      {"abcd//", 3, "empty segment"},
      {"abcd/full/max//default.jpg", 3, "empty segment"},
      {"abcd/full//0/default.jpg", 3, "empty segment"},
      {"abcd/full/max/0/default.jpg//", 3, "empty segment"},
      // Missing parameters
      {"abcd/full/max/default.jpg", 3, "incomplete image request"},
      {"abcd/max/0/default.jpg", 3, "incomplete image request"},
      {"abcd/default.jpg", 3, "incomplete image request"},
      {"full/max/0/default.jpg", 3, "incomplete image request"},
      {"folder/abcd/full/max/default.jpg", 3, "invalid region 'abcd'"},
      // Too many parameters
      {"abcd/full/max/0/0/default.jpg", 3, "invalid region 'max'"},
      {"abcd/full/max/0/default.jpg/extra", 3, "invalid region 'max'"},
      // Region
      {"abcd/whole/max/0/default.jpg", 3, "invalid region 'whole'"},
      {"abcd/Full/max/0/default.jpg", 3, "invalid region 'Full'"},
      {"abcd/-1,0,10,10/max/0/default.jpg", 3, "invalid region '-1,0,10,10'"},
      {"abcd/+1,0,10,10/max/0/default.jpg", 3, "invalid region"},
      {"abcd/1,2,3/max/0/default.jpg", 3, "invalid region '1,2,3'"},
      {"abcd/1,2,3,4,5/max/0/default.jpg", 3, "invalid region"},
      {"abcd/1,2,3,4,/max/0/default.jpg", 3, "invalid region"},
      {"abcd/1,,3,4/max/0/default.jpg", 3, "invalid region"},
      {"abcd/1.5,2,3,4/max/0/default.jpg", 3, "invalid region '1.5,2,3,4'"},
      {"abcd/0x10,0,10,10/max/0/default.jpg", 3, "invalid region"},
      {"abcd/1e2,0,10,10/max/0/default.jpg", 3, "invalid region"},
      {"abcd/%201,0,10,10/max/0/default.jpg", 3, "invalid region ' 1,0,10,10'"},
      {"abcd/0,0,10,0/max/0/default.jpg", 3, "has zero size"},
      {"abcd/0,0,0,10/max/0/default.jpg", 3, "has zero size"},
      {"abcd/pct:0,0,0,50/max/0/default.jpg", 3, "has zero size"},
      {"abcd/pct:0,0,50,0.0/max/0/default.jpg", 3, "has zero size"},
      {"abcd/1000000000,0,10,10/max/0/default.jpg", 3, "invalid region"},
      {"abcd/99999999999999999999,0,10,10/max/0/default.jpg", 3, "invalid region"},
      {"abcd/pct:NaN,0,10,10/max/0/default.jpg", 3, "invalid region 'pct:NaN,0,10,10'"},
      {"abcd/pct:inf,0,10,10/max/0/default.jpg", 3, "invalid region"},
      {"abcd/pct:1e309,0,10,10/max/0/default.jpg", 3, "invalid region"},
      {"abcd/pct:-5,0,10,10/max/0/default.jpg", 3, "invalid region"},
      {"abcd/pct:1..5,0,10,10/max/0/default.jpg", 3, "invalid region"},
      {"abcd/pct:.,0,10,10/max/0/default.jpg", 3, "invalid region"},
      {"abcd/pct:10,20/max/0/default.jpg", 3, "invalid region"},
      {"abcd/pct:/max/0/default.jpg", 3, "invalid region"},
      {"abcd/PCT:1,1,1,1/max/0/default.jpg", 3, "invalid region"},
      {"abcd/\xD9\xA1,0,10,10/max/0/default.jpg", 3, "invalid region '\\xD9\\xA1,0,10,10'"},
      {"abcd/%D9%A1%D9%A2,0,10,10/max/0/default.jpg", 3, "invalid region"},  // Arabic-Indic 12
      {"abcd/\xEF\xBC\x91,0,10,10/max/0/default.jpg", 3, "invalid region"},  // fullwidth 1
      // Size
      {"abcd/full/full/0/default.jpg", 3, "IIIF 3 uses 'max'"},
      {"abcd/full/^full/0/default.jpg", 3, "invalid size '^full'"},
      {"abcd/full/Max/0/default.jpg", 3, "invalid size 'Max'"},
      {"abcd/full/^/0/default.jpg", 3, "invalid size '^'"},
      {"abcd/full/^^max/0/default.jpg", 3, "invalid size '^^max'"},
      {"abcd/full/,/0/default.jpg", 3, "invalid size ','"},
      {"abcd/full/150/0/default.jpg", 3, "invalid size '150'"},
      {"abcd/full/1,2,3/0/default.jpg", 3, "invalid size"},
      {"abcd/full/0,/0/default.jpg", 3, "size '0,' has zero width or height"},
      {"abcd/full/,0/0/default.jpg", 3, "has zero width or height"},
      {"abcd/full/0,10/0/default.jpg", 3, "has zero width or height"},
      {"abcd/full/!10,0/0/default.jpg", 3, "has zero width or height"},
      {"abcd/full/^0,/0/default.jpg", 3, "has zero width or height"},
      {"abcd/full/+5,/0/default.jpg", 3, "invalid size '+5,'"},
      {"abcd/full/-5,/0/default.jpg", 3, "invalid size '-5,'"},
      {"abcd/full/5.5,/0/default.jpg", 3, "invalid size"},
      {"abcd/full/1e3,/0/default.jpg", 3, "invalid size"},
      {"abcd/full/99999999999999999999,/0/default.jpg", 3, "invalid size"},
      {"abcd/full/4294967297,/0/default.jpg", 3, "invalid size"},
      {"abcd/full/1000000000,/0/default.jpg", 3, "invalid size"},
      {"abcd/full/!100,/0/default.jpg", 3, "invalid size '!100,'"},
      {"abcd/full/!,100/0/default.jpg", 3, "invalid size"},
      {"abcd/full/!!100,100/0/default.jpg", 3, "invalid size"},
      {"abcd/full/!^100,100/0/default.jpg", 3, "invalid size"},
      {"abcd/full/,^240/0/default.jpg", 3, "invalid size ',^240'"},  // a typo in a spec draft
      {"abcd/full/pct:0/0/default.jpg", 3, "must be above 0 percent"},
      {"abcd/full/^pct:0/0/default.jpg", 3, "must be above 0 percent"},
      {"abcd/full/pct:101/0/default.jpg", 3, "size 'pct:101' above 100 percent needs '^'"},
      {"abcd/full/pct:100.0001/0/default.jpg", 3, "needs '^'"},
      {"abcd/full/pct:120/0/default.jpg", 3, "needs '^'"},  // an erratum in a spec draft
      {"abcd/full/pct:NaN/0/default.jpg", 3, "invalid size 'pct:NaN'"},
      {"abcd/full/pct:-50/0/default.jpg", 3, "invalid size"},
      {"abcd/full/pct:1e309/0/default.jpg", 3, "invalid size"},
      {"abcd/full/pct:/0/default.jpg", 3, "invalid size"},
      {"abcd/full/pct:5,/0/default.jpg", 3, "invalid size"},
      {"abcd/full/\xEF\xBC\x91\xEF\xBC\x95\xEF\xBC\x90,/0/default.jpg", 3, "invalid size"},
      {"abcd/full/%D9%A1%D9%A5%D9%A0,/0/default.jpg", 3, "invalid size"},
      // Rotation
      {"abcd/full/max/361/default.jpg", 3, "rotation '361' is above 360 degrees"},
      {"abcd/full/max/360.0001/default.jpg", 3, "above 360"},
      {"abcd/full/max/-90/default.jpg", 3, "invalid rotation '-90'"},
      {"abcd/full/max/+90/default.jpg", 3, "invalid rotation"},
      {"abcd/full/max/NaN/default.jpg", 3, "invalid rotation 'NaN'"},
      {"abcd/full/max/inf/default.jpg", 3, "invalid rotation"},
      {"abcd/full/max/1e309/default.jpg", 3, "invalid rotation '1e309'"},
      {"abcd/full/max/1e2/default.jpg", 3, "invalid rotation"},
      {"abcd/full/max/!/default.jpg", 3, "invalid rotation '!'"},
      {"abcd/full/max/!!90/default.jpg", 3, "invalid rotation"},
      {"abcd/full/max/90!/default.jpg", 3, "invalid rotation"},
      {"abcd/full/max/90deg/default.jpg", 3, "invalid rotation"},
      {"abcd/full/max/0x10/default.jpg", 3, "invalid rotation"},
      {"abcd/full/max/99999999999999999999/default.jpg", 3, "invalid rotation"},
      {"abcd/full/max/0.000000000000000000000000000000001/default.jpg", 3, "invalid rotation"},
      {"abcd/full/max/\xD9\xA9\xD9\xA0/default.jpg", 3, "invalid rotation"},
      // Quality and format
      {"abcd/full/max/0/grey.jpg", 3, "invalid quality 'grey'"},
      {"abcd/full/max/0/native.jpg", 3, "invalid quality 'native'"},
      {"abcd/full/max/0/Default.jpg", 3, "invalid quality 'Default'"},
      {"abcd/full/max/0/default.jpeg", 3, "invalid format 'jpeg'"},
      {"abcd/full/max/0/default.JPG", 3, "invalid format 'JPG'"},
      {"abcd/full/max/0/default.tiff", 3, "invalid format 'tiff'"},
      {"abcd/full/max/0/default.jpg.jpg", 3, "invalid format 'jpg.jpg'"},
      {"abcd/full/max/0/default", 3, "missing format extension in 'default'"},
      {"abcd/full/max/0/default.", 3, "missing format in 'default.'"},
      {"abcd/full/max/0/.jpg", 3, "missing quality in '.jpg'"},
      {"abcd/full/max/0/.", 3, "missing quality"},
      // Percent-encoding
      {"ab%/info.json", 3, "malformed percent-encoding in 'ab%'"},
      {"ab%4/info.json", 3, "malformed percent-encoding in 'ab%4'"},
      {"ab%zz/info.json", 3, "malformed percent-encoding in 'ab%zz'"},
      {"ab%4g/info.json", 3, "malformed percent-encoding"},
      {"abcd/full/max/0/default.jp%", 3, "malformed percent-encoding"},
      {"abcd/full/%5/0/default.jpg", 3, "malformed percent-encoding"},
      {"abcd%", 3, "malformed percent-encoding"},
      {"folder%252Fscan/info.json", 3, "double-encoded identifier 'folder%2Fscan'"},
      {"folder%252fscan/full/max/0/default.jpg", 3, "double-encoded identifier"},
      {"a%2520b", 3, "double-encoded identifier"},
      {"abcd%00/info.json", 3, "identifier contains a NUL byte"},
      {"%00", 3, "NUL"},
      {"abcd%00.tif/full/max/0/default.jpg", 3, "NUL"},
      {"a%0D%0ALocation:%20x/info.json", 3,
       "identifier 'a\\x0D\\x0ALocation: x' contains a control character"},
      {"a%09b", 3, "control character"},
      {"a%7Fb/full/max/0/default.jpg", 3, "control character"},
      {"a\x01"
       "b/info.json",
       3, "control character"},
      {"abcd/full/max/0/default.jpg%00", 3, "invalid format 'jpg\\x00'"},
      // IIIF 2.1 rejects 3.0 syntax
      {"abcd/full/^max/0/default.jpg", 2, "invalid size '^max'; '^' is IIIF 3 syntax"},
      {"abcd/full/^360,/0/default.jpg", 2, "'^' is IIIF 3 syntax"},
      {"abcd/full/^pct:120/0/default.jpg", 2, "'^' is IIIF 3 syntax"},
      {"abcd/full/^!360,360/0/default.jpg", 2, "'^' is IIIF 3 syntax"},
      {"abcd/full/pct:0/0/default.jpg", 2, "must be above 0 percent"},
      {"abcd/full/0,/0/default.jpg", 2, "zero width or height"},
      {"abcd/full/full/361/default.jpg", 2, "above 360"},
      {"abcd/full/full/0/grey.jpg", 2, "invalid quality 'grey'"},
  };
}

class IiifInvalid : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(IiifInvalid, IsABadRequestNamingTheBadPart) {
  const InvalidCase& c = GetParam();
  try {
    const Query q = parse_iiif(c.path, c.version);
    ADD_FAILURE() << "parsed, identifier '" << q.identifier << "' kind " << int(q.kind);
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), 400);
    EXPECT_NE(std::string(e.what()).find(c.reason_contains), std::string::npos)
        << "reason: " << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "reason: " << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, IiifInvalid, ::testing::ValuesIn(invalid_cases()),
                         [](const auto& info) { return test_name(info.index, info.param.path); });

// --- the rest -----------------------------------------------------------------

TEST(IiifParse, UnsupportedVersionIsAServerError) {
  try {
    parse_iiif("abcd/info.json", 1);
    FAIL() << "parsed";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), 500);
  }
}

TEST(IiifParse, RawNulInTheIdentifierIsRefused) {
  using namespace std::string_literals;
  const std::string path = "abcd\0x/info.json"s;
  // A raw NUL is not a percent escape; the identifier keeps it and is refused.
  EXPECT_THROW(parse_iiif(path, 3), Error);
}

TEST(IiifParse, ErrorReasonsStayShortForHugeInput) {
  const std::string path = "abcd/" + std::string(100000, '9') + ",0,1,1/max/0/default.jpg";
  try {
    parse_iiif(path, 3);
    FAIL() << "parsed";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), 400);
    EXPECT_LT(std::string(e.what()).size(), 300u);
  }
}

TEST(PercentDecode, DecodesEitherHexCase) {
  EXPECT_EQ(percent_decode("a%2Fb%2fc"), "a/b/c");
  EXPECT_EQ(percent_decode("%41%62%7e"), "Ab~");
  EXPECT_EQ(percent_decode("%C3%A9"), "\xC3\xA9");
  EXPECT_EQ(percent_decode("%00").size(), 1u);
  EXPECT_EQ(percent_decode("%FF"), "\xFF");
  EXPECT_EQ(percent_decode(""), "");
  EXPECT_EQ(percent_decode("%25"), "%");
  EXPECT_EQ(percent_decode("%2525"), "%25");  // one level only
}

TEST(PercentDecode, PlusIsASpaceOnlyInQueryStrings) {
  EXPECT_EQ(percent_decode("a+b%2B"), "a+b+");
  EXPECT_EQ(percent_decode_query("a+b%2B"), "a b+");
  EXPECT_EQ(percent_decode_query("%20+"), "  ");
}

TEST(PercentDecode, MalformedEscapesAreBadRequests) {
  for (const char* bad : {"%", "%4", "%zz", "a%", "a%g0", "%0g", "%%41", "ok%2"}) {
    SCOPED_TRACE(bad);
    try {
      percent_decode(bad);
      ADD_FAILURE() << "decoded";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), 400);
      EXPECT_EQ(std::string(e.what()).rfind("malformed percent-encoding in ", 0), 0u) << e.what();
    }
    EXPECT_THROW(percent_decode_query(bad), Error);
  }
}

TEST(PercentDecode, QuoteForReasonEscapesControlAndNonAsciiBytes) {
  using namespace std::string_literals;
  EXPECT_EQ(quote_for_reason("abc,1"), "abc,1");
  EXPECT_EQ(quote_for_reason("a\nb\0c\xFF\\"s), "a\\x0Ab\\x00c\\xFF\\x5C");
  EXPECT_EQ(quote_for_reason(std::string(200, 'x')), std::string(80, 'x') + "...");
}

}  // namespace
}  // namespace tessera

namespace tessera {
namespace {

TEST(PercentEncodePath, KeepsUnreservedAndSlashesAndRoundTrips) {
  EXPECT_EQ(percent_encode_path("maps/atlas-1_v2.~x"), "maps/atlas-1_v2.~x");
  EXPECT_EQ(percent_encode_path("a b%c?d#e"), "a%20b%25c%3Fd%23e");
  EXPECT_EQ(percent_encode_path("caf\xC3\xA9"), "caf%C3%A9");
  const std::string odd = "x y/%/\xff?";
  EXPECT_EQ(percent_decode(percent_encode_path(odd)), odd);
}

}  // namespace
}  // namespace tessera
