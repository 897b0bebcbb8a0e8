#include "encode/encoder.hpp"

#include "common/error.hpp"
#include "encode/gif.hpp"
#include "encode/jp2.hpp"
#include "encode/jpeg.hpp"
#include "encode/png.hpp"
#include "encode/tiff.hpp"
#include "encode/webp.hpp"

namespace tessera {
namespace {

// Encodes with `encode(raster)`, first reducing 16-bit samples to 8 bits.
template <typename Encode>
std::string encode_8bit(const Raster& raster, Encode&& encode) {
  if (raster.sample_type() == SampleType::U16) return encode(reduce_to_8bit(raster));
  return encode(raster);
}

}  // namespace

Raster reduce_to_8bit(const Raster& raster) {
  if (raster.sample_type() == SampleType::U8) return raster;
  if (raster.sample_type() != SampleType::U16) {
    throw Error(500, "cannot reduce samples other than 16-bit ones to 8 bits");
  }
  Raster out(raster.width(), raster.height(), raster.bands());
  const std::size_t samples = std::size_t(raster.width()) * raster.bands();
  for (uint32_t y = 0; y < raster.height(); ++y) {
    const auto* in = reinterpret_cast<const uint16_t*>(raster.row(y));
    uint8_t* o = out.row(y);
    // v * 255 / 65535 is v / 257, rounded to the nearest.
    for (std::size_t i = 0; i < samples; ++i) o[i] = uint8_t((uint32_t(in[i]) + 128) / 257);
  }
  return out;
}

std::string encode_image(const Raster& raster, Format format, const EncodeOptions& options) {
  switch (format) {
    case Format::Jpeg:
      return encode_8bit(raster, [&](const Raster& r) {
        return encode_jpeg(r, {.quality = options.jpeg_quality,
                               .dpi_x = options.dpi_x,
                               .dpi_y = options.dpi_y,
                               .icc = options.icc});
      });
    case Format::Png:
      return encode_png(raster, {.level = options.png_level,
                                 .dpi_x = options.dpi_x,
                                 .dpi_y = options.dpi_y,
                                 .icc = options.icc});
    case Format::Webp:
      return encode_8bit(raster, [&](const Raster& r) {
        return encode_webp(r, {.quality = options.webp_quality, .icc = options.icc});
      });
    case Format::Tiff:
      return encode_tiff(raster, {.deflate_level = options.png_level,
                                  .dpi_x = options.dpi_x,
                                  .dpi_y = options.dpi_y,
                                  .icc = options.icc});
    case Format::Gif:
      return encode_8bit(raster, [](const Raster& r) { return encode_gif(r); });
    case Format::Jp2:
      return encode_jp2(raster, {.rate = options.jp2_rate, .icc = options.icc});
    case Format::Pdf:
      break;
  }
  throw Error(501, "pdf output is not supported");
}

}  // namespace tessera
