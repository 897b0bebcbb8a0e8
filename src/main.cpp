// tessera: the command line. `tessera serve DIR` runs the image server;
// configuration comes from iipsrv's environment variables, then the flags.
// Invoked as `iipsrv.fcgi` (the symlink `make install` makes), the binary
// behaves as iipsrv: FastCGI, configuration from the environment only.

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "serve/config.hpp"
#include "serve/fcgi_front.hpp"
#include "serve/http_front.hpp"
#include "serve/log.hpp"
#include "serve/service.hpp"
#include "tools/convert_command.hpp"
#include "tools/info_command.hpp"

namespace {

using tessera::Config;

unsigned worker_count(const Config& config) {
  return config.threads ? config.threads : std::max(1u, std::thread::hardware_concurrency());
}

void add_serve_options(CLI::App& serve, Config& config) {
  serve.add_option("DIR", config.image_root, "Folder of images to serve (every image below it)")
      ->required()
      ->check(CLI::ExistingDirectory);
  CLI::Option* host =
      serve.add_option("--host", config.host, "Address to listen on (HTTP)")->capture_default_str();
  CLI::Option* port =
      serve.add_option("--port", config.port, "TCP port (HTTP); 0 picks a free one")
          ->capture_default_str()
          ->check(CLI::Range(0, 65535));
  CLI::Option* idle =
      serve
          .add_option("--idle-timeout", config.idle_timeout,
                      "Seconds (HTTP) a connection may take to send a request, stall while "
                      "reading a reply, or stay idle between requests, before it is closed")
          ->capture_default_str()
          ->check(CLI::Range(1, 86400));
  serve
      .add_flag("--fcgi", config.fcgi,
                "Speak FastCGI to a web server (nginx, Apache, lighttpd) instead of HTTP; on "
                "the --bind socket, else on the listening socket on standard input")
      ->excludes(host)
      ->excludes(port)
      ->excludes(idle);
  CLI::Option* bind = serve
                          .add_option("--bind", config.fcgi_bind,
                                      "FastCGI socket to listen on: HOST:PORT, [V6]:PORT, :PORT "
                                      "or a unix socket path (implies --fcgi)")
                          ->excludes(host)
                          ->excludes(port)
                          ->excludes(idle);
  serve.add_option("--backlog", config.fcgi_backlog, "Listen queue of the --bind socket")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535))
      ->needs(bind);
  // Each configuration setting is a flag too; flags win over the environment.
  for (const tessera::Setting& setting : tessera::settings()) {
    const std::string description = fmt::format("{} (env {}; default {})", setting.help,
                                                setting.variable, setting.show(Config{}));
    serve.add_option_function<std::string>(
        std::string(setting.flag),
        [&config, &setting](const std::string& value) {
          try {
            setting.apply(config, value, setting.flag);
          } catch (const std::invalid_argument& e) {
            throw CLI::ValidationError(e.what());
          }
        },
        description);
  }
}

void add_convert_options(CLI::App& convert, tessera::ConvertOptions& options) {
  convert.add_option("IN", options.input, "Image to convert (TIFF, JPEG, PNG, JPEG 2000, WebP...)")
      ->required();
  convert.add_option("OUT", options.output, "Pyramidal TIFF to write (replaced if it exists)")
      ->required();
  convert.add_option("--tile", options.tile_size, "Tile width and height, a multiple of 16")
      ->capture_default_str()
      ->check(CLI::Range(16, 4096))
      ->check(CLI::Validator(
          [](const std::string& value) {
            return std::stoi(value) % 16 == 0 ? std::string() : "must be a multiple of 16";
          },
          "MULTIPLE OF 16"));
  convert
      .add_option("--compression", options.compression,
                  "Tile compression; auto: JPEG for 8-bit grey or RGB, else deflate (lossless)")
      ->capture_default_str()
      ->check(CLI::IsMember(tessera::convert_compressions()));
  convert.add_option("--quality", options.quality, "JPEG or WebP quality")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
}

void run_fcgi(const Config& config, const tessera::Service& service, bool announce_on_stdout) {
  tessera::FcgiOptions fcgi;
  fcgi.bind = config.fcgi_bind;
  fcgi.backlog = config.fcgi_backlog;
  fcgi.workers = worker_count(config);
  const std::string root = std::filesystem::absolute(config.image_root).string();
  tessera::run_fcgi_server(service, fcgi, [&](const std::string& where) {
    const std::string line =
        fmt::format("FastCGI on {} serving {} ({} worker threads)", where, root, fcgi.workers);
    tessera::log_info(line);
    // Under spawn-fcgi or a web server stdout may lead nowhere; with --bind
    // a person or a test reads where the socket is.
    if (announce_on_stdout) {
      fmt::print("Tessera listening on fastcgi://{} serving {} ({} worker threads)\n", where, root,
                 fcgi.workers);
      std::fflush(stdout);
    }
  });
}

