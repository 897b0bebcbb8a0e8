#pragma once
// Opening an image file, with the reason a client is given when that fails.
// "No such image" is the answer only when there is none: a server out of
// file descriptors is busy (503), not missing the file, and a client or a
// cache told 404 would believe the image gone.

#include <filesystem>

#include "common/error.hpp"

namespace tessera {

// The file opened read-only and close-on-exec: its descriptor, which the
// caller closes. Throws open_failure(errno) when it cannot be opened.
int open_image_file(const std::filesystem::path& path);

// What a failed open(2) means to a client, by its errno:
// - 404 when the file is not there (ENOENT, ENOTDIR, EISDIR, ELOOP, ENAMETOOLONG);
// - 403 when the server may not read it (EACCES, EPERM);
// - 503 when the server is out of descriptors or memory (EMFILE, ENFILE,
//   ENOMEM, ENOBUFS): the same request succeeds later;
// - 500 with the system's reason otherwise.
Error open_failure(int error);

}  // namespace tessera
