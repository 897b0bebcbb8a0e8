#pragma once
// iipsrv's WATERMARK: an image laid over what the server sends, so that
// tiles and exports carry a mark of their owner. As iipsrv does it: every
// block of 256 x 256 output pixels (a tile; an export has several) is
// marked with a chance of WATERMARK_PROBABILITY, by one copy of the mark at
// a random place inside the block, whose samples are added to the pixels
// below, times WATERMARK_OPACITY, up to white. Black in the mark leaves a
// pixel as it was.
//
// Thread safety: apply_watermark is a pure function of its arguments.

#include <cstdint>

#include "image/raster.hpp"

namespace tessera {

struct Watermark {
  Raster mark;  // 8-bit, grey or RGB, no alpha
  double probability = 1.0;
  double opacity = 1.0;
};

// The side of the blocks that are marked, as iipsrv's tiles.
constexpr uint32_t kWatermarkBlock = 256;

// Marks `pixels` (8- or 16-bit, grey or RGB with or without alpha; alpha is
// left as it is) in place. `seed` picks which blocks are marked and where
// the mark goes in each. A mark larger than a block is placed at its top
// left and cut at the raster's edges.
void apply_watermark(Raster& pixels, const Watermark& watermark, uint64_t seed);

}  // namespace tessera
