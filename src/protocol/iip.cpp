#include "protocol/iip.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "protocol/percent.hpp"

namespace tessera {
namespace {

constexpr size_t kMaxNumberChars = 32;
constexpr uint32_t kMaxSize = 999'999'999;
// Replies grow with the objects asked for (Metadata repeats every field), so
// a request may not ask for more than a client ever needs.
constexpr size_t kMaxObjects = 64;

// The commands that change pixels which Tessera does not do yet.
constexpr std::array<std::string_view, 2> kUnimplementedCommands = {"CNV", "ICC"};

// OBJ names that describe the image, and so need one.
constexpr std::array<std::string_view, 13> kImageObjects = {
    "basic-info",  "max-size",     "resolution-number",    "tile-size", "bits-per-channel",
    "resolutions", "dpi",          "vertical-views",       "stack",     "horizontal-views",
    "metadata",    "summary-info", "min-max-sample-values"};

// Metadata fields, iipsrv's names first and the IIP 1.0.5 names iipsrv 1.1
// used as aliases of the same values.
constexpr std::array<std::pair<std::string_view, std::string_view>, 22> kMetadataFields = {{
    {"rights", "rights"},
    {"title", "title"},
    {"description", "description"},
    {"creator", "creator"},
    {"keywords", "keywords"},
    {"comment", "comment"},
    {"last-author", "last-author"},
    {"rev-number", "rev-number"},
    {"edit-time", "edit-time"},
    {"last-printed", "last-printed"},
    {"date", "date"},
    {"last-save-dtm", "last-save-dtm"},
    {"software", "software"},
    {"make", "make"},
    {"model", "model"},
    {"xmp", "xmp"},
    {"scale", "scale"},
    {"copyright", "rights"},
    {"subject", "description"},
    {"author", "creator"},
    {"create-dtm", "date"},
    {"app-name", "software"},
}};

constexpr std::array<std::string_view, 5> kSummaryFields = {"rights", "description", "creator",
                                                            "date", "software"};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::string_view> metadata_key(std::string_view name) {
  for (const auto& [field, key] : kMetadataFields)
    if (name == field) return key;
  return std::nullopt;
}

bool is_known_object(std::string_view name) {
  if (name.starts_with("iip,") || name == "iip-server" || name == "iip-opt-comm" ||
      name == "iip-opt-obj" || name.find("colorspace") != std::string_view::npos) {
    return true;
  }
  return std::find(kImageObjects.begin(), kImageObjects.end(), name) != kImageObjects.end() ||
         metadata_key(name).has_value();
}

bool needs_image(std::string_view name) {
  return !(name.starts_with("iip,") || name == "iip-server" || name == "iip-opt-comm" ||
           name == "iip-opt-obj");
}

// --- values ------------------------------------------------------------------

[[noreturn]] void invalid(std::string_view command, std::string_view value, std::string_view hint) {
  bad_request(fmt::format("invalid {} value {}; expected {}", command, quote_value(value), hint));
}

uint32_t parse_index(std::string_view command, std::string_view value, std::string_view field,
                     std::string_view hint) {
  const int64_t n = parse_count(field);
  if (n < 0) invalid(command, value, hint);
  return uint32_t(n);
}

// A decimal number as JavaScript and C print them ("0.25", "1e-7", "-90").
std::optional<double> parse_number(std::string_view s) {
  if (s.empty() || s.size() > kMaxNumberChars) return std::nullopt;
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) {
      return std::nullopt;
    }
  }
  if (s.front() == '+') s.remove_prefix(1);
  double value = 0;
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, value, std::chars_format::general);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) return std::nullopt;
  return value == 0 ? 0.0 : value;  // no negative zero
}

Format parse_cvt_format(std::string_view value) {
  const std::string v = lower(value);
  if (v == "jpeg" || v == "jpg") return Format::Jpeg;
  if (v == "png") return Format::Png;
  if (v == "webp") return Format::Webp;
  if (v == "tiff" || v == "tif") return Format::Tiff;
  invalid("CVT", value, "jpeg, png, webp or tiff");
}

IipRegion parse_region(std::string_view value) {
  const auto fields = split_all(value, ',');
  if (fields.size() != 4) invalid("RGN", value, "x,y,w,h as fractions of the image");
  double v[4];
  for (size_t i = 0; i < 4; ++i) {
    const auto n = parse_number(fields[i]);
    // A region starting left of or above the image starts at its edge, as
    // iipsrv has it (a viewer's view may begin outside the image).
    if (!n || (i >= 2 && *n < 0)) invalid("RGN", value, "x,y,w,h as fractions of the image");
    v[i] = std::max(*n, 0.0);
  }
  if (v[2] == 0 || v[3] == 0)
    bad_request("RGN " + quote_value(value) + " has zero width or height");
  return {v[0], v[1], v[2], v[3]};
}

