#include "encode/jp2.hpp"

#include <openjpeg.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "encode/raster_check.hpp"

namespace tessera {
namespace {

// OpenJPEG's own default, and plenty for anything a client downloads whole.
constexpr int kMaxResolutions = 6;

// The stream batches writes in chunks of this size: a tile-sized output is
// done in a few, and a large one gains nothing from OpenJPEG's 1 MiB default.
constexpr OPJ_SIZE_T kStreamChunk = 64 << 10;

// A growable file in memory; the JP2 writer seeks back to fill in box lengths.
struct MemoryStream {
  std::string data;
  std::size_t position = 0;

  static OPJ_SIZE_T write(void* buffer, OPJ_SIZE_T size, void* user) {
    auto* self = static_cast<MemoryStream*>(user);
    try {
      if (self->position + size > self->data.size()) self->data.resize(self->position + size);
    } catch (...) {
      return OPJ_SIZE_T(-1);
    }
    std::memcpy(self->data.data() + self->position, buffer, size);
    self->position += size;
    return size;
  }
  static OPJ_OFF_T skip(OPJ_OFF_T offset, void* user) {
    auto* self = static_cast<MemoryStream*>(user);
    if (offset < 0 && std::size_t(-offset) > self->position) return -1;
    self->position = std::size_t(OPJ_OFF_T(self->position) + offset);
    return offset;
  }
  static OPJ_BOOL seek(OPJ_OFF_T offset, void* user) {
    if (offset < 0) return OPJ_FALSE;
    static_cast<MemoryStream*>(user)->position = std::size_t(offset);
    return OPJ_TRUE;
  }
};

void ignore_message(const char*, void*) {}

void keep_error(const char* message, void* user) {
  auto* error = static_cast<std::string*>(user);
  if (!error->empty()) return;  // the first error is the cause; later ones follow from it
  *error = message;
  while (!error->empty() && (error->back() == '\n' || error->back() == ' ')) error->pop_back();
}

struct CodecDeleter {
  void operator()(opj_codec_t* codec) const { opj_destroy_codec(codec); }
};
struct StreamDeleter {
  void operator()(opj_stream_t* stream) const { opj_stream_destroy(stream); }
};
struct ImageDeleter {
  void operator()(opj_image_t* image) const { opj_image_destroy(image); }
};

uint32_t read_u32(const std::string& s, std::size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) |
         (uint32_t(uint8_t(s[at + 2])) << 8) | uint32_t(uint8_t(s[at + 3]));
}

void write_u32(std::string& s, std::size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = char(v >> (24 - 8 * i));
}

// Where the box of type `type` starts among the boxes in [begin, end), and
// its length; npos when absent. Only 32-bit box lengths are expected here:
// OpenJPEG writes the header boxes that way.
std::pair<std::size_t, std::size_t> find_box(const std::string& file, std::size_t begin,
                                             std::size_t end, std::string_view type) {
  std::size_t at = begin;
  while (at + 8 <= end) {
    const std::size_t length = read_u32(file, at);
    if (length < 8 || at + length > end) break;
    if (std::string_view(file).substr(at + 4, 4) == type) return {at, length};
    at += length;
  }
  return {std::string::npos, 0};
}

// OpenJPEG 2.5.0 aborts on an assertion when asked to write an ICC profile,
// so the file is written with an enumerated colour space and its colour
// specification box then replaced by one that holds the profile (method 2,
// restricted ICC). Nothing in a JP2 file points at absolute offsets, so only
// the length of the enclosing header box changes.
void embed_icc(std::string& file, std::string_view icc) {
  const auto [header, header_length] = find_box(file, 0, file.size(), "jp2h");
  if (header == std::string::npos) throw Error(500, "jp2: no header box to hold the ICC profile");
  const auto [colour, colour_length] = find_box(file, header + 8, header + header_length, "colr");
  if (colour == std::string::npos) throw Error(500, "jp2: no colour box to hold the ICC profile");
  const uint64_t new_colour_length = 8 + 3 + uint64_t(icc.size());
  const uint64_t new_header_length = header_length - colour_length + new_colour_length;
  if (new_header_length > std::numeric_limits<uint32_t>::max()) {
    throw Error(500, "jp2: ICC profile too large");
  }
  std::string box(8, '\0');
  write_u32(box, 0, uint32_t(new_colour_length));
  box.replace(4, 4, "colr");
  box += '\x02';  // method: restricted ICC profile
  box += '\0';    // precedence
  box += '\0';    // approximation
  box.append(icc);
  file.replace(colour, colour_length, box);
  write_u32(file, header, uint32_t(new_header_length));
}

template <typename Sample>
void copy_components(const Raster& raster, opj_image_t* image) {
  const int bands = raster.bands();
  const uint32_t width = raster.width();
  for (uint32_t y = 0; y < raster.height(); ++y) {
    const auto* row = reinterpret_cast<const Sample*>(raster.row(y));
    for (int b = 0; b < bands; ++b) {
      OPJ_INT32* out = image->comps[b].data + std::size_t(y) * width;
      for (uint32_t x = 0; x < width; ++x) out[x] = OPJ_INT32(row[std::size_t(x) * bands + b]);
    }
  }
}

int resolutions_for(uint32_t width, uint32_t height) {
  // Each level halves the image; OpenJPEG refuses levels below one pixel.
  const uint32_t smallest = std::min(width, height);
  int levels = 1;
  while (levels < kMaxResolutions && (smallest >> levels) > 0) ++levels;
  return levels;
}

}  // namespace

