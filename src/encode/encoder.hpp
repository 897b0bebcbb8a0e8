#pragma once
// One entry point to every output encoder: the executor turns a Raster into
// the bytes of the format the client asked for.
//
// Thread safety: encode_image may run on many threads at once (see each
// codec's header).

#include <string>

#include "encode/format.hpp"
#include "image/raster.hpp"

namespace tessera {

struct EncodeOptions {
  int jpeg_quality = 75;        // 1..100, iipsrv's JPEG_QUALITY
  int png_level = 1;            // zlib level 0..9 for PNG and deflate TIFF, iipsrv's PNG_QUALITY
  int webp_quality = 50;        // 0..100, or negative for lossless: iipsrv's WEBP_QUALITY
  double jp2_rate = 0;          // JPEG 2000 compression ratio; 0 is lossless
  double dpi_x = 0, dpi_y = 0;  // resolution written where the format has a place for it
  std::string icc{};            // ICC profile embedded where the format has a place for it
};

// Encodes `raster` as `format`. U16 samples stay 16-bit in PNG, TIFF and JPEG
// 2000 and are reduced to 8 bits (rounded) for JPEG, WebP and GIF. JPEG drops
// alpha (see encode_jpeg). Throws Error(501) for Format::Pdf, and Error(500,
// reason) for a raster a format cannot take (more than 4 bands, 32-bit or
// float samples, too large) or an encoder failure.
std::string encode_image(const Raster& raster, Format format, const EncodeOptions& options = {});

// The raster with each 16-bit sample v turned into round(v * 255 / 65535); a
// U8 raster is returned as a copy. Throws Error(500) for other sample types.
Raster reduce_to_8bit(const Raster& raster);

}  // namespace tessera