RotationSpec parse_rotation(std::string_view value) {
  RotationSpec rotation;
  std::string_view rest = value;
  if (rest.starts_with('!')) {
    rotation.mirror = true;
    rest.remove_prefix(1);
  }
  const auto degrees = parse_number(rest);
  if (!degrees) invalid("ROT", value, "degrees, optionally after '!' to mirror");
  // Any angle for CVT (iipsrv 1.1 ignores all but multiples of 90); tiles
  // check for multiples of 90 themselves.
  double d = std::fmod(*degrees, 360.0);
  if (d < 0) d += 360;
  rotation.degrees = d == 0 ? 0.0 : d;
  return rotation;
}

// WID and HEI; 0 is "not given", as iipsrv reads it.
uint32_t parse_size(std::string_view command, std::string_view value) {
  const int64_t n = parse_count(value);
  if (n < 0) invalid(command, value, "a width or height in pixels");
  return uint32_t(n);
}

// Tiles turn with the view by quarter turns only.
void check_tile_rotation(const IipRequest& request) {
  if (std::fmod(request.rotation.degrees, 90.0) != 0) {
    bad_request(fmt::format("ROT {} turns tiles by other than a multiple of 90 degrees",
                            request.rotation.degrees));
  }
}

// --- the request -------------------------------------------------------------

struct Token {
  std::string name;  // upper-cased
  std::string raw_name;
  std::string value;  // decoded
  std::string raw_value;
};

std::vector<Token> tokenize(std::string_view query) {
  std::vector<Token> tokens;
  for (const std::string_view part : split_all(query, '&')) {
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    const std::string_view name = part.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    if (name.empty()) continue;
    if (eq != std::string_view::npos && value.empty()) continue;
    Token t;
    t.raw_name = std::string(name);
    t.name = upper(percent_decode_query(name));
    t.raw_value = std::string(value);
    t.value = percent_decode_query(value);
    tokens.push_back(std::move(t));
  }
  return tokens;
}

void set_action(IipRequest& request, const Token& token) {
  const std::string& v = token.value;
  const std::string_view hint = "resolution,tile";
  request.command = token.name;
  if (token.name == "JTL" || token.name == "PTL" || token.name == "WTL") {
    const auto fields = split_all(v, ',');
    if (fields.size() != 2) invalid(token.name, v, hint);
    request.action = IipRequest::Action::Tile;
    request.format = token.name == "JTL"   ? Format::Jpeg
                     : token.name == "PTL" ? Format::Png
                                           : Format::Webp;
    request.resolution = int(parse_index(token.name, v, fields[0], hint));
    request.tile = parse_index(token.name, v, fields[1], hint);
  } else if (token.name == "JTLS") {
    // The legacy form of SDS and JTL together: view_x,resolution,tile,view_y.
    const std::string_view jtls_hint = "x-angle,resolution,tile,y-angle";
    const auto fields = split_all(v, ',');
    if (fields.size() != 4) invalid(token.name, v, jtls_hint);
    request.action = IipRequest::Action::Tile;
    request.format = Format::Jpeg;
    request.view_x = int(parse_index(token.name, v, fields[0], jtls_hint));
    request.resolution = int(parse_index(token.name, v, fields[1], jtls_hint));
    request.tile = parse_index(token.name, v, fields[2], jtls_hint);
    request.view_y = int(parse_index(token.name, v, fields[3], jtls_hint));
  } else if (token.name == "TIL") {
    const std::string_view til_hint = "resolution,first-last";
    const size_t comma = v.find(',');
    if (comma == std::string::npos) invalid(token.name, v, til_hint);
    const std::string_view range = std::string_view(v).substr(comma + 1);
    const size_t dash = range.find('-');
    request.action = IipRequest::Action::Tiles;
    request.format = Format::Jpeg;
    request.resolution =
        int(parse_index(token.name, v, std::string_view(v).substr(0, comma), til_hint));
    request.tile = parse_index(token.name, v, range.substr(0, dash), til_hint);
    request.last_tile = dash == std::string_view::npos
                            ? request.tile
                            : parse_index(token.name, v, range.substr(dash + 1), til_hint);
    request.last_tile = std::max(request.last_tile, request.tile);
  } else if (token.name == "CVT") {
    request.action = IipRequest::Action::Convert;
    request.format = parse_cvt_format(v);
  } else if (token.name == "SPECTRA") {
    constexpr std::string_view hint = "resolution,tile,x,y";
    const auto fields = split_all(v, ',');
    if (fields.size() != 4) invalid(token.name, v, hint);
    request.action = IipRequest::Action::Spectra;
    request.resolution = int(parse_index(token.name, v, fields[0], hint));
    request.tile = parse_index(token.name, v, fields[1], hint);
    request.line_x1 = parse_index(token.name, v, fields[2], hint);
    request.line_y1 = parse_index(token.name, v, fields[3], hint);
  } else if (token.name == "PFL") {
    // r:x1,y1-x2,y2
    constexpr std::string_view hint = "resolution:x1,y1-x2,y2";
    const std::size_t colon = v.find(':'), dash = v.find('-');
    if (colon == std::string::npos || dash == std::string::npos || dash < colon) {
      invalid(token.name, v, hint);
    }
    const std::string_view value(v);
    const auto from = split_all(value.substr(colon + 1, dash - colon - 1), ',');
    const auto to = split_all(value.substr(dash + 1), ',');
    if (from.size() != 2 || to.size() != 2) invalid(token.name, v, hint);
    request.action = IipRequest::Action::Profile;
    request.resolution = int(parse_index(token.name, v, value.substr(0, colon), hint));
    request.line_x1 = parse_index(token.name, v, from[0], hint);
    request.line_y1 = parse_index(token.name, v, from[1], hint);
    request.line_x2 = parse_index(token.name, v, to[0], hint);
    request.line_y2 = parse_index(token.name, v, to[1], hint);
  } else {
    request.action = token.name == "DEEPZOOM"  ? IipRequest::Action::DeepZoom
                     : token.name == "ZOOMIFY" ? IipRequest::Action::Zoomify
                                               : IipRequest::Action::Iiif;
    if (v.empty()) invalid(token.name, v, "an image path");
    request.path = token.raw_value;
  }
}

