#pragma once
// Logging: one line per request at VERBOSITY >= 1, to stderr or LOGFILE.

#include <cstddef>
#include <string_view>

namespace tessera {

struct Config;

// Sets up the process-wide logger from VERBOSITY and LOGFILE. Throws
// std::runtime_error if LOGFILE cannot be opened.
void init_logging(const Config& config);

void log_request(std::string_view method, std::string_view target, int status, std::size_t bytes,
                 double milliseconds);

void log_info(std::string_view message);
void log_error(std::string_view message);

}  // namespace tessera
