#include "encode/gif.hpp"

#include <gif_lib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "encode/raster_check.hpp"

namespace tessera {
namespace {

constexpr uint32_t kMaxGifDimension = 65535;

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
};

// Every pixel as an index into `colours`; `transparent` (if not -1) is the
// index that pixels with alpha below 128 carry and lies past the colours.
struct Indexed {
  std::vector<Rgb> colours;
  int transparent = -1;
  std::vector<uint8_t> pixels;
};

bool is_opaque(const uint8_t* pixel, int bands) {
  return (bands != 2 && bands != 4) || pixel[bands - 1] >= 128;
}

uint32_t pack(const uint8_t* p, bool grey) {
  return grey ? p[0] : (uint32_t(p[0]) << 16) | (uint32_t(p[1]) << 8) | p[2];
}

Rgb unpack(uint32_t c, bool grey) {
  if (grey) return {uint8_t(c), uint8_t(c), uint8_t(c)};
  return {uint8_t(c >> 16), uint8_t(c >> 8), uint8_t(c)};
}

struct Census {
  std::vector<uint32_t> colours;  // sorted; complete unless `overflow`
  bool overflow = false;          // more than the limit of distinct colours
  bool transparent = false;       // some pixel has alpha below 128
};

Census take_census(const Raster& raster, std::size_t limit) {
  const int bands = raster.bands();
  const bool grey = bands <= 2;
  const bool has_alpha = bands == 2 || bands == 4;
  Census census;
  std::vector<uint32_t>& found = census.colours;
  uint32_t last = 0;
  bool have_last = false;
  for (uint32_t y = 0; y < raster.height(); ++y) {
    const uint8_t* p = raster.row(y);
    for (uint32_t x = 0; x < raster.width(); ++x, p += bands) {
      if (!is_opaque(p, bands)) {
        census.transparent = true;
        continue;
      }
      if (census.overflow) continue;
      const uint32_t c = pack(p, grey);
      if (have_last && c == last) continue;  // runs of one colour are common
      last = c;
      have_last = true;
      const auto at = std::lower_bound(found.begin(), found.end(), c);
      if (at != found.end() && *at == c) continue;
      if (found.size() == limit) {
        census.overflow = true;
        continue;
      }
      found.insert(at, c);
    }
    if (census.overflow && (census.transparent || !has_alpha)) break;  // nothing left to learn
  }
  return census;
}

Indexed exact_palette(const Raster& raster, const std::vector<uint32_t>& colours,
                      bool transparent) {
  const int bands = raster.bands();
  const bool grey = bands <= 2;
  Indexed out;
  for (uint32_t c : colours) out.colours.push_back(unpack(c, grey));
  out.transparent = transparent ? int(colours.size()) : -1;
  out.pixels.resize(std::size_t(raster.width()) * raster.height());
  uint8_t* o = out.pixels.data();
  for (uint32_t y = 0; y < raster.height(); ++y) {
    const uint8_t* p = raster.row(y);
    for (uint32_t x = 0; x < raster.width(); ++x, p += bands) {
      if (!is_opaque(p, bands)) {
        *o++ = uint8_t(out.transparent);
        continue;
      }
      const auto at = std::lower_bound(colours.begin(), colours.end(), pack(p, grey));
      *o++ = uint8_t(at - colours.begin());
    }
  }
  return out;
}

// Only reached when all 256 grey levels are used and one index is needed
// for transparency: 255 evenly spaced levels, each sample moved at most by 1.
Indexed grey_ramp(const Raster& raster) {
  constexpr int kLevels = 255;
  Indexed out;
  for (int i = 0; i < kLevels; ++i) {
    const auto v = uint8_t((i * 255 + (kLevels - 1) / 2) / (kLevels - 1));
    out.colours.push_back({v, v, v});
  }
  out.transparent = kLevels;
  const int bands = raster.bands();
  out.pixels.resize(std::size_t(raster.width()) * raster.height());
  uint8_t* o = out.pixels.data();
  for (uint32_t y = 0; y < raster.height(); ++y) {
    const uint8_t* p = raster.row(y);
    for (uint32_t x = 0; x < raster.width(); ++x, p += bands) {
      *o++ = is_opaque(p, bands) ? uint8_t((p[0] * (kLevels - 1) + 127) / 255) : kLevels;
    }
  }
  return out;
}

// Palette reduction for images of more colours than a GIF holds: median cut
// over a histogram of 6 bits per channel, then a few rounds of k-means over
// the histogram cells. Palette entries are means of real pixels, so extremes
// such as pure white survive although the cells are coarse. Integer
// arithmetic, stable orders and fixed tie-breaks throughout: the result
// depends on the pixels alone.
class PaletteReducer {
 public:
  explicit PaletteReducer(const Raster& raster) : raster_(raster), slot_(kCells, 0) {
    // Two passes keep the dense table at one word a cell: the first counts,
    // the second sums into the compact list of cells that occur.
    const int bands = raster.bands();
    for (uint32_t y = 0; y < raster.height(); ++y) {
      const uint8_t* p = raster.row(y);
      for (uint32_t x = 0; x < raster.width(); ++x, p += bands) {
        if (is_opaque(p, bands)) ++slot_[cell_of(p)];
      }
    }
    for (uint32_t c = 0; c < uint32_t(kCells); ++c) {
      if (slot_[c] == 0) continue;
      cells_.push_back({c, slot_[c], {0, 0, 0}, {0, 0, 0}});
      slot_[c] = uint32_t(cells_.size() - 1);
    }
    for (uint32_t y = 0; y < raster.height(); ++y) {
      const uint8_t* p = raster.row(y);
      for (uint32_t x = 0; x < raster.width(); ++x, p += bands) {
        if (!is_opaque(p, bands)) continue;
        Cell& cell = cells_[slot_[cell_of(p)]];
        for (int ch = 0; ch < 3; ++ch) cell.sum[ch] += p[ch];
      }
    }
    for (Cell& cell : cells_) {
      for (int ch = 0; ch < 3; ++ch) cell.mean[ch] = int(cell.sum[ch] / cell.count);
    }
  }

