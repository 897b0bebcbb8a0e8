#include "image/jpeg_entry_points.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "image/stored_tile.hpp"

namespace tessera {

namespace {

// An entry every this many pixels of a row (every 4 MCUs of 8 pixels, 2 of
// 16): a window's rows start up to this far left of where they need to and
// end as far right, Huffman-decoding what lies between for nothing. 32 keeps
// a 256x256 tile's entry points near 2.3 KB (a decoded tile is 192 KB); 64
// took 6 % more Huffman decoding for the benchmark's regions.
constexpr uint32_t kStepPixels = 32;
// Splices that keep more than this share of the tile's MCUs are not worth
// making: libjpeg's own skipping does as well.
constexpr double kWorthwhile = 0.9;

// A Huffman table for both directions (ISO/IEC 10918-1 Annex C and F.2.2.3).
struct Huffman {
  bool present = false;
  std::array<uint8_t, 256> look_length{};  // codes of up to 8 bits by their first byte
  std::array<uint8_t, 256> look_symbol{};
  std::array<int32_t, 18> max_code{};  // by length; -1 when none
  std::array<int32_t, 18> offset{};    // value index minus first code, by length
  std::vector<uint8_t> values;
  std::array<uint16_t, 256> code{};  // by symbol
  std::array<uint8_t, 256> size{};   // 0: the symbol has no code

  bool build(const uint8_t* counts, const uint8_t* symbols, std::size_t n) {
    *this = Huffman{};
    values.assign(symbols, symbols + n);
    uint32_t next = 0;
    std::size_t k = 0;
    for (int length = 1; length <= 16; ++length) {
      max_code[length] = -1;
      offset[length] = int32_t(k) - int32_t(next);
      for (int i = 0; i < counts[length - 1]; ++i, ++k, ++next) {
        if (k >= n || next >= (1u << length)) return false;
        const uint8_t symbol = values[k];
        code[symbol] = uint16_t(next);
        size[symbol] = uint8_t(length);
        if (length <= 8) {
          const uint32_t first = next << (8 - length), span = 1u << (8 - length);
          for (uint32_t j = 0; j < span; ++j) {
            look_length[first + j] = uint8_t(length);
            look_symbol[first + j] = symbol;
          }
        }
      }
      if (counts[length - 1] > 0) max_code[length] = int32_t(next) - 1;
      next <<= 1;
    }
    max_code[17] = INT32_MAX;
    present = true;
    return k == n;
  }
};

// Entropy-coded data with the stuffed zero bytes taken out, padded so that
// reads near the end need no checks. Positions count from the scan's start:
// data[0] is its byte `first`. `data` only grows, so a kept Bits reuses it.
struct Bits {
  std::vector<uint8_t> data;
  std::size_t length = 0;  // the unstuffed bytes in data (8 zero bytes follow)
  uint64_t first = 0;
  uint64_t size = 0;                 // the scan's end, in bits
  std::vector<uint32_t> stuffed_at;  // the 0xFF bytes a zero followed, by index

