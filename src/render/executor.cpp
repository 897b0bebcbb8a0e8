#include "render/executor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/error.hpp"
#include "common/parallel.hpp"
#include "image/jpeg_entry_points.hpp"
#include "process/adjust.hpp"
#include "process/colour.hpp"
#include "process/rotate.hpp"

namespace tessera {

namespace {

// The level pixels of `rect`, pasted together from its tiles: tiles the
// source keeps are copied, tiles it can hand out as stored bytes are decoded
// in parallel straight into place (only the part inside `rect`), and the
// rest are decoded one by one with tile().
Raster read_tiles(ImageSource& source, int level_index, const PixelRect& rect) {
  const LevelInfo& level = source.info().levels.at(level_index);
  struct Piece {
    uint32_t tx, ty;
    uint32_t x, y, w, h;  // the part of the tile inside rect, in tile coordinates
    uint32_t at_x, at_y;  // where that part goes in the canvas
    bool whole;           // the part is the whole tile (as cut at the level's edge)
    std::shared_ptr<const Raster> decoded;
    std::optional<StoredTile> stored;
    std::shared_ptr<const JpegEntryPoints> entries;  // for a part of a stored tile
    bool new_entries = false;
  };
  std::vector<Piece> pieces;
  const uint32_t tw = level.tile_width, th = level.tile_height;
  const uint64_t right = uint64_t(rect.x) + rect.width, bottom = uint64_t(rect.y) + rect.height;
  for (uint32_t ty = rect.y / th; uint64_t(ty) * th < bottom; ++ty) {
    for (uint32_t tx = rect.x / tw; uint64_t(tx) * tw < right; ++tx) {
      const uint32_t ox = tx * tw, oy = ty * th;
      const uint32_t tile_w = std::min(tw, level.width - ox),
                     tile_h = std::min(th, level.height - oy);
      Piece p{tx, ty, 0, 0, 0, 0, 0, 0, false, nullptr, std::nullopt, nullptr, false};
      p.x = std::max(rect.x, ox) - ox;
      p.y = std::max(rect.y, oy) - oy;
      p.w = uint32_t(std::min<uint64_t>(right, ox + tile_w) - ox) - p.x;
      p.h = uint32_t(std::min<uint64_t>(bottom, oy + tile_h) - oy) - p.y;
      p.at_x = ox + p.x - rect.x;
      p.at_y = oy + p.y - rect.y;
      p.whole = p.x == 0 && p.y == 0 && p.w == tile_w && p.h == tile_h;
      if (p.whole) p.decoded = source.kept_tile(level_index, tx, ty);
      if (!p.decoded) p.stored = source.fetch_tile(level_index, tx, ty);
      if (!p.decoded && !p.stored) p.decoded = source.shared_tile(level_index, tx, ty);
      if (p.stored && !p.whole) p.entries = source.entry_points(level_index, tx, ty);
      pieces.push_back(std::move(p));
    }
  }

  const Piece& first = pieces.front();
  const int bands = first.decoded ? first.decoded->bands() : first.stored->bands();
  const SampleType type = first.decoded ? first.decoded->sample_type() : SampleType::U8;
  // Every sample is written below: the pieces cover the rectangle.
  Raster canvas = Raster::uninitialised(rect.width, rect.height, bands, type);
  std::vector<std::size_t> to_decode;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const Piece& p = pieces[i];
    if (p.decoded) {
      if (p.decoded->bands() != bands || p.decoded->sample_type() != type)
        throw Error(500, fmt::format("the tiles of level {} differ in layout", level_index));
      canvas.paste(*p.decoded, int64_t(p.at_x) - p.x, int64_t(p.at_y) - p.y);
    } else {
      if (p.stored->bands() != bands || type != SampleType::U8)
        throw Error(500, fmt::format("the tiles of level {} differ in layout", level_index));
      to_decode.push_back(i);
    }
  }
  const std::size_t pixel = std::size_t(bands);
  // A tile cut into for the first time gets its entry points, where they can
  // be kept: its next partial decodes Huffman-decode only what they need.
  const bool index = source.keeps_entry_points();
  parallel_for(to_decode.size(), [&](std::size_t k) {
    Piece& p = pieces[to_decode[k]];
    if (index && !p.whole && !p.entries) {
      p.entries = index_jpeg_tile(*p.stored);
      p.new_entries = p.entries != nullptr;
    }
    decode_stored_tile(*p.stored, p.x, p.y, p.w, p.h, canvas.row(p.at_y) + p.at_x * pixel,
                       canvas.stride(), p.entries.get());
  });
  for (std::size_t i : to_decode) {
    const Piece& p = pieces[i];
    if (p.whole) source.keep_tile(level_index, p.tx, p.ty, canvas, p.at_x, p.at_y);
    if (p.new_entries) source.keep_entry_points(level_index, p.tx, p.ty, p.entries);
  }
  return canvas;
}

// The level pixels of `rect`.
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

