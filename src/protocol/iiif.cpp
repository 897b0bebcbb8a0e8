#include "protocol/iiif.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "common/error.hpp"
#include "protocol/percent.hpp"
#include "protocol/tiling.hpp"

namespace tessera {
namespace {

// Bounds that keep every number far from overflow in int, double and in the
// planner's arithmetic; no image is a billion pixels wide.
constexpr uint64_t kMaxInteger = 999'999'999;
constexpr size_t kMaxFloatChars = 32;

constexpr Quality kQualities[] = {Quality::Default, Quality::Color, Quality::Gray,
                                  Quality::Bitonal};
constexpr Format kFormats[] = {Format::Jpeg, Format::Png, Format::Webp, Format::Tiff,
                               Format::Gif,  Format::Jp2, Format::Pdf};

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

std::string in_quotes(std::string_view s) {
  // Appending, not "'" + string: GCC 12 -O3 warns falsely (-Wrestrict) on the latter.
  std::string out(1, '\'');
  out += quote_for_reason(s);
  out.push_back('\'');
  return out;
}

std::optional<int> parse_integer(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t value = 0;
  for (const char c : s) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + uint64_t(c - '0');
    if (value > kMaxInteger) return std::nullopt;
  }
  return int(value);
}

std::optional<double> parse_float(std::string_view s) {
  if (s.empty() || s.size() > kMaxFloatChars) return std::nullopt;
  bool seen_dot = false;
  bool seen_digit = false;
  uint64_t integer_part = 0;
  for (const char c : s) {
    if (c == '.') {
      if (seen_dot) return std::nullopt;
      seen_dot = true;
    } else if (is_digit(c)) {
      seen_digit = true;
      if (!seen_dot) {
        integer_part = integer_part * 10 + uint64_t(c - '0');
        if (integer_part > kMaxInteger) return std::nullopt;
      }
    } else {
      return std::nullopt;
    }
  }
  if (!seen_digit) return std::nullopt;
  // from_chars: locale-independent and correctly rounded, so "41.6" here
  // equals the literal 41.6 in C++.
  double value = 0;
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, value, std::chars_format::fixed);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

RegionSpec parse_region(std::string_view s) {
  RegionSpec region;
  if (s == "full") return region;
  if (s == "square") {
    region.kind = RegionSpec::Kind::Square;
    return region;
  }
  const bool percent = s.starts_with("pct:");
  const auto fields = split_all(percent ? s.substr(4) : s, ',');
  auto invalid = [&] {
    bad_request("invalid region " + in_quotes(s) +
                "; expected full, square, x,y,w,h or pct:x,y,w,h");
  };
  if (fields.size() != 4) invalid();
  double values[4];
  for (size_t i = 0; i < 4; ++i) {
    std::optional<double> v;
    if (percent)
      v = parse_float(fields[i]);
    else if (const auto n = parse_integer(fields[i]))
      v = *n;
    if (!v) invalid();
    values[i] = *v;
  }
  if (values[2] == 0 || values[3] == 0) bad_request("region " + in_quotes(s) + " has zero size");
  region.kind = percent ? RegionSpec::Kind::Percent : RegionSpec::Kind::Pixels;
  region.x = values[0];
  region.y = values[1];
  region.w = values[2];
  region.h = values[3];
  return region;
}

SizeSpec parse_size(std::string_view s, int version) {
  SizeSpec size;
  std::string_view rest = s;
  if (rest.starts_with('^')) {
    if (version < 3) bad_request("invalid size " + in_quotes(s) + "; '^' is IIIF 3 syntax");
    size.upscale = true;
    rest.remove_prefix(1);
  }
  auto invalid = [&] { bad_request("invalid size " + in_quotes(s)); };
  if (rest == "max") return size;  // ^max keeps upscale: "as large as the limits allow"
  if (rest == "full") {
    if (version >= 3) bad_request("invalid size " + in_quotes(s) + "; IIIF 3 uses 'max'");
    return size;
  }
  if (rest.starts_with("pct:")) {
    const auto n = parse_float(rest.substr(4));
    if (!n) invalid();
    if (*n <= 0) bad_request("size " + in_quotes(s) + " must be above 0 percent");
    if (version >= 3 && !size.upscale && *n > 100)
      bad_request("size " + in_quotes(s) + " above 100 percent needs '^'");
    size.kind = SizeSpec::Kind::Percent;
    size.percent = *n;
  } else {
    const bool best_fit = rest.starts_with('!');
    if (best_fit) rest.remove_prefix(1);
    const auto fields = split_all(rest, ',');
    if (fields.size() != 2) invalid();
    const bool has_w = !fields[0].empty();
    const bool has_h = !fields[1].empty();
    if (!has_w && !has_h) invalid();
    if (best_fit && !(has_w && has_h)) invalid();
    if (has_w) {
      const auto w = parse_integer(fields[0]);
      if (!w) invalid();
      size.w = *w;
    }
    if (has_h) {
      const auto h = parse_integer(fields[1]);
      if (!h) invalid();
      size.h = *h;
    }
    if ((has_w && size.w == 0) || (has_h && size.h == 0))
      bad_request("size " + in_quotes(s) + " has zero width or height");
    if (best_fit)
      size.kind = SizeSpec::Kind::BestFit;
    else if (has_w && has_h)
      size.kind = SizeSpec::Kind::WidthHeight;
    else
      size.kind = has_w ? SizeSpec::Kind::Width : SizeSpec::Kind::Height;
  }
  // 2.1 lets a server scale any explicit size above the region without a
  // marker; the Query says so in the protocol-independent flag.
  if (version < 3) size.upscale = true;
  return size;
}

RotationSpec parse_rotation(std::string_view s) {
  RotationSpec rotation;
  std::string_view rest = s;
  if (rest.starts_with('!')) {
    rotation.mirror = true;
    rest.remove_prefix(1);
  }
  const auto degrees = parse_float(rest);
  if (!degrees) bad_request("invalid rotation " + in_quotes(s));
  if (*degrees > 360) bad_request("rotation " + in_quotes(s) + " is above 360 degrees");
  rotation.degrees = *degrees;
  return rotation;
}

std::optional<Quality> find_quality(std::string_view name) {
  for (const Quality q : kQualities)
    if (name == quality_name(q)) return q;
  return std::nullopt;
}

void parse_quality_format(std::string_view s, Query& query) {
  const size_t dot = s.find('.');
  if (dot == std::string_view::npos) bad_request("missing format extension in " + in_quotes(s));
  const std::string_view quality = s.substr(0, dot);
  const std::string_view format = s.substr(dot + 1);
  if (quality.empty()) bad_request("missing quality in " + in_quotes(s));
  if (format.empty()) bad_request("missing format in " + in_quotes(s));
  const auto q = find_quality(quality);
  if (!q) bad_request("invalid quality " + in_quotes(quality));
  query.quality = *q;
  for (const Format f : kFormats) {
    if (format == format_extension(f)) {
      query.format = f;
      return;
    }
  }
  bad_request("invalid format " + in_quotes(format));
}

// The last segment of a short path that names a quality ("default.jpg",
// "gray") is an image request with parameters missing, not an identifier.
bool names_a_quality(std::string_view segment) {
  return find_quality(segment.substr(0, segment.find('.'))).has_value();
}

std::string decode_identifier(const std::vector<std::string_view>& segments, size_t count) {
  std::string id;
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) id.push_back('/');
    id += percent_decode(segments[i]);
  }
  check_decoded_identifier(id);
  return id;
}

}  // namespace

