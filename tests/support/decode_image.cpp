#include "support/decode_image.hpp"

#include <gif_lib.h>
#include <openjpeg.h>
#include <png.h>
#include <tiffio.h>
#include <webp/decode.h>

#include <bit>
#include <csetjmp>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "encode/jpeg.hpp"

namespace tessera::testing {
namespace {

bool starts_with(std::string_view bytes, std::string_view prefix) {
  return bytes.substr(0, prefix.size()) == prefix;
}

constexpr std::string_view kJp2Signature("\0\0\0\x0cjP  \r\n\x87\n", 12);
constexpr std::string_view kJ2kSignature("\xff\x4f\xff\x51", 4);

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

// --- PNG ----------------------------------------------------------------------

struct PngReader {
  std::string_view bytes;
  std::size_t position = 0;
  std::string error{};
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngReader() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }

  static void on_error(png_structp png, png_const_charp message) {
    static_cast<PngReader*>(png_get_error_ptr(png))->error = message;
    png_longjmp(png, 1);
  }
  static void on_warning(png_structp, png_const_charp) {}
  static void on_read(png_structp png, png_bytep out, size_t size) {
    auto* self = static_cast<PngReader*>(png_get_io_ptr(png));
    if (size > self->bytes.size() - self->position) png_error(png, "truncated");
    std::memcpy(out, self->bytes.data() + self->position, size);
    self->position += size;
  }
};

struct PngLayout {
  png_uint_32 width = 0, height = 0;
  int channels = 0, depth = 0;
};

// libpng leaves by longjmp: no object with a destructor lives in these frames.
bool read_png_header(PngReader& r, PngLayout& layout) {
  if (setjmp(png_jmpbuf(r.png))) return false;
  png_read_info(r.png, r.info);
  const int colour = png_get_color_type(r.png, r.info);
  const int depth = png_get_bit_depth(r.png, r.info);
  if (colour == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(r.png);
  if (colour == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(r.png);
  if (png_get_valid(r.png, r.info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(r.png);
  if (depth == 16 && std::endian::native == std::endian::little) png_set_swap(r.png);
  png_set_interlace_handling(r.png);
  png_read_update_info(r.png, r.info);
  layout.width = png_get_image_width(r.png, r.info);
  layout.height = png_get_image_height(r.png, r.info);
  layout.channels = png_get_channels(r.png, r.info);
  layout.depth = png_get_bit_depth(r.png, r.info);
  return true;
}

bool read_png_rows(PngReader& r, png_bytepp rows) {
  if (setjmp(png_jmpbuf(r.png))) return false;
  png_read_image(r.png, rows);
  png_read_end(r.png, nullptr);
  return true;
}

Raster decode_png(std::string_view bytes) {
  PngReader r{bytes};
  r.png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, PngReader::on_error, PngReader::on_warning);
  if (!r.png || !(r.info = png_create_info_struct(r.png))) fail("png: cannot create a reader");
  png_set_read_fn(r.png, &r, PngReader::on_read);
  PngLayout layout;
  if (!read_png_header(r, layout)) fail("png: " + r.error);
  Raster out(layout.width, layout.height, layout.channels,
             layout.depth == 16 ? SampleType::U16 : SampleType::U8);
  std::vector<png_bytep> rows(layout.height);
  for (uint32_t y = 0; y < layout.height; ++y) rows[y] = out.row(y);
  if (!read_png_rows(r, rows.data())) fail("png: " + r.error);
  return out;
}

// --- WebP ---------------------------------------------------------------------

Raster decode_webp(std::string_view bytes) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  WebPBitstreamFeatures features;
  if (WebPGetFeatures(data, bytes.size(), &features) != VP8_STATUS_OK) fail("webp: bad header");
  const int bands = features.has_alpha ? 4 : 3;
  Raster out(uint32_t(features.width), uint32_t(features.height), bands);
  const auto decoded =
      features.has_alpha
          ? WebPDecodeRGBAInto(data, bytes.size(), out.data(), out.size_bytes(), int(out.stride()))
          : WebPDecodeRGBInto(data, bytes.size(), out.data(), out.size_bytes(), int(out.stride()));
  if (!decoded) fail("webp: cannot decode");
  return out;
}

// --- TIFF ---------------------------------------------------------------------

struct TiffMemory {
  std::string_view bytes;
  std::size_t position = 0;
  std::string error{};

  static tmsize_t read(thandle_t h, void* buffer, tmsize_t size) {
    auto* self = static_cast<TiffMemory*>(h);
    if (size < 0 || self->position >= self->bytes.size()) return 0;
    const std::size_t n = std::min(std::size_t(size), self->bytes.size() - self->position);
    std::memcpy(buffer, self->bytes.data() + self->position, n);
    self->position += n;
    return tmsize_t(n);
  }
  static tmsize_t write(thandle_t, void*, tmsize_t) { return -1; }
  static toff_t seek(thandle_t h, toff_t offset, int whence) {
    auto* self = static_cast<TiffMemory*>(h);
    uint64_t base = whence == SEEK_CUR   ? self->position
                    : whence == SEEK_END ? self->bytes.size()
                                         : 0;
    self->position = std::size_t(base + offset);
    return self->position;
  }
  static int close(thandle_t) { return 0; }
  static toff_t size(thandle_t h) { return static_cast<TiffMemory*>(h)->bytes.size(); }
  static int map(thandle_t, void**, toff_t*) { return 0; }
  static void unmap(thandle_t, void*, toff_t) {}
  static int on_error(TIFF*, void* user, const char*, const char* format, va_list args) {
    char text[512];
    std::vsnprintf(text, sizeof text, format, args);
    static_cast<TiffMemory*>(user)->error = text;
    return 1;
  }
  static int on_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }
};

Raster decode_tiff(std::string_view bytes) {
  TiffMemory memory{bytes};
  TIFFOpenOptions* options = TIFFOpenOptionsAlloc();
  TIFFOpenOptionsSetErrorHandlerExtR(options, TiffMemory::on_error, &memory);
  TIFFOpenOptionsSetWarningHandlerExtR(options, TiffMemory::on_warning, &memory);
  const std::unique_ptr<TIFF, void (*)(TIFF*)> tif(
      TIFFClientOpenExt("memory", "r", &memory, TiffMemory::read, TiffMemory::write,
                        TiffMemory::seek, TiffMemory::close, TiffMemory::size, TiffMemory::map,
                        TiffMemory::unmap, options),
      [](TIFF* t) {
        if (t) TIFFClose(t);
      });
  TIFFOpenOptionsFree(options);
  if (!tif) fail("tiff: " + memory.error);
  uint32_t width = 0, height = 0;
  uint16_t samples = 1, bits = 1, planar = PLANARCONFIG_CONTIG;
  TIFFGetField(tif.get(), TIFFTAG_IMAGEWIDTH, &width);
  TIFFGetField(tif.get(), TIFFTAG_IMAGELENGTH, &height);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_SAMPLESPERPIXEL, &samples);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_PLANARCONFIG, &planar);
  if ((bits != 8 && bits != 16) || samples < 1 || samples > 4 || planar != PLANARCONFIG_CONTIG ||
      TIFFIsTiled(tif.get())) {
    fail("tiff: layout not supported by the test decoder");
  }
  Raster out(width, height, samples, bits == 16 ? SampleType::U16 : SampleType::U8);
  for (uint32_t y = 0; y < height; ++y) {
    if (TIFFReadScanline(tif.get(), out.row(y), y, 0) < 0) fail("tiff: " + memory.error);
  }
  return out;
}

