#include "serve/config.hpp"
#include "common/split.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

#include "cache/memcached_cache.hpp"
#include "common/error.hpp"
#include "protocol/percent.hpp"

namespace tessera {

namespace fs = std::filesystem;

namespace {

// The largest MAX_CVT; iipsrv's "-1, no limit" means this, since an output
// must still be allocated.
constexpr int64_t kMaxCvtCeiling = int64_t(1) << 20;

// memcached reads an expiry above 30 days as a Unix date, which would expire
// every entry at once.
constexpr int64_t kMemcachedMaxTimeout = 30 * 24 * 3600;

[[noreturn]] void invalid(std::string_view source, std::string_view expected,
                          std::string_view text) {
  throw std::invalid_argument(fmt::format("{} must be {}, not '{}'", source, expected, text));
}

// Parses the whole of `text` as an integer in [lo, hi] or says why not.
int64_t parse_int(std::string_view source, std::string_view text, int64_t lo, int64_t hi) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < lo || value > hi) {
    invalid(source, fmt::format("an integer from {} to {}", lo, hi), text);
  }
  return value;
}

double parse_double(std::string_view source, std::string_view text, double lo, double hi) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
      value < lo || value > hi) {
    invalid(source, fmt::format("a number from {} to {}", lo, hi), text);
  }
  return value;
}

bool parse_flag(std::string_view source, std::string_view text) {
  if (text == "1") return true;
  if (text == "0") return false;
  invalid(source, "0 or 1", text);
}

// Values that end up in a response header must not break its line.
void require_header_safe(std::string_view source, std::string_view text) {
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      throw std::invalid_argument(fmt::format(
          "{} may not contain control characters (a response header carries it)", source));
    }
  }
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<UriMapping> parse_uri_map(std::string_view source, std::string_view text) {
  std::vector<UriMapping> map;
  for (std::string_view entry : split_list(text)) {
    const std::size_t arrow = entry.find("=>");
    if (arrow == std::string_view::npos) {
      throw std::invalid_argument(fmt::format(
          "{} entries must be prefix=>protocol (e.g. iiif=>IIIF), not '{}'", source, entry));
    }
    std::string_view prefix = entry.substr(0, arrow);
    while (!prefix.empty() && prefix.front() == '/') prefix.remove_prefix(1);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    for (char c : prefix) {
      if (!std::isalnum(static_cast<unsigned char>(c)) &&
          std::string_view("-._~/").find(c) == std::string_view::npos) {
        throw std::invalid_argument(fmt::format(
            "{} prefix '{}' may hold only letters, digits, - . _ ~ and /", source, prefix));
      }
    }
    if (prefix.find("//") != std::string_view::npos) {
      throw std::invalid_argument(
          fmt::format("{} prefix '{}' has an empty segment", source, prefix));
    }
    const std::string name = lower(entry.substr(arrow + 2));
    Protocol protocol;
    if (name == "iip") {
      protocol = Protocol::Iip;
    } else if (name == "iiif") {
      protocol = Protocol::Iiif;
    } else if (name == "deepzoom") {
      protocol = Protocol::DeepZoom;
    } else if (name == "zoomify") {
      protocol = Protocol::Zoomify;
    } else {
      throw std::invalid_argument(
          fmt::format("{} protocol must be IIP, IIIF, DeepZoom or Zoomify, not '{}'", source,
                      entry.substr(arrow + 2)));
    }
    for (const UriMapping& earlier : map) {
      if (earlier.prefix == prefix) {
        throw std::invalid_argument(fmt::format("{} maps prefix '{}' twice", source, prefix));
      }
    }
    map.push_back(UriMapping{std::string(prefix), protocol});
  }
  return map;
}

std::string show_uri_map(const std::vector<UriMapping>& map) {
  if (map.empty()) return "none";
  std::string out;
  for (const UriMapping& m : map) {
    if (!out.empty()) out += ' ';
    out += m.prefix + "=>" + std::string(protocol_name(m.protocol));
  }
  return out;
}

// "host[:port],..." checked by the parser the memcached client uses, so that
// what starts is what runs.
void check_memcached_servers(std::string_view source, std::string_view text) {
  try {
    parse_memcached_servers(text);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("{} {}", source, e.what()));
  }
}

// A setting holding an integer field of Config within [lo, hi].
#define TESSERA_INT_SETTING(VAR, FLAG, FIELD, LO, HI, HELP)                       \
  Setting {                                                                       \
    VAR, FLAG, HELP,                                                              \
        [](Config& c, std::string_view v, std::string_view source) {              \
          c.FIELD = static_cast<decltype(c.FIELD)>(parse_int(source, v, LO, HI)); \
        },                                                                        \
        [](const Config& c) { return fmt::format("{}", c.FIELD); }                \
  }