// --- image processing -----------------------------------------------------------

// CNT=c: a factor of 0 or more ("eq", iipsrv's histogram equalisation, is
// not done).
void parse_contrast(IipRequest& request, const std::string& v) {
  if (lower(v) == "eq") return request.unimplemented.push_back("CNT=eq");
  const auto n = parse_number(v);
  if (!n || *n < 0) invalid("CNT", v, "a contrast factor of 0 or more");
  request.adjust.contrast = *n;
}

// GAM=g: an exponent above 0 ("log" is not done).
void parse_gamma(IipRequest& request, const std::string& v) {
  if (lower(v) == "log") return request.unimplemented.push_back("GAM=log");
  const auto n = parse_number(v);
  if (!n || *n <= 0) invalid("GAM", v, "a gamma above 0");
  request.adjust.gamma = *n;
}

// MINMAX=band:min,max, the band counted from 1.
void parse_minmax(IipRequest& request, const std::string& v) {
  constexpr std::string_view hint = "band:min,max with the band counted from 1 and min < max";
  const std::size_t colon = v.find(':');
  if (colon == std::string::npos) invalid("MINMAX", v, hint);
  const int64_t band = parse_count(std::string_view(v).substr(0, colon));
  const auto fields = split_all(std::string_view(v).substr(colon + 1), ',');
  if (band < 1 || band > 65535 || fields.size() != 2) invalid("MINMAX", v, hint);
  const auto lo = parse_number(fields[0]), hi = parse_number(fields[1]);
  if (!lo || !hi || !(*lo < *hi)) invalid("MINMAX", v, hint);
  request.adjust.ranges.push_back({int(band - 1), BandRange{*lo, *hi}});
}

// CTW=[a,b,c;d,e,f;g,h,i]: rows of band weights, brackets optional.
void parse_twist(IipRequest& request, std::string_view v) {
  constexpr std::string_view hint = "[r1;r2;r3] or [r1], rows of numbers separated by commas";
  std::string_view body = v;
  if (body.starts_with('[') && body.ends_with(']') && body.size() >= 2) {
    body = body.substr(1, body.size() - 2);
  }
  const auto rows = split_all(body, ';');
  if (rows.empty() || rows.size() > 3) invalid("CTW", v, hint);
  std::vector<std::vector<double>> twist;
  for (const std::string_view row : rows) {
    const auto fields = split_all(row, ',');
    if (fields.empty() || fields.size() > 64) invalid("CTW", v, hint);
    std::vector<double> weights;
    for (const std::string_view field : fields) {
      const auto n = parse_number(field);
      if (!n) invalid("CTW", v, hint);
      weights.push_back(*n);
    }
    if (!twist.empty() && weights.size() != twist.front().size()) invalid("CTW", v, hint);
    twist.push_back(std::move(weights));
  }
  if (twist.size() == 2) invalid("CTW", v, hint);
  request.adjust.twist = std::move(twist);
}

