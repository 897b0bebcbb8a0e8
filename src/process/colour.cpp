#include "process/colour.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "common/error.hpp"

namespace tessera {
namespace {

template <typename T>
const T* row_of(const Raster& r, uint32_t y) {
  return reinterpret_cast<const T*>(r.row(y));
}
template <typename T>
T* row_of(Raster& r, uint32_t y) {
  return reinterpret_cast<T*>(r.row(y));
}

// Calls op(T{}) with the C++ type of the raster's samples.
template <typename Op>
decltype(auto) by_sample_type(SampleType type, Op&& op) {
  switch (type) {
    case SampleType::U8:
      return op(uint8_t{});
    case SampleType::U16:
      return op(uint16_t{});
    case SampleType::U32:
      return op(uint32_t{});
    case SampleType::F32:
      return op(float{});
  }
  throw std::invalid_argument("unknown sample type");
}

// --- grey ------------------------------------------------------------------

// Rec. 601 weights in 2^-22 units; they sum to exactly 2^22, so white stays
// white, and are fine enough that 16-bit results round as the real weights do.
constexpr uint64_t kRedWeight = 1254097, kGreenWeight = 2462056, kBlueWeight = 478151;
constexpr int kWeightBits = 22;

template <typename T>
T luma(T r, T g, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    return T(0.299 * r + 0.587 * g + 0.114 * b);
  } else if constexpr (sizeof(T) <= 2) {
    return T((kRedWeight * r + kGreenWeight * g + kBlueWeight * b +
              (uint64_t{1} << (kWeightBits - 1))) >>
             kWeightBits);
  } else {
    const double v = std::round(0.299 * r + 0.587 * g + 0.114 * b);
    return T(std::min(v, double(std::numeric_limits<T>::max())));
  }
}

template <typename T>
Raster gray_typed(const Raster& src) {
  const bool alpha = src.bands() == 4;
  Raster out(src.width(), src.height(), alpha ? 2 : 1, src.sample_type());
  for (uint32_t y = 0; y < src.height(); ++y) {
    const T* in = row_of<T>(src, y);
    T* dst = row_of<T>(out, y);
    for (uint32_t x = 0; x < src.width(); ++x) {
      *dst++ = luma<T>(in[0], in[1], in[2]);
      if (alpha) *dst++ = in[3];
      in += src.bands();
    }
  }
  return out;
}

// The 8-bit grey, transparent parts white, that bitonal output thresholds.
Raster flat_grey8(const Raster& src) {
  Raster grey = to_8bit(to_gray(src));
  if (grey.bands() == 2) grey = flatten_alpha(grey, 255);
  return grey;
}

// --- depth -----------------------------------------------------------------

// Divides rather than multiplying by 255 / range, so that exact halves (the
// middle of a range) stay exact and round up.
uint8_t stretch(double v, double min, double range) {
  const double out = (v - min) * 255.0 / range;
  if (!(out > 0)) return 0;  // also NaN
  return out >= 255 ? 255 : uint8_t(out + 0.5);
}

template <typename T>
Raster stretch_typed(const Raster& src, std::span<const double> min, std::span<const double> max) {
  const int bands = src.bands();
  std::vector<double> lows(bands), ranges(bands);
  for (int b = 0; b < bands; ++b) {
    lows[b] = min[min.size() == 1 ? 0 : b];
    const double high = max[max.size() == 1 ? 0 : b];
    ranges[b] = high > lows[b] ? high - lows[b] : std::numeric_limits<double>::infinity();
  }
  Raster out(src.width(), src.height(), bands, SampleType::U8);
  for (uint32_t y = 0; y < src.height(); ++y) {
    const T* in = row_of<T>(src, y);
    uint8_t* dst = out.row(y);
    for (uint32_t x = 0; x < src.width(); ++x) {
      for (int b = 0; b < bands; ++b) *dst++ = stretch(double(*in++), lows[b], ranges[b]);
    }
  }
  return out;
}

// Exact rounding of v * 255 / max for max = 2^16 - 1 or 2^32 - 1: both are
// 255 * an odd number, so v * 255 / max = v / odd and never ends in .5.
template <typename T>
Raster narrow_typed(const Raster& src) {
  constexpr uint64_t divisor = uint64_t(std::numeric_limits<T>::max()) / 255;
  Raster out(src.width(), src.height(), src.bands(), SampleType::U8);
  const std::size_t samples = std::size_t(src.width()) * src.bands();
  for (uint32_t y = 0; y < src.height(); ++y) {
    const T* in = row_of<T>(src, y);
    uint8_t* dst = out.row(y);
    for (std::size_t i = 0; i < samples; ++i) dst[i] = uint8_t((in[i] + divisor / 2) / divisor);
  }
  return out;
}

// --- alpha -----------------------------------------------------------------

template <typename T>
Raster flatten_typed(const Raster& src, uint8_t background) {
  constexpr uint64_t full = std::numeric_limits<T>::max();
  const uint64_t bg = uint64_t(background) * (full / 255);
  const int colour = src.bands() - 1;
  Raster out(src.width(), src.height(), colour, src.sample_type());
  for (uint32_t y = 0; y < src.height(); ++y) {
    const T* in = row_of<T>(src, y);
    T* dst = row_of<T>(out, y);
    for (uint32_t x = 0; x < src.width(); ++x) {
      const uint64_t alpha = in[colour];
      for (int b = 0; b < colour; ++b) {
        // Rounded: full is odd, so the exact quotient never ends in .5.
        *dst++ = T((in[b] * alpha + bg * (full - alpha) + full / 2) / full);
      }
      in += src.bands();
    }
  }
  return out;
}

// --- CIELAB ----------------------------------------------------------------

using Matrix = std::array<std::array<double, 3>, 3>;
using Vector = std::array<double, 3>;

Matrix multiply(const Matrix& a, const Matrix& b) {
  Matrix m{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) m[i][j] += a[i][k] * b[k][j];
  return m;
}

Vector apply(const Matrix& m, const Vector& v) {
  return {m[0][0] * v[0] + m[0][1] * v[1] + m[0][2] * v[2],
          m[1][0] * v[0] + m[1][1] * v[1] + m[1][2] * v[2],
          m[2][0] * v[0] + m[2][1] * v[1] + m[2][2] * v[2]};
}

Matrix inverse(const Matrix& m) {
  const double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                     m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                     m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  Matrix r{};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      // Cofactor of m[j][i], from the cyclic neighbours of j and i.
      const int j1 = (j + 1) % 3, j2 = (j + 2) % 3, i1 = (i + 1) % 3, i2 = (i + 2) % 3;
      r[i][j] = (m[j1][i1] * m[j2][i2] - m[j1][i2] * m[j2][i1]) / det;
    }
  }
  return r;
}

