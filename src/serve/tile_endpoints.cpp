#include "serve/tile_endpoints.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "cache/image_cache.hpp"
#include "cache/tile_cache.hpp"
#include "common/error.hpp"
#include "protocol/deepzoom.hpp"
#include "protocol/iip.hpp"
#include "protocol/tiling.hpp"
#include "protocol/zoomify.hpp"
#include "render/executor.hpp"
#include "serve/iiif_endpoint.hpp"
#include "serve/image_response.hpp"
#include "serve/image_sequence.hpp"
#include "serve/public_url.hpp"

namespace tessera {

namespace {

// iipsrv's clients send absolute-looking paths (FIF=/images/x.tif) that it
// appends to FILESYSTEM_PREFIX. Without a prefix they are paths under the
// image root; with one, they are appended as iipsrv does.
std::string_view root_relative(std::string_view path, const Config& config) {
  if (!config.filesystem_prefix.empty()) return path;
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return path;
}

Response from_reply(const IipReply& reply) {
  Response response = make_response(reply.status, reply.body, reply.content_type);
  for (const auto& [name, value] : reply.headers) response.set_header(name, value);
  return response;
}

IipOptions iip_options(const Config& config) {
  IipOptions options;
  options.max_cvt = config.max_cvt;
  options.allow_upscaling = config.allow_upscaling;
  return options;
}

// Points of an IIP resolution as points of a stored level: the level of the
// same scale, or for a resolution below the smallest stored level (iipsrv's
// virtual ones) that level, at the nearest pixel. Returns the level.
int to_stored_level(const ImageInfo& info, const ProtocolLevel& level,
                    std::vector<std::pair<uint32_t, uint32_t>>& points) {
  if (info.levels.empty()) throw Error(500, "the image has no levels");
  int stored = int(info.levels.size()) - 1;
  for (std::size_t i = 0; i < info.levels.size(); ++i) {
    const double scale = info.levels[i].scale > 0 ? info.levels[i].scale : 1.0;
    if (std::abs(scale - level.scale) < 1e-9) stored = int(i);
  }
  const LevelInfo& to = info.levels[std::size_t(stored)];
  const double ratio = level.scale / (to.scale > 0 ? to.scale : 1.0);  // > 1: a virtual level
  if (ratio != 1.0) {
    for (auto& [x, y] : points) {
      x = std::min(uint32_t(std::floor(x * ratio)), to.width - 1);
      y = std::min(uint32_t(std::floor(y * ratio)), to.height - 1);
    }
  }
  return stored;
}

// The stored samples of `image` at `points` of stored level `level`.
std::vector<double> read_samples(const OpenedImage& image, int level,
                                 const std::vector<std::pair<uint32_t, uint32_t>>& points,
                                 const ServeContext& context) {
  if (context.memory_only) throw NeedsWorker{};
  ImageLease lease = context.images.acquire(image.file, image.identity);
  CachingSource source(lease.source(), lease.identity(), context.tiles);
  return sample_points(source, level, points);
}

// PFL: the stored samples along a line of one IIP resolution, as JSON.
Response iip_profile(const IipRequest& iip, const OpenedImage& image, const ImageInfo& info,
                     const IipOptions& options, const ServeContext& context) {
  const std::vector<ProtocolLevel> levels = iip_levels(info, options);
  IipProfileLine line = iip_profile_line(iip, levels);
  const int stored = to_stored_level(info, *line.level, line.points);
  Response response =
      make_response(200, format_iip_profile(read_samples(image, stored, line.points, context)),
                    "application/json");
  set_last_modified(response, image);
  return response;
}

// SPECTRA: one point's value (its first band, as a fraction of the sample
// range) in each view of a sequence along its horizontal angles, which
// multispectral sets use for wavelengths, at the request's vertical angle.
// A single image is one view, of angle 0.
Response iip_spectra(const IipRequest& iip, const OpenedImage& image, const ImageInfo& info,
                     const IipOptions& options, const SequenceViews& sequence,
                     const ServeContext& context) {
  const std::vector<ProtocolLevel> levels = iip_levels(info, options);
  std::vector<std::pair<uint32_t, uint32_t>> point = {iip_spectra_point(iip, levels, info)};
  const int stored = to_stored_level(info, levels[std::size_t(iip.resolution)], point);
  const double full = full_scale(info);
  // In single precision, as iipsrv computes it: the sixth decimal it prints
  // then agrees (131 / 255 is 0.513726 in float, 0.513725 in double).
  const auto reflectance = [&](const OpenedImage& view) {
    return double(float(read_samples(view, stored, point, context).front()) / float(full));
  };
  std::vector<std::pair<int, double>> points;
  if (sequence.empty()) {
    points.emplace_back(0, reflectance(image));
  } else {
    const Config& config = context.config;
    const std::string_view fif = root_relative(iip.fif, config);
    for (const int h : sequence.horizontal) {
      OpenedImage view;
      try {
        view =
            open_identifier(context, sequence_view_id(fif, config.filename_pattern, h, iip.view_y));
      } catch (const Error& e) {
        if (e.status() == 404) continue;  // no view at this angle and height
        throw;
      }
      points.emplace_back(h, reflectance(view));
    }
  }
  Response response = make_response(200, format_iip_spectra(points), "application/xml");
  set_last_modified(response, image);
  return response;
}

// FIF's image: the file it names, or else the view SDS picks (0, 90 by
// default) of the image sequence it names, whose views then go into the OBJ
// replies.
OpenedImage open_iip_image(const IipRequest& iip, IipOptions& options, SequenceViews& sequence,
                           const ServeContext& context) {
  const Config& config = context.config;
  const std::string_view fif = root_relative(iip.fif, config);
  try {
    return open_identifier(context, fif);
  } catch (const Error& e) {
    if (e.status() != 404 || config.filename_pattern.empty()) throw;
  }
  OpenedImage view;
  try {
    view = open_identifier(context,
                           sequence_view_id(fif, config.filename_pattern, iip.view_x, iip.view_y));
  } catch (const Error& e) {
    if (e.status() != 404) throw;
    not_found(fmt::format("no image named '{}', nor view {},{} of a sequence of that name", fif,
                          iip.view_x, iip.view_y));
  }
  const bool asks_views =
      iip.action == IipRequest::Action::Spectra ||
      std::any_of(iip.objects.begin(), iip.objects.end(), [](const std::string& object) {
        return object == "horizontal-views" || object == "vertical-views";
      });
  if (asks_views) {
    if (context.memory_only) throw NeedsWorker{};  // a folder to read
    sequence = sequence_views(view.file.parent_path(),
                              std::filesystem::path(std::string(fif)).filename().string(),
                              config.filename_pattern);
    if (!sequence.empty()) {
      options.horizontal_views = sequence.horizontal;
      options.vertical_views = sequence.vertical;
    }
  }
  return view;
}

}  // namespace

Response handle_deepzoom(std::string_view rest, const ServeContext& context) {
  const DeepZoomRequest request = parse_deepzoom(rest);
  const OpenedImage image = open_identifier(context, request.identifier);
  const ImageInfo& info = *image.info;
  const uint32_t tile_size = advertised_tile_width(info);
  if (request.kind == DeepZoomRequest::Kind::Descriptor) {
    Response response = make_response(200, describe_dzi(info, tile_size), "application/xml");
    set_last_modified(response, image);
    return response;
  }
  return render_response(deepzoom_tile_query(request, info, tile_size), image, context);
}

Response handle_zoomify(std::string_view rest, const ServeContext& context) {
  const ZoomifyRequest request = parse_zoomify(rest);
  const OpenedImage image = open_identifier(context, request.identifier);
  const ImageInfo& info = *image.info;
  const uint32_t tile_size = advertised_tile_width(info);
  if (request.kind == ZoomifyRequest::Kind::Properties) {
    Response response = make_response(200, describe_zoomify(info, tile_size), "application/xml");
    set_last_modified(response, image);
    return response;
  }
  return render_response(zoomify_tile_query(request, info, tile_size), image, context);
}

Response handle_iip(const Request& request, const ServeContext& context) {
  const Config& config = context.config;
  const IipRequest iip = parse_iip(request.query);
  if (!iip.errors.empty()) return from_reply(iip_error_reply(iip.errors));

  // The other protocols, reached through iipsrv's query-string forms.
  switch (iip.action) {
    case IipRequest::Action::DeepZoom:
      return handle_deepzoom(root_relative(iip.path, config), context);
    case IipRequest::Action::Zoomify:
      return handle_zoomify(root_relative(iip.path, config), context);
    case IipRequest::Action::Iiif: {
      // Ids under this form are the script's URL with "?IIIF=" and the path,
      // as iipsrv writes them.
      const IiifRoute route{config.iiif_version,
                            request.path + "?IIIF=", std::string(root_relative(iip.path, config)),
                            ""};
      return handle_iiif(request, route, context);
    }
    default:
      break;
  }

  require_implemented(iip);
  IipOptions options = iip_options(config);
  OpenedImage image;
  ImageInfo no_image;
  SequenceViews sequence;  // none: a single image
  if (iip.has_fif) image = open_iip_image(iip, options, sequence, context);
  const ImageInfo& info = image.info ? *image.info : no_image;
  RenderOverrides overrides;
  overrides.jpeg_quality = iip.quality;
  overrides.layers = iip.layers;

  switch (iip.action) {
    case IipRequest::Action::None: {
      Response response = from_reply(describe_iip_obj(iip.objects, info, options, iip.rotation));
      if (image.info) set_last_modified(response, image);
      return response;
    }
    case IipRequest::Action::Tile:
      return render_response(iip_tile_query(iip, info, options), image, context, overrides);
    case IipRequest::Action::Convert: {
      Response response =
          render_response(iip_cvt_query(iip, info, options), image, context, overrides);
      // iipsrv names CVT downloads after the image.
      const std::string name = image.file.stem().string() + "." + format_extension(iip.format);
      if (name.find_first_of("\"\\\r\n") == std::string::npos) {
        response.set_header("Content-Disposition", fmt::format("inline;filename=\"{}\"", name));
      }
      return response;
    }
    case IipRequest::Action::Tiles: {
      // Several JPEG tiles in IIP's own framing, one reply.
      std::string body;
      for (const IipTilTile& tile : iip_til_tiles(iip, info, options)) {
        Response one = render_response(tile.query, image, context, overrides);
        if (one.needs_worker) return one;
        body += frame_iip_til_tile(iip.resolution, tile.index, one.content());
      }
      Response response = make_response(200, std::move(body), "application/vnd.netfpx");
      set_last_modified(response, image);
      return response;
    }
    case IipRequest::Action::Profile:
      return iip_profile(iip, image, info, options, context);
    case IipRequest::Action::Spectra:
      return iip_spectra(iip, image, info, options, sequence, context);
    default:
      throw Error(500, "unhandled IIP action");
  }
}

}  // namespace tessera
