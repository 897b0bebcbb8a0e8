#pragma once
// Decoded stored tiles, kept so that neighbouring region requests (a viewer
// panning at a scale between two levels, a client cutting 1024x1024 regions)
// decode each tile of the file once. Keyed by the file's identity, so a
// changed file never hits an old tile.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "cache/lru_cache.hpp"
#include "image/image_source.hpp"
#include "image/jpeg_entry_points.hpp"
#include "serve/file_info.hpp"

namespace tessera {

struct TileKey {
  FileIdentity file;
  int level = 0;
  uint32_t tx = 0, ty = 0;
  int layers = 0;  // the source's set_quality_layers() when it was decoded
  bool operator==(const TileKey&) const = default;
};

struct TileKeyHash {
  std::size_t operator()(const TileKey& key) const noexcept;
};

class TileCache {
 public:
  // budget_bytes 0 disables the cache (every tile is decoded).
  explicit TileCache(std::size_t budget_bytes);

  std::shared_ptr<const Raster> get(const TileKey& key) { return tiles_.get(key); }
  void put(const TileKey& key, std::shared_ptr<const Raster> tile);

  // Tile (level, tx, ty) of `source`, whose file has identity `file`: from
  // the cache, or decoded by `source` and kept. Throws what source.tile()
  // throws; nothing is kept then.
  std::shared_ptr<const Raster> tile(ImageSource& source, const FileIdentity& file, int level,
                                     uint32_t tx, uint32_t ty, int layers = 0);

  // Stored JPEG tiles' entry points (jpeg_entry_points.hpp): a tile's
  // partial decodes after the first Huffman-decode only the MCUs they need.
  // Most of a small budget (tile_cache.cpp says why).
  std::shared_ptr<const JpegEntryPoints> entry_points(const TileKey& key) {
    return entry_points_.get(key);
  }
  void put(const TileKey& key, std::shared_ptr<const JpegEntryPoints> entries);

  bool enabled() const noexcept { return tiles_.enabled(); }
  CacheStats stats() const { return tiles_.stats(); }

  // What one tile costs against the budget: its pixels and the bookkeeping.
  static std::size_t charge(const Raster& tile) noexcept;

 private:
  ShardedLruCache<TileKey, Raster, TileKeyHash> tiles_;
  ShardedLruCache<TileKey, JpegEntryPoints, TileKeyHash> entry_points_;
};

// An ImageSource that reads its tiles through a TileCache: hand it to the
// executor in place of the source it wraps. Like any source, one thread at a
// time; the cache itself is shared.
class CachingSource final : public ImageSource {
 public:
  CachingSource(ImageSource& inner, const FileIdentity& file, TileCache& cache)
      : inner_(inner), file_(file), cache_(cache) {}

  const ImageInfo& info() const noexcept override { return inner_.info(); }

  // A copy of the cached tile (the caller owns and may change it).
  Raster tile(int level, uint32_t tx, uint32_t ty) override;

  // Stored bytes are not kept here: the response they become is.
  std::optional<EncodedTile> stored_tile(int level, uint32_t tx, uint32_t ty) override {
    return inner_.stored_tile(level, tx, ty);
  }

  std::optional<StoredTile> fetch_tile(int level, uint32_t tx, uint32_t ty) override {
    return inner_.fetch_tile(level, tx, ty);
  }
  std::shared_ptr<const Raster> kept_tile(int level, uint32_t tx, uint32_t ty) override {
    return cache_.get(key(level, tx, ty));
  }
  void keep_tile(int level, uint32_t tx, uint32_t ty, const Raster& pixels, uint32_t x,
                 uint32_t y) override;
  std::shared_ptr<const JpegEntryPoints> entry_points(int level, uint32_t tx,
                                                      uint32_t ty) override {
    return cache_.entry_points(key(level, tx, ty));
  }
  bool keeps_entry_points() const noexcept override {
    return cache_.enabled() && file_ != FileIdentity{};
  }
  void keep_entry_points(int level, uint32_t tx, uint32_t ty,
                         std::shared_ptr<const JpegEntryPoints> entries) override {
    if (keeps_entry_points()) cache_.put(key(level, tx, ty), std::move(entries));
  }

  // Regions are not cached: they are decoded once for one request.
  bool decodes_regions() const noexcept override { return inner_.decodes_regions(); }
  Raster region(int level, uint32_t x, uint32_t y, uint32_t w, uint32_t h) override {
    return inner_.region(level, x, y, w, h);
  }

  // Passed on, and part of the cache key: tiles decoded with different
  // layers differ.
  void set_quality_layers(int layers) override {
    layers_ = layers;
    inner_.set_quality_layers(layers);
  }

  // The cached tile itself, without a copy, for callers that only read it.
  std::shared_ptr<const Raster> shared_tile(int level, uint32_t tx, uint32_t ty) override {
    return cache_.tile(inner_, file_, level, tx, ty, layers_);
  }

 private:
  TileKey key(int level, uint32_t tx, uint32_t ty) const {
    return TileKey{file_, level, tx, ty, layers_};
  }

  ImageSource& inner_;
  FileIdentity file_;
  TileCache& cache_;
  int layers_ = 0;
};

}  // namespace tessera