// --- GIF ----------------------------------------------------------------------

struct GifInput {
  std::string_view bytes;
  std::size_t position = 0;
  static int read(GifFileType* gif, GifByteType* out, int size) {
    auto* self = static_cast<GifInput*>(gif->UserData);
    const std::size_t n = std::min(std::size_t(size), self->bytes.size() - self->position);
    std::memcpy(out, self->bytes.data() + self->position, n);
    self->position += n;
    return int(n);
  }
};

Raster decode_gif(std::string_view bytes) {
  GifInput input{bytes};
  int error = 0;
  const std::unique_ptr<GifFileType, void (*)(GifFileType*)> gif(
      DGifOpen(&input, GifInput::read, &error), [](GifFileType* g) {
        int e = 0;
        if (g) DGifCloseFile(g, &e);
      });
  if (!gif) fail(std::string("gif: ") + GifErrorString(error));
  if (DGifSlurp(gif.get()) == GIF_ERROR || gif->ImageCount < 1) {
    fail(std::string("gif: ") + GifErrorString(gif->Error));
  }
  const SavedImage& image = gif->SavedImages[0];
  const ColorMapObject* map = image.ImageDesc.ColorMap ? image.ImageDesc.ColorMap : gif->SColorMap;
  if (!map) fail("gif: no colour map");
  GraphicsControlBlock control{};
  control.TransparentColor = NO_TRANSPARENT_COLOR;
  DGifSavedExtensionToGCB(gif.get(), 0, &control);
  const int transparent = control.TransparentColor;

  const uint32_t width = uint32_t(gif->SWidth), height = uint32_t(gif->SHeight);
  const GifImageDesc& desc = image.ImageDesc;
  bool grey = true, has_transparent = false;
  for (int i = 0; i < desc.Width * desc.Height; ++i) {
    const int index = image.RasterBits[i];
    if (index == transparent) {
      has_transparent = true;
    } else if (index < map->ColorCount) {
      const GifColorType& c = map->Colors[index];
      grey = grey && c.Red == c.Green && c.Green == c.Blue;
    }
  }
  const int colour_bands = grey ? 1 : 3;
  const int bands = colour_bands + (has_transparent ? 1 : 0);
  Raster out(width, height, bands);
  for (int y = 0; y < desc.Height; ++y) {
    for (int x = 0; x < desc.Width; ++x) {
      const uint32_t ox = uint32_t(desc.Left + x), oy = uint32_t(desc.Top + y);
      if (ox >= width || oy >= height) continue;
      const int index = image.RasterBits[std::size_t(y) * desc.Width + x];
      uint8_t* p = out.row(oy) + std::size_t(ox) * bands;
      if (index == transparent) continue;  // zero colour, zero alpha
      const GifColorType c = index < map->ColorCount ? map->Colors[index] : GifColorType{0, 0, 0};
      p[0] = c.Red;
      if (!grey) p[1] = c.Green, p[2] = c.Blue;
      if (has_transparent) p[bands - 1] = 255;
    }
  }
  return out;
}