  Indexed run(int max_colours, bool transparent) {
    std::vector<Rgb> palette = median_cut(max_colours);
    std::vector<uint8_t> nearest(cells_.size());
    for (int round = 0; round < kRefinements; ++round) {
      assign(palette, nearest);
      // Each entry moves to the mean of the pixels now nearest to it.
      std::vector<std::array<uint64_t, 3>> sums(palette.size(), {0, 0, 0});
      std::vector<uint64_t> counts(palette.size(), 0);
      for (std::size_t i = 0; i < cells_.size(); ++i) {
        for (int ch = 0; ch < 3; ++ch) sums[nearest[i]][ch] += cells_[i].sum[ch];
        counts[nearest[i]] += cells_[i].count;
      }
      for (std::size_t k = 0; k < palette.size(); ++k) {
        if (counts[k] > 0) palette[k] = mean(sums[k], counts[k]);
      }
    }
    assign(palette, nearest);

    for (std::size_t i = 0; i < cells_.size(); ++i) slot_[cells_[i].key] = nearest[i];
    Indexed out;
    out.colours = std::move(palette);
    out.transparent = transparent ? int(out.colours.size()) : -1;
    const int bands = raster_.bands();
    out.pixels.resize(std::size_t(raster_.width()) * raster_.height());
    uint8_t* o = out.pixels.data();
    for (uint32_t y = 0; y < raster_.height(); ++y) {
      const uint8_t* p = raster_.row(y);
      for (uint32_t x = 0; x < raster_.width(); ++x, p += bands) {
        *o++ = uint8_t(is_opaque(p, bands) ? slot_[cell_of(p)] : uint32_t(out.transparent));
      }
    }
    return out;
  }

 private:
  static constexpr int kBits = 6;
  static constexpr int kCells = 1 << (3 * kBits);
  static constexpr int kRefinements = 2;

  struct Cell {
    uint32_t key;
    uint32_t count;
    std::array<uint64_t, 3> sum;
    std::array<int, 3> mean;
  };
  struct Box {
    std::size_t begin = 0, end = 0;
    uint64_t pixels = 0;
    uint64_t error = 0;  // pixels times squared distance of cell means from the box mean
    int axis = 0;        // the channel of largest spread
  };

  static uint32_t cell_of(const uint8_t* p) {
    constexpr int shift = 8 - kBits;
    return (uint32_t(p[0] >> shift) << (2 * kBits)) | (uint32_t(p[1] >> shift) << kBits) |
           uint32_t(p[2] >> shift);
  }

  static Rgb mean(const std::array<uint64_t, 3>& sum, uint64_t n) {
    return {uint8_t((sum[0] + n / 2) / n), uint8_t((sum[1] + n / 2) / n),
            uint8_t((sum[2] + n / 2) / n)};
  }

