#include "image/tiff_source.hpp"

#include <fmt/format.h>
#include <tiffio.h>
#include <webp/decode.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <mutex>

#include "common/error.hpp"
#include "image/deflate_tile.hpp"
#include "image/image_file.hpp"
#include "image/jpeg_tile.hpp"

namespace tessera {

namespace {

// A decoded tile or strip larger than this is refused rather than allocated:
// a hostile header must not make one request take gigabytes.
constexpr uint64_t kMaxBlockBytes = uint64_t{256} << 20;
// Stripped (untiled) files are cut into virtual tiles of this size.
constexpr uint32_t kVirtualTile = 256;

// libtiff prints to stderr by default; Tessera reports its errors per
// request instead, so the process-wide handlers are silenced once.
void silence_libtiff_globally() {
  static std::once_flag once;
  std::call_once(once, [] {
    TIFFSetErrorHandler(nullptr);
    TIFFSetWarningHandler(nullptr);
  });
}

// One line, without libtiff's trailing dots and control characters.
std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  while (!text.empty() && (text.back() == ' ' || text.back() == '.')) text.pop_back();
  if (text.size() > 200) text.resize(200);
  return text;
}

SampleType sample_type_for(uint16_t bits, uint16_t format) {
  if (format == SAMPLEFORMAT_IEEEFP && bits == 32) return SampleType::F32;
  if (format == SAMPLEFORMAT_UINT || format == SAMPLEFORMAT_VOID) {
    if (bits == 1 || bits == 8) return SampleType::U8;
    if (bits == 16) return SampleType::U16;
    if (bits == 32) return SampleType::U32;
  }
  throw Error(500, fmt::format("unsupported TIFF samples: {}-bit, sample format {}", bits, format));
}

std::string photometric_name(uint16_t photometric) {
  switch (photometric) {
    case PHOTOMETRIC_SEPARATED:
      return "CMYK";
    case PHOTOMETRIC_MASK:
      return "transparency mask";
    case PHOTOMETRIC_LOGL:
    case PHOTOMETRIC_LOGLUV:
      return "LogLuv";
    default:
      return fmt::format("photometric {}", photometric);
  }
}

// Where a stored tile is read to before it is decoded or completed: the
// thread's own buffer for tile-sized reads (no allocation per tile), a
// temporary one for larger, so that no thread keeps a huge buffer.
class ReadBuffer {
 public:
  explicit ReadBuffer(std::size_t bytes) {
    constexpr std::size_t kKeptBytes = std::size_t{4} << 20;
    thread_local std::vector<uint8_t> kept;
    std::vector<uint8_t>& use = bytes <= kKeptBytes ? kept : own_;
    if (use.size() < bytes) use.resize(bytes);
    data_ = use.data();
  }
  uint8_t* data() const noexcept { return data_; }

 private:
  std::vector<uint8_t> own_;
  uint8_t* data_ = nullptr;
};

}  // namespace

struct TiffSource::Handle {
  TIFF* tif = nullptr;
  std::string last_error;

  static int on_error(TIFF*, void* user, const char* module, const char* format, va_list args) {
    auto* self = static_cast<Handle*>(user);
    char text[512];
    std::vsnprintf(text, sizeof text, format, args);
    self->last_error = module ? fmt::format("{}: {}", module, text) : std::string(text);
    return 1;  // handled: do not call the global handler
  }
  static int on_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

  ~Handle() {
    if (tif) TIFFClose(tif);
  }
};

