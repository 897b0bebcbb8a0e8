// The HTTP front: HEAD, keep-alive, CORS, Last-Modified, the request log,
// and configuration through the environment.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <fstream>

#include <chrono>
#include <thread>

#include "e2e/fixture.hpp"
#include "serve/http_date.hpp"

namespace tessera::testing {
namespace {

using Http = ServedImages;

TEST_F(Http, HeadHasTheHeadersOfGetAndNoBody) {
  const std::string url = "/iiif/3/pattern/full/300,/0/default.jpg";
  const auto get = http_get(port(), url);
  const auto head = http_request(port(), "HEAD", url);
  ASSERT_EQ(get.status, 200);
  ASSERT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), std::to_string(get.body.size()));
  EXPECT_EQ(head.header("content-type"), "image/jpeg");
  EXPECT_TRUE(head.body.empty());
}

TEST_F(Http, KeepAliveServesSeveralRequestsOnOneConnection) {
  const std::string request =
      "GET /iiif/3/pattern/info.json HTTP/1.1\r\nHost: a\r\n\r\n"
      "GET /iiif/3/pattern/0,0,256,256/256,/0/default.jpg HTTP/1.1\r\nHost: a\r\n\r\n"
      "GET /iiif/3/nothing/info.json HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  const std::string answer = raw_exchange(port(), request);
  std::size_t count = 0;
  for (std::size_t at = answer.find("HTTP/1.1 "); at != std::string::npos;
       at = answer.find("HTTP/1.1 ", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 3u);
  EXPECT_NE(answer.find("HTTP/1.1 404"), std::string::npos);
}

TEST_F(Http, CorsIsOnForEveryResponse) {
  EXPECT_EQ(http_get(port(), "/iiif/3/pattern/info.json").header("access-control-allow-origin"),
            "*");
  EXPECT_EQ(http_get(port(), "/iiif/3/nothing/info.json").header("access-control-allow-origin"),
            "*");
  const auto options = http_request(port(), "OPTIONS", "/iiif/3/pattern/info.json");
  EXPECT_EQ(options.status, 204);
  EXPECT_EQ(options.header("access-control-allow-origin"), "*");
}

TEST_F(Http, LastModifiedIsTheFilesTime) {
  struct stat st {};
  ASSERT_EQ(stat((tree().root / "pattern.tif").c_str(), &st), 0);
  const auto result = http_get(port(), "/iiif/3/pattern/full/64,/0/default.jpg");
  EXPECT_EQ(result.header("last-modified"), format_http_date(st.st_mtim.tv_sec));
}

TEST_F(Http, EachRequestIsLoggedOnOneLine) {
  http_get(port(), "/iiif/3/pattern/info.json?logged");
  std::string log;
  for (int i = 0; i < 50 && log.find("?logged") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    log = server().log();
  }
  EXPECT_NE(log.find("GET /iiif/3/pattern/info.json?logged 200 "), std::string::npos) << log;
}

TEST_F(Http, TheGalleryListsTheImages) {
  const auto page = http_get(port(), "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("viewer/gallery.js"), std::string::npos);
  const auto root = http_get(port(), "/api/images");
  ASSERT_EQ(root.status, 200);
  EXPECT_NE(root.body.find("\"id\":\"pattern.tif\""), std::string::npos) << root.body;
  const auto sub = http_get(port(), "/api/images?folder=sub");
  EXPECT_NE(sub.body.find("\"id\":\"sub/deflate.tiff\""), std::string::npos) << sub.body;
}

// Servers of their own, configured through the environment.
TEST(HttpConfig, EnvironmentConfiguresCorsBaseUrlQualityAndLogFile) {
  const TestTree tree = make_test_tree();
  const auto logfile = tree.dir / "tessera.log";
  const std::string url = "/iiif/3/pattern/full/500,/0/default.jpg";
  std::size_t size_low = 0, size_high = 0;
  {
    ServerProcess server(tree.root, {},
                         {"CORS=https://example.org", "BASE_URL=https://images.example.org/t/",
                          "JPEG_QUALITY=30", "LOGFILE=" + logfile.string()});
    const auto info = http_get(server.port(), "/iiif/3/pattern/info.json");
    EXPECT_EQ(info.header("access-control-allow-origin"), "https://example.org");
    EXPECT_NE(info.body.find("\"id\": \"https://images.example.org/t/iiif/3/pattern\""),
              std::string::npos)
        << info.body;
    size_low = http_get(server.port(), url).body.size();
  }
  {
    ServerProcess server(tree.root, {"--jpeg-quality", "95", "--cors", ""}, {"JPEG_QUALITY=30"});
    const auto result = http_get(server.port(), url);
    size_high = result.body.size();
    EXPECT_EQ(result.header("access-control-allow-origin"), "");
  }
  EXPECT_GT(size_high, size_low * 2);  // the flag won over the variable
  std::ifstream in(logfile);
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("GET /iiif/3/pattern/info.json 200"), std::string::npos) << log;
  std::filesystem::remove_all(tree.dir);
}

}  // namespace
}  // namespace tessera::testing