  Box make_box(std::size_t begin, std::size_t end) const {
    Box box{begin, end};
    std::array<uint64_t, 3> sum{0, 0, 0};
    for (std::size_t i = begin; i < end; ++i) {
      box.pixels += cells_[i].count;
      for (int ch = 0; ch < 3; ++ch) sum[ch] += cells_[i].sum[ch];
    }
    std::array<int64_t, 3> centre;
    for (int ch = 0; ch < 3; ++ch) centre[ch] = int64_t(sum[ch] / box.pixels);
    std::array<uint64_t, 3> spread{0, 0, 0};
    for (std::size_t i = begin; i < end; ++i) {
      for (int ch = 0; ch < 3; ++ch) {
        const int64_t d = cells_[i].mean[ch] - centre[ch];
        spread[ch] += uint64_t(d * d) * cells_[i].count;
      }
    }
    box.error = spread[0] + spread[1] + spread[2];
    box.axis = int(std::max_element(spread.begin(), spread.end()) - spread.begin());
    return box;
  }

  std::vector<Rgb> median_cut(int max_colours) {
    std::vector<Box> boxes{make_box(0, cells_.size())};
    while (int(boxes.size()) < max_colours) {
      // Split the box whose pixels are furthest from their mean.
      int best = -1;
      for (int i = 0; i < int(boxes.size()); ++i) {
        if (boxes[i].end - boxes[i].begin < 2) continue;
        if (best < 0 || boxes[i].error > boxes[best].error) best = i;
      }
      if (best < 0 || boxes[best].error == 0) break;
      const Box box = boxes[best];
      const int axis = box.axis;
      std::sort(cells_.begin() + box.begin, cells_.begin() + box.end,
                [axis](const Cell& a, const Cell& b) {
                  return a.mean[axis] != b.mean[axis] ? a.mean[axis] < b.mean[axis] : a.key < b.key;
                });
      // Cut where half the pixels lie before; both halves keep a cell.
      uint64_t running = 0;
      std::size_t cut = box.begin + 1;
      for (std::size_t i = box.begin; i + 1 < box.end; ++i) {
        running += cells_[i].count;
        cut = i + 1;
        if (running * 2 >= box.pixels) break;
      }
      boxes[best] = make_box(box.begin, cut);
      boxes.push_back(make_box(cut, box.end));
    }
    std::vector<Rgb> palette;
    for (const Box& box : boxes) {
      std::array<uint64_t, 3> sum{0, 0, 0};
      for (std::size_t i = box.begin; i < box.end; ++i) {
        for (int ch = 0; ch < 3; ++ch) sum[ch] += cells_[i].sum[ch];
      }
      palette.push_back(mean(sum, box.pixels));
    }
    return palette;
  }

  // For each cell, the palette entry nearest to its mean (the lowest index on
  // ties). Entries are searched outwards in order of red from the cell's red,
  // stopping once the red difference alone exceeds the best distance.
  void assign(const std::vector<Rgb>& palette, std::vector<uint8_t>& nearest) const {
    std::vector<int> by_red(palette.size());
    std::iota(by_red.begin(), by_red.end(), 0);
    std::sort(by_red.begin(), by_red.end(), [&palette](int a, int b) {
      return palette[a].r != palette[b].r ? palette[a].r < palette[b].r : a < b;
    });
    const int n = int(by_red.size());
    for (std::size_t i = 0; i < cells_.size(); ++i) {
      const std::array<int, 3>& m = cells_[i].mean;
      const int start =
          int(std::lower_bound(by_red.begin(), by_red.end(), m[0],
                               [&palette](int k, int red) { return palette[k].r < red; }) -
              by_red.begin());
      int best = -1, best_distance = std::numeric_limits<int>::max();
      const auto consider = [&](int k) {
        const int dr = m[0] - palette[k].r, dg = m[1] - palette[k].g, db = m[2] - palette[k].b;
        const int distance = dr * dr + dg * dg + db * db;
        if (distance < best_distance || (distance == best_distance && k < best)) {
          best = k, best_distance = distance;
        }
      };
      for (int up = start, down = start - 1; up < n || down >= 0;) {
        bool progressed = false;
        if (up < n) {
          const int dr = palette[by_red[up]].r - m[0];
          if (dr * dr <= best_distance) {
            consider(by_red[up++]);
            progressed = true;
          } else {
            up = n;
          }
        }
        if (down >= 0) {
          const int dr = m[0] - palette[by_red[down]].r;
          if (dr * dr <= best_distance) {
            consider(by_red[down--]);
            progressed = true;
          } else {
            down = -1;
          }
        }
        if (!progressed) break;
      }
      nearest[i] = uint8_t(best);
    }
  }