TiffSource::TiffSource(const std::filesystem::path& path)
    : path_(path), handle_(std::make_unique<Handle>()) {
  silence_libtiff_globally();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) not_found("no such image");
  file_bytes_ = std::filesystem::file_size(path, ec);
  if (ec) file_bytes_ = 0;

  // The descriptor is opened here, so that a failure to open says why
  // (open_failure); libtiff closes it with the TIFF, but not after a failed open.
  const int fd = open_image_file(path);
  TIFFOpenOptions* options = TIFFOpenOptionsAlloc();
  TIFFOpenOptionsSetErrorHandlerExtR(options, &Handle::on_error, handle_.get());
  TIFFOpenOptionsSetWarningHandlerExtR(options, &Handle::on_warning, handle_.get());
  TIFFOpenOptionsSetMaxSingleMemAlloc(options, tmsize_t(kMaxBlockBytes));
  // "m": read with read(), not a memory map. A map of a multi-GB pyramid
  // counts every page a tile touched in the process's RSS, and a truncated
  // file would fault (SIGBUS) where read() reports an error.
  handle_->tif = TIFFFdOpenExt(fd, path.c_str(), "rm", options);
  TIFFOpenOptionsFree(options);
  if (!handle_->tif) {
    ::close(fd);
    fail("corrupt or unreadable TIFF");
  }
  TIFF* tif = handle_->tif;

  // --- the full-resolution image defines the sample layout ----------------
  uint16_t extra_count = 0;
  uint16_t* extra_types = nullptr;
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &samples_);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits_);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &sample_format_);
  TIFFGetFieldDefaulted(tif, TIFFTAG_EXTRASAMPLES, &extra_count, &extra_types);
  if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric_)) {
    photometric_ = samples_ >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
  }

  info_.format = "tiff";
  info_.sample_type = sample_type_for(bits_, sample_format_);
  info_.bits_per_sample = bits_ == 1 ? 8 : bits_;
  if (bits_ == 1 && samples_ != 1) fail("unsupported TIFF: multi-sample bilevel image");
  if (samples_ == 0 || samples_ > 16) fail(fmt::format("unsupported TIFF: {} samples", samples_));

  int colour_bands = samples_ - std::min<int>(extra_count, samples_);
  switch (photometric_) {
    case PHOTOMETRIC_MINISBLACK:
    case PHOTOMETRIC_MINISWHITE:
    case PHOTOMETRIC_RGB:
    case PHOTOMETRIC_YCBCR:
    case PHOTOMETRIC_CIELAB:
      break;
    case PHOTOMETRIC_PALETTE:
      if (bits_ != 8 || samples_ != 1) fail("unsupported TIFF: palette image that is not 8-bit");
      palette_[0].resize(256);
      palette_[1].resize(256);
      palette_[2].resize(256);
      {
        uint16_t *r = nullptr, *g = nullptr, *b = nullptr;
        if (!TIFFGetField(tif, TIFFTAG_COLORMAP, &r, &g, &b))
          fail("palette TIFF without a colour map");
        std::copy_n(r, 256, palette_[0].begin());
        std::copy_n(g, 256, palette_[1].begin());
        std::copy_n(b, 256, palette_[2].begin());
      }
      colour_bands = 3;
      break;
    default:
      throw Error(500,
                  fmt::format("unsupported TIFF colour model: {}", photometric_name(photometric_)));
  }
  info_.bands = photometric_ == PHOTOMETRIC_PALETTE ? 3 : samples_;
  // An RGB image with a fourth sample and no ExtraSamples tag is RGBA in
  // practice; likewise grey with a second sample.
  const bool alpha_declared = extra_count > 0 && (extra_types[0] == EXTRASAMPLE_ASSOCALPHA ||
                                                  extra_types[0] == EXTRASAMPLE_UNASSALPHA);
  info_.has_alpha =
      (alpha_declared && extra_count == 1) ||
      (extra_count == 0 && (samples_ == 2 || samples_ == 4) && photometric_ != PHOTOMETRIC_CIELAB);
  if (info_.has_alpha && extra_count == 0) colour_bands = samples_ - 1;
  if (photometric_ == PHOTOMETRIC_CIELAB) {
    info_.colour_space = ColourSpace::Cielab;
  } else if (colour_bands == 1 && (info_.bands == 1 || info_.has_alpha)) {
    info_.colour_space = ColourSpace::Grey;
  } else if (colour_bands == 3 && (info_.bands == 3 || info_.has_alpha)) {
    info_.colour_space = ColourSpace::Rgb;
  } else {
    info_.colour_space = ColourSpace::Multiband;
  }

  // --- descriptive metadata and resolution ---------------------------------
  const std::pair<ttag_t, const char*> text_tags[] = {
      {TIFFTAG_DOCUMENTNAME, "title"}, {TIFFTAG_IMAGEDESCRIPTION, "description"},
      {TIFFTAG_ARTIST, "creator"},     {TIFFTAG_COPYRIGHT, "rights"},
      {TIFFTAG_DATETIME, "date"},      {TIFFTAG_SOFTWARE, "software"},
      {TIFFTAG_MAKE, "make"},          {TIFFTAG_MODEL, "model"},
  };
  for (const auto& [tag, name] : text_tags) {
    const char* value = nullptr;
    if (TIFFGetField(tif, tag, &value) && value && *value) info_.metadata[name] = value;
  }
  uint32_t icc_bytes = 0;
  const void* icc = nullptr;
  if (TIFFGetField(tif, TIFFTAG_ICCPROFILE, &icc_bytes, &icc) && icc && icc_bytes > 0 &&
      icc_bytes <= kMaxIccBytes) {
    info_.icc.assign(static_cast<const char*>(icc), icc_bytes);
  }
  float xres = 0, yres = 0;
  uint16_t unit = RESUNIT_INCH;
  TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &unit);
  if (unit != RESUNIT_NONE && TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xres) &&
      TIFFGetField(tif, TIFFTAG_YRESOLUTION, &yres) && xres > 0 && yres > 0) {
    const double per_inch = unit == RESUNIT_CENTIMETER ? 2.54 : 1.0;
    info_.dpi_x = xres * per_inch;
    info_.dpi_y = yres * per_inch;
  }

  // --- the pyramid: IFD0, the following IFDs, then IFD0's SubIFDs ----------
  struct Candidate {
    LevelInfo info;
    Level level;
  };
  std::vector<Candidate> candidates;
  auto read_directory = [&](uint64_t offset) -> bool {
    uint32_t width = 0, height = 0;
    uint16_t spp = 0, bps = 0, format = 0;
    uint32_t subfile = 0;
    TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &width);
    TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &height);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SUBFILETYPE, &subfile);
    // Masks, thumbnails in another layout and other pages are not levels.
    if (width == 0 || height == 0 || (subfile & FILETYPE_MASK)) return false;
    if (spp != samples_ || bps != bits_ || format != sample_format_) return false;

    Candidate c;
    c.level.ifd_offset = offset;
    c.info.width = width;
    c.info.height = height;
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &c.level.compression);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &c.level.planar);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PREDICTOR, &c.level.predictor);
    c.level.photometric = photometric_;
    TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &c.level.photometric);
    c.level.ycbcr_jpeg =
        c.level.photometric == PHOTOMETRIC_YCBCR && c.level.compression == COMPRESSION_JPEG;
    if (c.level.photometric == PHOTOMETRIC_YCBCR && !c.level.ycbcr_jpeg) {
      fail("unsupported TIFF: YCbCr samples without JPEG compression");
    }
    const uint64_t pixel_bytes = (uint64_t(bps) * spp + 7) / 8;
    c.level.tiled = TIFFIsTiled(tif);
    if (c.level.tiled) {
      TIFFGetField(tif, TIFFTAG_TILEWIDTH, &c.info.tile_width);
      TIFFGetField(tif, TIFFTAG_TILELENGTH, &c.info.tile_height);
      if (c.info.tile_width == 0 || c.info.tile_height == 0 ||
          uint64_t(c.info.tile_width) * c.info.tile_height * pixel_bytes > kMaxBlockBytes) {
        fail(fmt::format("unsupported TIFF: tile size {}x{}", c.info.tile_width,
                         c.info.tile_height));
      }
    } else {
      TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &c.level.rows_per_strip);
      c.level.rows_per_strip = std::clamp<uint32_t>(c.level.rows_per_strip, 1, height);
      if (uint64_t(c.level.rows_per_strip) * width * pixel_bytes > kMaxBlockBytes) {
        fail("unsupported TIFF: strips too large to read; convert it to a tiled pyramid");
      }
      c.info.tile_width = c.info.tile_height = kVirtualTile;
    }
    candidates.push_back(c);
    return true;
  };

  read_directory(TIFFCurrentDirOffset(tif));
  if (candidates.empty()) fail("unsupported TIFF: first image has no size");
  std::vector<uint64_t> subifds;
  {
    uint16_t count = 0;
    uint64_t* offsets = nullptr;
    if (TIFFGetField(tif, TIFFTAG_SUBIFD, &count, &offsets) && offsets) {
      subifds.assign(offsets, offsets + count);
    }
  }
  // Bounded: a looping or enormous IFD chain must not keep us here.
  for (int guard = 0; guard < 64 && TIFFReadDirectory(tif); ++guard) {
    read_directory(TIFFCurrentDirOffset(tif));
  }
  for (std::size_t i = 0; i < subifds.size() && i < 64; ++i) {
    if (TIFFSetSubDirectory(tif, subifds[i])) read_directory(subifds[i]);
  }

  // Levels are the candidates that shrink step by step from the first.
  std::stable_sort(
      candidates.begin() + 1, candidates.end(),
      [](const Candidate& a, const Candidate& b) { return a.info.width > b.info.width; });
  for (const Candidate& c : candidates) {
    if (!levels_.empty()) {
      const LevelInfo& prev = info_.levels.back();
      if (c.info.width >= prev.width || c.info.height > prev.height) continue;
    }
    levels_.push_back(c.level);
    info_.levels.push_back(c.info);
  }
  info_.width = info_.levels[0].width;
  info_.height = info_.levels[0].height;
  for (LevelInfo& level : info_.levels) {
    level.scale = level_scale(info_.width, info_.height, level.width, level.height);
  }
  select_level(0);
}