  // One whole tile, as OpenSeadragon and friends ask for: no copy needed.
  if (whole_tile) return source.tile(level_index, tx0, ty0);

  return read_tiles(source, level_index, rect);
}

// Formats that can say "transparent": rotation leaves those corners clear
// rather than painting them white.
bool format_has_alpha(Format format) { return format != Format::Jpeg; }

// Whether a source's samples are already what the later steps and the
// encoders take: sRGB or grey, 8- or 16-bit, at most one alpha band.
bool displayable_as_stored(const ImageInfo& info) {
  return info.colour_space != ColourSpace::Cielab &&
         (info.sample_type == SampleType::U8 || info.sample_type == SampleType::U16) &&
         (info.colour_space != ColourSpace::Multiband || info.bands <= 4);
}

// Any source's samples as what the later steps and the encoders take.
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

// Each band's range before MINMAX: the image's full scale (full_scale), or
// the sample type's when the pixels are no longer as stored.
std::vector<BandRange> band_ranges(const ImageInfo& info, const Raster& pixels) {
  const BandRange range = pixels.sample_type() == info.sample_type
                              ? BandRange{0, full_scale(info)}
                              : default_range(pixels.sample_type());
  return std::vector<BandRange>(std::size_t(pixels.bands()), range);
}

// IIP's COL=binary threshold, as iipsrv picks it: Otsu's, of the grey of
// the smallest stored level (the whole image, cheaply), so that every tile
// and export of an image is cut at the same grey.
// An image without a small level (a flat TIFF of many megapixels) is not
// read whole for it: the pixels of the request stand in.
uint8_t image_threshold(ImageSource& source, const Raster& request_pixels) {
  constexpr uint64_t kMaxPixels = 1 << 22;
  const ImageInfo& info = source.info();
  if (info.levels.empty()) return otsu_threshold(to_displayable(request_pixels, info));
  const int smallest = int(info.levels.size()) - 1;
  const LevelInfo& level = info.levels[std::size_t(smallest)];
  if (uint64_t(level.width) * level.height > kMaxPixels) {
    return otsu_threshold(to_displayable(request_pixels, info));
  }
  const Raster small =
      to_displayable(read_rect(source, smallest, PixelRect{0, 0, level.width, level.height}), info);
  return otsu_threshold(small);
}

}  // namespace

