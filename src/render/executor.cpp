#include "render/executor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "common/error.hpp"
#include "process/colour.hpp"
#include "process/rotate.hpp"

namespace tessera {

namespace {

// The level pixels of `rect`, pasted together from the stored tiles.
Raster read_rect(ImageSource& source, int level_index, const PixelRect& rect) {
  const LevelInfo& level = source.info().levels.at(level_index);
  const uint32_t tx0 = rect.x / level.tile_width, ty0 = rect.y / level.tile_height;
  const uint32_t tx1 = (rect.x + rect.width - 1) / level.tile_width;
  const uint32_t ty1 = (rect.y + rect.height - 1) / level.tile_height;

  // A source that decodes rectangles decodes just this one, unless it is a
  // whole tile (which the tile cache may hold).
  const bool whole_tile = tx0 == tx1 && ty0 == ty1 && rect.x == tx0 * level.tile_width &&
                          rect.y == ty0 * level.tile_height &&
                          rect.width == std::min(level.tile_width, level.width - rect.x) &&
                          rect.height == std::min(level.tile_height, level.height - rect.y);
  if (source.decodes_regions() && !whole_tile) {
    return source.region(level_index, rect.x, rect.y, rect.width, rect.height);
  }

  // One tile, as OpenSeadragon and friends ask for: no copy needed.
  if (tx0 == tx1 && ty0 == ty1 && rect.x == tx0 * level.tile_width &&
      rect.y == ty0 * level.tile_height) {
    Raster tile = source.tile(level_index, tx0, ty0);
    if (tile.width() == rect.width && tile.height() == rect.height) return tile;
    return tile.crop(0, 0, std::min(rect.width, tile.width()),
                     std::min(rect.height, tile.height()));
  }

  Raster canvas;
  for (uint32_t ty = ty0; ty <= ty1; ++ty) {
    for (uint32_t tx = tx0; tx <= tx1; ++tx) {
      Raster tile = source.tile(level_index, tx, ty);
      if (canvas.empty())
        canvas = Raster(rect.width, rect.height, tile.bands(), tile.sample_type());
      canvas.paste(tile, int64_t(tx) * level.tile_width - rect.x,
                   int64_t(ty) * level.tile_height - rect.y);
    }
  }
  return canvas;
}

// Formats that can say "transparent": rotation leaves those corners clear
// rather than painting them white.
bool format_has_alpha(Format format) { return format != Format::Jpeg; }

// Any source's samples as what the later steps and the encoders take: sRGB or
// grey, 8- or 16-bit, at most one alpha band.
Raster to_displayable(Raster pixels, const ImageInfo& info) {
  if (info.colour_space == ColourSpace::Cielab) return cielab_to_srgb(pixels);
  if (pixels.sample_type() == SampleType::U32 || pixels.sample_type() == SampleType::F32) {
    pixels = to_8bit(pixels);
  }
  if (info.colour_space == ColourSpace::Multiband && pixels.bands() > 4) {
    // Multispectral: show the first band as grey until a band selection exists.
    Raster first(pixels.width(), pixels.height(), 1, pixels.sample_type());
    const std::size_t sample = bytes_per_sample(pixels.sample_type());
    for (uint32_t y = 0; y < pixels.height(); ++y)
      for (uint32_t x = 0; x < pixels.width(); ++x)
        std::memcpy(first.row(y) + x * sample,
                    pixels.row(y) + std::size_t(x) * pixels.bands() * sample, sample);
    return first;
  }
  return pixels;
}

}  // namespace

Raster render_raster(ImageSource& source, const Plan& plan, const RenderOptions& options) {
  Raster pixels = read_rect(source, plan.level, plan.read);
  const SourceWindow window{plan.window_x - plan.read.x, plan.window_y - plan.read.y,
                            plan.window_width, plan.window_height};
  pixels = resample(pixels, window, plan.out_width, plan.out_height, options.interpolation);
  pixels = to_displayable(std::move(pixels), source.info());

  if (plan.rotation.mirror) pixels = mirror_horizontal(pixels);
  const double degrees = plan.rotation.degrees;
  if (degrees != 0 && degrees != 360) {
    RotateOptions rotate_options;
    rotate_options.transparent = format_has_alpha(plan.format);
    pixels = rotate(pixels, degrees, rotate_options);
  }

  switch (plan.quality) {
    case Quality::Gray:
      return to_gray(pixels);
    case Quality::Bitonal:
      return to_bitonal(pixels);
    case Quality::Default:
    case Quality::Color:
      return pixels;
  }
  return pixels;
}

std::string render_image(ImageSource& source, const Plan& plan, const RenderOptions& options) {
  if (options.passthrough && options.encode.icc.empty()) {
    if (const std::optional<TileIndex> index = plan_stored_tile(plan, source.info())) {
      std::optional<EncodedTile> stored = source.stored_tile(index->level, index->tx, index->ty);
      if (stored && stored->format == plan.format) return std::move(stored->bytes);
    }
  }
  Raster pixels = render_raster(source, plan, options);
  if (!format_has_alpha(plan.format) && has_alpha_band(pixels.bands())) {
    pixels = flatten_alpha(pixels, 255);
  }
  EncodeOptions encode = options.encode;
  return encode_image(pixels, plan.format, encode);
}

}  // namespace tessera
