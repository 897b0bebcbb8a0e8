#pragma once
// PNG through libpng.
//
// Thread safety: encode_png may run on many threads at once; each call makes
// its own libpng state (libpng cannot reuse one across images).

#include <string>
#include <string_view>

#include "image/raster.hpp"

namespace tessera {

struct PngOptions {
  // zlib level 0..9 (values outside are clamped), as iipsrv's PNG_QUALITY.
  // 0 stores; 1 is the fastest (Sub filter, run-length zlib); 2 and 3 use Sub
  // with deflate; 4 and up libpng's adaptive filters, which compress better
  // but cost several times the time.
  int level = 1;
  double dpi_x = 0, dpi_y = 0;  // written as pHYs when either is positive
  std::string_view icc{};       // written as iCCP when not empty
};

// Encodes 1 band as grey, 2 as grey + alpha, 3 as RGB, 4 as RGBA; U8 samples
// as 8-bit, U16 as 16-bit. An ICC profile that libpng finds invalid or at odds
// with the colour type is left out rather than failing the image. Throws
// Error(500, reason) on any other raster or when libpng fails.
std::string encode_png(const Raster& raster, const PngOptions& options = {});

}  // namespace tessera
