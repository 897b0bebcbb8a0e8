// ImageCache: sources reused between leases, a pool per file for concurrent
// leases, a changed file never served from its old entry, and the limits on
// entries and idle sources.

#include "cache/image_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "support/test_images.hpp"

namespace tessera {
namespace {

namespace fs = std::filesystem;

class ImageCacheTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(testing::make_temp_dir("tessera-imgcache"));
    testing::write_pnm(*dir_ / "a.pnm", testing::make_pattern(300, 200, 3));
    testing::write_pnm(*dir_ / "b.pnm", testing::make_pattern(520, 400, 1));
    testing::make_pyramid(*dir_ / "a.pnm", *dir_ / "a.tif", 64);
    testing::make_pyramid(*dir_ / "b.pnm", *dir_ / "b.tif", 64);
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  void SetUp() override {
    work_ = testing::make_temp_dir("tessera-imgcache-case");
    fs::copy_file(*dir_ / "a.tif", work_ / "img.tif");
  }
  void TearDown() override { fs::remove_all(work_); }

  // Options whose opener counts the files it opens.
  ImageCacheOptions counting(std::size_t max_entries = 1000) {
    ImageCacheOptions options;
    options.max_entries = max_entries;
    options.open = [this](const fs::path& path) {
      ++opens_;
      return open_image(path);
    };
    return options;
  }

  // Replaces img.tif with another image; the new file gets a new inode, size
  // and mtime.
  void replace_image(const std::string& with) {
    fs::copy_file(*dir_ / with, work_ / "img.new", fs::copy_options::overwrite_existing);
    fs::rename(work_ / "img.new", work_ / "img.tif");
  }

  static fs::path* dir_;
  fs::path work_;
  std::atomic<int> opens_{0};
};

fs::path* ImageCacheTest::dir_ = nullptr;

TEST_F(ImageCacheTest, ReusesTheSourceBetweenLeases) {
  ImageCache cache(counting());
  const ImageSource* first = nullptr;
  {
    ImageLease lease = cache.acquire(work_ / "img.tif");
    ASSERT_TRUE(lease);
    first = &lease.source();
    EXPECT_EQ(lease->info().width, 300u);
    EXPECT_EQ(lease.info()->width, 300u);
    EXPECT_EQ(lease.identity(), file_identity(work_ / "img.tif"));
  }
  {
    ImageLease lease = cache.acquire(work_ / "img.tif");
    EXPECT_EQ(&lease.source(), first);
    EXPECT_EQ(lease->tile(0, 0, 0).width(), 64u);
  }
  EXPECT_EQ(opens_, 1);
  EXPECT_EQ(cache.stats().opens, 1u);
  EXPECT_EQ(cache.stats().idle_sources, 1u);
}

TEST_F(ImageCacheTest, ConcurrentLeasesGetDistinctSourcesThenShareThePool) {
  ImageCache cache(counting());
  {
    ImageLease a = cache.acquire(work_ / "img.tif");
    ImageLease b = cache.acquire(work_ / "img.tif");
    ImageLease c = cache.acquire(work_ / "img.tif");
    EXPECT_NE(&a.source(), &b.source());
    EXPECT_NE(&b.source(), &c.source());
    EXPECT_EQ(a.info(), b.info());  // one metadata entry for the file
  }
  EXPECT_EQ(opens_, 3);
  EXPECT_EQ(cache.stats().idle_sources, 3u);
  // All three are idle now: three more leases open nothing.
  {
    ImageLease a = cache.acquire(work_ / "img.tif");
    ImageLease b = cache.acquire(work_ / "img.tif");
    ImageLease c = cache.acquire(work_ / "img.tif");
  }
  EXPECT_EQ(opens_, 3);
}

TEST_F(ImageCacheTest, AChangedFileIsNeverServedStale) {
  ImageCache cache(counting());
  const fs::path path = work_ / "img.tif";
  EXPECT_EQ(cache.info(path)->width, 300u);
  ImageLease old_lease = cache.acquire(path);  // lent across the change
  replace_image("b.tif");
  EXPECT_EQ(cache.info(path)->width, 520u);
  {
    ImageLease lease = cache.acquire(path);
    EXPECT_EQ(lease->info().width, 520u);
    EXPECT_EQ(lease.identity(), file_identity(path));
    EXPECT_NE(&lease.source(), &old_lease.source());
  }
  // The old source goes back to the old entry, never to the new one.
  old_lease = ImageLease();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(cache.acquire(path)->info().width, 520u);
}

TEST_F(ImageCacheTest, SameSizeRewriteWithNewMtimeIsSeen) {
  ImageCache cache(counting());
  const fs::path path = work_ / "img.tif";
  const FileIdentity before = cache.acquire(path).identity();
  // Same inode and size, only the modification time moves.
  fs::last_write_time(path, fs::last_write_time(path) + std::chrono::seconds(5));
  ImageLease lease = cache.acquire(path);
  EXPECT_NE(lease.identity(), before);
  EXPECT_EQ(lease.identity(), file_identity(path));
  EXPECT_EQ(opens_, 2);
}

TEST_F(ImageCacheTest, AnOlderIdentityFromTheCallerIsNotCached) {
  ImageCache cache(counting());
  const fs::path path = work_ / "img.tif";
  const FileIdentity before = file_identity(path);
  replace_image("b.tif");
  // The caller stat()ed before the change: what it is lent is the new file,
  // and it must not be filed under the old identity.
  {
    ImageLease lease = cache.acquire(path, before);
    EXPECT_EQ(lease->info().width, 520u);
    EXPECT_EQ(lease.identity(), FileIdentity{});
  }
  EXPECT_EQ(cache.stats().files.entries, 0u);
  ImageLease lease = cache.acquire(path);
  EXPECT_EQ(lease->info().width, 520u);
  EXPECT_EQ(lease.identity(), file_identity(path));
}

TEST_F(ImageCacheTest, AMissingFileThrows404) {
  ImageCache cache(counting());
  try {
    cache.acquire(work_ / "nope.tif");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), 404);
  }
  fs::remove(work_ / "img.tif");
  EXPECT_THROW(cache.info(work_ / "img.tif"), Error);
}

