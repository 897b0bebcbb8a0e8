#pragma once
// A stored tile's compressed bytes with everything needed to decode them, so
// that decoding needs no file handle: a region's tiles are read one after the
// other through their source, then decoded on several threads at once, and
// each only as far as the region needs it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/uninitialised.hpp"
#include "image/jpeg_tile.hpp"

namespace tessera {

// A stored tile's bytes: read over at once, so not zeroed first (that
// showed in a region's profile, ~1.5 % of its instructions).
using ByteBuffer = UninitialisedVector<char>;

// One JPEG-compressed tile of a TIFF (the only stored form decoded this way
// so far: JPEG pyramids are what regions are cut from most).
struct StoredTile {
  ByteBuffer bytes;                              // the tile's JPEG stream
  std::shared_ptr<const std::string> tables;     // JPEGTables (SOI DQT DHT EOI); may be null
  JpegColour colour = JpegColour::YCbCr;         // what the components hold
  uint32_t stored_width = 0, stored_height = 0;  // the frame's size: the TIFF's tile size
  int bands() const noexcept { return colour == JpegColour::Grey ? 1 : 3; }
  std::string_view stream() const noexcept { return {bytes.data(), bytes.size()}; }
};

// Decodes the pixels [x, x + w) x [y, y + h) of `tile` (tile coordinates) as
// 8-bit samples, interleaved, RGB for YCbCr tiles, into the rows of `out`
// (`stride` bytes apart; w * bands bytes written per row, nothing else).
// Rows below the window are never decoded and columns outside it are not
// inverse-transformed. The result equals the same pixels of a whole decode.
// With the tile's entry points (jpeg_entry_points.hpp), only the MCUs around
// the window are Huffman-decoded too.
// Throws Error(500) with libjpeg's reason on a corrupt stream or a frame that
// is not the stored tile size.
struct JpegEntryPoints;
void decode_stored_tile(const StoredTile& tile, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
                        uint8_t* out, std::size_t stride, const JpegEntryPoints* entries = nullptr);

}  // namespace tessera
