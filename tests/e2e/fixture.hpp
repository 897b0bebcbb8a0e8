#pragma once
// The images and the server every end-to-end suite shares: a 1000x700 test
// pattern as a JPEG-tiled pyramid (256 px tiles), the same pattern under other
// names and folders, a corrupt file beside them, and tessera serving the lot.

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "image/raster.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/test_images.hpp"

namespace tessera::testing {

struct TestTree {
  std::filesystem::path dir;  // temp folder; the image root is dir/root
  std::filesystem::path root;
  Raster pattern;  // the full-resolution pixels of pattern.tif and sub/deflate.tiff
  Raster rgba;     // rgba.tif: 120x80, 4 bands, lossless
};

// Makes the tree (a few hundred ms) in a new temp folder.
TestTree make_test_tree();

class ServedImages : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();

  static unsigned short port() { return server_->port(); }
  static const TestTree& tree() { return *tree_; }
  static ServerProcess& server() { return *server_; }

 private:
  static std::unique_ptr<TestTree> tree_;
  static std::unique_ptr<ServerProcess> server_;
};

// Decodes a JPEG body into pixels (fails the test on garbage).
Raster decode_body(const HttpResult& result);

}  // namespace tessera::testing