// --- JPEG 2000 ------------------------------------------------------------------

struct Jp2Input {
  std::string_view bytes;
  std::size_t position = 0;
  static OPJ_SIZE_T read(void* out, OPJ_SIZE_T size, void* user) {
    auto* self = static_cast<Jp2Input*>(user);
    if (self->position >= self->bytes.size()) return OPJ_SIZE_T(-1);
    const std::size_t n = std::min(std::size_t(size), self->bytes.size() - self->position);
    std::memcpy(out, self->bytes.data() + self->position, n);
    self->position += n;
    return n;
  }
  static OPJ_OFF_T skip(OPJ_OFF_T offset, void* user) {
    auto* self = static_cast<Jp2Input*>(user);
    self->position = std::size_t(OPJ_OFF_T(self->position) + offset);
    return offset;
  }
  static OPJ_BOOL seek(OPJ_OFF_T offset, void* user) {
    static_cast<Jp2Input*>(user)->position = std::size_t(offset);
    return OPJ_TRUE;
  }
};

void keep_message(const char* message, void* user) {
  auto* error = static_cast<std::string*>(user);
  if (error->empty()) *error = message;
}
void ignore_message(const char*, void*) {}

Raster decode_jp2(std::string_view bytes, bool boxed) {
  Jp2Input input{bytes};
  std::string error{};
  const std::unique_ptr<opj_codec_t, void (*)(opj_codec_t*)> codec(
      opj_create_decompress(boxed ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K), opj_destroy_codec);
  const std::unique_ptr<opj_stream_t, void (*)(opj_stream_t*)> stream(
      opj_stream_create(1 << 16, OPJ_TRUE), opj_stream_destroy);
  if (!codec || !stream) fail("jp2: cannot create a decoder");
  opj_set_info_handler(codec.get(), ignore_message, nullptr);
  opj_set_warning_handler(codec.get(), ignore_message, nullptr);
  opj_set_error_handler(codec.get(), keep_message, &error);
  opj_stream_set_user_data(stream.get(), &input, nullptr);
  opj_stream_set_user_data_length(stream.get(), bytes.size());
  opj_stream_set_read_function(stream.get(), Jp2Input::read);
  opj_stream_set_skip_function(stream.get(), Jp2Input::skip);
  opj_stream_set_seek_function(stream.get(), Jp2Input::seek);
  opj_dparameters_t parameters;
  opj_set_default_decoder_parameters(&parameters);
  if (!opj_setup_decoder(codec.get(), &parameters)) fail("jp2: cannot set up: " + error);

  opj_image_t* raw = nullptr;
  if (!opj_read_header(stream.get(), codec.get(), &raw)) fail("jp2: bad header: " + error);
  const std::unique_ptr<opj_image_t, void (*)(opj_image_t*)> image(raw, opj_image_destroy);
  if (!opj_decode(codec.get(), stream.get(), image.get()) ||
      !opj_end_decompress(codec.get(), stream.get())) {
    fail("jp2: cannot decode: " + error);
  }
  const int bands = int(image->numcomps);
  if (bands < 1 || bands > 4) fail("jp2: unsupported component count");
  const opj_image_comp_t& first = image->comps[0];
  const uint32_t width = first.w, height = first.h;
  bool sixteen = false;
  for (int b = 0; b < bands; ++b) {
    const opj_image_comp_t& c = image->comps[b];
    if (c.w != width || c.h != height || c.prec > 16) fail("jp2: layout not supported");
    sixteen = sixteen || c.prec > 8;
  }
  Raster out(width, height, bands, sixteen ? SampleType::U16 : SampleType::U8);
  for (uint32_t y = 0; y < height; ++y) {
    for (int b = 0; b < bands; ++b) {
      const opj_image_comp_t& c = image->comps[b];
      const OPJ_INT32 offset = c.sgnd ? OPJ_INT32(1) << (c.prec - 1) : 0;
      const OPJ_INT32* in = c.data + std::size_t(y) * width;
      for (uint32_t x = 0; x < width; ++x) {
        const OPJ_INT32 v = in[x] + offset;
        if (sixteen) {
          reinterpret_cast<uint16_t*>(out.row(y))[std::size_t(x) * bands + b] = uint16_t(v);
        } else {
          out.row(y)[std::size_t(x) * bands + b] = uint8_t(v);
        }
      }
    }
  }
  return out;
}

}  // namespace