bool parse_processing(IipRequest& request, const std::string& name, const std::string& v) {
  if (name == "CNT") {
    parse_contrast(request, v);
  } else if (name == "GAM") {
    parse_gamma(request, v);
  } else if (name == "INV") {
    request.adjust.invert = true;
  } else if (name == "CMP") {
    const ColourMap map = parse_colour_map(v);
    if (map == ColourMap::None) invalid(name, v, "GREY, JET, HOT, COLD, RED, GREEN or BLUE");
    request.adjust.colour_map = map;
  } else if (name == "MINMAX") {
    parse_minmax(request, v);
  } else if (name == "SHD") {
    // SHD=azimuth,altitude in degrees.
    constexpr std::string_view hint = "azimuth,altitude in degrees, the altitude from -90 to 90";
    const auto fields = split_all(v, ',');
    if (fields.size() != 2) invalid(name, v, hint);
    const auto azimuth = parse_number(fields[0]), altitude = parse_number(fields[1]);
    if (!azimuth || !altitude || std::abs(*altitude) > 90 || std::abs(*azimuth) > 3600) {
      invalid(name, v, hint);
    }
    request.adjust.shading = Shading{*azimuth, *altitude};
  } else if (name == "CTW") {
    parse_twist(request, v);
  } else if (name == "COL") {
    const std::string c = lower(v);
    if (c == "grey" || c == "gray") {
      request.adjust.conversion = ColourConversion::Grey;
    } else if (c == "binary") {
      request.adjust.conversion = ColourConversion::Binary;
    } else {
      invalid(name, v, "grey or binary");
    }
  } else {
    return false;
  }
  return true;
}

bool is_action(std::string_view name) {
  return name == "JTL" || name == "PTL" || name == "WTL" || name == "JTLS" || name == "TIL" ||
         name == "CVT" || name == "DEEPZOOM" || name == "ZOOMIFY" || name == "IIIF" ||
         name == "PFL" || name == "SPECTRA";
}

}  // namespace

IipRequest parse_iip(std::string_view query_string) {
  if (query_string.empty()) bad_request("empty IIP request; expected FIF=image&command=value");
  const std::vector<Token> tokens = tokenize(query_string);

  IipRequest request;
  // Errors that only stand when the request has no action, with the one that
  // stands regardless (an image command without FIF) decided at the end.
  std::vector<IipError> object_errors;
  for (const Token& token : tokens) {
    const std::string& name = token.name;
    const std::string& v = token.value;
    if (name == "FIF") {
      if (v.empty()) invalid("FIF", v, "an image path");
      check_decoded_identifier(v);
      if (request.has_fif && request.fif != v) {
        bad_request("FIF given twice: " + quote_value(request.fif) + " and " + quote_value(v));
      }
      request.fif = v;
      request.has_fif = true;
    } else if (name == "OBJ") {
      const std::string object = lower(v);
      if (is_known_object(object)) {
        if (request.objects.size() == kMaxObjects) {
          bad_request(fmt::format("too many OBJ commands; at most {} per request", kMaxObjects));
        }
        request.objects.push_back(object);
      } else {
        object_errors.push_back({"3 2", object});
      }
    } else if (is_action(name)) {
      if (request.action == IipRequest::Action::None) set_action(request, token);
    } else if (name == "WID") {
      request.width = parse_size(name, v);
    } else if (name == "HEI") {
      request.height = parse_size(name, v);
    } else if (name == "RGN") {
      request.region = parse_region(v);
    } else if (name == "ROT") {
      request.rotation = parse_rotation(v);
    } else if (name == "QLT") {
      // Clamped to 0..100, as iipsrv does.
      const auto q = parse_number(v);
      if (!q || *q != std::floor(*q)) invalid(name, v, "a quality from 0 to 100");
      request.quality = int(std::clamp(*q, 0.0, 100.0));
    } else if (name == "LYR") {
      const int64_t layers = parse_count(v);
      if (layers < 0 || layers > 65535) invalid(name, v, "a number of quality layers");
      request.layers = int(layers);
    } else if (name == "SDS") {
      const auto fields = split_all(v, ',');
      if (fields.size() > 2) invalid(name, v, "x-angle[,y-angle]");
      request.view_x = int(parse_index(name, v, fields[0], "x-angle[,y-angle]"));
      request.view_y =
          fields.size() == 2 ? int(parse_index(name, v, fields[1], "x-angle[,y-angle]")) : 0;
    } else if (parse_processing(request, name, v)) {
      // CNT, GAM, INV, CMP, MINMAX, CTW, COL: in request.adjust
    } else if (std::find(kUnimplementedCommands.begin(), kUnimplementedCommands.end(), name) !=
               kUnimplementedCommands.end()) {
      if (std::find(request.unimplemented.begin(), request.unimplemented.end(), name) ==
          request.unimplemented.end()) {
        request.unimplemented.push_back(name);
      }
    } else {
      object_errors.push_back({"2 2", token.raw_name});
    }
  }

  using Action = IipRequest::Action;
  const bool embedded = request.action == Action::DeepZoom || request.action == Action::Zoomify ||
                        request.action == Action::Iiif;
  if (request.action != Action::None) {
    // iipsrv's checkImage() reports the missing image with the argument it
    // holds, which for an image command is none.
    if (!embedded && !request.has_fif) request.errors.push_back({"1 3", ""});
    return request;
  }
  request.errors = std::move(object_errors);
  if (!request.has_fif) {
    // Errors come in request order in iipsrv; "1 3" for objects follows the
    // syntax errors here, which only matters when both kinds occur.
    for (const std::string& object : request.objects)
      if (needs_image(object)) request.errors.push_back({"1 3", object});
  }
  if (request.errors.empty() && request.objects.empty() && request.unimplemented.empty()) {
    request.errors.push_back({"2 1", std::string(query_string)});
  }
  return request;
}

