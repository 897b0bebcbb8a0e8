#include "protocol/iiif_manifest.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tessera {
namespace {

using Json = nlohmann::json;

ManifestOptions options() {
  ManifestOptions o;
  o.id = "https://example.org/iiif/manifest/books/vol%201";
  o.label = "vol 1";
  o.image_base = "https://example.org/iiif";
  return o;
}

TEST(IiifManifest, PaintsOneCanvasPerImageWithItsServices) {
  const std::vector<ManifestCanvas> canvases{{"books/vol 1/p1.tif", "p1.tif", 1000, 1500},
                                             {"books/vol 1/p2.tif", "p2.tif", 1010, 1490}};
  const Json m = Json::parse(describe_manifest(options(), canvases));
  EXPECT_EQ(m["@context"], "http://iiif.io/api/presentation/3/context.json");
  EXPECT_EQ(m["type"], "Manifest");
  EXPECT_EQ(m["label"], Json::parse(R"({"none": ["vol 1"]})"));
  EXPECT_FALSE(m.contains("homepage"));
  EXPECT_FALSE(m.contains("rights"));
  EXPECT_FALSE(m.contains("requiredStatement"));
  ASSERT_EQ(m["items"].size(), 2u);

  const Json& canvas = m["items"][1];
  const std::string canvas_id = "https://example.org/iiif/manifest/books/vol%201/canvas/2";
  EXPECT_EQ(canvas["id"], canvas_id);
  EXPECT_EQ(canvas["type"], "Canvas");
  EXPECT_EQ(canvas["width"], 1010);
  EXPECT_EQ(canvas["height"], 1490);
  const Json& page = canvas["items"][0];
  EXPECT_EQ(page["type"], "AnnotationPage");
  const Json& annotation = page["items"][0];
  EXPECT_EQ(annotation["motivation"], "painting");
  EXPECT_EQ(annotation["target"], canvas_id);
  const Json& body = annotation["body"];
  const std::string service = "https://example.org/iiif/3/books/vol%201/p2.tif";
  EXPECT_EQ(body["id"], service + "/full/max/0/default.jpg");
  EXPECT_EQ(body["width"], 1010);
  EXPECT_EQ(body["service"][0]["id"], service);
  EXPECT_EQ(body["service"][0]["type"], "ImageService3");
  EXPECT_EQ(body["service"][1]["@id"], "https://example.org/iiif/2/books/vol%201/p2.tif");
  EXPECT_EQ(body["service"][1]["profile"], "http://iiif.io/api/image/2/level2.json");
  EXPECT_EQ(m["thumbnail"][0]["id"],
            "https://example.org/iiif/3/books/vol%201/p1.tif/full/!200,200/0/default.jpg");
}

TEST(IiifManifest, TheBodySizeIsWhatFullMaxAnswersUnderTheLimits) {
  ManifestOptions o = options();
  const std::vector<ManifestCanvas> canvas{{"big.tif", "big", 20000, 10000}};
  o.max_width = o.max_height = 5000;
  Json body = Json::parse(describe_manifest(o, canvas))["items"][0]["items"][0]["items"][0]["body"];
  EXPECT_EQ(body["width"], 5000);
  EXPECT_EQ(body["height"], 2500);
  o.max_area = 1'000'000;
  body = Json::parse(describe_manifest(o, canvas))["items"][0]["items"][0]["items"][0]["body"];
  EXPECT_EQ(body["width"], 1414);
  EXPECT_EQ(body["height"], 707);
}

TEST(IiifManifest, StatesRightsAttributionHomepageAndMetadata) {
  ManifestOptions o = options();
  o.rights = "http://creativecommons.org/publicdomain/mark/1.0/";
  o.attribution = "Courtesy of the archive";
  o.homepage = "https://example.org/book/books/vol%201";
  o.metadata = {{"title", "Volume one"}, {"date", "1642"}};
  const Json m = Json::parse(describe_manifest(o, std::vector<ManifestCanvas>{{"a", "a", 1, 1}}));
  EXPECT_EQ(m["rights"], o.rights);
  EXPECT_EQ(m["requiredStatement"]["value"]["none"][0], "Courtesy of the archive");
  EXPECT_EQ(m["homepage"][0]["id"], o.homepage);
  EXPECT_EQ(m["homepage"][0]["type"], "Text");
  EXPECT_EQ(m["metadata"][1]["label"]["en"][0], "date");
  EXPECT_EQ(m["metadata"][1]["value"]["none"][0], "1642");
}

}  // namespace
}  // namespace tessera
