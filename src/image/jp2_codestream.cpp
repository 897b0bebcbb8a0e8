#include "image/jp2_codestream.hpp"

#include <algorithm>
#include <cstring>
#include <functional>

#include "common/error.hpp"

namespace tessera {

using j2k::be16;
using j2k::be32;
using j2k::ceil_div;
using j2k::ceil_div_pow2;

namespace {

// Marker codes (ISO/IEC 15444-1 Annex A).
constexpr uint32_t kSoc = 0xff4f, kSot = 0xff90, kSod = 0xff93, kEoc = 0xffd9;
constexpr uint32_t kSiz = 0xff51, kCod = 0xff52, kCoc = 0xff53, kCap = 0xff50;
constexpr uint32_t kTlm = 0xff55, kPlm = 0xff57, kPlt = 0xff58, kPpm = 0xff60, kPpt = 0xff61;
constexpr uint32_t kPoc = 0xff5f, kQcd = 0xff5c, kQcc = 0xff5d;

// Packets the index holds at most (24 bytes each): beyond, OpenJPEG's own
// reading serves the file.
constexpr std::size_t kMaxPackets = std::size_t{4} << 20;
// Progression positions walked at most to label the packets of a
// position-first order.
constexpr uint64_t kMaxPositions = uint64_t{64} << 20;
// Samples kept around a decode's area, at every resolution, beyond which a
// precinct's packets are left out. The 9/7 synthesis reaches about 12
// samples at the area's own resolution (4 per level, halving each level
// down); the rest is margin, and costs little next to precincts of 64 to
// 256 samples.
constexpr int64_t kMargin = 32;

bool power_of_two(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

void put16(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(uint8_t(v >> 8));
  out.push_back(uint8_t(v));
}
void put32(std::vector<uint8_t>& out, uint32_t v) {
  put16(out, v >> 16);
  put16(out, v & 0xffff);
}

// SPcod / SPcoc: decomposition levels, code-block size, style, transform,
// then precinct sizes when `precincts` is set.
bool read_coding_style(const uint8_t* p, std::size_t n, bool precincts, CodingStyle& style) {
  if (n < 5 || p[0] > 32) return false;
  style.resolutions = p[0] + 1;
  style.block_w = (p[1] & 0x0f) + 2;
  style.block_h = (p[2] & 0x0f) + 2;
  for (int r = 0; r < style.resolutions; ++r) {
    uint8_t sizes = 0xff;  // 2^15 x 2^15: no precinct partition
    if (precincts) {
      if (n < 5 + std::size_t(style.resolutions)) return false;
      sizes = p[5 + r];
    }
    style.precinct_w[r] = std::min(sizes & 0x0f, 15);
    style.precinct_h[r] = std::min(sizes >> 4, 15);
  }
  return true;
}

}  // namespace

bool MemoryReader::read_at(uint64_t offset, void* out, std::size_t n) const {
  if (offset > bytes_.size() || n > bytes_.size() - offset) return false;
  std::memcpy(out, bytes_.data() + offset, n);
  return true;
}

MainHeader read_main_header(const ByteReader& file, uint64_t soc) {
  MainHeader h;
  uint8_t marker[4];
  if (!file.read_at(soc, marker, 2) || be16(marker) != kSoc) return h;
  uint64_t pos = soc + 2;
  bool siz = false, cod = false;
  std::vector<uint8_t> body;
  for (int count = 0; count < 65536 && file.read_at(pos, marker, 4); ++count) {
    const uint32_t code = be16(marker), length = be16(marker + 2);
    if (code == kSot || code == kSod || (code & 0xff00) != 0xff00 || length < 2) break;
    if (code == kCap) h.high_throughput = true;
    if (code == kSiz || code == kCod || code == kCoc) {
      body.resize(length - 2);
      if (!file.read_at(pos + 4, body.data(), body.size())) break;
      const uint8_t* b = body.data();
      const std::size_t n = body.size();
      if (code == kSiz) {
        // One SIZ only: a second would leave the components' subsampling
        // and coding styles of different lengths.
        if (siz || n < 36) return h;
        h.high_throughput = h.high_throughput || (be16(b) & 0x4000) != 0;
        h.width = be32(b + 2), h.height = be32(b + 6), h.x0 = be32(b + 10), h.y0 = be32(b + 14);
        h.tile_w = be32(b + 18), h.tile_h = be32(b + 22);
        h.tile_x0 = be32(b + 26), h.tile_y0 = be32(b + 30);
        const uint32_t components = be16(b + 34);
        if (n < 36 + 3 * std::size_t(components)) return h;
        for (uint32_t c = 0; c < components; ++c) {
          h.subsampling.push_back({b[36 + 3 * c + 1], b[36 + 3 * c + 2]});
        }
        h.coc.resize(components);
        siz = true;
      } else if (code == kCod) {
        if (n < 5 || !read_coding_style(b + 5, n - 5, b[0] & 1, h.cod)) return h;
        h.sop = (b[0] & 2) != 0;
        h.eph = (b[0] & 4) != 0;
        h.progression = b[1];
        h.layers = int(be16(b + 2));
        cod = true;
      } else if (siz) {
        const std::size_t index_bytes = h.coc.size() < 257 ? 1 : 2;
        if (n < index_bytes + 1) return h;
        const uint32_t c = index_bytes == 1 ? b[0] : be16(b);
        if (c >= h.coc.size() || !read_coding_style(b + index_bytes + 1, n - index_bytes - 1,
                                                    b[index_bytes] & 1, h.coc[c])) {
          return h;
        }
      }
    }
    pos += 2 + length;
  }
  h.complete = siz && cod && h.tile_w > 0 && h.tile_h > 0 && h.width > h.tile_x0 &&
               h.height > h.tile_y0 && h.width > h.x0 && h.height > h.y0;
  return h;
}

std::shared_ptr<const Jp2PacketIndex> Jp2PacketIndex::read(const ByteReader& file, uint64_t soc,
                                                           uint64_t end, const MainHeader& header) {
  const MainHeader& h = header;
  if (!h.complete || h.high_throughput || h.progression > 4 || h.layers < 1) return nullptr;
  // One tile, covering the image.
  if (h.tile_x0 > h.x0 || h.tile_y0 > h.y0 || h.tile_x0 + h.tile_w < h.width ||
      h.tile_y0 + h.tile_h < h.height) {
    return nullptr;
  }
  for (const auto& s : h.subsampling) {
    if (!power_of_two(s[0]) || !power_of_two(s[1])) return nullptr;
  }

  std::shared_ptr<Jp2PacketIndex> index(new Jp2PacketIndex);
  uint8_t head[12];
  std::vector<uint8_t> body;
  auto read_segment = [&](uint64_t pos, uint32_t length) {
    body.resize(2 + length);
    return file.read_at(pos, body.data(), body.size());
  };

  // The main header, without the markers that give lengths of the original.
  index->main_header_ = {0xff, 0x4f};
  uint64_t pos = soc + 2;
  for (int count = 0;; ++count) {
    if (count > 65536 || pos + 4 > end || !file.read_at(pos, head, 4)) return nullptr;
    const uint32_t code = be16(head), length = be16(head + 2);
    if (code == kSot) break;
    if ((code & 0xff00) != 0xff00 || length < 2 || code == kPoc || code == kPpm) return nullptr;
    if (code != kTlm && code != kPlm) {
      if (!read_segment(pos, length)) return nullptr;
      index->main_header_.insert(index->main_header_.end(), body.begin(), body.end());
    }
    pos += 2 + length;
  }

  // Tile-parts: their headers, and their packets' places from PLT.
  while (pos + 2 <= end) {
    if (!file.read_at(pos, head, 2)) return nullptr;
    if (be16(head) == kEoc) break;
    if (pos + 12 > end || !file.read_at(pos, head, 12)) return nullptr;
    if (be16(head) != kSot || be16(head + 2) != 10 || be16(head + 4) != 0) return nullptr;
    const uint64_t psot = be32(head + 6);
    const uint64_t part_end = psot == 0 ? end : pos + psot;
    if (part_end > end || part_end < pos + 14) return nullptr;
    TilePart part;
    part.part = head[10];
    part.parts = head[11];
    part.first = index->packets_.size();
    std::vector<uint32_t> lengths;
    uint64_t value = 0;
    bool pending = false;
    uint64_t at = pos + 12;
    for (;;) {
      if (at + 2 > part_end || !file.read_at(at, head, 2)) return nullptr;
      const uint32_t code = be16(head);
      if (code == kSod) break;
      if (at + 4 > part_end || !file.read_at(at, head, 4)) return nullptr;
      const uint32_t length = be16(head + 2);
      if ((code & 0xff00) != 0xff00 || length < 2 || code == kPpt || code == kPoc || code == kCod ||
          code == kCoc) {
        return nullptr;
      }
      if (!read_segment(at, length)) return nullptr;
      if (code == kPlt) {
        // Zplt, then lengths of 7 bits a byte, high bit set on all but the last.
        for (std::size_t i = 5; i < body.size(); ++i) {
          value = value << 7 | (body[i] & 0x7f);
          pending = (body[i] & 0x80) != 0;
          if (value > UINT32_MAX) return nullptr;
          if (!pending) {
            lengths.push_back(uint32_t(value));
            value = 0;
          }
        }
      } else {
        part.markers.insert(part.markers.end(), body.begin(), body.end());
      }
      at += 2 + length;
    }
    uint64_t data = at + 2;
    // A last tile-part of unknown length runs to the EOC marker.
    uint64_t data_end = part_end;
    if (psot == 0 && data_end >= data + 2 && file.read_at(data_end - 2, head, 2) &&
        be16(head) == kEoc) {
      data_end -= 2;
    }
    if (pending || (lengths.empty() && data_end > data)) return nullptr;
    for (const uint32_t length : lengths) {
      if (length > data_end - data || index->packets_.size() >= kMaxPackets) return nullptr;
      index->packets_.push_back(Packet{data, length, 0, 0, 0, 0});
      data += length;
    }
    if (data != data_end) return nullptr;
    part.count = index->packets_.size() - part.first;
    index->tile_parts_.push_back(std::move(part));
    pos = part_end;
  }
  if (index->packets_.empty() || !index->label_packets(h)) return nullptr;
  return index;
}

// Every component's every resolution: its samples and precinct grid.
std::vector<std::vector<Jp2PacketIndex::Grid>> Jp2PacketIndex::make_grids(const MainHeader& h) {
  const uint64_t tx0 = std::max(h.tile_x0, h.x0), ty0 = std::max(h.tile_y0, h.y0);
  const uint64_t tx1 = std::min(h.tile_x0 + h.tile_w, h.width);
  const uint64_t ty1 = std::min(h.tile_y0 + h.tile_h, h.height);
  std::vector<std::vector<Grid>> grids(h.subsampling.size());
  for (std::size_t c = 0; c < grids.size(); ++c) {
    const CodingStyle& style = h.style(c);
    const uint32_t dx = h.subsampling[c][0], dy = h.subsampling[c][1];
    const uint64_t cx0 = ceil_div(tx0, dx), cx1 = ceil_div(tx1, dx);
    const uint64_t cy0 = ceil_div(ty0, dy), cy1 = ceil_div(ty1, dy);
    for (int r = 0; r < style.resolutions; ++r) {
      Grid g;
      g.levels_below = style.resolutions - 1 - r;
      g.x0 = ceil_div_pow2(cx0, g.levels_below), g.x1 = ceil_div_pow2(cx1, g.levels_below);
      g.y0 = ceil_div_pow2(cy0, g.levels_below), g.y1 = ceil_div_pow2(cy1, g.levels_below);
      g.ppx = style.precinct_w[r];
      g.ppy = style.precinct_h[r];
      if (g.x1 > g.x0 && g.y1 > g.y0) {
        g.across = uint32_t(ceil_div_pow2(g.x1, g.ppx) - (g.x0 >> g.ppx));
        g.down = uint32_t(ceil_div_pow2(g.y1, g.ppy) - (g.y0 >> g.ppy));
      }
      grids[c].push_back(g);
    }
  }
  return grids;
}

// Walks the progression order as the standard defines it (B.12), calling
// `emit` with each packet's layer, resolution, component and precinct until
// it returns false. False when the walk would be too long to make.
bool Jp2PacketIndex::walk_progression(
    const MainHeader& h, const std::vector<std::vector<Grid>>& grids,
    const std::function<bool(int, int, std::size_t, uint64_t)>& emit) {
  const uint64_t tx0 = std::max(h.tile_x0, h.x0), ty0 = std::max(h.tile_y0, h.y0);
  const uint64_t tx1 = std::min(h.tile_x0 + h.tile_w, h.width);
  const uint64_t ty1 = std::min(h.tile_y0 + h.tile_h, h.height);
  const std::size_t components = grids.size();
  int max_resolutions = 0;
  for (const auto& g : grids) max_resolutions = std::max(max_resolutions, int(g.size()));

  bool going = true;
  auto all_precincts = [&](int layer, int r, std::size_t c) {
    if (r >= int(grids[c].size())) return;
    const Grid& g = grids[c][r];
    for (uint64_t k = 0; k < uint64_t(g.across) * g.down && going; ++k) {
      going = emit(layer, r, c, k);
    }
  };

  // Position-first orders step over the reference grid by the smallest
  // precinct footprint and meet a precinct where it starts.
  uint64_t step_x = UINT64_MAX, step_y = UINT64_MAX;
  for (std::size_t c = 0; c < components; ++c) {
    for (const Grid& g : grids[c]) {
      if (g.ppx + g.levels_below >= 31 || g.ppy + g.levels_below >= 31) continue;
      step_x = std::min(step_x, uint64_t(h.subsampling[c][0]) << (g.ppx + g.levels_below));
      step_y = std::min(step_y, uint64_t(h.subsampling[c][1]) << (g.ppy + g.levels_below));
    }
  }
  if (h.progression >= 2) {
    if (step_x == UINT64_MAX || step_y == UINT64_MAX) return false;
    const uint64_t positions = ((tx1 - tx0) / step_x + 2) * ((ty1 - ty0) / step_y + 2);
    if (positions * components * uint64_t(max_resolutions) > kMaxPositions) return false;
  }
  // The precinct of component c at resolution r that starts at (x, y), if any.
  auto precinct_at = [&](std::size_t c, int r, uint64_t x, uint64_t y, uint64_t& k) {
    if (r >= int(grids[c].size())) return false;
    const Grid& g = grids[c][r];
    if (g.across == 0 || g.down == 0) return false;
    const int level = g.levels_below;
    const int rpx = g.ppx + level, rpy = g.ppy + level;
    if (rpx >= 31 || rpy >= 31) return false;
    const uint64_t dx = h.subsampling[c][0], dy = h.subsampling[c][1];
    const bool starts_y =
        y % (dy << rpy) == 0 || (y == ty0 && ((g.y0 << level) % (uint64_t{1} << rpy)) != 0);
    const bool starts_x =
        x % (dx << rpx) == 0 || (x == tx0 && ((g.x0 << level) % (uint64_t{1} << rpx)) != 0);
    if (!starts_x || !starts_y) return false;
    const uint64_t px = (ceil_div(x, dx << level) >> g.ppx) - (g.x0 >> g.ppx);
    const uint64_t py = (ceil_div(y, dy << level) >> g.ppy) - (g.y0 >> g.ppy);
    k = px + py * g.across;
    return true;
  };
  auto each_position = [&](const std::function<void(uint64_t, uint64_t)>& visit) {
    for (uint64_t y = ty0; y < ty1 && going; y += step_y - (y % step_y)) {
      for (uint64_t x = tx0; x < tx1 && going; x += step_x - (x % step_x)) visit(x, y);
    }
  };
  auto layers_of = [&](int r, std::size_t c, uint64_t k) {
    for (int l = 0; l < h.layers && going; ++l) going = emit(l, r, c, k);
  };
  uint64_t k = 0;
  switch (h.progression) {
    case 0:  // LRCP
      for (int l = 0; l < h.layers; ++l)
        for (int r = 0; r < max_resolutions; ++r)
          for (std::size_t c = 0; c < components; ++c) all_precincts(l, r, c);
      break;
    case 1:  // RLCP
      for (int r = 0; r < max_resolutions; ++r)
        for (int l = 0; l < h.layers; ++l)
          for (std::size_t c = 0; c < components; ++c) all_precincts(l, r, c);
      break;
    case 2:  // RPCL
      for (int r = 0; r < max_resolutions; ++r) {
        each_position([&](uint64_t x, uint64_t y) {
          for (std::size_t c = 0; c < components; ++c) {
            if (precinct_at(c, r, x, y, k)) layers_of(r, c, k);
          }
        });
      }
      break;
    case 3:  // PCRL
      each_position([&](uint64_t x, uint64_t y) {
        for (std::size_t c = 0; c < components; ++c) {
          for (int r = 0; r < int(grids[c].size()); ++r) {
            if (precinct_at(c, r, x, y, k)) layers_of(r, c, k);
          }
        }
      });
      break;
    case 4:  // CPRL
      for (std::size_t c = 0; c < components; ++c) {
        each_position([&](uint64_t x, uint64_t y) {
          for (int r = 0; r < int(grids[c].size()); ++r) {
            if (precinct_at(c, r, x, y, k)) layers_of(r, c, k);
          }
        });
      }
      break;
  }
  return true;
}

// Gives every packet its layer, resolution, component and precinct, and
// checks the walk meets exactly as many packets as the lengths listed.
bool Jp2PacketIndex::label_packets(const MainHeader& h) {
  header_ = h;
  grids_ = make_grids(h);
  // Where each (component, resolution) starts in `slots_`, which holds the
  // packet of every precinct and layer.
  slot_base_.assign(grids_.size(), {});
  std::size_t slots = 0;
  for (std::size_t c = 0; c < grids_.size(); ++c) {
    for (const Grid& g : grids_[c]) {
      slot_base_[c].push_back(slots);
      slots += std::size_t(g.across) * g.down * std::size_t(h.layers);
      if (slots > kMaxPackets) return false;
    }
  }
  if (slots != packets_.size()) return false;
  slots_.assign(slots, UINT32_MAX);
  std::size_t next = 0;
  bool fits = true;
  const bool walked = walk_progression(h, grids_, [&](int l, int r, std::size_t c, uint64_t k) {
    const std::size_t slot = slot_base_[c][r] + std::size_t(k) * std::size_t(h.layers) + l;
    if (next >= packets_.size() || k >= uint64_t(grids_[c][r].across) * grids_[c][r].down ||
        slots_[slot] != UINT32_MAX) {
      return fits = false;
    }
    Packet& p = packets_[next];
    p.layer = uint16_t(l);
    p.resolution = uint8_t(r);
    p.component = uint16_t(c);
    p.precinct = uint32_t(k);
    slots_[slot] = uint32_t(next++);
    return true;
  });
  return walked && fits && next == packets_.size();
}

std::vector<uint8_t> Jp2PacketIndex::reduced_main_header(int levels) const {
  const std::size_t components = header_.subsampling.size();
  const std::size_t index_bytes = components < 257 ? 1 : 2;
  auto scale = [&](uint64_t v) { return uint32_t(ceil_div_pow2(v, levels)); };
  std::vector<uint8_t> out = {0xff, 0x4f};
  std::size_t pos = 2;
  while (pos + 4 <= main_header_.size()) {
    const uint32_t code = be16(&main_header_[pos]), length = be16(&main_header_[pos + 2]);
    if (pos + 2 + length > main_header_.size()) return {};
    std::vector<uint8_t> body(main_header_.begin() + std::ptrdiff_t(pos + 4),
                              main_header_.begin() + std::ptrdiff_t(pos + 2 + length));
    pos += 2 + length;
    // SPcod / SPcoc at `at`: fewer decomposition levels, and the precinct
    // sizes of only the resolutions left.
    auto fewer_levels = [&](std::size_t at, bool precincts) {
      if (body.size() < at + 5 || body[at] < levels) return false;
      const std::size_t resolutions = std::size_t(body[at] - levels) + 1;
      if (precincts) {
        if (body.size() < at + 5 + std::size_t(body[at]) + 1) return false;
        body.resize(at + 5 + resolutions);
      }
      body[at] = uint8_t(body[at] - levels);
      return true;
    };
    // SPqcd / SPqcc at `at`: the step sizes of only the subbands left
    // (listed coarsest first); a derived one needs no change.
    auto fewer_steps = [&](std::size_t at) {
      if (body.size() < at) return false;
      const int style = body[at - 1] & 0x1f;
      if (style == 1) return true;
      const std::size_t each = style == 0 ? 1 : 2;
      const int all = header_.cod.resolutions - 1;
      if (style > 2 || body.size() != at + each * std::size_t(3 * all + 1)) return false;
      body.resize(at + each * std::size_t(3 * (all - levels) + 1));
      return true;
    };
    bool ok = true;
    if (code == kSiz) {
      if (body.size() < 36) return {};
      const uint32_t w = scale(header_.width), h = scale(header_.height);
      const uint32_t fields[8] = {w, h, scale(header_.x0), scale(header_.y0), w, h, 0, 0};
      for (int i = 0; i < 8; ++i) {
        for (int k = 0; k < 4; ++k) body[2 + 4 * i + k] = uint8_t(fields[i] >> (24 - 8 * k));
      }
    } else if (code == kCod) {
      ok = fewer_levels(5, (body[0] & 1) != 0);
    } else if (code == kCoc) {
      ok = body.size() > index_bytes && fewer_levels(index_bytes + 1, (body[index_bytes] & 1) != 0);
    } else if (code == kQcd) {
      ok = fewer_steps(1);
    } else if (code == kQcc) {
      ok = fewer_steps(index_bytes + 1);
    }
    if (!ok) return {};
    put16(out, code);
    put16(out, uint32_t(body.size() + 2));
    out.insert(out.end(), body.begin(), body.end());
  }
  return out;
}

Jp2PacketIndex::Sparse Jp2PacketIndex::sparse_codestream(const ByteReader& file, int reduce,
                                                         int layers, uint64_t x0, uint64_t y0,
                                                         uint64_t x1, uint64_t y1) const {
  // The area on every component's every resolution, widened by the margin.
  struct Window {
    int64_t x0, y0, x1, y1;
    bool decoded;
  };
  std::vector<std::vector<Window>> windows(grids_.size());
  for (std::size_t c = 0; c < grids_.size(); ++c) {
    const auto& sub = header_.subsampling[c];
    const uint64_t cx0 = ceil_div(x0, sub[0]), cx1 = ceil_div(x1, sub[0]);
    const uint64_t cy0 = ceil_div(y0, sub[1]), cy1 = ceil_div(y1, sub[1]);
    for (const Grid& g : grids_[c]) {
      const int k = g.levels_below;
      windows[c].push_back(Window{int64_t(ceil_div_pow2(cx0, k)) - kMargin,
                                  int64_t(ceil_div_pow2(cy0, k)) - kMargin,
                                  int64_t(ceil_div_pow2(cx1, k)) + kMargin,
                                  int64_t(ceil_div_pow2(cy1, k)) + kMargin, k >= reduce});
    }
  }
  auto needed = [&](const Packet& p) {
    if (layers > 0 && p.layer >= layers) return false;
    const Window& w = windows[p.component][p.resolution];
    if (!w.decoded) return false;
    const Grid& g = grids_[p.component][p.resolution];
    const uint64_t gx = (g.x0 >> g.ppx) + p.precinct % g.across;
    const uint64_t gy = (g.y0 >> g.ppy) + p.precinct / g.across;
    const int64_t px0 = int64_t(std::max(g.x0, gx << g.ppx));
    const int64_t px1 = int64_t(std::min(g.x1, (gx + 1) << g.ppx));
    const int64_t py0 = int64_t(std::max(g.y0, gy << g.ppy));
    const int64_t py1 = int64_t(std::min(g.y1, (gy + 1) << g.ppy));
    return px0 < w.x1 && w.x0 < px1 && py0 < w.y1 && w.y0 < py1;
  };

  // Packets in a given order into `out`: a needed one as it is in the file
  // (neighbours in the file read at once), any other as an empty packet: its
  // SOP marker segment when the codestream has them, a header whose first
  // bit says "empty", and its EPH marker.
  std::vector<uint8_t> out;
  uint64_t run_start = 0, run_length = 0;
  auto flush = [&] {
    if (run_length == 0) return;
    const std::size_t at = out.size();
    out.resize(at + run_length);
    if (!file.read_at(run_start, out.data() + at, run_length)) {
      throw Error(500, "cannot read the JPEG 2000 file");
    }
    run_length = 0;
  };
  // `sequence`: the packet's place in the new codestream (SOP's Nsop).
  auto write_packet = [&](std::size_t i, bool keep, std::size_t sequence) {
    const Packet& p = packets_[i];
    if (keep) {
      if (run_length > 0 && run_start + run_length == p.offset) {
        run_length += p.length;
      } else {
        flush();
        run_start = p.offset;
        run_length = p.length;
      }
      return;
    }
    flush();
    if (header_.sop) {
      const uint8_t sop[6] = {0xff, 0x91, 0, 4, uint8_t(sequence >> 8), uint8_t(sequence)};
      out.insert(out.end(), sop, sop + 6);
    }
    out.push_back(0);
    if (header_.eph) put16(out, 0xff92);
  };
  auto sot = [](std::vector<uint8_t>& to, uint64_t psot, uint8_t part, uint8_t parts) {
    if (psot > UINT32_MAX) throw Error(500, "JPEG 2000 tile-part too large to rewrite");
    put16(to, kSot);
    put16(to, 10);
    put16(to, 0);
    put32(to, uint32_t(psot));
    to.push_back(part);
    to.push_back(parts);
  };

  Sparse sparse;
  // The image reduced: every component must have the levels to drop, and
  // tile-part headers nothing that would need rewriting too.
  bool drop = reduce > 0;
  for (const TilePart& part : tile_parts_) drop = drop && part.markers.empty();
  for (std::size_t c = 0; c < grids_.size(); ++c) {
    drop = drop && header_.style(c).resolutions == header_.cod.resolutions;
  }
  if (drop) {
    MainHeader reduced = header_;
    reduced.width = ceil_div_pow2(header_.width, reduce);
    reduced.height = ceil_div_pow2(header_.height, reduce);
    reduced.x0 = ceil_div_pow2(header_.x0, reduce);
    reduced.y0 = ceil_div_pow2(header_.y0, reduce);
    reduced.tile_x0 = reduced.tile_y0 = 0;
    reduced.tile_w = reduced.width;
    reduced.tile_h = reduced.height;
    reduced.cod.resolutions -= reduce;
    for (CodingStyle& style : reduced.coc) {
      if (style.resolutions > 0) style.resolutions -= reduce;
    }
    const Grids grids = make_grids(reduced);
    // The resolutions left are the same sample grids, precinct for precinct.
    for (std::size_t c = 0; c < grids.size() && drop; ++c) {
      for (std::size_t r = 0; r < grids[c].size() && drop; ++r) {
        const Grid &a = grids[c][r], &b = grids_[c][r];
        drop = a.x0 == b.x0 && a.y0 == b.y0 && a.x1 == b.x1 && a.y1 == b.y1 &&
               a.across == b.across && a.down == b.down;
      }
    }
    std::vector<uint8_t> main = drop ? reduced_main_header(reduce) : std::vector<uint8_t>{};
    if (!main.empty()) {
      std::size_t sequence = 0;
      const bool walked =
          walk_progression(reduced, grids, [&](int l, int r, std::size_t c, uint64_t k) {
            const uint32_t i =
                slots_[slot_base_[c][r] + std::size_t(k) * std::size_t(header_.layers) + l];
            if (i == UINT32_MAX) return drop = false;
            write_packet(i, needed(packets_[i]), sequence++);
            return true;
          });
      flush();
      if (walked && drop) {
        sparse.bytes = std::move(main);
        sot(sparse.bytes, 12 + 2 + out.size(), 0, 1);
        put16(sparse.bytes, kSod);
        sparse.bytes.insert(sparse.bytes.end(), out.begin(), out.end());
        put16(sparse.bytes, kEoc);
        sparse.levels_dropped = reduce;
        return sparse;
      }
      out.clear();
    }
  }

  // The original's geometry and tile-parts.
  sparse.bytes = main_header_;
  std::vector<bool> keep(packets_.size());
  const std::size_t empty_size = (header_.sop ? 6 : 0) + 1 + (header_.eph ? 2 : 0);
  for (const TilePart& part : tile_parts_) {
    uint64_t data = 0;
    for (std::size_t i = part.first; i < part.first + part.count; ++i) {
      keep[i] = needed(packets_[i]);
      data += keep[i] ? packets_[i].length : empty_size;
    }
    sot(sparse.bytes, 12 + part.markers.size() + 2 + data, part.part, part.parts);
    sparse.bytes.insert(sparse.bytes.end(), part.markers.begin(), part.markers.end());
    put16(sparse.bytes, kSod);
    out.swap(sparse.bytes);
    // Nsop counts the tile's packets from 0, modulo 2^16.
    for (std::size_t i = part.first; i < part.first + part.count; ++i) write_packet(i, keep[i], i);
    flush();
    out.swap(sparse.bytes);
  }
  put16(sparse.bytes, kEoc);
  return sparse;
}

}  // namespace tessera
