#include "protocol/zoomify.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/error.hpp"
#include "protocol/percent.hpp"

namespace tessera {
namespace {

constexpr std::string_view kProperties = "ImageProperties.xml";
constexpr std::string_view kTileGroup = "TileGroup";
constexpr uint64_t kTilesPerGroup = 256;

Format tile_format(std::string_view extension, std::string_view segment) {
  if (extension == "jpg" || extension == "jpeg") return Format::Jpeg;
  if (extension == "png") return Format::Png;
  bad_request("invalid Zoomify tile " + quote_value(segment) + "; expected {tier}-{x}-{y}.jpg");
}

}  // namespace

ZoomifyRequest parse_zoomify(std::string_view path) {
  if (path.empty()) bad_request("missing Zoomify image identifier");
  const auto segments = split_all(path, '/');
  ZoomifyRequest request;
  const auto invalid = [&] {
    bad_request("invalid Zoomify path " + quote_value(path) +
                "; expected {id}/ImageProperties.xml or {id}/TileGroup{g}/{tier}-{x}-{y}.jpg");
  };

  if (segments.back() == kProperties) {
    if (segments.size() < 2) invalid();
    request.kind = ZoomifyRequest::Kind::Properties;
    request.identifier =
        decode_identifier(std::vector<std::string_view>(segments.begin(), segments.end() - 1));
    return request;
  }

  if (segments.size() < 3) invalid();
  const std::string group_text = percent_decode(segments[segments.size() - 2]);
  if (!std::string_view(group_text).starts_with(kTileGroup)) invalid();
  const int64_t group = parse_count(std::string_view(group_text).substr(kTileGroup.size()));
  if (group < 0) bad_request("invalid Zoomify tile group " + quote_value(group_text));

  const std::string tile_text = percent_decode(segments.back());
  const size_t dot = tile_text.rfind('.');
  if (dot == std::string::npos) invalid();
  const auto fields = split_all(std::string_view(tile_text).substr(0, dot), '-');
  if (fields.size() != 3) {
    bad_request("invalid Zoomify tile " + quote_value(tile_text) + "; expected {tier}-{x}-{y}.jpg");
  }
  const int64_t tier = parse_count(fields[0]);
  const int64_t x = parse_count(fields[1]);
  const int64_t y = parse_count(fields[2]);
  if (tier < 0 || x < 0 || y < 0) {
    bad_request("invalid Zoomify tile " + quote_value(tile_text) + "; expected {tier}-{x}-{y}.jpg");
  }
  request.format = tile_format(std::string_view(tile_text).substr(dot + 1), tile_text);
  request.kind = ZoomifyRequest::Kind::Tile;
  request.identifier =
      decode_identifier(std::vector<std::string_view>(segments.begin(), segments.end() - 2));
  request.tile_group = uint32_t(group);
  request.tier = int(tier);
  request.x = uint32_t(x);
  request.y = uint32_t(y);
  return request;
}

std::vector<ZoomifyTier> zoomify_tiers(uint32_t width, uint32_t height, uint32_t tile_size) {
  if (tile_size == 0) throw Error(500, "Zoomify tile size is zero");
  std::vector<ZoomifyTier> tiers;
  ProtocolLevel level{std::max(width, 1u), std::max(height, 1u), 1.0};
  for (;;) {
    tiers.push_back({level, (level.width + tile_size - 1) / tile_size,
                     (level.height + tile_size - 1) / tile_size, 0});
    if (level.width <= tile_size && level.height <= tile_size) break;
    level.width = std::max(level.width / 2, 1u);
    level.height = std::max(level.height / 2, 1u);
    level.scale *= 2;
  }
  std::reverse(tiers.begin(), tiers.end());
  uint64_t first = 0;
  for (ZoomifyTier& tier : tiers) {
    tier.first_tile = first;
    first += uint64_t(tier.tiles_across) * tier.tiles_down;
  }
  return tiers;
}

uint64_t zoomify_tile_count(const std::vector<ZoomifyTier>& tiers) noexcept {
  if (tiers.empty()) return 0;
  const ZoomifyTier& last = tiers.back();
  return last.first_tile + uint64_t(last.tiles_across) * last.tiles_down;
}

uint64_t zoomify_tile_group(const std::vector<ZoomifyTier>& tiers, int tier, uint32_t x,
                            uint32_t y) noexcept {
  const ZoomifyTier& t = tiers[size_t(tier)];
  return (t.first_tile + uint64_t(y) * t.tiles_across + x) / kTilesPerGroup;
}

std::string describe_zoomify(const ImageInfo& info, uint32_t tile_size) {
  const auto tiers = zoomify_tiers(info.width, info.height, tile_size);
  return fmt::format(
      "<IMAGE_PROPERTIES WIDTH=\"{}\" HEIGHT=\"{}\" NUMTILES=\"{}\" NUMIMAGES=\"1\" "
      "VERSION=\"1.8\" TILESIZE=\"{}\" />",
      info.width, info.height, zoomify_tile_count(tiers), tile_size);
}

Query zoomify_tile_query(const ZoomifyRequest& request, const ImageInfo& info, uint32_t tile_size) {
  const auto tiers = zoomify_tiers(info.width, info.height, tile_size);
  if (request.tier < 0 || size_t(request.tier) >= tiers.size()) {
    not_found(fmt::format("Zoomify tier {} does not exist; this image has tiers 0 to {}",
                          request.tier, tiers.size() - 1));
  }
  const ZoomifyTier& tier = tiers[size_t(request.tier)];
  // OpenSeadragon counts a tier's tiles from its exact size (1537 / 2 =
  // 768.5 rows: 4 tiles of 256) where tiers are whole pixels (768: 3 tiles),
  // so it may ask for one more column or row. That sliver is the image's
  // last full-resolution column or row (the tile before it already runs to
  // the edge): served 1 pixel wide or high rather than refused.
  const auto exact_tiles = [&](uint32_t full) {
    return uint32_t(std::ceil(double(full) / tier.level.scale / tile_size));
  };
  const uint32_t across = std::max(tier.tiles_across, exact_tiles(info.width));
  const uint32_t down = std::max(tier.tiles_down, exact_tiles(info.height));
  if (request.x >= across || request.y >= down) {
    not_found(fmt::format("Zoomify tile {}-{}-{} does not exist; tier {} has {}x{} tiles",
                          request.tier, request.x, request.y, request.tier, tier.tiles_across,
                          tier.tiles_down));
  }
  const bool sliver_x = request.x >= tier.tiles_across, sliver_y = request.y >= tier.tiles_down;
  const uint32_t x = std::min(request.x, tier.tiles_across - 1) * tile_size;
  const uint32_t y = std::min(request.y, tier.tiles_down - 1) * tile_size;
  Query query = level_rect_query(info, tier.level, x, y, std::min(tile_size, tier.level.width - x),
                                 std::min(tile_size, tier.level.height - y), request.identifier,
                                 request.format);
  if (sliver_x) {
    query.region.x = info.width - 1, query.region.w = 1;
    query.size.w = 1;
  }
  if (sliver_y) {
    query.region.y = info.height - 1, query.region.h = 1;
    query.size.h = 1;
  }
  return query;
}

}  // namespace tessera
