#pragma once
// `tessera convert IN OUT`: any raster libvips reads -> a tiled pyramidal
// TIFF that Tessera (and iipsrv) serve without resampling on the fly.

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace tessera {

struct ConvertOptions {
  std::filesystem::path input;
  std::filesystem::path output;
  int tile_size = 256;
  // auto: JPEG for 8-bit grey or RGB, deflate (lossless) for the rest.
  std::string compression = "auto";
  int quality = 90;  // JPEG and WebP
};

// The compressions `--compression` takes, for the help text and checking.
std::vector<std::string> convert_compressions();

// Writes the pyramid next to the output (a temporary name, renamed when
// whole and readable: a server never sees half a file), prints one summary
// line and returns the exit code. Throws std::runtime_error with a one-line
// reason when the input cannot be read or the output cannot be written.
int run_convert_command(const ConvertOptions& options, std::ostream& out);

}  // namespace tessera
