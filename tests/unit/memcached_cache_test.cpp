// MemcachedCache: the item format as pure functions, and the client against a
// real memcached, one that is down and one that hangs.

#include "cache/memcached_cache.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/memcached_server.hpp"

namespace tessera {
namespace {

using namespace std::chrono_literals;
using testing::MemcachedProcess;
using testing::StalledServer;

const FileIdentity kFile{1, 42, 1000, 1'700'000'000'123'456'789};

// Generous: the bound says "did not stall", not "was fast".
constexpr auto kNoStall = 2s;

MemcachedOptions options_for(const std::vector<std::string>& addresses) {
  MemcachedOptions options;
  for (const auto& address : addresses) {
    const auto servers = parse_memcached_servers(address);
    options.servers.insert(options.servers.end(), servers.begin(), servers.end());
  }
  return options;
}

std::string binary_body(std::size_t size) {
  std::string body(size, '\0');
  for (std::size_t i = 0; i < size; ++i) body[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  return body;
}

TEST(MemcachedServers, ParsesIipsrvsList) {
  const auto servers = parse_memcached_servers("localhost,10.0.0.2:11212, [::1]:11211 cache-1");
  const std::vector<MemcachedServer> expected = {
      {"localhost", 11211}, {"10.0.0.2", 11212}, {"::1", 11211}, {"cache-1", 11211}};
  EXPECT_EQ(servers, expected);
  EXPECT_TRUE(parse_memcached_servers("").empty());
  EXPECT_TRUE(parse_memcached_servers(" , ").empty());
}

TEST(MemcachedServers, RefusesWhatIsNotHostAndPort) {
  for (const char* bad : {"host:99999", "host:0", "bad!host", "host:", "[::1", "[::1]x", "[zz]:1",
                          "host:12ab", "[]:11211"}) {
    EXPECT_THROW(parse_memcached_servers(bad), std::invalid_argument) << bad;
  }
}

TEST(MemcachedItems, KeysFitMemcachedAndNameTheFileVersion) {
  const std::string full = memcached_full_key("0,0,256,256/256x256/0/default/jpg", kFile);
  const std::string key = memcached_item_key(full);
  EXPECT_EQ(key.rfind("tessera:", 0), 0u);
  EXPECT_LE(key.size(), 250u);
  for (char c : key) EXPECT_TRUE(c > ' ' && c < 127) << key;
  EXPECT_EQ(memcached_item_key(full), key);  // the same in every process

  // A long request still makes a short key.
  EXPECT_EQ(memcached_item_key(memcached_full_key(std::string(5000, 'x'), kFile)).size(),
            key.size());

  // Another version of the file is another item; another device is not (it
  // differs between machines mounting one share).
  FileIdentity touched = kFile;
  touched.mtime_ns += 1;
  FileIdentity rewritten = kFile;
  rewritten.size += 1;
  FileIdentity replaced = kFile;
  replaced.inode += 1;
  FileIdentity elsewhere = kFile;
  elsewhere.device += 1;
  const std::string request = "0,0,256,256/256x256/0/default/jpg";
  EXPECT_NE(memcached_full_key(request, touched), full);
  EXPECT_NE(memcached_full_key(request, rewritten), full);
  EXPECT_NE(memcached_full_key(request, replaced), full);
  EXPECT_EQ(memcached_full_key(request, elsewhere), full);
  EXPECT_NE(memcached_item_key(memcached_full_key(request, touched)), key);
  EXPECT_NE(memcached_item_key(memcached_full_key("other", kFile)), key);
}

TEST(MemcachedItems, RoundTripKeepsEveryByte) {
  const std::string full = memcached_full_key("a request\nwith a newline", kFile);
  const std::string body = binary_body(70'000);
  const std::string item = encode_memcached_item(full, "image/png", body);
  const auto decoded = decode_memcached_item(item, full);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->content_type, "image/png");
  EXPECT_EQ(decoded->body, body);

  const auto empty = decode_memcached_item(encode_memcached_item(full, "", ""), full);
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, (SharedResponse{"", ""}));
}

TEST(MemcachedItems, AnItemForAnotherKeyOrDamagedIsAMiss) {
  const std::string full = memcached_full_key("request", kFile);
  const std::string item = encode_memcached_item(full, "image/jpeg", "jpeg bytes");
  EXPECT_FALSE(decode_memcached_item(item, memcached_full_key("request2", kFile)));
  // Every truncation that cuts into the key or the type, and any header damage.
  const std::size_t body_starts = item.size() - std::string("jpeg bytes").size();
  for (std::size_t n = 0; n < body_starts; ++n) {
    EXPECT_FALSE(decode_memcached_item(item.substr(0, n), full)) << n;
  }
  for (const std::string& bad :
       {std::string("not an item at all"), std::string("tessera-response/1 99999999 5\nabc"),
        std::string("tessera-response/1 18446744073709551615 18446744073709551615\n"),
        std::string("tessera-response/1 -1 5\nabc"), std::string("tessera-response/1 3\nabc"),
        std::string("tessera-response/2 ") + item.substr(19)}) {
    EXPECT_FALSE(decode_memcached_item(bad, full)) << bad;
  }
}

TEST(MemcachedCacheTest, NeedsAServer) {
  EXPECT_THROW(MemcachedCache(MemcachedOptions{}), std::invalid_argument);
}

TEST(MemcachedCacheTest, StoresAndFindsAResponseInARealMemcached) {
  MemcachedProcess memcached;
  MemcachedCache cache(options_for({memcached.address()}));
  const std::string body = binary_body(50'000);

  EXPECT_FALSE(cache.get("tile", kFile));
  cache.put("tile", kFile, "image/jpeg", body);
  EXPECT_EQ(memcached.stat("cmd_set"), 1u);
  const auto hit = cache.get("tile", kFile);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->content_type, "image/jpeg");
  EXPECT_EQ(hit->body, body);
  EXPECT_EQ(memcached.stat("get_hits"), 1u);

  // Another client (another process, as far as memcached can tell) finds it too.
  MemcachedCache other(options_for({memcached.address()}));
  ASSERT_TRUE(other.get("tile", kFile));
  EXPECT_EQ(other.get("tile", kFile)->body, body);

  // A changed file, another request or an unknown identity is not it.
  FileIdentity touched = kFile;
  touched.mtime_ns += 1'000'000'000;
  EXPECT_FALSE(cache.get("tile", touched));
  EXPECT_FALSE(cache.get("tile2", kFile));
  EXPECT_FALSE(cache.get("tile", FileIdentity{}));

  const MemcachedStats stats = cache.stats();
  EXPECT_EQ(stats.hits, 1u);
  EXPECT_EQ(stats.misses, 3u);  // the first get, touched, tile2
  EXPECT_EQ(stats.stores, 1u);
  EXPECT_EQ(stats.failures, 0u);
}

TEST(MemcachedCacheTest, ItemsExpireAfterMemcachedTimeout) {
  MemcachedProcess memcached;
  MemcachedOptions options = options_for({memcached.address()});
  options.expiry_seconds = 1;
  MemcachedCache cache(options);
  cache.put("tile", kFile, "image/jpeg", "bytes");
  ASSERT_TRUE(cache.get("tile", kFile));
  // memcached counts in whole seconds: an item of 1 s is gone after 2.
  std::this_thread::sleep_for(2500ms);
  EXPECT_FALSE(cache.get("tile", kFile));
}

TEST(MemcachedCacheTest, ResponsesOverTheItemLimitAreNotSent) {
  MemcachedProcess memcached;
  MemcachedCache cache(options_for({memcached.address()}));
  cache.put("big", kFile, "image/png", binary_body(1'100'000));
  EXPECT_EQ(cache.stats().too_large, 1u);
  EXPECT_EQ(memcached.stat("cmd_set"), 0u);
  EXPECT_FALSE(cache.get("big", kFile));

  // Just under the limit still fits memcached's default 1 MB items.
  const std::string body = binary_body(990'000);
  cache.put("large", kFile, "image/png", body);
  const auto hit = cache.get("large", kFile);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->body, body);
}

TEST(MemcachedCacheTest, ADownServerIsAMissAndThenLeftAlone) {
  MemcachedOptions options = options_for({"127.0.0.1:" + std::to_string(testing::unused_port())});
  std::atomic<int> told{0};
  std::string message;
  options.on_server_failure = [&](std::string_view m) {
    ++told;
    message = m;
  };
  MemcachedCache cache(options);

  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(cache.get("tile", kFile));
  cache.put("tile", kFile, "image/jpeg", "bytes");
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(cache.get("tile", kFile));
  EXPECT_LT(std::chrono::steady_clock::now() - start, kNoStall);

  const MemcachedStats stats = cache.stats();
  EXPECT_EQ(stats.failures, 1u);
  EXPECT_EQ(stats.skipped, 21u);
  EXPECT_EQ(told.load(), 1);
  EXPECT_NE(message.find("127.0.0.1"), std::string::npos) << message;
}

TEST(MemcachedCacheTest, AStalledServerCostsOneTimeoutNotOnePerRequest) {
  StalledServer stalled;
  MemcachedOptions options = options_for({stalled.address()});
  std::atomic<int> told{0};
  options.on_server_failure = [&](std::string_view) { ++told; };
  MemcachedCache cache(options);

  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(cache.get("tile", kFile));
  EXPECT_LT(std::chrono::steady_clock::now() - start, kNoStall);
  EXPECT_EQ(cache.stats().failures, 1u);

  // Four threads of requests meanwhile: none waits on the server.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache] {
      for (int i = 0; i < 25; ++i) {
        EXPECT_FALSE(cache.get("tile" + std::to_string(i), kFile));
        cache.put("tile" + std::to_string(i), kFile, "image/jpeg", "bytes");
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, kNoStall);
  const MemcachedStats stats = cache.stats();
  EXPECT_EQ(stats.failures, 1u);
  EXPECT_EQ(stats.skipped, 200u);
  EXPECT_EQ(told.load(), 1);
}

TEST(MemcachedCacheTest, AServerIsTriedAgainAfterRetryAfter) {
  auto memcached = std::make_unique<MemcachedProcess>();
  const unsigned short port = memcached->port();
  MemcachedOptions options = options_for({memcached->address()});
  options.retry_after = 300ms;
  std::atomic<int> told{0};
  options.on_server_failure = [&](std::string_view) { ++told; };
  MemcachedCache cache(options);
  cache.put("tile", kFile, "image/jpeg", "before");
  ASSERT_TRUE(cache.get("tile", kFile));

  memcached.reset();  // stopped: the next operation fails
  EXPECT_FALSE(cache.get("tile", kFile));
  EXPECT_EQ(cache.stats().failures, 1u);

  memcached = std::make_unique<MemcachedProcess>(port);
  std::this_thread::sleep_for(400ms);
  cache.put("tile", kFile, "image/jpeg", "after");  // the probe: it answers
  const auto hit = cache.get("tile", kFile);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->body, "after");
  EXPECT_EQ(cache.stats().failures, 1u);
  EXPECT_EQ(told.load(), 1);
}

TEST(MemcachedCacheTest, ARestartCostsOneFailureNotOnePerClient) {
  auto memcached = std::make_unique<MemcachedProcess>();
  const unsigned short port = memcached->port();
  MemcachedOptions options = options_for({memcached->address()});
  options.retry_after = 200ms;
  MemcachedCache cache(options);
  // Threads at once: the pool gives each a client with its own connection.
  const auto from_threads = [&cache](int round) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&cache, t, round] {
        for (int i = 0; i < 50; ++i) {
          cache.put(fmt::format("tile{}-{}-{}", round, t, i), kFile, "image/jpeg", "bytes");
        }
      });
    }
    for (auto& thread : threads) thread.join();
  };
  from_threads(1);
  EXPECT_EQ(cache.stats().failures, 0u);

  // Every connection made before is dead now; the first to find out tells.
  memcached.reset();
  memcached = std::make_unique<MemcachedProcess>(port);
  cache.put("after", kFile, "image/jpeg", "bytes");
  EXPECT_EQ(cache.stats().failures, 1u);

  // The other clients drop their dead connections rather than fail on them.
  std::this_thread::sleep_for(300ms);
  from_threads(2);
  EXPECT_EQ(cache.stats().failures, 1u);
  cache.put("later", kFile, "image/jpeg", "bytes");
  EXPECT_TRUE(cache.get("later", kFile));
}

