#pragma once
// JPEG 2000 (.jp2 files, JP2 boxes around the codestream) through OpenJPEG.
//
// Thread safety: encode_jp2 may run on many threads at once; each call makes
// its own OpenJPEG codec and reports its messages per call.

#include <string>
#include <string_view>

#include "image/raster.hpp"

namespace tessera {

struct Jp2Options {
  // 0 (or anything up to 1): lossless, reversible 5/3 wavelet. Above 1: the
  // compression ratio of one lossy quality layer (irreversible 9/7), e.g. 20.
  double rate = 0;
  std::string_view icc{};  // written in the colour specification box when not empty
};

// Encodes 1 band as grey, 2 as grey + alpha, 3 as sRGB, 4 as sRGB + alpha
// (alpha marked in a channel definition box); U8 samples as 8-bit, U16 as
// 16-bit. Resolution levels: up to 6, fewer for images too small for them.
// Throws Error(500, reason) on any other raster or when OpenJPEG fails.
std::string encode_jp2(const Raster& raster, const Jp2Options& options = {});

}  // namespace tessera
