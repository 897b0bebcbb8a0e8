#pragma once
// JPEG 2000 images through OpenJPEG: JP2/JPX files and raw J2K/J2C
// codestreams. The pyramid is the codestream's own resolution levels (level i
// is the image reduced by 2^i), and every tile() decodes only its own area at
// that reduction. OpenJPEG 2.5 still reads into memory all the compressed
// data of each codestream tile the area touches: an untiled file costs a read
// of its whole codestream per tile() (about 0.3 s for a 70 MB file), a tiled
// one only its tile's share.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "image/image_source.hpp"

namespace tessera {

struct Jp2Options {
  // Quality layers to decode; 0 decodes all (iipsrv's MAX_LAYERS). Fewer
  // layers decode faster and look coarser on lossy files.
  int max_layers = 0;
  // OpenJPEG worker threads per tile decode; 1 decodes on the caller's thread.
  int threads = 1;
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

  // Quality layers in the codestream (of its first tile's defaults).
  int quality_layers() const noexcept { return layers_; }

 private:
  struct File;     // the open file descriptor, read with pread
  struct Decoder;  // one stream + codec + image, with its captured messages

  Jp2Options options_;
  std::unique_ptr<File> file_;
  bool raw_codestream_ = false;
  ImageInfo info_;
  // The image area on the reference grid (full resolution).
  uint32_t x0_ = 0, y0_ = 0, x1_ = 0, y1_ = 0;
  int components_ = 0;  // after palette expansion: what a decode returns
  int layers_ = 0;
  bool decode_whole_levels_ = false;  // see the constructor: HTJ2K
  bool ycc_ = false;   // sYCC samples to convert to RGB
  bool cdef_ = false;  // a channel definition box says which band is alpha
};

}  // namespace tessera
