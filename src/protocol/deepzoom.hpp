#pragma once
// DeepZoom (DZI): the descriptor and tile URLs, and their arithmetic.
//
// Paths, after the router's "/deepzoom/" prefix:
//   {id}.dzi                            -> the XML descriptor
//   {id}_files/{level}/{x}_{y}.{ext}    -> one tile; ext is jpg (the format the
//                                          descriptor states), jpeg, png or webp
// {id} may span several segments (a path under the image root); each is
// percent-decoded on its own.
//
// The DZI pyramid is fixed by the format, not by the file: level L =
// ceil(log2(max(W, H))) is the full resolution, and level k is
// ceil(W / 2^(L-k)) x ceil(H / 2^(L-k)), down to 1x1 at level 0. Every level
// is served, including those smaller than the smallest stored level (iipsrv
// serves the smallest stored level there instead, at the wrong size), by
// mapping each tile onto a region request. Tiles have no overlap.

#include <cstdint>
#include <string>
#include <string_view>

#include "image/image_info.hpp"
#include "protocol/query.hpp"
#include "protocol/tiling.hpp"

namespace tessera {

struct DeepZoomRequest {
  enum class Kind { Descriptor, Tile };
  Kind kind = Kind::Descriptor;
  std::string identifier;  // percent-decoded
  int level = 0;           // Tile only; not yet checked against the image
  uint32_t x = 0, y = 0;   // Tile only
  Format format = Format::Jpeg;
  bool operator==(const DeepZoomRequest&) const = default;
};

// Throws Error(400) with a one-line reason for a malformed path.
DeepZoomRequest parse_deepzoom(std::string_view path);

// L: the number of the full-resolution level (0 for a 1x1 image).
int deepzoom_max_level(uint32_t width, uint32_t height) noexcept;

// The size and scale of DeepZoom level `level` (0..L, clamped to that range)
// of a width x height image.
ProtocolLevel deepzoom_level(uint32_t width, uint32_t height, int level) noexcept;

// The descriptor, byte for byte as iipsrv writes it (with its CRLFs).
// `tile_size` is advertised_tile_width(info), as iipsrv states the image's
// own tile width; tile requests must use the same.
std::string describe_dzi(const ImageInfo& info, uint32_t tile_size,
                         std::string_view format = "jpg");

// The tile as an image request: RegionSpec::Pixels in full-resolution pixels
// and SizeSpec::WidthHeight with the tile's exact size. Throws Error(404) for
// a level above L or a tile outside its level's grid.
Query deepzoom_tile_query(const DeepZoomRequest& request, const ImageInfo& info,
                          uint32_t tile_size);

}  // namespace tessera
