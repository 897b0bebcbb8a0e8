#include "image/raster.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace tessera {

std::size_t bytes_per_sample(SampleType type) noexcept {
  switch (type) {
    case SampleType::U8:
      return 1;
    case SampleType::U16:
      return 2;
    case SampleType::U32:
    case SampleType::F32:
      return 4;
  }
  return 1;
}

Raster::Raster(uint32_t width, uint32_t height, int bands, SampleType type)
    : width_(width),
      height_(height),
      bands_(bands),
      type_(type),
      stride_(std::size_t{width} * bands * bytes_per_sample(type)),
      pixels_(stride_ * height) {
  if (!pixels_.empty()) std::memset(pixels_.data(), 0, pixels_.size());
}

Raster Raster::uninitialised(uint32_t width, uint32_t height, int bands, SampleType type) {
  Raster r;
  r.width_ = width;
  r.height_ = height;
  r.bands_ = bands;
  r.type_ = type;
  r.stride_ = std::size_t{width} * bands * bytes_per_sample(type);
  r.pixels_.resize(r.stride_ * height);
  return r;
}

void Raster::paste(const Raster& src, int64_t x, int64_t y) {
  if (src.bands_ != bands_ || src.type_ != type_) throw std::logic_error("paste: layouts differ");
  const int64_t x0 = std::max<int64_t>(x, 0), y0 = std::max<int64_t>(y, 0);
  const int64_t x1 = std::min<int64_t>(x + src.width_, width_);
  const int64_t y1 = std::min<int64_t>(y + src.height_, height_);
  if (x0 >= x1 || y0 >= y1) return;
  const std::size_t pixel = std::size_t(bands_) * bytes_per_sample(type_);
  const std::size_t bytes = std::size_t(x1 - x0) * pixel;
  for (int64_t row_y = y0; row_y < y1; ++row_y) {
    const uint8_t* from = src.row(uint32_t(row_y - y)) + std::size_t(x0 - x) * pixel;
    std::memcpy(row(uint32_t(row_y)) + std::size_t(x0) * pixel, from, bytes);
  }
}

Raster Raster::crop(uint32_t x, uint32_t y, uint32_t w, uint32_t h) const {
  if (uint64_t{x} + w > width_ || uint64_t{y} + h > height_) {
    throw std::logic_error("crop: rectangle outside raster");
  }
  Raster out = uninitialised(w, h, bands_, type_);
  const std::size_t pixel = std::size_t(bands_) * bytes_per_sample(type_);
  for (uint32_t r = 0; r < h; ++r) {
    std::memcpy(out.row(r), row(y + r) + std::size_t(x) * pixel, std::size_t(w) * pixel);
  }
  return out;
}

}  // namespace tessera
