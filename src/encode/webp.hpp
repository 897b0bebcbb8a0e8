#pragma once
// WebP through libwebp (libwebpmux to add an ICC profile).
//
// Thread safety: encode_webp may run on many threads at once; each call makes
// its own encoder state.

#include <string>
#include <string_view>

#include "image/raster.hpp"

namespace tessera {

struct WebpOptions {
  // 0..100 (values above are clamped) for lossy VP8; a negative value asks
  // for lossless VP8L, as iipsrv's WEBP_QUALITY=-1 does.
  int quality = 50;
  std::string_view icc{};  // written as an ICCP chunk when not empty
};

// Encodes a U8 raster of 1 to 4 bands. WebP has no grey mode: grey becomes
// RGB, grey + alpha RGBA. Alpha is always kept losslessly; in lossless mode
// the colour under transparent pixels is kept too, so the round trip is exact.
// Throws Error(500, reason) on any other raster, on an image wider or taller
// than 16383 pixels (WebP's limit), or when the encoder fails.
std::string encode_webp(const Raster& raster, const WebpOptions& options = {});

}  // namespace tessera
