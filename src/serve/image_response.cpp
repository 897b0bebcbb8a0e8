#include "serve/image_response.hpp"

#include <fmt/format.h>

#include <random>

#include "cache/image_cache.hpp"
#include "cache/memcached_cache.hpp"
#include "cache/response_cache.hpp"
#include "cache/tile_cache.hpp"
#include "render/executor.hpp"
#include "serve/entity_tag.hpp"
#include "serve/http_date.hpp"

namespace tessera {

namespace {

// Everything that decides a rendered response's bytes, protocol-free: equal
// keys give equal bytes, so a DeepZoom tile and the IIIF request for the same
// pixels share one cache entry.
std::string render_key(const Plan& plan, const RenderOptions& options, int layers) {
  std::string key = fmt::format(
      "{},{},{},{}/{}x{}/{}{}/{}/{}/q{},{},{}/i{}/l{}", plan.region.x, plan.region.y,
      plan.region.width, plan.region.height, plan.out_width, plan.out_height,
      plan.rotation.mirror ? "!" : "", plan.rotation.degrees, quality_name(plan.quality),
      format_extension(plan.format), options.encode.jpeg_quality, options.encode.png_level,
      options.encode.webp_quality, int(options.interpolation), layers);
  if (plan.adjust.any()) key += "/a" + plan.adjust.key();
  return key;
}

// The memcached request adds to the render key what one process may leave out
// but the processes sharing memcached may not agree on: the file's name under
// the root (the identity's device number differs between machines mounting
// one share) and the settings that change a response's bytes for a whole
// process. Equal requests give equal bytes, whichever process made them.
std::string shared_request(const std::string& render_key, const OpenedImage& image,
                           const ServeContext& context) {
  const Config& c = context.config;
  std::filesystem::path name = image.file.lexically_relative(context.resolver.root());
  if (name.empty() || *name.begin() == "..") name = image.file;
  return fmt::format("{}\n{}\nlayers {} icc {} {} passthrough {} watermark {} {} {}", render_key,
                     name.generic_string(), c.max_layers, c.embed_icc, c.max_icc,
                     c.codec_passthrough, c.watermark, c.watermark_probability,
                     c.watermark_opacity);
}

}  // namespace

OpenedImage open_file(const ServeContext& context, const ResolvedFile& file) {
  OpenedImage image;
  image.file = file.path;
  image.identity = file.identity;
  if (context.memory_only) {
    image.info = context.images.cached_info(file.path, image.identity);
    if (!image.info) throw NeedsWorker{};
  } else {
    image.info = context.images.info(file.path, image.identity);
  }
  return image;
}

ResolvedFile resolve_identifier(const ServeContext& context, std::string_view identifier) {
  const Config& config = context.config;
  // iipsrv's naming applies only where it is configured: without it an
  // identifier is a plain path under the root, checked segment by segment.
  if (config.filesystem_prefix.empty() && config.filesystem_suffix.empty()) {
    return context.resolver.resolve_file(identifier);
  }
  return context.resolver.resolve_file(image_file_name(config, identifier));
}

OpenedImage open_identifier(const ServeContext& context, std::string_view identifier) {
  return open_file(context, resolve_identifier(context, identifier));
}

Limits configured_limits(const Config& config) {
  return Limits{config.max_cvt, config.max_cvt, config.max_area};
}

Response render_response(const Query& query, const OpenedImage& image, const ServeContext& context,
                         const RenderOverrides& overrides, Plan* plan_out) {
  const Config& config = context.config;
  const ImageInfo& info = *image.info;
  const Plan plan = plan_image(query, info, configured_limits(config));
  if (plan_out) *plan_out = plan;

  RenderOptions options;
  options.interpolation = Interpolation(config.interpolation);
  options.encode.jpeg_quality =
      overrides.jpeg_quality >= 0 ? overrides.jpeg_quality : config.jpeg_quality;
  options.encode.png_level = config.png_quality;
  options.encode.webp_quality = config.webp_quality;
  options.encode.dpi_x = info.dpi_x;
  options.encode.dpi_y = info.dpi_y;
  options.passthrough = config.codec_passthrough;
  options.watermark = context.watermark;
  if (context.watermark != nullptr) {
    // Where the marks go: each render its own draw, as iipsrv's tiles.
    thread_local std::mt19937_64 seeds{std::random_device{}()};
    options.watermark_seed = seeds();
  }
  // The file's colour profile goes with its pixels, as iipsrv's EMBED_ICC
  // and MAX_ICC allow (a profile larger than MAX_ICC is left out).
  if (config.embed_icc && !info.icc.empty() &&
      (config.max_icc < 0 || int64_t(info.icc.size()) <= config.max_icc)) {
    options.encode.icc = info.icc;
  }

  const int layers = layers_to_decode(config.max_layers, overrides.layers);
  // Stored tiles are other bytes with passthrough: a shared cache must not mix them.
  const std::string key = render_key(plan, options, layers) + (options.passthrough ? "/p" : "");
  // Formatted only for a response not yet in the process's cache.
  const auto last_modified = [&] {
    return format_http_date(image.identity.mtime_ns / 1'000'000'000);
  };
  std::shared_ptr<const CachedResponse> cached = context.responses.get(key, image.identity);
  if (!cached && context.memory_only) {
    Response elsewhere;
    elsewhere.needs_worker = true;
    return elsewhere;
  }
  std::string shared_key;
  if (!cached && context.shared_responses != nullptr) {
    shared_key = shared_request(key, image, context);
    if (auto shared = context.shared_responses->get(shared_key, image.identity)) {
      auto found = std::make_shared<CachedResponse>();
      found->body = std::move(shared->body);
      found->headers = {{"Content-Type", std::move(shared->content_type)},
                        {"Last-Modified", last_modified()},
                        {"ETag", entity_tag(found->body)}};
      context.responses.put(key, image.identity, found);
      cached = std::move(found);
    }
  }
  if (!cached) {
    ImageLease lease = context.images.acquire(image.file, image.identity);
    CachingSource source(lease.source(), lease.identity(), context.tiles);
    source.set_quality_layers(layers);
    auto fresh = std::make_shared<CachedResponse>();
    fresh->body = render_image(source, plan, options);
    const std::string content_type = format_media_type(plan.format);
    fresh->headers = {{"Content-Type", content_type},
                      {"Last-Modified", last_modified()},
                      {"ETag", entity_tag(fresh->body)}};
    context.responses.put(key, lease.identity(), fresh);
    if (context.shared_responses != nullptr) {
      context.shared_responses->put(shared_key, lease.identity(), content_type, fresh->body);
    }
    cached = std::move(fresh);
  }
  Response response;
  response.status = 200;
  response.headers = cached->headers;
  // The cache's own bytes, shared for as long as the reply is being sent.
  response.shared_body = std::shared_ptr<const std::string>(cached, &cached->body);
  return response;
}

void set_last_modified(Response& response, const OpenedImage& image) {
  if (response.find_header("Last-Modified") != nullptr) return;  // a rendered image's own
  const std::time_t mtime = image.identity == FileIdentity{}
                                ? file_mtime(image.file)
                                : std::time_t(image.identity.mtime_ns / 1'000'000'000);
  response.set_header("Last-Modified", format_http_date(mtime));
}

Response make_response(int status, std::string body, std::string_view content_type) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  response.set_header("Content-Type", std::string(content_type));
  return response;
}

}  // namespace tessera
