// The viewer's routes through the real binary: pages carry their data and a
// relative base, embedded files come with ETags, the gallery's API stays
// inside the root, manifests take precedence over IIIF identifiers.

#include <gtest/gtest.h>

#include <filesystem>

#include "e2e/fixture.hpp"

namespace tessera::testing {
namespace {

using Viewer = ServedImages;

TEST_F(Viewer, AViewPageCarriesItsImageAndARelativeBase) {
  const auto page = http_get(port(), "/view/sub/deflate.tiff");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<base href=\"../../\">"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("\"id\":\"sub/deflate.tiff\""), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("\"width\":1000,\"height\":700"), std::string::npos) << page.body;
  EXPECT_NE(http_get(port(), "/").body.find("<base href=\"./\">"), std::string::npos);
}

TEST_F(Viewer, PagesOfWhatDoesNotExistAnswer404Or400) {
  EXPECT_EQ(http_get(port(), "/view/nothing.tif").status, 404);
  EXPECT_EQ(http_get(port(), "/view/..%2Fsecret.tif").status, 400);
  EXPECT_EQ(http_get(port(), "/view/escape.tif").status, 403);
  EXPECT_EQ(http_get(port(), "/compare/pattern.tif/nothing.tif").status, 404);
  EXPECT_EQ(http_get(port(), "/compare/pattern.tif/sub/deflate.tiff").status, 200);
  EXPECT_EQ(http_get(port(), "/book/nothing").status, 404);
  EXPECT_EQ(http_get(port(), "/book/sub").status, 200);
}

TEST_F(Viewer, PageDataCannotCloseItsScriptElement) {
  const auto name = tree().root / "<b>&\"x.tif";
  std::filesystem::copy_file(tree().root / "pattern.tif", name);
  const auto page = http_get(port(), "/view/%3Cb%3E%26%22x.tif");
  std::filesystem::remove(name);
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.body.find("<b>"), std::string::npos);
  EXPECT_NE(page.body.find("\"id\":\"\\u003cb>&\\\"x.tif\""), std::string::npos) << page.body;
}

TEST_F(Viewer, EmbeddedFilesAreServedWithETags) {
  const auto script = http_get(port(), "/viewer/view.js");
  ASSERT_EQ(script.status, 200);
  EXPECT_EQ(script.header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(script.header("cache-control"), "no-cache");
  const std::string etag = script.header("etag");
  ASSERT_FALSE(etag.empty());
  const auto again = http_get(port(), "/viewer/view.js", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());

  const auto osd = http_get(port(), "/viewer/openseadragon/openseadragon.min.js");
  ASSERT_EQ(osd.status, 200);
  EXPECT_GT(osd.body.size(), 100000u);
  EXPECT_EQ(http_get(port(), "/viewer/style.css").header("content-type"),
            "text/css; charset=utf-8");
  EXPECT_EQ(http_get(port(), "/viewer/view.html").status, 404);  // a template, not a page
  EXPECT_EQ(http_get(port(), "/viewer/nothing.js").status, 404);
}

TEST_F(Viewer, TheGalleryApiListsNothingOutsideTheRoot) {
  const auto listing = http_get(port(), "/api/images");
  ASSERT_EQ(listing.status, 200);
  EXPECT_EQ(listing.header("content-type"), "application/json");
  EXPECT_EQ(listing.body.find("escape.tif"), std::string::npos) << listing.body;
  EXPECT_EQ(listing.body.find("\"up\""), std::string::npos) << listing.body;
  EXPECT_NE(listing.body.find("\"id\":\"sub\""), std::string::npos) << listing.body;
  EXPECT_EQ(http_get(port(), "/api/images?folder=up").status, 403);
  EXPECT_EQ(http_get(port(), "/api/images?limit=x").status, 400);
}

TEST_F(Viewer, ManifestsComeBeforeIiifIdentifiers) {
  const auto manifest = http_get(port(), "/iiif/manifest/pattern.tif");
  ASSERT_EQ(manifest.status, 200);
  EXPECT_NE(manifest.body.find("\"type\": \"Manifest\""), std::string::npos) << manifest.body;
  EXPECT_EQ(http_get(port(), "/iiif/3/pattern.tif/info.json").status, 200);
}

}  // namespace
}  // namespace tessera::testing
