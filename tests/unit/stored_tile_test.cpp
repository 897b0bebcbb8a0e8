// Decoding part of a stored JPEG tile (decode_stored_tile), and regions
// assembled from such parts in parallel, against libtiff's whole-tile decode:
// the same pixels, exactly, for every colour form vips writes.

#include "image/stored_tile.hpp"
#include "image/jpeg_entry_points.hpp"

#include <gtest/gtest.h>

#include <tiffio.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

#include "cache/tile_cache.hpp"
#include "common/error.hpp"
#include "common/parallel.hpp"
#include "image/tiff_source.hpp"
#include "render/executor.hpp"
#include "support/test_images.hpp"

namespace tessera {
namespace {

namespace fs = std::filesystem;

bool same_pixels(const Raster& a, const Raster& b) {
  if (a.width() != b.width() || a.height() != b.height() || a.bands() != b.bands()) return false;
  const std::size_t row = std::size_t(a.width()) * a.bands();
  for (uint32_t y = 0; y < a.height(); ++y) {
    if (std::memcmp(a.row(y), b.row(y), row) != 0) return false;
  }
  return true;
}

int max_diff(const Raster& a, const Raster& b) {
  int m = 0;
  for (uint32_t y = 0; y < a.height(); ++y)
    for (std::size_t i = 0; i < std::size_t(a.width()) * a.bands(); ++i)
      m = std::max(m, std::abs(int(a.row(y)[i]) - int(b.row(y)[i])));
  return m;
}

// The level pixels of a rectangle, from whole tiles decoded by libtiff.
Raster reference_rect(TiffSource& source, int level, const PixelRect& r) {
  const LevelInfo& li = source.info().levels.at(level);
  Raster out(r.width, r.height, source.info().bands);
  for (uint32_t ty = r.y / li.tile_height; ty * li.tile_height < r.y + r.height; ++ty) {
    for (uint32_t tx = r.x / li.tile_width; tx * li.tile_width < r.x + r.width; ++tx) {
      out.paste(source.tile(level, tx, ty), int64_t(tx) * li.tile_width - r.x,
                int64_t(ty) * li.tile_height - r.y);
    }
  }
  return out;
}

// Calls visit(level, tx, ty, whole decode, stored tile) for every tile of
// every level of a JPEG pyramid.
void for_each_stored_tile(
    TiffSource& source,
    const std::function<void(int, uint32_t, uint32_t, const Raster&, const StoredTile&)>& visit) {
  for (int level = 0; level < int(source.info().levels.size()); ++level) {
    const LevelInfo& li = source.info().levels[level];
    for (uint32_t ty = 0; ty < li.tiles_down(); ++ty) {
      for (uint32_t tx = 0; tx < li.tiles_across(); ++tx) {
        const Raster whole = source.tile(level, tx, ty);
        std::optional<StoredTile> stored = source.fetch_tile(level, tx, ty);
        ASSERT_TRUE(stored) << "level " << level << " tile " << tx << "," << ty;
        visit(level, tx, ty, whole, *stored);
      }
    }
  }
}

class PartialDecodeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(testing::make_temp_dir("tessera-stored-tile"));
    testing::write_pnm(*dir_ / "rgb.ppm", testing::make_pattern(700, 500, 3));
    testing::write_pnm(*dir_ / "grey.pgm", testing::make_pattern(700, 500, 1));
    // vips stores Q < 90 as YCbCr 4:2:0 and Q >= 90 as RGB 4:4:4.
    testing::make_pyramid(*dir_ / "rgb.ppm", file("ycbcr.tif"), 128,
                          {"--compression", "jpeg", "--Q", "75"});
    testing::make_pyramid(*dir_ / "rgb.ppm", file("rgb.tif"), 256,
                          {"--compression", "jpeg", "--Q", "95"});
    testing::make_pyramid(*dir_ / "grey.pgm", file("grey.tif"), 128,
                          {"--compression", "jpeg", "--Q", "80"});
    testing::make_pyramid(*dir_ / "rgb.ppm", file("deflate.tif"), 128,
                          {"--compression", "deflate"});
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static fs::path file(const std::string& name) { return *dir_ / name; }
  static fs::path* dir_;
};
fs::path* PartialDecodeTest::dir_ = nullptr;

TEST_F(PartialDecodeTest, AnyWindowEqualsTheWholeDecode) {
  std::mt19937 rng(7);
  for (const char* name : {"ycbcr.tif", "rgb.tif", "grey.tif"}) {
    SCOPED_TRACE(name);
    TiffSource source(file(name));
    int windows = 0;
    for_each_stored_tile(source, [&](int level, uint32_t tx, uint32_t ty, const Raster& whole,
                                     const StoredTile& stored) {
      EXPECT_EQ(stored.bands(), whole.bands());
      for (int i = 0; i < 6; ++i) {
        const uint32_t x = rng() % whole.width(), y = rng() % whole.height();
        const uint32_t w = 1 + rng() % (whole.width() - x);
        const uint32_t h = 1 + rng() % (whole.height() - y);
        Raster part(w, h, whole.bands());
        decode_stored_tile(stored, x, y, w, h, part.data(), part.stride());
        ASSERT_TRUE(same_pixels(part, whole.crop(x, y, w, h)))
            << "level " << level << " tile " << tx << "," << ty << " window " << x << "," << y
            << "," << w << "," << h << " max diff " << max_diff(part, whole.crop(x, y, w, h));
        ++windows;
      }
      // The whole tile, too, written into a wider canvas.
      Raster wide(whole.width() + 5, whole.height(), whole.bands());
      decode_stored_tile(stored, 0, 0, whole.width(), whole.height(), wide.data(), wide.stride());
      EXPECT_TRUE(same_pixels(wide.crop(0, 0, whole.width(), whole.height()), whole));
    });
    EXPECT_GE(windows, 54);
  }
}

// Entry points: a window decoded from the MCUs around it, spliced into a
// JPEG of their own, equals the same window of a whole decode, for every
// tile and many windows; and the splice is made where it saves work.
TEST_F(PartialDecodeTest, WindowsThroughEntryPointsEqualTheWholeDecode) {
  std::mt19937 rng(17);
  for (const char* name : {"ycbcr.tif", "rgb.tif", "grey.tif"}) {
    SCOPED_TRACE(name);
    TiffSource source(file(name));
    int spliced = 0, windows = 0;
    for_each_stored_tile(source, [&](int level, uint32_t tx, uint32_t ty, const Raster& whole,
                                     const StoredTile& stored) {
      const auto entries = index_jpeg_tile(stored);
      ASSERT_TRUE(entries) << "level " << level << " tile " << tx << "," << ty;
      EXPECT_EQ(entries->width, stored.stored_width);
      for (int i = 0; i < 12; ++i) {
        // Small windows anywhere, so that most are worth a splice.
        const uint32_t x = rng() % whole.width(), y = rng() % whole.height();
        const uint32_t w = 1 + rng() % std::min(whole.width() - x, 48u);
        const uint32_t h = 1 + rng() % std::min(whole.height() - y, 48u);
        Raster part(w, h, whole.bands());
        decode_stored_tile(stored, x, y, w, h, part.data(), part.stride(), entries.get());
        ASSERT_TRUE(same_pixels(part, whole.crop(x, y, w, h)))
            << "level " << level << " tile " << tx << "," << ty << " window " << x << "," << y
            << "," << w << "," << h << " max diff " << max_diff(part, whole.crop(x, y, w, h));
        spliced += splice_jpeg_tile(stored, *entries, x, y, x + w, y + h).has_value();
        ++windows;
      }
    });
    EXPECT_GT(spliced, windows / 3) << "of " << windows;
  }
  // A window in the middle of a tile: the spliced JPEG is a fraction of it.
  TiffSource source(file("rgb.tif"));
  std::optional<StoredTile> stored = source.fetch_tile(0, 0, 0);
  ASSERT_TRUE(stored);
  const auto entries = index_jpeg_tile(*stored);
  ASSERT_TRUE(entries);
  const auto middle = splice_jpeg_tile(*stored, *entries, 100, 100, 140, 140);
  ASSERT_TRUE(middle);
  EXPECT_LE(middle->x, 100u);
  EXPECT_GT(middle->x + middle->width, 140u - 1);
  EXPECT_LT(middle->bytes.size(), stored->bytes.size() / 4);
  // A window that starts at the top-left corner spans most of what a plain
  // decode reads: not worth a splice.
  EXPECT_FALSE(splice_jpeg_tile(*stored, *entries, 0, 0, 250, 250));
}

// Damaged tiles: no entry points, or entry points whose splices decode or
// fail with a reason; never a crash or a read outside the tile.
// Damaged and cut streams, through entry points and whole (for the RGB
// tiles, through the raw-plane decode): a 500 with libjpeg's reason, or
// pixels, never a crash (the ASan build runs this too).
TEST_F(PartialDecodeTest, DamagedTilesThroughEntryPointsFailCleanly) {
  for (const char* name : {"ycbcr.tif", "rgb.tif"}) {
    TiffSource source(file(name));
    std::optional<StoredTile> original = source.fetch_tile(0, 1, 1);
    ASSERT_TRUE(original);
    std::mt19937 rng(5);
    int indexed = 0;
    for (int round = 0; round < 200; ++round) {
      StoredTile damaged = *original;
      for (int i = 0; i < 1 + round % 5; ++i) {
        damaged.bytes[rng() % damaged.bytes.size()] = char(rng());
      }
      if (round % 7 == 0) damaged.bytes.resize(rng() % damaged.bytes.size());
      Raster whole(damaged.stored_width, damaged.stored_height, 3);
      try {
        decode_stored_tile(damaged, 0, 0, whole.width(), whole.height(), whole.data(),
                           whole.stride());
      } catch (const Error& e) {
        EXPECT_EQ(e.status(), 500);
      }
      const auto entries = index_jpeg_tile(damaged);
      if (!entries) continue;
      ++indexed;
      Raster out(40, 40, 3);
      try {
        decode_stored_tile(damaged, 50, 60, 40, 40, out.data(), out.stride(), entries.get());
      } catch (const Error& e) {
        EXPECT_EQ(e.status(), 500);
      }
    }
    EXPECT_GT(indexed, 0) << name;
  }
}

TEST_F(PartialDecodeTest, OnlyJpegLevelsAreHandedOut) {
  TiffSource deflate(file("deflate.tif"));
  EXPECT_FALSE(deflate.fetch_tile(0, 0, 0));
  TiffSource jpeg(file("ycbcr.tif"));
  EXPECT_THROW(jpeg.fetch_tile(0, 99, 0), Error);
}

TEST_F(PartialDecodeTest, BrokenStreamsFailWithAReason) {
  TiffSource source(file("ycbcr.tif"));
  StoredTile stored = *source.fetch_tile(0, 1, 1);
  Raster out(16, 16, 3);

  StoredTile wrong_size = stored;
  wrong_size.stored_width = 256;
  try {
    decode_stored_tile(wrong_size, 0, 0, 16, 16, out.data(), out.stride());
    FAIL() << "a frame of another size was decoded";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), 500);
    EXPECT_NE(std::string(e.what()).find("128x128"), std::string::npos) << e.what();
  }

  StoredTile garbage = stored;
  garbage.bytes.assign(400, 'x');
  EXPECT_THROW(decode_stored_tile(garbage, 0, 0, 16, 16, out.data(), out.stride()), Error);

  StoredTile grey_claim = stored;
  grey_claim.colour = JpegColour::Grey;
  EXPECT_THROW(decode_stored_tile(grey_claim, 0, 0, 16, 16, out.data(), out.stride()), Error);

  EXPECT_THROW(decode_stored_tile(stored, 120, 0, 16, 16, out.data(), out.stride()), Error);
  // The thread's decompressor still works after the failures.
  decode_stored_tile(stored, 0, 0, 16, 16, out.data(), out.stride());
  EXPECT_TRUE(same_pixels(out, source.tile(0, 1, 1).crop(0, 0, 16, 16)));
}

