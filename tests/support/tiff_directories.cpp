#include "support/tiff_directories.hpp"

#include <tiffio.h>

namespace tessera::testing {

std::vector<TiffDirectory> tiff_directories(const std::filesystem::path& file) {
  std::vector<TiffDirectory> out;
  TIFF* tif = TIFFOpen(file.c_str(), "r");
  if (tif == nullptr) return out;
  do {
    TiffDirectory d;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &d.width);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &d.height);
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &d.tile_width);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &d.tile_height);
    TIFFGetField(tif, TIFFTAG_COMPRESSION, &d.compression);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PREDICTOR, &d.predictor);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &d.bits);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &d.bands);
    out.push_back(d);
  } while (TIFFReadDirectory(tif));
  TIFFClose(tif);
  return out;
}

}  // namespace tessera::testing
