#pragma once
// The built-in viewer: its pages, its static files, the small JSON API the
// gallery pages through, and IIIF Presentation 3.0 manifests.
//
//   /                          the gallery (also /index.html)
//   /view/{id}                 one image; /view?iiif={info.json URL} any IIIF image
//   /compare/{id1}/{id2}       two images, overlaid or side by side
//   /book/{sequence}           a folder or numbered files as a book;
//                              /book?manifest={URL} any IIIF manifest
//   /viewer/{file}             the embedded scripts and styles
//   /api/images?folder=&q=&offset=&limit=   a page of the gallery
//   /iiif/manifest/{id}        a manifest for an image or a sequence
//
// The pages are the same HTML whatever they show: the server checks that
// what they name exists (404 otherwise) and hands the rest to the scripts
// in a JSON block, with a relative <base> so they work behind a proxy that
// mounts Tessera under a path.

#include <optional>

#include "serve/config.hpp"
#include "serve/request.hpp"
#include "serve/resolver.hpp"

namespace tessera {

// The response when `request.path` is one of the viewer's routes, nullopt
// otherwise. Throws Error for the service to turn into an error response.
// Whether `path` is one of the viewer's pages or its API (not its static
// files): what handle_viewer answers by reading folders and images.
bool is_viewer_page(std::string_view path);

std::optional<Response> handle_viewer(const Request& request, const Config& config,
                                      const Resolver& resolver);

}  // namespace tessera
