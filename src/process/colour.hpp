#pragma once
// Colour and depth conversions: the IIIF "quality" step (gray, bitonal), the
// reduction of deep samples to the 8 bits every output format takes, alpha
// for formats without it, and CIELAB TIFFs shown as sRGB.
//
// Rasters carry no alpha flag, so where a function must know, the band count
// says it, as TiffSource reports images: 2 bands are grey + alpha, 4 bands are
// RGB + alpha, alpha last; any other count has no alpha.
//
// Thread safety: pure functions of their arguments.

#include <cstdint>
#include <span>

#include "image/raster.hpp"

namespace tessera {

constexpr bool has_alpha_band(int bands) noexcept { return bands == 2 || bands == 4; }

// RGB -> grey and RGBA -> grey + alpha by Rec. 601 luma, 0.299 R + 0.587 G +
// 0.114 B on the gamma-encoded values, rounded. These are the weights iipsrv
// uses too (its fixed-point 1254097, 2462056, 478151 / 2^22). Grey (+ alpha)
// is returned unchanged. Any sample type. Error(400) for other band counts.
Raster to_gray(const Raster& src);

// The threshold to_bitonal uses unless told otherwise: mid-scale. A fixed
// threshold, rather than one derived from each raster, keeps the tiles of one
// image consistent with each other.
constexpr uint8_t kBitonalThreshold = 128;

// Black (0) and white (255) by grey level: grey >= threshold is white. One
// band of U8: the grey is reduced to 8 bits first (to_8bit) and an alpha
// band is composited over white, so transparent parts come out white.
Raster to_bitonal(const Raster& src, uint8_t threshold = kBitonalThreshold);

// Otsu's threshold of the raster's 8-bit grey (computed as to_bitonal does):
// the level that best splits its histogram into two classes, as iipsrv
// picks it. Meant to be computed once, on a small level of an image, and
// passed to to_bitonal for every tile.
uint8_t otsu_threshold(const Raster& src);

// Reduces any sample type to U8, band for band, rounding to nearest:
// U8 is copied, U16 and U32 are scaled by 255 / (2^bits - 1), so the full
// range maps onto 0..255. F32 is stretched per band from the raster's own
// minimum and maximum (NaN and infinities ignored) to 0..255, as iipsrv
// normalises floating-point images; a constant band gives 0, NaN gives 0.
Raster to_8bit(const Raster& src);

// As above, but every sample type is stretched from the given per-band
// [min, max] (e.g. the image's SMinSampleValue/SMaxSampleValue, so that all
// tiles of an image agree) to 0..255, values outside clamped. Each span holds
// one value for all bands or one per band (std::invalid_argument otherwise).
// A band whose max <= min gives 0.
Raster to_8bit(const Raster& src, std::span<const double> min, std::span<const double> max);

// The raster without its last band when `has_alpha` (and it has at least 2
// bands); otherwise a copy. Any sample type. Only for alpha known to be all
// opaque: otherwise flatten_alpha shows what the image looks like.
Raster drop_alpha(const Raster& src, bool has_alpha);

// Composites grey + alpha or RGBA over a grey `background` level (8-bit;
// 255 is white at any depth), with alpha taken as unassociated, and returns
// grey or RGB; other band counts are copied. For formats without alpha (JPEG).
// U8 and U16; Error(500) for 32-bit samples.
Raster flatten_alpha(const Raster& src, uint8_t background = 255);

// CIELAB as TIFF stores it (PhotometricInterpretation 8) to 8-bit sRGB.
// 8-bit: L* = v * 100 / 255, a* and b* are signed bytes; 16-bit: L* = v *
// 100 / 65535, a* and b* signed 16-bit / 256. The reference white is D50
// (TIFF 6.0 names none; Adobe's Photoshop TIFF technical note and libtiff use
// D50), adapted to sRGB's D65 with the Bradford transform, then encoded with
// the sRGB transfer curve; colours outside sRGB are clipped. A fourth band
// (alpha) is kept, reduced to 8 bits. Error(500) for other layouts.
Raster cielab_to_srgb(const Raster& src);

}  // namespace tessera