TiffSource::~TiffSource() = default;

void TiffSource::fail(const std::string& what) const {
  const std::string& detail = handle_->last_error;
  throw Error(500, detail.empty() ? what : fmt::format("{}: {}", what, one_line(detail)));
}

void TiffSource::select_level(int level) {
  if (level == current_level_) return;
  current_level_ = -1;
  TIFF* tif = handle_->tif;
  handle_->last_error.clear();
  if (!TIFFSetSubDirectory(tif, levels_[level].ifd_offset)) {
    fail(fmt::format("corrupt TIFF: cannot read the directory of level {}", level));
  }
  // Let libtiff's JPEG codec convert YCbCr to RGB (and undo subsampling).
  if (levels_[level].ycbcr_jpeg) TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
  current_level_ = level;
}

const LevelInfo& TiffSource::check_tile(int level, uint32_t tx, uint32_t ty) const {
  if (level < 0 || level >= int(levels_.size())) bad_request(fmt::format("no level {}", level));
  const LevelInfo& li = info_.levels[level];
  if (tx >= li.tiles_across() || ty >= li.tiles_down()) {
    bad_request(fmt::format("tile {},{} is outside level {}", tx, ty, level));
  }
  return li;
}

Raster TiffSource::tile(int level, uint32_t tx, uint32_t ty) {
  const LevelInfo& li = check_tile(level, tx, ty);
  Raster raw =
      levels_[level].tiled ? read_tile(level, li, tx, ty) : read_strip_tile(level, li, tx, ty);

  // Bring the samples to what info() promises: 8-bit, black is zero, RGB.
  if (photometric_ == PHOTOMETRIC_MINISWHITE && bits_ != 1) {
    const std::size_t n = std::size_t(raw.width()) * raw.height() * raw.bands();
    if (raw.sample_type() == SampleType::U8) {
      uint8_t* p = raw.data();
      for (std::size_t i = 0; i < n; ++i) p[i] = uint8_t(255 - p[i]);
    } else if (raw.sample_type() == SampleType::U16) {
      auto* p = reinterpret_cast<uint16_t*>(raw.data());
      for (std::size_t i = 0; i < n; ++i) p[i] = uint16_t(65535 - p[i]);
    }
  }
  if (photometric_ == PHOTOMETRIC_PALETTE) {
    Raster rgb(raw.width(), raw.height(), 3);
    const std::size_t n = std::size_t(raw.width()) * raw.height();
    const uint8_t* in = raw.data();
    uint8_t* out = rgb.data();
    for (std::size_t i = 0; i < n; ++i) {
      for (int b = 0; b < 3; ++b) out[3 * i + b] = uint8_t(palette_[b][in[i]] >> 8);
    }
    return rgb;
  }
  return raw;
}

