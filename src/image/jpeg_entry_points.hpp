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
// its DC values relative to the last MCU of the row before (one scan, no
// restart markers, so libjpeg keeps its fast Huffman path). libjpeg decodes
// that to the same samples as the whole tile.

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
  uint32_t step = 4;  // an entry every `step` MCUs of a row, from its first
  int components = 0;
  uint32_t entries_per_row = 0;
  // [row]: where the row's first MCU starts in the unstuffed scan, in bits.
  std::vector<uint32_t> row_bits;
  // [row][entry]: bits from the entry before (the first: 0). An entry spans
  // `step` MCUs of at most 10 blocks, which baseline coding keeps well below
  // 65536 bits; 2 bytes rather than 4 keep twice the tiles in a cache.
  std::vector<uint16_t> deltas;
  std::vector<int16_t> dc;  // [row][entry][component]: the DC predictors before it
  // [row]: where the byte holding the row's first bit lies in the stored
  // scan (stuffed zeros included), so a splice unstuffs only its rows.
  std::vector<uint32_t> row_at;
  uint32_t end_bits = 0;  // where the last MCU ends

  // Where entry k of `row` starts, in bits.
  uint64_t bit(uint32_t row, uint32_t k) const {
    uint64_t at = row_bits[row];
    const uint16_t* d = deltas.data() + std::size_t(row) * entries_per_row;
    for (uint32_t i = 1; i <= k; ++i) at += d[i];
    return at;
  }

  // What the entry points cost in memory, for a cache's budget.
  std::size_t bytes() const noexcept {
    return sizeof(*this) + (row_bits.size() + row_at.size()) * sizeof(uint32_t) +
           deltas.size() * sizeof(uint16_t) + dc.size() * sizeof(int16_t);
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
  std::string_view bytes;  // kept by the calling thread until its next splice
  uint32_t x = 0, y = 0, width = 0, height = 0;
};
// Nullopt when the splice would not save a decode much, or cannot be made
// (a DC value the tile's Huffman table has no code for).
std::optional<SplicedTile> splice_jpeg_tile(const StoredTile& tile, const JpegEntryPoints& entries,
                                            uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1);

}  // namespace tessera
