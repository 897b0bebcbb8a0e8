#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "protocol/iiif.hpp"

namespace tessera {
namespace {

using Json = nlohmann::ordered_json;

LevelInfo level(uint32_t w, uint32_t h, double scale, uint32_t tile = 256) {
  LevelInfo l;
  l.width = w;
  l.height = h;
  l.tile_width = tile;
  l.tile_height = tile;
  l.scale = scale;
  return l;
}

// 1000x700 halved three times; the smallest level rounds 87.5 up.
ImageInfo scan() {
  ImageInfo info;
  info.format = "tiff";
  info.width = 1000;
  info.height = 700;
  info.levels = {level(1000, 700, 1), level(500, 350, 2), level(250, 175, 4), level(125, 88, 8)};
  info.bands = 3;
  return info;
}

IiifDescribeOptions v3_options() {
  IiifDescribeOptions o;
  o.id = "http://host:8080/iiif/3/scan";
  o.version = 3;
  return o;
}

Json describe(const ImageInfo& info, const IiifDescribeOptions& options) {
  return Json::parse(describe_iiif(info, options));
}

std::vector<std::string> keys(const Json& j) {
  std::vector<std::string> out;
  for (const auto& [key, value] : j.items()) out.push_back(key);
  return out;
}

Json size_list(std::initializer_list<std::pair<int, int>> sizes) {
  Json out = Json::array();
  for (const auto& [w, h] : sizes) out.push_back(Json{{"width", w}, {"height", h}});
  return out;
}

TEST(IiifDescribe, Version3HasEveryLevel1FieldInOrder) {
  const Json j = describe(scan(), v3_options());
  EXPECT_EQ(keys(j), (std::vector<std::string>{"@context", "id", "type", "protocol", "profile",
                                               "width", "height", "sizes", "tiles"}));
  EXPECT_EQ(j["@context"], "http://iiif.io/api/image/3/context.json");
  EXPECT_EQ(j["id"], "http://host:8080/iiif/3/scan");
  EXPECT_EQ(j["type"], "ImageService3");
  EXPECT_EQ(j["protocol"], "http://iiif.io/api/image");
  EXPECT_EQ(j["profile"], "level1");
  EXPECT_EQ(j["width"], 1000);
  EXPECT_EQ(j["height"], 700);
  EXPECT_EQ(j["sizes"], size_list({{125, 88}, {250, 175}, {500, 350}, {1000, 700}}));
  ASSERT_EQ(j["tiles"].size(), 1u);
  const Json& tiles = j["tiles"][0];
  EXPECT_EQ(keys(tiles), (std::vector<std::string>{"width", "height", "scaleFactors"}));
  EXPECT_EQ(tiles["width"], 256);
  EXPECT_EQ(tiles["height"], 256);
  EXPECT_EQ(tiles["scaleFactors"], Json::parse("[1, 2, 4, 8]"));
}

TEST(IiifDescribe, SizesComeFromTheScaleNotTheStoredLevelSize) {
  ImageInfo info = scan();
  // Floor-halved levels: the client computes ceil(full / scale).
  info.levels = {level(1000, 700, 1), level(125, 87, 8), level(62, 43, 16)};
  const Json j = describe(info, v3_options());
  EXPECT_EQ(j["sizes"], size_list({{63, 44}, {125, 88}, {1000, 700}}));
  EXPECT_EQ(j["tiles"][0]["scaleFactors"], Json::parse("[1, 8, 16]"));
}

TEST(IiifDescribe, NonIntegerScalesAreSizesButNotScaleFactors) {
  ImageInfo info = scan();
  info.levels = {level(1000, 700, 1), level(333, 233, 1000.0 / 333), level(250, 175, 4)};
  const Json j = describe(info, v3_options());
  EXPECT_EQ(j["sizes"], size_list({{250, 175}, {333, 234}, {1000, 700}}));
  EXPECT_EQ(j["tiles"][0]["scaleFactors"], Json::parse("[1, 4]"));
}

TEST(IiifDescribe, NonSquareTiles) {
  ImageInfo info = scan();
  for (LevelInfo& l : info.levels) {
    l.tile_width = 512;
    l.tile_height = 128;
  }
  const Json j = describe(info, v3_options());
  EXPECT_EQ(j["tiles"][0]["width"], 512);
  EXPECT_EQ(j["tiles"][0]["height"], 128);
}

TEST(IiifDescribe, UntiledImageHasNoTiles) {
  ImageInfo info = scan();
  info.levels = {level(1000, 700, 1, 0)};
  const Json j = describe(info, v3_options());
  EXPECT_FALSE(j.contains("tiles"));
  EXPECT_EQ(j["sizes"], size_list({{1000, 700}}));
}

TEST(IiifDescribe, MaxWidthFiltersSizesAndImpliesMaxHeight) {
  IiifDescribeOptions o = v3_options();
  o.max_width = 600;
  const Json j = describe(scan(), o);
  EXPECT_EQ(keys(j), (std::vector<std::string>{"@context", "id", "type", "protocol", "profile",
                                               "width", "height", "maxWidth", "sizes", "tiles"}));
  EXPECT_EQ(j["maxWidth"], 600);
  EXPECT_EQ(j["sizes"], size_list({{125, 88}, {250, 175}, {500, 350}}));
  EXPECT_EQ(j["tiles"][0]["scaleFactors"], Json::parse("[1, 2, 4, 8]"));

  // A tall image: maxHeight is inferred to equal maxWidth (600).
  ImageInfo tall = scan();
  tall.width = 700;
  tall.height = 1000;
  for (LevelInfo& l : tall.levels) std::swap(l.width, l.height);
  EXPECT_EQ(describe(tall, o)["sizes"], size_list({{88, 125}, {175, 250}, {350, 500}}));
}

TEST(IiifDescribe, AllThreeLimits) {
  IiifDescribeOptions o = v3_options();
  o.max_width = 800;
  o.max_height = 300;
  o.max_area = 100000;
  const Json j = describe(scan(), o);
  EXPECT_EQ(keys(j), (std::vector<std::string>{"@context", "id", "type", "protocol", "profile",
                                               "width", "height", "maxWidth", "maxHeight",
                                               "maxArea", "sizes", "tiles"}));
  EXPECT_EQ(j["maxWidth"], 800);
  EXPECT_EQ(j["maxHeight"], 300);
  EXPECT_EQ(j["maxArea"], 100000);
  EXPECT_EQ(j["sizes"], size_list({{125, 88}, {250, 175}}));
}

TEST(IiifDescribe, MaxAreaAlone) {
  IiifDescribeOptions o = v3_options();
  o.max_area = 175000;  // exactly 500x350
  const Json j = describe(scan(), o);
  EXPECT_FALSE(j.contains("maxWidth"));
  EXPECT_FALSE(j.contains("maxHeight"));
  EXPECT_EQ(j["maxArea"], 175000);
  EXPECT_EQ(j["sizes"], size_list({{125, 88}, {250, 175}, {500, 350}}));
}

TEST(IiifDescribe, MaxHeightAloneStatesMaxWidthAsTheImageWidth) {
  IiifDescribeOptions o = v3_options();
  o.max_height = 300;
  const Json j = describe(scan(), o);
  EXPECT_EQ(j["maxWidth"], 1000);  // the spec requires maxWidth with maxHeight
  EXPECT_EQ(j["maxHeight"], 300);
  EXPECT_EQ(j["sizes"], size_list({{125, 88}, {250, 175}}));
  EXPECT_TRUE(j.contains("tiles"));
}

TEST(IiifDescribe, TilesLargerThanTheLimitsAreNotOffered) {
  IiifDescribeOptions o = v3_options();
  o.max_width = 200;
  const Json j = describe(scan(), o);
  EXPECT_FALSE(j.contains("tiles"));
  EXPECT_EQ(j["sizes"], size_list({{125, 88}}));
}

TEST(IiifDescribe, TilesOfASmallImageAreLimitedByTheImage) {
  ImageInfo small;
  small.width = 100;
  small.height = 80;
  small.levels = {level(100, 80, 1)};  // one 256x256 tile holds it all
  IiifDescribeOptions o = v3_options();
  o.max_height = 100;  // maxWidth stated as 100, below the tile width
  const Json j = describe(small, o);
  EXPECT_EQ(j["tiles"][0]["width"], 256);
  EXPECT_EQ(j["sizes"], size_list({{100, 80}}));
}

TEST(IiifDescribe, EveryLevelAboveTheLimitsLeavesNoSizes) {
  IiifDescribeOptions o = v3_options();
  o.max_area = 100;
  const Json j = describe(scan(), o);
  EXPECT_FALSE(j.contains("sizes"));
  EXPECT_FALSE(j.contains("tiles"));
}

TEST(IiifDescribe, ExtrasFollowTheTiles) {
  IiifDescribeOptions o = v3_options();
  o.extra_formats = {"png", "webp"};
  o.extra_qualities = {"color", "gray", "bitonal"};
  o.extra_features = {"mirroring", "rotationBy90s"};
  const Json j = describe(scan(), o);
  EXPECT_EQ(keys(j), (std::vector<std::string>{"@context", "id", "type", "protocol", "profile",
                                               "width", "height", "sizes", "tiles", "extraFormats",
                                               "extraQualities", "extraFeatures"}));
  EXPECT_EQ(j["extraFormats"], Json::parse(R"(["png", "webp"])"));
  EXPECT_EQ(j["extraQualities"], Json::parse(R"(["color", "gray", "bitonal"])"));
  EXPECT_EQ(j["extraFeatures"], Json::parse(R"(["mirroring", "rotationBy90s"])"));
}

TEST(IiifDescribe, Version2) {
  IiifDescribeOptions o;
  o.id = "http://host:8080/iiif/2/scan";
  o.version = 2;
  const Json j = describe(scan(), o);
  EXPECT_EQ(keys(j), (std::vector<std::string>{"@context", "@id", "protocol", "width", "height",
                                               "sizes", "tiles", "profile"}));
  EXPECT_EQ(j["@context"], "http://iiif.io/api/image/2/context.json");
  EXPECT_EQ(j["@id"], "http://host:8080/iiif/2/scan");
  EXPECT_EQ(j["protocol"], "http://iiif.io/api/image");
  EXPECT_EQ(j["width"], 1000);
  EXPECT_EQ(j["height"], 700);
  EXPECT_EQ(j["sizes"], size_list({{125, 88}, {250, 175}, {500, 350}, {1000, 700}}));
  EXPECT_EQ(j["tiles"],
            Json::parse(R"([{"width": 256, "height": 256, "scaleFactors": [1, 2, 4, 8]}])"));
  // Nothing beyond level 1: the profile object is left out, not sent empty.
  EXPECT_EQ(j["profile"], Json::parse(R"(["http://iiif.io/api/image/2/level1.json"])"));
}

TEST(IiifDescribe, Version2ProfileObjectCarriesExtrasAndLimits) {
  IiifDescribeOptions o;
  o.id = "http://host/iiif/2/scan";
  o.version = 2;
  o.max_width = 600;
  o.max_area = 100000;
  o.extra_formats = {"png"};
  o.extra_qualities = {"color", "gray"};
  o.extra_features = {"sizeAboveFull", "mirroring"};
  const Json j = describe(scan(), o);
  ASSERT_EQ(j["profile"].size(), 2u);
  EXPECT_EQ(j["profile"][0], "http://iiif.io/api/image/2/level1.json");
  const Json& p = j["profile"][1];
  EXPECT_EQ(keys(p),
            (std::vector<std::string>{"formats", "qualities", "supports", "maxWidth", "maxArea"}));
  EXPECT_EQ(p["formats"], Json::parse(R"(["png"])"));
  EXPECT_EQ(p["qualities"], Json::parse(R"(["color", "gray"])"));
  EXPECT_EQ(p["supports"], Json::parse(R"(["sizeAboveFull", "mirroring"])"));
  EXPECT_EQ(p["maxWidth"], 600);
  EXPECT_EQ(p["maxArea"], 100000);
  EXPECT_FALSE(j.contains("maxWidth"));  // 2.1 keeps limits in the profile
  EXPECT_EQ(j["sizes"], size_list({{125, 88}, {250, 175}}));
}

TEST(IiifDescribe, IdThatIsNotUtf8DoesNotThrow) {
  IiifDescribeOptions o = v3_options();
  o.id = "http://host/iiif/3/caf\xE9";  // Latin-1 bytes from a percent-decoded identifier
  std::string text;
  ASSERT_NO_THROW(text = describe_iiif(scan(), o));
  const Json j = Json::parse(text);
  EXPECT_EQ(j["id"], "http://host/iiif/3/caf\xEF\xBF\xBD");  // U+FFFD
}

TEST(IiifDescribe, IdIsEscapedAsJson) {
  IiifDescribeOptions o = v3_options();
  o.id = "http://host/iiif/3/a\"b\\c";
  EXPECT_EQ(describe(scan(), o)["id"], "http://host/iiif/3/a\"b\\c");
}

TEST(IiifDescribe, UnsupportedVersionIsAServerError) {
  IiifDescribeOptions o = v3_options();
  o.version = 4;
  try {
    describe_iiif(scan(), o);
    FAIL() << "described";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), 500);
  }
}

}  // namespace
}  // namespace tessera
