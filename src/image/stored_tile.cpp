#include "image/stored_tile.hpp"

// jpeglib.h needs FILE and size_t declared before it.
#include <cstdio>
// clang-format off
#include <jpeglib.h>
// clang-format on

#include <fmt/format.h>

#include <algorithm>
#include <csetjmp>
#include <cstring>
#include <optional>
#if defined(__x86_64__)
#include <tmmintrin.h>
#endif
#include <vector>

#include "common/error.hpp"
#include "image/jpeg_entry_points.hpp"

namespace tessera {

namespace {

// libjpeg reports fatal errors through error_exit, which must not return:
// it jumps back to decode_window(), which gives up on the tile.
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings (a truncated stream, padded with grey) are not failures, as for
// libtiff's own JPEG codec.
void on_message(j_common_ptr, int) {}

// Three planes of one row into interleaved pixels. libjpeg's own loop
// (null_convert, for tiles stored as RGB without a colour transform, as
// vips writes them from quality 90) moves a byte at a time and cost more
// than the inverse DCT; with SSSE3, 16 pixels take nine shuffles.
void interleave3_scalar(const uint8_t* a, const uint8_t* b, const uint8_t* c, uint8_t* out,
                        std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    out[3 * i] = a[i];
    out[3 * i + 1] = b[i];
    out[3 * i + 2] = c[i];
  }
}

#if defined(__x86_64__)
// For output vector v (bytes 16v..16v+15 of 16 pixels) and plane p: which
// byte of the plane's 16 goes where, 0x80 for none.
struct InterleaveMasks {
  alignas(16) uint8_t m[3][3][16];
  constexpr InterleaveMasks() : m{} {
    for (int v = 0; v < 3; ++v)
      for (int p = 0; p < 3; ++p)
        for (int k = 0; k < 16; ++k) {
          const int at = 16 * v + k;
          m[v][p][k] = at % 3 == p ? uint8_t(at / 3) : uint8_t(0x80);
        }
  }
};
constexpr InterleaveMasks kInterleave;

__attribute__((target("ssse3"))) void interleave3_ssse3(const uint8_t* a, const uint8_t* b,
                                                        const uint8_t* c, uint8_t* out,
                                                        std::size_t n) {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i planes[3] = {_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)),
                               _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)),
                               _mm_loadu_si128(reinterpret_cast<const __m128i*>(c + i))};
    for (int v = 0; v < 3; ++v) {
      __m128i bytes = _mm_setzero_si128();
      for (int p = 0; p < 3; ++p) {
        const __m128i mask = _mm_load_si128(reinterpret_cast<const __m128i*>(kInterleave.m[v][p]));
        bytes = _mm_or_si128(bytes, _mm_shuffle_epi8(planes[p], mask));
      }
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 3 * i + 16 * v), bytes);
    }
  }
  interleave3_scalar(a + i, b + i, c + i, out + 3 * i, n - i);
}

const bool kSsse3 = __builtin_cpu_supports("ssse3");
#endif

void interleave3(const uint8_t* a, const uint8_t* b, const uint8_t* c, uint8_t* out,
                 std::size_t n) {
#if defined(__x86_64__)
  if (kSsse3) return interleave3_ssse3(a, b, c, out, n);
#endif
  interleave3_scalar(a, b, c, out, n);
}

// One decompressor per thread, kept between tiles: creating one allocates
// its memory pools, and the tables of the last file stay loaded.
struct Decompressor {
  jpeg_decompress_struct cinfo{};
  ErrorManager err{};
  bool created = false;

