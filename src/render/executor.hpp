#pragma once
// Carries out a Plan: reads the stored tiles it needs from the source,
// assembles them, resamples to the output size and encodes.

#include <string>

#include "image/image_source.hpp"
#include "process/resample.hpp"
#include "render/planner.hpp"

namespace tessera {

struct RenderOptions {
  Interpolation interpolation = Interpolation::Bilinear;
  int jpeg_quality = 75;
};

// The pixels of the plan's output, before encoding.
Raster render_raster(ImageSource& source, const Plan& plan, const RenderOptions& options);

// The encoded bytes of the plan's output in the plan's format.
std::string render_image(ImageSource& source, const Plan& plan, const RenderOptions& options);

}  // namespace tessera
