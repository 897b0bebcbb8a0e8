#include "encode/png.hpp"

#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <csetjmp>

#include "common/error.hpp"
#include "encode/raster_check.hpp"

namespace tessera {
namespace {

// PNG_UINT_31_MAX: the largest width or height PNG allows.
constexpr uint32_t kMaxPngDimension = 0x7fffffffu;

// What libpng's callbacks report back; they receive it as a void*.
struct WriteState {
  std::string* out = nullptr;
  std::string error;
};

void on_error(png_structp png, png_const_charp message) {
  static_cast<WriteState*>(png_get_error_ptr(png))->error = message;
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

void on_write(png_structp png, png_bytep data, size_t size) {
  bool failed = false;
  try {
    static_cast<WriteState*>(png_get_io_ptr(png))->out->append(reinterpret_cast<char*>(data), size);
  } catch (...) {
    failed = true;
  }
  // png_error leaves by longjmp, which must not happen inside a catch block.
  if (failed) png_error(png, "out of memory for the output");
}

void on_flush(png_structp) {}

struct PngWriter {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngWriter() { png_destroy_write_struct(&png, info ? &info : nullptr); }
};

png_uint_32 pixels_per_metre(double dpi) { return png_uint_32(std::lround(dpi / 0.0254)); }

// libpng reports errors by longjmp back into this frame, so nothing here may
// own a destructor; the caller holds everything that needs freeing.
bool write_png(png_structp png, png_infop info, const Raster& raster, const PngOptions& options) {
  if (setjmp(png_jmpbuf(png))) return false;

  static constexpr int kColourTypes[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                         PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
  const bool sixteen = raster.sample_type() == SampleType::U16;
  png_set_IHDR(png, info, raster.width(), raster.height(), sixteen ? 16 : 8,
               kColourTypes[raster.bands() - 1], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE,
               PNG_FILTER_TYPE_BASE);

  const int level = std::clamp(options.level, 0, 9);
  png_set_compression_level(png, level);
  // Filtering and match searching are most of libpng's time. Level 0 stores,
  // so filtering would be waste. Level 1 (iipsrv's default) pairs the cheap
  // Sub filter with run-length zlib: on photographs it is both faster and
  // smaller than level 1 deflate. Up to 3, Sub with ordinary deflate; above,
  // libpng's adaptive choice per row, which costs several times as much.
  int filter = PNG_ALL_FILTERS;
  if (level == 0) {
    filter = PNG_FILTER_NONE;
  } else if (level <= 3) {
    filter = PNG_FILTER_SUB;
  }
  png_set_filter(png, PNG_FILTER_TYPE_BASE, filter);
  if (level == 1) png_set_compression_strategy(png, Z_RLE);

  if (options.dpi_x > 0 || options.dpi_y > 0) {
    const double x = options.dpi_x > 0 ? options.dpi_x : options.dpi_y;
    const double y = options.dpi_y > 0 ? options.dpi_y : options.dpi_x;
    png_set_pHYs(png, info, pixels_per_metre(x), pixels_per_metre(y), PNG_RESOLUTION_METER);
  }
  if (!options.icc.empty()) {
    png_set_iCCP(png, info, "ICC profile", PNG_COMPRESSION_TYPE_BASE,
                 reinterpret_cast<png_const_bytep>(options.icc.data()),
                 png_uint_32(options.icc.size()));
  }

  png_write_info(png, info);
  // PNG stores 16-bit samples big-endian; libpng swaps a copy of each row.
  if (sixteen && std::endian::native == std::endian::little) png_set_swap(png);
  for (uint32_t y = 0; y < raster.height(); ++y) png_write_row(png, raster.row(y));
  png_write_end(png, info);
  return true;
}

}  // namespace

std::string encode_png(const Raster& raster, const PngOptions& options) {
  encode_detail::check_raster(raster, "png", true, kMaxPngDimension);
  if (options.icc.size() > 0x7fffffffu) throw Error(500, "png: ICC profile too large");

  std::string out;
  WriteState state{&out, {}};
  PngWriter writer;
  writer.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, on_error, on_warning);
  if (!writer.png) throw Error(500, "png: cannot create a writer");
  writer.info = png_create_info_struct(writer.png);
  if (!writer.info) throw Error(500, "png: cannot create a writer");
  png_set_write_fn(writer.png, &state, on_write, on_flush);
  // A profile libpng rejects is dropped with a warning instead of an error.
  png_set_benign_errors(writer.png, 1);
  // The sRGB check hashes the whole profile, and its answer is not used.
  png_set_option(writer.png, PNG_SKIP_sRGB_CHECK_PROFILE, PNG_OPTION_ON);

  // A guess that saves most reallocations for typical tiles at low levels.
  out.reserve(std::min<std::size_t>(raster.size_bytes() / 2 + 1024, std::size_t{16} << 20));
  if (!write_png(writer.png, writer.info, raster, options)) {
    throw Error(500, "png: cannot encode: " + state.error);
  }
  return out;
}

}  // namespace tessera
