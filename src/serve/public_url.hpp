#pragma once
// The scheme://host[/path] under which clients reach this server: what the
// ids in IIIF info.json, manifests and redirects are built from.

#include <string>

#include "serve/config.hpp"
#include "serve/request.hpp"

namespace tessera {

// BASE_URL when configured; else X-Forwarded-Proto and X-Forwarded-Host as a
// proxy sets them; else the Host header. Header values that do not look like
// a scheme or a host name are ignored (they end up in JSON and headers). The
// result has no trailing slash.
std::string public_origin(const Request& request, const Config& config);

}  // namespace tessera
