#pragma once
// IIP's image processing, as iipsrv does it: contrast (CNT), gamma (GAM),
// inversion (INV), colour maps (CMP), a colour twist (CTW), the sample range
// of deep images (MINMAX) and conversion to grey or black and white (COL).
//
// Each sample is read as a fraction of its band's range (0..255 for 8 bits,
// 0..65535 for 16, a float image's declared range, or MINMAX's), and the
// steps run in iipsrv's order, whatever the order of the commands:
//   shading -> twist -> gamma -> invert -> colour map -> contrast -> 8 bits
//   -> grey/binary
// so that the same URL gives the same picture from either server. The steps
// were read off iipsrv 1.1's answers: e.g. CNT=2&CMP=HOT doubles the colour
// map's values (contrast after the map), GAM=2&INV gives 1 - v^2.
//
// Thread safety: pure functions of their arguments.

#include <optional>
#include <string>
#include <vector>

#include "image/raster.hpp"

namespace tessera {

enum class ColourMap { None, Grey, Jet, Hot, Cold, Red, Green, Blue };
enum class ColourConversion { None, Grey, Binary };

// A band's range: `min` shows as black, `max` as full intensity.
struct BandRange {
  double min = 0, max = 255;
  bool operator==(const BandRange&) const = default;
};

// SHD: a normal map (three bands holding a surface's normal, x, y and z,
// 0 for -1 and full scale for +1) lit from `azimuth` degrees (0 from the
// top of the image, 90 from the left, as iipsrv) at `altitude` degrees above
// the surface. The light's horizontal part is not shortened for its height,
// and the brightness is half the cosine of the angle between light and
// normal: iipsrv's rendering, so that the same URL gives the same picture.
struct Shading {
  double azimuth = 0, altitude = 0;
  bool operator==(const Shading&) const = default;
};

struct Adjustments {
  // MINMAX: (band, range), band counted from 0; later ones win.
  std::vector<std::pair<int, BandRange>> ranges;
  // SHD: a normal map made one band of brightness, before the other steps.
  std::optional<Shading> shading;
  // CTW: output band i = sum over j of twist[i][j] * input band j. One row
  // makes a grey image, three an RGB one; a row has one entry per band.
  std::vector<std::vector<double>> twist;
  double gamma = 1;  // GAM: v^gamma
  bool invert = false;
  ColourMap colour_map = ColourMap::None;  // of the first band
  double contrast = 1;                     // CNT: v * contrast, clipped
  ColourConversion conversion = ColourConversion::None;

  // Whether any step changes a pixel.
  bool any() const noexcept;
  // A short text naming every step, for cache keys ("" when none).
  std::string key() const;
  bool operator==(const Adjustments&) const = default;
};

// The colour map IIP's CMP names ("JET", case aside; GREY and GRAY are the
// same map); None for a name that is not a map.
ColourMap parse_colour_map(std::string_view name) noexcept;

// `pixels` (any sample type) adjusted: 8 bits, one band (grey, a one-row
// twist, COL) or three. `ranges` gives each band's range before MINMAX
// (missing bands: the sample type's). Alpha bands are dropped, as the
// steps make new colours. Shading needs three colour bands (Error(400)
// otherwise). COL=binary makes grey at or above
// `binary_threshold` white: iipsrv takes Otsu's threshold of the whole
// image's grey (see otsu_threshold), not of the adjusted pixels, so that
// CNT=0.5 darkens the picture before it is cut. Throws Error(400) when the
// twist does not fit the image's bands.
Raster adjust(const Raster& pixels, const Adjustments& adjustments,
              const std::vector<BandRange>& ranges, uint8_t binary_threshold = 128);

// The range a band of `type` covers when nothing says otherwise: 0..2^bits-1
// for integers (bits 8, 16 or 32), 0..1 for floats.
BandRange default_range(SampleType type) noexcept;

}  // namespace tessera