int run_serve(Config config) {
  tessera::init_logging(config);
  const tessera::Service service(config);
  if (config.fcgi || !config.fcgi_bind.empty() || tessera::stdin_is_listening_socket()) {
    run_fcgi(config, service, !config.fcgi_bind.empty());
    return 0;
  }
  tessera::HttpOptions http;
  http.host = config.host;
  http.port = config.port;
  http.workers = worker_count(config);
  http.idle_timeout_seconds = config.idle_timeout;
  // Network threads answer cached replies themselves, so they get a core
  // each as the workers do: under a hot-tile load they do all the work.
  http.io_threads = std::max(1u, std::min(http.workers, std::thread::hardware_concurrency()));
  tessera::run_http_server(service, http, [&](unsigned short port) {
    const std::string host =
        config.host.find(':') != std::string::npos ? "[" + config.host + "]" : config.host;
    fmt::print("Tessera listening on http://{}:{}/ serving {} ({} worker threads)\n", host, port,
               std::filesystem::absolute(config.image_root).string(), http.workers);
    fmt::print("  open http://{}:{}/ for the list of images\n", host, port);
    std::fflush(stdout);
  });
  return 0;
}

// iipsrv.fcgi [--bind HOST:PORT [--backlog N]]: iipsrv's command line, which
// takes nothing else; every setting comes from the environment.
int run_as_iipsrv(int argc, char** argv) {
  constexpr std::string_view kName = "iipsrv.fcgi";
  Config config = tessera::iipsrv_defaults();
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string_view arg = argv[i];
      if ((arg == "--bind" || arg == "--backlog") && i + 1 >= argc) {
        throw std::invalid_argument(fmt::format("{} needs a value", arg));
      }
      if (arg == "--bind") {
        config.fcgi_bind = argv[++i];
        if (config.fcgi_bind.empty()) throw std::invalid_argument("--bind needs a socket");
      } else if (arg == "--backlog") {
        const std::string_view value = argv[++i];
        const auto [end, ec] =
            std::from_chars(value.data(), value.data() + value.size(), config.fcgi_backlog);
        if (ec != std::errc() || end != value.data() + value.size() || config.fcgi_backlog < 1 ||
            config.fcgi_backlog > 65535) {
          throw std::invalid_argument(
              fmt::format("--backlog must be an integer from 1 to 65535, not '{}'", value));
        }
      } else if (arg == "--help" || arg == "-h") {
        fmt::print(
            "{0}: Tessera running as iipsrv (FastCGI). Usage: {0} [--bind HOST:PORT [--backlog "
            "N]]\nConfiguration comes from iipsrv's environment variables; `tessera serve "
            "--help` lists them.\n",
            kName);
        return 0;
      } else {
        throw std::invalid_argument(fmt::format(
            "unknown argument '{}' (iipsrv takes only --bind HOST:PORT [--backlog N]; settings "
            "come from the environment)",
            arg));
      }
    }
    tessera::read_iipsrv_environment(config);
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", kName, e.what());
    return 1;
  }

  try {
    if (config.fcgi_bind.empty() && !tessera::stdin_is_listening_socket()) {
      throw std::runtime_error(
          "standard input is not a FastCGI listening socket: start me from a web server "
          "(Apache mod_fcgid, lighttpd) or spawn-fcgi, or with --bind HOST:PORT");
    }
    try {
      tessera::init_logging(config);
    } catch (const std::exception&) {
      // iipsrv goes on without its default log file when it cannot open it;
      // an explicit LOGFILE that cannot be opened stops start-up below.
      if (config.logfile != tessera::iipsrv_defaults().logfile) throw;
      config.logfile.clear();
      tessera::init_logging(config);
    }
    const tessera::Service service(config);
    run_fcgi(config, service, !config.fcgi_bind.empty());
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", kName, e.what());
    return 1;
  }
  return 0;
}

bool invoked_as_iipsrv(const char* argv0) {
  if (argv0 == nullptr) return false;
  const std::string_view name = std::filesystem::path(argv0).filename().native();
  return name == "iipsrv.fcgi" || name == "iipsrv";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 0 && invoked_as_iipsrv(argv[0])) return run_as_iipsrv(argc, argv);

  Config config;
  try {
    tessera::read_environment(config);
  } catch (const std::exception& e) {
    fmt::print(stderr, "tessera: {}\n", e.what());
    return 2;
  }

  CLI::App app{"Tessera: streams ultra-high-resolution images to the web (IIIF Image API 3.0)",
               "tessera"};
  app.require_subcommand(1);
  CLI::App* serve = app.add_subcommand(
      "serve", "Serve every image under DIR over HTTP, or FastCGI behind a web server");
  add_serve_options(*serve, config);
  std::string info_path;
  CLI::App* info = app.add_subcommand("info", "Print an image's pyramid levels, tiles and bands");
  info->add_option("FILE", info_path, "Image file")->required()->check(CLI::ExistingFile);
  tessera::ConvertOptions convert_options;
  CLI::App* convert = app.add_subcommand(
      "convert", "Make a tiled pyramidal TIFF to serve from any image libvips reads");
  add_convert_options(*convert, convert_options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "tessera: {}\n", e.what());
    return 2;
  }

  try {
    if (serve->parsed()) return run_serve(config);
    if (info->parsed()) return tessera::run_info_command(info_path, std::cout);
    if (convert->parsed()) return tessera::run_convert_command(convert_options, std::cout);
  } catch (const std::exception& e) {
    fmt::print(stderr, "tessera: {}\n", e.what());
    return 1;
  }
  return 0;
}
