#pragma once
// Images made by the tests themselves: a deterministic pattern written as
// PNM, turned into pyramids by the vips CLI, and helpers to compare pixels.

#include <filesystem>
#include <string>
#include <vector>

#include "image/raster.hpp"

namespace tessera::testing {

// A fresh, empty folder under the system temp dir; removed by the caller.
std::filesystem::path make_temp_dir(const std::string& prefix);

// Runs argv[0] with arguments (no shell); throws std::runtime_error with the
// command line and its output when it fails.
void run_command(const std::vector<std::string>& argv);

// A deterministic image with smooth gradients and coarse features, so that a
// misplaced or wrongly scaled tile shows in a pixel comparison while JPEG
// compression stays within a small tolerance. bands: 1, 2, 3 or 4.
Raster make_pattern(uint32_t width, uint32_t height, int bands);

// Writes 1- or 3-band rasters as PGM/PPM, and 2/4-band ones as PAM.
void write_pnm(const std::filesystem::path& path, const Raster& raster);

// `vips tiffsave src out --tile --pyramid` with tile size and extra options
// (e.g. {"--compression", "deflate"} or {"--subifd"}).
void make_pyramid(const std::filesystem::path& src, const std::filesystem::path& out, int tile_size,
                  const std::vector<std::string>& extra = {});

// Average of each factor x factor block (partial blocks at the edges average
// what they hold), the way pyramid levels are made.
Raster box_reduce(const Raster& src, uint32_t factor);

// Mean absolute difference per sample over the common bands of two rasters of
// the same size.
double mean_abs_diff(const Raster& a, const Raster& b);

// A minimal ICC profile (header and an empty tag table) that libpng accepts.
std::string make_icc_profile(bool grey);

}  // namespace tessera::testing
