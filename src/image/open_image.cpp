// The one place that chooses a reader for a file: by its signature, never by
// its name, so a renamed or mislabelled file is still read correctly or
// refused with a reason.

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "common/error.hpp"
#include "image/image_file.hpp"
#include "image/image_source.hpp"
#include "image/jp2_source.hpp"
#include "image/tiff_source.hpp"

namespace tessera {

namespace {

bool starts_with(const std::array<char, 12>& head, std::size_t got, const char* magic,
                 std::size_t n) {
  return got >= n && std::memcmp(head.data(), magic, n) == 0;
}

}  // namespace

Raster ImageSource::region(int, uint32_t, uint32_t, uint32_t, uint32_t) {
  throw Error(500, "this image reader decodes tiles only");
}

int layers_to_decode(int max_layers, int requested) noexcept {
  if (max_layers > 0) return requested > 0 && requested < max_layers ? requested : max_layers;
  if (max_layers < 0 && requested == 0) return -1;
  return requested;
}

std::unique_ptr<ImageSource> open_image(const std::filesystem::path& path,
                                        const OpenOptions& options) {
  std::array<char, 12> head{};
  std::size_t got = 0;
  {
    const int fd = open_image_file(path);
    ssize_t n = 0;
    do {
      n = ::pread(fd, head.data(), head.size(), 0);
    } while (n < 0 && errno == EINTR);
    const int error = errno;
    ::close(fd);
    if (n < 0) throw Error(500, std::string("cannot read the image: ") + std::strerror(error));
    got = std::size_t(n);
  }

  // Classic TIFF and BigTIFF, in either byte order.
  if (starts_with(head, got, "II*\0", 4) || starts_with(head, got, "MM\0*", 4) ||
      starts_with(head, got, "II+\0", 4) || starts_with(head, got, "MM\0+", 4)) {
    return std::make_unique<TiffSource>(path);
  }
  if (starts_with(head, got, "\0\0\0\x0cjP  \r\n\x87\n", 12) ||
      starts_with(head, got, "\xff\x4f\xff\x51", 4)) {
    Jp2Options jp2;
    jp2.threads = options.jp2_threads;
    return std::make_unique<Jp2Source>(path, jp2);
  }
  throw Error(500, "not an image Tessera can read (unknown file signature)");
}

}  // namespace tessera