// The ICC profile connection space white, which TIFF CIELAB assumes.
constexpr Vector kD50 = {0.9642, 1.0, 0.8249};
// sRGB's linear RGB -> XYZ (IEC 61966-2-1); its rows sum to the D65 white.
constexpr Matrix kSrgbToXyz = {
    {{0.4124, 0.3576, 0.1805}, {0.2126, 0.7152, 0.0722}, {0.0193, 0.1192, 0.9505}}};
constexpr Matrix kBradford = {
    {{0.8951, 0.2664, -0.1614}, {-0.7502, 1.7135, 0.0367}, {0.0389, -0.0685, 1.0296}}};

struct LabToSrgb {
  Matrix xyz50_to_linear;  // D50 XYZ -> Bradford to D65 -> linear sRGB
  // The sRGB transfer curve from linear light in 1/65535 steps: fine enough
  // that the darkest levels, where the curve is steepest, still round right.
  std::array<uint8_t, 65536> encode;

  LabToSrgb() {
    const Vector d65 = {kSrgbToXyz[0][0] + kSrgbToXyz[0][1] + kSrgbToXyz[0][2],
                        kSrgbToXyz[1][0] + kSrgbToXyz[1][1] + kSrgbToXyz[1][2],
                        kSrgbToXyz[2][0] + kSrgbToXyz[2][1] + kSrgbToXyz[2][2]};
    const Vector cone50 = apply(kBradford, kD50), cone65 = apply(kBradford, d65);
    Matrix gain{};
    for (int i = 0; i < 3; ++i) gain[i][i] = cone65[i] / cone50[i];
    const Matrix adapt = multiply(inverse(kBradford), multiply(gain, kBradford));
    xyz50_to_linear = multiply(inverse(kSrgbToXyz), adapt);
    for (std::size_t i = 0; i < encode.size(); ++i) {
      const double linear = double(i) / 65535.0;
      const double v =
          linear <= 0.0031308 ? 12.92 * linear : 1.055 * std::pow(linear, 1 / 2.4) - 0.055;
      encode[i] = uint8_t(std::clamp(std::lround(v * 255.0), 0L, 255L));
    }
  }

