#include "process/adjust.hpp"

#include <fmt/format.h>
#include <strings.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "common/error.hpp"
#include "process/colour.hpp"

namespace tessera {

namespace {

double clamp01(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

// The colour maps, of a value in 0..1. Jet is MATLAB's (dark blue, blue,
// cyan, yellow, red, dark red); hot runs black, red, yellow, white and cold
// the same through blue and cyan.
std::array<double, 3> map_colour(ColourMap map, double v) {
  v = clamp01(v);
  switch (map) {
    case ColourMap::Jet:
      return {clamp01(1.5 - std::abs(4 * v - 3)), clamp01(1.5 - std::abs(4 * v - 2)),
              clamp01(1.5 - std::abs(4 * v - 1))};
    case ColourMap::Hot:
      return {clamp01(3 * v), clamp01(3 * v - 1), clamp01(3 * v - 2)};
    case ColourMap::Cold:
      return {clamp01(3 * v - 2), clamp01(3 * v - 1), clamp01(3 * v)};
    case ColourMap::Red:
      return {v, 0, 0};
    case ColourMap::Green:
      return {0, v, 0};
    case ColourMap::Blue:
      return {0, 0, v};
    case ColourMap::Grey:
    case ColourMap::None:
      break;
  }
  return {v, v, v};
}

double sample(const uint8_t* row, SampleType type, std::size_t index) {
  switch (type) {
    case SampleType::U8:
      return row[index];
    case SampleType::U16: {
      uint16_t v;
      std::memcpy(&v, row + index * 2, 2);
      return v;
    }
    case SampleType::U32: {
      uint32_t v;
      std::memcpy(&v, row + index * 4, 4);
      return v;
    }
    case SampleType::F32: {
      float v;
      std::memcpy(&v, row + index * 4, 4);
      return std::isfinite(v) ? v : 0.0;
    }
  }
  return 0;
}

uint8_t to_byte(double v) {
  // Truncated, as iipsrv: 0.5 of full scale is 127. The allowance keeps a
  // value that is whole but for rounding (1 - 32/255 is 223/255) whole.
  const double scaled = std::floor(v * 255.0 + 1e-7);
  return uint8_t(scaled < 0 ? 0 : scaled > 255 ? 255 : scaled);
}

}  // namespace

bool Adjustments::any() const noexcept {
  return !ranges.empty() || shading.has_value() || !twist.empty() || gamma != 1 || invert ||
         colour_map != ColourMap::None || contrast != 1 || conversion != ColourConversion::None;
}

std::string Adjustments::key() const {
  if (!any()) return {};
  std::string out = fmt::format("c{}g{}i{}m{}v{}", contrast, gamma, invert ? 1 : 0, int(colour_map),
                                int(conversion));
  for (const auto& [band, range] : ranges)
    out += fmt::format("r{}:{},{}", band, range.min, range.max);
  if (shading) out += fmt::format("s{},{}", shading->azimuth, shading->altitude);
  for (const auto& row : twist) {
    out += 't';
    for (const double v : row) out += fmt::format("{},", v);
  }
  return out;
}

ColourMap parse_colour_map(std::string_view name) noexcept {
  static constexpr std::array<std::pair<std::string_view, ColourMap>, 8> kNames = {{
      {"GREY", ColourMap::Grey},
      {"GRAY", ColourMap::Grey},
      {"JET", ColourMap::Jet},
      {"HOT", ColourMap::Hot},
      {"COLD", ColourMap::Cold},
      {"RED", ColourMap::Red},
      {"GREEN", ColourMap::Green},
      {"BLUE", ColourMap::Blue},
  }};
  for (const auto& [text, map] : kNames) {
    if (name.size() == text.size() && strncasecmp(name.data(), text.data(), text.size()) == 0) {
      return map;
    }
  }
  return ColourMap::None;
}

BandRange default_range(SampleType type) noexcept {
  switch (type) {
    case SampleType::U8:
      return {0, 255};
    case SampleType::U16:
      return {0, 65535};
    case SampleType::U32:
      return {0, 4294967295.0};
    case SampleType::F32:
      return {0, 1};
  }
  return {0, 255};
}

Raster adjust(const Raster& pixels, const Adjustments& a, const std::vector<BandRange>& ranges,
              uint8_t binary_threshold) {
  const int bands = pixels.bands();
  const int colour_bands = has_alpha_band(bands) ? bands - 1 : bands;
  const SampleType type = pixels.sample_type();

  // Each band's range: the image's, then MINMAX's.
  std::vector<BandRange> range(std::size_t(colour_bands), default_range(type));
  for (int b = 0; b < colour_bands && std::size_t(b) < ranges.size(); ++b) range[b] = ranges[b];
  for (const auto& [band, r] : a.ranges) {
    if (band >= 0 && band < colour_bands) range[band] = r;
  }

  // Shading makes one band of the normal map's three.
  if (a.shading && colour_bands != 3) {
    bad_request(
        fmt::format("SHD needs a normal map of three bands; this image has {}", colour_bands));
  }
  const int shaded_bands = a.shading ? 1 : colour_bands;
  double light[3] = {0, 0, 0};
  if (a.shading) {
    constexpr double kRadians = 3.14159265358979323846 / 180;
    const double az = a.shading->azimuth * kRadians, alt = a.shading->altitude * kRadians;
    light[0] = -std::sin(az), light[1] = -std::cos(az), light[2] = std::sin(alt);
    const double norm = std::sqrt(light[0] * light[0] + light[1] * light[1] + light[2] * light[2]);
    for (double& c : light) c /= norm;
  }

  int twisted_bands = shaded_bands;
  if (!a.twist.empty()) {
    if (a.twist.size() != 1 && a.twist.size() != 3) {
      bad_request(fmt::format("CTW has {} rows; a colour twist makes 1 band (grey) or 3 (RGB)",
                              a.twist.size()));
    }
    for (const auto& row : a.twist) {
      if (int(row.size()) != shaded_bands) {
        bad_request(fmt::format("CTW rows have {} entries; this image has {} band{}", row.size(),
                                shaded_bands, shaded_bands == 1 ? "" : "s"));
      }
    }
    twisted_bands = int(a.twist.size());
  }
  // A colour map makes RGB of the first band (GREY keeps it grey); without
  // one, the bands are what the twist left, grey or colour.
  // A multispectral image untwisted shows its first band, as elsewhere.
  const int mapped_bands = a.colour_map == ColourMap::None
                               ? (twisted_bands <= 3 ? twisted_bands : 1)
                           : a.colour_map == ColourMap::Grey ? 1
                                                             : 3;

  Raster out = Raster::uninitialised(pixels.width(), pixels.height(), mapped_bands);
  const auto fraction = [&](int band, double v) {
    const BandRange& r = range[band];
    return r.max > r.min ? clamp01((v - r.min) / (r.max - r.min)) : (v >= r.max ? 1.0 : 0.0);
  };
  const auto tone = [&](double v) {
    if (a.gamma != 1) v = std::pow(v, a.gamma);
    if (a.invert) v = 1 - v;
    return v;
  };
  const bool mapped = a.colour_map != ColourMap::None && mapped_bands == 3;

  // Without a twist each output sample is a function of one input sample
  // (band k, or the first band through a colour map): a table per band, then
  // one lookup per sample. For 16 bits the table pays when the raster has
  // more samples than it has entries.
  const uint64_t samples = uint64_t(pixels.width()) * pixels.height();
  const bool tabled = a.twist.empty() && !a.shading &&
                      (type == SampleType::U8 || (type == SampleType::U16 && samples >= 65536));
  if (tabled) {
    const std::size_t entries = type == SampleType::U8 ? 256 : 65536;
    std::vector<uint8_t> table(entries * std::size_t(mapped_bands));
    for (std::size_t v = 0; v < entries; ++v) {
      if (mapped) {
        const auto colour = map_colour(a.colour_map, tone(fraction(0, double(v))));
        for (int k = 0; k < 3; ++k) table[k * entries + v] = to_byte(colour[k] * a.contrast);
      } else {
        for (int k = 0; k < mapped_bands; ++k)
          table[k * entries + v] = to_byte(tone(fraction(k, double(v))) * a.contrast);
      }
    }
    for (uint32_t y = 0; y < pixels.height(); ++y) {
      const uint8_t* src = pixels.row(y);
      uint8_t* dst = out.row(y);
      for (uint32_t x = 0; x < pixels.width(); ++x) {
        for (int k = 0; k < mapped_bands; ++k) {
          const std::size_t at = std::size_t(x) * bands + (mapped ? 0 : k);
          std::size_t v = src[at];
          if (type == SampleType::U16) {
            uint16_t wide;
            std::memcpy(&wide, src + at * 2, 2);
            v = wide;
          }
          dst[std::size_t(x) * mapped_bands + k] = table[k * entries + v];
        }
      }
    }
  } else {
    std::vector<double> in(static_cast<std::size_t>(colour_bands));
    std::vector<double> shaded(1);
    std::vector<double> mid(static_cast<std::size_t>(twisted_bands));
    for (uint32_t y = 0; y < pixels.height(); ++y) {
      const uint8_t* src = pixels.row(y);
      uint8_t* dst = out.row(y);
      for (uint32_t x = 0; x < pixels.width(); ++x) {
        for (int b = 0; b < colour_bands; ++b) {
          in[b] = fraction(b, sample(src, type, std::size_t(x) * bands + b));
        }
        if (a.shading) {
          // The normal: 8-bit samples less 128, as iipsrv; others -1..1.
          double n[3], length = 0;
          for (int b = 0; b < 3; ++b) {
            n[b] = type == SampleType::U8 ? src[std::size_t(x) * bands + b] - 128.0 : 2 * in[b] - 1;
            length += n[b] * n[b];
          }
          const double dot =
              length > 0 ? (light[0] * n[0] + light[1] * n[1] + light[2] * n[2]) / std::sqrt(length)
                         : 0;
          shaded[0] = std::max(0.0, 0.5 * dot);
        }
        const std::vector<double>& values = a.shading ? shaded : in;
        if (a.twist.empty()) {
          mid = values;
        } else {
          for (int i = 0; i < twisted_bands; ++i) {
            double sum = 0;
            for (int j = 0; j < shaded_bands; ++j) sum += a.twist[i][j] * values[j];
            mid[i] = std::max(sum, 0.0);
          }
        }
        for (double& v : mid) v = tone(v);
        std::array<double, 3> colour{};
        if (mapped) {
          colour = map_colour(a.colour_map, mid[0]);
        } else {
          for (int b = 0; b < mapped_bands; ++b) colour[b] = mid[b];
        }
        for (int b = 0; b < mapped_bands; ++b) {
          dst[std::size_t(x) * mapped_bands + b] = to_byte(colour[b] * a.contrast);
        }
      }
    }
  }

  switch (a.conversion) {
    case ColourConversion::Grey:
      return to_gray(out);
    case ColourConversion::Binary:
      return to_bitonal(out, binary_threshold);
    case ColourConversion::None:
      break;
  }
  return out;
}

}  // namespace tessera