std::optional<EncodedTile> TiffSource::stored_tile(int level, uint32_t tx, uint32_t ty) {
  const LevelInfo& li = check_tile(level, tx, ty);
  const Level& stored = levels_[level];
  if (!stored.tiled || bits_ != 8 || sample_format_ == SAMPLEFORMAT_IEEEFP) return std::nullopt;
  if (samples_ > 1 && stored.planar != PLANARCONFIG_CONTIG) return std::nullopt;
  const uint32_t tw = li.tile_width, th = li.tile_height;
  const uint32_t x = tx * tw, y = ty * th;
  const uint32_t w = std::min(tw, li.width - x), h = std::min(th, li.height - y);

  Format format = Format::Jpeg;
  JpegColour colour = JpegColour::Grey;
  if (stored.compression == COMPRESSION_JPEG) {
    // Inverted greys, CMYK, CIELAB and extra samples have no JPEG form that
    // decoders would show as tile() does.
    const std::optional<JpegColour> stored_colour = jpeg_colour(stored);
    if (!stored_colour) return std::nullopt;
    colour = *stored_colour;
  } else if (stored.compression == COMPRESSION_WEBP) {
    // A WebP frame cannot be cut to a smaller size without decoding it.
    if (w != tw || h != th || stored.photometric != PHOTOMETRIC_RGB ||
        (samples_ != 3 && samples_ != 4)) {
      return std::nullopt;
    }
    format = Format::Webp;
  } else {
    return std::nullopt;
  }

  // A stored tile larger than any encoder makes one of these pixels is not
  // trusted with an allocation: the decoding path, which bounds its own
  // memory, reads it instead.
  const uint64_t limit =
      std::min(uint64_t(tw) * th * samples_ * 2 + (uint64_t{64} << 10), kMaxBlockBytes);
  const Extent extent = tile_extent(level, tx, ty);
  if (extent.bytes == 0 || extent.bytes > limit) return std::nullopt;
  ReadBuffer buffer(std::size_t(extent.bytes));  // the reply is a new string anyway
  read_raw(extent, level, tx, ty, buffer.data());
  const std::string_view raw(reinterpret_cast<const char*>(buffer.data()),
                             std::size_t(extent.bytes));

  if (format == Format::Webp) {
    int webp_width = 0, webp_height = 0;
    if (!WebPGetInfo(reinterpret_cast<const uint8_t*>(raw.data()), raw.size(), &webp_width,
                     &webp_height) ||
        uint32_t(webp_width) != w || uint32_t(webp_height) != h) {
      return std::nullopt;
    }
    return EncodedTile{Format::Webp, std::string(raw)};
  }
  std::optional<std::string> jpeg = complete_jpeg_tile(*jpeg_tables(level), raw, w, h, colour);
  if (!jpeg) return std::nullopt;
  return EncodedTile{Format::Jpeg, std::move(*jpeg)};
}

