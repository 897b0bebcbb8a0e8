#pragma once
// JPEG 2000 images through OpenJPEG: JP2/JPX files and raw J2K/J2C
// codestreams. The pyramid is the codestream's own resolution levels (level i
// is the image reduced by 2^i), and every tile() decodes only its own area at
// that reduction. OpenJPEG 2.5 reads into memory all the compressed data of
// each codestream tile the area touches: a tiled file costs its tile's share.
// An untiled file would cost its whole codestream per decode (~95 MB and
// ~0.2 s for a 65 MB file); when it lists its packet lengths (PLT, as
// archival recipes write them), OpenJPEG instead gets a codestream of only
// the packets the area needs (jp2_codestream.hpp), and without them the last
// decoder is kept for the next decode of the same level.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "image/image_source.hpp"

namespace tessera {

struct Jp2Options {
  // Quality layers to decode until set_quality_layers() says otherwise, as
  // it means them: 0 half (iipsrv's default), -1 all. Fewer layers decode
  // faster and look coarser on lossy files.
  int layers = 0;
  // OpenJPEG worker threads per tile decode; 1 decodes on the caller's thread.
  int threads = 1;
  // Untiled codestreams with packet lengths (PLT) are decoded from the
  // packets an area needs (see jp2_codestream.hpp); off, OpenJPEG reads
  // the whole codestream. Tests compare the two.
  bool packet_index = true;
};

class Jp2Source final : public ImageSource {
 public:
  // Reads the header once: size, components, levels, layers, tiling and the
  // JP2 boxes OpenJPEG does not report (channel definitions, palette,
  // resolution). Throws Error(404) when the file cannot be opened and
  // Error(500) with OpenJPEG's reason when it is not a readable JPEG 2000.
  explicit Jp2Source(const std::filesystem::path& path, Jp2Options options = {});
  ~Jp2Source() override;

  Jp2Source(const Jp2Source&) = delete;
  Jp2Source& operator=(const Jp2Source&) = delete;

  const ImageInfo& info() const noexcept override { return info_; }

  // Decodes only this tile's area with a fresh OpenJPEG codec (codecs are
  // not reusable across decodes). Samples come out as info() says: 8 or 16
  // bits, unsigned, full range, RGB (sYCC converted), alpha last.
  Raster tile(int level, uint32_t tx, uint32_t ty) override;

  // Any rectangle in one decode: each decode pays a fixed cost (the main
  // header, and OpenJPEG reading every codestream tile the area touches),
  // so a region is far cheaper whole than as its tiles.
  bool decodes_regions() const noexcept override { return true; }
  Raster region(int level, uint32_t x, uint32_t y, uint32_t w, uint32_t h) override;

  void set_quality_layers(int layers) override { options_.layers = layers; }

  // Quality layers in the codestream (of its first tile's defaults).
  int quality_layers() const noexcept { return layers_; }
  // How many the next tile() decodes.
  int layers_decoded() const noexcept;
  // Whether decodes read only the packets they need (Jp2Options::packet_index).
  bool reads_packets() const noexcept { return packets_ != nullptr; }

 private:
  struct File;     // the open file descriptor, read with pread
  struct Decoder;  // one stream + codec + image, with its captured messages

  // Level pixels [lx, lx + w) x [ly, ly + h); `where` names them in errors.
  Raster decode_area(int level, uint32_t lx, uint32_t ly, uint32_t w, uint32_t h,
                     const std::function<std::string()>& where);

  Jp2Options options_;
  std::unique_ptr<File> file_;
  bool raw_codestream_ = false;
  ImageInfo info_;
  // The image area on the reference grid (full resolution).
  uint32_t x0_ = 0, y0_ = 0, x1_ = 0, y1_ = 0;
  int components_ = 0;  // after palette expansion: what a decode returns
  int layers_ = 0;
  bool decode_whole_levels_ = false;  // see the constructor: HTJ2K
  bool ycc_ = false;                  // sYCC samples to convert to RGB
  bool cdef_ = false;                 // a channel definition box says which band is alpha
  bool single_tile_ = false;          // an untiled codestream: its decoder can be reused

  // Where every packet lies, for untiled codestreams with packet lengths:
  // shared by the sources of one file.
  std::shared_ptr<const class Jp2PacketIndex> packets_;

  // The decoder of the last decode, while it may serve the next (see
  // decode_area); its codestream bytes count against a process-wide budget.
  std::unique_ptr<Decoder> kept_;
  int kept_level_ = 0, kept_layers_ = 0;
  void keep_decoder(std::unique_ptr<Decoder> decoder, int level, int layers) noexcept;
  void drop_kept_decoder() noexcept;
};

}  // namespace tessera
