// IIIF Image API 3.0 and 2.1 at level 2 with every optional feature: each
// format decoded back, rotation, mirroring, gray and bitonal checked pixel by
// pixel, upscaling rules, canonical Link headers, proxies, limits and errors.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "e2e/fixture.hpp"
#include "support/decode_image.hpp"

namespace tessera::testing {
namespace {

using json = nlohmann::json;
using IiifComplete = ServedImages;

// The deflate copy of the pattern is lossless: its pixels are exact.
constexpr const char* kExact = "/iiif/3/sub%2Fdeflate";

Raster get_image(unsigned short port, const std::string& url) {
  const auto result = http_get(port, url);
  EXPECT_EQ(result.status, 200) << url << ": " << result.body;
  if (result.status != 200) return {};
  return decode_image(result.body);
}

uint8_t at(const Raster& r, uint32_t x, uint32_t y, int band) {
  return r.row(y)[std::size_t(x) * r.bands() + band];
}

bool same_pixels(const Raster& a, const Raster& b) {
  return a.width() == b.width() && a.height() == b.height() && a.bands() == b.bands() &&
         std::equal(a.data(), a.data() + a.size_bytes(), b.data());
}

TEST_F(IiifComplete, InfoJsonStatesLevel2AndEveryExtra) {
  const json info = json::parse(http_get(port(), "/iiif/3/pattern/info.json").body);
  EXPECT_EQ(info["profile"], "level2");
  for (const char* format : {"webp", "tif", "gif", "jp2"}) {
    EXPECT_NE(std::find(info["extraFormats"].begin(), info["extraFormats"].end(), format),
              info["extraFormats"].end())
        << format;
  }
  for (const char* quality : {"color", "gray", "bitonal"}) {
    EXPECT_NE(std::find(info["extraQualities"].begin(), info["extraQualities"].end(), quality),
              info["extraQualities"].end())
        << quality;
  }
  for (const char* feature : {"mirroring", "rotationArbitrary", "sizeUpscaling",
                              "canonicalLinkHeader", "profileLinkHeader"}) {
    EXPECT_NE(std::find(info["extraFeatures"].begin(), info["extraFeatures"].end(), feature),
              info["extraFeatures"].end())
        << feature;
  }
  EXPECT_EQ(info["preferredFormats"][0], "jpg");
}

TEST_F(IiifComplete, Version2InfoJsonHasTheProfileArray) {
  const auto result = http_get(port(), "/iiif/2/pattern/info.json");
  ASSERT_EQ(result.status, 200);
  const json info = json::parse(result.body);
  EXPECT_EQ(info["@context"], "http://iiif.io/api/image/2/context.json");
  EXPECT_EQ(info["@id"], fmt::format("http://127.0.0.1:{}/iiif/2/pattern", port()));
  EXPECT_EQ(info["protocol"], "http://iiif.io/api/image");
  EXPECT_EQ(info["profile"][0], "http://iiif.io/api/image/2/level2.json");
  const json& extras = info["profile"][1];
  for (const char* feature : {"mirroring", "rotationArbitrary", "sizeAboveFull"}) {
    EXPECT_NE(std::find(extras["supports"].begin(), extras["supports"].end(), feature),
              extras["supports"].end())
        << feature;
  }
  EXPECT_NE(std::find(extras["formats"].begin(), extras["formats"].end(), "webp"),
            extras["formats"].end());
  EXPECT_EQ(result.header("link"), "<http://iiif.io/api/image/2/level2.json>;rel=\"profile\"");
}

TEST_F(IiifComplete, EveryFormatDecodesBackToTheRegion) {
  const Raster want = tree().pattern.crop(100, 50, 64, 48);
  for (const char* format : {"jpg", "png", "webp", "tif", "gif", "jp2"}) {
    const auto url = fmt::format("{}/100,50,64,48/max/0/default.{}", kExact, format);
    const auto result = http_get(port(), url);
    ASSERT_EQ(result.status, 200) << url << ": " << result.body;
    const Raster got = decode_image(result.body);
    ASSERT_EQ(got.width(), 64u) << format;
    ASSERT_EQ(got.height(), 48u) << format;
    // Lossless formats exactly; JPEG and WebP within their loss; GIF within
    // its palette.
    const double tolerance = std::string(format) == "gif" ? 12.0 : 4.0;
    EXPECT_LE(mean_abs_diff(got, want), tolerance) << format;
    if (std::string(format) == "png" || std::string(format) == "tif") {
      EXPECT_TRUE(same_pixels(got, want)) << format;
    }
  }
  EXPECT_EQ(
      http_get(port(), fmt::format("{}/full/64,/0/default.png", kExact)).header("content-type"),
      "image/png");
  EXPECT_EQ(
      http_get(port(), fmt::format("{}/full/64,/0/default.webp", kExact)).header("content-type"),
      "image/webp");
}

TEST_F(IiifComplete, RotationsBy90AreExactTranspositions) {
  const Raster base = get_image(port(), fmt::format("{}/10,20,40,30/max/0/default.png", kExact));
  ASSERT_EQ(base.width(), 40u);
  for (int degrees : {90, 180, 270}) {
    const Raster got =
        get_image(port(), fmt::format("{}/10,20,40,30/max/{}/default.png", kExact, degrees));
    const bool swap = degrees != 180;
    ASSERT_EQ(got.width(), swap ? 30u : 40u) << degrees;
    ASSERT_EQ(got.height(), swap ? 40u : 30u) << degrees;
    for (uint32_t y = 0; y < got.height(); ++y) {
      for (uint32_t x = 0; x < got.width(); ++x) {
        // Where the output pixel comes from in the unrotated image.
        uint32_t sx = x, sy = y;
        if (degrees == 90) sx = y, sy = 29 - x;
        if (degrees == 180) sx = 39 - x, sy = 29 - y;
        if (degrees == 270) sx = 39 - y, sy = x;
        for (int b = 0; b < 3; ++b) ASSERT_EQ(at(got, x, y, b), at(base, sx, sy, b)) << degrees;
      }
    }
  }
}

TEST_F(IiifComplete, MirroringFlipsBeforeRotating) {
  const Raster base = get_image(port(), fmt::format("{}/10,20,40,30/max/0/default.png", kExact));
  const Raster mirrored =
      get_image(port(), fmt::format("{}/10,20,40,30/max/!0/default.png", kExact));
  const Raster mirrored90 =
      get_image(port(), fmt::format("{}/10,20,40,30/max/!90/default.png", kExact));
  ASSERT_EQ(mirrored.width(), 40u);
  ASSERT_EQ(mirrored90.width(), 30u);
  for (uint32_t y = 0; y < 30; ++y) {
    for (uint32_t x = 0; x < 40; ++x) {
      ASSERT_EQ(at(mirrored, x, y, 0), at(base, 39 - x, y, 0));
      // Mirror, then 90 clockwise: output (x', y') = (29 - y, x) of the mirror.
      ASSERT_EQ(at(mirrored90, 29 - y, x, 1), at(mirrored, x, y, 1));
    }
  }
}

TEST_F(IiifComplete, ArbitraryRotationIsTheBoundingBoxWithTransparentCorners) {
  const Raster png = get_image(port(), fmt::format("{}/0,0,100,100/max/45/default.png", kExact));
  // 100 * (cos 45 + sin 45) = 141.42: the bounding box, rounded up.
  EXPECT_NEAR(png.width(), 142u, 1u);
  EXPECT_EQ(png.width(), png.height());
  ASSERT_EQ(png.bands(), 4);
  EXPECT_EQ(at(png, 1, 1, 3), 0);                                 // corner: outside
  EXPECT_EQ(at(png, png.width() / 2, png.height() / 2, 3), 255);  // centre: inside

  const Raster jpg = get_image(port(), fmt::format("{}/0,0,100,100/max/45/default.jpg", kExact));
  EXPECT_EQ(jpg.width(), png.width());
  EXPECT_GT(at(jpg, 1, 1, 0), 240);  // JPEG has no alpha: a white background
  // 30 degrees of a 200x100 region: 200cos30 + 100sin30 = 223.2, 200sin30 + 100cos30 = 186.6.
  const Raster r30 = get_image(port(), fmt::format("{}/0,0,200,100/max/30/default.png", kExact));
  EXPECT_NEAR(r30.width(), 224u, 1u);
  EXPECT_NEAR(r30.height(), 187u, 1u);
}

TEST_F(IiifComplete, GrayAndBitonalQualities) {
  const Raster colour =
      get_image(port(), fmt::format("{}/200,100,50,40/max/0/default.png", kExact));
  const Raster gray = get_image(port(), fmt::format("{}/200,100,50,40/max/0/gray.png", kExact));
  ASSERT_EQ(gray.width(), 50u);
  for (uint32_t y = 0; y < 40; y += 3) {
    for (uint32_t x = 0; x < 50; x += 3) {
      const double luma =
          0.299 * at(colour, x, y, 0) + 0.587 * at(colour, x, y, 1) + 0.114 * at(colour, x, y, 2);
      EXPECT_NEAR(at(gray, x, y, 0), luma, 1.01);
      if (gray.bands() >= 3) {
        EXPECT_EQ(at(gray, x, y, 0), at(gray, x, y, 2));
      }
    }
  }
  const Raster bitonal = get_image(port(), fmt::format("{}/full/200,/0/bitonal.png", kExact));
  int black = 0, white = 0;
  for (uint32_t y = 0; y < bitonal.height(); ++y) {
    for (uint32_t x = 0; x < bitonal.width(); ++x) {
      const uint8_t v = at(bitonal, x, y, 0);
      ASSERT_TRUE(v == 0 || v == 255) << int(v);
      (v == 0 ? black : white)++;
    }
  }
  EXPECT_GT(black, 100);
  EXPECT_GT(white, 100);
}

TEST_F(IiifComplete, AlphaIsKeptWhereTheFormatHasIt) {
  const Raster png = get_image(port(), "/iiif/3/rgba/full/max/0/default.png");
  ASSERT_EQ(png.bands(), 4);
  EXPECT_TRUE(same_pixels(png, tree().rgba));
  const Raster jpg = get_image(port(), "/iiif/3/rgba/full/max/0/default.jpg");
  EXPECT_EQ(jpg.bands(), 3);
}

TEST_F(IiifComplete, UpscalingNeedsTheCaretInVersion3Only) {
  EXPECT_EQ(http_get(port(), "/iiif/3/pattern/full/1200,/0/default.jpg").status, 400);
  EXPECT_EQ(http_get(port(), "/iiif/3/pattern/full/pct:150/0/default.jpg").status, 400);
  EXPECT_EQ(http_get(port(), "/iiif/3/pattern/0,0,100,100/^200,/0/default.jpg").status, 200);
  const Raster v2 = get_image(port(), "/iiif/2/pattern/0,0,100,100/200,/0/default.jpg");
  EXPECT_EQ(v2.width(), 200u);
  const Raster full = get_image(port(), "/iiif/2/pattern/0,0,100,50/full/0/default.jpg");
  EXPECT_EQ(full.width(), 100u);
  EXPECT_EQ(full.height(), 50u);
}

TEST_F(IiifComplete, RegionsOutsideTheImageOrEmptyAreBadRequests) {
  for (const char* region : {"1000,0,10,10", "0,700,10,10", "5000,5000,10,10", "pct:100,0,10,10",
                             "0,0,0,10", "0,0,10,0"}) {
    const auto result =
        http_get(port(), fmt::format("/iiif/3/pattern/{}/max/0/default.jpg", region));
    EXPECT_EQ(result.status, 400) << region << ": " << result.body;
  }
  const Raster pct = get_image(port(), "/iiif/3/pattern/pct:10,10,50.5,20/max/0/default.jpg");
  EXPECT_EQ(pct.width(), 505u);
  EXPECT_EQ(pct.height(), 140u);
}

TEST_F(IiifComplete, SameCanonicalFormGivesIdenticalBytesAndLink) {
  const auto a = http_get(port(), "/iiif/3/pattern/full/max/0/default.png");
  const auto b = http_get(port(), "/iiif/3/pattern/0,0,1000,700/max/0/color.png");
  const auto c = http_get(port(), "/iiif/3/pattern/pct:0,0,100,100/pct:100/0/default.png");
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.body, c.body);
  const std::string canonical = fmt::format(
      "<http://127.0.0.1:{}/iiif/3/pattern/full/max/0/default.png>;rel=\"canonical\"", port());
  for (const auto* r : {&a, &b, &c}) {
    EXPECT_NE(r->header("link").find(canonical), std::string::npos) << r->header("link");
    EXPECT_NE(r->header("link").find("<http://iiif.io/api/image/3/level2.json>;rel=\"profile\""),
              std::string::npos);
  }
  const auto scaled = http_get(port(), "/iiif/3/pattern/square/!100,100/!90.0/gray.jpg");
  EXPECT_NE(scaled.header("link").find(fmt::format(
                "<http://127.0.0.1:{}/iiif/3/pattern/150,0,700,700/100,100/!90/gray.jpg>", port())),
            std::string::npos)
      << scaled.header("link");
}

TEST_F(IiifComplete, ProxyHeadersMakeTheIds) {
  const auto result =
      http_get(port(), "/iiif/3/pattern/info.json",
               {{"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "images.example.org"}});
  const json info = json::parse(result.body);
  EXPECT_EQ(info["id"], "https://images.example.org/iiif/3/pattern");
  const auto redirect =
      http_get(port(), "/iiif/3/pattern", {{"X-Forwarded-Host", "images.example.org"}});
  EXPECT_EQ(redirect.header("location"), "http://images.example.org/iiif/3/pattern/info.json");
}

TEST_F(IiifComplete, ErrorsCarryCorsAndOneLine) {
  for (const char* url : {"/iiif/3/pattern/full/max/0/default.bmp", "/iiif/3/nothing/info.json",
                          "/iiif/3/pattern/full/max/0/default.pdf"}) {
    const auto result = http_get(port(), url);
    EXPECT_GE(result.status, 400) << url;
    EXPECT_EQ(result.header("access-control-allow-origin"), "*") << url;
    EXPECT_EQ(std::count(result.body.begin(), result.body.end(), '\n'), 1) << result.body;
  }
  EXPECT_EQ(http_get(port(), "/iiif/3/pattern/full/max/0/default.bmp").status, 400);
  EXPECT_EQ(http_get(port(), "/iiif/3/nothing/info.json").status, 404);
  EXPECT_EQ(http_get(port(), "/iiif/3/pattern/full/max/0/default.pdf").status, 501);
  EXPECT_EQ(http_get(port(), "/iiif/3/pattern/full/max/361/default.jpg").status, 400);
}

TEST_F(IiifComplete, HeadAndOptionsOnImages) {
  const auto get = http_get(port(), "/iiif/3/pattern/full/100,/0/default.png");
  const auto head = http_request(port(), "HEAD", "/iiif/3/pattern/full/100,/0/default.png");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.header("content-length"), std::to_string(get.body.size()));
  const auto options = http_request(port(), "OPTIONS", "/iiif/3/pattern/full/100,/0/default.png");
  EXPECT_EQ(options.status, 204);
  EXPECT_NE(options.header("access-control-allow-methods").find("GET"), std::string::npos);
}

// Servers of their own: limits, version, rights.
TEST(IiifConfig, LimitsVersionAndRightsComeFromConfiguration) {
  const TestTree tree = make_test_tree();
  {
    ServerProcess server(tree.root, {"--max-cvt", "300", "--max-area", "60000"},
                         {"IIIF_VERSION=2", "RIGHTS=https://creativecommons.org/licenses/by/4.0/",
                          "COPYRIGHT=Test Museum"});
    const json v3 = json::parse(http_get(server.port(), "/iiif/3/pattern/info.json").body);
    EXPECT_EQ(v3["maxWidth"], 300);
    EXPECT_EQ(v3["maxHeight"], 300);
    EXPECT_EQ(v3["maxArea"], 60000);
    EXPECT_EQ(v3["rights"], "https://creativecommons.org/licenses/by/4.0/");
    for (const json& size : v3["sizes"]) {
      EXPECT_LE(size["width"].get<int>(), 300);
      EXPECT_LE(size["width"].get<int>() * size["height"].get<int>(), 60000);
    }
    const json v2 = json::parse(http_get(server.port(), "/iiif/pattern/info.json").body);
    EXPECT_EQ(v2["@context"], "http://iiif.io/api/image/2/context.json");
    EXPECT_EQ(v2["license"], "https://creativecommons.org/licenses/by/4.0/");
    EXPECT_EQ(v2["attribution"], "Test Museum");
    EXPECT_EQ(http_get(server.port(), "/iiif/3/pattern/full/301,/0/default.jpg").status, 400);
    EXPECT_EQ(http_get(server.port(), "/iiif/3/pattern/full/300,/0/default.jpg").status, 400);
    EXPECT_EQ(http_get(server.port(), "/iiif/3/pattern/full/280,/0/default.jpg").status, 200);
  }
  std::filesystem::remove_all(tree.dir);
}

}  // namespace
}  // namespace tessera::testing
