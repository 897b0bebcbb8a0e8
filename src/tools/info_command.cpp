#include "tools/info_command.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "image/image_source.hpp"

namespace tessera {

namespace {

const char* colour_space_name(ColourSpace c) {
  switch (c) {
    case ColourSpace::Grey:
      return "grey";
    case ColourSpace::Rgb:
      return "rgb";
    case ColourSpace::Cielab:
      return "cielab";
    case ColourSpace::Multiband:
      return "multiband";
  }
  return "?";
}

}  // namespace

int run_info_command(const std::filesystem::path& file, std::ostream& out) {
  const auto source = open_image(file);
  const ImageInfo& info = source->info();
  fmt::print(out, "{}: {} {}x{}, {} band(s){}, {} bits, {}\n", file.string(), info.format,
             info.width, info.height, info.bands, info.has_alpha ? " with alpha" : "",
             info.bits_per_sample, colour_space_name(info.colour_space));
  if (info.dpi_x > 0) fmt::print(out, "resolution: {:.1f} x {:.1f} dpi\n", info.dpi_x, info.dpi_y);
  for (std::size_t i = 0; i < info.levels.size(); ++i) {
    const LevelInfo& l = info.levels[i];
    fmt::print(out, "level {}: {}x{}, tiles {}x{} ({}x{}), scale {}\n", i, l.width, l.height,
               l.tile_width, l.tile_height, l.tiles_across(), l.tiles_down(), l.scale);
  }
  for (const auto& [key, value] : info.metadata) fmt::print(out, "{}: {}\n", key, value);
  return 0;
}

}  // namespace tessera
