#include "serve/iiif_endpoint.hpp"

#include <fmt/format.h>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "image/image_source.hpp"
#include "protocol/iiif.hpp"
#include "protocol/percent.hpp"
#include "serve/image_response.hpp"
#include "serve/public_url.hpp"

namespace tessera {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// What this server serves beyond its compliance level (level 2), in each
// version's words: the one list info.json states and the planner honours.
struct Offer {
  int compliance_level;
  std::vector<std::string> formats, qualities, features;
};

// What is offered per version, made once.
const Offer& offer(int version) {
  if (version >= 3) {
    // 3.0 level 2 requires png, regionByPct, sizeByConfinedWh, sizeByPct and
    // rotationBy90s; colour qualities and the rest are extras.
    static const Offer v3{2,
                          {"webp", "tif", "gif", "jp2"},
                          {"color", "gray", "bitonal"},
                          {"canonicalLinkHeader", "mirroring", "profileLinkHeader",
                           "rotationArbitrary", "sizeUpscaling"}};
    return v3;
  }
  // 2.1 level 2 requires png and all four qualities; clients such as Mirador
  // read the qualities from the profile, so they are listed anyway.
  static const Offer v2{2,
                        {"webp", "tif", "gif", "jp2"},
                        {"default", "color", "gray", "bitonal"},
                        {"canonicalLinkHeader", "mirroring", "profileLinkHeader", "regionSquare",
                         "rotationArbitrary", "sizeAboveFull"}};
  return v2;
}

}  // namespace

std::optional<IiifRoute> match_iiif(std::string_view path, int default_version) {
  for (int version : {3, 2}) {
    const std::string_view prefix = version == 3 ? "/iiif/3/" : "/iiif/2/";
    if (starts_with(path, prefix)) {
      return IiifRoute{version, std::string(path.substr(0, prefix.size() - 1)),
                       std::string(path.substr(prefix.size()))};
    }
  }
  if (starts_with(path, "/iiif/")) {
    return IiifRoute{default_version, "/iiif", std::string(path.substr(6))};
  }
  return std::nullopt;
}

Response handle_iiif(const Request& request, const IiifRoute& route, const ServeContext& context) {
  const Config& config = context.config;
  const Query query = parse_iiif(route.rest, route.version);
  const ResolvedFile file = resolve_identifier(context, query.identifier);
  // Not made for a request the network thread hands on to a worker.
  const auto service_id = [&] {
    return public_origin(request, config) + route.prefix + route.separator +
           percent_encode_path(query.identifier);
  };

  Response response;
  if (query.kind == QueryKind::BaseRedirect) {
    response.status = 303;
    response.body = "see info.json\n";
    response.set_header("Content-Type", "text/plain; charset=utf-8");
    response.set_header("Location", service_id() + "/info.json");
    return response;
  }

  const OpenedImage image = open_file(context, file);
  const ImageInfo& info = *image.info;
  const Limits limits = configured_limits(config);
  const Offer& served = offer(query.iiif_version);
  const auto profile = [&] {
    return iiif_profile_uri(query.iiif_version, served.compliance_level);
  };

  if (query.kind == QueryKind::Info) {
    IiifDescribeOptions options;
    options.id = service_id();
    options.version = query.iiif_version;
    options.max_width = limits.max_width;
    options.max_height = limits.max_height;
    options.max_area = limits.max_area;
    options.compliance_level = served.compliance_level;
    options.extra_formats = served.formats;
    options.extra_qualities = served.qualities;
    options.extra_features = served.features;
    if (query.iiif_version >= 3) options.preferred_formats = {"jpg"};
    options.rights = config.rights;
    if (options.rights.empty()) {
      // A licence URI recorded in the file serves as well as a configured one.
      const auto it = info.metadata.find("rights");
      if (it != info.metadata.end() &&
          (starts_with(it->second, "http://") || starts_with(it->second, "https://")) &&
          it->second.find_first_of(" \t\r\n\"<>") == std::string::npos) {
        options.rights = it->second;
      }
    }
    options.attribution = config.copyright;
    response.body = describe_iiif(info, options);
    const std::string context =
        fmt::format("http://iiif.io/api/image/{}/context.json", query.iiif_version);
    // JSON-LD only when the client asks for it; plain JSON otherwise (3.0
    // section 5, 2.1 section 5).
    const bool wants_ld = request.header("accept").find("application/ld+json") != std::string::npos;
    response.set_header(
        "Content-Type",
        wants_ld ? fmt::format("application/ld+json;profile=\"{}\"", context) : "application/json");
    response.set_header("Link", fmt::format("<{}>;rel=\"profile\"", profile()));
  } else {
    Plan plan;
    response = render_response(query, image, context, {}, &plan);
    if (response.needs_worker) return response;
    const IiifResolved resolved{info.width,     info.height,       plan.region.x,
                                plan.region.y,  plan.region.width, plan.region.height,
                                plan.out_width, plan.out_height};
    const std::string canonical = service_id() + "/" + canonical_iiif_parameters(query, resolved);
    response.set_header(
        "Link", fmt::format("<{}>;rel=\"canonical\", <{}>;rel=\"profile\"", canonical, profile()));
  }
  set_last_modified(response, image);
  return response;
}

}  // namespace tessera
