#include "encode/tiff.hpp"

#include <tiffio.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <limits>

#include "common/error.hpp"
#include "encode/raster_check.hpp"

namespace tessera {
namespace {

// Strips of about this size: small enough to keep libtiff's working buffers
// modest, large enough that per-strip overhead does not show.
constexpr std::size_t kStripBytes = 256 << 10;

// Past this many pixel bytes, offsets may not fit classic TIFF's 32 bits.
constexpr std::size_t kBigTiffThreshold = std::size_t{3} << 30;

// A growable file in memory that libtiff reads, writes and seeks through its
// client callbacks.
struct MemoryFile {
  std::string data;
  std::size_t position = 0;
  std::string error;

  static tmsize_t read(thandle_t handle, void* buffer, tmsize_t size) {
    auto* file = static_cast<MemoryFile*>(handle);
    if (size < 0 || file->position >= file->data.size()) return 0;
    const std::size_t n = std::min(std::size_t(size), file->data.size() - file->position);
    std::memcpy(buffer, file->data.data() + file->position, n);
    file->position += n;
    return tmsize_t(n);
  }

  static tmsize_t write(thandle_t handle, void* buffer, tmsize_t size) {
    auto* file = static_cast<MemoryFile*>(handle);
    if (size < 0) return -1;
    try {
      const std::size_t end = file->position + std::size_t(size);
      if (end > file->data.size()) file->data.resize(end);
    } catch (...) {
      return -1;  // libtiff reports the short write as an error
    }
    std::memcpy(file->data.data() + file->position, buffer, std::size_t(size));
    file->position += std::size_t(size);
    return size;
  }

  static toff_t seek(thandle_t handle, toff_t offset, int whence) {
    auto* file = static_cast<MemoryFile*>(handle);
    uint64_t base = 0;
    if (whence == SEEK_CUR) base = file->position;
    if (whence == SEEK_END) base = file->data.size();
    const uint64_t target = base + offset;
    if (target > uint64_t(std::numeric_limits<tmsize_t>::max())) return toff_t(-1);
    file->position = std::size_t(target);
    return target;
  }

  static int close(thandle_t) { return 0; }
  static toff_t size(thandle_t handle) { return static_cast<MemoryFile*>(handle)->data.size(); }
  static int map(thandle_t, void**, toff_t*) { return 0; }
  static void unmap(thandle_t, void*, toff_t) {}

  static int on_error(TIFF*, void* user, const char* module, const char* format, va_list args) {
    char text[512];
    std::vsnprintf(text, sizeof text, format, args);
    auto* file = static_cast<MemoryFile*>(user);
    if (file->error.empty()) file->error = module ? std::string(module) + ": " + text : text;
    return 1;  // handled: libtiff must not print it
  }
  static int on_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }
};

struct TiffCloser {
  TIFF* tif = nullptr;
  ~TiffCloser() {
    if (tif) TIFFClose(tif);
  }
};

}  // namespace

std::string encode_tiff(const Raster& raster, const TiffOptions& options) {
  encode_detail::check_raster(raster, "tiff", true, std::numeric_limits<uint32_t>::max());
  if (options.icc.size() > std::numeric_limits<uint32_t>::max()) {
    throw Error(500, "tiff: ICC profile too large");
  }

  MemoryFile file;
  TIFFOpenOptions* open_options = TIFFOpenOptionsAlloc();
  if (!open_options) throw Error(500, "tiff: out of memory");
  TIFFOpenOptionsSetErrorHandlerExtR(open_options, &MemoryFile::on_error, &file);
  TIFFOpenOptionsSetWarningHandlerExtR(open_options, &MemoryFile::on_warning, &file);
  const bool big = raster.size_bytes() > kBigTiffThreshold;
  TiffCloser closer;
  closer.tif = TIFFClientOpenExt(
      "memory", big ? "w8l" : "wl", &file, &MemoryFile::read, &MemoryFile::write, &MemoryFile::seek,
      &MemoryFile::close, &MemoryFile::size, &MemoryFile::map, &MemoryFile::unmap, open_options);
  TIFFOpenOptionsFree(open_options);
  TIFF* tif = closer.tif;
  const auto fail = [&file](const char* what) {
    throw Error(500, std::string("tiff: ") + what + (file.error.empty() ? "" : ": " + file.error));
  };
  if (!tif) fail("cannot create a writer");

  const int bands = raster.bands();
  const bool alpha = bands == 2 || bands == 4;
  const uint16_t bits = raster.sample_type() == SampleType::U16 ? 16 : 8;
  const std::size_t row_bytes = raster.stride();
  const uint32_t rows_per_strip =
      uint32_t(std::clamp<std::size_t>(kStripBytes / row_bytes, 1, raster.height()));

  bool ok = TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, raster.width()) &&
            TIFFSetField(tif, TIFFTAG_IMAGELENGTH, raster.height()) &&
            TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, bits) &&
            TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, uint16_t(bands)) &&
            TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_UINT) &&
            TIFFSetField(tif, TIFFTAG_PHOTOMETRIC,
                         bands >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK) &&
            TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) &&
            TIFFSetField(tif, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT) &&
            TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, rows_per_strip) &&
            TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE) &&
            TIFFSetField(tif, TIFFTAG_ZIPQUALITY, std::clamp(options.deflate_level, 1, 9)) &&
            TIFFSetField(tif, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL);
  if (ok && alpha) {
    const uint16_t extra[] = {EXTRASAMPLE_UNASSALPHA};
    ok = TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, uint16_t(1), extra);
  }
  if (ok && (options.dpi_x > 0 || options.dpi_y > 0)) {
    const double x = options.dpi_x > 0 ? options.dpi_x : options.dpi_y;
    const double y = options.dpi_y > 0 ? options.dpi_y : options.dpi_x;
    ok = TIFFSetField(tif, TIFFTAG_XRESOLUTION, x) && TIFFSetField(tif, TIFFTAG_YRESOLUTION, y) &&
         TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
  }
  if (ok && !options.icc.empty()) {
    ok = TIFFSetField(tif, TIFFTAG_ICCPROFILE, uint32_t(options.icc.size()), options.icc.data());
  }
  if (!ok) fail("cannot set the tags");

  // Rows are contiguous in a Raster, so a strip is a run of them. libtiff's
  // predictor works on a copy, leaving the caller's pixels untouched.
  uint8_t* pixels = const_cast<uint8_t*>(raster.data());
  for (uint32_t y = 0, strip = 0; y < raster.height(); y += rows_per_strip, ++strip) {
    const uint32_t rows = std::min(rows_per_strip, raster.height() - y);
    if (TIFFWriteEncodedStrip(tif, strip, pixels + y * row_bytes, tmsize_t(rows * row_bytes)) < 0) {
      fail("cannot write a strip");
    }
  }
  if (!TIFFWriteDirectory(tif)) fail("cannot write the directory");
  closer.tif = nullptr;
  TIFFClose(tif);
  if (!file.error.empty()) fail("cannot finish");
  return std::move(file.data);
}

}  // namespace tessera