// Regions through the executor: pieces of tiles decoded in parallel, kept
// whole tiles reused, equal to pasting libtiff's tiles.
TEST_F(PartialDecodeTest, RegionsEqualPastedTiles) {
  std::mt19937 rng(11);
  for (const char* name : {"ycbcr.tif", "rgb.tif", "grey.tif", "deflate.tif"}) {
    SCOPED_TRACE(name);
    TiffSource source(file(name));
    TiffSource reference(file(name));
    TileCache cache(64 << 20);
    CachingSource cached(source, FileIdentity{1, 2, 3, 4}, cache);
    for (int i = 0; i < 40; ++i) {
      const int level = int(rng() % 2);
      const LevelInfo& li = source.info().levels[level];
      PixelRect r;
      r.x = rng() % li.width;
      r.y = rng() % li.height;
      r.width = 1 + rng() % std::min(li.width - r.x, 300u);
      r.height = 1 + rng() % std::min(li.height - r.y, 300u);
      if (i % 5 == 0) r = PixelRect{0, 0, li.width, li.height};
      Plan plan;
      plan.level = level;
      plan.read = r;
      plan.window_x = r.x, plan.window_y = r.y;
      plan.window_width = r.width, plan.window_height = r.height;
      plan.out_width = r.width, plan.out_height = r.height;
      const Raster want = reference_rect(reference, level, r);
      ASSERT_TRUE(same_pixels(render_raster(source, plan, {}), want)) << "region " << i;
      ASSERT_TRUE(same_pixels(render_raster(cached, plan, {}), want)) << "cached region " << i;
      // Again: now through the entry points kept for the tiles cut into.
      ASSERT_TRUE(same_pixels(render_raster(cached, plan, {}), want)) << "again region " << i;
    }
    // Whole tiles decoded for regions were offered to the cache and kept,
    // and JPEG tiles cut into got entry points.
    EXPECT_GT(cache.stats().entries, 0u);
    int with_entries = 0;
    for (int level = 0; level < 2; ++level) {
      const LevelInfo& li = source.info().levels[level];
      for (uint32_t ty = 0; ty < li.tiles_down(); ++ty)
        for (uint32_t tx = 0; tx < li.tiles_across(); ++tx)
          with_entries += cached.entry_points(level, tx, ty) != nullptr;
    }
    if (std::string(name) == "deflate.tif") {
      EXPECT_EQ(with_entries, 0);
    } else {
      EXPECT_GT(with_entries, 4);
    }
  }
}

