// MEMCACHED_SERVERS: Tessera processes share rendered responses through a
// real memcached, never serve a changed file from it, and answer as usual,
// without stalling, when memcached is down or hangs.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "support/decode_image.hpp"
#include "support/http_client.hpp"
#include "support/memcached_server.hpp"
#include "support/server_process.hpp"
#include "support/test_images.hpp"

namespace tessera::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Generous: the bound says "did not stall", not "was fast".
constexpr auto kNoStall = 2s;

struct Images {
  fs::path dir;
  fs::path root;
  Images() : dir(make_temp_dir("tessera-memcached")), root(dir / "root") {
    fs::create_directories(root);
    write_pnm(dir / "pattern.ppm", make_pattern(1000, 700, 3));
    make_pyramid(dir / "pattern.ppm", root / "pattern.tif", 256, {"--compression", "deflate"});
  }
  ~Images() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
};

ServerProcess tessera_with_memcached(const fs::path& root, const std::string& servers) {
  return ServerProcess(root, {"--memcached-servers", servers});
}

// GET that must answer 200 and not stall.
HttpResult get_promptly(unsigned short port, const std::string& target) {
  const auto start = std::chrono::steady_clock::now();
  HttpResult result = http_get(port, target);
  EXPECT_LT(std::chrono::steady_clock::now() - start, kNoStall) << target;
  EXPECT_EQ(result.status, 200) << target << ": " << result.body;
  return result;
}

TEST(Memcached, ATileRenderedByOneProcessIsServedToAnotherFromMemcached) {
  Images images;
  MemcachedProcess memcached;
  ServerProcess first = tessera_with_memcached(images.root, memcached.address());
  ServerProcess second = tessera_with_memcached(images.root, memcached.address());
  const std::string tile = "/iiif/3/pattern/256,0,256,256/256,/0/default.jpg";

  const HttpResult rendered = get_promptly(first.port(), tile);
  EXPECT_EQ(rendered.header("content-type"), "image/jpeg");
  EXPECT_EQ(memcached.stat("get_hits"), 0u);
  EXPECT_EQ(memcached.stat("cmd_set"), 1u);

  const HttpResult shared = get_promptly(second.port(), tile);
  EXPECT_EQ(memcached.stat("get_hits"), 1u);
  EXPECT_EQ(shared.body, rendered.body);
  EXPECT_EQ(shared.header("content-type"), rendered.header("content-type"));
  EXPECT_EQ(shared.header("last-modified"), rendered.header("last-modified"));

  // A repeat is answered by the process's own cache, not memcached again.
  EXPECT_EQ(get_promptly(second.port(), tile).body, rendered.body);
  EXPECT_EQ(memcached.stat("get_hits"), 1u);
  EXPECT_EQ(memcached.stat("cmd_set"), 1u);
}

TEST(Memcached, AChangedFileIsNotServedStale) {
  Images images;
  MemcachedProcess memcached;
  ServerProcess first = tessera_with_memcached(images.root, memcached.address());
  ServerProcess second = tessera_with_memcached(images.root, memcached.address());
  const std::string tile = "/iiif/3/pattern/0,0,256,256/128,/0/default.png";
  const HttpResult before = get_promptly(first.port(), tile);

  // Another picture under the same name, written in place: the same inode,
  // a new size and modification time (one-second granularity on some file
  // systems).
  write_pnm(images.dir / "small.ppm", make_pattern(600, 300, 3));
  make_pyramid(images.dir / "small.ppm", images.dir / "new.tif", 256, {"--compression", "deflate"});
  std::this_thread::sleep_for(1100ms);
  fs::copy_file(images.dir / "new.tif", images.root / "pattern.tif",
                fs::copy_options::overwrite_existing);

  const uint64_t hits = memcached.stat("get_hits");
  const HttpResult after = get_promptly(second.port(), tile);
  EXPECT_EQ(memcached.stat("get_hits"), hits);  // the old entry was not it
  EXPECT_NE(after.body, before.body);
  const Raster now = decode_image(after.body);
  EXPECT_LT(mean_abs_diff(now, box_reduce(make_pattern(600, 300, 3), 2).crop(0, 0, 128, 128)), 2.0);
  // The first process, which holds the old response itself, does not serve it either.
  EXPECT_EQ(get_promptly(first.port(), tile).body, after.body);

  // Only touched: the bytes are the same, but the entry made before is not
  // trusted (the modification time is part of its key).
  std::this_thread::sleep_for(1100ms);
  fs::last_write_time(images.root / "pattern.tif", fs::file_time_type::clock::now());
  const uint64_t misses = memcached.stat("get_misses");
  EXPECT_EQ(get_promptly(second.port(), tile).body, after.body);
  EXPECT_EQ(memcached.stat("get_misses"), misses + 1);
}

// Different tiles each time: none is in the process's own cache.
void expect_prompt_tiles(unsigned short port, int count) {
  for (int i = 0; i < count; ++i) {
    const int x = (i % 4) * 256, y = (i / 4 % 3) * 256;
    const int size = 64 + 32 * (i / 12);
    get_promptly(port, fmt::format("/iiif/3/pattern/{},{},256,256/{},/0/default.jpg", x, y, size));
  }
}

TEST(Memcached, AServerThatIsDownFailsNoRequest) {
  Images images;
  ServerProcess server =
      tessera_with_memcached(images.root, "127.0.0.1:" + std::to_string(unused_port()));
  expect_prompt_tiles(server.port(), 16);
  EXPECT_NE(server.log().find("memcached 127.0.0.1"), std::string::npos) << server.log();
}

TEST(Memcached, AServerThatHangsStallsNoRequest) {
  Images images;
  StalledServer stalled;
  ServerProcess server = tessera_with_memcached(images.root, stalled.address());
  expect_prompt_tiles(server.port(), 16);
  EXPECT_GE(stalled.accepted(), 1);  // it was asked, and never answered
  EXPECT_NE(server.log().find("memcached 127.0.0.1"), std::string::npos) << server.log();
}

TEST(Memcached, OneServerHangingSparesTheOther) {
  Images images;
  StalledServer stalled;
  MemcachedProcess memcached;
  const std::string servers = stalled.address() + "," + memcached.address();
  ServerProcess first = tessera_with_memcached(images.root, servers);
  ServerProcess second = tessera_with_memcached(images.root, servers);
  expect_prompt_tiles(first.port(), 16);
  const uint64_t stored = memcached.stat("curr_items");
  EXPECT_GT(stored, 0u);
  expect_prompt_tiles(second.port(), 16);
  EXPECT_EQ(memcached.stat("get_hits"), stored);
}

}  // namespace
}  // namespace tessera::testing
