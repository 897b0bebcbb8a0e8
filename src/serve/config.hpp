#pragma once
// The server's configuration, read once at start-up from the environment
// (iipsrv's variable names and defaults) and then from command-line flags,
// which win. Nothing reads getenv() after this.
//
// Every setting is described once, in settings(): its variable, its flag,
// its help text and how its value is parsed. The environment reader and the
// command line are both built from that table, so they cannot disagree.
//
// How image files are named (iipsrv's FILESYSTEM_PREFIX / FILESYSTEM_SUFFIX):
// a client's identifier (IIP's FIF, a IIIF/DeepZoom/Zoomify id) names the
// file  filesystem_prefix + identifier + filesystem_suffix,  exactly as
// iipsrv concatenates them. image_root is the folder nothing outside of which
// is ever opened: DIR for `tessera serve DIR`; for `iipsrv.fcgi`, IMAGE_ROOT
// or else the folder FILESYSTEM_PREFIX names (itself when it is a folder,
// else its parent; "/" when the prefix is empty, as iipsrv). image_file_name()
// turns an identifier into the root-relative name Resolver::resolve() takes.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

enum class Protocol { Iip, Iiif, DeepZoom, Zoomify };

// One URI_MAP entry, "prefix=>protocol": requests whose path is /prefix/...
// speak `protocol`, with what follows "/prefix/" as that protocol's request.
struct UriMapping {
  std::string prefix;  // without leading or trailing '/'; "" maps every path
  Protocol protocol;
  bool operator==(const UriMapping&) const = default;
};

struct Config {
  std::filesystem::path image_root;  // the DIR of `tessera serve DIR`
  std::string host = "127.0.0.1";
  uint16_t port = 8080;     // 0 picks a free port (printed at start-up)
  unsigned threads = 0;     // worker threads; 0 = one per core
  int verbosity = 1;        // VERBOSITY: 0 quiet, 1 a line per request, 2+ debug
  std::string logfile;      // LOGFILE: "" = stderr; "syslog" = the system log
  int jpeg_quality = 75;    // JPEG_QUALITY, 1..100
  std::string cors = "*";   // CORS: Access-Control-Allow-Origin; "" = none
  std::string base_url;     // BASE_URL: overrides the Host header in ids
  uint32_t max_cvt = 5000;  // MAX_CVT: largest output width or height
  uint64_t max_area = 0;    // MAX_AREA: largest output width x height; 0 = MAX_CVT^2 only
  int iiif_version = 3;     // IIIF_VERSION: what /iiif/{id} speaks
  int interpolation = 1;    // INTERPOLATION: 0 nearest, 1 bilinear, 2 Lanczos3
  std::string rights;       // RIGHTS: licence URI for IIIF rights (3.0) / license (2.1)
  std::string copyright;    // COPYRIGHT: attribution text (IIIF 2.1 attribution)

  // --- How requests arrive (flags only, no variables) ---------------------
  bool fcgi = false;               // --fcgi: FastCGI instead of the embedded HTTP server
  std::string fcgi_bind;           // --bind: "HOST:PORT", "[V6]:PORT" or a unix socket path;
                                   // "" = the listening socket on fd 0 (spawn-fcgi, mod_fcgid)
  int fcgi_backlog = 2048;         // --backlog: listen queue of --bind (iipsrv's default)
  unsigned idle_timeout = 30;      // --idle-timeout: seconds (HTTP) a client may take to
                                   // send a request, or stall while reading a reply
  bool invoked_as_iipsrv = false;  // argv[0] is iipsrv.fcgi: iipsrv's defaults, env only

  // --- iipsrv's file naming (see the top of this file) ---------------------
  std::string filesystem_prefix;           // FILESYSTEM_PREFIX
  std::string filesystem_suffix;           // FILESYSTEM_SUFFIX
  std::string filename_pattern = "_pyr_";  // FILENAME_PATTERN: 3D sequence names

  // --- Output -------------------------------------------------------------
  int png_quality = 1;                          // PNG_QUALITY: zlib level 0..9
  int webp_quality = 50;                        // WEBP_QUALITY: 0..100; -1 lossless
  bool allow_upscaling = true;                  // ALLOW_UPSCALING
  int max_layers = 0;                           // MAX_LAYERS: 0 half the layers, -1 all
  bool embed_icc = true;                        // EMBED_ICC: false = never embed
  int64_t max_icc = 65536;                      // MAX_ICC: bytes; -1 no limit, 0 never
  bool codec_passthrough = true;                // CODEC_PASSTHROUGH: send stored tiles as is
  std::string cache_control = "max-age=86400";  // CACHE_CONTROL header value
  std::vector<UriMapping> uri_map;              // URI_MAP

  // --- Caches -------------------------------------------------------------
  double max_image_cache_mb = 10.0;    // MAX_IMAGE_CACHE_SIZE: MB of encoded tiles
  int64_t max_metadata_cache = 1000;   // MAX_METADATA_CACHE_SIZE: images; -1 unlimited
  std::string memcached_servers;       // MEMCACHED_SERVERS: "host[:port],..."; "" = off
  uint32_t memcached_timeout = 86400;  // MEMCACHED_TIMEOUT: seconds

  // --- Watermark ----------------------------------------------------------
  std::string watermark;               // WATERMARK: image file; "" = none
  double watermark_probability = 1.0;  // WATERMARK_PROBABILITY: 0..1 per tile
  double watermark_opacity = 1.0;      // WATERMARK_OPACITY: 0..1
};

// One configuration setting: an environment variable and its flag.
struct Setting {
  std::string_view variable;  // "JPEG_QUALITY"
  std::string_view flag;      // "--jpeg-quality"
  std::string_view help;      // one line, without the default
  // Parses `value` into the config; throws std::invalid_argument with a
  // one-line reason naming `source` (the variable or the flag).
  void (*apply)(Config& config, std::string_view value, std::string_view source);
  // The value as --help shows it (the default, on a fresh Config).
  std::string (*show)(const Config& config);
};

std::span<const Setting> settings();

// Reads every setting's variable that is set. Throws std::invalid_argument
// with a one-line reason on an invalid value.
void read_environment(Config& config);

// The configuration `iipsrv.fcgi` starts from: Config{} with iipsrv's own
// defaults where `tessera serve` differs (CORS off, LOGFILE /tmp/iipsrv.log,
// MEMCACHED_SERVERS localhost) and invoked_as_iipsrv set.
Config iipsrv_defaults();

// For `iipsrv.fcgi`: reads the environment as read_environment does, then
// sets image_root from IMAGE_ROOT or else from FILESYSTEM_PREFIX (see the top
// of this file). Throws std::invalid_argument when IMAGE_ROOT is not a folder
// or the prefix names a place outside it.
void read_iipsrv_environment(Config& config);

// The file an identifier names, FILESYSTEM_PREFIX + identifier +
// FILESYSTEM_SUFFIX, as a name relative to image_root for Resolver::resolve:
// an absolute result must lie under image_root (Error 403 otherwise) and
// loses that part; a relative one is taken as relative to image_root. Runs of
// '/' collapse to one, as the file system reads them. The result is not yet
// checked for ".." or NUL: Resolver::resolve refuses those.
std::string image_file_name(const Config& config, std::string_view identifier);

// The protocol named in URI_MAP ("IIP", "IIIF", "DeepZoom", "Zoomify", any case).
std::string_view protocol_name(Protocol protocol);

}  // namespace tessera
