#include "image/image_file.hpp"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace tessera {

Error open_failure(int error) {
  switch (error) {
    case ENOENT:
    case ENOTDIR:
    case EISDIR:
    case ELOOP:
    case ENAMETOOLONG:
      return Error(404, "no such image");
    case EACCES:
    case EPERM:
      return Error(403, "the image file is not readable by the server");
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case ENOBUFS:
      return Error(503, std::string("server busy, try again: cannot open the image (") +
                            std::strerror(error) + ")");
    default:
      return Error(500, std::string("cannot open the image: ") + std::strerror(error));
  }
}

int open_image_file(const std::filesystem::path& path) {
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw open_failure(errno);
  return fd;
}

}  // namespace tessera
