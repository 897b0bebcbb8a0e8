#include "encode/jpeg.hpp"

#include <turbojpeg.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace tessera {
namespace {

// JPEG_MAX_DIMENSION in libjpeg: the largest width or height it writes.
constexpr uint32_t kMaxJpegDimension = 65500;

// A thread keeps its worst-case output buffer for the next call while it
// stays under this size (tiles and moderate regions); larger images let
// TurboJPEG grow a buffer of its own, freed after the call, so that memory
// kept per thread does not grow with the largest image ever asked for.
constexpr unsigned long kKeptBufferBytes = 4ul << 20;

struct TjHandleDeleter {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using TjHandle = std::unique_ptr<void, TjHandleDeleter>;

struct TjBufferDeleter {
  void operator()(unsigned char* buffer) const { tjFree(buffer); }
};
using TjBuffer = std::unique_ptr<unsigned char, TjBufferDeleter>;

// A segment's 16-bit length counts itself; an ICC segment then spends 14
// bytes on "ICC_PROFILE\0", its sequence number and the count.
constexpr std::size_t kIccChunk = 65535 - 2 - 14;
constexpr std::size_t kMaxIccChunks = 255;

[[noreturn]] void fail(tjhandle handle, const std::string& what) {
  throw Error(500, "jpeg: " + what + ": " + tjGetErrorStr2(handle));
}

// One per thread: creating a TurboJPEG handle costs more than encoding a
// small tile.
class ThreadCompressor {
 public:
  tjhandle handle() {
    if (!handle_) {
      handle_.reset(tjInitCompress());
      if (!handle_) fail(nullptr, "cannot create a compressor");
    }
    return handle_.get();
  }

  // A tjAlloc'd buffer of at least `bytes`, reused across calls.
  unsigned char* buffer(unsigned long bytes) {
    if (capacity_ < bytes) {
      buffer_.reset();
      capacity_ = 0;
      buffer_.reset(tjAlloc(int(bytes)));
      if (!buffer_) throw Error(500, "jpeg: out of memory for the output buffer");
      capacity_ = bytes;
    }
    return buffer_.get();
  }

 private:
  TjHandle handle_;
  TjBuffer buffer_;
  unsigned long capacity_ = 0;
};

class ThreadDecompressor {
 public:
  tjhandle handle() {
    if (!handle_) {
      handle_.reset(tjInitDecompress());
      if (!handle_) fail(nullptr, "cannot create a decompressor");
    }
    return handle_.get();
  }

