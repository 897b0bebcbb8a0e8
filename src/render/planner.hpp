#pragma once
// From what a client asked (Query) and what the image is (ImageInfo) to what
// to do: which pyramid level to read, which part of it, and the output size.
// Pure arithmetic; every request that cannot be served is refused here with
// the status the protocol specifies.

#include <cstdint>
#include <optional>

#include "image/image_info.hpp"
#include "protocol/query.hpp"

namespace tessera {

struct Limits {
  uint32_t max_width = 0;   // 0: no limit
  uint32_t max_height = 0;  // 0: no limit
  uint64_t max_area = 0;    // 0: no limit
};

// A rectangle in full-resolution pixels.
struct PixelRect {
  uint32_t x = 0, y = 0, width = 0, height = 0;
  bool operator==(const PixelRect&) const = default;
};

struct Plan {
  PixelRect region;  // the requested region, clipped to the image
  uint32_t out_width = 0, out_height = 0;

  int level = 0;  // the pyramid level read
  // The region in that level's pixel coordinates (fractional).
  double window_x = 0, window_y = 0, window_width = 0, window_height = 0;
  // The whole level pixels that cover the window: what is read and decoded.
  PixelRect read;

  RotationSpec rotation;
  Quality quality = Quality::Default;
  Format format = Format::Jpeg;
  Adjustments adjust;  // IIP's processing, after scaling and before rotation
};

// The region of the image a query names, clipped to the image. Throws
// Error(400) for a region outside the image or of zero size.
PixelRect resolve_region(const RegionSpec& region, uint32_t width, uint32_t height);

// The output size for `size` applied to a region of region_w x region_h.
// Throws Error(400) for sizes the version forbids (upscaling without "^" in
// IIIF 3) or that exceed the limits.
void resolve_size(const SizeSpec& size, int iiif_version, uint32_t region_w, uint32_t region_h,
                  const Limits& limits, uint32_t& out_w, uint32_t& out_h);

// The smallest stored level that still has at least the output's resolution
// (allowing a one-pixel shortfall at the edges, where pyramids round).
int choose_level(const ImageInfo& info, const PixelRect& region, uint32_t out_w, uint32_t out_h);

// One stored tile of one level.
struct TileIndex {
  int level = 0;
  uint32_t tx = 0, ty = 0;
  bool operator==(const TileIndex&) const = default;
};

// The stored tile a plan's output is, pixel for pixel: the plan reads
// exactly that tile (cut at the level's edges), does not scale, rotate or
// mirror it, and asks for its colours as they are. nullopt otherwise.
std::optional<TileIndex> plan_stored_tile(const Plan& plan, const ImageInfo& info);

// Plans an image request. Throws Error with 400 for impossible requests and
// 501 for features not implemented.
Plan plan_image(const Query& query, const ImageInfo& info, const Limits& limits);

}  // namespace tessera