// A region over a tile whose stream is broken fails with the reason, from
// whichever thread decoded it, and the source goes on serving other areas.
TEST_F(PartialDecodeTest, RegionOverACorruptTileFails) {
  const fs::path broken = file("broken.tif");
  fs::copy_file(file("ycbcr.tif"), broken, fs::copy_options::overwrite_existing);
  uint64_t offset = 0;
  {
    TIFF* tif = TIFFOpen(broken.c_str(), "r");
    ASSERT_NE(tif, nullptr);
    offset = TIFFGetStrileOffset(tif, TIFFComputeTile(tif, 128, 128, 0, 0));
    TIFFClose(tif);
  }
  {
    std::fstream f(broken, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff(offset));
    f.write("garbage!", 8);  // no SOI: not a JPEG stream
  }
  TiffSource source(broken);
  Plan plan;
  plan.level = 0;
  plan.read = PixelRect{100, 100, 200, 200};  // tiles 0..2 x 0..2, the broken one among them
  plan.window_x = 100, plan.window_y = 100, plan.window_width = 200, plan.window_height = 200;
  plan.out_width = 200, plan.out_height = 200;
  try {
    render_raster(source, plan, {});
    FAIL() << "a corrupt tile was decoded";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), 500);
    EXPECT_NE(std::string(e.what()).find("corrupt JPEG tile"), std::string::npos) << e.what();
  }
  plan.read = PixelRect{300, 0, 100, 100};  // clear of the broken tile
  plan.window_x = 300, plan.window_y = 0, plan.window_width = 100, plan.window_height = 100;
  plan.out_width = 100, plan.out_height = 100;
  EXPECT_EQ(render_raster(source, plan, {}).width(), 100u);
}