 private:
  TjHandle handle_;
};

ThreadCompressor& thread_compressor() {
  thread_local ThreadCompressor compressor;
  return compressor;
}

ThreadDecompressor& thread_decompressor() {
  thread_local ThreadDecompressor decompressor;
  return decompressor;
}

void put_u16(std::string& s, std::size_t at, uint32_t v) {
  s[at] = char(v >> 8);
  s[at + 1] = char(v);
}

// TurboJPEG writes neither a density nor a profile: the JFIF segment it
// writes first gets the density, and the profile follows it as APP2
// segments, split as the ICC specification for JPEG prescribes.
std::string with_metadata(const unsigned char* jpeg, std::size_t size, const JpegOptions& options) {
  std::string out(reinterpret_cast<const char*>(jpeg), size);
  // SOI, then APP0 of length 16 holding "JFIF\0", version, units, densities.
  const bool jfif = size >= 20 && out.compare(2, 2, "\xff\xe0") == 0 &&
                    out.compare(6, 5, std::string_view("JFIF\0", 5)) == 0;
  if (jfif && (options.dpi_x > 0 || options.dpi_y > 0)) {
    const double x = options.dpi_x > 0 ? options.dpi_x : options.dpi_y;
    const double y = options.dpi_y > 0 ? options.dpi_y : options.dpi_x;
    out[13] = 1;  // dots per inch
    put_u16(out, 14, uint32_t(std::clamp(std::lround(x), 1L, 65535L)));
    put_u16(out, 16, uint32_t(std::clamp(std::lround(y), 1L, 65535L)));
  }
  const std::string_view icc = options.icc;
  const std::size_t chunks = (icc.size() + kIccChunk - 1) / kIccChunk;
  if (chunks == 0 || chunks > kMaxIccChunks) return out;
  std::string segments;
  segments.reserve(icc.size() + chunks * 18);
  for (std::size_t i = 0; i < chunks; ++i) {
    const std::string_view part = icc.substr(i * kIccChunk, kIccChunk);
    const std::size_t at = segments.size();
    segments += "\xff\xe2";
    segments.append(2, '\0');
    put_u16(segments, at + 2, uint32_t(2 + 14 + part.size()));
    segments.append("ICC_PROFILE", 12);  // with its terminating NUL
    segments += char(i + 1);
    segments += char(chunks);
    segments.append(part);
  }
  out.insert(jfif ? 20 : 2, segments);
  return out;
}

}  // namespace

std::string encode_jpeg(const Raster& raster, const JpegOptions& options) {
  if (raster.sample_type() != SampleType::U8) throw Error(500, "jpeg: needs 8-bit samples");
  if (raster.empty()) throw Error(500, "jpeg: empty image");
  if (raster.width() > kMaxJpegDimension || raster.height() > kMaxJpegDimension) {
    throw Error(500, "jpeg: image wider or taller than 65500 pixels");
  }
  const int width = int(raster.width()), height = int(raster.height());

  const uint8_t* pixels = raster.data();
  int pitch = int(raster.stride());
  int pixel_format = TJPF_GRAY, subsampling = TJSAMP_GRAY;
  std::vector<uint8_t> grey;
  switch (raster.bands()) {
    case 1:
      break;
    case 2:  // grey + alpha: TurboJPEG has no such input format
      grey.resize(std::size_t(width) * height);
      for (int y = 0; y < height; ++y) {
        const uint8_t* row = raster.row(uint32_t(y));
        uint8_t* out = grey.data() + std::size_t(y) * width;
        for (int x = 0; x < width; ++x) out[x] = row[2 * x];
      }
      pixels = grey.data();
      pitch = width;
      break;
    case 3:
      pixel_format = TJPF_RGB;
      subsampling = TJSAMP_420;
      break;
    case 4:  // the fourth byte of RGBX is skipped, so alpha needs no copy
      pixel_format = TJPF_RGBX;
      subsampling = TJSAMP_420;
      break;
    default:
      throw Error(500, "jpeg: cannot encode " + std::to_string(raster.bands()) + " bands");
  }
  const int quality = std::clamp(options.quality, 1, 100);

  ThreadCompressor& compressor = thread_compressor();
  const tjhandle handle = compressor.handle();
  const unsigned long worst_case = tjBufSize(width, height, subsampling);
  if (worst_case != static_cast<unsigned long>(-1) && worst_case <= kKeptBufferBytes) {
    unsigned char* buffer = compressor.buffer(worst_case);
    unsigned long size = worst_case;
    if (tjCompress2(handle, pixels, width, pitch, height, pixel_format, &buffer, &size, subsampling,
                    quality, TJFLAG_NOREALLOC) != 0) {
      fail(handle, "cannot encode");
    }
    return with_metadata(buffer, size, options);
  }

  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  const int status = tjCompress2(handle, pixels, width, pitch, height, pixel_format, &buffer, &size,
                                 subsampling, quality, 0);
  const TjBuffer owned(buffer);
  if (status != 0) fail(handle, "cannot encode");
  return with_metadata(buffer, size, options);
}

Raster decode_jpeg(std::string_view bytes) {
  if (bytes.empty()) throw Error(500, "jpeg: no data");
  const tjhandle handle = thread_decompressor().handle();
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  int width = 0, height = 0, subsampling = 0, colourspace = 0;
  if (tjDecompressHeader3(handle, data, bytes.size(), &width, &height, &subsampling,
                          &colourspace) != 0) {
    fail(handle, "cannot read the header");
  }
  if (width <= 0 || height <= 0) throw Error(500, "jpeg: empty image");
  const bool grey = colourspace == TJCS_GRAY;
  Raster out(uint32_t(width), uint32_t(height), grey ? 1 : 3);
  if (tjDecompress2(handle, data, bytes.size(), out.data(), width, int(out.stride()), height,
                    grey ? TJPF_GRAY : TJPF_RGB, 0) != 0 &&
      tjGetErrorCode(handle) == TJERR_FATAL) {
    fail(handle, "cannot decode");
  }
  return out;
}

}  // namespace tessera