Raster render_raster(ImageSource& source, const Plan& plan, const RenderOptions& options) {
  Raster pixels = read_rect(source, plan.level, plan.read);
  const SourceWindow window{plan.window_x - plan.read.x, plan.window_y - plan.read.y,
                            plan.window_width, plan.window_height};
  // What was read is often exactly what is sent (a region from the level of
  // its own size): no copy then.
  const bool as_read = window.x == 0 && window.y == 0 && window.width == pixels.width() &&
                       window.height == pixels.height() && plan.out_width == pixels.width() &&
                       plan.out_height == pixels.height();
  if (!as_read) {
    pixels = resample(pixels, window, plan.out_width, plan.out_height, options.interpolation);
  }
  const ImageInfo& info = source.info();
  if (plan.adjust.any()) {
    // Processing reads each band against its range: CIELAB as the sRGB it
    // shows, other samples as stored (16 bits against 0..65535, say).
    if (info.colour_space == ColourSpace::Cielab) pixels = to_displayable(std::move(pixels), info);
    const uint8_t threshold = plan.adjust.conversion == ColourConversion::Binary
                                  ? image_threshold(source, pixels)
                                  : kBitonalThreshold;
    pixels = adjust(pixels, plan.adjust, band_ranges(info, pixels), threshold);
  }
  pixels = to_displayable(std::move(pixels), info);

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
  const bool marked = options.watermark != nullptr && options.watermark->probability > 0 &&
                      options.watermark->opacity > 0 && !options.watermark->mark.empty();
  const std::optional<TileIndex> index =
      marked ? std::nullopt : plan_stored_tile(plan, source.info());
  if (index) {
    if (options.passthrough && options.encode.icc.empty()) {
      std::optional<EncodedTile> stored = source.stored_tile(index->level, index->tx, index->ty);
      if (stored && stored->format == plan.format) return std::move(stored->bytes);
    }
    // A stored tile as it is, re-encoded: straight from the decoded tile
    // (perhaps the cache's own), without a copy.
    const ImageInfo& info = source.info();
    if (displayable_as_stored(info) &&
        (format_has_alpha(plan.format) || !has_alpha_band(info.bands))) {
      const std::shared_ptr<const Raster> tile =
          source.shared_tile(index->level, index->tx, index->ty);
      if (tile->bands() == info.bands && tile->sample_type() == info.sample_type) {
        return encode_image(*tile, plan.format, options.encode);
      }
    }
  }
  Raster pixels = render_raster(source, plan, options);
  if (!format_has_alpha(plan.format) && has_alpha_band(pixels.bands())) {
    pixels = flatten_alpha(pixels, 255);
  }
  if (marked) apply_watermark(pixels, *options.watermark, options.watermark_seed);
  EncodeOptions encode = options.encode;
  return encode_image(pixels, plan.format, encode);
}

std::vector<double> sample_points(ImageSource& source, int level,
                                  std::span<const std::pair<uint32_t, uint32_t>> points) {
  if (points.empty()) return {};
  const LevelInfo& info = source.info().levels.at(level);
  uint32_t x0 = points.front().first, y0 = points.front().second, x1 = x0, y1 = y0;
  for (const auto& [x, y] : points) {
    if (x >= info.width || y >= info.height) bad_request("a profile point lies outside the image");
    x0 = std::min(x0, x), x1 = std::max(x1, x);
    y0 = std::min(y0, y), y1 = std::max(y1, y);
  }
  const uint64_t area = uint64_t(x1 - x0 + 1) * (y1 - y0 + 1);
  if (area > (uint64_t{1} << 24)) {
    bad_request(fmt::format("a profile across {}x{} pixels is too large; at most 16 megapixels",
                            x1 - x0 + 1, y1 - y0 + 1));
  }
  const Raster box = read_rect(source, level, PixelRect{x0, y0, x1 - x0 + 1, y1 - y0 + 1});
  const int bands = box.bands();
  const std::size_t size = bytes_per_sample(box.sample_type());
  std::vector<double> out;
  out.reserve(points.size() * std::size_t(bands));
  for (const auto& [x, y] : points) {
    const uint8_t* at = box.row(y - y0) + std::size_t(x - x0) * bands * size;
    for (int b = 0; b < bands; ++b, at += size) {
      switch (box.sample_type()) {
        case SampleType::U8:
          out.push_back(*at);
          break;
        case SampleType::U16: {
          uint16_t v;
          std::memcpy(&v, at, 2);
          out.push_back(v);
          break;
        }
        case SampleType::U32: {
          uint32_t v;
          std::memcpy(&v, at, 4);
          out.push_back(v);
          break;
        }
        case SampleType::F32: {
          float v;
          std::memcpy(&v, at, 4);
          out.push_back(std::isfinite(v) ? v : 0.0);
          break;
        }
      }
    }
  }
  return out;
}

}  // namespace tessera