  const uint8_t* at(uint64_t pos) const { return data.data() + ((pos >> 3) - first); }
  uint32_t peek32(uint64_t pos) const { return uint32_t(peek64(pos) >> 32); }
  // 64 bits from `pos`: reads 9 bytes, which the padding allows.
  uint64_t peek64(uint64_t pos) const {
    const uint8_t* p = at(pos);
    uint64_t word = 0;
    std::memcpy(&word, p, 8);
    word = __builtin_bswap64(word);
    const int shift = int(pos & 7);
    return shift == 0 ? word : (word << shift) | (p[8] >> (8 - shift));
  }
  uint32_t peek(uint64_t pos, int k) const {  // k <= 24
    const uint8_t* p = at(pos);
    const uint32_t word = uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
    return k == 0 ? 0 : (word << (pos & 7)) >> (32 - k);
  }
};

// Whether any byte of `word` is 0xFF (the classic has-zero-byte test on its
// complement).
inline bool has_ff(uint64_t word) {
  const uint64_t x = ~word;
  return ((x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull) != 0;
}

// What the stream's headers say, and where its parts lie in `tile.bytes`.
struct Frame {
  uint32_t width = 0, height = 0;
  int components = 0;
  std::array<int, 4> h{}, v{}, dc_table{}, ac_table{};  // in scan order
  int h_max = 1, v_max = 1;
  std::size_t sof_size_at = 0;  // the SOF's Y field
  std::size_t sos_at = 0;       // the SOS marker
  std::size_t data_at = 0;      // the entropy-coded data
  std::array<Huffman, 4> dc, ac;

  int blocks(int c) const { return components == 1 ? 1 : h[c] * v[c]; }
  uint32_t mcu_width() const { return components == 1 ? 8 : 8 * uint32_t(h_max); }
  uint32_t mcu_height() const { return components == 1 ? 8 : 8 * uint32_t(v_max); }
};

uint32_t be16(const uint8_t* p) { return uint32_t(p[0]) << 8 | p[1]; }

// Reads the DHT segments of a stream (tables or image) into `frame`, and for
// the image its SOF and SOS. False for anything this module does not enter.
bool read_headers(std::string_view stream, bool image, Frame& frame) {
  const auto* s = reinterpret_cast<const uint8_t*>(stream.data());
  const std::size_t n = stream.size();
  if (n < 4 || s[0] != 0xff || s[1] != 0xd8) return false;
  std::size_t pos = 2;
  std::array<int, 4> ids{};
  int frame_components = 0;
  std::array<int, 4> frame_h{}, frame_v{};
  while (pos + 4 <= n) {
    if (s[pos] != 0xff) return false;
    const uint8_t marker = s[pos + 1];
    if (marker == 0xff) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0xd9) return !image;  // EOI: a tables-only stream ends here
    const std::size_t length = be16(s + pos + 2);
    if (length < 2 || pos + 2 + length > n) return false;
    const uint8_t* b = s + pos + 4;
    const std::size_t bn = length - 2;
    if (marker == 0xc4) {  // DHT
      std::size_t at = 0;
      while (at + 17 <= bn) {
        const int type = b[at] >> 4, id = b[at] & 15;
        if (type > 1 || id > 3) return false;
        std::size_t count = 0;
        for (int i = 0; i < 16; ++i) count += b[at + 1 + i];
        if (at + 17 + count > bn) return false;
        Huffman& table = type == 0 ? frame.dc[id] : frame.ac[id];
        if (!table.build(b + at + 1, b + at + 17, count)) return false;
        at += 17 + count;
      }
    } else if (marker == 0xc0 || marker == 0xc1) {  // baseline, extended sequential
      if (bn < 6 || b[0] != 8) return false;
      frame.height = be16(b + 1);
      frame.width = be16(b + 3);
      frame_components = b[5];
      if (frame_components < 1 || frame_components > 4 || bn < 6 + 3 * std::size_t(b[5]))
        return false;
      for (int c = 0; c < frame_components; ++c) {
        ids[c] = b[6 + 3 * c];
        frame_h[c] = b[7 + 3 * c] >> 4;
        frame_v[c] = b[7 + 3 * c] & 15;
        if (frame_h[c] < 1 || frame_h[c] > 4 || frame_v[c] < 1 || frame_v[c] > 4) return false;
      }
      frame.sof_size_at = pos + 5;
    } else if ((marker >= 0xc2 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8) ||
               marker == 0xcc) {
      return false;               // progressive, lossless, hierarchical or arithmetic coded
    } else if (marker == 0xdd) {  // DRI
      if (bn < 2 || be16(b) != 0) return false;
    } else if (marker == 0xda) {  // SOS
      if (!image || frame_components == 0 || bn < 1) return false;
      const int ns = b[0];
      if (ns != frame_components || bn < 1 + 2 * std::size_t(ns) + 3) return false;
      frame.components = ns;
      for (int i = 0; i < ns; ++i) {
        const int id = b[1 + 2 * i];
        int c = 0;
        while (c < frame_components && ids[c] != id) ++c;
        if (c == frame_components) return false;
        frame.h[i] = frame_h[c];
        frame.v[i] = frame_v[c];
        frame.dc_table[i] = b[2 + 2 * i] >> 4;
        frame.ac_table[i] = b[2 + 2 * i] & 15;
        if (frame.dc_table[i] > 3 || frame.ac_table[i] > 3) return false;
        frame.h_max = std::max(frame.h_max, frame.h[i]);
        frame.v_max = std::max(frame.v_max, frame.v[i]);
      }
      const uint8_t* tail = b + 1 + 2 * ns;
      if (tail[0] != 0 || tail[1] != 63 || tail[2] != 0) return false;
      frame.sos_at = pos;
      frame.data_at = pos + 2 + length;
      return frame.width > 0 && frame.height > 0;
    }
    pos += 2 + length;
  }
  return !image;
}

bool read_frame(const StoredTile& tile, Frame& frame) {
  if (tile.tables && !tile.tables->empty() && !read_headers(*tile.tables, false, frame))
    return false;
  if (!read_headers(tile.stream(), true, frame)) return false;
  for (int c = 0; c < frame.components; ++c) {
    if (!frame.dc[frame.dc_table[c]].present || !frame.ac[frame.ac_table[c]].present) return false;
  }
  return true;
}

// The scan from stream byte `from` (its unstuffed byte `first`) up to its
// end (a marker) or `limit` unstuffed bytes. Eight bytes at a time between
// the 0xFF bytes, which in entropy-coded data come every few hundred.
void unstuff(std::string_view stream, std::size_t from, uint64_t first, std::size_t limit,
             Bits& bits) {
  const auto* s = reinterpret_cast<const uint8_t*>(stream.data());
  const std::size_t n = stream.size();
  bits.stuffed_at.clear();
  bits.first = first;
  const std::size_t room = std::min(n - std::min(n, from), limit);
  if (bits.data.size() < room + 16) bits.data.resize(room + 16);
  uint8_t* out = bits.data.data();
  std::size_t i = from, o = 0;
  while (i < n && o < room) {
    while (i + 8 <= n && o + 8 <= room) {
      uint64_t word = 0;
      std::memcpy(&word, s + i, 8);
      if (has_ff(word)) break;
      std::memcpy(out + o, &word, 8);
      i += 8;
      o += 8;
    }
    if (i >= n || o >= room) break;
    if (s[i] != 0xff) {
      out[o++] = s[i++];
      continue;
    }
    if (i + 1 >= n || s[i + 1] != 0x00) break;  // a marker: the scan ends
    bits.stuffed_at.push_back(uint32_t(o));
    out[o++] = 0xff;
    i += 2;
  }
  std::memset(out + o, 0, 8);
  bits.length = o;
  bits.size = (first + o) * 8;
}

// Reads through a scan's blocks, one symbol at a time.
struct Walker {
  const Frame& frame;
  const Bits& bits;
  uint64_t pos = 0;

