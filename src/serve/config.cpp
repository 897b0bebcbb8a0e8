#include "serve/config.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

namespace tessera {

namespace {

const char* env(const char* name) { return std::getenv(name); }

// Parses the whole of `text` as an integer in [lo, hi] or says why not.
long parse_int(const char* name, std::string_view text, long lo, long hi) {
  long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < lo || value > hi) {
    throw std::invalid_argument(
        fmt::format("{} must be an integer from {} to {}, not '{}'", name, lo, hi, text));
  }
  return value;
}

}  // namespace

void read_environment(Config& config) {
  if (const char* v = env("VERBOSITY")) config.verbosity = int(parse_int("VERBOSITY", v, 0, 10));
  if (const char* v = env("LOGFILE")) config.logfile = v;
  if (const char* v = env("JPEG_QUALITY")) {
    config.jpeg_quality = int(parse_int("JPEG_QUALITY", v, 1, 100));
  }
  if (const char* v = env("CORS")) config.cors = v;
  if (const char* v = env("BASE_URL")) config.base_url = v;
  if (const char* v = env("MAX_CVT"))
    config.max_cvt = uint32_t(parse_int("MAX_CVT", v, 1, 1 << 20));
  if (const char* v = env("OMP_NUM_THREADS")) {
    config.threads = unsigned(parse_int("OMP_NUM_THREADS", v, 1, 1024));
  }
}

}  // namespace tessera
