// ResponseCache: keyed by request and file identity, bounded by
// MAX_IMAGE_CACHE_SIZE in iipsrv's megabytes, shared by threads.

#include "cache/response_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

namespace tessera {
namespace {

const FileIdentity kFile{1, 42, 1000, 123456789};

std::shared_ptr<const CachedResponse> response(std::string body) {
  auto r = std::make_shared<CachedResponse>();
  r->status = 200;
  r->headers = {{"Content-Type", "image/jpeg"}};
  r->body = std::move(body);
  return r;
}

TEST(ResponseCacheTest, BudgetFromMegabytesIsIipsrvs) {
  EXPECT_EQ(ResponseCache::budget_from_megabytes(10), 10'240'000u);
  EXPECT_EQ(ResponseCache::budget_from_megabytes(0.5), 512'000u);
  EXPECT_EQ(ResponseCache::budget_from_megabytes(0), 0u);
  EXPECT_EQ(ResponseCache::budget_from_megabytes(-3), 0u);
  EXPECT_EQ(ResponseCache::budget_from_megabytes(std::nan("")), 0u);
}

TEST(ResponseCacheTest, HitsOnTheSameRequestAndFile) {
  ResponseCache cache(ResponseCache::budget_from_megabytes(10));
  const std::string key = "iiif3/a.tif/full/256,/0/default.jpg";
  EXPECT_EQ(cache.get(key, kFile), nullptr);
  cache.put(key, kFile, response("jpeg bytes"));
  const auto hit = cache.get(key, kFile);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->body, "jpeg bytes");
  EXPECT_EQ(hit->headers.at(0).second, "image/jpeg");
  EXPECT_EQ(cache.get(key + "x", kFile), nullptr);
}

TEST(ResponseCacheTest, AChangedFileMisses) {
  ResponseCache cache(1 << 20);
  const std::string key = "iiif3/a.tif/full/max/0/default.jpg";
  cache.put(key, kFile, response("old"));
  FileIdentity touched = kFile;
  touched.mtime_ns += 1;
  EXPECT_EQ(cache.get(key, touched), nullptr);
  FileIdentity grown = kFile;
  grown.size += 10;
  EXPECT_EQ(cache.get(key, grown), nullptr);
  FileIdentity replaced = kFile;
  replaced.inode += 1;
  EXPECT_EQ(cache.get(key, replaced), nullptr);
  cache.put(key, touched, response("new"));
  EXPECT_EQ(cache.get(key, touched)->body, "new");
}

TEST(ResponseCacheTest, UnknownFileIsNotCached) {
  ResponseCache cache(1 << 20);
  cache.put("k", FileIdentity{}, response("x"));
  EXPECT_EQ(cache.get("k", FileIdentity{}), nullptr);
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(ResponseCacheTest, BudgetRespected) {
  const std::size_t budget = ResponseCache::budget_from_megabytes(1);
  ResponseCache cache(budget);
  const std::string body(20'000, 'j');
  for (int i = 0; i < 200; ++i) {
    cache.put("tile/" + std::to_string(i), kFile, response(body));
  }
  const CacheStats stats = cache.stats();
  EXPECT_LE(stats.charge, budget);
  EXPECT_GE(stats.charge, budget / 2);  // the budget is used, not wasted
  EXPECT_LT(stats.entries, 52u);        // 20 KB bodies in a 1,024,000-byte budget
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_NE(cache.get("tile/199", kFile), nullptr);
  EXPECT_EQ(cache.get("tile/0", kFile), nullptr);
}

TEST(ResponseCacheTest, DisabledStoresNothing) {
  ResponseCache cache(ResponseCache::budget_from_megabytes(0));
  EXPECT_FALSE(cache.enabled());
  cache.put("k", kFile, response("x"));
  EXPECT_EQ(cache.get("k", kFile), nullptr);
}

TEST(ResponseCacheTest, HammerFromManyThreads) {
  ResponseCache cache(256 * 1024);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        const int n = (i * 31 + t * 7) % 300;
        const std::string key = "r/" + std::to_string(n);
        if (auto hit = cache.get(key, kFile)) {
          if (hit->body != std::string(100 + n * 10, char('a' + n % 26))) ++wrong;
        } else {
          cache.put(key, kFile, response(std::string(100 + n * 10, char('a' + n % 26))));
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_LE(cache.stats().charge, 256u * 1024u);
  EXPECT_GT(cache.stats().hits, 0u);
}

}  // namespace
}  // namespace tessera