  const Raster& raster_;
  // Per cell: its pixel count, then its place in cells_, then its palette index.
  std::vector<uint32_t> slot_;
  std::vector<Cell> cells_;
};

Indexed index_pixels(const Raster& raster) {
  const Census census = take_census(raster, 256);
  // One index is kept back for transparency only when some pixel needs it.
  const std::size_t room = census.transparent ? 255 : 256;
  if (!census.overflow && census.colours.size() <= room) {
    return exact_palette(raster, census.colours, census.transparent);
  }
  // Grey never has more than 256 levels: here it has all of them and needs
  // one index more.
  if (raster.bands() <= 2) return grey_ramp(raster);
  return PaletteReducer(raster).run(int(room), census.transparent);
}

int write_to_string(GifFileType* gif, const GifByteType* data, int size) {
  try {
    static_cast<std::string*>(gif->UserData)->append(reinterpret_cast<const char*>(data), size);
  } catch (...) {
    return 0;  // a short write: giflib reports it
  }
  return size;
}

struct MapDeleter {
  void operator()(ColorMapObject* map) const { GifFreeMapObject(map); }
};

struct GifCloser {
  GifFileType* gif = nullptr;
  ~GifCloser() {
    int error = 0;
    if (gif) EGifCloseFile(gif, &error);
  }
};

[[noreturn]] void fail(const char* what, int code) {
  const char* detail = GifErrorString(code);
  throw Error(500, std::string("gif: ") + what + (detail ? std::string(": ") + detail : ""));
}

}  // namespace

std::string encode_gif(const Raster& raster) {
  encode_detail::check_raster(raster, "gif", false, kMaxGifDimension);
  Indexed indexed = index_pixels(raster);

  // giflib takes colour maps of 2, 4, ..., 256 entries; the rest stay black.
  const int used = int(indexed.colours.size()) + (indexed.transparent >= 0 ? 1 : 0);
  int map_size = 2;
  while (map_size < used) map_size *= 2;
  std::vector<GifColorType> entries(std::size_t(map_size), GifColorType{0, 0, 0});
  for (std::size_t i = 0; i < indexed.colours.size(); ++i) {
    entries[i] = {indexed.colours[i].r, indexed.colours[i].g, indexed.colours[i].b};
  }
  const std::unique_ptr<ColorMapObject, MapDeleter> map(GifMakeMapObject(map_size, entries.data()));
  if (!map) throw Error(500, "gif: out of memory for the colour map");

  std::string out;
  out.reserve(indexed.pixels.size() / 2 + 1024);
  int error = 0;
  GifCloser closer;
  closer.gif = EGifOpen(&out, write_to_string, &error);
  GifFileType* gif = closer.gif;
  if (!gif) fail("cannot create a writer", error);

  const int width = int(raster.width()), height = int(raster.height());
  EGifSetGifVersion(gif, indexed.transparent >= 0);
  if (EGifPutScreenDesc(gif, width, height, 8, 0, map.get()) == GIF_ERROR) {
    fail("cannot write the screen descriptor", gif->Error);
  }
  if (indexed.transparent >= 0) {
    GraphicsControlBlock control{DISPOSAL_UNSPECIFIED, false, 0, indexed.transparent};
    GifByteType extension[4];
    const std::size_t length = EGifGCBToExtension(&control, extension);
    if (EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, int(length), extension) == GIF_ERROR) {
      fail("cannot write the transparency", gif->Error);
    }
  }
  if (EGifPutImageDesc(gif, 0, 0, width, height, false, nullptr) == GIF_ERROR) {
    fail("cannot write the image descriptor", gif->Error);
  }
  for (int y = 0; y < height; ++y) {
    if (EGifPutLine(gif, indexed.pixels.data() + std::size_t(y) * width, width) == GIF_ERROR) {
      fail("cannot write the pixels", gif->Error);
    }
  }
  closer.gif = nullptr;
  if (EGifCloseFile(gif, &error) == GIF_ERROR) fail("cannot finish", error);
  return out;
}

}  // namespace tessera
