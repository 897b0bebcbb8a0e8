#pragma once
// The parts of a JPEG 2000 codestream Tessera reads itself, before and
// instead of OpenJPEG: the main header's declared geometry, and the packet
// layout of an untiled codestream, from which a decode of a small area gets a
// codestream holding only the packets that area needs.
//
// Why: OpenJPEG reads every byte of a codestream tile into memory before it
// decodes any part of it. For an untiled file that is the whole file, per
// decode (a 65 MB file cost ~95 MB and ~0.2 s per 256 px tile). Archival JP2s
// usually carry packet lengths (PLT markers, as the Kakadu and Ghent recipes
// write them), which say where every packet lies without decoding a packet
// header. A decode of an area then reads only the packets of the precincts
// around that area, at the resolutions and quality layers it decodes, and
// hands OpenJPEG a codestream where every other packet is an empty one:
// the same geometry, the same samples in the area, a small fraction of the
// bytes.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace tessera {

// Big-endian fields and the ceiling divisions the standard's geometry uses.
namespace j2k {
inline uint32_t be16(const uint8_t* p) { return uint32_t(p[0]) << 8 | p[1]; }
inline uint32_t be32(const uint8_t* p) { return be16(p) << 16 | be16(p + 2); }
inline uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
inline uint64_t ceil_div_pow2(uint64_t a, int k) { return (a + (uint64_t{1} << k) - 1) >> k; }
}  // namespace j2k

// Random-access reads: a file, or bytes already in memory.
class ByteReader {
 public:
  virtual ~ByteReader() = default;
  virtual bool read_at(uint64_t offset, void* out, std::size_t n) const = 0;
};

class MemoryReader final : public ByteReader {
 public:
  explicit MemoryReader(const std::vector<uint8_t>& bytes) : bytes_(bytes) {}
  bool read_at(uint64_t offset, void* out, std::size_t n) const override;

 private:
  const std::vector<uint8_t>& bytes_;
};

// How a component is coded, from the main header's COD or COC segment.
struct CodingStyle {
  int resolutions = 0;
  int block_w = 6, block_h = 6;                        // log2
  std::array<uint8_t, 33> precinct_w{}, precinct_h{};  // log2, per resolution
};

// The declared geometry, read from the main header before OpenJPEG
// allocates for it. (OpenJPEG's own codestream info cannot stand in: 2.5
// copies only part of the precinct sizes into it.)
struct MainHeader {
  bool complete = false;
  bool high_throughput = false;                    // HTJ2K (Part 15): Rsiz bit 14 or a CAP marker
  uint64_t width = 0, height = 0, x0 = 0, y0 = 0;  // Xsiz, Ysiz, XOsiz, YOsiz
  uint64_t tile_w = 0, tile_h = 0, tile_x0 = 0, tile_y0 = 0;
  std::vector<std::array<uint32_t, 2>> subsampling;
  CodingStyle cod;
  std::vector<CodingStyle> coc;  // per component; resolutions == 0 where COD applies
  // From COD: the progression order (0 LRCP .. 4 CPRL), quality layers, and
  // whether packets carry SOP marker segments and EPH markers.
  int progression = 0;
  int layers = 0;
  bool sop = false, eph = false;

  const CodingStyle& style(std::size_t component) const {
    return coc[component].resolutions > 0 ? coc[component] : cod;
  }
};

// Reads the main header of the codestream starting (at its SOC) at `soc`.
// `complete` is false when it is malformed: OpenJPEG then says why.
MainHeader read_main_header(const ByteReader& file, uint64_t soc);

// Where every packet of an untiled codestream lies, from its PLT markers.
class Jp2PacketIndex {
 public:
  // The index of the codestream in [soc, end) of `file`, or null when the
  // codestream is not one it can serve: more than one tile, no packet
  // lengths, packed packet headers (PPM/PPT), progression changes (POC),
  // coding styles in tile-part headers, or lengths that do not add up.
  static std::shared_ptr<const Jp2PacketIndex> read(const ByteReader& file, uint64_t soc,
                                                    uint64_t end, const MainHeader& header);

  // A codestream OpenJPEG decodes to the same samples as the original within
  // the reference-grid area [x0, x1) x [y0, y1) at reduction `reduce` with
  // `layers` quality layers (0: all): the packets of the precincts around
  // that area, and empty packets in place of every other. Where it can, the
  // codestream is also the image already reduced by `levels_dropped` levels
  // (its decomposition levels above `reduce` left out, so OpenJPEG sets up
  // nothing for them): decode it at reduce - levels_dropped, over the area
  // divided by 2^levels_dropped. Throws Error(500) when the file cannot be
  // read.
  struct Sparse {
    std::vector<uint8_t> bytes;
    int levels_dropped = 0;
  };
  Sparse sparse_codestream(const ByteReader& file, int reduce, int layers, uint64_t x0, uint64_t y0,
                           uint64_t x1, uint64_t y1) const;

  std::size_t packets() const noexcept { return packets_.size(); }

 private:
  struct Packet {
    uint64_t offset;
    uint32_t length;
    uint32_t precinct;
    uint16_t layer;
    uint16_t component;
    uint8_t resolution;
  };
  // One component at one resolution: its precinct grid on that resolution's
  // sample grid.
  struct Grid {
    uint64_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;  // the resolution's samples
    uint32_t across = 0, down = 0;            // precincts
    uint8_t ppx = 15, ppy = 15;               // log2 precinct size
    int levels_below = 0;                     // NL - r: how far it is reduced
  };
  struct TilePart {
    uint8_t part = 0, parts = 0;   // SOT's TPsot and TNsot
    std::vector<uint8_t> markers;  // its header's marker segments but PLT
    std::size_t first = 0, count = 0;
  };

  using Grids = std::vector<std::vector<Grid>>;  // [component][resolution]
  static Grids make_grids(const MainHeader& header);
  static bool walk_progression(const MainHeader& header, const Grids& grids,
                               const std::function<bool(int, int, std::size_t, uint64_t)>& emit);
  bool label_packets(const MainHeader& header);
  // The main header of the image reduced by `levels`; empty if it cannot be.
  std::vector<uint8_t> reduced_main_header(int levels) const;

  MainHeader header_;
  std::vector<uint8_t> main_header_;  // SOC up to the first SOT, without TLM/PLM
  std::vector<TilePart> tile_parts_;
  std::vector<Packet> packets_;
  Grids grids_;
  // The packet of every (component, resolution, precinct, layer): slots_
  // from slot_base_[c][r], precinct by precinct, layer by layer.
  std::vector<std::vector<std::size_t>> slot_base_;
  std::vector<uint32_t> slots_;
};

}  // namespace tessera
