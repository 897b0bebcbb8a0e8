// The caches never answer for a file that has changed: a replaced image is
// served as it is now, over every path a response can come from.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "e2e/fixture.hpp"
#include "support/decode_image.hpp"

namespace tessera::testing {
namespace {

TEST(Caches, AReplacedFileIsNeverServedStale) {
  const TestTree tree = make_test_tree();
  ServerProcess server(tree.root);
  const std::string tile = "/iiif/3/swap/0,0,256,256/128,/0/default.png";
  const std::string info = "/iiif/3/swap/info.json";

  std::filesystem::copy_file(tree.root / "pattern.tif", tree.root / "swap.tif");
  const auto first = http_get(server.port(), tile);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(http_get(server.port(), tile).body, first.body);  // a cached repeat
  EXPECT_NE(http_get(server.port(), info).body.find("\"width\": 1000"), std::string::npos);

  // Another picture under the same name: a different size and other pixels.
  write_pnm(tree.dir / "small.ppm", make_pattern(600, 300, 3));
  // The modification time has one-second granularity on some file systems.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  make_pyramid(tree.dir / "small.ppm", tree.dir / "swap-new.tif", 256,
               {"--compression", "deflate"});
  std::filesystem::rename(tree.dir / "swap-new.tif", tree.root / "swap.tif");

  EXPECT_NE(http_get(server.port(), info).body.find("\"width\": 600"), std::string::npos);
  const auto second = http_get(server.port(), tile);
  ASSERT_EQ(second.status, 200);
  EXPECT_NE(second.body, first.body);
  const Raster now = decode_image(second.body);
  EXPECT_LT(mean_abs_diff(now, box_reduce(make_pattern(600, 300, 3), 2).crop(0, 0, 128, 128)), 2.0);
  std::filesystem::remove_all(tree.dir);
}

}  // namespace
}  // namespace tessera::testing
