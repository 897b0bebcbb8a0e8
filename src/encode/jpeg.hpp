#pragma once
// JPEG through TurboJPEG (libjpeg-turbo).
//
// Thread safety: both functions may run on many threads at once; each thread
// keeps its own TurboJPEG handle (and, for encoding, its own output buffer),
// made on first use and released when the thread ends.

#include <string>
#include <string_view>

#include "image/raster.hpp"

namespace tessera {

struct JpegOptions {
  int quality = 75;             // 1..100; values outside are clamped
  double dpi_x = 0, dpi_y = 0;  // written as the JFIF density when either is positive
  std::string_view icc{};       // written as APP2 ICC_PROFILE segments when not empty
};

// Encodes a U8 raster: 1 band as greyscale, 3 bands as RGB with 4:2:0 chroma
// subsampling. JPEG has no alpha: a 2-band raster is encoded from its first
// band, a 4-band one from its first three. A profile too large for 255 APP2
// segments (about 16 MB) is left out. Throws Error(500, reason) on anything
// else or when the encoder fails.
std::string encode_jpeg(const Raster& raster, const JpegOptions& options = {});

// Decodes to a U8 raster: 1 band for a greyscale JPEG, 3 bands (RGB) for a
// YCbCr or RGB one. Throws Error(500, reason) when the bytes are not a JPEG it
// can read; CMYK/YCCK JPEGs are among those (TurboJPEG cannot make RGB of them).
// No size limit is applied: the caller decides which JPEGs it trusts.
// A stream that decodes with only warnings (e.g. truncated data) is accepted,
// as other JPEG readers do.
Raster decode_jpeg(std::string_view bytes);

}  // namespace tessera
