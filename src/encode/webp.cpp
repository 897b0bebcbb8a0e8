#include "encode/webp.hpp"

#include <webp/encode.h>
#include <webp/mux.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "common/error.hpp"
#include "encode/raster_check.hpp"

namespace tessera {
namespace {

const char* encoder_error(WebPEncodingError code) {
  switch (code) {
    case VP8_ENC_ERROR_OUT_OF_MEMORY:
    case VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY:
      return "out of memory";
    case VP8_ENC_ERROR_INVALID_CONFIGURATION:
      return "invalid configuration";
    case VP8_ENC_ERROR_BAD_DIMENSION:
      return "bad dimension";
    case VP8_ENC_ERROR_PARTITION0_OVERFLOW:
    case VP8_ENC_ERROR_PARTITION_OVERFLOW:
      return "partition overflow";
    case VP8_ENC_ERROR_FILE_TOO_BIG:
      return "output larger than 4 GiB";
    default:
      return "encoder error";
  }
}

struct Picture {
  WebPPicture picture;
  WebPMemoryWriter writer;
  Picture() {
    WebPPictureInit(&picture);
    WebPMemoryWriterInit(&writer);
  }
  ~Picture() {
    WebPPictureFree(&picture);
    WebPMemoryWriterClear(&writer);
  }
  Picture(const Picture&) = delete;
  Picture& operator=(const Picture&) = delete;
};

struct AssembledData {
  WebPData data{nullptr, 0};
  ~AssembledData() { WebPDataClear(&data); }
};

struct MuxDeleter {
  void operator()(WebPMux* mux) const { WebPMuxDelete(mux); }
};

// The raster as RGB or RGBA bytes: grey is repeated into the three colours.
std::vector<uint8_t> expand_grey(const Raster& raster) {
  const bool alpha = raster.bands() == 2;
  const int out_bands = alpha ? 4 : 3;
  std::vector<uint8_t> out(std::size_t(raster.width()) * raster.height() * out_bands);
  uint8_t* o = out.data();
  for (uint32_t y = 0; y < raster.height(); ++y) {
    const uint8_t* in = raster.row(y);
    for (uint32_t x = 0; x < raster.width(); ++x, in += raster.bands(), o += out_bands) {
      o[0] = o[1] = o[2] = in[0];
      if (alpha) o[3] = in[1];
    }
  }
  return out;
}

}  // namespace

std::string encode_webp(const Raster& raster, const WebpOptions& options) {
  encode_detail::check_raster(raster, "webp", false, WEBP_MAX_DIMENSION);

  WebPConfig config;
  if (!WebPConfigInit(&config)) throw Error(500, "webp: library version mismatch");
  // Method 0 is the fastest; a tile server encodes far more often than a
  // client waits on a few percent of bytes.
  config.method = 0;
  if (options.quality < 0) {
    config.lossless = 1;
    config.quality = 0;  // for lossless, the effort: 0 is the fastest
    config.exact = 1;
  } else {
    config.quality = float(std::min(options.quality, 100));
  }
  if (!WebPValidateConfig(&config)) throw Error(500, "webp: invalid configuration");

  Picture pic;
  pic.picture.width = int(raster.width());
  pic.picture.height = int(raster.height());
  pic.picture.use_argb = config.lossless;
  pic.picture.writer = WebPMemoryWrite;
  pic.picture.custom_ptr = &pic.writer;

  std::vector<uint8_t> expanded;
  const uint8_t* pixels = raster.data();
  int stride = int(raster.stride());
  bool alpha = raster.bands() == 4;
  if (raster.bands() <= 2) {
    expanded = expand_grey(raster);
    pixels = expanded.data();
    alpha = raster.bands() == 2;
    stride = int(raster.width()) * (alpha ? 4 : 3);
  }
  const int imported = alpha ? WebPPictureImportRGBA(&pic.picture, pixels, stride)
                             : WebPPictureImportRGB(&pic.picture, pixels, stride);
  if (!imported) throw Error(500, "webp: out of memory for the picture");
  expanded = {};

  if (!WebPEncode(&config, &pic.picture)) {
    throw Error(500, std::string("webp: cannot encode: ") + encoder_error(pic.picture.error_code));
  }
  const auto* encoded = reinterpret_cast<const char*>(pic.writer.mem);
  if (options.icc.empty()) return std::string(encoded, pic.writer.size);

  const std::unique_ptr<WebPMux, MuxDeleter> mux(WebPMuxNew());
  if (!mux) throw Error(500, "webp: out of memory for the muxer");
  const WebPData image{pic.writer.mem, pic.writer.size};
  const WebPData icc{reinterpret_cast<const uint8_t*>(options.icc.data()), options.icc.size()};
  AssembledData assembled;
  if (WebPMuxSetImage(mux.get(), &image, 0) != WEBP_MUX_OK ||
      WebPMuxSetChunk(mux.get(), "ICCP", &icc, 0) != WEBP_MUX_OK ||
      WebPMuxAssemble(mux.get(), &assembled.data) != WEBP_MUX_OK) {
    throw Error(500, "webp: cannot add the ICC profile");
  }
  return std::string(reinterpret_cast<const char*>(assembled.data.bytes), assembled.data.size);
}

}  // namespace tessera