TEST(MemcachedCacheTest, KeysSpreadOverServersAndOneDownSparesTheOthers) {
  MemcachedProcess first;
  auto second = std::make_unique<MemcachedProcess>();
  MemcachedCache cache(options_for({first.address() + "," + second->address()}));
  for (int i = 0; i < 40; ++i) cache.put("tile" + std::to_string(i), kFile, "t", "b");
  const uint64_t on_first = first.stat("curr_items");
  EXPECT_GT(on_first, 0u);
  EXPECT_GT(second->stat("curr_items"), 0u);
  EXPECT_EQ(on_first + second->stat("curr_items"), 40u);

  second.reset();
  int hits = 0;
  for (int i = 0; i < 40; ++i) hits += cache.get("tile" + std::to_string(i), kFile) ? 1 : 0;
  EXPECT_EQ(uint64_t(hits), on_first);
  EXPECT_EQ(cache.stats().failures, 1u);
}

TEST(MemcachedCacheTest, ThreadsShareTheClientSafely) {
  MemcachedProcess memcached;
  MemcachedCache cache(options_for({memcached.address()}));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&cache, &wrong, t] {
      for (int i = 0; i < 100; ++i) {
        const std::string request = "tile" + std::to_string((t * 100 + i) % 150);
        const std::string body = "body of " + request;
        if (const auto hit = cache.get(request, kFile)) {
          if (hit->body != body) ++wrong;
        } else {
          cache.put(request, kFile, "image/jpeg", body);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  const MemcachedStats stats = cache.stats();
  EXPECT_EQ(stats.failures, 0u);
  EXPECT_EQ(stats.hits + stats.misses, 800u);
  EXPECT_GT(stats.hits, 0u);
}

}  // namespace
}  // namespace tessera
