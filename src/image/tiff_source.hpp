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
  };

  struct Handle;  // the open TIFF* and the last libtiff error message

  const LevelInfo& check_tile(int level, uint32_t tx, uint32_t ty) const;
  void select_level(int level);
  // What a JPEG level's tiles hold, or nullopt when they are not decoded the
  // way decode_stored_tile() decodes.
  std::optional<JpegColour> jpeg_colour(const Level& level) const;
  // Of the selected level (select_level() first).
  const std::shared_ptr<const std::string>& jpeg_tables(int level);
  std::string read_raw_tile(int level, uint32_t index, uint64_t limit, uint32_t tx, uint32_t ty);
  Raster read_tile(const Level& level, const LevelInfo& li, uint32_t tx, uint32_t ty);
  bool read_deflate_tile(const Level& level, const LevelInfo& li, uint32_t tx, uint32_t ty,
                         Raster& out);
  Raster read_strip_tile(const Level& level, const LevelInfo& li, uint32_t tx, uint32_t ty);
  [[noreturn]] void fail(const std::string& what) const;

  std::filesystem::path path_;
  std::unique_ptr<Handle> handle_;
  ImageInfo info_;
  std::vector<Level> levels_;
  int current_level_ = -1;
  uint16_t photometric_ = 1;
  uint16_t bits_ = 8;
  uint16_t sample_format_ = 1;
  uint16_t samples_ = 1;
  std::vector<uint16_t> palette_[3];  // PHOTOMETRIC_PALETTE only
};

}  // namespace tessera
