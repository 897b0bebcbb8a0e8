#include "serve/service.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <string_view>

#include "common/error.hpp"
#include "image/image_source.hpp"
#include "protocol/iiif.hpp"
#include "protocol/percent.hpp"
#include "render/executor.hpp"
#include "render/planner.hpp"
#include "serve/http_date.hpp"
#include "serve/index_page.hpp"

namespace tessera {

// Which IIIF version a path asks for, and the rest of the path after the prefix.
struct IiifRoute {
  int version;
  std::string_view prefix;  // "/iiif/3", "/iiif"
  std::string_view rest;
};

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The scheme://host part of the URIs we hand out (IIIF ids). BASE_URL wins;
// otherwise the Host header, if it looks like a host name.
std::string public_origin(const Request& request, const Config& config) {
  if (!config.base_url.empty()) {
    std::string base = config.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base;
  }
  std::string host = request.header("host");
  const bool plausible = !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
           c == '[' || c == ']';
  });
  if (!plausible) host = "localhost";
  return "http://" + host;
}

Response text_response(int status, std::string body,
                       const char* type = "text/plain; charset=utf-8") {
  Response response;
  response.status = status;
  response.body = std::move(body);
  response.set_header("Content-Type", type);
  return response;
}

std::time_t file_mtime(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mtim.tv_sec;
}

std::optional<IiifRoute> match_iiif(std::string_view path) {
  for (int version : {3, 2}) {
    const std::string prefix = fmt::format("/iiif/{}/", version);
    if (starts_with(path, prefix)) {
      return IiifRoute{version, path.substr(0, prefix.size() - 1), path.substr(prefix.size())};
    }
  }
  if (starts_with(path, "/iiif/")) return IiifRoute{3, path.substr(0, 5), path.substr(6)};
  return std::nullopt;
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
  if (request.path == "/" || request.path == "/index.html") {
    return text_response(200, render_index_page(resolver_), "text/html; charset=utf-8");
  }
  if (const auto iiif = match_iiif(request.path)) return handle_iiif(request, *iiif);
  not_found(fmt::format("no route for {}", request.path));
}

Response Service::handle_iiif(const Request& request, const IiifRoute& route) const {
  const Query query = parse_iiif(route.rest, route.version);
  const std::filesystem::path file = resolver_.resolve(query.identifier);
  const std::string service_id = public_origin(request, config_) + std::string(route.prefix) + "/" +
                                 percent_encode_path(query.identifier);

  if (query.kind == QueryKind::BaseRedirect) {
    Response response = text_response(303, "see info.json\n");
    response.set_header("Location", service_id + "/info.json");
    return response;
  }

  const std::unique_ptr<ImageSource> source = open_image(file);
  const ImageInfo& info = source->info();
  const Limits limits{config_.max_cvt, config_.max_cvt, 0};
  Response response;
  if (query.kind == QueryKind::Info) {
    IiifDescribeOptions options;
    options.id = service_id;
    options.version = query.iiif_version;
    options.max_width = limits.max_width;
    options.max_height = limits.max_height;
    options.max_area = limits.max_area;
    // Beyond level 1: what the planner serves today.
    options.extra_qualities = {"color"};
    options.extra_features = query.iiif_version >= 3
                                 ? std::vector<std::string>{"regionByPct", "sizeByConfinedWh",
                                                            "sizeByPct", "sizeUpscaling"}
                                 : std::vector<std::string>{"regionByPct", "sizeByConfinedWh",
                                                            "sizeByPct", "sizeAboveFull"};
    response.body = describe_iiif(info, options);
    const std::string context =
        fmt::format("http://iiif.io/api/image/{}/context.json", query.iiif_version);
    // JSON-LD only when the client asks for it; plain JSON otherwise (IIIF 3 section 5).
    const bool wants_ld = request.header("accept").find("application/ld+json") != std::string::npos;
    response.set_header(
        "Content-Type",
        wants_ld ? fmt::format("application/ld+json;profile=\"{}\"", context) : "application/json");
  } else {
    const Plan plan = plan_image(query, info, limits);
    RenderOptions options;
    options.jpeg_quality = config_.jpeg_quality;
    response.body = render_image(*source, plan, options);
    response.set_header("Content-Type", format_media_type(plan.format));
  }
  response.set_header("Last-Modified", format_http_date(file_mtime(file)));
  return response;
}

}  // namespace tessera
