#pragma once
// GIF through giflib, with Tessera's own palette choice.
//
// Thread safety: encode_gif may run on many threads at once; each call makes
// its own giflib state.

#include <string>

#include "image/raster.hpp"

namespace tessera {

// Encodes a U8 raster of 1 to 4 bands as a single-frame GIF. The palette is
// exact when the opaque pixels hold at most 256 colours (255 when some pixels
// are transparent); otherwise grey keeps 255 evenly spaced levels and colour
// is reduced by median cut. A pixel whose alpha is below 128 becomes the
// transparent index. Deterministic: the same raster always gives the same
// bytes. Throws Error(500, reason) on any other raster, on an image wider or
// taller than 65535 pixels, or when giflib fails.
std::string encode_gif(const Raster& raster);

}  // namespace tessera