TEST_F(ImageCacheTest, MaxEntriesCountsFiles) {
  ImageCache cache(counting(2));
  for (int i = 0; i < 5; ++i)
    fs::copy_file(*dir_ / "a.tif", work_ / ("f" + std::to_string(i) + ".tif"));
  for (int i = 0; i < 5; ++i) cache.info(work_ / ("f" + std::to_string(i) + ".tif"));
  const ImageCache::Stats stats = cache.stats();
  EXPECT_EQ(stats.files.entries, 2u);
  EXPECT_EQ(stats.files.evictions, 3u);
  EXPECT_EQ(stats.idle_sources, 2u);  // evicted entries closed their sources
  // The two most recent are still open; the first was evicted.
  const int before = opens_;
  cache.info(work_ / "f4.tif");
  cache.info(work_ / "f3.tif");
  EXPECT_EQ(opens_, before);
  cache.info(work_ / "f0.tif");
  EXPECT_EQ(opens_, before + 1);
}

TEST_F(ImageCacheTest, ZeroEntriesOpensEveryTime) {
  ImageCache cache(counting(0));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(cache.acquire(work_ / "img.tif")->info().width, 300u);
  EXPECT_EQ(opens_, 3);
  EXPECT_EQ(cache.stats().idle_sources, 0u);
}

TEST_F(ImageCacheTest, IdleSourcesAreCapped) {
  ImageCacheOptions options = counting();
  options.max_idle_per_file = 2;
  options.max_idle_total = 3;
  ImageCache cache(options);
  fs::copy_file(*dir_ / "a.tif", work_ / "other.tif");
  {
    std::vector<ImageLease> leases;
    for (int i = 0; i < 5; ++i) leases.push_back(cache.acquire(work_ / "img.tif"));
    for (int i = 0; i < 5; ++i) leases.push_back(cache.acquire(work_ / "other.tif"));
  }
  EXPECT_EQ(opens_, 10);
  EXPECT_EQ(cache.stats().idle_sources, 3u);
}

// Threads leasing sources of a few files, one of which is replaced now and
// then: every tile read must match the file's current size class, and no
// source is ever used by two threads at once.
TEST_F(ImageCacheTest, HammerWithReplacements) {
  ImageCache cache(counting());
  fs::copy_file(*dir_ / "b.tif", work_ / "steady.tif");
  std::atomic<bool> stop{false};
  std::atomic<int> in_use_twice{0}, reads{0};
  std::mutex busy_mutex;
  std::set<const ImageSource*> busy;
  auto worker = [&](int seed) {
    std::mt19937 rng(seed);
    while (!stop) {
      const bool steady = rng() % 2;
      ImageLease lease = cache.acquire(work_ / (steady ? "steady.tif" : "img.tif"));
      {
        std::lock_guard lock(busy_mutex);
        if (!busy.insert(&lease.source()).second) ++in_use_twice;
      }
      const uint32_t width = lease->info().width;
      EXPECT_TRUE(width == 300 || width == 520);
      EXPECT_EQ(lease.info()->width, width);
      const Raster tile = lease->tile(0, 1, 1);
      EXPECT_EQ(tile.bands(), width == 300 ? 3 : 1);
      ++reads;
      std::lock_guard lock(busy_mutex);
      busy.erase(&lease.source());
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) threads.emplace_back(worker, t);
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    replace_image(i % 2 ? "a.tif" : "b.tif");
  }
  stop = true;
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(in_use_twice, 0);
  EXPECT_GT(reads, 0);
  // After the last replacement settles, the cache serves the current file.
  EXPECT_EQ(cache.info(work_ / "img.tif")->width, 300u);
}

}  // namespace
}  // namespace tessera
