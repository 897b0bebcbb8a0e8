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

// The status line and headers Tessera writes itself: one Content-Length,
// none on 204 and 304 (with no body), Connection as the client's version
// expects, and the connection closed when it asked for that.
TEST_F(Http, RepliesAreFramedAsHttp11Says) {
  const std::string url = "/iiif/3/pattern/0,0,256,256/256,/0/default.jpg";
  const auto first = http_get(port(), url);
  ASSERT_EQ(first.status, 200);
  const std::string tag = first.header("etag");
  ASSERT_FALSE(tag.empty());

  const std::string answer =
      raw_exchange(port(), fmt::format("GET {} HTTP/1.1\r\nHost: a\r\nIf-None-Match: {}\r\n\r\n"
                                       "OPTIONS {} HTTP/1.1\r\nHost: a\r\n\r\n"
                                       "GET {} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                                       url, tag, url, url));
  const std::size_t second = answer.find("HTTP/1.1 204");
  const std::size_t third = answer.find("HTTP/1.1 200");
  ASSERT_EQ(answer.rfind("HTTP/1.1 304 Not Modified\r\n", 0), 0u) << answer.substr(0, 300);
  ASSERT_NE(second, std::string::npos);
  ASSERT_NE(third, std::string::npos);
  const std::string not_modified = answer.substr(0, second);
  const std::string no_content = answer.substr(second, third - second);
  EXPECT_EQ(not_modified.find("Content-Length"), std::string::npos) << not_modified;
  EXPECT_EQ(not_modified.size(), not_modified.find("\r\n\r\n") + 4);  // no body
  EXPECT_EQ(no_content.find("Content-Length"), std::string::npos) << no_content;
  const std::string last = answer.substr(third);
  EXPECT_NE(last.find("\r\nConnection: close\r\n"), std::string::npos);
  EXPECT_NE(last.find("\r\nServer: Tessera\r\n"), std::string::npos);
  const std::string length = fmt::format("\r\nContent-Length: {}\r\n", first.body.size());
  const std::string head = last.substr(0, last.find("\r\n\r\n") + 2);
  ASSERT_NE(head.find(length), std::string::npos) << head;
  EXPECT_EQ(head.find("Content-Length"), head.rfind("Content-Length")) << head;
  EXPECT_EQ(last.size(), last.find("\r\n\r\n") + 4 + first.body.size());

  // HTTP/1.0: closed after one reply unless kept alive, and then said so.
  const std::string old =
      raw_exchange(port(), fmt::format("GET {} HTTP/1.0\r\n\r\nGET {} HTTP/1.0\r\n\r\n", url, url));
  EXPECT_EQ(old.find("HTTP/1.1 200", 1), std::string::npos) << "a second reply on 1.0";
  EXPECT_NE(old.find("\r\nConnection: close\r\n"), std::string::npos);
  const std::string kept =
      raw_exchange(port(), fmt::format("GET {} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                                       "GET {} HTTP/1.0\r\n\r\n",
                                       url, url));
  EXPECT_NE(kept.find("\r\nConnection: keep-alive\r\n"), std::string::npos);
  EXPECT_NE(kept.find("HTTP/1.1 200", 1), std::string::npos) << "the kept connection's 2nd reply";
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