// A level's JPEGTables (empty when it has none), read once.
const std::shared_ptr<const std::string>& TiffSource::jpeg_tables(int level) {
  Level& stored = levels_[level];
  if (!stored.jpeg_tables) {
    select_level(level);
    uint32_t table_bytes = 0;
    const void* table_data = nullptr;
    auto tables = std::make_shared<std::string>();
    if (TIFFGetField(handle_->tif, TIFFTAG_JPEGTABLES, &table_bytes, &table_data) && table_data) {
      tables->assign(static_cast<const char*>(table_data), table_bytes);
    }
    stored.jpeg_tables = std::move(tables);
  }
  return stored.jpeg_tables;
}

std::optional<JpegColour> TiffSource::jpeg_colour(const Level& level) const {
  if (level.compression != COMPRESSION_JPEG || bits_ != 8 ||
      sample_format_ == SAMPLEFORMAT_IEEEFP) {
    return std::nullopt;
  }
  if (samples_ > 1 && level.planar != PLANARCONFIG_CONTIG) return std::nullopt;
  if (level.photometric == PHOTOMETRIC_YCBCR && samples_ == 3) return JpegColour::YCbCr;
  if (level.photometric == PHOTOMETRIC_RGB && samples_ == 3) return JpegColour::Rgb;
  if (level.photometric == PHOTOMETRIC_MINISBLACK && samples_ == 1) return JpegColour::Grey;
  return std::nullopt;
}