void require_implemented(const IipRequest& request) {
  if (request.unimplemented.empty()) return;
  if (request.action == IipRequest::Action::None && !request.objects.empty()) return;
  std::string names;
  for (const std::string& name : request.unimplemented) {
    if (!names.empty()) names += ", ";
    names += name;
  }
  not_implemented(fmt::format("IIP image processing ({}) is not implemented", names));
}

// --- levels ------------------------------------------------------------------

std::vector<ProtocolLevel> iip_levels(const ImageInfo& info, const IipOptions& options) {
  std::vector<ProtocolLevel> levels;
  for (const LevelInfo& level : info.levels) {
    levels.push_back({level.width, level.height, level.scale > 0 ? level.scale : 1.0});
  }
  if (levels.empty()) levels.push_back({info.width, info.height, 1.0});
  if (options.virtual_levels) {
    const uint32_t tw = advertised_tile_width(info);
    const uint32_t th = advertised_tile_height(info);
    ProtocolLevel level = levels.back();
    while (level.width > tw || level.height > th) {
      level.width = std::max(level.width / 2, 1u);
      level.height = std::max(level.height / 2, 1u);
      level.scale *= 2;
      levels.push_back(level);
    }
  }
  std::reverse(levels.begin(), levels.end());
  return levels;
}

// --- OBJ ---------------------------------------------------------------------

namespace {

const char* kOptionalCommands =
    "IIP-opt-comm:CVT QLT JTL JTLS PTL WTL TIL WID HEI RGN ROT SDS LYR CNT GAM INV CMP CTW "
    "MINMAX COL SHD PFL SPECTRA";
const char* kOptionalObjects =
    "IIP-opt-obj:Horizontal-views Vertical-views Tile-size Bits-per-channel "
    "Min-Max-sample-values Resolutions";

// iipsrv keeps these as float and prints them with "%.9g".
std::string format_sample(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, " %.9g ", double(float(v)));
  return buffer;
}

std::string min_max_line(const ImageInfo& info, const IipOptions& options) {
  std::string line = "Min-Max-sample-values:";
  for (int band = 0; band < info.bands; ++band) {
    const size_t b = size_t(band);
    const double lo = b < options.sample_min.size() ? options.sample_min[b] : 0.0;
    const double hi = b < options.sample_max.size() ? options.sample_max[b] : full_scale(info);
    line += format_sample(lo);
    line += format_sample(hi);
  }
  if (line.back() == ' ') line.pop_back();
  return line;
}

std::string colorspace_line(const ImageInfo& info, size_t resolutions) {
  int calibrated = 0, space = 3;
  const char* planes = "3 0 1 2";
  if (info.colour_space == ColourSpace::Cielab) {
    space = 4;
    calibrated = 1;
  } else if (info.colour_space == ColourSpace::Grey) {
    space = 1;
    planes = "1 0";
  }
  return fmt::format("Colorspace,0-{},0:{} 0 {} {}", resolutions - 1, calibrated, space, planes);
}

// iipsrv's layout ("{ " then "\n\t\"key\": \"value\"," per field, the last
// comma replaced by "\n}"), with the values escaped as JSON requires.
std::string metadata_json(const ImageInfo& info) {
  std::string json = "{ ";
  for (const auto& [key, value] : info.metadata) {
    if (key == "icc" || key == "xmp" || value.empty()) continue;
    const auto quote = [](const std::string& s) {
      return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    };
    json += "\n\t" + quote(key) + ": " + quote(value) + ",";
  }
  json.back() = '\n';
  json += "}";
  return json;
}

}  // namespace