// A setting holding a floating-point field of Config within [lo, hi].
#define TESSERA_DOUBLE_SETTING(VAR, FLAG, FIELD, LO, HI, HELP)       \
  Setting {                                                          \
    VAR, FLAG, HELP,                                                 \
        [](Config& c, std::string_view v, std::string_view source) { \
          c.FIELD = parse_double(source, v, LO, HI);                 \
        },                                                           \
        [](const Config& c) { return fmt::format("{}", c.FIELD); }   \
  }

// A setting holding a bool field of Config, written 0 or 1 as iipsrv has it.
#define TESSERA_FLAG_SETTING(VAR, FLAG, FIELD, HELP)                     \
  Setting {                                                              \
    VAR, FLAG, HELP,                                                     \
        [](Config& c, std::string_view v, std::string_view source) {     \
          c.FIELD = parse_flag(source, v);                               \
        },                                                               \
        [](const Config& c) { return std::string(c.FIELD ? "1" : "0"); } \
  }

// A setting holding a string field of Config, any value.
#define TESSERA_STRING_SETTING(VAR, FLAG, FIELD, HELP)                                     \
  Setting {                                                                                \
    VAR, FLAG, HELP, [](Config& c, std::string_view v, std::string_view) { c.FIELD = v; }, \
        [](const Config& c) { return c.FIELD.empty() ? std::string("none") : c.FIELD; }    \
  }

// A string field that is sent in a response header.
#define TESSERA_HEADER_SETTING(VAR, FLAG, FIELD, HELP)                                  \
  Setting {                                                                             \
    VAR, FLAG, HELP,                                                                    \
        [](Config& c, std::string_view v, std::string_view source) {                    \
          require_header_safe(source, v);                                               \
          c.FIELD = v;                                                                  \
        },                                                                              \
        [](const Config& c) { return c.FIELD.empty() ? std::string("none") : c.FIELD; } \
  }