  static double inverse_f(double t) {
    constexpr double delta = 6.0 / 29.0;
    return t > delta ? t * t * t : 3 * delta * delta * (t - 4.0 / 29.0);
  }

  void convert(double l, double a, double b, uint8_t* out) const {
    const double fy = (l + 16) * (1.0 / 116);
    const Vector xyz = {kD50[0] * inverse_f(fy + a * (1.0 / 500)), kD50[1] * inverse_f(fy),
                        kD50[2] * inverse_f(fy - b * (1.0 / 200))};
    const Vector rgb = apply(xyz50_to_linear, xyz);
    for (int c = 0; c < 3; ++c) {
      const double linear = std::clamp(rgb[c], 0.0, 1.0);
      out[c] = encode[std::size_t(linear * 65535.0 + 0.5)];
    }
  }
};

const LabToSrgb& lab_to_srgb() {
  static const LabToSrgb tables;  // built once, thread-safe
  return tables;
}

}  // namespace

Raster to_gray(const Raster& src) {
  if (src.bands() == 1 || src.bands() == 2) return src;
  if (src.bands() != 3 && src.bands() != 4) {
    bad_request(fmt::format("gray needs a grey or RGB image, not {} bands", src.bands()));
  }
  return by_sample_type(src.sample_type(), [&]<typename T>(T) { return gray_typed<T>(src); });
}

Raster to_bitonal(const Raster& src, uint8_t threshold) {
  Raster grey = flat_grey8(src);
  const std::size_t samples = std::size_t(grey.width());
  for (uint32_t y = 0; y < grey.height(); ++y) {
    uint8_t* row = grey.row(y);
    for (std::size_t i = 0; i < samples; ++i) row[i] = row[i] >= threshold ? 255 : 0;
  }
  return grey;
}

uint8_t otsu_threshold(const Raster& src) {
  const Raster grey = flat_grey8(src);
  std::array<uint64_t, 256> histogram{};
  for (uint32_t y = 0; y < grey.height(); ++y) {
    const uint8_t* row = grey.row(y);
    for (uint32_t x = 0; x < grey.width(); ++x) ++histogram[row[x]];
  }
  double total = 0, sum = 0;
  for (int v = 0; v < 256; ++v) {
    total += double(histogram[v]);
    sum += double(v) * double(histogram[v]);
  }
  // Class "black" is [0, t]; the best t maximises the between-class variance
  // w_b w_f (m_b - m_f)^2. White starts at t + 1.
  double below = 0, below_sum = 0, best = -1;
  int best_t = -1;
  for (int t = 0; t < 255; ++t) {
    below += double(histogram[t]);
    below_sum += double(t) * double(histogram[t]);
    const double above = total - below;
    if (below == 0 || above == 0) continue;
    const double mean_below = below_sum / below, mean_above = (sum - below_sum) / above;
    const double variance = below * above * (mean_below - mean_above) * (mean_below - mean_above);
    if (variance > best) {
      best = variance;
      best_t = t;
    }
  }
  return best_t < 0 ? kBitonalThreshold : uint8_t(best_t + 1);
}

