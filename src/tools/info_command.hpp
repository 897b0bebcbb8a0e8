#pragma once
// `tessera info FILE`: what Tessera sees in an image file.

#include <filesystem>
#include <ostream>

namespace tessera {

// Prints the image's size, levels, tiles, bands and metadata; returns the
// process exit code. Throws tessera::Error when the file cannot be read.
int run_info_command(const std::filesystem::path& file, std::ostream& out);

}  // namespace tessera
