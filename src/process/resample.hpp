#pragma once
// Scaling a window of a raster to a requested size: the step between the
// tiles a request reads and the pixels it returns.
//
// Coordinates: source pixel j covers [j, j+1); output pixel i covers
// [x + i*s, x + (i+1)*s) of the source, s = window.width / out_width, and is
// sampled at its centre. Each axis is handled on its own, so a request may
// shrink one axis and enlarge the other.
//
// Thread safety: pure functions of their arguments.

#include <cstdint>

#include "image/raster.hpp"

namespace tessera {

// iipsrv's INTERPOLATION 0 (Nearest) and 1 (Bilinear), plus Lanczos3.
enum class Interpolation { Nearest, Bilinear, Lanczos3 };

// In the source raster's pixel coordinates; may be fractional.
struct SourceWindow {
  double x, y, width, height;
};

// Resamples the window of `src` to out_width x out_height, keeping the band
// count and sample type (U8, U16, U32, F32).
//
// - An axis that shrinks averages every source pixel the output pixel covers,
//   weighted by the fraction covered (an area/box filter), whatever the
//   interpolation but Nearest. At integer factors this is exactly the box
//   average pyramid levels are made with.
// - An axis that grows (or keeps its size at a fractional offset) uses the
//   chosen interpolation; source samples beyond the raster edge repeat the
//   edge pixel.
// - Nearest picks the source pixel under each output pixel's centre.
// - An integer-aligned window whose size equals the output size is a crop:
//   the pixels are copied, not filtered.
//
// Throws std::invalid_argument when the window is empty or not inside the
// raster, or the output size is zero.
Raster resample(const Raster& src, SourceWindow window, uint32_t out_width, uint32_t out_height,
                Interpolation interpolation = Interpolation::Bilinear);

// Halves each dimension (rounding up) by averaging 2x2 blocks; at an odd
// right or bottom edge the block holds 2 or 1 pixels and averages those.
// Integer samples round half up. A cheap first step for large reductions.
Raster reduce_by_2(const Raster& src);

}  // namespace tessera