Raster to_8bit(const Raster& src) {
  switch (src.sample_type()) {
    case SampleType::U8:
      return src;
    case SampleType::U16:
      return narrow_typed<uint16_t>(src);
    case SampleType::U32:
      return narrow_typed<uint32_t>(src);
    case SampleType::F32: {
      const int bands = src.bands();
      std::vector<double> lows(bands, std::numeric_limits<double>::infinity());
      std::vector<double> highs(bands, -std::numeric_limits<double>::infinity());
      for (uint32_t y = 0; y < src.height(); ++y) {
        const float* in = row_of<float>(src, y);
        for (uint32_t x = 0; x < src.width(); ++x) {
          for (int b = 0; b < bands; ++b, ++in) {
            if (!std::isfinite(*in)) continue;
            lows[b] = std::min(lows[b], double(*in));
            highs[b] = std::max(highs[b], double(*in));
          }
        }
      }
      return stretch_typed<float>(src, lows, highs);
    }
  }
  throw std::invalid_argument("to_8bit: unknown sample type");
}

Raster to_8bit(const Raster& src, std::span<const double> min, std::span<const double> max) {
  auto fits = [&](std::span<const double> s) {
    return s.size() == 1 || (!s.empty() && s.size() >= std::size_t(src.bands()));
  };
  if (!fits(min) || !fits(max)) {
    throw std::invalid_argument("to_8bit: min and max need one value or one per band");
  }
  return by_sample_type(src.sample_type(),
                        [&]<typename T>(T) { return stretch_typed<T>(src, min, max); });
}

Raster drop_alpha(const Raster& src, bool has_alpha) {
  if (!has_alpha || src.bands() < 2) return src;
  const std::size_t sample = bytes_per_sample(src.sample_type());
  const std::size_t in_pixel = sample * src.bands(), out_pixel = in_pixel - sample;
  Raster out(src.width(), src.height(), src.bands() - 1, src.sample_type());
  for (uint32_t y = 0; y < src.height(); ++y) {
    const uint8_t* in = src.row(y);
    uint8_t* dst = out.row(y);
    for (uint32_t x = 0; x < src.width(); ++x, in += in_pixel, dst += out_pixel) {
      std::memcpy(dst, in, out_pixel);
    }
  }
  return out;
}

Raster flatten_alpha(const Raster& src, uint8_t background) {
  if (!has_alpha_band(src.bands())) return src;
  switch (src.sample_type()) {
    case SampleType::U8:
      return flatten_typed<uint8_t>(src, background);
    case SampleType::U16:
      return flatten_typed<uint16_t>(src, background);
    default:
      throw Error(500, "flattening alpha needs 8- or 16-bit samples");
  }
}

Raster cielab_to_srgb(const Raster& src) {
  const bool alpha = src.bands() == 4;
  if ((src.bands() != 3 && !alpha) ||
      (src.sample_type() != SampleType::U8 && src.sample_type() != SampleType::U16)) {
    throw Error(500, "CIELAB needs 3 or 4 bands of 8 or 16 bits");
  }
  const LabToSrgb& lab = lab_to_srgb();
  Raster out(src.width(), src.height(), src.bands(), SampleType::U8);
  for (uint32_t y = 0; y < src.height(); ++y) {
    uint8_t* dst = out.row(y);
    if (src.sample_type() == SampleType::U8) {
      const uint8_t* in = src.row(y);
      for (uint32_t x = 0; x < src.width(); ++x, in += src.bands(), dst += src.bands()) {
        lab.convert(in[0] * (100.0 / 255.0), double(int8_t(in[1])), double(int8_t(in[2])), dst);
        if (alpha) dst[3] = in[3];
      }
    } else {
      const uint16_t* in = row_of<uint16_t>(src, y);
      for (uint32_t x = 0; x < src.width(); ++x, in += src.bands(), dst += src.bands()) {
        lab.convert(in[0] * (100.0 / 65535.0), int16_t(in[1]) / 256.0, int16_t(in[2]) / 256.0, dst);
        if (alpha) dst[3] = uint8_t((in[3] + 128u) / 257u);
      }
    }
  }
  return out;
}

}  // namespace tessera