const Setting kSettings[] = {
    TESSERA_INT_SETTING("VERBOSITY", "--verbosity", verbosity, 0, 10,
                        "0 quiet, 1 one line per request, 2 debug"),
    TESSERA_STRING_SETTING("LOGFILE", "--logfile", logfile,
                           "Log to this file instead of stderr; 'syslog' logs to the system log"),
    TESSERA_INT_SETTING("OMP_NUM_THREADS", "--threads", threads, 1, 1024,
                        "Worker threads that decode and encode (0: one per core)"),
    TESSERA_INT_SETTING("JPEG_QUALITY", "--jpeg-quality", jpeg_quality, 1, 100, "JPEG quality"),
    TESSERA_INT_SETTING("PNG_QUALITY", "--png-quality", png_quality, 0, 9,
                        "PNG compression level (zlib), 0 none to 9 smallest"),
    TESSERA_INT_SETTING("WEBP_QUALITY", "--webp-quality", webp_quality, -1, 100,
                        "WebP quality; -1 lossless"),
    TESSERA_HEADER_SETTING("CORS", "--cors", cors,
                           "Access-Control-Allow-Origin value; empty disables CORS"),
    Setting{"BASE_URL", "--base-url", "Public URL of this server, for IIIF ids behind a proxy",
            [](Config& c, std::string_view v, std::string_view source) {
              require_header_safe(source, v);
              if (!v.empty() && v.substr(0, 7) != "http://" && v.substr(0, 8) != "https://") {
                invalid(source, "an http:// or https:// URL", v);
              }
              c.base_url = v;
            },
            [](const Config& c) { return c.base_url.empty() ? "the request's host" : c.base_url; }},
    Setting{"MAX_CVT", "--max-cvt", "Largest width or height of an output image (-1: no limit)",
            [](Config& c, std::string_view v, std::string_view source) {
              if (v == "-1") {
                c.max_cvt = uint32_t(kMaxCvtCeiling);
                return;
              }
              c.max_cvt = uint32_t(parse_int(source, v, 1, kMaxCvtCeiling));
            },
            [](const Config& c) { return fmt::format("{}", c.max_cvt); }},
    TESSERA_INT_SETTING("MAX_AREA", "--max-area", max_area, 0, int64_t(1) << 40,
                        "Largest width x height of an output image (0: MAX_CVT squared)"),
    TESSERA_FLAG_SETTING("ALLOW_UPSCALING", "--allow-upscaling", allow_upscaling,
                         "1 lets an IIP CVT be larger than its region; 0 refuses"),
    TESSERA_INT_SETTING("IIIF_VERSION", "--iiif-version", iiif_version, 2, 3,
                        "IIIF Image API version served at /iiif/{id}"),
    TESSERA_INT_SETTING("INTERPOLATION", "--interpolation", interpolation, 0, 2,
                        "Resampling when enlarging: 0 nearest, 1 bilinear, 2 Lanczos3"),
    TESSERA_STRING_SETTING("RIGHTS", "--rights", rights,
                           "Licence URI stated in IIIF info.json (rights / license)"),
    TESSERA_STRING_SETTING("COPYRIGHT", "--copyright", copyright,
                           "Attribution text stated in IIIF 2.1 info.json"),
    TESSERA_STRING_SETTING("FILESYSTEM_PREFIX", "--filesystem-prefix", filesystem_prefix,
                           "Put before every image identifier to make its file name"),
    TESSERA_STRING_SETTING("FILESYSTEM_SUFFIX", "--filesystem-suffix", filesystem_suffix,
                           "Put after every image identifier to make its file name"),
    Setting{"FILENAME_PATTERN", "--filename-pattern",
            "Name part before the angles of an image sequence's files "
            "(FZ1_pyr_010_090.tif: IIP's FIF=FZ1&SDS=10,90)",
            [](Config& c, std::string_view v, std::string_view source) {
              if (v.find('/') != std::string_view::npos) invalid(source, "a name without '/'", v);
              c.filename_pattern = v;
            },
            [](const Config& c) { return c.filename_pattern; }},
    Setting{"URI_MAP", "--uri-map",
            "Path prefixes mapped to protocols, e.g. 'iiif=>IIIF deepzoom=>DeepZoom'",
            [](Config& c, std::string_view v, std::string_view source) {
              c.uri_map = parse_uri_map(source, v);
            },
            [](const Config& c) { return show_uri_map(c.uri_map); }},
    TESSERA_HEADER_SETTING("CACHE_CONTROL", "--cache-control", cache_control,
                           "Cache-Control header of image and metadata replies; empty: none"),
    TESSERA_FLAG_SETTING("EMBED_ICC", "--embed-icc", embed_icc,
                         "1 embeds the image's ICC profile in outputs, 0 strips it"),
    TESSERA_INT_SETTING("MAX_ICC", "--max-icc", max_icc, -1, int64_t(1) << 30,
                        "Largest ICC profile embedded, in bytes (-1 any, 0 none)"),
    TESSERA_FLAG_SETTING("CODEC_PASSTHROUGH", "--codec-passthrough", codec_passthrough,
                         "1 sends stored JPEG and WebP tiles without decoding them"),
    TESSERA_INT_SETTING("MAX_LAYERS", "--max-layers", max_layers, -1, 65535,
                        "JPEG 2000 quality layers decoded: a cap on IIP's LYR and its default "
                        "(0 half of the file's layers, -1 all)"),
    TESSERA_DOUBLE_SETTING("MAX_IMAGE_CACHE_SIZE", "--max-image-cache-size", max_image_cache_mb, 0,
                           1 << 20,
                           "MB of image data kept in memory: half encoded responses, half "
                           "decoded tiles (0: none)"),
    TESSERA_INT_SETTING("MAX_METADATA_CACHE_SIZE", "--max-metadata-cache-size", max_metadata_cache,
                        -1, 1'000'000'000, "Images whose headers stay open (-1 no limit)"),
    Setting{"MEMCACHED_SERVERS", "--memcached-servers",
            "memcached servers that share encoded responses between Tessera processes, "
            "host[:port],... (port 11211); empty: none",
            [](Config& c, std::string_view v, std::string_view source) {
              check_memcached_servers(source, v);
              c.memcached_servers = v;
            },
            [](const Config& c) {
              return c.memcached_servers.empty() ? std::string("none") : c.memcached_servers;
            }},
    TESSERA_INT_SETTING("MEMCACHED_TIMEOUT", "--memcached-timeout", memcached_timeout, 0,
                        kMemcachedMaxTimeout,
                        "Seconds a response stays fresh in memcached (at most 30 days; 0: until "
                        "memcached evicts it)"),
    Setting{
        "WATERMARK", "--watermark",
        "Image (TIFF or JPEG 2000) laid over every tile and every 256 px block of an export",
        [](Config& c, std::string_view v, std::string_view source) {
          std::error_code ec;
          if (!v.empty() && !fs::is_regular_file(fs::path(std::string(v)), ec)) {
            throw std::invalid_argument(fmt::format("{} names no readable file: '{}'", source, v));
          }
          c.watermark = v;
        },
        [](const Config& c) { return c.watermark.empty() ? std::string("none") : c.watermark; }},
    TESSERA_DOUBLE_SETTING("WATERMARK_PROBABILITY", "--watermark-probability",
                           watermark_probability, 0, 1,
                           "Chance that a tile (or 256 px block) is watermarked, 0 to 1"),
    TESSERA_DOUBLE_SETTING("WATERMARK_OPACITY", "--watermark-opacity", watermark_opacity, 0, 1,
                           "Strength of the watermark, 0 to 1: its samples times this are "
                           "added"),
};

#undef TESSERA_INT_SETTING
#undef TESSERA_DOUBLE_SETTING
#undef TESSERA_FLAG_SETTING
#undef TESSERA_STRING_SETTING
#undef TESSERA_HEADER_SETTING

// Drops trailing '/' (but keeps "/") and makes the path absolute and lexically normal.
fs::path normal_folder(const fs::path& folder) {
  std::string text = fs::absolute(folder).lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return fs::path(text);
}

void collapse_slashes(std::string& text) {
  text.erase(
      std::unique(text.begin(), text.end(), [](char a, char b) { return a == '/' && b == '/'; }),
      text.end());
}

// When `path` lies below `root` (absolute, normal, no trailing '/'), leaves
// in `path` the rest without its leading '/' and answers true.
bool strip_root(std::string_view root, std::string& path) {
  if (root == "/") {
    path.erase(0, 1);
    return true;
  }
  if (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
      path[root.size()] == '/') {
    path.erase(0, root.size() + 1);
    return true;
  }
  return false;
}

}  // namespace

