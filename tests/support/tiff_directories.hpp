#pragma once
// What libtiff itself sees in a TIFF, directory by directory (a pyramid's
// levels): the reference tests hold Tessera's readers and writers to.

#include <cstdint>
#include <filesystem>
#include <vector>

namespace tessera::testing {

struct TiffDirectory {
  uint32_t width = 0, height = 0, tile_width = 0, tile_height = 0;
  uint16_t compression = 0, predictor = 0, bits = 0, bands = 0;
};

// Every directory of the file in order (no SubIFDs); empty when libtiff
// cannot open it.
std::vector<TiffDirectory> tiff_directories(const std::filesystem::path& file);

}  // namespace tessera::testing
