#pragma once
// Carries out a Plan: reads the stored tiles it needs from the source,
// assembles them, and applies the IIIF steps in the specification's order —
// region, size, rotation (mirror first), quality — then encodes.

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "encode/encoder.hpp"
#include "image/image_source.hpp"
#include "process/resample.hpp"
#include "process/watermark.hpp"
#include "render/planner.hpp"

namespace tessera {

struct RenderOptions {
  Interpolation interpolation = Interpolation::Bilinear;
  EncodeOptions encode;
  // CODEC_PASSTHROUGH: a plan whose output is one stored tile as it is
  // (plan_stored_tile) is answered with the tile's stored bytes when they
  // are in the plan's format and no profile is to be embedded.
  bool passthrough = false;
  // WATERMARK: laid over the output (process/watermark.hpp), at places
  // `watermark_seed` picks; stored and cached tiles are then never sent as
  // they are. Null for none.
  const Watermark* watermark = nullptr;
  uint64_t watermark_seed = 0;
};

// The pixels of the plan's output, before encoding: 8-bit or 16-bit, grey or
// RGB, with alpha when the source has it or a rotation made some.
Raster render_raster(ImageSource& source, const Plan& plan, const RenderOptions& options);

// The encoded bytes of the plan's output in the plan's format: the stored
// tile's own bytes when options.passthrough allows, else decoded and encoded.
std::string render_image(ImageSource& source, const Plan& plan, const RenderOptions& options);

// The samples of stored level `level` at `points` (that level's pixels),
// every band of each point in turn, as stored (16-bit values as they are):
// what IIP's PFL reports. The rectangle holding the points is read, and may
// be no larger than 16 megapixels (Error(400)); a horizontal or vertical
// line is a strip.
std::vector<double> sample_points(ImageSource& source, int level,
                                  std::span<const std::pair<uint32_t, uint32_t>> points);

}  // namespace tessera