TiffSource::Extent TiffSource::tile_extent(int level, uint32_t tx, uint32_t ty) {
  Level& stored = levels_[level];
  const LevelInfo& li = info_.levels[level];
  if (!stored.tiled || (samples_ > 1 && stored.planar != PLANARCONFIG_CONTIG)) return {};
  const std::size_t count = std::size_t(li.tiles_across()) * li.tiles_down();
  if (stored.tile_offsets.size() != count) {
    select_level(level);
    TIFF* tif = handle_->tif;
    // Each tile has an offset of at least two bytes in the file: a level
    // claiming more tiles than that is left to libtiff, which bounds its own
    // reads, rather than trusted with an allocation.
    if (TIFFNumberOfTiles(tif) < count || count > file_bytes_ / 2) return {};
    stored.tile_offsets.resize(count);
    stored.tile_bytes.resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      stored.tile_offsets[i] = TIFFGetStrileOffset(tif, uint32_t(i));
      stored.tile_bytes[i] =
          uint32_t(std::min<uint64_t>(TIFFGetStrileByteCount(tif, uint32_t(i)), UINT32_MAX));
    }
  }
  const std::size_t i = std::size_t(ty) * li.tiles_across() + tx;
  return Extent{stored.tile_offsets[i], stored.tile_bytes[i]};
}

