#pragma once
// TIFF through libtiff, written to memory.
//
// Thread safety: encode_tiff may run on many threads at once; each call makes
// its own libtiff handle, whose errors are reported per handle.

#include <string>
#include <string_view>

#include "image/raster.hpp"

namespace tessera {

struct TiffOptions {
  int deflate_level = 1;        // zlib level 1..9 (values outside are clamped)
  double dpi_x = 0, dpi_y = 0;  // written as X/YResolution in inches when positive
  std::string_view icc{};       // written as the ICC profile tag when not empty
};

// Encodes a single-image, stripped, deflate-compressed (horizontal predictor)
// TIFF: 1 band as grey, 2 as grey + alpha, 3 as RGB, 4 as RGBA, alpha marked
// as unassociated ExtraSamples; U8 and U16 samples kept as they are. Classic
// TIFF, BigTIFF only for rasters near 4 GiB. Throws Error(500, reason) on any
// other raster or when libtiff fails.
std::string encode_tiff(const Raster& raster, const TiffOptions& options = {});

}  // namespace tessera
