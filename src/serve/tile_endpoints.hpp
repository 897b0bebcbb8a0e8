#pragma once
// The tile protocols iipsrv speaks besides IIIF: DeepZoom at /deepzoom/...,
// Zoomify at /zoomify/..., and IIP's query strings at /iip and
// /fcgi-bin/iipsrv.fcgi. Each parses with its protocol/ file and renders
// through image_response.

#include <string_view>

#include "serve/request.hpp"
#include "serve/serve_context.hpp"

namespace tessera {

// `rest` is the path after "/deepzoom/" or "/zoomify/", still percent-encoded.
Response handle_deepzoom(std::string_view rest, const ServeContext& context);
Response handle_zoomify(std::string_view rest, const ServeContext& context);

// An IIP request: the query string after '?'.
Response handle_iip(const Request& request, const ServeContext& context);

}  // namespace tessera
