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

  // The same tile as its stored bytes, completed into a file that decodes to
  // what tile() returns (within the codec's decoder), without decoding it:
  // for CODEC_PASSTHROUGH. nullopt when the tile is not stored in a form a
  // client would decode to the same pixels and size; the caller then decodes
  // with tile(). Throws as tile() does.
  virtual std::optional<EncodedTile> stored_tile(int /*level*/, uint32_t /*tx*/, uint32_t /*ty*/) {
    return std::nullopt;
  }
};

// Opens the image at `path`, choosing the reader by the file's signature.
// Throws Error(404) if the file cannot be opened, Error(415)-style 500 with a
// reason if it is not an image Tessera can read or it is corrupt.
std::unique_ptr<ImageSource> open_image(const std::filesystem::path& path);

}  // namespace tessera