  ~Decompressor() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

// The libjpeg calls, kept free of C++ objects with destructors since
// longjmp skips them. Returns nullptr on success, else the reason.
// `bytes` is the tile's stream, or one spliced from it (frame_w x frame_h).
const char* decode_window(Decompressor& d, const StoredTile& tile, std::string_view bytes,
                          uint32_t frame_w, uint32_t frame_h, uint32_t x, uint32_t y, uint32_t w,
                          uint32_t h, uint8_t* out, std::size_t stride, uint8_t* scratch,
                          std::vector<uint8_t>& planes) {
  jpeg_decompress_struct* cinfo = &d.cinfo;
  if (setjmp(d.err.jump)) {
    if (d.created) jpeg_abort_decompress(cinfo);
    return d.err.message;
  }
  if (!d.created) {
    cinfo->err = jpeg_std_error(&d.err.pub);
    d.err.pub.error_exit = on_error;
    d.err.pub.emit_message = on_message;
    jpeg_create_decompress(cinfo);
    d.created = true;
  }
  if (tile.tables && !tile.tables->empty()) {
    jpeg_mem_src(cinfo, reinterpret_cast<const unsigned char*>(tile.tables->data()),
                 static_cast<unsigned long>(tile.tables->size()));
    jpeg_read_header(cinfo, FALSE);  // tables only: they stay in the decompressor
  }
  jpeg_mem_src(cinfo, reinterpret_cast<const unsigned char*>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  if (jpeg_read_header(cinfo, TRUE) != JPEG_HEADER_OK) {
    jpeg_abort_decompress(cinfo);
    return "no image in the tile's stream";
  }
  const int bands = tile.bands();
  if (cinfo->image_width != frame_w || cinfo->image_height != frame_h ||
      cinfo->num_components != bands || cinfo->data_precision != 8) {
    std::snprintf(d.err.message, sizeof d.err.message,
                  "the tile's frame is %ux%u with %d components of %d bits, not the stored "
                  "%ux%u with %d of 8",
                  cinfo->image_width, cinfo->image_height, cinfo->num_components,
                  cinfo->data_precision, frame_w, frame_h, bands);
    jpeg_abort_decompress(cinfo);
    return d.err.message;
  }
  // As libtiff's codec: YCbCr becomes RGB, RGB and grey stay as stored.
  switch (tile.colour) {
    case JpegColour::Grey:
      cinfo->jpeg_color_space = JCS_GRAYSCALE;
      cinfo->out_color_space = JCS_GRAYSCALE;
      break;
    case JpegColour::YCbCr:
      cinfo->jpeg_color_space = JCS_YCbCr;
      cinfo->out_color_space = JCS_RGB;
      break;
    case JpegColour::Rgb:
      cinfo->jpeg_color_space = JCS_UNKNOWN;
      cinfo->out_color_space = JCS_UNKNOWN;
      break;
  }
  // Stored as RGB, not subsampled, and wanted from its first MCU row (a
  // whole tile, or a splice): the component planes as the inverse DCT
  // leaves them, interleaved here straight into `out`.
  bool raw = tile.colour == JpegColour::Rgb && cinfo->num_components == 3 && y < DCTSIZE;
  for (int c = 0; raw && c < cinfo->num_components; ++c) {
    raw = cinfo->comp_info[c].h_samp_factor == 1 && cinfo->comp_info[c].v_samp_factor == 1;
  }
  if (raw) {
    cinfo->raw_data_out = TRUE;
    jpeg_start_decompress(cinfo);
    const std::size_t plane_width = std::size_t(cinfo->comp_info[0].width_in_blocks) * DCTSIZE;
    planes.resize(3 * DCTSIZE * plane_width);
    JSAMPROW rows[3][DCTSIZE];
    JSAMPARRAY components[3] = {rows[0], rows[1], rows[2]};
    for (int c = 0; c < 3; ++c) {
      for (int r = 0; r < DCTSIZE; ++r) {
        rows[c][r] = planes.data() + (std::size_t(c) * DCTSIZE + std::size_t(r)) * plane_width;
      }
    }
    for (uint32_t first = 0; first < y + h; first += DCTSIZE) {
      if (jpeg_read_raw_data(cinfo, components, DCTSIZE) != DCTSIZE) {
        jpeg_abort_decompress(cinfo);
        return "the tile's stream ends early";
      }
      for (uint32_t r = std::max(first, y); r < std::min(first + DCTSIZE, y + h); ++r) {
        const uint32_t at = r - first;
        interleave3(rows[0][at] + x, rows[1][at] + x, rows[2][at] + x, out + (r - y) * stride, w);
      }
    }
    jpeg_abort_decompress(cinfo);
    return nullptr;
  }
  cinfo->raw_data_out = FALSE;
  jpeg_start_decompress(cinfo);

  // Chroma subsampled with fancy (smoothing) upsampling, a pixel takes its
  // colour from neighbouring chroma samples too: a crop or skip that starts
  // right at the window would change its edge. One MCU of margin keeps the
  // window's pixels those of a whole decode.
  const uint32_t margin_x = cinfo->max_h_samp_factor > 1 ? cinfo->max_h_samp_factor * DCTSIZE : 0;
  const uint32_t margin_y = cinfo->max_v_samp_factor > 1 ? cinfo->max_v_samp_factor * DCTSIZE : 0;

  // Columns: only the iMCU columns holding the window are inverse-
  // transformed (the crop widens to their edges: xoff <= x).
  const uint32_t crop_x0 = x > margin_x ? x - margin_x : 0;
  const uint32_t crop_x1 = std::min<uint32_t>(x + w + margin_x, cinfo->output_width);
  JDIMENSION xoff = crop_x0, cropped_width = crop_x1 - crop_x0;
  if (cropped_width != cinfo->output_width) jpeg_crop_scanline(cinfo, &xoff, &cropped_width);
  // Rows above: entropy-decoded (the stream is sequential), not transformed.
  const uint32_t skip = y > margin_y ? y - margin_y : 0;
  if (skip > 0 && jpeg_skip_scanlines(cinfo, skip) != skip) {
    jpeg_abort_decompress(cinfo);
    return "the tile's stream ends early";
  }
  for (uint32_t r = skip; r < y; ++r) {
    JSAMPROW row = scratch;
    if (jpeg_read_scanlines(cinfo, &row, 1) != 1) {
      jpeg_abort_decompress(cinfo);
      return "the tile's stream ends early";
    }
  }
  const std::size_t row_bytes = std::size_t(w) * bands;
  const std::size_t offset = std::size_t(x - xoff) * bands;
  for (uint32_t r = 0; r < h; ++r) {
    JSAMPROW row = scratch;
    if (jpeg_read_scanlines(cinfo, &row, 1) != 1) {
      jpeg_abort_decompress(cinfo);
      return "the tile's stream ends early";
    }
    std::memcpy(out + r * stride, scratch + offset, row_bytes);
  }
  // Rows below the window are never decoded.
  jpeg_abort_decompress(cinfo);
  return nullptr;
}

}  // namespace

void decode_stored_tile(const StoredTile& tile, uint32_t x, uint32_t y, uint32_t w, uint32_t h,
                        uint8_t* out, std::size_t stride, const JpegEntryPoints* entries) {
  if (uint64_t{x} + w > tile.stored_width || uint64_t{y} + h > tile.stored_height || w == 0 ||
      h == 0) {
    throw Error(500, fmt::format("window {},{},{},{} is outside the stored tile of {}x{}", x, y, w,
                                 h, tile.stored_width, tile.stored_height));
  }
  thread_local Decompressor decompressor;
  thread_local std::vector<uint8_t> scratch, planes;
  scratch.resize(std::size_t(tile.stored_width) * tile.bands());
  if (entries && entries->width == tile.stored_width && entries->height == tile.stored_height) {
    // The same margins decode_window() keeps for subsampled chroma, so that
    // the spliced frame's edges lie outside them.
    const uint32_t mx = entries->mcu_width > 8 ? entries->mcu_width : 0;
    const uint32_t my = entries->mcu_height > 8 ? entries->mcu_height : 0;
    const std::optional<SplicedTile> spliced = splice_jpeg_tile(
        tile, *entries, x > mx ? x - mx : 0, y > my ? y - my : 0,
        std::min(x + w + mx, tile.stored_width), std::min(y + h + my, tile.stored_height));
    if (spliced) {
      if (const char* failure = decode_window(decompressor, tile, spliced->bytes, spliced->width,
                                              spliced->height, x - spliced->x, y - spliced->y, w, h,
                                              out, stride, scratch.data(), planes)) {
        throw Error(500, fmt::format("corrupt JPEG tile: {}", failure));
      }
      return;
    }
  }
  if (const char* failure =
          decode_window(decompressor, tile, tile.stream(), tile.stored_width, tile.stored_height, x,
                        y, w, h, out, stride, scratch.data(), planes)) {
    throw Error(500, fmt::format("corrupt JPEG tile: {}", failure));
  }
}

}  // namespace tessera
