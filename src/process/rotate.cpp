#include "process/rotate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <type_traits>

#include "common/error.hpp"
#include "process/colour.hpp"

namespace tessera {
namespace {

// Absorbs the rounding error of |w cos| + |h sin| so that an exact side
// (e.g. cos 90 = 6e-17 rather than 0) does not grow by a pixel.
constexpr double kSizeEpsilon = 1e-6;
// Source coordinates are 32.32 fixed point, which holds +-2^31 pixels.
constexpr double kMaxSide = double(1u << 30);
// Quarter turns move pixels in square blocks of this many, so that both the
// rows read and the rows written stay in cache.
constexpr uint32_t kBlock = 64;

std::size_t pixel_bytes_of(const Raster& r) {
  return std::size_t(r.bands()) * bytes_per_sample(r.sample_type());
}

void check_angle(double degrees) {
  if (!std::isfinite(degrees) || degrees < 0 || degrees > 360) {
    bad_request(fmt::format("rotation {} is outside [0, 360]", degrees));
  }
}

// --- mirror and quarter turns: pixels move, values do not change -----------

// Copies one pixel; the compiler turns a fixed size into one or two moves.
template <std::size_t Fixed>
inline void copy_pixel(uint8_t* dst, const uint8_t* src, std::size_t bytes) {
  if constexpr (Fixed > 0) {
    std::memcpy(dst, src, Fixed);
  } else {
    std::memcpy(dst, src, bytes);
  }
}

template <std::size_t Fixed>
void mirror_rows(const Raster& src, Raster& out) {
  const std::size_t bytes = pixel_bytes_of(src);
  const uint32_t width = src.width();
  for (uint32_t y = 0; y < src.height(); ++y) {
    const uint8_t* from = src.row(y) + std::size_t(width) * bytes;
    uint8_t* to = out.row(y);
    for (uint32_t x = 0; x < width; ++x) {
      from -= bytes;
      copy_pixel<Fixed>(to, from, bytes);
      to += bytes;
    }
  }
}

// A half turn is a mirror of each row, written bottom up.
template <std::size_t Fixed>
void half_turn(const Raster& src, Raster& out) {
  const std::size_t bytes = pixel_bytes_of(src);
  const uint32_t width = src.width(), height = src.height();
  for (uint32_t y = 0; y < height; ++y) {
    const uint8_t* from = src.row(y) + std::size_t(width) * bytes;
    uint8_t* to = out.row(height - 1 - y);
    for (uint32_t x = 0; x < width; ++x) {
      from -= bytes;
      copy_pixel<Fixed>(to, from, bytes);
      to += bytes;
    }
  }
}

// Clockwise, output (X, Y) is source (Y, h-1-X); anticlockwise (270), it is
// source (w-1-Y, X).
template <std::size_t Fixed>
void quarter_turn(const Raster& src, Raster& out, bool clockwise) {
  const std::size_t bytes = pixel_bytes_of(src);
  const uint32_t w = src.width(), h = src.height();
  for (uint32_t by = 0; by < out.height(); by += kBlock) {
    const uint32_t ey = std::min(by + kBlock, out.height());
    for (uint32_t bx = 0; bx < out.width(); bx += kBlock) {
      const uint32_t ex = std::min(bx + kBlock, out.width());
      for (uint32_t y = by; y < ey; ++y) {
        uint8_t* to = out.row(y) + std::size_t(bx) * bytes;
        for (uint32_t x = bx; x < ex; ++x) {
          const uint32_t sx = clockwise ? y : w - 1 - y;
          const uint32_t sy = clockwise ? h - 1 - x : x;
          copy_pixel<Fixed>(to, src.row(sy) + std::size_t(sx) * bytes, bytes);
          to += bytes;
        }
      }
    }
  }
}

// Calls op.template operator()<N>() with N the pixel size when it is a
// common one, so the copies compile to plain moves, else with 0.
template <typename Op>
void by_pixel_size(std::size_t bytes, Op&& op) {
  switch (bytes) {
    case 1:
      return op.template operator()<1>();
    case 2:
      return op.template operator()<2>();
    case 3:
      return op.template operator()<3>();
    case 4:
      return op.template operator()<4>();
    case 6:
      return op.template operator()<6>();
    case 8:
      return op.template operator()<8>();
    default:
      return op.template operator()<0>();
  }
}

Raster turn_by_quarters(const Raster& src, int quarters) {
  if (quarters % 2 == 0) {
    if (quarters == 0) return src;
    Raster out(src.width(), src.height(), src.bands(), src.sample_type());
    by_pixel_size(pixel_bytes_of(src), [&]<std::size_t N>() { half_turn<N>(src, out); });
    return out;
  }
  Raster out(src.height(), src.width(), src.bands(), src.sample_type());
  by_pixel_size(pixel_bytes_of(src),
                [&]<std::size_t N>() { quarter_turn<N>(src, out, quarters == 1); });
  return out;
}

// --- any other angle: inverse mapping with bilinear sampling ---------------

template <typename T>
constexpr float kMaxValue = float(std::numeric_limits<T>::max());

template <typename T>
T to_sample(float v) {
  return T(std::clamp(v + 0.5f, 0.0f, kMaxValue<T>));
}

template <typename T>
T scale_background(uint8_t v) {
  if constexpr (sizeof(T) == 1) {
    return v;
  } else {
    return T(v * 257u);  // 0..255 -> 0..65535, white stays white
  }
}

// Interior samples are weighted in integers: positions are held to 1/256 of
// a pixel, so the product of the two axes' weights is at most 2^16 and a
// 16-bit sample times it still fits 32 bits.
constexpr int kWeightBits = 8;
constexpr uint32_t kWeightOne = 1u << kWeightBits;

// Everything a row of output needs to know about the source and the fill.
// Bands is the source band count when it is a common one, so the per-pixel
// loops unroll, else 0.
template <typename T, int Bands>
struct Sampler {
  const Raster& src;
  int bands;                  // source bands
  int out_bands;              // bands + 1 when an alpha band is added
  bool transparent;           // outside is alpha 0 rather than the background
  bool src_alpha;             // the source's last band is alpha
  std::vector<T> background;  // per output band, the fill of outside pixels

