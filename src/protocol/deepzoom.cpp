#include "protocol/deepzoom.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "common/error.hpp"
#include "protocol/percent.hpp"

namespace tessera {
namespace {

constexpr std::string_view kDescriptorSuffix = ".dzi";
constexpr std::string_view kFilesSuffix = "_files";

Format tile_format(std::string_view extension, std::string_view segment) {
  if (extension == "jpg" || extension == "jpeg") return Format::Jpeg;
  if (extension == "png") return Format::Png;
  if (extension == "webp") return Format::Webp;
  bad_request("invalid DeepZoom tile " + quote_value(segment) + "; expected {x}_{y}.jpg");
}

}  // namespace

DeepZoomRequest parse_deepzoom(std::string_view path) {
  if (path.empty()) bad_request("missing DeepZoom image identifier");
  const auto segments = split_all(path, '/');
  DeepZoomRequest request;

  const std::string_view last = segments.back();
  if (last.ends_with(kDescriptorSuffix)) {
    std::vector<std::string_view> id(segments.begin(), segments.end());
    id.back().remove_suffix(kDescriptorSuffix.size());
    request.kind = DeepZoomRequest::Kind::Descriptor;
    request.identifier = decode_identifier(id);
    return request;
  }

  const auto invalid = [&] {
    bad_request("invalid DeepZoom path " + quote_value(path) +
                "; expected {id}.dzi or {id}_files/{level}/{x}_{y}.jpg");
  };
  if (segments.size() < 3 || !segments[segments.size() - 3].ends_with(kFilesSuffix)) invalid();

  const std::string level_text = percent_decode(segments[segments.size() - 2]);
  const std::string tile_text = percent_decode(last);
  const size_t dot = tile_text.rfind('.');
  const size_t underscore = tile_text.find('_');
  if (dot == std::string::npos || underscore == std::string::npos || underscore > dot) invalid();
  const int64_t level = parse_count(level_text);
  if (level < 0) bad_request("invalid DeepZoom level " + quote_value(level_text));
  const int64_t x = parse_count(std::string_view(tile_text).substr(0, underscore));
  const int64_t y =
      parse_count(std::string_view(tile_text).substr(underscore + 1, dot - underscore - 1));
  if (x < 0 || y < 0) {
    bad_request("invalid DeepZoom tile " + quote_value(tile_text) + "; expected {x}_{y}.jpg");
  }
  request.format = tile_format(std::string_view(tile_text).substr(dot + 1), tile_text);

  std::vector<std::string_view> id(segments.begin(), segments.end() - 2);
  id.back().remove_suffix(kFilesSuffix.size());
  request.kind = DeepZoomRequest::Kind::Tile;
  request.identifier = decode_identifier(id);
  request.level = int(level);
  request.x = uint32_t(x);
  request.y = uint32_t(y);
  return request;
}

int deepzoom_max_level(uint32_t width, uint32_t height) noexcept {
  const uint64_t longest = std::max<uint64_t>({width, height, 1});
  int level = 0;
  while ((uint64_t(1) << level) < longest) ++level;
  return level;
}

ProtocolLevel deepzoom_level(uint32_t width, uint32_t height, int level) noexcept {
  const int max_level = deepzoom_max_level(width, height);
  const int shift = max_level - std::clamp(level, 0, max_level);
  const auto reduce = [shift](uint32_t full) {
    return uint32_t(std::max<uint64_t>(1, (uint64_t(full) + (uint64_t(1) << shift) - 1) >> shift));
  };
  return {reduce(width), reduce(height), double(uint64_t(1) << shift)};
}

std::string describe_dzi(const ImageInfo& info, uint32_t tile_size, std::string_view format) {
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
      "<Image xmlns=\"http://schemas.microsoft.com/deepzoom/2008\"\r\n"
      "TileSize=\"{}\" Overlap=\"0\" Format=\"{}\"><Size Width=\"{}\" Height=\"{}\"/></Image>",
      tile_size, format, info.width, info.height);
}

Query deepzoom_tile_query(const DeepZoomRequest& request, const ImageInfo& info,
                          uint32_t tile_size) {
  if (tile_size == 0) throw Error(500, "DeepZoom tile size is zero");
  const int max_level = deepzoom_max_level(info.width, info.height);
  if (request.level < 0 || request.level > max_level) {
    not_found(fmt::format("DeepZoom level {} does not exist; this image has levels 0 to {}",
                          request.level, max_level));
  }
  const ProtocolLevel level = deepzoom_level(info.width, info.height, request.level);
  const uint32_t across = (level.width + tile_size - 1) / tile_size;
  const uint32_t down = (level.height + tile_size - 1) / tile_size;
  if (request.x >= across || request.y >= down) {
    not_found(fmt::format("DeepZoom tile {}_{} does not exist; level {} has {}x{} tiles", request.x,
                          request.y, request.level, across, down));
  }
  const uint32_t x = request.x * tile_size;
  const uint32_t y = request.y * tile_size;
  return level_rect_query(info, level, x, y, std::min(tile_size, level.width - x),
                          std::min(tile_size, level.height - y), request.identifier,
                          request.format);
}

}  // namespace tessera
