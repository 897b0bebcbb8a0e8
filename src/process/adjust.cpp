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
  return !ranges.empty() || !twist.empty() || gamma != 1 || invert ||
         colour_map != ColourMap::None || contrast != 1 || conversion != ColourConversion::None;
}

std::string Adjustments::key() const {
  if (!any()) return {};
  std::string out = fmt::format("c{}g{}i{}m{}v{}", contrast, gamma, invert ? 1 : 0, int(colour_map),
                                int(conversion));
  for (const auto& [band, range] : ranges)
    out += fmt::format("r{}:{},{}", band, range.min, range.max);
  for (const auto& row : twist) {
    out += 't';
    for (const double v : row) out += fmt::format("{},", v);
  }
  return out;
}

const char* colour_map_name(ColourMap map) noexcept {
  switch (map) {
    case ColourMap::None:
      return "";
    case ColourMap::Grey:
      return "GREY";
    case ColourMap::Jet:
      return "JET";
    case ColourMap::Hot:
      return "HOT";
    case ColourMap::Cold:
      return "COLD";
    case ColourMap::Red:
      return "RED";
    case ColourMap::Green:
      return "GREEN";
    case ColourMap::Blue:
      return "BLUE";
  }
  return "";
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

  int twisted_bands = colour_bands;
  if (!a.twist.empty()) {
    if (a.twist.size() != 1 && a.twist.size() != 3) {
      bad_request(fmt::format("CTW has {} rows; a colour twist makes 1 band (grey) or 3 (RGB)",
                              a.twist.size()));
    }
    for (const auto& row : a.twist) {
      if (int(row.size()) != colour_bands) {
        bad_request(fmt::format("CTW rows have {} entries; this image has {} band{}", row.size(),
                                colour_bands, colour_bands == 1 ? "" : "s"));
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
  std::vector<double> in(static_cast<std::size_t>(colour_bands));
  std::vector<double> mid(static_cast<std::size_t>(twisted_bands));
  for (uint32_t y = 0; y < pixels.height(); ++y) {
    const uint8_t* src = pixels.row(y);
    uint8_t* dst = out.row(y);
    for (uint32_t x = 0; x < pixels.width(); ++x) {
      for (int b = 0; b < colour_bands; ++b) {
        const BandRange& r = range[b];
        const double v = sample(src, type, std::size_t(x) * bands + b);
        in[b] = r.max > r.min ? clamp01((v - r.min) / (r.max - r.min)) : (v >= r.max ? 1 : 0);
      }
      if (a.twist.empty()) {
        mid = in;
      } else {
        for (int i = 0; i < twisted_bands; ++i) {
          double sum = 0;
          for (int j = 0; j < colour_bands; ++j) sum += a.twist[i][j] * in[j];
          mid[i] = std::max(sum, 0.0);
        }
      }
      for (double& v : mid) {
        if (a.gamma != 1) v = std::pow(v, a.gamma);
        if (a.invert) v = 1 - v;
      }
      std::array<double, 3> colour{};
      if (mapped_bands == 3 && a.colour_map != ColourMap::None) {
        colour = map_colour(a.colour_map, mid[0]);
      } else {
        for (int b = 0; b < mapped_bands; ++b) colour[b] = mid[b];
      }
      for (int b = 0; b < mapped_bands; ++b) {
        dst[std::size_t(x) * mapped_bands + b] = to_byte(colour[b] * a.contrast);
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
