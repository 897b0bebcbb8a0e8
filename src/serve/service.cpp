#include "serve/service.hpp"

#include <fmt/format.h>
#include <strings.h>

#include <algorithm>
#include <exception>
#include <string_view>
#include <thread>

#include "cache/image_cache.hpp"
#include "cache/memcached_cache.hpp"
#include "cache/response_cache.hpp"
#include "cache/tile_cache.hpp"
#include "common/error.hpp"
#include "common/parallel.hpp"
#include "image/image_source.hpp"
#include "process/colour.hpp"
#include "process/watermark.hpp"
#include "render/executor.hpp"
#include "render/planner.hpp"
#include "serve/entity_tag.hpp"
#include "serve/http_date.hpp"
#include "serve/iiif_endpoint.hpp"
#include "serve/log.hpp"
#include "serve/tile_endpoints.hpp"
#include "serve/viewer_endpoint.hpp"

namespace tessera {

namespace {

Response text_response(int status, std::string body,
                       const char* type = "text/plain; charset=utf-8") {
  Response response;
  response.status = status;
  response.body = std::move(body);
  response.set_header("Content-Type", type);
  // A busy server (out of file descriptors, say) will do in a moment.
  if (status == 503) response.set_header("Retry-After", "1");
  return response;
}

// A client that holds the current version gets 304 and no body. An
// If-None-Match, when sent, decides alone (RFC 9110 §13.2.2); otherwise
// If-Modified-Since not older than the file's Last-Modified does.
void answer_not_modified(const Request& request, Response& response) {
  if (response.status != 200) return;
  bool not_modified = false;
  const std::string& none_match = request.header("if-none-match");
  if (!none_match.empty()) {
    const std::string* tag = response.find_header("ETag");
    not_modified = tag != nullptr && if_none_match_matches(none_match, *tag);
  } else {
    const std::string& since = request.header("if-modified-since");
    const std::string* modified = response.find_header("Last-Modified");
    if (since.empty() || modified == nullptr) return;
    const auto since_time = parse_http_date(since);
    const auto modified_time = parse_http_date(*modified);
    not_modified = since_time && modified_time && *modified_time <= *since_time;
  }
  if (not_modified) {
    response.status = 304;
    response.clear_body();
    std::erase_if(response.headers, [](const auto& header) {
      return strcasecmp(header.first.c_str(), "Content-Length") == 0;
    });
  }
}

}  // namespace

// MAX_IMAGE_CACHE_SIZE is, as in iipsrv, the memory that image data may
// take: half for encoded responses (iipsrv's whole use of it), half for the
// decoded tiles regions are assembled from (a cache iipsrv does not have),
// so that Tessera holds no more than iipsrv with the same setting.
std::size_t response_cache_bytes(const Config& config) {
  return ResponseCache::budget_from_megabytes(config.max_image_cache_mb) / 2;
}
std::size_t tile_cache_bytes(const Config& config) {
  const std::size_t all = ResponseCache::budget_from_megabytes(config.max_image_cache_mb);
  return all - all / 2;
}

ImageCacheOptions image_cache_options(const Config& config) {
  ImageCacheOptions options;
  // JPEG 2000 decodes share the cores the worker pool leaves idle: none
  // when there is a worker per core, as under load every worker decodes.
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const unsigned workers = config.threads ? config.threads : cores;
  OpenOptions open;
  open.jp2_threads = int(std::max(1u, cores / workers));
  options.open = [open](const std::filesystem::path& path) { return open_image(path, open); };
  // MAX_METADATA_CACHE_SIZE: -1 is unlimited.
  options.max_entries =
      config.max_metadata_cache < 0 ? std::size_t(-1) : std::size_t(config.max_metadata_cache);
  return options;
}

namespace {

// MEMCACHED_SERVERS, or null when it is empty.
std::unique_ptr<MemcachedCache> make_memcached(const Config& config) {
  MemcachedOptions options;
  options.servers = parse_memcached_servers(config.memcached_servers);
  if (options.servers.empty()) return nullptr;
  options.expiry_seconds = config.memcached_timeout;
  options.on_server_failure = [](std::string_view message) { log_error(message); };
  return std::make_unique<MemcachedCache>(std::move(options));
}

// WATERMARK: the image, read once, 8-bit without alpha (transparent parts
// made black, which adds nothing). Throws std::invalid_argument with the
// reason when it cannot be read, so that the server does not start without
// the mark it was told to put on every image.
std::unique_ptr<Watermark> load_watermark(const Config& config) {
  if (config.watermark.empty()) return nullptr;
  auto watermark = std::make_unique<Watermark>();
  watermark->probability = config.watermark_probability;
  watermark->opacity = config.watermark_opacity;
  try {
    const std::unique_ptr<ImageSource> source = open_image(config.watermark);
    const ImageInfo& info = source->info();
    if (uint64_t(info.width) * info.height > (uint64_t{1} << 22)) {
      throw Error(400, fmt::format("{}x{} is larger than a watermark may be (4 megapixels)",
                                   info.width, info.height));
    }
    Query query;
    query.format = Format::Png;
    RenderOptions options;
    Raster mark = render_raster(*source, plan_image(query, info, Limits{}), options);
    if (mark.sample_type() != SampleType::U8) mark = to_8bit(mark);
    if (has_alpha_band(mark.bands())) mark = flatten_alpha(mark, 0);
    if (mark.bands() != 1 && mark.bands() != 3) throw Error(400, "a watermark is grey or RGB");
    watermark->mark = std::move(mark);
  } catch (const std::exception& e) {
    throw std::invalid_argument(
        fmt::format("WATERMARK {}: cannot be used: {}", config.watermark, e.what()));
  }
  return watermark;
}

}  // namespace

Service::Service(Config config)
    : config_(std::move(config)),
      resolver_(config_.image_root),
      images_(std::make_unique<ImageCache>(image_cache_options(config_))),
      tiles_(std::make_unique<TileCache>(tile_cache_bytes(config_))),
      responses_(std::make_unique<ResponseCache>(response_cache_bytes(config_))),
      memcached_(make_memcached(config_)),
      watermark_(load_watermark(config_)) {}

Service::~Service() = default;

Response Service::handle(const Request& request) const noexcept {
  const BusyScope busy;  // parallel_for leaves other busy workers' cores alone
  Response response;
  try {
    response = route(request, false);
  } catch (const Error& e) {
    response = text_response(e.status(), std::string(e.what()) + "\n");
  } catch (const std::exception& e) {
    response = text_response(500, fmt::format("internal error: {}\n", e.what()));
  } catch (...) {
    response = text_response(500, "internal error\n");
  }
  finish(request, response);
  return response;
}

std::optional<Response> Service::handle_from_memory(const Request& request) const noexcept {
  Response response;
  try {
    response = route(request, true);
    if (response.needs_worker) return std::nullopt;
  } catch (const NeedsWorker&) {
    return std::nullopt;
  } catch (const Error& e) {
    response = text_response(e.status(), std::string(e.what()) + "\n");
  } catch (...) {
    return std::nullopt;  // the worker meets it again, and reports it
  }
  finish(request, response);
  return response;
}

void Service::finish(const Request& request, Response& response) const {
  if (!config_.cors.empty()) response.set_header("Access-Control-Allow-Origin", config_.cors);
  // Images and descriptions may be kept by browsers and proxies (iipsrv's
  // CACHE_CONTROL); errors may not.
  if (response.status == 200 && !config_.cache_control.empty() &&
      response.find_header("Last-Modified") != nullptr &&
      response.find_header("Cache-Control") == nullptr) {
    response.set_header("Cache-Control", config_.cache_control);
  }
  // Image data and descriptions of a file get a validator; rendered images
  // bring theirs from the response cache, computed once.
  if (response.status == 200 && response.find_header("Last-Modified") != nullptr &&
      response.find_header("ETag") == nullptr) {
    response.set_header("ETag", entity_tag(response.content()));
  }
  answer_not_modified(request, response);
}

// URI_MAP: "prefix=>protocol" mappings, any number of them, tried in order.
std::optional<Response> Service::route_uri_map(const Request& request,
                                               const ServeContext& context) const {
  const std::string_view path = request.path;
  for (const UriMapping& mapping : config_.uri_map) {
    std::string_view rest;
    if (mapping.prefix.empty()) {
      rest = path.substr(1);
    } else {
      const std::string prefix = "/" + mapping.prefix;
      if (path == prefix) {
        rest = {};
      } else if (path.starts_with(prefix + "/")) {
        rest = path.substr(prefix.size() + 1);
      } else {
        continue;
      }
    }
    switch (mapping.protocol) {
      case Protocol::Iiif:
        return handle_iiif(request,
                           IiifRoute{config_.iiif_version,
                                     mapping.prefix.empty() ? std::string() : "/" + mapping.prefix,
                                     std::string(rest)},
                           context);
      case Protocol::DeepZoom:
        return handle_deepzoom(rest, context);
      case Protocol::Zoomify:
        return handle_zoomify(rest, context);
      case Protocol::Iip:
        return handle_iip(request, context);
    }
  }
  return std::nullopt;
}

Response Service::route(const Request& request, bool memory_only) const {
  const ServeContext context{config_,     resolver_,        *images_,         *tiles_,
                             *responses_, memcached_.get(), watermark_.get(), memory_only};
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
  // Not under the iipsrv name, nor over the whole file system: the gallery
  // walks the image root, which there is every file of the machine.
  const bool viewer_enabled = !config_.invoked_as_iipsrv && resolver_.root() != "/";
  if (viewer_enabled) {
    // The gallery walks folders and opens images: a worker's job.
    if (memory_only && is_viewer_page(request.path)) throw NeedsWorker{};
    if (auto viewer = handle_viewer(request, config_, resolver_)) return std::move(*viewer);
  }
  if (auto mapped = route_uri_map(request, context)) return std::move(*mapped);
  if (const auto iiif = match_iiif(request.path, config_.iiif_version)) {
    return handle_iiif(request, *iiif, context);
  }
  const std::string_view path = request.path;
  if (path.starts_with("/deepzoom/")) return handle_deepzoom(path.substr(10), context);
  if (path.starts_with("/zoomify/")) return handle_zoomify(path.substr(9), context);
  if (path == "/iip" || path == "/iip/" || path == "/fcgi-bin/iipsrv.fcgi") {
    return handle_iip(request, context);
  }
  not_found(fmt::format("no route for {}", request.path));
}

}  // namespace tessera
