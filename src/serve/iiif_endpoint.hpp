#pragma once
// The IIIF Image API endpoints: /iiif/3/{id}/..., /iiif/2/{id}/... and
// /iiif/{id}/... (the version IIIF_VERSION names).

#include <optional>
#include <string>
#include <string_view>

#include "serve/request.hpp"
#include "serve/serve_context.hpp"

namespace tessera {

// Which IIIF version a path asks for, and the rest of the path after the prefix.
struct IiifRoute {
  int version;
  std::string prefix;  // what ids put before "/{id}": "/iiif/3", "/iiif", ...
  std::string rest;    // the path after the prefix and its '/', still encoded
  // Between prefix and id: iipsrv's "?IIIF=" form has none ("...?IIIF=a.tif").
  std::string separator = "/";
};

std::optional<IiifRoute> match_iiif(std::string_view path, int default_version);

// Answers one IIIF request; throws Error for the service to turn into an
// error response.
Response handle_iiif(const Request& request, const IiifRoute& route, const ServeContext& context);

}  // namespace tessera
