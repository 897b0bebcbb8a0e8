#pragma once
// Entry points into a stored JPEG tile's entropy-coded data, so that a decode
// of part of the tile decodes only the MCUs around that part.
//
// A baseline JPEG without restart markers is one Huffman-coded bit stream:
// libjpeg can skip the inverse DCT of rows and columns outside a window, but
// must still Huffman-decode every MCU before the window's last one, and for
// a region cut from several tiles that decoding is most of the work. One
// pass over a tile records, every few MCUs of each MCU row, where that MCU's
// bits start and the DC predictors at that point. A later decode of a window
// then gets a small JPEG of only the MCU rows and columns it needs: each row
// of the window's MCUs copied bit for bit, the first MCU of each row given
// its absolute DC values, and a restart marker between rows (which resets the
// predictors). libjpeg decodes that to the same samples as the whole tile.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tessera {

struct StoredTile;

struct JpegEntryPoints {
  uint32_t width = 0, height = 0;          // the frame
  uint32_t mcu_width = 8, mcu_height = 8;  // pixels
  uint32_t mcus_across = 0, mcus_down = 0;
  uint32_t step = 8;  // an entry every `step` MCUs of a row, from its first
  int components = 0;
  uint32_t entries_per_row = 0;
  std::vector<uint32_t> bits;  // [row][entry]: where the MCU starts in the unstuffed scan
  std::vector<int16_t> dc;     // [row][entry][component]: the DC predictors before it
  // [row]: where the byte holding the row's first bit lies in the stored
  // scan (stuffed zeros included), so a splice unstuffs only its rows.
  std::vector<uint32_t> row_at;
  uint32_t end_bits = 0;  // where the last MCU ends

  // What the entry points cost in memory, for a cache's budget.
  std::size_t bytes() const noexcept {
    return sizeof(*this) + (bits.size() + row_at.size()) * sizeof(uint32_t) +
           dc.size() * sizeof(int16_t);
  }
};

// One Huffman pass over the tile's scan. Null when the tile is not a
// baseline (or extended sequential) Huffman-coded 8-bit JPEG with one
// interleaved scan and no restart interval, or is corrupt.
std::shared_ptr<const JpegEntryPoints> index_jpeg_tile(const StoredTile& tile);

// A JPEG of the MCUs covering the tile pixels [x0, x1) x [y0, y1), widened
// to whole MCUs and entry points. `x`, `y`: where its first pixel lies in
// the tile.
struct SplicedTile {
  std::string bytes;
  uint32_t x = 0, y = 0, width = 0, height = 0;
};
// Nullopt when the splice would not save a decode much, or cannot be made
// (a DC value the tile's Huffman table has no code for).
std::optional<SplicedTile> splice_jpeg_tile(const StoredTile& tile, const JpegEntryPoints& entries,
                                            uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1);

}  // namespace tessera
