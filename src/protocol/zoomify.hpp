#pragma once
// Zoomify: ImageProperties.xml, the tile URLs, and their arithmetic.
//
// Paths, after the router's "/zoomify/" prefix:
//   {id}/ImageProperties.xml
//   {id}/TileGroup{g}/{tier}-{x}-{y}.{ext}     ext: jpg (also jpeg, png)
// {id} may span several segments; each is percent-decoded on its own.
//
// Tiers are Zoomify's: starting from the full resolution, each next tier is
// floor(w/2) x floor(h/2) (never below one pixel), until a tier fits in one
// tile. Tier 0 is that smallest tier. Tiles are numbered across tiers from
// tier 0, row by row within a tier, and the tile numbered n lies in TileGroup
// n / 256. NUMTILES is the number of tiles of all tiers (iipsrv states the
// full-resolution tier's only).
//
// The TileGroup number in a tile URL is parsed but not checked: viewers
// differ in how they round tier sizes (OpenLayers' default rounds up), the
// tier and tile coordinates alone name the tile, and iipsrv ignores it too.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "image/image_info.hpp"
#include "protocol/query.hpp"
#include "protocol/tiling.hpp"

namespace tessera {

struct ZoomifyRequest {
  enum class Kind { Properties, Tile };
  Kind kind = Kind::Properties;
  std::string identifier;  // percent-decoded
  uint32_t tile_group = 0;
  int tier = 0;  // Tile only; not yet checked against the image
  uint32_t x = 0, y = 0;
  Format format = Format::Jpeg;
  bool operator==(const ZoomifyRequest&) const = default;
};

// Throws Error(400) with a one-line reason for a malformed path.
ZoomifyRequest parse_zoomify(std::string_view path);

struct ZoomifyTier {
  ProtocolLevel level;
  uint32_t tiles_across = 0;
  uint32_t tiles_down = 0;
  uint64_t first_tile = 0;  // the number of its tile 0,0 across all tiers
  bool operator==(const ZoomifyTier&) const = default;
};

// The tiers of a width x height image, tier 0 (the smallest) first.
std::vector<ZoomifyTier> zoomify_tiers(uint32_t width, uint32_t height, uint32_t tile_size);

// The number of tiles of all tiers.
uint64_t zoomify_tile_count(const std::vector<ZoomifyTier>& tiers) noexcept;

// The TileGroup that holds tile x,y of `tier` (which must exist).
uint64_t zoomify_tile_group(const std::vector<ZoomifyTier>& tiers, int tier, uint32_t x,
                            uint32_t y) noexcept;

// ImageProperties.xml, in iipsrv's layout, with NUMTILES over all tiers.
// `tile_size` is advertised_tile_width(info), as for DeepZoom.
std::string describe_zoomify(const ImageInfo& info, uint32_t tile_size);

// The tile as an image request (full-resolution pixels, exact output size).
// Throws Error(404) for a tier or tile that does not exist.
Query zoomify_tile_query(const ZoomifyRequest& request, const ImageInfo& info, uint32_t tile_size);

}  // namespace tessera