void TiffSource::read_raw(const Extent& extent, int level, uint32_t tx, uint32_t ty, uint8_t* out) {
  const int fd = TIFFFileno(handle_->tif);
  uint64_t done = 0;
  while (done < extent.bytes) {
    const ssize_t got =
        ::pread(fd, out + done, std::size_t(extent.bytes - done), off_t(extent.offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      throw Error(500, fmt::format("corrupt or truncated TIFF: cannot read tile {},{} of level {}",
                                   tx, ty, level));
    }
    done += uint64_t(got);
  }
}

std::optional<StoredTile> TiffSource::fetch_tile(int level, uint32_t tx, uint32_t ty) {
  const LevelInfo& li = check_tile(level, tx, ty);
  const Level& stored = levels_[level];
  if (!stored.tiled) return std::nullopt;
  const std::optional<JpegColour> colour = jpeg_colour(stored);
  if (!colour) return std::nullopt;

  // A tile larger than its raw samples plus slack is not trusted with an
  // allocation; tile() decodes it through libtiff, which bounds its own.
  const uint64_t limit =
      std::min(uint64_t(li.tile_width) * li.tile_height * samples_ * 2 + (uint64_t{64} << 10),
               kMaxBlockBytes);
  const Extent extent = tile_extent(level, tx, ty);
  if (extent.bytes == 0 || extent.bytes > limit) return std::nullopt;

  StoredTile tile;
  tile.bytes.resize(std::size_t(extent.bytes));
  read_raw(extent, level, tx, ty, reinterpret_cast<uint8_t*>(tile.bytes.data()));
  tile.tables = jpeg_tables(level);
  tile.colour = *colour;
  tile.stored_width = li.tile_width;
  tile.stored_height = li.tile_height;
  return tile;
}

// A deflate tile of 8-bit samples, with or without horizontal
// differencing, decoded by deflate_tile.hpp into `out` (a whole tile).
// False, with `out` unspecified, for any other tile or any surprise in its
// bytes: libtiff then decodes it and says what is wrong.
bool TiffSource::read_deflate_tile(int index, uint32_t tx, uint32_t ty, Raster& out) {
  const Level& level = levels_[index];
  if ((level.compression != COMPRESSION_ADOBE_DEFLATE &&
       level.compression != COMPRESSION_DEFLATE) ||
      bits_ != 8 || sample_format_ == SAMPLEFORMAT_IEEEFP ||
      (level.predictor != PREDICTOR_NONE && level.predictor != PREDICTOR_HORIZONTAL)) {
    return false;
  }
  const LevelInfo& li = info_.levels[index];
  if (out.stride() != std::size_t(li.tile_width) * samples_) return false;
  // Deflate never grows data by more than a few bytes per 16 KB block.
  const uint64_t limit = out.size_bytes() + out.size_bytes() / 64 + 1024;
  const Extent extent = tile_extent(index, tx, ty);
  if (extent.bytes == 0 || extent.bytes > limit) return false;
  ReadBuffer raw(std::size_t(extent.bytes));
  read_raw(extent, index, tx, ty, raw.data());
  if (!inflate_tile(raw.data(), std::size_t(extent.bytes), out.data(), out.size_bytes()))
    return false;
  if (level.predictor == PREDICTOR_HORIZONTAL) {
    undo_horizontal_differencing(out.data(), li.tile_width, li.tile_height, int(samples_),
                                 out.stride());
  }
  return true;
}

// Reads one stored tile, interleaving separate planes and expanding 1-bit
// samples, and crops it to the level's edge.
Raster TiffSource::read_tile(int index, const LevelInfo& li, uint32_t tx, uint32_t ty) {
  const Level& level = levels_[index];
  const uint32_t tw = li.tile_width, th = li.tile_height;
  const SampleType type = info_.sample_type;
  const std::size_t bps = bytes_per_sample(type);
  const uint32_t x = tx * tw, y = ty * th;
  const uint32_t w = std::min(tw, li.width - x), h = std::min(th, li.height - y);
  auto read_failed = [&] {
    fail(fmt::format("corrupt or truncated TIFF: cannot decode tile {},{} of level {}", tx, ty,
                     index));
  };

  // Every sample is written below: decoded, expanded or interleaved.
  Raster out = Raster::uninitialised(tw, th, samples_, type);
  // Inflated and un-differenced here, without libtiff or the level's directory.
  if (bits_ != 1 && read_deflate_tile(index, tx, ty, out)) {
    return (w == tw && h == th) ? std::move(out) : out.crop(0, 0, w, h);
  }

  select_level(index);
  handle_->last_error.clear();
  TIFF* tif = handle_->tif;
  if (bits_ == 1) {
    const std::size_t row_bytes = (tw + 7) / 8;
    std::vector<uint8_t> packed(row_bytes * th);
    if (TIFFReadEncodedTile(tif, TIFFComputeTile(tif, x, y, 0, 0), packed.data(),
                            tmsize_t(packed.size())) < 0)
      read_failed();
    const bool white_is_one = photometric_ != PHOTOMETRIC_MINISWHITE;
    for (uint32_t r = 0; r < th; ++r) {
      uint8_t* dst = out.row(r);
      const uint8_t* src = packed.data() + r * row_bytes;
      for (uint32_t c = 0; c < tw; ++c) {
        const bool bit = (src[c >> 3] >> (7 - (c & 7))) & 1;
        dst[c] = (bit == white_is_one) ? 255 : 0;
      }
    }
  } else if (level.planar == PLANARCONFIG_CONTIG || samples_ == 1) {
    const tmsize_t got = TIFFReadEncodedTile(tif, TIFFComputeTile(tif, x, y, 0, 0), out.data(),
                                             tmsize_t(out.size_bytes()));
    if (got < 0) read_failed();
    // A codec that decoded less than the tile leaves no stale memory behind.
    if (std::size_t(got) < out.size_bytes())
      std::memset(out.data() + got, 0, out.size_bytes() - std::size_t(got));
  } else {
    std::vector<uint8_t> plane(std::size_t(tw) * th * bps);
    for (uint16_t s = 0; s < samples_; ++s) {
      if (TIFFReadEncodedTile(tif, TIFFComputeTile(tif, x, y, 0, s), plane.data(),
                              tmsize_t(plane.size())) < 0)
        read_failed();
      const std::size_t pixels = std::size_t(tw) * th;
      for (std::size_t i = 0; i < pixels; ++i) {
        std::memcpy(out.data() + (i * samples_ + s) * bps, plane.data() + i * bps, bps);
      }
    }
  }
  return (w == tw && h == th) ? std::move(out) : out.crop(0, 0, w, h);
}

// A virtual tile of a stripped image: the strips it spans, decoded and cut.
Raster TiffSource::read_strip_tile(int index, const LevelInfo& li, uint32_t tx, uint32_t ty) {
  const Level& level = levels_[index];
  select_level(index);
  handle_->last_error.clear();
  TIFF* tif = handle_->tif;
  const SampleType type = info_.sample_type;
  const std::size_t bps = bytes_per_sample(type);
  const uint32_t x0 = tx * li.tile_width, y0 = ty * li.tile_height;
  const uint32_t w = std::min(li.tile_width, li.width - x0);
  const uint32_t h = std::min(li.tile_height, li.height - y0);
  const uint32_t rps = level.rows_per_strip;
  const bool separate = level.planar == PLANARCONFIG_SEPARATE && samples_ > 1;
  const int planes = separate ? samples_ : 1;
  const int samples_per_plane = separate ? 1 : samples_;
  const std::size_t row_bytes =
      bits_ == 1 ? (li.width + 7) / 8 : std::size_t(li.width) * samples_per_plane * bps;
  const uint32_t strips_per_plane = (li.height + rps - 1) / rps;
  std::vector<uint8_t> strip(row_bytes * rps);
  Raster out(w, h, samples_, type);

  for (uint32_t s = y0 / rps; s <= (y0 + h - 1) / rps; ++s) {
    const uint32_t strip_y = s * rps;
    for (int p = 0; p < planes; ++p) {
      if (TIFFReadEncodedStrip(tif, s + uint32_t(p) * strips_per_plane, strip.data(),
                               tmsize_t(strip.size())) < 0) {
        fail(fmt::format("corrupt or truncated TIFF: cannot decode strip {} of level {}", s,
                         current_level_));
      }
      const uint32_t from = std::max(y0, strip_y);
      const uint32_t to = std::min({y0 + h, strip_y + rps, li.height});
      for (uint32_t y = from; y < to; ++y) {
        const uint8_t* src = strip.data() + std::size_t(y - strip_y) * row_bytes;
        uint8_t* dst = out.row(y - y0);
        if (bits_ == 1) {
          const bool white_is_one = photometric_ != PHOTOMETRIC_MINISWHITE;
          for (uint32_t c = 0; c < w; ++c) {
            const uint32_t sx = x0 + c;
            const bool bit = (src[sx >> 3] >> (7 - (sx & 7))) & 1;
            dst[c] = (bit == white_is_one) ? 255 : 0;
          }
        } else if (!separate) {
          std::memcpy(dst, src + std::size_t(x0) * samples_ * bps, std::size_t(w) * samples_ * bps);
        } else {
          for (uint32_t c = 0; c < w; ++c) {
            std::memcpy(dst + (std::size_t(c) * samples_ + p) * bps,
                        src + std::size_t(x0 + c) * bps, bps);
          }
        }
      }
    }
  }
  return out;
}

}  // namespace tessera