  // -1 on an invalid code.
  int symbol(const Huffman& table) {
    if (pos > bits.size) return -1;  // past the end: corrupt (and the padding's limit)
    const uint32_t peek = bits.peek(pos, 16);
    const uint8_t length = table.look_length[peek >> 8];
    if (length > 0) {
      pos += length;
      return table.look_symbol[peek >> 8];
    }
    int l = 9;
    while (l <= 16 && int32_t(peek >> (16 - l)) > table.max_code[l]) ++l;
    if (l > 16) return -1;  // no code of any length: corrupt
    const int32_t index = int32_t(peek >> (16 - l)) + table.offset[l];
    if (index < 0 || index >= int32_t(table.values.size())) return -1;
    pos += uint64_t(l);
    return table.values[std::size_t(index)];
  }

  // One block of component c: its DC difference, and where its DC code and
  // AC codes begin. False when corrupt.
  bool block(int c, int& diff, uint64_t& ac_at) {
    const int s = symbol(frame.dc[frame.dc_table[c]]);
    if (s < 0 || s > 11) return false;
    diff = 0;
    if (s > 0) {
      const int v = int(bits.peek(pos, s));
      diff = v < (1 << (s - 1)) ? v - (1 << s) + 1 : v;
      pos += uint64_t(s);
    }
    ac_at = pos;
    const Huffman& ac = frame.ac[frame.ac_table[c]];
    for (int k = 1; k < 64;) {
      const int rs = symbol(ac);
      if (rs < 0) return false;
      const int run = rs >> 4, size = rs & 15;
      if (size == 0) {
        if (run != 15) break;
        k += 16;
      } else {
        k += run + 1;
        pos += uint64_t(size);
      }
      if (k > 64) return false;
    }
    return pos <= bits.size;
  }
};

// Writes bits into a stream's entropy-coded data, stuffing a zero after
// every 0xFF byte as it goes. `out` grows as needed; `size` is what is used.
struct BitWriter {
  std::vector<uint8_t>& out;
  std::size_t size = 0;
  uint64_t acc = 0;
  int count = 0;  // bits in acc (its low ones), below 8 between calls

