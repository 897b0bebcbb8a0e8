#pragma once
// The IIIF Image API (versions 2.1 and 3.0): the URL parser and info.json.
//
// parse_iiif is a pure function from the path after the IIIF prefix to a
// Query. It checks syntax only; whether the request fits the image (region
// inside it, size within limits, upscaling allowed) is the planner's business.
//
// Path forms, split at raw '/':
//   {id} or {id}/                              -> QueryKind::BaseRedirect
//   {id}/info.json                             -> QueryKind::Info
//   {id}/{region}/{size}/{rotation}/{quality}.{format}  -> QueryKind::Image
// The identifier may span several raw segments (a path under the image root);
// the parameters are taken from the right. A path of five or more segments is
// therefore always an image request: a base URI whose identifier has four or
// more raw slashes must encode them (%2F), as the specification requires of
// every identifier anyway, or end in '/'.
// A path of two to four segments whose last names a quality ("default.jpg")
// is an image request missing parameters (400), not an identifier.
//
// Each identifier segment is percent-decoded on its own; %2F becomes '/'. Path
// safety ("..", absolute paths) is the resolver's business, but the parser
// refuses empty segments, NUL and other control bytes (an identifier goes on
// into headers and logs), and "%XX" left after decoding (double encoding).
//
// Number grammar (both versions), stricter than strtod on purpose:
//   integer: ASCII digits only, value at most 999999999 (no sign, exponent,
//            hex, whitespace, or non-ASCII digits).
//   float:   ASCII digits with at most one '.', at least one digit ("12",
//            "12.5", ".5" and "5." are accepted; the spec only asks clients
//            to prefer "0.5"); integer part at most 999999999; at most 32
//            characters. No sign, exponent, NaN or infinity.
// Every malformed request throws Error(400, "<reason naming the bad part>").

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "image/image_info.hpp"
#include "protocol/query.hpp"

namespace tessera {

// `path` is still percent-encoded; `version` is 2 or 3 (the router's prefix).
Query parse_iiif(std::string_view path, int version);

struct IiifDescribeOptions {
  std::string id;   // the image service's base URI, no trailing slash
  int version = 3;  // 2 (Image API 2.1) or 3
  // Server-imposed output limits; 0 means none. The specification requires
  // maxWidth whenever maxHeight is given: if only max_height is set, maxWidth
  // is stated as the image width.
  uint32_t max_width = 0;
  uint32_t max_height = 0;
  uint64_t max_area = 0;
  // What the server offers beyond level 1 (jpg, default quality, level 1
  // features), written verbatim into extraFormats/extraQualities/extraFeatures
  // (3.0) or the profile's formats/qualities/supports (2.1). Feature names are
  // the version's own (e.g. "sizeUpscaling" in 3.0, "sizeAboveFull" in 2.1).
  std::vector<std::string> extra_formats;      // e.g. "png", "webp"
  std::vector<std::string> extra_qualities;    // e.g. "color", "gray"
  std::vector<std::string> extra_features;     // e.g. "mirroring", "rotationBy90s"
  int compliance_level = 1;                    // the profile: level0, level1 or level2
  std::vector<std::string> preferred_formats;  // 3.0 preferredFormats, e.g. "jpg"
  std::string rights;                          // a licence URI: 3.0 "rights", 2.1 "license"
  std::string attribution;                     // 2.1 "attribution" (text); 3.0 has no such field
};

// The info.json document describing `info`.
std::string describe_iiif(const ImageInfo& info, const IiifDescribeOptions& options);

// The compliance profile URI a version's responses name in Link rel="profile".
std::string iiif_profile_uri(int version, int compliance_level);

// What the planner made of an image request, in full-resolution pixels: the
// inputs of the canonical form.
struct IiifResolved {
  uint32_t image_width = 0, image_height = 0;
  uint32_t region_x = 0, region_y = 0, region_width = 0, region_height = 0;
  uint32_t out_width = 0, out_height = 0;
};

// The canonical "{region}/{size}/{rotation}/{quality}.{format}" of a request
// (3.0 section 4.7, 2.1 section 4.7): requests that differ only in how they
// say the same thing share it, and so share cached responses.
std::string canonical_iiif_parameters(const Query& query, const IiifResolved& resolved);

}  // namespace tessera
