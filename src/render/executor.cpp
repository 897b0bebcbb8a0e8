#include "render/executor.hpp"

#include <fmt/format.h>

#include "common/error.hpp"
#include "encode/jpeg.hpp"

namespace tessera {

namespace {

// The level pixels of `rect`, pasted together from the stored tiles.
Raster read_rect(ImageSource& source, int level_index, const PixelRect& rect) {
  const LevelInfo& level = source.info().levels.at(level_index);
  const uint32_t tx0 = rect.x / level.tile_width, ty0 = rect.y / level.tile_height;
  const uint32_t tx1 = (rect.x + rect.width - 1) / level.tile_width;
  const uint32_t ty1 = (rect.y + rect.height - 1) / level.tile_height;

  // One whole tile, as OpenSeadragon and friends ask for: no copy needed.
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

}  // namespace

Raster render_raster(ImageSource& source, const Plan& plan, const RenderOptions& options) {
  Raster pixels = read_rect(source, plan.level, plan.read);
  const SourceWindow window{plan.window_x - plan.read.x, plan.window_y - plan.read.y,
                            plan.window_width, plan.window_height};
  return resample(pixels, window, plan.out_width, plan.out_height, options.interpolation);
}

std::string render_image(ImageSource& source, const Plan& plan, const RenderOptions& options) {
  Raster pixels = render_raster(source, plan, options);
  switch (plan.format) {
    case Format::Jpeg:
      return encode_jpeg(pixels, JpegOptions{options.jpeg_quality});
    default:
      not_implemented(
          fmt::format("format '{}' is not implemented yet", format_extension(plan.format)));
  }
}

}  // namespace tessera