Query parse_iiif(std::string_view path, int version) {
  if (version != 2 && version != 3)
    throw Error(500, "unsupported IIIF version " + std::to_string(version));
  Query query;
  query.iiif_version = version;

  const std::string_view whole = path;
  const bool trailing_slash = path.ends_with('/');
  if (trailing_slash) path.remove_suffix(1);
  if (path.empty()) bad_request("missing identifier");
  const auto segments = split_all(path, '/');
  for (const auto segment : segments)
    if (segment.empty()) bad_request("empty segment in IIIF path " + in_quotes(whole));

  size_t id_segments = segments.size();
  std::vector<std::string> parameters;
  if (trailing_slash) {
    query.kind = QueryKind::BaseRedirect;
  } else if (const std::string last = percent_decode(segments.back()); last == "info.json") {
    query.kind = QueryKind::Info;
    id_segments -= 1;
  } else if (segments.size() >= 5) {
    query.kind = QueryKind::Image;
    id_segments -= 4;
    for (size_t i = id_segments; i < segments.size(); ++i)
      parameters.push_back(percent_decode(segments[i]));
  } else if (segments.size() >= 2 && names_a_quality(last)) {
    bad_request("incomplete image request " + in_quotes(whole) +
                "; expected {identifier}/{region}/{size}/{rotation}/{quality}.{format}");
  } else {
    query.kind = QueryKind::BaseRedirect;
  }
  if (id_segments == 0) bad_request("missing identifier");
  query.identifier = decode_identifier(segments, id_segments);

  if (query.kind == QueryKind::Image) {
    query.region = parse_region(parameters[0]);
    query.size = parse_size(parameters[1], version);
    query.rotation = parse_rotation(parameters[2]);
    parse_quality_format(parameters[3], query);
  }
  return query;
}

