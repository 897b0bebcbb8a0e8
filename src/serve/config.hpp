#pragma once
// The server's configuration, read once at start-up from the environment
// (iipsrv's variable names and defaults) and then from command-line flags,
// which win. Nothing reads getenv() after this.

#include <cstdint>
#include <filesystem>
#include <string>

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
};

// Reads iipsrv's variables from the environment into `config`. Throws
// std::invalid_argument with a one-line reason on an invalid value.
void read_environment(Config& config);

}  // namespace tessera