IipReply describe_iip_obj(const std::vector<std::string>& objects, const ImageInfo& info,
                          const IipOptions& options, const RotationSpec& rotation) {
  IipReply reply;
  std::vector<IipError> errors;
  std::string protocol_line;
  std::string& body = reply.body;
  const auto line = [&body](std::string_view text) {
    body += text;
    body += "\r\n";
  };
  const std::vector<ProtocolLevel> levels = iip_levels(info, options);

  const auto max_size = [&] {
    uint32_t w = info.width, h = info.height;
    if (int(rotation.degrees) % 180 == 90) std::swap(w, h);
    line(fmt::format("Max-size:{} {}", w, h));
  };
  const auto resolution_number = [&] { line(fmt::format("Resolution-number:{}", levels.size())); };
  const auto field = [&](std::string_view name, std::string_view key) {
    const auto it = info.metadata.find(std::string(key));
    if (it == info.metadata.end() || it->second.empty()) return;
    line(fmt::format("{}/{}:{}", name, it->second.size(), it->second));
  };

  for (const std::string& object : objects) {
    if (object.starts_with("iip,")) {
      protocol_line = "IIP:1.0\r\n";
    } else if (object == "basic-info") {
      line("IIP-server:3.65");
      max_size();
      resolution_number();
      line(colorspace_line(info, levels.size()));
    } else if (object == "iip-server") {
      // 3.65: the capability bits of CVT and JTL, as iipsrv states.
      line("IIP-server:3.65");
    } else if (object == "iip-opt-comm") {
      line(kOptionalCommands);
    } else if (object == "iip-opt-obj") {
      line(kOptionalObjects);
    } else if (object == "resolution-number") {
      resolution_number();
    } else if (object == "max-size") {
      max_size();
    } else if (object == "tile-size") {
      line(fmt::format("Tile-size:{} {}", advertised_tile_width(info),
                       advertised_tile_height(info)));
    } else if (object == "bits-per-channel") {
      line(fmt::format("Bits-per-channel:{}", info.bits_per_sample));
    } else if (object == "vertical-views") {
      line(fmt::format("Vertical-views:{}", fmt::join(options.vertical_views, " ")));
    } else if (object == "horizontal-views") {
      line(fmt::format("Horizontal-views:{}", fmt::join(options.horizontal_views, " ")));
    } else if (object == "min-max-sample-values") {
      line(min_max_line(info, options));
    } else if (object == "resolutions") {
      std::string text = "Resolutions:";
      for (size_t r = 0; r < levels.size(); ++r) {
        if (r > 0) text += ",";
        text += fmt::format("{} {}", levels[r].width, levels[r].height);
      }
      line(text);
    } else if (object == "dpi") {
      if (info.dpi_x > 0 && info.dpi_y > 0) {
        line(fmt::format("DPI:{:f} {:f}", float(info.dpi_x), float(info.dpi_y)));
      }
    } else if (object == "stack") {
      // A single image is no stack: iipsrv replies nothing.
    } else if (object.find("colorspace") != std::string::npos) {
      line(colorspace_line(info, levels.size()));
    } else if (object == "summary-info") {
      for (const std::string_view name : kSummaryFields) field(name, name);
    } else if (object == "metadata") {
      line(metadata_json(info));
      reply.content_type = "application/json";
    } else if (const auto key = metadata_key(object)) {
      field(object, *key);
    } else {
      errors.push_back({"3 2", object});
    }
  }
  if (!errors.empty()) return iip_error_reply(errors);
  body.insert(0, protocol_line);
  return reply;
}

// --- errors ------------------------------------------------------------------

std::string format_iip_error(const IipError& error) {
  const std::string text = error.code + " " + quote_for_reason(error.argument);
  return fmt::format("Error/{}:{}\r\n", text.size(), text);
}

IipReply iip_error_reply(const std::vector<IipError>& errors) {
  IipReply reply;
  reply.status = 400;
  for (const IipError& error : errors) reply.body += format_iip_error(error);
  reply.headers = {
      {"Cache-Control", "no-cache"},
      {"Content-Disposition", "inline;filename=\"IIPisAMadGameClosedToOurUnderstanding.netfpx\""}};
  return reply;
}

// --- tiles and exports -------------------------------------------------------

namespace {

const ProtocolLevel& level_for(const std::vector<ProtocolLevel>& levels, int resolution) {
  if (resolution < 0 || size_t(resolution) >= levels.size()) {
    not_found(fmt::format("IIP resolution {} does not exist; this image has resolutions 0 to {}",
                          resolution, levels.size() - 1));
  }
  return levels[size_t(resolution)];
}

}  // namespace