std::optional<Format> sniff_format(std::string_view bytes) {
  if (starts_with(bytes, "\xff\xd8\xff")) return Format::Jpeg;
  if (starts_with(bytes, "\x89PNG\r\n\x1a\n")) return Format::Png;
  if (starts_with(bytes, "RIFF") && bytes.substr(8, 4) == "WEBP") return Format::Webp;
  if (starts_with(bytes, std::string_view("II*\0", 4)) ||
      starts_with(bytes, std::string_view("MM\0*", 4)) ||
      starts_with(bytes, std::string_view("II+\0", 4)) ||
      starts_with(bytes, std::string_view("MM\0+", 4))) {
    return Format::Tiff;
  }
  if (starts_with(bytes, "GIF87a") || starts_with(bytes, "GIF89a")) return Format::Gif;
  if (starts_with(bytes, kJp2Signature) || starts_with(bytes, kJ2kSignature)) return Format::Jp2;
  if (starts_with(bytes, "%PDF-")) return Format::Pdf;
  return std::nullopt;
}

Raster decode_image(std::string_view bytes) {
  const std::optional<Format> format = sniff_format(bytes);
  if (!format) fail("decode_image: unknown signature");
  switch (*format) {
    case Format::Jpeg:
      return decode_jpeg(bytes);
    case Format::Png:
      return decode_png(bytes);
    case Format::Webp:
      return decode_webp(bytes);
    case Format::Tiff:
      return decode_tiff(bytes);
    case Format::Gif:
      return decode_gif(bytes);
    case Format::Jp2:
      return decode_jp2(bytes, starts_with(bytes, kJp2Signature));
    case Format::Pdf:
      break;
  }
  fail("decode_image: cannot decode PDF");
}

}  // namespace tessera::testing
