#pragma once
// What a client asked for, independent of the protocol that said it. Each
// protocol parser (iiif, later iip, deepzoom, zoomify) produces a Query; the
// planner consumes it. Parsers check syntax only: whether the request fits
// the image is the planner's business.

#include <string>

#include "encode/format.hpp"
#include "process/adjust.hpp"

namespace tessera {

enum class QueryKind {
  Image,         // pixels: region/size/rotation/quality.format
  Info,          // the protocol's description of the image (info.json, ...)
  BaseRedirect,  // IIIF base URI: redirect to info.json
};

struct RegionSpec {
  enum class Kind { Full, Square, Pixels, Percent };
  Kind kind = Kind::Full;
  double x = 0, y = 0, w = 0, h = 0;  // full-resolution pixels, or percent for Percent
  bool operator==(const RegionSpec&) const = default;
};

struct SizeSpec {
  enum class Kind {
    Max,          // max (3.0), full (2.1)
    Width,        // w,
    Height,       // ,h
    Percent,      // pct:n
    WidthHeight,  // w,h   (distorts if needed)
    BestFit,      // !w,h  (keeps aspect ratio, fits inside)
  };
  Kind kind = Kind::Max;
  int w = 0, h = 0;
  double percent = 0;
  bool upscale = false;  // the 3.0 "^" prefix
  bool operator==(const SizeSpec&) const = default;
};

struct RotationSpec {
  double degrees = 0;   // clockwise, [0, 360]
  bool mirror = false;  // "!": mirror horizontally before rotating
  bool operator==(const RotationSpec&) const = default;
};

enum class Quality { Default, Color, Gray, Bitonal };

const char* quality_name(Quality q) noexcept;

struct Query {
  QueryKind kind = QueryKind::Image;
  std::string identifier;  // percent-decoded; resolved to a file by serve/
  int iiif_version = 3;
  RegionSpec region;
  SizeSpec size;
  RotationSpec rotation;
  Quality quality = Quality::Default;
  Format format = Format::Jpeg;
  Adjustments adjust;  // IIP's image processing (CNT, GAM, CMP, ...)
  bool operator==(const Query&) const = default;
};

}  // namespace tessera