IipProfileLine iip_profile_line(const IipRequest& request,
                                const std::vector<ProtocolLevel>& levels) {
  if (request.action != IipRequest::Action::Profile) throw Error(500, "not an IIP PFL request");
  const ProtocolLevel& level = level_for(levels, request.resolution);
  const int64_t x1 = request.line_x1, y1 = request.line_y1;
  const int64_t x2 = request.line_x2, y2 = request.line_y2;
  for (const auto& [x, y] : {std::pair{x1, y1}, std::pair{x2, y2}}) {
    if (x >= level.width || y >= level.height) {
      bad_request(fmt::format("PFL line {},{}-{},{} leaves resolution {}, which is {}x{}", x1, y1,
                              x2, y2, request.resolution, level.width, level.height));
    }
  }
  IipProfileLine line;
  line.level = &level;
  const int64_t dx = x2 - x1, dy = y2 - y1;
  const int64_t steps = std::max(std::abs(dx), std::abs(dy));
  if (steps == 0) {
    line.points.emplace_back(uint32_t(x1), uint32_t(y1));
    return line;
  }
  line.points.reserve(std::size_t(steps));
  for (int64_t i = 0; i < steps; ++i) {
    const auto along = [&](int64_t start, int64_t delta) {
      return uint32_t(start + int64_t(std::floor(double(i * delta) / double(steps) + 0.5)));
    };
    line.points.emplace_back(along(x1, dx), along(y1, dy));
  }
  return line;
}

std::pair<uint32_t, uint32_t> iip_spectra_point(const IipRequest& request,
                                                const std::vector<ProtocolLevel>& levels,
                                                const ImageInfo& info) {
  if (request.action != IipRequest::Action::Spectra) {
    throw Error(500, "not an IIP SPECTRA request");
  }
  const ProtocolLevel& level = level_for(levels, request.resolution);
  const uint32_t tw = advertised_tile_width(info), th = advertised_tile_height(info);
  const uint32_t across = (level.width + tw - 1) / tw, down = (level.height + th - 1) / th;
  if (uint64_t(request.tile) >= uint64_t(across) * down) {
    not_found(fmt::format("IIP tile {} does not exist; resolution {} has {} tiles ({}x{})",
                          request.tile, request.resolution, uint64_t(across) * down, across, down));
  }
  const uint32_t x0 = (request.tile % across) * tw, y0 = (request.tile / across) * th;
  const uint32_t w = std::min(tw, level.width - x0), h = std::min(th, level.height - y0);
  if (request.line_x1 >= w || request.line_y1 >= h) {
    bad_request(fmt::format("SPECTRA point {},{} lies outside tile {}, which is {}x{}",
                            request.line_x1, request.line_y1, request.tile, w, h));
  }
  return {x0 + request.line_x1, y0 + request.line_y1};
}

std::string format_iip_spectra(const std::vector<std::pair<int, double>>& points) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<spectra>\n";
  for (const auto& [wavelength, reflectance] : points) {
    out += fmt::format(
        "\t<point>\n\t\t<wavelength>{}</wavelength>\n\t\t<reflectance>{:.6f}</reflectance>\n"
        "\t</point>\n",
        wavelength, reflectance);
  }
  out += "</spectra>";
  return out;
}

std::string format_iip_profile(const std::vector<double>& samples) {
  std::string out = "{\n\t\"profile\": [";
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (i > 0) out += ',';
    out += fmt::format("{}", samples[i]);
  }
  out += "]\n}";
  return out;
}

namespace {

Query tile_query(const ImageInfo& info, const ProtocolLevel& level, int resolution, uint64_t index,
                 uint32_t tw, uint32_t th, const IipRequest& request) {
  const uint32_t across = (level.width + tw - 1) / tw;
  const uint32_t down = (level.height + th - 1) / th;
  if (index >= uint64_t(across) * down) {
    not_found(fmt::format("IIP tile {} does not exist; resolution {} has {} tiles ({}x{})", index,
                          resolution, uint64_t(across) * down, across, down));
  }
  const uint32_t x = uint32_t(index % across) * tw;
  const uint32_t y = uint32_t(index / across) * th;
  Query query = level_rect_query(info, level, x, y, std::min(tw, level.width - x),
                                 std::min(th, level.height - y), request.fif, request.format);
  query.rotation = request.rotation;
  query.adjust = request.adjust;
  return query;
}

}  // namespace

Query iip_tile_query(const IipRequest& request, const ImageInfo& info, const IipOptions& options) {
  if (request.action != IipRequest::Action::Tile) throw Error(500, "not an IIP tile request");
  check_tile_rotation(request);
  const auto levels = iip_levels(info, options);
  const ProtocolLevel& level = level_for(levels, request.resolution);
  const uint32_t tw = advertised_tile_width(info);
  const uint32_t th = advertised_tile_height(info);
  uint64_t index = request.tile;
  if (request.rotation.degrees == 180 && !request.rotation.mirror) {
    // A client showing the image turned by 180 degrees asks for its tiles in
    // their new places: tile n is the old tile counted from the other end.
    const uint64_t count = uint64_t((level.width + tw - 1) / tw) * ((level.height + th - 1) / th);
    if (index < count) index = count - 1 - index;
  }
  return tile_query(info, level, request.resolution, index, tw, th, request);
}

