#include "image/image_info.hpp"

#include <cmath>

namespace tessera {

double level_scale(uint32_t full_width, uint32_t full_height, uint32_t width, uint32_t height) {
  if (width == 0 || height == 0) return 1.0;
  const double exact = double(full_width) / width;
  const double k = std::round(std::log2(exact));
  if (k >= 0 && k < 40) {
    const double f = std::ldexp(1.0, int(k));
    auto fits = [f](uint32_t full, uint32_t size) {
      return size == uint32_t(std::floor(full / f)) || size == uint32_t(std::ceil(full / f));
    };
    if (fits(full_width, width) && fits(full_height, height)) return f;
  }
  return exact;
}

double full_scale(const ImageInfo& info) noexcept {
  if (info.sample_type == SampleType::F32) return 1.0;
  if (info.bits_per_sample <= 8) return 255.0;
  if (info.bits_per_sample >= 32) return 4294967295.0;
  return std::ldexp(1.0, info.bits_per_sample) - 1;
}

}  // namespace tessera