TEST(ParallelFor, RunsEachPieceOnceAndRethrows) {
  std::vector<std::atomic<int>> runs(100);
  parallel_for(runs.size(), [&](std::size_t i) { ++runs[i]; });
  for (const auto& r : runs) EXPECT_EQ(r.load(), 1);

  std::atomic<int> ran{0};
  EXPECT_THROW(parallel_for(20,
                            [&](std::size_t i) {
                              ++ran;
                              if (i == 7) throw std::runtime_error("piece 7");
                            }),
               std::runtime_error);
  EXPECT_EQ(ran.load(), 20);  // the other pieces still ran

  // Nested: a piece that spreads its own work finishes (callers work too).
  std::atomic<int> inner{0};
  parallel_for(4, [&](std::size_t) { parallel_for(8, [&](std::size_t) { ++inner; }); });
  EXPECT_EQ(inner.load(), 32);
}

// Which threads ran the pieces of one call.
std::set<std::thread::id> threads_running(std::size_t pieces) {
  std::mutex mutex;
  std::set<std::thread::id> threads;
  parallel_for(pieces, [&](std::size_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::lock_guard lock(mutex);
    threads.insert(std::this_thread::get_id());
  });
  return threads;
}

// Whether a call's pieces ran on more than one thread, in any of a few
// tries: a helper woken on a loaded machine may come late to every piece.
bool spreads() {
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (threads_running(16).size() > 1) return true;
  }
  return false;
}

// With as many busy threads as cores, a call's pieces all run on its caller;
// an idle machine spreads them (given a second core to spread to).
TEST(ParallelFor, BusyCoresKeepPiecesOnTheCaller) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  {
    std::vector<std::unique_ptr<BusyScope>> busy;
    for (unsigned i = 0; i < cores; ++i) busy.push_back(std::make_unique<BusyScope>());
    for (int attempt = 0; attempt < 3; ++attempt) {
      EXPECT_EQ(threads_running(16), std::set<std::thread::id>{std::this_thread::get_id()});
    }
  }
  if (cores > 1) {
    const BusyScope only_this_one;
    EXPECT_TRUE(spreads());
  }
  if (cores > 1) {
    EXPECT_TRUE(spreads());
  }
}

}  // namespace
}  // namespace tessera
