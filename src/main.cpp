// tessera: the command line. `tessera serve DIR` runs the image server;
// configuration comes from iipsrv's environment variables, then the flags.

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <thread>

#include "serve/config.hpp"
#include "serve/http_front.hpp"
#include "serve/log.hpp"
#include "serve/service.hpp"
#include "tools/info_command.hpp"

namespace {

using tessera::Config;

void add_serve_options(CLI::App& serve, Config& config) {
  serve.add_option("DIR", config.image_root, "Folder of images to serve (every image below it)")
      ->required()
      ->check(CLI::ExistingDirectory);
  serve.add_option("--host", config.host, "Address to listen on")->capture_default_str();
  serve.add_option("--port", config.port, "TCP port; 0 picks a free one")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
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

int run_serve(Config config) {
  tessera::init_logging(config);
  const tessera::Service service(config);
  tessera::HttpOptions http;
  http.host = config.host;
  http.port = config.port;
  http.workers =
      config.threads ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  http.io_threads = std::max(1u, http.workers / 4);
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

}  // namespace

int main(int argc, char** argv) {
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
  CLI::App* serve = app.add_subcommand("serve", "Serve every image under DIR over HTTP");
  add_serve_options(*serve, config);
  std::string info_path;
  CLI::App* info = app.add_subcommand("info", "Print an image's pyramid levels, tiles and bands");
  info->add_option("FILE", info_path, "Image file")->required()->check(CLI::ExistingFile);

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
  } catch (const std::exception& e) {
    fmt::print(stderr, "tessera: {}\n", e.what());
    return 1;
  }
  return 0;
}