std::string encode_jp2(const Raster& raster, const Jp2Options& options) {
  encode_detail::check_raster(raster, "jp2", true, std::numeric_limits<int32_t>::max());
  if (options.icc.size() > std::numeric_limits<OPJ_UINT32>::max()) {
    throw Error(500, "jp2: ICC profile too large");
  }
  const int bands = raster.bands();
  const bool sixteen = raster.sample_type() == SampleType::U16;

  std::array<opj_image_cmptparm_t, 4> parameters;
  for (opj_image_cmptparm_t& c : parameters) {
    std::memset(&c, 0, sizeof c);
    c.dx = c.dy = 1;
    c.w = raster.width();
    c.h = raster.height();
    c.prec = sixteen ? 16 : 8;
    c.sgnd = 0;
  }
  const std::unique_ptr<opj_image_t, ImageDeleter> image(opj_image_create(
      OPJ_UINT32(bands), parameters.data(), bands >= 3 ? OPJ_CLRSPC_SRGB : OPJ_CLRSPC_GRAY));
  if (!image) throw Error(500, "jp2: out of memory for the image");
  image->x0 = image->y0 = 0;
  image->x1 = raster.width();
  image->y1 = raster.height();
  if (bands == 2 || bands == 4) image->comps[bands - 1].alpha = 1;
  if (sixteen) {
    copy_components<uint16_t>(raster, image.get());
  } else {
    copy_components<uint8_t>(raster, image.get());
  }

  opj_cparameters_t settings;
  opj_set_default_encoder_parameters(&settings);
  settings.numresolution = resolutions_for(raster.width(), raster.height());
  settings.tcp_numlayers = 1;
  settings.cp_disto_alloc = 1;
  if (options.rate > 1) {
    settings.irreversible = 1;
    settings.tcp_rates[0] = float(options.rate);
  } else {
    settings.irreversible = 0;
    settings.tcp_rates[0] = 0;  // lossless
  }
  settings.tcp_mct = bands >= 3 ? 1 : 0;  // the colour transform, RGB only

  std::string error;
  const std::unique_ptr<opj_codec_t, CodecDeleter> codec(opj_create_compress(OPJ_CODEC_JP2));
  if (!codec) throw Error(500, "jp2: cannot create an encoder");
  opj_set_info_handler(codec.get(), ignore_message, nullptr);
  opj_set_warning_handler(codec.get(), ignore_message, nullptr);
  opj_set_error_handler(codec.get(), keep_error, &error);
  const auto fail = [&error](const char* what) {
    throw Error(500, std::string("jp2: ") + what + (error.empty() ? "" : ": " + error));
  };
  if (!opj_setup_encoder(codec.get(), &settings, image.get())) fail("cannot set up the encoder");

  MemoryStream file;
  const std::unique_ptr<opj_stream_t, StreamDeleter> stream(
      opj_stream_create(kStreamChunk, OPJ_FALSE));
  if (!stream) throw Error(500, "jp2: cannot create a stream");
  opj_stream_set_user_data(stream.get(), &file, nullptr);
  opj_stream_set_write_function(stream.get(), MemoryStream::write);
  opj_stream_set_skip_function(stream.get(), MemoryStream::skip);
  opj_stream_set_seek_function(stream.get(), MemoryStream::seek);

  if (!opj_start_compress(codec.get(), image.get(), stream.get())) fail("cannot start");
  if (!opj_encode(codec.get(), stream.get())) fail("cannot encode");
  if (!opj_end_compress(codec.get(), stream.get())) fail("cannot finish");
  if (!options.icc.empty()) embed_icc(file.data, options.icc);
  return std::move(file.data);
}

}  // namespace tessera
