#pragma once
// A block of pixels in memory: the value every pixel operation takes and
// returns. Samples are interleaved (band-minor), rows are contiguous.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/uninitialised.hpp"

namespace tessera {

enum class SampleType { U8, U16, U32, F32 };

std::size_t bytes_per_sample(SampleType type) noexcept;

class Raster {
 public:
  Raster() = default;
  // Allocates width*height*bands samples, zero-filled.
  Raster(uint32_t width, uint32_t height, int bands, SampleType type = SampleType::U8);

  // The same, not filled: for a caller that writes every sample itself
  // (zeroing a raster about to be overwritten costs as much as copying it).
  static Raster uninitialised(uint32_t width, uint32_t height, int bands,
                              SampleType type = SampleType::U8);

  uint32_t width() const noexcept { return width_; }
  uint32_t height() const noexcept { return height_; }
  int bands() const noexcept { return bands_; }
  SampleType sample_type() const noexcept { return type_; }
  bool empty() const noexcept { return width_ == 0 || height_ == 0; }

  // Bytes from the start of one row to the start of the next.
  std::size_t stride() const noexcept { return stride_; }
  std::size_t size_bytes() const noexcept { return pixels_.size(); }

  uint8_t* data() noexcept { return pixels_.data(); }
  const uint8_t* data() const noexcept { return pixels_.data(); }
  uint8_t* row(uint32_t y) noexcept { return pixels_.data() + y * stride_; }
  const uint8_t* row(uint32_t y) const noexcept { return pixels_.data() + y * stride_; }

  // Copies `src` into this raster with its top-left corner at (x, y); the
  // part that falls outside is dropped. Both must have the same layout.
  void paste(const Raster& src, int64_t x, int64_t y);

  // The rectangle (x, y, w, h) as a new raster; it must lie inside this one.
  Raster crop(uint32_t x, uint32_t y, uint32_t w, uint32_t h) const;

 private:
  uint32_t width_ = 0;
  uint32_t height_ = 0;
  int bands_ = 0;
  SampleType type_ = SampleType::U8;
  std::size_t stride_ = 0;
  // New samples are left as they are: the constructor zeroes explicitly,
  // uninitialised() does not.
  UninitialisedVector<uint8_t> pixels_;
};

}  // namespace tessera
