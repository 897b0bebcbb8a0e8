#pragma once
// Mirroring and rotation: the IIIF "rotation" step, which comes after scaling
// ("!90" means mirror first, then rotate).
//
// Rasters carry no alpha flag, so the band count says it, as TiffSource
// reports images: 2 bands are grey + alpha, 4 bands are RGB + alpha, alpha
// last; any other count has no alpha.
//
// Thread safety: pure functions of their arguments.

#include <cstdint>
#include <vector>

#include "image/raster.hpp"

namespace tessera {

// Left and right swapped. Any sample type and band count.
Raster mirror_horizontal(const Raster& src);

struct RotateOptions {
  // Outside the rotated source, give the result an alpha band (added when the
  // source has none: grey -> grey + alpha, RGB -> RGBA) and leave it at 0
  // there; the edge gets fractional alpha, so it is antialiased.
  bool transparent = false;
  // Otherwise, the colour outside, as 8-bit values (scaled to the sample
  // type: 255 is white in 16-bit too), one per band; when there are fewer
  // entries than bands, the last one repeats. In transparent mode only the
  // colour bands of wholly outside pixels take it, so they compress well.
  std::vector<uint8_t> background = {255};
};

struct RotatedSize {
  uint32_t width = 0;
  uint32_t height = 0;
};

// The size of the image `width` x `height` turned by `degrees`: the bounding
// box of the rotated rectangle, each side ceil(|w cos| + |h sin| - 1e-6), so
// that 45 degrees of 100x100 is 142x142 and the rounding error of cos(90)
// does not add a pixel. Multiples of 90 give the exact swapped or same size.
// A thin strip turned 45 degrees grows to a large square: callers that bound
// output size check this before reading any pixels.
RotatedSize rotated_size(uint32_t width, uint32_t height, double degrees);

// Turns `src` clockwise by `degrees` in [0, 360].
//
// - Multiples of 90 (0, 90, 180, 270, 360) move pixels without filtering; the
//   band count and sample type are kept (nothing falls outside, so no alpha
//   is added), and any sample type works.
// - Any other angle gives a raster of rotated_size(), whose centre is the
//   source's centre; each output pixel's centre is mapped back into the
//   source and sampled bilinearly, positions held to 1/256 of a pixel in
//   integer arithmetic (so results are the same on every machine). Where
//   the four samples a pixel reads lie partly outside the source, those
//   outside count as the background (or as alpha 0), so the edge is
//   antialiased over about one pixel. U8 and U16 only: 32-bit samples are
//   Error(500) (convert to 8-bit first).
//
// Throws Error(400) for an angle outside [0, 360] or not finite, and for a
// result wider or taller than 2^30 pixels.
Raster rotate(const Raster& src, double degrees, const RotateOptions& options = {});

}  // namespace tessera
