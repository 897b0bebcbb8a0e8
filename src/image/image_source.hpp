#pragma once
// One open image, whatever its file format. Implementations live one per
// format (tiff_source, jp2_source) and are chosen by open_image().
//
// Thread safety: an ImageSource is used by one thread at a time. Callers that
// share one across threads serialise access themselves.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "encode/format.hpp"
#include "image/image_info.hpp"
#include "image/raster.hpp"
#include "image/stored_tile.hpp"

namespace tessera {

// A stored tile as a complete image file of `format`, sendable as it is.
struct EncodedTile {
  Format format = Format::Jpeg;
  std::string bytes;
};

class ImageSource {
 public:
  virtual ~ImageSource() = default;

  virtual const ImageInfo& info() const noexcept = 0;

  // The decoded tile (tx, ty) of `level`. Tiles at the right and bottom
  // edges are cropped to the level's size. Throws Error(500) on a corrupt
  // file, Error(400) on coordinates outside the level.
  virtual Raster tile(int level, uint32_t tx, uint32_t ty) = 0;

  // Sources that decode any rectangle in one pass, cheaper than tile by tile
  // (JPEG 2000), say so here and implement region(): the pixels of level
  // `level` in [x, x + w) x [y, y + h), which must lie inside the level
  // (Error(400) otherwise). The default region() throws Error(500).
  virtual bool decodes_regions() const noexcept { return false; }
  virtual Raster region(int level, uint32_t x, uint32_t y, uint32_t w, uint32_t h);

  // tile(), shared: sources that keep decoded tiles (CachingSource) hand out
  // the one they keep, without a copy, to callers that only read it.
  virtual std::shared_ptr<const Raster> shared_tile(int level, uint32_t tx, uint32_t ty) {
    return std::make_shared<const Raster>(tile(level, tx, ty));
  }

  // A tile's compressed bytes with what decoding them takes, for sources
  // whose tiles decode without the source (TIFF's JPEG tiles): the tiles of
  // a region are then decoded in parallel, each only as far as the region
  // needs (decode_stored_tile). nullopt: decode it with tile(). Throws as
  // tile() does.
  virtual std::optional<StoredTile> fetch_tile(int /*level*/, uint32_t /*tx*/, uint32_t /*ty*/) {
    return std::nullopt;
  }

  // For sources that keep decoded tiles between requests (CachingSource):
  // the kept tile (level, tx, ty), or null; and a whole tile decoded without
  // tile(), offered for keeping: its pixels lie in `pixels` with their
  // top-left corner at (x, y).
  virtual std::shared_ptr<const Raster> kept_tile(int /*level*/, uint32_t /*tx*/, uint32_t /*ty*/) {
    return nullptr;
  }
  virtual void keep_tile(int /*level*/, uint32_t /*tx*/, uint32_t /*ty*/, const Raster& /*pixels*/,
                         uint32_t /*x*/, uint32_t /*y*/) {}

  // For sources that keep them (CachingSource): a stored tile's entry
  // points (jpeg_entry_points.hpp), or null; whether new ones are worth the
  // Huffman pass that makes them; and new ones, offered for keeping.
  virtual std::shared_ptr<const JpegEntryPoints> entry_points(int /*level*/, uint32_t /*tx*/,
                                                              uint32_t /*ty*/) {
    return nullptr;
  }
  virtual bool keeps_entry_points() const noexcept { return false; }
  virtual void keep_entry_points(int /*level*/, uint32_t /*tx*/, uint32_t /*ty*/,
                                 std::shared_ptr<const JpegEntryPoints> /*entries*/) {}

  // How many quality layers the tile() calls that follow decode, for
  // sources that have them (JPEG 2000), with iipsrv's meaning: n > 0 that
  // many (all when there are fewer), 0 half of them rounded up, -1 all.
  // Other sources ignore it. Pooled sources keep it: set it per request.
  virtual void set_quality_layers(int /*layers*/) {}

  // The same tile as its stored bytes, completed into a file that decodes to
  // what tile() returns (within the codec's decoder), without decoding it:
  // for CODEC_PASSTHROUGH. nullopt when the tile is not stored in a form a
  // client would decode to the same pixels and size; the caller then decodes
  // with tile(). Throws as tile() does.
  virtual std::optional<EncodedTile> stored_tile(int /*level*/, uint32_t /*tx*/, uint32_t /*ty*/) {
    return std::nullopt;
  }
};

// The layers to decode for a request that asked for `requested` (IIP's LYR;
// 0 when it did not) under MAX_LAYERS `max_layers`, as iipsrv decides: a
// positive maximum caps the request (and is the default), a negative one
// makes "all" the default; the result means what set_quality_layers() says.
int layers_to_decode(int max_layers, int requested) noexcept;

// How readers are set up, from configuration.
struct OpenOptions {
  // OpenJPEG worker threads per JPEG 2000 decode (1: the caller's thread).
  int jp2_threads = 1;
};

// Opens the image at `path`, choosing the reader by the file's signature.
// Throws Error(404) if the file cannot be opened, Error(415)-style 500 with a
// reason if it is not an image Tessera can read or it is corrupt.
std::unique_ptr<ImageSource> open_image(const std::filesystem::path& path,
                                        const OpenOptions& options = {});

}  // namespace tessera
