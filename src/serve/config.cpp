#include "serve/config.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <stdexcept>

namespace tessera {

namespace {

// Parses the whole of `text` as an integer in [lo, hi] or says why not.
int64_t parse_int(std::string_view source, std::string_view text, int64_t lo, int64_t hi) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < lo || value > hi) {
    throw std::invalid_argument(
        fmt::format("{} must be an integer from {} to {}, not '{}'", source, lo, hi, text));
  }
  return value;
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

// A setting holding a string field of Config, any value.
#define TESSERA_STRING_SETTING(VAR, FLAG, FIELD, HELP)                                     \
  Setting {                                                                                \
    VAR, FLAG, HELP, [](Config& c, std::string_view v, std::string_view) { c.FIELD = v; }, \
        [](const Config& c) { return c.FIELD.empty() ? std::string("none") : c.FIELD; }    \
  }

const Setting kSettings[] = {
    TESSERA_INT_SETTING("VERBOSITY", "--verbosity", verbosity, 0, 10,
                        "0 quiet, 1 one line per request, 2 debug"),
    TESSERA_STRING_SETTING("LOGFILE", "--logfile", logfile, "Log to this file instead of stderr"),
    TESSERA_INT_SETTING("OMP_NUM_THREADS", "--threads", threads, 1, 1024,
                        "Worker threads that decode and encode (0: one per core)"),
    TESSERA_INT_SETTING("JPEG_QUALITY", "--jpeg-quality", jpeg_quality, 1, 100, "JPEG quality"),
    TESSERA_STRING_SETTING("CORS", "--cors", cors,
                           "Access-Control-Allow-Origin value; empty disables CORS"),
    TESSERA_STRING_SETTING("BASE_URL", "--base-url", base_url,
                           "Public URL of this server, for IIIF ids behind a proxy"),
    TESSERA_INT_SETTING("MAX_CVT", "--max-cvt", max_cvt, 1, 1 << 20,
                        "Largest width or height of an output image"),
    TESSERA_INT_SETTING("MAX_AREA", "--max-area", max_area, 0, int64_t(1) << 40,
                        "Largest width x height of an output image (0: MAX_CVT squared)"),
    TESSERA_INT_SETTING("IIIF_VERSION", "--iiif-version", iiif_version, 2, 3,
                        "IIIF Image API version served at /iiif/{id}"),
    TESSERA_INT_SETTING("INTERPOLATION", "--interpolation", interpolation, 0, 2,
                        "Resampling when enlarging: 0 nearest, 1 bilinear, 2 Lanczos3"),
    TESSERA_STRING_SETTING("RIGHTS", "--rights", rights,
                           "Licence URI stated in IIIF info.json (rights / license)"),
    TESSERA_STRING_SETTING("COPYRIGHT", "--copyright", copyright,
                           "Attribution text stated in IIIF 2.1 info.json"),
};

#undef TESSERA_INT_SETTING
#undef TESSERA_STRING_SETTING

}  // namespace

std::span<const Setting> settings() { return kSettings; }

void read_environment(Config& config) {
  for (const Setting& setting : settings()) {
    const std::string name(setting.variable);
    if (const char* value = std::getenv(name.c_str())) setting.apply(config, value, name);
  }
}

}  // namespace tessera
