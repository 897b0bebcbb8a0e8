#include "serve/service.hpp"

#include <fmt/format.h>

#include <exception>
#include <string_view>

#include "common/error.hpp"
#include "serve/iiif_endpoint.hpp"
#include "serve/viewer_endpoint.hpp"

namespace tessera {

namespace {

Response text_response(int status, std::string body,
                       const char* type = "text/plain; charset=utf-8") {
  Response response;
  response.status = status;
  response.body = std::move(body);
  response.set_header("Content-Type", type);
  return response;
}

}  // namespace

Service::Service(Config config) : config_(std::move(config)), resolver_(config_.image_root) {}

Response Service::handle(const Request& request) const noexcept {
  Response response;
  try {
    response = route(request);
  } catch (const Error& e) {
    response = text_response(e.status(), std::string(e.what()) + "\n");
  } catch (const std::exception& e) {
    response = text_response(500, fmt::format("internal error: {}\n", e.what()));
  } catch (...) {
    response = text_response(500, "internal error\n");
  }
  if (!config_.cors.empty()) response.set_header("Access-Control-Allow-Origin", config_.cors);
  return response;
}

Response Service::route(const Request& request) const {
  if (request.method == "OPTIONS") {
    Response response;
    response.status = 204;
    response.set_header("Allow", "GET, HEAD, OPTIONS");
    if (!config_.cors.empty()) {
      response.set_header("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
      response.set_header("Access-Control-Allow-Headers", "*");
    }
    return response;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    Response response = text_response(405, fmt::format("method {} not allowed\n", request.method));
    response.set_header("Allow", "GET, HEAD, OPTIONS");
    return response;
  }
  // Before IIIF: /iiif/manifest/... is the viewer's, not an image named "manifest".
  if (auto viewer = handle_viewer(request, config_, resolver_)) return std::move(*viewer);
  if (const auto iiif = match_iiif(request.path, config_.iiif_version)) {
    return handle_iiif(request, *iiif, config_, resolver_);
  }
  not_found(fmt::format("no route for {}", request.path));
}

}  // namespace tessera
