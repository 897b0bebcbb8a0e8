#include "serve/log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <syslog.h>

#include "serve/config.hpp"

namespace tessera {

namespace {
int g_verbosity = 1;  // set once by init_logging, before any thread starts
}

void init_logging(const Config& config) {
  g_verbosity = config.verbosity;
  std::shared_ptr<spdlog::logger> logger;
  if (config.logfile.empty()) {
    logger = spdlog::stderr_logger_mt("tessera");
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %v");
  } else if (config.logfile == "syslog") {
    // iipsrv's meaning of LOGFILE=syslog; the system log stamps the time.
    logger = spdlog::syslog_logger_mt("tessera", config.invoked_as_iipsrv ? "iipsrv" : "tessera",
                                      LOG_PID, LOG_USER);
    logger->set_pattern("%v");
  } else {
    logger = spdlog::basic_logger_mt("tessera", config.logfile);
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %v");
  }
  logger->set_level(config.verbosity >= 2 ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void log_request(std::string_view method, std::string_view target, int status, std::size_t bytes,
                 double milliseconds) {
  if (g_verbosity < 1) return;
  spdlog::info("{} {} {} {} {:.1f}ms", method, target, status, bytes, milliseconds);
}

void log_info(std::string_view message) {
  if (g_verbosity >= 1) spdlog::info("{}", message);
}

void log_error(std::string_view message) { spdlog::error("{}", message); }

}  // namespace tessera
