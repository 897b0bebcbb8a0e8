#pragma once
// Decoders for what Tessera serves, so tests can check the pixels of every
// output format: JPEG, PNG, WebP, TIFF, GIF and JPEG 2000 (JP2 or raw
// codestream), told apart by their signatures.

#include <optional>
#include <string_view>

#include "encode/format.hpp"
#include "image/raster.hpp"

namespace tessera::testing {

// The format whose signature starts `bytes`, if any.
std::optional<Format> sniff_format(std::string_view bytes);

// The first image in `bytes`, with its bands as stored: grey, grey + alpha,
// RGB or RGBA (WebP has no grey: it comes back as RGB(A)); a GIF comes back
// as grey when every colour it uses is grey, with an alpha band (0 or 255)
// when it has a transparent index. PNG, TIFF and JPEG 2000 keep 16-bit
// samples as U16; everything else is U8. Throws std::runtime_error when the
// bytes are not an image it can read.
Raster decode_image(std::string_view bytes);

}  // namespace tessera::testing
