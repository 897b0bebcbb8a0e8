#pragma once
// A check every encoder makes before it touches the pixels (internal to
// encode/).

#include <cstdint>
#include <string>

#include "common/error.hpp"
#include "image/raster.hpp"

namespace tessera::encode_detail {

// Throws Error(500, "<codec>: reason") unless the raster holds 1 to 4 bands
// of 8-bit samples (or 16-bit ones where the codec keeps them) and fits the
// codec's largest width and height.
inline void check_raster(const Raster& raster, const char* codec, bool takes_u16,
                         uint32_t max_dimension) {
  const std::string name(codec);
  if (raster.empty()) throw Error(500, name + ": empty image");
  const SampleType type = raster.sample_type();
  if (type != SampleType::U8 && !(takes_u16 && type == SampleType::U16)) {
    throw Error(500, name + (takes_u16 ? ": needs 8- or 16-bit samples" : ": needs 8-bit samples"));
  }
  if (raster.bands() < 1 || raster.bands() > 4) {
    throw Error(500, name + ": cannot encode " + std::to_string(raster.bands()) + " bands");
  }
  if (raster.width() > max_dimension || raster.height() > max_dimension) {
    throw Error(500,
                name + ": image wider or taller than " + std::to_string(max_dimension) + " pixels");
  }
}

}  // namespace tessera::encode_detail
