#pragma once
// IIIF Presentation API 3.0 manifests: one image, or a sequence of images
// (a book), as canvases painted by the server's own Image API services, so
// that Mirador, the Universal Viewer and Tessera's viewer can open them.
// A pure function of what it is given: the caller resolves ids and reads
// sizes.

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace tessera {

struct ManifestCanvas {
  std::string image_id;  // the image's identifier (decoded); its services are built from it
  std::string label;
  uint32_t width = 0, height = 0;
};

struct ManifestOptions {
  std::string id;  // the manifest's own URI
  std::string label;
  std::string image_base;   // "{origin}/iiif": services are {image_base}/3/{id} and /2/{id}
  std::string homepage;     // a page showing the same thing (Tessera's viewer); "" for none
  std::string rights;       // a licence URI, or ""
  std::string attribution;  // requiredStatement text, or ""
  // The server's output limits (0: none), so that each painting body states
  // the size its "full/max" URL really answers.
  uint32_t max_width = 0, max_height = 0;
  uint64_t max_area = 0;
  std::vector<std::pair<std::string, std::string>> metadata;  // label, value
};

// The manifest JSON. Canvases are numbered from 1: {id}/canvas/{n}.
std::string describe_manifest(const ManifestOptions& options,
                              std::span<const ManifestCanvas> canvases);

}  // namespace tessera
