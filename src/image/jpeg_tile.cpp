#include "image/jpeg_tile.hpp"

#include <algorithm>

namespace tessera {

namespace {

constexpr uint8_t kSof0 = 0xC0, kSof1 = 0xC1, kDht = 0xC4, kSoi = 0xD8, kEoi = 0xD9, kSos = 0xDA,
                  kDqt = 0xDB, kDri = 0xDD, kApp0 = 0xE0, kApp14 = 0xEE, kApp15 = 0xEF, kCom = 0xFE;

uint8_t byte_at(std::string_view s, std::size_t i) { return uint8_t(s[i]); }

uint32_t u16_at(std::string_view s, std::size_t i) {
  return (uint32_t(byte_at(s, i)) << 8) | byte_at(s, i + 1);
}

// One marker segment: [start, end) holds the marker (with any fill bytes
// before it) and its parameters, which begin at `params`.
struct Segment {
  uint8_t marker = 0;
  std::size_t start = 0, params = 0, end = 0;
};

// The segment at `pos`, which must start with 0xFF; false when the stream
// has none there or it runs past the end.
bool read_segment(std::string_view s, std::size_t pos, Segment& segment) {
  if (pos >= s.size() || byte_at(s, pos) != 0xFF) return false;
  std::size_t p = pos;
  while (p < s.size() && byte_at(s, p) == 0xFF) ++p;
  if (p >= s.size() || byte_at(s, p) == 0) return false;
  segment.marker = byte_at(s, p++);
  segment.start = pos;
  const bool standalone = segment.marker == kSoi || segment.marker == kEoi ||
                          (segment.marker >= 0xD0 && segment.marker <= 0xD7) ||
                          segment.marker == 0x01;
  if (standalone) {
    segment.params = segment.end = p;
    return true;
  }
  if (s.size() - p < 2) return false;
  const uint32_t length = u16_at(s, p);
  if (length < 2 || s.size() - p < length) return false;
  segment.params = p + 2;
  segment.end = p + length;
  return true;
}

bool starts_with_soi(std::string_view s) {
  return s.size() >= 2 && byte_at(s, 0) == 0xFF && byte_at(s, 1) == kSoi;
}

// The table segments of a JPEGTables stream, or nullopt when it holds
// anything that does not belong in tables.
std::optional<std::string> table_segments(std::string_view tables) {
  std::string kept;
  if (tables.empty()) return kept;
  if (!starts_with_soi(tables)) return std::nullopt;
  Segment segment;
  for (std::size_t pos = 2; read_segment(tables, pos, segment); pos = segment.end) {
    const uint8_t m = segment.marker;
    if (m == kEoi) return kept;
    if (m == kDqt || m == kDht || m == kDri) {
      kept.append(tables.substr(segment.start, segment.end - segment.start));
    } else if (!((m >= kApp0 && m <= kApp15) || m == kCom)) {
      return std::nullopt;
    }
  }
  return std::nullopt;  // no EOI: truncated or not a table stream
}

uint32_t blocks(uint32_t pixels, uint32_t unit) { return (pixels + unit - 1) / unit; }

// APP14 "Adobe", version 100, no flags, transform 0: the components are
// RGB, not YCbCr.
constexpr std::string_view kAdobeRgb(
    "\xff\xee\x00\x0e"
    "Adobe\x00\x64\x00\x00\x00\x00\x00",
    16);

}  // namespace

std::optional<std::string> complete_jpeg_tile(std::string_view tables, std::string_view tile,
                                              uint32_t width, uint32_t height, JpegColour colour) {
  if (!starts_with_soi(tile) || width == 0 || height == 0) return std::nullopt;
  const int components = colour == JpegColour::Grey ? 1 : 3;
  const std::optional<std::string> kept = table_segments(tables);
  if (!kept) return std::nullopt;

  // The frame header, checked up to the start of the scan.
  std::size_t frame_params = 0;
  uint32_t frame_width = 0, frame_height = 0, max_h = 1;
  int frame_components = 0;
  Segment segment;
  bool scanned = false;
  for (std::size_t pos = 2; !scanned && read_segment(tile, pos, segment); pos = segment.end) {
    const uint8_t m = segment.marker;
    const std::size_t length = segment.end - segment.params;
    if (m == kSof0 || m == kSof1) {
      if (frame_params != 0 || length < 6) return std::nullopt;
      const std::size_t p = segment.params;
      frame_components = byte_at(tile, p + 5);
      if (byte_at(tile, p) != 8 || frame_components != components ||
          length != 6 + 3 * std::size_t(frame_components)) {
        return std::nullopt;
      }
      frame_height = u16_at(tile, p + 1);
      frame_width = u16_at(tile, p + 3);
      for (int c = 0; c < frame_components; ++c) {
        const std::size_t at = p + 6 + 3 * std::size_t(c);
        const uint32_t h = byte_at(tile, at + 1) >> 4, v = byte_at(tile, at + 1) & 15;
        if (h < 1 || h > 4 || v < 1 || v > 4) return std::nullopt;
        // libtiff hands RGB samples over as stored; a decoder would upsample them.
        if (colour == JpegColour::Rgb && (h != 1 || v != 1)) return std::nullopt;
        if (colour == JpegColour::YCbCr && byte_at(tile, at) != c + 1) return std::nullopt;
        max_h = std::max(max_h, h);
      }
      frame_params = p;
    } else if (m == kSos) {
      // One scan of every component: sequential mode then codes each
      // component once, so this is the only scan.
      if (frame_params == 0 || length < 1 || byte_at(tile, segment.params) != frame_components) {
        return std::nullopt;
      }
      scanned = true;
    } else if ((m >= 0xC0 && m <= 0xCF && m != kDht) || m == kApp14 || m == kEoi) {
      // Progressive, lossless, hierarchical or arithmetic frames; an Adobe
      // colour transform; a stream without a scan.
      return std::nullopt;
    } else if (m == kApp0 && colour == JpegColour::Rgb) {
      return std::nullopt;  // JFIF would say YCbCr over our Adobe segment
    }
  }
  if (!scanned) return std::nullopt;
  if (frame_width < width || frame_height < height) return std::nullopt;
  // The decoder finds each row's blocks by the width it is told: it may
  // shrink only within the last column of blocks (of MCUs, when interleaved).
  const uint32_t unit = frame_components == 1 ? 8 : 8 * max_h;
  if (blocks(width, unit) != blocks(frame_width, unit)) return std::nullopt;

  const std::string_view marker = colour == JpegColour::Rgb ? kAdobeRgb : std::string_view();
  std::string out;
  out.reserve(tile.size() + marker.size() + kept->size());
  out.append(tile.substr(0, 2));
  out.append(marker);
  out.append(*kept);
  out.append(tile.substr(2));
  const std::size_t at = frame_params + marker.size() + kept->size();
  out[at + 1] = char(height >> 8);
  out[at + 2] = char(height & 0xFF);
  out[at + 3] = char(width >> 8);
  out[at + 4] = char(width & 0xFF);
  return out;
}

}  // namespace tessera
