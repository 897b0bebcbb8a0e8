#pragma once
// What is known about an image without reading its pixels: the pyramid, the
// sample layout and the descriptive metadata. Every protocol describes an
// image from this value alone.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "image/raster.hpp"

namespace tessera {

enum class ColourSpace { Grey, Rgb, Cielab, Multiband };

// One stored resolution of the pyramid. Level 0 is the full resolution; each
// next level is smaller.
struct LevelInfo {
  uint32_t width = 0;
  uint32_t height = 0;
  uint32_t tile_width = 0;
  uint32_t tile_height = 0;
  // How many full-resolution pixels one pixel of this level spans. For
  // power-of-two pyramids (ceil or floor halving) this is the exact integer
  // 2^k, so tile-aligned requests map onto whole stored tiles.
  double scale = 1.0;

  uint32_t tiles_across() const noexcept { return (width + tile_width - 1) / tile_width; }
  uint32_t tiles_down() const noexcept { return (height + tile_height - 1) / tile_height; }
};

struct ImageInfo {
  std::string format;  // "tiff", "jp2", ...
  uint32_t width = 0;
  uint32_t height = 0;
  std::vector<LevelInfo> levels;  // largest first; never empty for an open image
  int bands = 0;                  // samples per pixel, alpha included
  bool has_alpha = false;
  int bits_per_sample = 8;
  SampleType sample_type = SampleType::U8;
  ColourSpace colour_space = ColourSpace::Rgb;
  double dpi_x = 0, dpi_y = 0;  // 0 when the file does not say
  std::string icc;              // the file's ICC colour profile, empty when it has none
  std::map<std::string, std::string> metadata;  // title, creator, date, ...
};

// The largest ICC profile a reader keeps: real ones are a few KB to a few
// hundred; anything larger is not a profile worth sending.
constexpr std::size_t kMaxIccBytes = std::size_t(16) << 20;

// The scale of a stored level relative to full resolution, as the integer
// power of two when the level's size is full/2^k rounded either way.
double level_scale(uint32_t full_width, uint32_t full_height, uint32_t width, uint32_t height);

// The value of a full sample of the image: 2^bits - 1 for integers (12 bits
// in a 16-bit container reach 4095; 8 bits or fewer, which readers widen to
// 8, 255), 1 for floats.
double full_scale(const ImageInfo& info) noexcept;

}  // namespace tessera
