#pragma once
// The server's configuration, read once at start-up from the environment
// (iipsrv's variable names and defaults) and then from command-line flags,
// which win. Nothing reads getenv() after this.
//
// Every setting is described once, in settings(): its variable, its flag,
// its help text and how its value is parsed. The environment reader and the
// command line are both built from that table, so they cannot disagree.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace tessera {

struct Config {
  std::filesystem::path image_root;  // the DIR of `tessera serve DIR`
  std::string host = "127.0.0.1";
  uint16_t port = 8080;     // 0 picks a free port (printed at start-up)
  unsigned threads = 0;     // worker threads; 0 = one per core
  int verbosity = 1;        // VERBOSITY: 0 quiet, 1 a line per request, 2+ debug
  std::string logfile;      // LOGFILE: "" = stderr
  int jpeg_quality = 75;    // JPEG_QUALITY, 1..100
  std::string cors = "*";   // CORS: Access-Control-Allow-Origin; "" = none
  std::string base_url;     // BASE_URL: overrides the Host header in ids
  uint32_t max_cvt = 5000;  // MAX_CVT: largest output width or height
  uint64_t max_area = 0;    // MAX_AREA: largest output width x height; 0 = MAX_CVT^2 only
  int iiif_version = 3;     // IIIF_VERSION: what /iiif/{id} speaks
  int interpolation = 1;    // INTERPOLATION: 0 nearest, 1 bilinear, 2 Lanczos3
  std::string rights;       // RIGHTS: licence URI for IIIF rights (3.0) / license (2.1)
  std::string copyright;    // COPYRIGHT: attribution text (IIIF 2.1 attribution)
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

}  // namespace tessera
