// TileCache and CachingSource: decoded tiles reused, the same pixels as a
// fresh decode, keys that change with the file, the byte budget, and threads.

#include "cache/tile_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "common/error.hpp"

namespace tessera {
namespace {

// A source whose tiles are a function of (level, tx, ty), counting decodes.
class CountingSource final : public ImageSource {
 public:
  CountingSource() {
    info_.width = 1024;
    info_.height = 1024;
    info_.bands = 3;
    info_.levels = {LevelInfo{1024, 1024, 256, 256, 1.0}, LevelInfo{512, 512, 256, 256, 2.0}};
  }
  const ImageInfo& info() const noexcept override { return info_; }
  Raster tile(int level, uint32_t tx, uint32_t ty) override {
    ++decodes;
    if (tx >= 4 || ty >= 4) bad_request("tile outside level");
    Raster r(256, 256, 3);
    std::memset(r.data(), int(level * 64 + tx * 8 + ty), r.size_bytes());
    return r;
  }
  std::atomic<int> decodes{0};

 private:
  ImageInfo info_;
};

const FileIdentity kFile{1, 42, 1000, 123456789};

TEST(TileCacheTest, SecondReadIsAHitWithTheSamePixels) {
  TileCache cache(16 << 20);
  CountingSource source;
  const auto a = cache.tile(source, kFile, 0, 1, 2);
  const auto b = cache.tile(source, kFile, 0, 1, 2);
  EXPECT_EQ(source.decodes, 1);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a->data()[0], 1 * 8 + 2);
  const auto c = cache.tile(source, kFile, 1, 1, 2);  // other level, other key
  EXPECT_EQ(source.decodes, 2);
  EXPECT_EQ(c->data()[0], 64 + 1 * 8 + 2);
  EXPECT_EQ(cache.stats().hits, 1u);
}

TEST(TileCacheTest, AChangedFileIdentityMisses) {
  TileCache cache(16 << 20);
  CountingSource source;
  cache.tile(source, kFile, 0, 0, 0);
  std::vector<FileIdentity> changed(4, kFile);
  changed[0].mtime_ns += 1;
  changed[1].size += 1;
  changed[2].inode += 1;
  changed[3].device += 1;
  for (const FileIdentity& file : changed) {
    const int before = source.decodes;
    cache.tile(source, file, 0, 0, 0);
    EXPECT_EQ(source.decodes, before + 1);
  }
}

TEST(TileCacheTest, UnknownIdentityIsNeverShared) {
  TileCache cache(16 << 20);
  CountingSource source;
  cache.tile(source, FileIdentity{}, 0, 0, 0);
  cache.tile(source, FileIdentity{}, 0, 0, 0);
  EXPECT_EQ(source.decodes, 2);
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(TileCacheTest, BudgetBoundsTheTilesHeld) {
  const std::size_t one = TileCache::charge(Raster(256, 256, 3));
  TileCache cache(5 * one);
  CountingSource source;
  for (uint32_t t = 0; t < 16; ++t) cache.tile(source, kFile, 0, t % 4, t / 4);
  const CacheStats stats = cache.stats();
  EXPECT_LE(stats.charge, 5 * one);
  EXPECT_GE(stats.entries, 1u);
  EXPECT_LE(stats.entries, 5u);
  EXPECT_EQ(stats.evictions, 16u - stats.entries);
}

TEST(TileCacheTest, DisabledDecodesEveryTime) {
  TileCache cache(0);
  CountingSource source;
  cache.tile(source, kFile, 0, 0, 0);
  cache.tile(source, kFile, 0, 0, 0);
  EXPECT_EQ(source.decodes, 2);
}

TEST(TileCacheTest, ErrorsPassThroughAndAreNotCached) {
  TileCache cache(16 << 20);
  CountingSource source;
  EXPECT_THROW(cache.tile(source, kFile, 0, 9, 0), Error);
  EXPECT_THROW(cache.tile(source, kFile, 0, 9, 0), Error);
  EXPECT_EQ(source.decodes, 2);
}

TEST(TileCacheTest, CachingSourceIsADropInSource) {
  TileCache cache(16 << 20);
  CountingSource inner;
  CachingSource source(inner, kFile, cache);
  EXPECT_EQ(&source.info(), &inner.info());
  Raster a = source.tile(0, 3, 3);
  a.data()[0] = 0;  // the caller's copy; the cached tile is untouched
  const Raster b = source.tile(0, 3, 3);
  EXPECT_EQ(b.data()[0], 3 * 8 + 3);
  EXPECT_EQ(inner.decodes, 1);
  EXPECT_EQ(source.shared_tile(0, 3, 3)->data()[0], 3 * 8 + 3);
  EXPECT_EQ(inner.decodes, 1);
}

// Threads, each with its own source (sources are single-threaded), sharing
// one cache that is too small for all tiles.
TEST(TileCacheTest, HammerFromManyThreads) {
  const std::size_t one = TileCache::charge(Raster(256, 256, 3));
  TileCache cache(12 * one);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      CountingSource source;
      for (int i = 0; i < 2000; ++i) {
        const uint32_t tx = (i * 7 + t) % 4, ty = (i / 4 + t) % 4;
        const int level = i % 2;
        const auto tile = cache.tile(source, kFile, level, tx, ty);
        if (tile->data()[tile->size_bytes() - 1] != uint8_t(level * 64 + tx * 8 + ty)) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_LE(cache.stats().charge, 12 * one);
  EXPECT_GT(cache.stats().hits, 0u);
}

}  // namespace
}  // namespace tessera