std::vector<IipTilTile> iip_til_tiles(const IipRequest& request, const ImageInfo& info,
                                      const IipOptions& options) {
  if (request.action != IipRequest::Action::Tiles) throw Error(500, "not an IIP TIL request");
  check_tile_rotation(request);
  const auto levels = iip_levels(info, options);
  const ProtocolLevel& level = level_for(levels, request.resolution);
  const uint32_t tw = advertised_tile_width(info);
  const uint32_t th = advertised_tile_height(info);
  const uint32_t across = (level.width + tw - 1) / tw;
  const uint32_t down = (level.height + th - 1) / th;
  const uint64_t count = uint64_t(across) * down;
  if (request.last_tile >= count) {
    not_found(fmt::format("IIP tile {} does not exist; resolution {} has {} tiles ({}x{})",
                          request.last_tile, request.resolution, count, across, down));
  }
  uint32_t x0 = request.tile % across, y0 = request.tile / across;
  uint32_t x1 = request.last_tile % across, y1 = request.last_tile / across;
  if (x1 < x0) std::swap(x0, x1);
  const uint64_t n = uint64_t(x1 - x0 + 1) * (y1 - y0 + 1);
  if (n > kMaxIipTilTiles) {
    bad_request(
        fmt::format("TIL asks for {} tiles; at most {} are sent at once", n, kMaxIipTilTiles));
  }
  std::vector<IipTilTile> tiles;
  for (uint32_t x = x0; x <= x1; ++x) {
    for (uint32_t y = y0; y <= y1; ++y) {
      const uint64_t index = uint64_t(y) * across + x;
      tiles.push_back({index, tile_query(info, level, request.resolution, index, tw, th, request)});
    }
  }
  return tiles;
}

std::string frame_iip_til_tile(int resolution, uint64_t index, std::string_view jpeg) {
  std::string out = fmt::format("Tile,{},{},0/{}:", resolution, index, jpeg.size() + 8);
  // IIP compression type 2 (JPEG), then the FlashPix JPEG sub-type: block
  // interleaving, 1:1 chroma subsampling noted as 0x11, no internal colour
  // conversion, tables in the stream.
  static constexpr char kHeader[8] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00};
  out.append(kHeader, sizeof kHeader);
  out.append(jpeg);
  out += "\r\n";
  return out;
}

Query iip_cvt_query(const IipRequest& request, const ImageInfo& info, const IipOptions& options) {
  if (request.action != IipRequest::Action::Convert) throw Error(500, "not an IIP CVT request");
  const double W = info.width, H = info.height;
  double x = 0, y = 0, w = W, h = H;
  if (request.region) {
    const IipRegion& r = *request.region;
    x = std::round(r.x * W);
    y = std::round(r.y * H);
    if (x >= W || y >= H) {
      bad_request(fmt::format("RGN {},{},{},{} lies outside the image", r.x, r.y, r.w, r.h));
    }
    w = std::clamp(std::round(r.w * W), 1.0, W - x);
    h = std::clamp(std::round(r.h * H), 1.0, H - y);
  }

  // The output size: as asked, keeping the region's aspect ratio.
  double ow = w, oh = h;
  const double ask_w = request.width, ask_h = request.height;
  if (ask_w > 0 && ask_h > 0) {
    if (ask_w / w <= ask_h / h) {
      ow = ask_w, oh = std::round(ask_w * h / w);
    } else {
      oh = ask_h, ow = std::round(ask_h * w / h);
    }
  } else if (ask_w > 0) {
    ow = ask_w, oh = std::round(ask_w * h / w);
  } else if (ask_h > 0) {
    oh = ask_h, ow = std::round(ask_h * w / h);
  }
  if (!options.allow_upscaling && (ow > w || oh > h)) ow = w, oh = h;
  const double limit = options.max_cvt;
  if (limit > 0 && (ow > limit || oh > limit)) {
    if (ow >= oh) {
      oh = std::round(oh * limit / ow), ow = limit;
    } else {
      ow = std::round(ow * limit / oh), oh = limit;
    }
  }
  ow = std::clamp(ow, 1.0, double(kMaxSize));
  oh = std::clamp(oh, 1.0, double(kMaxSize));

  Query query;
  query.kind = QueryKind::Image;
  query.identifier = request.fif;
  query.region = {RegionSpec::Kind::Pixels, x, y, w, h};
  query.size.kind = SizeSpec::Kind::WidthHeight;
  query.size.w = int(ow);
  query.size.h = int(oh);
  query.size.upscale = true;
  query.rotation = request.rotation;
  query.adjust = request.adjust;
  query.format = request.format;
  return query;
}

}  // namespace tessera
