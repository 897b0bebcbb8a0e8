#include "cache/tile_cache.hpp"

#include <algorithm>

namespace tessera {

namespace {

// Bookkeeping per entry beyond the pixels: the list node, the index node,
// the key and the shared_ptr's control block.
constexpr std::size_t kEntryOverhead = 160;
// A 256x256 RGB tile, to size the shards.
constexpr std::size_t kTypicalTile = 256 * 256 * 3;

}  // namespace

std::size_t TileKeyHash::operator()(const TileKey& key) const noexcept {
  std::size_t h = std::hash<uint64_t>{}(key.file.inode);
  hash_mix(h, std::hash<uint64_t>{}(key.file.device));
  hash_mix(h, std::hash<uint64_t>{}(key.file.size));
  hash_mix(h, std::hash<int64_t>{}(key.file.mtime_ns));
  hash_mix(h, std::hash<uint64_t>{}((uint64_t(key.tx) << 32) | key.ty));
  hash_mix(h, std::hash<int>{}(key.level * 131071 + key.layers));
  return h;
}

// A 256x256 tile's entry points (8 per MCU row of 32, 3 components).
constexpr std::size_t kTypicalEntryPoints = 256 * 8 + 256 + 160;

// The entry points' share of the budget. A decoded tile (192 KB) saves one
// decode when asked for again; the same bytes hold the entry points of ~80
// tiles, each saving most of the Huffman decoding of every region cut from
// it. So small budgets go mostly to entry points: three quarters, enough
// for the level a 20000 px image's regions are read from at 10 MB
// (MAX_IMAGE_CACHE_SIZE's default, half of which is this cache). Past
// 32 MB the decoded tiles get the larger part again.
std::size_t entry_points_share(std::size_t budget) {
  return std::min(budget / 4 * 3, std::max(budget / 2, std::size_t{32} << 20));
}

TileCache::TileCache(std::size_t budget_bytes)
    : tiles_(budget_bytes - entry_points_share(budget_bytes), 16, kTypicalTile),
      entry_points_(entry_points_share(budget_bytes), 16, kTypicalEntryPoints) {}

void TileCache::put(const TileKey& key, std::shared_ptr<const JpegEntryPoints> entries) {
  if (!entries) return;
  const std::size_t bytes = entries->bytes() + kEntryOverhead;
  entry_points_.put(key, std::move(entries), bytes);
}

std::size_t TileCache::charge(const Raster& tile) noexcept {
  return tile.size_bytes() + sizeof(Raster) + kEntryOverhead;
}

void TileCache::put(const TileKey& key, std::shared_ptr<const Raster> tile) {
  if (!tile) return;
  const std::size_t bytes = charge(*tile);
  tiles_.put(key, std::move(tile), bytes);
}

std::shared_ptr<const Raster> TileCache::tile(ImageSource& source, const FileIdentity& file,
                                              int level, uint32_t tx, uint32_t ty, int layers) {
  const TileKey key{file, level, tx, ty, layers};
  if (auto hit = tiles_.get(key)) return hit;
  auto decoded = std::make_shared<const Raster>(source.tile(level, tx, ty));
  // A file whose identity is unknown (stat failed) must not share entries.
  if (file != FileIdentity{}) put(key, decoded);
  return decoded;
}

void CachingSource::keep_tile(int level, uint32_t tx, uint32_t ty, const Raster& pixels, uint32_t x,
                              uint32_t y) {
  // A file whose identity is unknown (stat failed) must not share entries.
  if (!cache_.enabled() || file_ == FileIdentity{}) return;
  const LevelInfo& li = info().levels.at(level);
  const uint32_t w = std::min(li.tile_width, li.width - tx * li.tile_width);
  const uint32_t h = std::min(li.tile_height, li.height - ty * li.tile_height);
  cache_.put(key(level, tx, ty), std::make_shared<const Raster>(pixels.crop(x, y, w, h)));
}

Raster CachingSource::tile(int level, uint32_t tx, uint32_t ty) {
  return *shared_tile(level, tx, ty);
}

}  // namespace tessera
