#include "process/resample.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <type_traits>
#include <vector>

namespace tessera {
namespace {

// A window may overshoot the raster by this much through rounding in the
// caller's arithmetic (e.g. a region given as fractions of the image).
constexpr double kEdgeTolerance = 1e-6;
// Weights this small at either end of a contribution are dropped, so that a
// bilinear sample exactly on a source pixel reads one sample, not two.
constexpr double kNegligibleWeight = 1e-9;

// Accumulating in float keeps 8- and 16-bit results exact to well under half
// a level; 32-bit integers need double.
template <typename T>
using Accumulator = std::conditional_t<std::is_integral_v<T> && (sizeof(T) >= 4), double, float>;

// Which source samples make each output sample along one axis. Output i reads
// count[i] consecutive source samples from first[i], weighted by
// weights[i * taps ...], which sum to 1.
template <typename W>
struct AxisFilter {
  std::vector<uint32_t> first;
  std::vector<uint32_t> count;
  std::vector<W> weights;
  uint32_t taps = 0;  // the stride of `weights`: no output reads more samples
};

double lanczos3(double x) {
  if (x == 0.0) return 1.0;
  if (x <= -3.0 || x >= 3.0) return 0.0;
  const double px = std::numbers::pi * x;
  return 3.0 * std::sin(px) * std::sin(px / 3.0) / (px * px);
}

// Precomputes the filter of one axis: the window [start, start + length) of
// `src_size` source samples onto `out_size` output samples.
template <typename W>
AxisFilter<W> build_axis(double start, double length, uint32_t out_size, uint32_t src_size,
                         Interpolation interpolation) {
  const double scale = length / out_size;
  enum class Kernel { Area, Linear, Lanczos3 };
  const Kernel kernel = scale > 1.0                                ? Kernel::Area
                        : interpolation == Interpolation::Lanczos3 ? Kernel::Lanczos3
                                                                   : Kernel::Linear;
  const double reach = kernel == Kernel::Area     ? std::ceil(scale) + 2
                       : kernel == Kernel::Linear ? 2
                                                  : 6;
  AxisFilter<W> filter;
  // Taps beyond the edge fold onto the edge sample, so no output reads more
  // samples than the axis has.
  filter.taps = uint32_t(std::min(reach, double(src_size)));
  filter.first.resize(out_size);
  filter.count.resize(out_size);
  filter.weights.assign(std::size_t(out_size) * filter.taps, W(0));

  const int64_t last_index = int64_t(src_size) - 1;
  std::vector<double> folded(filter.taps);
  for (uint32_t i = 0; i < out_size; ++i) {
    // The unclamped source indices [lo, hi] and the weight of each.
    int64_t lo = 0, hi = 0;
    double a = 0, b = 0, centre = 0;
    if (kernel == Kernel::Area) {
      a = std::clamp(start + i * scale, 0.0, double(src_size));
      b = std::clamp(start + (i + 1) * scale, a, double(src_size));
      lo = int64_t(std::floor(a));
      hi = std::max(lo, int64_t(std::ceil(b)) - 1);
    } else {
      // The output centre in source index space, where sample j sits at j.
      centre = start + (i + 0.5) * scale - 0.5;
      const int64_t base = int64_t(std::floor(centre));
      lo = kernel == Kernel::Linear ? base : base - 2;
      hi = kernel == Kernel::Linear ? base + 1 : base + 3;
    }
    auto weight = [&](int64_t j) {
      switch (kernel) {
        case Kernel::Area:
          return std::min(b, double(j + 1)) - std::max(a, double(j));
        case Kernel::Linear:
          return 1.0 - std::abs(centre - double(j));
        case Kernel::Lanczos3:
          return lanczos3(centre - double(j));
      }
      return 0.0;
    };

    const int64_t first = std::clamp(lo, int64_t{0}, last_index);
    const int64_t last = std::clamp(hi, int64_t{0}, last_index);
    std::fill(folded.begin(), folded.end(), 0.0);
    for (int64_t j = lo; j <= hi; ++j) {
      folded[std::size_t(std::clamp(j, int64_t{0}, last_index) - first)] += weight(j);
    }
    std::size_t begin = 0, end = std::size_t(last - first) + 1;
    while (end - begin > 1 && std::abs(folded[begin]) < kNegligibleWeight) ++begin;
    while (end - begin > 1 && std::abs(folded[end - 1]) < kNegligibleWeight) --end;
    double sum = 0;
    for (std::size_t k = begin; k < end; ++k) sum += folded[k];
    if (!(sum > 0)) {  // cannot happen for a window inside the raster; never divide by 0
      end = begin + 1;
      folded[begin] = sum = 1.0;
    }

    filter.first[i] = uint32_t(first + int64_t(begin));
    filter.count[i] = uint32_t(end - begin);
    W* weights = filter.weights.data() + std::size_t(i) * filter.taps;
    for (std::size_t k = begin; k < end; ++k) weights[k - begin] = W(folded[k] / sum);
  }
  return filter;
}

template <typename T, typename Acc>
T to_sample(Acc value) {
  if constexpr (std::is_floating_point_v<T>) {
    return T(value);
  } else {
    constexpr Acc kMax = Acc(std::numeric_limits<T>::max());
    const Acc rounded = value + Acc(0.5);
    if (!(rounded > 0)) return T(0);
    return rounded >= kMax ? std::numeric_limits<T>::max() : T(rounded);
  }
}

// The horizontal pass over one source row. Bands is the band count when known
// at compile time (1-4), 0 for any other.
template <typename T, typename Acc, int Bands>
void filter_row(const T* src, int runtime_bands, const AxisFilter<Acc>& filter, Acc* out) {
  const int bands = Bands > 0 ? Bands : runtime_bands;
  const std::size_t out_size = filter.first.size();
  for (std::size_t i = 0; i < out_size; ++i) {
    const T* in = src + std::size_t(filter.first[i]) * bands;
    const Acc* weights = filter.weights.data() + i * filter.taps;
    const uint32_t count = filter.count[i];
    Acc* pixel = out + i * bands;
    if constexpr (Bands > 0) {
      Acc sums[Bands] = {};
      for (uint32_t k = 0; k < count; ++k) {
        for (int c = 0; c < Bands; ++c) sums[c] += weights[k] * Acc(in[k * Bands + c]);
      }
      for (int c = 0; c < Bands; ++c) pixel[c] = sums[c];
    } else {
      for (int c = 0; c < bands; ++c) {
        Acc sum = 0;
        for (uint32_t k = 0; k < count; ++k) sum += weights[k] * Acc(in[k * bands + c]);
        pixel[c] = sum;
      }
    }
  }
}

template <typename T, typename Acc>
using RowFilter = void (*)(const T*, int, const AxisFilter<Acc>&, Acc*);

template <typename T, typename Acc>
RowFilter<T, Acc> row_filter_for(int bands) {
  switch (bands) {
    case 1:
      return &filter_row<T, Acc, 1>;
    case 2:
      return &filter_row<T, Acc, 2>;
    case 3:
      return &filter_row<T, Acc, 3>;
    case 4:
      return &filter_row<T, Acc, 4>;
    default:
      return &filter_row<T, Acc, 0>;
  }
}

template <typename T>
Raster resample_filtered(const Raster& src, const SourceWindow& window, uint32_t out_width,
                         uint32_t out_height, Interpolation interpolation) {
  using Acc = Accumulator<T>;
  const AxisFilter<Acc> horizontal =
      build_axis<Acc>(window.x, window.width, out_width, src.width(), interpolation);
  const AxisFilter<Acc> vertical =
      build_axis<Acc>(window.y, window.height, out_height, src.height(), interpolation);
  const int bands = src.bands();
  const std::size_t row_samples = std::size_t(out_width) * bands;
  const RowFilter<T, Acc> filter_source_row = row_filter_for<T, Acc>(bands);

  // Horizontally filtered source rows, kept in a ring of vertical.taps rows:
  // one output row reads at most that many consecutive source rows, and the
  // rows move down as the output does, so each source row is filtered once
  // and memory does not grow with the window's height.
  const uint32_t ring_rows = vertical.taps;
  std::vector<Acc> ring(std::size_t(ring_rows) * row_samples);
  std::vector<int64_t> ring_holds(ring_rows, -1);
  auto filtered_row = [&](uint32_t y) -> const Acc* {
    const uint32_t slot = y % ring_rows;
    Acc* row = ring.data() + std::size_t(slot) * row_samples;
    if (ring_holds[slot] != int64_t(y)) {
      filter_source_row(reinterpret_cast<const T*>(src.row(y)), bands, horizontal, row);
      ring_holds[slot] = y;
    }
    return row;
  };

  Raster out(out_width, out_height, bands, src.sample_type());
  std::vector<Acc> sums(row_samples);
  for (uint32_t y = 0; y < out_height; ++y) {
    const Acc* weights = vertical.weights.data() + std::size_t(y) * vertical.taps;
    const uint32_t first = vertical.first[y];
    const Acc* row = filtered_row(first);
    for (std::size_t s = 0; s < row_samples; ++s) sums[s] = weights[0] * row[s];
    for (uint32_t k = 1; k < vertical.count[y]; ++k) {
      row = filtered_row(first + k);
      const Acc weight = weights[k];
      for (std::size_t s = 0; s < row_samples; ++s) sums[s] += weight * row[s];
    }
    T* dst = reinterpret_cast<T*>(out.row(y));
    for (std::size_t s = 0; s < row_samples; ++s) dst[s] = to_sample<T>(sums[s]);
  }
  return out;
}

// The source index under the centre of output pixel i.
uint32_t nearest_index(double start, double scale, uint32_t i, uint32_t src_size) {
  const double at = std::floor(start + (i + 0.5) * scale);
  return uint32_t(std::clamp(at, 0.0, double(src_size) - 1.0));
}

template <std::size_t PixelBytes>
void pick_pixels(const uint8_t* src, const std::vector<std::size_t>& offsets, std::size_t,
                 uint8_t* dst) {
  for (std::size_t offset : offsets) {
    std::memcpy(dst, src + offset, PixelBytes);
    dst += PixelBytes;
  }
}

void pick_pixels_any(const uint8_t* src, const std::vector<std::size_t>& offsets,
                     std::size_t pixel_bytes, uint8_t* dst) {
  for (std::size_t offset : offsets) {
    std::memcpy(dst, src + offset, pixel_bytes);
    dst += pixel_bytes;
  }
}

Raster resample_nearest(const Raster& src, const SourceWindow& window, uint32_t out_width,
                        uint32_t out_height) {
  const std::size_t pixel_bytes = std::size_t(src.bands()) * bytes_per_sample(src.sample_type());
  const double scale_x = window.width / out_width, scale_y = window.height / out_height;
  std::vector<std::size_t> offsets(out_width);
  for (uint32_t x = 0; x < out_width; ++x) {
    offsets[x] = nearest_index(window.x, scale_x, x, src.width()) * pixel_bytes;
  }
  auto pick = &pick_pixels_any;
  switch (pixel_bytes) {
    case 1:
      pick = &pick_pixels<1>;
      break;
    case 2:
      pick = &pick_pixels<2>;
      break;
    case 3:
      pick = &pick_pixels<3>;
      break;
    case 4:
      pick = &pick_pixels<4>;
      break;
    case 8:
      pick = &pick_pixels<8>;
      break;
  }

  Raster out(out_width, out_height, src.bands(), src.sample_type());
  const std::size_t row_bytes = std::size_t(out_width) * pixel_bytes;
  int64_t previous = -1;
  for (uint32_t y = 0; y < out_height; ++y) {
    const uint32_t sy = nearest_index(window.y, scale_y, y, src.height());
    if (int64_t(sy) == previous) {
      std::memcpy(out.row(y), out.row(y - 1), row_bytes);  // enlarging: the row repeats
    } else {
      pick(src.row(sy), offsets, pixel_bytes, out.row(y));
      previous = sy;
    }
  }
  return out;
}

// Checks one axis of the window and pulls a rounding overshoot back inside.
void fit_axis(double& start, double& length, uint32_t size, const char* axis) {
  const bool inside = std::isfinite(start) && std::isfinite(length) && length > 0 &&
                      start >= -kEdgeTolerance && start + length <= size + kEdgeTolerance;
  if (!inside) {
    throw std::invalid_argument(std::string("resample: window outside the raster along ") + axis);
  }
  start = std::clamp(start, 0.0, double(size));
  length = std::min(length, double(size) - start);
  if (!(length > 0)) {
    throw std::invalid_argument(std::string("resample: empty window along ") + axis);
  }
}

bool is_integer(double v) { return v == std::floor(v); }

// Average of 2x2 blocks for one output row; `below` is `above` again when the
// source has an odd last row, which halves exactly like a 1x2 block.
template <typename T, int Bands>
void reduce_row(const T* above, const T* below, uint32_t src_width, int runtime_bands, T* out) {
  using Wide = std::conditional_t<std::is_floating_point_v<T>, double,
                                  std::conditional_t<(sizeof(T) >= 4), uint64_t, uint32_t>>;
  const int bands = Bands > 0 ? Bands : runtime_bands;
  auto average4 = [](Wide sum) {
    if constexpr (std::is_floating_point_v<T>) {
      return T(sum * 0.25);
    } else {
      return T((sum + 2) / 4);
    }
  };
  const uint32_t pairs = src_width / 2;
  for (uint32_t x = 0; x < pairs; ++x) {
    const T* a = above + std::size_t(2 * x) * bands;
    const T* b = below + std::size_t(2 * x) * bands;
    for (int c = 0; c < bands; ++c) {
      out[c] = average4(Wide(a[c]) + Wide(a[c + bands]) + Wide(b[c]) + Wide(b[c + bands]));
    }
    out += bands;
  }
  if (src_width % 2 != 0) {  // the odd last column counts twice
    const T* a = above + std::size_t(2 * pairs) * bands;
    const T* b = below + std::size_t(2 * pairs) * bands;
    for (int c = 0; c < bands; ++c) out[c] = average4(2 * (Wide(a[c]) + Wide(b[c])));
  }
}

template <typename T>
Raster reduce_typed(const Raster& src) {
  const int bands = src.bands();
  auto reduce = &reduce_row<T, 0>;
  switch (bands) {
    case 1:
      reduce = &reduce_row<T, 1>;
      break;
    case 2:
      reduce = &reduce_row<T, 2>;
      break;
    case 3:
      reduce = &reduce_row<T, 3>;
      break;
    case 4:
      reduce = &reduce_row<T, 4>;
      break;
  }
  const uint32_t out_width = (src.width() + 1) / 2, out_height = (src.height() + 1) / 2;
  Raster out(out_width, out_height, bands, src.sample_type());
  for (uint32_t y = 0; y < out_height; ++y) {
    const uint32_t top = 2 * y, bottom = std::min(2 * y + 1, src.height() - 1);
    reduce(reinterpret_cast<const T*>(src.row(top)), reinterpret_cast<const T*>(src.row(bottom)),
           src.width(), bands, reinterpret_cast<T*>(out.row(y)));
  }
  return out;
}

}  // namespace

Raster resample(const Raster& src, SourceWindow window, uint32_t out_width, uint32_t out_height,
                Interpolation interpolation) {
  if (src.empty() || src.bands() < 1) throw std::invalid_argument("resample: empty source raster");
  if (out_width == 0 || out_height == 0) throw std::invalid_argument("resample: zero output size");
  fit_axis(window.x, window.width, src.width(), "x");
  fit_axis(window.y, window.height, src.height(), "y");

  if (is_integer(window.x) && is_integer(window.y) && window.width == out_width &&
      window.height == out_height) {
    return src.crop(uint32_t(window.x), uint32_t(window.y), out_width, out_height);
  }
  if (interpolation == Interpolation::Nearest) {
    return resample_nearest(src, window, out_width, out_height);
  }
  switch (src.sample_type()) {
    case SampleType::U8:
      return resample_filtered<uint8_t>(src, window, out_width, out_height, interpolation);
    case SampleType::U16:
      return resample_filtered<uint16_t>(src, window, out_width, out_height, interpolation);
    case SampleType::U32:
      return resample_filtered<uint32_t>(src, window, out_width, out_height, interpolation);
    case SampleType::F32:
      return resample_filtered<float>(src, window, out_width, out_height, interpolation);
  }
  throw std::invalid_argument("resample: unknown sample type");
}

Raster reduce_by_2(const Raster& src) {
  if (src.empty() || src.bands() < 1) return Raster(0, 0, src.bands(), src.sample_type());
  switch (src.sample_type()) {
    case SampleType::U8:
      return reduce_typed<uint8_t>(src);
    case SampleType::U16:
      return reduce_typed<uint16_t>(src);
    case SampleType::U32:
      return reduce_typed<uint32_t>(src);
    case SampleType::F32:
      return reduce_typed<float>(src);
  }
  throw std::invalid_argument("reduce_by_2: unknown sample type");
}

}  // namespace tessera