namespace {

using Json = nlohmann::ordered_json;

constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();

// The limits a client infers from what info.json states: maxHeight defaults
// to maxWidth (both versions), and maxWidth is stated whenever maxHeight is.
struct Limits {
  uint64_t stated_max_width = 0;  // 0: not stated
  uint64_t width = kUnlimited;
  uint64_t height = kUnlimited;
  uint64_t area = kUnlimited;

  bool allow(uint64_t w, uint64_t h) const noexcept {
    return w <= width && h <= height && w * h <= area;
  }
};

Limits limits_for(const ImageInfo& info, const IiifDescribeOptions& options) {
  Limits limits;
  if (options.max_width != 0) {
    limits.stated_max_width = options.max_width;
    limits.height = options.max_height != 0 ? options.max_height : options.max_width;
  } else if (options.max_height != 0) {
    limits.stated_max_width = info.width;
    limits.height = options.max_height;
  }
  if (limits.stated_max_width != 0) limits.width = limits.stated_max_width;
  if (options.max_area != 0) limits.area = options.max_area;
  return limits;
}

bool usable_scale(double scale) noexcept { return std::isfinite(scale) && scale >= 1.0; }

// The size of the full image at a level's scale, as a client computes it.
std::pair<uint64_t, uint64_t> scaled_size(const ImageInfo& info, double scale) {
  // The tolerance absorbs the rounding of non-integer scales (full/level),
  // whose quotient should land back on the level's integer size.
  auto scaled = [scale](uint32_t full) {
    const double v = std::ceil(double(full) / scale - 1e-6);
    return v < 1 ? uint64_t(1) : uint64_t(v);
  };
  return {scaled(info.width), scaled(info.height)};
}

Json sizes_json(const ImageInfo& info, const Limits& limits) {
  std::vector<std::pair<uint64_t, uint64_t>> sizes;
  for (const LevelInfo& level : info.levels) {
    if (!usable_scale(level.scale)) continue;
    const auto size = scaled_size(info, level.scale);
    if (limits.allow(size.first, size.second)) sizes.push_back(size);
  }
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  Json out = Json::array();
  for (const auto& [w, h] : sizes) out.push_back(Json{{"width", w}, {"height", h}});
  return out;
}

// One tile description, or null when the image is not tiled or its tiles
// would break the stated limits.
Json tiles_json(const ImageInfo& info, const Limits& limits) {
  if (info.levels.empty()) return nullptr;
  const LevelInfo& base = info.levels.front();
  if (base.tile_width == 0 || base.tile_height == 0) return nullptr;
  // A tile request returns at most the tile, and at most the image.
  if (!limits.allow(std::min(base.tile_width, info.width), std::min(base.tile_height, info.height)))
    return nullptr;
  std::vector<uint64_t> factors;
  for (const LevelInfo& level : info.levels) {
    const double s = level.scale;
    if (usable_scale(s) && s == std::floor(s) && s <= double(1u << 30))
      factors.push_back(uint64_t(s));
  }
  std::sort(factors.begin(), factors.end());
  factors.erase(std::unique(factors.begin(), factors.end()), factors.end());
  if (factors.empty()) return nullptr;
  return Json{{"width", base.tile_width}, {"height", base.tile_height}, {"scaleFactors", factors}};
}

void add_limits(Json& target, const IiifDescribeOptions& options, const Limits& limits) {
  if (limits.stated_max_width != 0) target["maxWidth"] = limits.stated_max_width;
  if (options.max_height != 0) target["maxHeight"] = options.max_height;
  if (options.max_area != 0) target["maxArea"] = options.max_area;
}

void add_list(Json& target, const char* key, const std::vector<std::string>& values) {
  if (!values.empty()) target[key] = values;
}

Json describe_v3(const ImageInfo& info, const IiifDescribeOptions& options, const Limits& limits) {
  Json j;
  j["@context"] = "http://iiif.io/api/image/3/context.json";
  j["id"] = options.id;
  j["type"] = "ImageService3";
  j["protocol"] = "http://iiif.io/api/image";
  j["profile"] = fmt::format("level{}", options.compliance_level);
  j["width"] = info.width;
  j["height"] = info.height;
  add_limits(j, options, limits);
  if (Json sizes = sizes_json(info, limits); !sizes.empty()) j["sizes"] = std::move(sizes);
  if (Json tile = tiles_json(info, limits); !tile.is_null()) j["tiles"] = Json::array({tile});
  add_list(j, "extraFormats", options.extra_formats);
  add_list(j, "extraQualities", options.extra_qualities);
  add_list(j, "preferredFormats", options.preferred_formats);
  add_list(j, "extraFeatures", options.extra_features);
  if (!options.rights.empty()) j["rights"] = options.rights;
  return j;
}

Json describe_v2(const ImageInfo& info, const IiifDescribeOptions& options, const Limits& limits) {
  Json j;
  j["@context"] = "http://iiif.io/api/image/2/context.json";
  j["@id"] = options.id;
  j["protocol"] = "http://iiif.io/api/image";
  j["width"] = info.width;
  j["height"] = info.height;
  if (Json sizes = sizes_json(info, limits); !sizes.empty()) j["sizes"] = std::move(sizes);
  if (Json tile = tiles_json(info, limits); !tile.is_null()) j["tiles"] = Json::array({tile});
  // 2.1 puts limits and extras in a profile object after the level URI, and
  // asks that the object's lists be omitted rather than empty.
  Json extras = Json::object();
  add_list(extras, "formats", options.extra_formats);
  add_list(extras, "qualities", options.extra_qualities);
  add_list(extras, "supports", options.extra_features);
  add_limits(extras, options, limits);
  Json profile = Json::array({iiif_profile_uri(2, options.compliance_level)});
  if (!extras.empty()) profile.push_back(std::move(extras));
  j["profile"] = std::move(profile);
  if (!options.rights.empty()) j["license"] = options.rights;
  if (!options.attribution.empty()) j["attribution"] = options.attribution;
  return j;
}

}  // namespace

