// Bad input gets the right status and a one-line reason, never a crash or a
// file outside the image root; a corrupt image does not stop the server.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "e2e/fixture.hpp"

namespace tessera::testing {
namespace {

using Errors = ServedImages;

// Asserts the status and that the body is one line of text.
void expect_error(unsigned short port, const std::string& target, int status) {
  const auto result = http_get(port, target);
  EXPECT_EQ(result.status, status) << target << ": " << result.body;
  EXPECT_FALSE(result.body.empty()) << target;
  EXPECT_EQ(result.body.find('\n'), result.body.size() - 1) << target << ": " << result.body;
  EXPECT_EQ(result.header("content-type"), "text/plain; charset=utf-8") << target;
}

TEST_F(Errors, MalformedRequestsAnswer400) {
  for (const char* path : {
           "/iiif/3/pattern/2000,0,10,10/max/0/default.jpg",  // region outside the image
           "/iiif/3/pattern/0,0,0,10/max/0/default.jpg",      // zero-sized region
           "/iiif/3/pattern/full/abc,/0/default.jpg",         // bad size
           "/iiif/3/pattern/full/2000,/0/default.jpg",        // upscaling without ^
           "/iiif/3/pattern/full/0,/0/default.jpg",           // zero size
           "/iiif/3/pattern/full/max/x/default.jpg",          // bad rotation
           "/iiif/3/pattern/full/max/0/fancy.jpg",            // unknown quality
           "/iiif/3/pattern/full/max/0/default",              // no format
           "/iiif/3/pattern/full/max/0/default.bmp",          // unknown format
           "/iiif/3/pattern/full/1e309,/0/default.jpg",       // not a plain number
           "/iiif/3/pattern/full/max/0/default.jpg%zz",       // malformed escape
           "/iiif/3/pattern/full/^6000,/0/default.jpg",       // beyond MAX_CVT
       }) {
    expect_error(port(), path, 400);
  }
}

TEST_F(Errors, ValidButUnimplementedFeaturesAnswer501) {
  expect_error(port(), "/iiif/3/pattern/full/max/0/default.pdf", 501);
  expect_error(port(), "/iiif/2/pattern/full/full/0/default.pdf", 501);
}

TEST_F(Errors, UnknownImagesAndRoutesAnswer404) {
  expect_error(port(), "/iiif/3/nothing/info.json", 404);
  expect_error(port(), "/iiif/3/sub/nothing/full/max/0/default.jpg", 404);
  expect_error(port(), "/iiif/3/sub/info.json", 404);  // a folder is not an image
  expect_error(port(), "/no/such/route", 404);
}

TEST_F(Errors, NothingOutsideTheRootIsEverOpened) {
  for (const char* path : {
           "/iiif/3/../outside/info.json",
           "/iiif/3/..%2Foutside/info.json",
           "/iiif/3/%2e%2e/outside/info.json",
           "/iiif/3/%2E%2E%2Foutside.tif/info.json",
           "/iiif/3/sub/..%2F..%2Foutside/info.json",
           "/iiif/3/%2Fetc%2Fpasswd/info.json",
           "/iiif/3/%2F/info.json",
           "/iiif/3/pattern%00.tif/info.json",
           "/iiif/3/sub%252Fdeflate/info.json",
           "/iiif/3/./pattern/info.json",
       }) {
    const auto result = http_get(port(), path);
    EXPECT_GE(result.status, 400) << path;
    EXPECT_LT(result.status, 500) << path;
    EXPECT_EQ(result.body.find("\"width\""), std::string::npos) << path;
  }
  // Symlinks that lead out of the root: to a file, and through a folder.
  expect_error(port(), "/iiif/3/escape/info.json", 403);
  expect_error(port(), "/iiif/3/up/outside/info.json", 403);
}

TEST_F(Errors, CorruptFilesAnswer500AndTheServerGoesOn) {
  const auto corrupt = http_get(port(), "/iiif/3/corrupt/0,0,1000,700/250,/0/default.jpg");
  EXPECT_EQ(corrupt.status, 500) << corrupt.body;
  EXPECT_NE(corrupt.body.find("corrupt"), std::string::npos) << corrupt.body;
  expect_error(port(), "/iiif/3/notes/info.json", 500);

  EXPECT_TRUE(server().running());
  const auto good = http_get(port(), "/iiif/3/pattern/full/100,/0/default.jpg");
  EXPECT_EQ(good.status, 200);
}

TEST_F(Errors, MalformedHttpIsRefused) {
  const std::string answer = raw_exchange(port(), "GARBAGE\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
  // Oversized: each part of a request says which limit it passed.
  const std::string huge(64 * 1024, 'a');
  const std::string line = raw_exchange(port(), "GET /" + huge + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(line.rfind("HTTP/1.1 414 URI Too Long\r\n", 0), 0u) << line.substr(0, 200);
  EXPECT_TRUE(line.ends_with("\r\n\r\nrequest line too long (over 16384 bytes)\n")) << line;
  const std::string fields =
      raw_exchange(port(), "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + huge + "\r\n\r\n");
  EXPECT_EQ(fields.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u)
      << fields.substr(0, 200);
  EXPECT_TRUE(fields.ends_with("\r\n\r\nrequest header fields too large (over 16384 bytes)\n"))
      << fields;
  const std::string body =
      raw_exchange(port(), "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n" + huge);
  EXPECT_EQ(body.rfind("HTTP/1.1 413 Payload Too Large\r\n", 0), 0u) << body.substr(0, 200);
  EXPECT_TRUE(body.ends_with("\r\n\r\nrequest body too large (over 65536 bytes)\n")) << body;
  EXPECT_TRUE(server().running());
}

TEST_F(Errors, OtherMethodsAnswer405) {
  const auto result = http_request(port(), "DELETE", "/iiif/3/pattern/info.json");
  EXPECT_EQ(result.status, 405);
  EXPECT_EQ(result.header("allow"), "GET, HEAD, OPTIONS");
}

}  // namespace
}  // namespace tessera::testing
