#include "process/watermark.hpp"

#include <algorithm>
#include <cstring>
#include <random>

#include "process/colour.hpp"

namespace tessera {

namespace {

// The mark's sample for output band `band` of `bands` colour bands: a grey
// mark serves every band; an RGB mark on grey pixels gives its luma.
uint8_t mark_sample(const Raster& mark, const Raster& luma, uint32_t x, uint32_t y, int band,
                    int colour_bands) {
  if (mark.bands() == 1) return mark.row(y)[x];
  if (colour_bands == 1) return luma.row(y)[x];
  return mark.row(y)[std::size_t(x) * 3 + std::size_t(band)];
}

}  // namespace

void apply_watermark(Raster& pixels, const Watermark& watermark, uint64_t seed) {
  const Raster& mark = watermark.mark;
  if (mark.empty() || watermark.probability <= 0 || watermark.opacity <= 0) return;
  if (pixels.sample_type() != SampleType::U8 && pixels.sample_type() != SampleType::U16) return;
  const int bands = pixels.bands();
  const int colour_bands = has_alpha_band(bands) ? bands - 1 : bands;
  const Raster luma = mark.bands() == 3 && colour_bands == 1 ? to_gray(mark) : Raster();
  const bool wide = pixels.sample_type() == SampleType::U16;
  const double scale = watermark.opacity * (wide ? 257.0 : 1.0);
  const double top = wide ? 65535.0 : 255.0;

  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> chance(0.0, 1.0);
  for (uint32_t by = 0; by < pixels.height(); by += kWatermarkBlock) {
    for (uint32_t bx = 0; bx < pixels.width(); bx += kWatermarkBlock) {
      // Drawn for every block, marked or not, so that a block's place does
      // not depend on its neighbours' luck.
      const bool marked = chance(random) < watermark.probability;
      const double fx = chance(random), fy = chance(random);
      if (!marked) continue;
      const uint32_t block_w = std::min(kWatermarkBlock, pixels.width() - bx);
      const uint32_t block_h = std::min(kWatermarkBlock, pixels.height() - by);
      const uint32_t x0 =
          bx + (mark.width() < block_w ? uint32_t(fx * (block_w - mark.width())) : 0);
      const uint32_t y0 =
          by + (mark.height() < block_h ? uint32_t(fy * (block_h - mark.height())) : 0);
      const uint32_t w = std::min(mark.width(), pixels.width() - x0);
      const uint32_t h = std::min(mark.height(), pixels.height() - y0);
      for (uint32_t y = 0; y < h; ++y) {
        uint8_t* row = pixels.row(y0 + y);
        for (uint32_t x = 0; x < w; ++x) {
          for (int b = 0; b < colour_bands; ++b) {
            const double add = scale * mark_sample(mark, luma, x, y, b, colour_bands);
            const std::size_t at = (std::size_t(x0 + x) * bands + b) * (wide ? 2 : 1);
            if (wide) {
              uint16_t v;
              std::memcpy(&v, row + at, 2);
              v = uint16_t(std::min(top, v + add + 0.5));
              std::memcpy(row + at, &v, 2);
            } else {
              row[at] = uint8_t(std::min(top, row[at] + add + 0.5));
            }
          }
        }
      }
    }
  }
}

}  // namespace tessera
