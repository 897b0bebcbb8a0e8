#pragma once
// TIFF images through libtiff: tiled pyramids with their levels in successive
// IFDs (as `vips tiffsave --pyramid` writes them) or in SubIFDs of the first
// IFD, BigTIFF, and plain stripped TIFFs (served as a single level cut into
// virtual 256x256 tiles).

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "image/image_source.hpp"

namespace tessera {

class TiffSource final : public ImageSource {
 public:
  // Reads every level's header. Throws Error(404) when the file cannot be
  // opened and Error(500) with libtiff's reason when it is not a readable TIFF.
  explicit TiffSource(const std::filesystem::path& path);
  ~TiffSource() override;

  TiffSource(const TiffSource&) = delete;
  TiffSource& operator=(const TiffSource&) = delete;

  const ImageInfo& info() const noexcept override { return info_; }
  Raster tile(int level, uint32_t tx, uint32_t ty) override;
  // JPEG tiles of YCbCr, RGB or greyscale images (with the JPEGTables spliced in
  // and edge tiles' frames cut to the level, where that is safe), and WebP
  // tiles wholly inside their level.
  std::optional<EncodedTile> stored_tile(int level, uint32_t tx, uint32_t ty) override;
  // JPEG tiles of 8-bit YCbCr, RGB or greyscale levels.
  std::optional<StoredTile> fetch_tile(int level, uint32_t tx, uint32_t ty) override;

 private:
  // Where a level lives in the file and how its samples are stored.
  struct Level {
    uint64_t ifd_offset = 0;
    bool tiled = true;
    uint32_t rows_per_strip = 0;  // stripped levels only
    uint16_t compression = 1;
    uint16_t photometric = 1;
    uint16_t planar = 1;
    uint16_t predictor = 1;
    bool ycbcr_jpeg = false;
    // JPEGTables, read on the first fetch_tile() of the level.
    std::shared_ptr<const std::string> jpeg_tables;
    // Where each tile's bytes lie in the file (row by row, contiguous
    // samples only), read from the IFD on the level's first raw read: later
    // raw reads then need neither the level's directory (libtiff re-reads
    // all of an IFD on every change of level) nor libtiff.
    std::vector<uint64_t> tile_offsets;
    std::vector<uint32_t> tile_bytes;
  };
  // A stored tile's place in the file.
  struct Extent {
    uint64_t offset = 0, bytes = 0;
  };

  struct Handle;  // the open TIFF* and the last libtiff error message

  const LevelInfo& check_tile(int level, uint32_t tx, uint32_t ty) const;
  void select_level(int level);
  // What a JPEG level's tiles hold, or nullopt when they are not decoded the
  // way decode_stored_tile() decodes.
  std::optional<JpegColour> jpeg_colour(const Level& level) const;
  // Read from the level's directory once.
  const std::shared_ptr<const std::string>& jpeg_tables(int level);
  // Where tile (tx, ty) of a tiled level with contiguous samples lies; bytes
  // is 0 for a tile the file does not hold.
  Extent tile_extent(int level, uint32_t tx, uint32_t ty);
  // Reads a stored tile's bytes into `out` (`extent.bytes` of them), with
  // pread on libtiff's descriptor (libtiff seeks before each of its reads).
  void read_raw(const Extent& extent, int level, uint32_t tx, uint32_t ty, uint8_t* out);
  Raster read_tile(int level, const LevelInfo& li, uint32_t tx, uint32_t ty);
  bool read_deflate_tile(int level, uint32_t tx, uint32_t ty, Raster& out);
  Raster read_strip_tile(int level, const LevelInfo& li, uint32_t tx, uint32_t ty);
  [[noreturn]] void fail(const std::string& what) const;

  std::filesystem::path path_;
  std::unique_ptr<Handle> handle_;
  ImageInfo info_;
  std::vector<Level> levels_;
  uint64_t file_bytes_ = 0;
  int current_level_ = -1;
  uint16_t photometric_ = 1;
  uint16_t bits_ = 8;
  uint16_t sample_format_ = 1;
  uint16_t samples_ = 1;
  std::vector<uint16_t> palette_[3];  // PHOTOMETRIC_PALETTE only
};

}  // namespace tessera
