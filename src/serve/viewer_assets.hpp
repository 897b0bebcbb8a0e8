#pragma once
// The viewer's static files (viewer/*.html, *.js, *.css and OpenSeadragon),
// compiled into the binary so that it serves them wherever it is installed.
// viewer_assets() is defined in a source file that CMake generates from
// viewer/ and viewer/node_modules (cmake/embed_viewer.cmake).

#include <span>
#include <string_view>

namespace tessera {

struct ViewerAsset {
  std::string_view path;  // relative to viewer/: "view.js", "openseadragon/openseadragon.min.js"
  std::string_view data;
  std::string_view etag;  // a digest of the data, quoted, for If-None-Match
};

// Every embedded file, sorted by path. Empty in unit-only builds.
std::span<const ViewerAsset> viewer_assets();

}  // namespace tessera