  // Room for `bytes` more unstuffed bytes, each of which may gain a zero.
  void reserve(std::size_t bytes) {
    if (out.size() < size + 2 * bytes + 16)
      out.resize(std::max(out.size() * 2, size + 2 * bytes + 16));
  }
  void byte(uint8_t b) {
    out[size++] = b;
    if (b == 0xff) out[size++] = 0;
  }
  void put(uint32_t value, int k) {  // k <= 24
    if (k == 0) return;
    reserve(4);
    acc = (acc << k) | (value & ((1u << k) - 1));
    count += k;
    while (count >= 8) {
      count -= 8;
      byte(uint8_t(acc >> count));
    }
    acc &= (uint64_t{1} << count) - 1;
  }
  // The bits [from, to) of `bits`, 64 at a time. The source's bit offset
  // and the bits pending in `acc` stay the same through the loop, so its
  // shifts are fixed; locals keep the compiler from reloading the buffers.
  void copy(const Bits& bits, uint64_t from, uint64_t to) {
    reserve(std::size_t((to - from) >> 3) + 8);
    if (to - from >= 64) {
      const uint8_t* p = bits.at(from);
      uint8_t* dst = out.data() + size;
      const int shift = int(from & 7), pending = count;
      const uint64_t keep = (uint64_t{1} << pending) - 1;
      uint64_t carry = acc;
      const uint64_t words = (to - from) >> 6;
      for (uint64_t i = 0; i < words; ++i, p += 8) {
        uint64_t v = 0;
        std::memcpy(&v, p, 8);
        v = __builtin_bswap64(v);
        if (shift != 0) v = (v << shift) | (p[8] >> (8 - shift));
        const uint64_t word = pending == 0 ? v : (carry << (64 - pending)) | (v >> pending);
        carry = v & keep;
        if (!has_ff(word)) {
          const uint64_t big = __builtin_bswap64(word);
          std::memcpy(dst, &big, 8);
          dst += 8;
        } else {
          for (int k = 56; k >= 0; k -= 8) {
            *dst++ = uint8_t(word >> k);
            if (uint8_t(word >> k) == 0xff) *dst++ = 0;
          }
        }
      }
      size = std::size_t(dst - out.data());
      acc = carry;
      from += words << 6;
    }
    while (to - from >= 24) {
      put(bits.peek(from, 24), 24);
      from += 24;
    }
    put(bits.peek(from, int(to - from)), int(to - from));
  }
  // Pads the last byte with ones, as the scan's end requires.
  void finish() {
    if (count > 0) put((1u << (8 - count)) - 1, 8 - count);
  }
};

}  // namespace

std::shared_ptr<const JpegEntryPoints> index_jpeg_tile(const StoredTile& tile) {
  Frame frame;
  if (!read_frame(tile, frame)) return nullptr;
  Bits bits;
  unstuff(tile.stream(), frame.data_at, 0, tile.bytes.size(), bits);
  auto entries = std::make_shared<JpegEntryPoints>();
  JpegEntryPoints& e = *entries;
  e.width = frame.width;
  e.height = frame.height;
  e.mcu_width = frame.mcu_width();
  e.mcu_height = frame.mcu_height();
  e.mcus_across = (frame.width + e.mcu_width - 1) / e.mcu_width;
  e.mcus_down = (frame.height + e.mcu_height - 1) / e.mcu_height;
  e.step = std::max(1u, kStepPixels / e.mcu_width);
  e.components = frame.components;
  e.entries_per_row = (e.mcus_across + e.step - 1) / e.step;
  e.row_bits.reserve(e.mcus_down);
  e.deltas.reserve(std::size_t(e.entries_per_row) * e.mcus_down);
  e.dc.reserve(e.deltas.capacity() * std::size_t(frame.components));

  Walker walker{frame, bits};
  std::array<int, 4> pred{};
  int diff = 0;
  uint64_t ac_at = 0;
  e.row_at.reserve(e.mcus_down);
  for (uint32_t row = 0; row < e.mcus_down; ++row) {
    // The stream offset of the row's first byte: its unstuffed index plus
    // the stuffed zeros before it.
    const uint64_t byte = walker.pos >> 3;
    const auto before = std::lower_bound(bits.stuffed_at.begin(), bits.stuffed_at.end(), byte);
    e.row_at.push_back(uint32_t(byte + uint64_t(before - bits.stuffed_at.begin())));
    if (walker.pos > UINT32_MAX) return nullptr;
    e.row_bits.push_back(uint32_t(walker.pos));
    uint64_t last = walker.pos;
    for (uint32_t col = 0; col < e.mcus_across; ++col) {
      if (col % e.step == 0) {
        if (walker.pos - last > UINT16_MAX) return nullptr;
        e.deltas.push_back(uint16_t(walker.pos - last));
        last = walker.pos;
        for (int c = 0; c < frame.components; ++c) e.dc.push_back(int16_t(pred[c]));
      }
      for (int c = 0; c < frame.components; ++c) {
        for (int b = 0; b < frame.blocks(c); ++b) {
          if (!walker.block(c, diff, ac_at)) return nullptr;
          pred[c] += diff;
          if (pred[c] < -32768 || pred[c] > 32767) return nullptr;
        }
      }
    }
  }
  if (walker.pos > UINT32_MAX) return nullptr;
  e.end_bits = uint32_t(walker.pos);
  return entries;
}

std::optional<SplicedTile> splice_jpeg_tile(const StoredTile& tile, const JpegEntryPoints& e,
                                            uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1) {
  if (x0 >= x1 || y0 >= y1 || x1 > e.width || y1 > e.height) return std::nullopt;
  const uint32_t col0 = x0 / e.mcu_width / e.step * e.step;
  const uint32_t col1 =
      std::min(e.mcus_across, (x1 + e.mcu_width * e.step - 1) / (e.mcu_width * e.step) * e.step);
  const uint32_t row0 = y0 / e.mcu_height;
  const uint32_t row1 = (y1 + e.mcu_height - 1) / e.mcu_height;
  const uint64_t kept = uint64_t(col1 - col0) * (row1 - row0);
  // Rows below the window are never decoded anyway: compare with the MCUs a
  // plain decode reads up to the window's last row.
  if (double(kept) > kWorthwhile * double(e.mcus_across) * row1) return std::nullopt;

  // What one thread keeps between splices: the tiles of a file share their
  // tables and headers, so the parsed frame is reused while they match.
  struct Memo {
    std::shared_ptr<const std::string> tables;
    std::string headers;  // the tile's bytes before its entropy-coded data
    Frame frame;
    bool valid = false;
    Bits bits;
    std::vector<uint8_t> out;
  };
  thread_local Memo memo;
  if (!memo.valid || memo.tables != tile.tables ||
      tile.stream().substr(0, memo.headers.size()) != memo.headers) {
    memo.valid = false;
    memo.frame = Frame{};
    if (!read_frame(tile, memo.frame)) return std::nullopt;
    memo.tables = tile.tables;
    memo.headers.assign(tile.stream().substr(0, memo.frame.data_at));
    memo.valid = true;
  }
  const Frame& frame = memo.frame;
  if (frame.width != e.width || frame.height != e.height || frame.components != e.components)
    return std::nullopt;
  if (e.row_at.size() != e.mcus_down || e.row_bits.size() != e.mcus_down ||
      e.deltas.size() != std::size_t(e.entries_per_row) * e.mcus_down ||
      e.dc.size() != e.deltas.size() * std::size_t(e.components)) {
    return std::nullopt;
  }

  SplicedTile out;
  out.x = col0 * e.mcu_width;
  out.y = row0 * e.mcu_height;
  out.width = std::min(e.width, col1 * e.mcu_width) - out.x;
  out.height = std::min(e.height, row1 * e.mcu_height) - out.y;
  // The tile's headers with the frame's new size.
  std::vector<uint8_t>& buffer = memo.out;
  const std::size_t expected = frame.data_at + 64 +
                               std::size_t(double(tile.bytes.size()) * double(kept) /
                                           double(uint64_t(e.mcus_across) * e.mcus_down));
  if (buffer.size() < expected) buffer.resize(expected);
  std::memcpy(buffer.data(), tile.bytes.data(), frame.data_at);
  buffer[frame.sof_size_at] = uint8_t(out.height >> 8);
  buffer[frame.sof_size_at + 1] = uint8_t(out.height);
  buffer[frame.sof_size_at + 2] = uint8_t(out.width >> 8);
  buffer[frame.sof_size_at + 3] = uint8_t(out.width);

  // The rows follow each other in one scan: the first block of each
  // component in a row is coded against the last of the row before in the
  // new stream (`running`), not the one before it in the tile.
  BitWriter writer{buffer, frame.data_at};
  std::array<int, 4> running{};
  Bits& bits = memo.bits;
  Walker walker{frame, bits};
  for (uint32_t row = row0; row < row1; ++row) {
    const uint32_t k0 = col0 / e.step, k1 = (col1 - col0) / e.step + k0;
    const std::size_t entry = std::size_t(row) * e.entries_per_row + k0;
    const uint64_t start = e.bit(row, k0);
    // Where the row's last MCU ends: the next entry, or the next row.
    const uint64_t end = col1 < e.mcus_across    ? e.bit(row, k1)
                         : row + 1 < e.mcus_down ? e.row_bits[row + 1]
                                                 : e.end_bits;
    // This row's bytes, from its first to the one holding `end`.
    const uint64_t first = e.row_bits[row] >> 3;
    if (end < start) return std::nullopt;
    unstuff(tile.stream(), frame.data_at + e.row_at[row], first,
            std::size_t((end >> 3) - first + 1), bits);
    if (bits.size < end) return std::nullopt;
    // The row's first MCU, its first block of every component given the
    // DC value relative to the row before it in the new stream.
    walker.pos = start;
    for (int c = 0; c < frame.components; ++c) {
      for (int b = 0; b < frame.blocks(c); ++b) {
        const uint64_t block_at = walker.pos;
        int diff = 0;
        uint64_t ac_at = 0;
        if (!walker.block(c, diff, ac_at)) return std::nullopt;
        if (b > 0) {
          writer.copy(bits, block_at, walker.pos);
          continue;
        }
        const int value = e.dc[entry * std::size_t(e.components) + std::size_t(c)] + diff;
        const int coded = value - running[c];
        const int magnitude = coded < 0 ? -coded : coded;
        int category = 0;
        while ((1 << category) <= magnitude) ++category;
        const Huffman& table = frame.dc[frame.dc_table[c]];
        if (category > 11 || table.size[category] == 0) return std::nullopt;
        writer.put(table.code[category], table.size[category]);
        writer.put(uint32_t(coded < 0 ? coded + (1 << category) - 1 : coded), category);
        writer.copy(bits, ac_at, walker.pos);
      }
    }
    if (walker.pos > end) return std::nullopt;
    writer.copy(bits, walker.pos, end);
    // The predictors at the row's end: those before the MCU after it.
    if (row + 1 < row1) {
      const std::size_t after =
          col1 < e.mcus_across ? entry + (k1 - k0) : std::size_t(row + 1) * e.entries_per_row;
      for (int c = 0; c < frame.components; ++c) {
        running[c] = e.dc[after * std::size_t(e.components) + std::size_t(c)];
      }
    }
  }
  writer.finish();
  writer.reserve(2);
  buffer[writer.size++] = 0xff;
  buffer[writer.size++] = 0xd9;
  out.bytes = std::string_view(reinterpret_cast<const char*>(buffer.data()), writer.size);
  return out;
}

}  // namespace tessera