std::span<const Setting> settings() { return kSettings; }

void read_environment(Config& config) {
  for (const Setting& setting : settings()) {
    const std::string name(setting.variable);
    if (const char* value = std::getenv(name.c_str())) setting.apply(config, value, name);
  }
}

Config iipsrv_defaults() {
  Config config;
  config.invoked_as_iipsrv = true;
  config.cors.clear();
  config.logfile = "/tmp/iipsrv.log";
  config.memcached_servers = "localhost";
  return config;
}

void read_iipsrv_environment(Config& config) {
  read_environment(config);
  std::error_code ec;
  // iipsrv opens a relative prefix from its working folder.
  if (!config.filesystem_prefix.empty() && config.filesystem_prefix.front() != '/') {
    config.filesystem_prefix = fs::current_path().string() + "/" + config.filesystem_prefix;
  }
  if (const char* root = std::getenv("IMAGE_ROOT"); root != nullptr && *root != '\0') {
    if (!fs::is_directory(root, ec)) {
      throw std::invalid_argument(fmt::format("IMAGE_ROOT names no folder: '{}'", root));
    }
    config.image_root = normal_folder(root);
  } else {
    const std::string& configured = config.filesystem_prefix;
    if (configured.empty()) {
      config.image_root = "/";
    } else if (configured.back() == '/' || fs::is_directory(configured, ec)) {
      config.image_root = normal_folder(configured);
    } else {
      // A prefix that ends inside a name ("/images/pyr_") is rooted at its folder.
      config.image_root = normal_folder(fs::path(configured).parent_path());
    }
    if (!fs::is_directory(config.image_root, ec)) {
      throw std::invalid_argument(
          fmt::format("FILESYSTEM_PREFIX '{}' lies in no existing folder ({})", configured,
                      config.image_root.string()));
    }
  }
  // A prefix outside the root would make every identifier 403: say so now.
  const std::string& prefix = config.filesystem_prefix;
  if (!prefix.empty() && prefix.front() == '/') {
    const fs::path folder = prefix.back() == '/' || fs::is_directory(prefix, ec)
                                ? normal_folder(prefix)
                                : normal_folder(fs::path(prefix).parent_path());
    const std::string root = normal_folder(config.image_root).string();
    std::string below = folder.string() + "/x";
    if (folder.string() != root && !strip_root(root, below)) {
      throw std::invalid_argument(fmt::format("FILESYSTEM_PREFIX '{}' lies outside IMAGE_ROOT {}",
                                              prefix, config.image_root.string()));
    }
  }
}

std::string image_file_name(const Config& config, std::string_view identifier) {
  std::string name = config.filesystem_prefix;
  name += identifier;
  name += config.filesystem_suffix;
  collapse_slashes(name);
  if (name.empty() || name.front() != '/') return name;

  // Absolute: it must lie under the root as configured, or under the folder
  // that root leads to through symlinks.
  std::string rest = name;
  if (strip_root(normal_folder(config.image_root).string(), rest)) return rest;
  std::error_code ec;
  const fs::path canonical = fs::canonical(config.image_root, ec);
  rest = name;
  if (!ec && strip_root(normal_folder(canonical).string(), rest)) return rest;
  throw Error(403, fmt::format("'{}' lies outside the image folder", quote_for_reason(identifier)));
}

std::string_view protocol_name(Protocol protocol) {
  switch (protocol) {
    case Protocol::Iip:
      return "IIP";
    case Protocol::Iiif:
      return "IIIF";
    case Protocol::DeepZoom:
      return "DeepZoom";
    case Protocol::Zoomify:
      return "Zoomify";
  }
  return "IIP";
}

}  // namespace tessera
