#include "render/planner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.hpp"

namespace tessera {

namespace {

uint32_t at_least_one(double v) { return uint32_t(std::max(1.0, std::round(v))); }

// The largest scale at which a region of w x h stays within the limits: what
// "max" means. Without "^" it never exceeds 1; with it and no limits it is 1.
double max_scale(const Limits& limits, uint32_t w, uint32_t h, bool upscale) {
  double scale = upscale ? INFINITY : 1.0;
  if (limits.max_width) scale = std::min(scale, double(limits.max_width) / w);
  if (limits.max_height) scale = std::min(scale, double(limits.max_height) / h);
  if (limits.max_area)
    scale = std::min(scale, std::sqrt(double(limits.max_area) / (double(w) * h)));
  return std::isfinite(scale) ? scale : 1.0;
}

void check_limits(const Limits& limits, uint32_t w, uint32_t h) {
  if ((limits.max_width && w > limits.max_width) || (limits.max_height && h > limits.max_height)) {
    bad_request(fmt::format("size {}x{} exceeds the server's limit of {}x{}", w, h,
                            limits.max_width, limits.max_height));
  }
  if (limits.max_area && uint64_t(w) * h > limits.max_area) {
    bad_request(
        fmt::format("size {}x{} exceeds the server's limit of {} pixels", w, h, limits.max_area));
  }
}

}  // namespace

PixelRect resolve_region(const RegionSpec& region, uint32_t width, uint32_t height) {
  double x = 0, y = 0, w = width, h = height;
  switch (region.kind) {
    case RegionSpec::Kind::Full:
      break;
    case RegionSpec::Kind::Square: {
      const double side = std::min(width, height);
      x = std::floor((width - side) / 2);
      y = std::floor((height - side) / 2);
      w = h = side;
      break;
    }
    case RegionSpec::Kind::Pixels:
      x = region.x, y = region.y, w = region.w, h = region.h;
      break;
    case RegionSpec::Kind::Percent:
      x = std::round(region.x * width / 100), y = std::round(region.y * height / 100);
      w = std::round(region.w * width / 100), h = std::round(region.h * height / 100);
      break;
  }
  if (w <= 0 || h <= 0) bad_request("region has zero size");
  if (x >= width || y >= height) {
    bad_request(fmt::format("region {},{},{},{} lies outside the image of {}x{}", x, y, w, h, width,
                            height));
  }
  PixelRect r;
  r.x = uint32_t(x);
  r.y = uint32_t(y);
  r.width = uint32_t(std::min<double>(w, width - r.x));
  r.height = uint32_t(std::min<double>(h, height - r.y));
  return r;
}

void resolve_size(const SizeSpec& size, int iiif_version, uint32_t rw, uint32_t rh,
                  const Limits& limits, uint32_t& out_w, uint32_t& out_h) {
  using Kind = SizeSpec::Kind;
  double w = rw, h = rh;
  switch (size.kind) {
    case Kind::Max: {
      const double s = max_scale(limits, rw, rh, size.upscale);
      out_w = std::max<uint32_t>(1, uint32_t(std::floor(rw * s + 1e-9)));
      out_h = std::max<uint32_t>(1, uint32_t(std::floor(rh * s + 1e-9)));
      return;
    }
    case Kind::Width:
      w = size.w, h = double(rh) * size.w / rw;
      break;
    case Kind::Height:
      h = size.h, w = double(rw) * size.h / rh;
      break;
    case Kind::Percent:
      w = rw * size.percent / 100, h = rh * size.percent / 100;
      break;
    case Kind::WidthHeight:
      w = size.w, h = size.h;
      break;
    case Kind::BestFit: {
      double s = std::min(double(size.w) / rw, double(size.h) / rh);
      if (iiif_version >= 3 && !size.upscale) s = std::min(s, 1.0);
      w = rw * s, h = rh * s;
      break;
    }
  }
  out_w = at_least_one(w);
  out_h = at_least_one(h);
  if (w < 0.5 || h < 0.5) bad_request("requested size rounds to zero pixels");
  if (iiif_version >= 3 && !size.upscale && (out_w > rw || out_h > rh)) {
    bad_request(fmt::format("size {}x{} is larger than the region {}x{}; '^' allows upscaling",
                            out_w, out_h, rw, rh));
  }
  check_limits(limits, out_w, out_h);
}

int choose_level(const ImageInfo& info, const PixelRect& region, uint32_t out_w, uint32_t out_h) {
  int chosen = 0;
  for (int l = 0; l < int(info.levels.size()); ++l) {
    const double scale = info.levels[l].scale;
    if (region.width / scale + 1.0 >= out_w && region.height / scale + 1.0 >= out_h) chosen = l;
  }
  return chosen;
}

std::optional<TileIndex> plan_stored_tile(const Plan& plan, const ImageInfo& info) {
  if (plan.level < 0 || plan.level >= int(info.levels.size())) return std::nullopt;
  if (plan.rotation.mirror || (plan.rotation.degrees != 0 && plan.rotation.degrees != 360)) {
    return std::nullopt;
  }
  if (plan.quality != Quality::Default && plan.quality != Quality::Color) return std::nullopt;
  if (plan.adjust.any()) return std::nullopt;
  const LevelInfo& level = info.levels[plan.level];
  const PixelRect& read = plan.read;
  if (level.tile_width == 0 || level.tile_height == 0 || read.x % level.tile_width != 0 ||
      read.y % level.tile_height != 0 || read.x >= level.width || read.y >= level.height) {
    return std::nullopt;
  }
  const uint32_t w = std::min(level.tile_width, level.width - read.x);
  const uint32_t h = std::min(level.tile_height, level.height - read.y);
  const bool whole_tile = read.width == w && read.height == h;
  const bool unscaled = plan.out_width == w && plan.out_height == h;
  const bool exact_window = plan.window_x == read.x && plan.window_y == read.y &&
                            plan.window_width == w && plan.window_height == h;
  if (!whole_tile || !unscaled || !exact_window) return std::nullopt;
  return TileIndex{plan.level, read.x / level.tile_width, read.y / level.tile_height};
}

Plan plan_image(const Query& query, const ImageInfo& info, const Limits& limits) {
  // Every IIIF format but PDF has an encoder: a multi-page document format is
  // not what a region of one image calls for.
  if (query.format == Format::Pdf) not_implemented("pdf output is not supported");

  Plan plan;
  plan.rotation = query.rotation;
  plan.quality = query.quality;
  plan.adjust = query.adjust;
  plan.format = query.format;
  plan.region = resolve_region(query.region, info.width, info.height);
  resolve_size(query.size, query.iiif_version, plan.region.width, plan.region.height, limits,
               plan.out_width, plan.out_height);

  plan.level = choose_level(info, plan.region, plan.out_width, plan.out_height);
  const LevelInfo& level = info.levels[plan.level];
  const double s = level.scale;
  plan.window_x = std::min(plan.region.x / s, double(level.width) - 1);
  plan.window_y = std::min(plan.region.y / s, double(level.height) - 1);
  plan.window_width = std::min(plan.region.width / s, level.width - plan.window_x);
  plan.window_height = std::min(plan.region.height / s, level.height - plan.window_y);

  // A window of the output's own size at a fractional position (a region at
  // an odd full-resolution offset, read from a half-size level) moves to the
  // nearest whole pixel: it is then cropped, not resampled, for a shift of at
  // most half a pixel of the level read.
  if (plan.window_width == double(plan.out_width) &&
      plan.window_height == double(plan.out_height)) {
    plan.window_x = std::min(std::round(plan.window_x), double(level.width - plan.out_width));
    plan.window_y = std::min(std::round(plan.window_y), double(level.height - plan.out_height));
  }

  const uint32_t x0 = uint32_t(std::floor(plan.window_x));
  const uint32_t y0 = uint32_t(std::floor(plan.window_y));
  const uint32_t x1 = std::min(level.width, uint32_t(std::ceil(plan.window_x + plan.window_width)));
  const uint32_t y1 =
      std::min(level.height, uint32_t(std::ceil(plan.window_y + plan.window_height)));
  plan.read = {x0, y0, std::max(1u, x1 - x0), std::max(1u, y1 - y0)};
  return plan;
}

}  // namespace tessera
