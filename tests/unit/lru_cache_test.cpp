// ShardedLruCache: recency order, the byte budget, replacement, the
// counters, the disabled cache, and many threads at once.

#include "cache/lru_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace tessera {
namespace {

using IntCache = ShardedLruCache<int, std::string>;

std::shared_ptr<const std::string> value(std::string s) {
  return std::make_shared<const std::string>(std::move(s));
}

TEST(LruCacheTest, GetReturnsWhatWasPut) {
  IntCache cache(1000, 1);
  EXPECT_EQ(cache.get(1), nullptr);
  EXPECT_TRUE(cache.put(1, value("one"), 10));
  ASSERT_NE(cache.get(1), nullptr);
  EXPECT_EQ(*cache.get(1), "one");
  const CacheStats stats = cache.stats();
  EXPECT_EQ(stats.hits, 2u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.insertions, 1u);
  EXPECT_EQ(stats.entries, 1u);
  EXPECT_EQ(stats.charge, 10u);
}

TEST(LruCacheTest, EvictsLeastRecentlyUsedFirst) {
  IntCache cache(30, 1);
  cache.put(1, value("a"), 10);
  cache.put(2, value("b"), 10);
  cache.put(3, value("c"), 10);
  ASSERT_NE(cache.get(1), nullptr);  // 2 is now the oldest
  cache.put(4, value("d"), 10);
  EXPECT_EQ(cache.get(2), nullptr);
  EXPECT_NE(cache.get(1), nullptr);
  EXPECT_NE(cache.get(3), nullptr);
  EXPECT_NE(cache.get(4), nullptr);
  EXPECT_EQ(cache.stats().evictions, 1u);
}

TEST(LruCacheTest, EvictsByChargeNotByCount) {
  IntCache cache(100, 1);
  for (int i = 0; i < 10; ++i) cache.put(i, value("x"), 10);
  EXPECT_EQ(cache.stats().entries, 10u);
  cache.put(100, value("big"), 55);  // needs six small ones out
  const CacheStats stats = cache.stats();
  EXPECT_LE(stats.charge, 100u);
  EXPECT_EQ(stats.entries, 5u);
  EXPECT_EQ(stats.evictions, 6u);
  EXPECT_NE(cache.get(100), nullptr);
  EXPECT_EQ(cache.get(5), nullptr);
  EXPECT_NE(cache.get(6), nullptr);
}

TEST(LruCacheTest, ReplacingAKeyReplacesItsCharge) {
  IntCache cache(100, 1);
  cache.put(1, value("old"), 40);
  cache.put(1, value("new"), 25);
  EXPECT_EQ(*cache.get(1), "new");
  EXPECT_EQ(cache.stats().charge, 25u);
  EXPECT_EQ(cache.stats().entries, 1u);
  EXPECT_EQ(cache.stats().evictions, 0u);
}

TEST(LruCacheTest, RefusesAValueLargerThanItsShard) {
  IntCache cache(100, 1);
  cache.put(1, value("small"), 10);
  EXPECT_FALSE(cache.put(2, value("huge"), 101));
  EXPECT_EQ(cache.get(2), nullptr);
  EXPECT_NE(cache.get(1), nullptr);  // nothing was evicted for it
}

TEST(LruCacheTest, BudgetZeroDisables) {
  IntCache cache(0);
  EXPECT_FALSE(cache.enabled());
  EXPECT_FALSE(cache.put(1, value("a"), 0));
  EXPECT_EQ(cache.get(1), nullptr);
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(LruCacheTest, EvictedValuesStayValidForHolders) {
  IntCache cache(10, 1);
  cache.put(1, value("held"), 10);
  const auto held = cache.get(1);
  cache.put(2, value("other"), 10);
  EXPECT_EQ(cache.get(1), nullptr);
  EXPECT_EQ(*held, "held");
}

TEST(LruCacheTest, InsertKeepsAnAcceptedExistingEntry) {
  IntCache cache(100, 1);
  cache.put(1, value("first"), 10);
  auto held =
      cache.insert(1, value("second"), 10, [](const std::string& s) { return s == "first"; });
  EXPECT_EQ(*held, "first");
  held = cache.insert(1, value("third"), 10, [](const std::string& s) { return s == "first!"; });
  EXPECT_EQ(*held, "third");
  EXPECT_EQ(*cache.get(1), "third");
}

TEST(LruCacheTest, EraseAndClear) {
  IntCache cache(100, 4);
  for (int i = 0; i < 5; ++i) cache.put(i, value("v"), 5);
  cache.erase(3);
  EXPECT_EQ(cache.get(3), nullptr);
  EXPECT_EQ(cache.stats().charge, 20u);
  cache.clear();
  EXPECT_EQ(cache.stats().entries, 0u);
  EXPECT_EQ(cache.stats().charge, 0u);
}

TEST(LruCacheTest, ShardsShareTheBudgetExactly) {
  ShardedLruCache<int, int> cache(1000, 16, 1);
  EXPECT_EQ(cache.shard_count(), 16u);
  // Fill well past the budget with unit charges: every shard ends at its share.
  for (int i = 0; i < 10000; ++i) cache.put(i, std::make_shared<const int>(i), 1);
  const CacheStats stats = cache.stats();
  EXPECT_EQ(stats.charge, 1000u);
  EXPECT_EQ(stats.entries, 1000u);
  EXPECT_EQ(stats.evictions, 9000u);
}

TEST(LruCacheTest, SmallBudgetsUseFewerShards) {
  ShardedLruCache<int, int> cache(100 * 1024, 16, 64 * 1024);
  EXPECT_EQ(cache.shard_count(), 1u);
  EXPECT_TRUE(cache.put(1, std::make_shared<const int>(1), 64 * 1024));
}

// Many threads getting and putting overlapping keys with varied charges: the
// budget holds at every check, counters add up, and every value read is the
// one written for its key (ASan/TSan-style damage shows as a crash or a
// mismatch here).
TEST(LruCacheTest, HammerFromManyThreads) {
  constexpr std::size_t kBudget = 64 * 1024;
  ShardedLruCache<int, std::vector<int>> cache(kBudget, 8, 512);
  constexpr int kThreads = 8, kOps = 20000, kKeys = 600;
  std::atomic<uint64_t> gets{0}, wrong{0}, over_budget{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(1234 + t);
      std::uniform_int_distribution<int> key_of(0, kKeys - 1);
      for (int i = 0; i < kOps; ++i) {
        const int key = key_of(rng);
        if (rng() % 3 == 0) {
          // The value encodes its key; its length varies the charge.
          const std::size_t n = 16 + key % 200;
          auto v = std::make_shared<const std::vector<int>>(n, key);
          cache.put(key, v, n * sizeof(int));
        } else {
          ++gets;
          if (auto v = cache.get(key)) {
            if (v->empty() || v->front() != key || v->back() != key) ++wrong;
          }
        }
        if (i % 1000 == 0 && cache.stats().charge > kBudget) ++over_budget;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const CacheStats stats = cache.stats();
  EXPECT_EQ(wrong.load(), 0u);
  EXPECT_EQ(over_budget.load(), 0u);
  EXPECT_EQ(stats.hits + stats.misses, gets.load());
  EXPECT_GT(stats.hits, 0u);
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_LE(stats.charge, kBudget);
  // Each key held once: entries can't exceed the keys.
  EXPECT_LE(stats.entries, std::size_t(kKeys));
}

}  // namespace
}  // namespace tessera
