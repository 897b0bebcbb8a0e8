#pragma once
// What the tile protocols (IIP, DeepZoom, Zoomify) share: turning a tile of
// a protocol's own resolution level into an ordinary region request, and
// decoding the identifiers their paths carry.
//
// A protocol level need not be a stored pyramid level: DeepZoom goes down to
// 1x1 and IIP adds virtual levels below the smallest stored one. Mapping
// every tile onto full-resolution pixels (RegionSpec::Pixels) with the exact
// output size (SizeSpec::WidthHeight) lets the planner serve any of them,
// reading a single stored tile when the protocol's grid matches the file's.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "image/image_info.hpp"
#include "protocol/query.hpp"

namespace tessera {

// The tile size the tile protocols advertise: the full-resolution level's
// tile width and height, or 256 where the image states none.
uint32_t advertised_tile_width(const ImageInfo& info) noexcept;
uint32_t advertised_tile_height(const ImageInfo& info) noexcept;

// One resolution level as a protocol sees it: its size in pixels and how
// many full-resolution pixels one of its pixels spans.
struct ProtocolLevel {
  uint32_t width = 0;
  uint32_t height = 0;
  double scale = 1.0;
  bool operator==(const ProtocolLevel&) const = default;
};

// The image request for the rectangle (x, y, w, h) of `level`, which must lie
// inside the level. The rectangle is scaled to full-resolution pixels; where
// it reaches the level's right or bottom edge it runs to the image's edge, so
// the rounding of level sizes never leaves a sliver of the image unserved.
// The output size is exactly w x h. `identifier` and `format` are copied in.
Query level_rect_query(const ImageInfo& info, const ProtocolLevel& level, uint32_t x, uint32_t y,
                       uint32_t w, uint32_t h, std::string identifier, Format format);

// The identifier spelled by `segments` (raw URL path segments), each
// percent-decoded on its own and joined with '/'. Throws Error(400) for an
// empty identifier or segment, a malformed escape, NUL or other control
// bytes, or "%XX" left after decoding (double encoding). Whether the path
// stays inside the image root is the resolver's business.
std::string decode_identifier(const std::vector<std::string_view>& segments);

// Checks an identifier that is already decoded (IIP's FIF) the same way.
void check_decoded_identifier(std::string_view identifier);

// Splits at every `separator`; empty parts are kept.
std::vector<std::string_view> split_all(std::string_view s, char separator);

// A non-negative decimal integer of ASCII digits, at most 999999999; -1 for
// anything else (sign, spaces, hex, empty, too large).
int64_t parse_count(std::string_view s) noexcept;

// `text` quoted for a one-line error reason.
std::string quote_value(std::string_view text);

}  // namespace tessera
