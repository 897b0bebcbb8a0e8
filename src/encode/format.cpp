#include "encode/format.hpp"

namespace tessera {

const char* format_extension(Format f) noexcept {
  switch (f) {
    case Format::Jpeg:
      return "jpg";
    case Format::Png:
      return "png";
    case Format::Webp:
      return "webp";
    case Format::Tiff:
      return "tif";
    case Format::Gif:
      return "gif";
    case Format::Jp2:
      return "jp2";
    case Format::Pdf:
      return "pdf";
  }
  return "jpg";
}

const char* format_media_type(Format f) noexcept {
  switch (f) {
    case Format::Jpeg:
      return "image/jpeg";
    case Format::Png:
      return "image/png";
    case Format::Webp:
      return "image/webp";
    case Format::Tiff:
      return "image/tiff";
    case Format::Gif:
      return "image/gif";
    case Format::Jp2:
      return "image/jp2";
    case Format::Pdf:
      return "application/pdf";
  }
  return "application/octet-stream";
}

}  // namespace tessera
