#include "protocol/tiling.hpp"

#include <algorithm>
#include <cmath>

#include "common/error.hpp"
#include "protocol/percent.hpp"

namespace tessera {
namespace {

constexpr uint32_t kDefaultTile = 256;
constexpr int64_t kMaxCount = 999'999'999;

bool is_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// The full-resolution coordinate of level coordinate `v`; `end` snaps to the
// image's edge when it is the level's edge.
uint32_t to_full(uint32_t v, uint32_t level_size, uint32_t full_size, double scale) {
  if (v >= level_size) return full_size;
  const double scaled = std::round(double(v) * scale);
  return uint32_t(std::min(scaled, double(full_size)));
}

}  // namespace

uint32_t advertised_tile_width(const ImageInfo& info) noexcept {
  if (info.levels.empty() || info.levels.front().tile_width == 0) return kDefaultTile;
  return info.levels.front().tile_width;
}

uint32_t advertised_tile_height(const ImageInfo& info) noexcept {
  if (info.levels.empty() || info.levels.front().tile_height == 0) return kDefaultTile;
  return info.levels.front().tile_height;
}

Query level_rect_query(const ImageInfo& info, const ProtocolLevel& level, uint32_t x, uint32_t y,
                       uint32_t w, uint32_t h, std::string identifier, Format format) {
  if (info.width == 0 || info.height == 0 || w == 0 || h == 0 || x >= level.width ||
      y >= level.height || w > level.width - x || h > level.height - y) {
    throw Error(500, "tile rectangle outside its level");
  }
  uint32_t x0 = to_full(x, level.width, info.width, level.scale);
  uint32_t y0 = to_full(y, level.height, info.height, level.scale);
  const uint32_t x1 = to_full(x + w, level.width, info.width, level.scale);
  const uint32_t y1 = to_full(y + h, level.height, info.height, level.scale);
  // Rounding can put the start of a one-pixel edge tile on the image's edge.
  x0 = std::min(x0, info.width - 1);
  y0 = std::min(y0, info.height - 1);

  Query query;
  query.kind = QueryKind::Image;
  query.identifier = std::move(identifier);
  query.region = {RegionSpec::Kind::Pixels, double(x0), double(y0),
                  double(std::max(x1, x0 + 1) - x0), double(std::max(y1, y0 + 1) - y0)};
  query.size.kind = SizeSpec::Kind::WidthHeight;
  query.size.w = int(w);
  query.size.h = int(h);
  // The size is exact by construction; a level's rounding may make a tile a
  // pixel larger than its region scaled down, which is not an upscale request.
  query.size.upscale = true;
  query.format = format;
  return query;
}

std::vector<std::string_view> split_all(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  parts.reserve(std::size_t(std::count(s.begin(), s.end(), separator)) + 1);  // one allocation
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(separator, start);
    if (end == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, end - start));
    start = end + 1;
  }
}

int64_t parse_count(std::string_view s) noexcept {
  if (s.empty()) return -1;
  int64_t value = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
    if (value > kMaxCount) return -1;
  }
  return value;
}

std::string quote_value(std::string_view text) {
  std::string out(1, '\'');
  out += quote_for_reason(text);
  out.push_back('\'');
  return out;
}

void check_decoded_identifier(std::string_view id) {
  if (id.empty()) bad_request("missing identifier");
  if (id.find('\0') != std::string_view::npos) bad_request("identifier contains a NUL byte");
  // An identifier travels on into headers and logs, where CR/LF would split
  // lines; no file name needs control characters.
  for (const char c : id) {
    if ((c > 0 && c < 0x20) || c == 0x7F) {
      bad_request("identifier " + quote_value(id) + " contains a control character");
    }
  }
  // A client that encoded twice would reach a different file than it named.
  for (size_t i = 0; i + 2 < id.size(); ++i) {
    if (id[i] == '%' && is_hex(id[i + 1]) && is_hex(id[i + 2])) {
      bad_request("double-encoded identifier " + quote_value(id));
    }
  }
}

std::string decode_identifier(const std::vector<std::string_view>& segments) {
  if (segments.empty()) bad_request("missing identifier");
  std::string id;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (segments[i].empty()) bad_request("empty segment in identifier");
    if (i > 0) id.push_back('/');
    id += percent_decode(segments[i]);
  }
  check_decoded_identifier(id);
  return id;
}

}  // namespace tessera