std::string describe_iiif(const ImageInfo& info, const IiifDescribeOptions& options) {
  if (options.version != 2 && options.version != 3)
    throw Error(500, "unsupported IIIF version " + std::to_string(options.version));
  const Limits limits = limits_for(info, options);
  const Json j = options.version == 3 ? describe_v3(info, options, limits)
                                      : describe_v2(info, options, limits);
  // Identifiers are bytes, not necessarily UTF-8: replace rather than throw.
  return j.dump(2, ' ', false, Json::error_handler_t::replace);
}

std::string iiif_profile_uri(int version, int compliance_level) {
  return version == 3 ? fmt::format("http://iiif.io/api/image/3/level{}.json", compliance_level)
                      : fmt::format("http://iiif.io/api/image/2/level{}.json", compliance_level);
}

namespace {

// Degrees as the canonical form writes them: an integer when it is one,
// otherwise the shortest decimal, never with trailing zeros.
std::string canonical_degrees(double degrees) {
  if (degrees == std::floor(degrees)) return fmt::format("{}", int64_t(degrees));
  std::string text = fmt::format("{:.6f}", degrees);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

}  // namespace

std::string canonical_iiif_parameters(const Query& query, const IiifResolved& r) {
  const bool full_region = r.region_x == 0 && r.region_y == 0 && r.region_width == r.image_width &&
                           r.region_height == r.image_height;
  const std::string region = full_region ? "full"
                                         : fmt::format("{},{},{},{}", r.region_x, r.region_y,
                                                       r.region_width, r.region_height);
  const bool unscaled = r.out_width == r.region_width && r.out_height == r.region_height;
  const bool upscaled =
      uint64_t(r.out_width) * r.out_height > uint64_t(r.region_width) * r.region_height;
  std::string size;
  if (query.iiif_version >= 3) {
    // "max" for the region at full size; otherwise "w,h", with "^" if larger.
    size =
        unscaled ? "max" : fmt::format("{}{},{}", upscaled ? "^" : "", r.out_width, r.out_height);
  } else {
    // 2.1: "full", "w," when the aspect ratio is kept, else "w,h".
    const bool keeps_aspect =
        r.out_height ==
        uint32_t(std::lround(double(r.out_width) * r.region_height / r.region_width));
    size = unscaled       ? "full"
           : keeps_aspect ? fmt::format("{},", r.out_width)
                          : fmt::format("{},{}", r.out_width, r.out_height);
  }
  const std::string rotation =
      (query.rotation.mirror ? "!" : "") + canonical_degrees(query.rotation.degrees);
  // "color" names the default quality of a colour image; both say default.
  const Quality quality = query.quality == Quality::Color ? Quality::Default : query.quality;
  return fmt::format("{}/{}/{}/{}.{}", region, size, rotation, quality_name(quality),
                     format_extension(query.format));
}

}  // namespace tessera
