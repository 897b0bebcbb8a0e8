#pragma once
// Carries out a Plan: reads the stored tiles it needs from the source,
// assembles them, and applies the IIIF steps in the specification's order —
// region, size, rotation (mirror first), quality — then encodes.

#include <string>

#include "encode/encoder.hpp"
#include "image/image_source.hpp"
#include "process/resample.hpp"
#include "render/planner.hpp"

namespace tessera {

struct RenderOptions {
  Interpolation interpolation = Interpolation::Bilinear;
  EncodeOptions encode;
  // CODEC_PASSTHROUGH: a plan whose output is one stored tile as it is
  // (plan_stored_tile) is answered with the tile's stored bytes when they
  // are in the plan's format and no profile is to be embedded.
  bool passthrough = false;
};

// The pixels of the plan's output, before encoding: 8-bit or 16-bit, grey or
// RGB, with alpha when the source has it or a rotation made some.
Raster render_raster(ImageSource& source, const Plan& plan, const RenderOptions& options);

// The encoded bytes of the plan's output in the plan's format: the stored
// tile's own bytes when options.passthrough allows, else decoded and encoded.
std::string render_image(ImageSource& source, const Plan& plan, const RenderOptions& options);

}  // namespace tessera