  const T* pixel(int64_t x, int64_t y) const {
    return reinterpret_cast<const T*>(src.row(uint32_t(y))) + x * (Bands > 0 ? Bands : bands);
  }

  // All four samples inside the source: the common case, kept short.
  void interior(int64_t x0, int64_t y0, uint32_t fx, uint32_t fy, T* out) const {
    const int n = Bands > 0 ? Bands : bands;
    const T* p00 = pixel(x0, y0);
    const T* p01 = p00 + n;
    const T* p10 = pixel(x0, y0 + 1);
    const T* p11 = p10 + n;
    // The four weights sum to 2^16, so the weighted sum fits 32 bits too.
    const uint32_t w00 = (kWeightOne - fx) * (kWeightOne - fy), w01 = fx * (kWeightOne - fy);
    const uint32_t w10 = (kWeightOne - fx) * fy, w11 = fx * fy;
    for (int b = 0; b < n; ++b) {
      const uint32_t sum = p00[b] * w00 + p01[b] * w01 + p10[b] * w10 + p11[b] * w11;
      out[b] = T((sum + (1u << (2 * kWeightBits - 1))) >> (2 * kWeightBits));
    }
    if (out_bands > n) out[n] = std::numeric_limits<T>::max();
  }

  // Some samples outside. In opaque mode they read as the background, which
  // blends the edge into it. In transparent mode the colour is read with the
  // coordinates clamped into the source (so the edge keeps its own colour
  // rather than darkening towards a fill) and alpha is the weight of the
  // samples inside, times their own alpha when the source has one.
  void edge(int64_t x0, int64_t y0, uint32_t weight_x, uint32_t weight_y, T* out) const {
    const float fx = float(weight_x) / kWeightOne, fy = float(weight_y) / kWeightOne;
    const int64_t w = src.width(), h = src.height();
    const int64_t xs[2] = {x0, x0 + 1}, ys[2] = {y0, y0 + 1};
    const float wx[2] = {1 - fx, fx}, wy[2] = {1 - fy, fy};
    float coverage = 0;
    for (int j = 0; j < 2; ++j)
      for (int i = 0; i < 2; ++i)
        if (xs[i] >= 0 && xs[i] < w && ys[j] >= 0 && ys[j] < h) coverage += wx[i] * wy[j];
    if (coverage <= 0) {
      std::copy_n(background.data(), out_bands, out);
      return;
    }
    const int colour_bands = transparent && src_alpha ? bands - 1 : bands;
    for (int b = 0; b < colour_bands; ++b) {
      float sum = 0;
      for (int j = 0; j < 2; ++j) {
        for (int i = 0; i < 2; ++i) {
          const bool inside = xs[i] >= 0 && xs[i] < w && ys[j] >= 0 && ys[j] < h;
          float value;
          if (transparent) {
            value = float(pixel(std::clamp<int64_t>(xs[i], 0, w - 1),
                                std::clamp<int64_t>(ys[j], 0, h - 1))[b]);
          } else {
            value = inside ? float(pixel(xs[i], ys[j])[b]) : float(background[b]);
          }
          sum += wx[i] * wy[j] * value;
        }
      }
      out[b] = to_sample<T>(sum);
    }
    if (!transparent) return;
    float alpha = coverage * kMaxValue<T>;
    if (src_alpha) {
      alpha = 0;
      for (int j = 0; j < 2; ++j)
        for (int i = 0; i < 2; ++i)
          if (xs[i] >= 0 && xs[i] < w && ys[j] >= 0 && ys[j] < h)
            alpha += wx[i] * wy[j] * float(pixel(xs[i], ys[j])[bands - 1]);
    }
    out[out_bands - 1] = to_sample<T>(alpha);
  }
};

// The output columns [first, last) whose centres may land within one pixel
// of the source, from -1 < u0 + x du < limit; a superset, the per-pixel test
// decides.
void span_within(double u0, double du, double limit, int64_t& first, int64_t& last) {
  if (std::abs(du) < 1e-12) {
    if (!(u0 > -1 && u0 < limit)) last = first;
    return;
  }
  double a = (-1 - u0) / du, b = (limit - u0) / du;
  if (a > b) std::swap(a, b);
  a = std::clamp(std::floor(a), -1.0, kMaxSide);
  b = std::clamp(std::ceil(b), -1.0, kMaxSide);
  first = std::max(first, int64_t(a) - 1);
  last = std::min(last, int64_t(b) + 2);
}

template <typename T, int Bands>
Raster rotate_any(const Raster& src, double degrees, const RotateOptions& options) {
  const RotatedSize size = rotated_size(src.width(), src.height(), degrees);
  const bool src_alpha = has_alpha_band(src.bands());
  const int bands = src.bands();
  const int out_bands = options.transparent && !src_alpha ? bands + 1 : bands;

  Sampler<T, Bands> sampler{src, bands, out_bands, options.transparent, src_alpha, {}};
  for (int b = 0; b < out_bands; ++b) {
    const bool alpha = options.transparent && b == out_bands - 1;
    const uint8_t v =
        options.background.empty()
            ? 255
            : options.background[std::min<std::size_t>(b, options.background.size() - 1)];
    sampler.background.push_back(alpha ? T(0) : scale_background<T>(v));
  }

  // Inverse mapping: output centre (X+.5, Y+.5), taken about the output's
  // centre, turned back by the angle and put about the source's centre; then
  // shifted by half a pixel so that integer u, v fall on source pixel centres.
  const double radians = degrees * std::numbers::pi / 180.0;
  const double c = std::cos(radians), s = std::sin(radians);
  const double half_w = src.width() / 2.0, half_h = src.height() / 2.0;
  const double out_half_w = size.width / 2.0, out_half_h = size.height / 2.0;
  constexpr double kOne = 4294967296.0;  // 2^32: the 32.32 fixed point
  const int64_t du = std::llround(c * kOne), dv = std::llround(-s * kOne);
  const int64_t w = src.width(), h = src.height();

  Raster out(size.width, size.height, out_bands, src.sample_type());
  const std::size_t pixel_bytes = std::size_t(out_bands) * sizeof(T);
  std::vector<T> background_row(std::size_t(size.width) * out_bands);
  for (uint32_t x = 0; x < size.width; ++x) {
    std::copy_n(sampler.background.data(), out_bands, background_row.data() + x * out_bands);
  }

  // Per output row: the columns that may see the source, and the source
  // position of column 0. Stepping from it in exact integer fixed point keeps
  // every pixel's position a function of (x, y) alone, free of accumulated
  // float error; the offset rounds positions to the nearest weight step.
  struct RowStart {
    int64_t first, last, u, v;
  };
  constexpr int64_t kRound = int64_t{1} << (31 - kWeightBits);
  std::vector<RowStart> rows(size.height);
  for (uint32_t y = 0; y < size.height; ++y) {
    const double dy = y + 0.5 - out_half_h, dx = 0.5 - out_half_w;
    const double u0 = c * dx + s * dy + half_w - 0.5;
    const double v0 = -s * dx + c * dy + half_h - 0.5;
    int64_t first = 0, last = size.width;
    span_within(u0, c, double(w), first, last);
    span_within(v0, -s, double(h), first, last);
    first = std::min<int64_t>(first, size.width);
    last = std::clamp<int64_t>(last, first, size.width);
    rows[y] = {first, last, std::llround(u0 * kOne) + kRound, std::llround(v0 * kOne) + kRound};

    uint8_t* row = out.row(y);
    std::memcpy(row, background_row.data(), std::size_t(first) * pixel_bytes);
    std::memcpy(row + last * pixel_bytes, background_row.data(),
                std::size_t(size.width - last) * pixel_bytes);
  }

  // Square blocks of output read a compact patch of the source; whole rows
  // would walk it diagonally across thousands of rows and pages.
  for (uint32_t by = 0; by < size.height; by += kBlock) {
    const uint32_t ey = std::min(by + kBlock, size.height);
    for (int64_t bx = 0; bx < int64_t(size.width); bx += kBlock) {
      for (uint32_t y = by; y < ey; ++y) {
        const RowStart& r = rows[y];
        const int64_t x_begin = std::max(r.first, bx);
        const int64_t x_end = std::min(r.last, bx + int64_t(kBlock));
        T* row = reinterpret_cast<T*>(out.row(y));
        int64_t u = r.u + x_begin * du, v = r.v + x_begin * dv;
        for (int64_t x = x_begin; x < x_end; ++x, u += du, v += dv) {
          const int64_t x0 = u >> 32, y0 = v >> 32;
          const uint32_t fx = uint32_t(u) >> (32 - kWeightBits);
          const uint32_t fy = uint32_t(v) >> (32 - kWeightBits);
          T* dst = row + x * out_bands;
          if (uint64_t(x0) < uint64_t(w - 1) && uint64_t(y0) < uint64_t(h - 1)) {
            sampler.interior(x0, y0, fx, fy, dst);
          } else {
            sampler.edge(x0, y0, fx, fy, dst);
          }
        }
      }
    }
  }
  return out;
}

template <typename T>
Raster rotate_typed(const Raster& src, double degrees, const RotateOptions& options) {
  switch (src.bands()) {
    case 1:
      return rotate_any<T, 1>(src, degrees, options);
    case 2:
      return rotate_any<T, 2>(src, degrees, options);
    case 3:
      return rotate_any<T, 3>(src, degrees, options);
    case 4:
      return rotate_any<T, 4>(src, degrees, options);
    default:
      return rotate_any<T, 0>(src, degrees, options);
  }
}

}  // namespace

Raster mirror_horizontal(const Raster& src) {
  Raster out(src.width(), src.height(), src.bands(), src.sample_type());
  by_pixel_size(pixel_bytes_of(src), [&]<std::size_t N>() { mirror_rows<N>(src, out); });
  return out;
}

RotatedSize rotated_size(uint32_t width, uint32_t height, double degrees) {
  check_angle(degrees);
  if (std::fmod(degrees, 90.0) == 0) {
    if (std::fmod(degrees, 180.0) == 0) return {width, height};
    return {height, width};
  }
  const double radians = degrees * std::numbers::pi / 180.0;
  const double c = std::abs(std::cos(radians)), s = std::abs(std::sin(radians));
  const double w = std::ceil(width * c + height * s - kSizeEpsilon);
  const double h = std::ceil(width * s + height * c - kSizeEpsilon);
  if (w > kMaxSide || h > kMaxSide) bad_request("rotated image too large");
  return {uint32_t(std::max(w, 1.0)), uint32_t(std::max(h, 1.0))};
}

Raster rotate(const Raster& src, double degrees, const RotateOptions& options) {
  check_angle(degrees);
  if (std::fmod(degrees, 90.0) == 0) return turn_by_quarters(src, int(degrees / 90) % 4);
  if (src.empty()) return Raster(0, 0, src.bands(), src.sample_type());
  switch (src.sample_type()) {
    case SampleType::U8:
      return rotate_typed<uint8_t>(src, degrees, options);
    case SampleType::U16:
      return rotate_typed<uint16_t>(src, degrees, options);
    default:
      throw Error(500, "rotation by other than a multiple of 90 needs 8- or 16-bit samples");
  }
}

}  // namespace tessera
