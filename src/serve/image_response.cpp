#include "serve/image_response.hpp"

#include "render/executor.hpp"
#include "serve/file_info.hpp"
#include "serve/http_date.hpp"

namespace tessera {

OpenedImage open_identifier(const Resolver& resolver, std::string_view identifier) {
  OpenedImage image;
  image.file = resolver.resolve(identifier);
  image.source = open_image(image.file);
  return image;
}

Limits configured_limits(const Config& config) {
  return Limits{config.max_cvt, config.max_cvt, config.max_area};
}

Response render_response(const Query& query, const OpenedImage& image, const Config& config,
                         const RenderOverrides& overrides, Plan* plan_out) {
  const ImageInfo& info = image.source->info();
  const Plan plan = plan_image(query, info, configured_limits(config));
  RenderOptions options;
  options.interpolation = Interpolation(config.interpolation);
  options.encode.jpeg_quality =
      overrides.jpeg_quality >= 0 ? overrides.jpeg_quality : config.jpeg_quality;
  options.encode.dpi_x = info.dpi_x;
  options.encode.dpi_y = info.dpi_y;
  Response response = make_response(200, render_image(*image.source, plan, options),
                                    format_media_type(plan.format));
  set_last_modified(response, image.file);
  if (plan_out) *plan_out = plan;
  return response;
}

void set_last_modified(Response& response, const std::filesystem::path& file) {
  response.set_header("Last-Modified", format_http_date(file_mtime(file)));
}

Response make_response(int status, std::string body, std::string_view content_type) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  response.set_header("Content-Type", std::string(content_type));
  return response;
}

}  // namespace tessera
