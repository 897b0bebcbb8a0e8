#include "image/jp2_source.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openjpeg.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>

#include "common/error.hpp"
#include "image/image_file.hpp"
#include "image/jp2_codestream.hpp"

namespace tessera {

using j2k::be16;
using j2k::be32;
using j2k::ceil_div;
using j2k::ceil_div_pow2;

namespace {

// One tile decode may hold OpenJPEG's int32 planes, our int32 staging copy
// and the output raster; past this the request is refused rather than
// allocated, whatever the header declares.
constexpr uint64_t kMaxDecodeBytes = uint64_t{256} << 20;
// OpenJPEG sets up its bookkeeping before any pixel is decoded, sized by
// what the header declares rather than by the file: per tile and component
// while reading the main header, and per precinct and code-block of a whole
// codestream tile for any decode in it. Headers that would need more than
// this are refused before OpenJPEG sees them, so a small hostile file cannot
// make a request take gigabytes.
constexpr double kMaxHeaderBytes = double(uint64_t{512} << 20);
constexpr double kMaxTileStructureBytes = double(uint64_t{512} << 20);
// Rough upper sizes of OpenJPEG 2.5's per-item structures (opj_tccp_t, and
// opj_tcd_cblk_dec_t / opj_tcd_precinct_t with their tag trees).
constexpr double kTileComponentBytes = 1200;
constexpr double kCodeblockBytes = 128;
constexpr double kPrecinctBytes = 256;
// Levels whose codestream tiles are not a usable size are cut into virtual
// tiles of this size.
constexpr uint32_t kVirtualTile = 256;
// Codestream tiles larger than this at some level are served as virtual
// tiles there instead: a client asking for one tile must not cost a decode of
// a 4096x4096 block.
constexpr uint32_t kMaxNativeTile = 1024;
// OpenJPEG reads the file through this much buffer per decode.
constexpr OPJ_SIZE_T kStreamChunk = 1 << 20;
// The JP2 header boxes worth walking through before giving up on them.
constexpr int kMaxBoxes = 64;
constexpr uint64_t kMaxSmallBox = 1 << 20;

// Truncated or damaged codestreams are errors, not quietly blurred tiles: a
// tile either decodes from all of its data or fails with a reason.
constexpr OPJ_BOOL kStrictDecoding = OPJ_TRUE;

std::string one_line(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  while (!text.empty() && (text.back() == ' ' || text.back() == '.')) text.pop_back();
  if (text.size() > 200) text.resize(200);
  return text;
}

// What the JP2 header says that OpenJPEG's API does not report before a
// decode: which channel is opacity, palette expansion, and resolution.
struct BoxFacts {
  bool cdef = false;
  int cdef_alpha = 0;
  int palette_columns = 0;  // only with a component mapping box, as OpenJPEG applies it
  int palette_bits = 0;
  bool cmap = false;
  double dpi_x = 0, dpi_y = 0;
  std::string icc;          // a colour specification box's ICC profile (methods 2 and 3)
  uint64_t codestream = 0;  // where the contiguous codestream box's content starts
  uint64_t codestream_end = 0;
  bool has_codestream = false;
};

}  // namespace

// The file stays open for the life of the source; every decode reads it
// through its own offset, so decodes never share a stream.
struct Jp2Source::File final : ByteReader {
  int fd = -1;
  uint64_t size = 0;

  ~File() override {
    if (fd >= 0) ::close(fd);
  }

  bool read_at(uint64_t offset, void* out, std::size_t n) const override {
    if (offset > size || n > size - offset) return false;
    auto* p = static_cast<uint8_t*>(out);
    while (n > 0) {
      const ssize_t got = ::pread(fd, p, n, off_t(offset));
      if (got <= 0) return false;
      p += got;
      offset += uint64_t(got);
      n -= std::size_t(got);
    }
    return true;
  }
};

namespace {

// A box header: where its content starts and where the box ends.
struct Box {
  std::array<char, 4> type{};
  uint64_t content = 0;
  uint64_t end = 0;
};

bool read_box(const auto& file, uint64_t pos, uint64_t limit, Box& box) {
  uint8_t head[16];
  if (pos + 8 > limit || !file.read_at(pos, head, 8)) return false;
  uint64_t length = be32(head);
  std::memcpy(box.type.data(), head + 4, 4);
  box.content = pos + 8;
  if (length == 1) {
    if (pos + 16 > limit || !file.read_at(pos + 8, head + 8, 8)) return false;
    length = uint64_t(be32(head + 8)) << 32 | be32(head + 12);
    box.content = pos + 16;
  } else if (length == 0) {
    length = limit - pos;
  }
  if (length < box.content - pos || length > limit - pos) return false;
  box.end = pos + length;
  return true;
}

bool is(const Box& box, const char* type) { return std::memcmp(box.type.data(), type, 4) == 0; }

std::vector<uint8_t> box_content(const auto& file, const Box& box) {
  const uint64_t n = box.end - box.content;
  if (n > kMaxSmallBox) return {};
  std::vector<uint8_t> bytes(n);
  if (!file.read_at(box.content, bytes.data(), bytes.size())) return {};
  return bytes;
}

// Resolution in grid points per metre, as (N / D) * 10^E.
double box_resolution(const uint8_t* p, bool vertical) {
  const uint8_t* f = vertical ? p : p + 4;
  const int exponent = int8_t(p[vertical ? 8 : 9]);
  if (be16(f + 2) == 0 || exponent < -20 || exponent > 20) return 0;
  return double(be16(f)) / be16(f + 2) * std::pow(10.0, exponent);
}

// Best effort: the JP2 structure itself is validated by OpenJPEG; anything
// odd here only means the facts are not known.
BoxFacts read_jp2_boxes(const auto& file) {
  BoxFacts facts;
  Box top;
  uint64_t pos = 0;
  for (int i = 0; i < kMaxBoxes && read_box(file, pos, file.size, top); ++i, pos = top.end) {
    if (is(top, "jp2c")) {
      facts.codestream = top.content;
      facts.codestream_end = top.end;
      facts.has_codestream = true;
      break;
    }
    if (!is(top, "jp2h")) continue;
    Box box;
    uint64_t at = top.content;
    for (int j = 0; j < kMaxBoxes && read_box(file, at, top.end, box); ++j, at = box.end) {
      if (is(box, "cdef")) {
        const auto c = box_content(file, box);
        if (c.size() < 2 || c.size() < 2 + 6 * std::size_t(be16(c.data()))) continue;
        facts.cdef = true;
        for (uint32_t k = 0; k < be16(c.data()); ++k) {
          const uint32_t type = be16(c.data() + 2 + 6 * k + 2);
          if (type == 1 || type == 2) ++facts.cdef_alpha;
        }
      } else if (is(box, "pclr")) {
        const auto c = box_content(file, box);
        if (c.size() < 3 || c.size() < 3 + std::size_t(c[2])) continue;
        facts.palette_columns = c[2];
        for (int k = 0; k < c[2]; ++k) {
          facts.palette_bits = std::max(facts.palette_bits, (c[3 + k] & 0x7f) + 1);
        }
      } else if (is(box, "cmap")) {
        facts.cmap = true;
      } else if (is(box, "colr") && facts.icc.empty()) {
        // METH, PREC, APPROX, then the profile when METH is 2 or 3.
        uint8_t method = 0;
        const uint64_t n = box.end - box.content;
        if (n > 3 && n - 3 <= kMaxIccBytes && file.read_at(box.content, &method, 1) &&
            (method == 2 || method == 3)) {
          std::string icc(std::size_t(n - 3), '\0');
          if (file.read_at(box.content + 3, icc.data(), icc.size())) facts.icc = std::move(icc);
        }
      } else if (is(box, "res ")) {
        // Capture resolution (the scan's) before the default display one.
        Box res;
        uint64_t r = box.content;
        double capture[2] = {0, 0}, display[2] = {0, 0};
        for (int k = 0; k < 4 && read_box(file, r, box.end, res); ++k, r = res.end) {
          if (!is(res, "resc") && !is(res, "resd")) continue;
          const auto c = box_content(file, res);
          if (c.size() < 10) continue;
          double* into = is(res, "resc") ? capture : display;
          into[0] = box_resolution(c.data(), false) * 0.0254;
          into[1] = box_resolution(c.data(), true) * 0.0254;
        }
        const double* best = capture[0] > 0 && capture[1] > 0 ? capture : display;
        if (best[0] > 0 && best[1] > 0) {
          facts.dpi_x = best[0];
          facts.dpi_y = best[1];
        }
      }
    }
  }
  if (!facts.cmap) facts.palette_columns = 0;
  return facts;
}

// Refuses headers whose bookkeeping alone would exceed the budgets: per tile
// and component while OpenJPEG reads the main header, and per precinct and
// code-block of one whole codestream tile, over every resolution and
// component, for any decode inside it.
void check_declared_size(const MainHeader& h) {
  if (!h.complete) return;  // malformed: OpenJPEG reports it
  const double tiles = double(ceil_div(h.width - h.tile_x0, h.tile_w)) *
                       double(ceil_div(h.height - h.tile_y0, h.tile_h));
  if (tiles * double(h.subsampling.size()) * kTileComponentBytes > kMaxHeaderBytes) {
    throw Error(500, fmt::format("unsupported JPEG 2000: {} tiles of {} components are too many",
                                 tiles, h.subsampling.size()));
  }
  const double tile_w = double(std::min(h.tile_w, h.width - h.x0));
  const double tile_h = double(std::min(h.tile_h, h.height - h.y0));
  double total = 0;
  for (std::size_t c = 0; c < h.subsampling.size(); ++c) {
    const CodingStyle& style = h.style(c);
    const double comp_w = std::ceil(tile_w / std::max(1u, h.subsampling[c][0]));
    const double comp_h = std::ceil(tile_h / std::max(1u, h.subsampling[c][1]));
    for (int r = 0; r < style.resolutions; ++r) {
      const double res_w = std::ceil(std::ldexp(comp_w, r + 1 - style.resolutions));
      const double res_h = std::ceil(std::ldexp(comp_h, r + 1 - style.resolutions));
      const int ppx = style.precinct_w[r], ppy = style.precinct_h[r];
      const double precincts_x = std::ceil(std::ldexp(res_w, -ppx)) + 1;
      const double precincts_y = std::ceil(std::ldexp(res_h, -ppy)) + 1;
      // Bands of resolutions above the lowest are half the size, and so are
      // their precincts, which bound the code-blocks.
      const int half = r == 0 ? 0 : 1;
      const int block_w = std::max(0, std::min(style.block_w, ppx - half));
      const int block_h = std::max(0, std::min(style.block_h, ppy - half));
      const double blocks_x = std::ceil(std::ldexp(res_w, -half - block_w)) + precincts_x;
      const double blocks_y = std::ceil(std::ldexp(res_h, -half - block_h)) + precincts_y;
      total += (r == 0 ? 1 : 3) *
               (precincts_x * precincts_y * kPrecinctBytes + blocks_x * blocks_y * kCodeblockBytes);
    }
  }
  if (total > kMaxTileStructureBytes) {
    throw Error(500, fmt::format("unsupported JPEG 2000: decoding in one of its {}x{} tiles would "
                                 "need {:.0f} MB; re-encode it with smaller tiles",
                                 h.tile_w, h.tile_h, total / (1 << 20)));
  }
}

// The sources of one file (a pool lends several) share its packet index,
// while the file is the same.
std::shared_ptr<const Jp2PacketIndex> shared_packet_index(
    const struct stat& st, const std::function<std::shared_ptr<const Jp2PacketIndex>()>& make) {
  using Key = std::tuple<dev_t, ino_t, off_t, int64_t, int64_t>;
  static std::mutex mutex;
  static std::map<Key, std::weak_ptr<const Jp2PacketIndex>> indexes;
  const Key key{st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
  {
    std::lock_guard lock(mutex);
    if (auto it = indexes.find(key); it != indexes.end()) {
      if (auto index = it->second.lock()) return index;
    }
  }
  auto index = make();
  if (!index) return index;
  std::lock_guard lock(mutex);
  std::erase_if(indexes, [](const auto& entry) { return entry.second.expired(); });
  indexes[key] = index;
  return index;
}

}  // namespace

// One decode: a stream and a fresh codec that has read the main header. The
// codec and the stream keep pointers to it, so a Decoder never moves.
struct Jp2Source::Decoder {
  // opj_stream_t and opj_codec_t are both void, hence one deleter each.
  struct FreeStream {
    void operator()(opj_stream_t* p) const { opj_stream_destroy(p); }
  };
  struct FreeCodec {
    void operator()(opj_codec_t* p) const { opj_destroy_codec(p); }
  };
  struct FreeImage {
    void operator()(opj_image_t* p) const { opj_image_destroy(p); }
  };
  std::string error;
  const ByteReader* source;
  uint64_t size = 0;
  uint64_t position = 0;
  // Declared so that the image goes first and the stream last.
  std::unique_ptr<opj_stream_t, FreeStream> stream;
  std::unique_ptr<opj_codec_t, FreeCodec> codec;
  std::unique_ptr<opj_image_t, FreeImage> image;

  // Reads `bytes` bytes of `from`: the file, or a codestream in memory.
  Decoder(const ByteReader& from, uint64_t bytes, bool raw, int layers, int threads)
      : source(&from), size(bytes) {
    codec.reset(opj_create_decompress(raw ? OPJ_CODEC_J2K : OPJ_CODEC_JP2));
    if (!codec) throw Error(500, "cannot create a JPEG 2000 decoder");
    opj_set_error_handler(codec.get(), &Decoder::on_error, this);
    opj_set_warning_handler(codec.get(), &Decoder::on_quiet, nullptr);
    opj_set_info_handler(codec.get(), &Decoder::on_quiet, nullptr);

    opj_dparameters_t parameters;
    opj_set_default_decoder_parameters(&parameters);
    parameters.cp_layer = OPJ_UINT32(std::max(layers, 0));
    if (!opj_setup_decoder(codec.get(), &parameters)) fail("cannot set up the JPEG 2000 decoder");
    opj_decoder_set_strict_mode(codec.get(), kStrictDecoding);
    if (threads > 1 && opj_has_thread_support()) opj_codec_set_threads(codec.get(), threads);

    stream.reset(opj_stream_create(kStreamChunk, OPJ_TRUE));
    if (!stream) throw Error(500, "cannot create a JPEG 2000 stream");
    opj_stream_set_user_data(stream.get(), this, nullptr);
    opj_stream_set_user_data_length(stream.get(), size);
    opj_stream_set_read_function(stream.get(), &Decoder::read);
    opj_stream_set_skip_function(stream.get(), &Decoder::skip);
    opj_stream_set_seek_function(stream.get(), &Decoder::seek);
    opj_image_t* header = nullptr;
    const bool ok = opj_read_header(stream.get(), codec.get(), &header);
    image.reset(header);
    if (!ok || !image) fail("corrupt JPEG 2000 header");
  }

  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(500, error.empty() ? what : fmt::format("{}: {}", what, error));
  }

  // The stream over the shared file, at this decode's own position.
  static OPJ_SIZE_T read(void* buffer, OPJ_SIZE_T n, void* user) {
    auto* self = static_cast<Decoder*>(user);
    if (self->position >= self->size) return OPJ_SIZE_T(-1);
    const std::size_t take = std::size_t(std::min<uint64_t>(n, self->size - self->position));
    if (!self->source->read_at(self->position, buffer, take)) return OPJ_SIZE_T(-1);
    self->position += take;
    return take;
  }
  static OPJ_OFF_T skip(OPJ_OFF_T n, void* user) {
    auto* self = static_cast<Decoder*>(user);
    if (n < 0 && uint64_t(-n) > self->position) return -1;
    self->position = uint64_t(int64_t(self->position) + n);
    return n;
  }
  static OPJ_BOOL seek(OPJ_OFF_T offset, void* user) {
    auto* self = static_cast<Decoder*>(user);
    if (offset < 0 || uint64_t(offset) > self->size) return OPJ_FALSE;
    self->position = uint64_t(offset);
    return OPJ_TRUE;
  }

  // The first error is the cause; what follows is OpenJPEG unwinding.
  static void on_error(const char* message, void* user) {
    auto* self = static_cast<Decoder*>(user);
    if (self->error.empty() && message) self->error = one_line(message);
  }
  static void on_quiet(const char*, void*) {}
};

int Jp2Source::layers_decoded() const noexcept {
  const int all = std::max(layers_, 1);
  if (options_.layers < 0) return all;
  if (options_.layers == 0) return (all + 1) / 2;
  return std::min(options_.layers, all);
}

Jp2Source::Jp2Source(const std::filesystem::path& path, Jp2Options options)
    : options_(options), file_(std::make_unique<File>()) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) not_found("no such image");
  file_->fd = open_image_file(path);
  struct stat st {};
  if (::fstat(file_->fd, &st) != 0 || !S_ISREG(st.st_mode)) not_found("no such image");
  file_->size = uint64_t(st.st_size);

  uint8_t head[12] = {};
  const bool got = file_->read_at(0, head, sizeof head);
  static constexpr uint8_t kJp2Signature[12] = {0,   0,   0,    0x0c, 'j',  'P',
                                                ' ', ' ', '\r', '\n', 0x87, '\n'};
  static constexpr uint8_t kCodestream[4] = {0xff, 0x4f, 0xff, 0x51};
  if (got && std::memcmp(head, kJp2Signature, 12) == 0) {
    raw_codestream_ = false;
  } else if (file_->size >= 4 && file_->read_at(0, head, 4) &&
             std::memcmp(head, kCodestream, 4) == 0) {
    raw_codestream_ = true;
  } else {
    throw Error(500, "not a JPEG 2000 file (no JP2 or codestream signature)");
  }

  const BoxFacts facts = raw_codestream_ ? BoxFacts{} : read_jp2_boxes(*file_);
  if (!raw_codestream_ && !facts.has_codestream) {
    throw Error(500, "corrupt JPEG 2000: no codestream box in the JP2 header");
  }
  const MainHeader header = read_main_header(*file_, facts.codestream);
  check_declared_size(header);
  // OpenJPEG 2.5.0 decodes HTJ2K code-blocks wrongly when asked for part of
  // an image (the samples come out shifted); the whole level decodes right.
  decode_whole_levels_ = header.high_throughput;

  Decoder decoder(*file_, file_->size, raw_codestream_, 0, 1);
  const opj_image_t& image = *decoder.image;
  if (image.x1 <= image.x0 || image.y1 <= image.y0 || image.numcomps == 0 || !image.comps) {
    decoder.fail("corrupt JPEG 2000: empty image");
  }
  // OpenJPEG takes decode areas as int32 coordinates.
  if (image.x1 > uint32_t(std::numeric_limits<int32_t>::max()) ||
      image.y1 > uint32_t(std::numeric_limits<int32_t>::max())) {
    throw Error(500, "unsupported JPEG 2000: image larger than 2^31 pixels");
  }
  x0_ = image.x0;
  y0_ = image.y0;
  x1_ = image.x1;
  y1_ = image.y1;

  opj_codestream_info_v2_t* cstr = opj_get_cstr_info(decoder.codec.get());
  if (!cstr) decoder.fail("corrupt JPEG 2000: no codestream information");
  struct CstrFree {
    opj_codestream_info_v2_t* p;
    ~CstrFree() { opj_destroy_cstr_info(&p); }
  } cstr_free{cstr};
  const opj_tile_info_v2_t& tile_defaults = cstr->m_default_tile_info;
  if (!tile_defaults.tccp_info || cstr->nbcomps != image.numcomps) {
    decoder.fail("corrupt JPEG 2000: no coding style");
  }
  uint32_t resolutions = std::numeric_limits<uint32_t>::max();
  for (uint32_t c = 0; c < cstr->nbcomps; ++c) {
    resolutions = std::min(resolutions, tile_defaults.tccp_info[c].numresolutions);
  }
  if (resolutions == 0 || resolutions > OPJ_J2K_MAXRLVLS) {
    decoder.fail(fmt::format("corrupt JPEG 2000: {} resolution levels", resolutions));
  }
  layers_ = int(tile_defaults.numlayers);

  // --- samples and colour --------------------------------------------------
  components_ = facts.palette_columns > 0 ? facts.palette_columns : int(image.numcomps);
  int bits = facts.palette_columns > 0 ? facts.palette_bits : 0;
  if (facts.palette_columns == 0) {
    for (uint32_t c = 0; c < image.numcomps; ++c) bits = std::max(bits, int(image.comps[c].prec));
  }
  if (bits < 1 || bits > 31) {
    throw Error(500, fmt::format("unsupported JPEG 2000 samples: {}-bit", bits));
  }
  info_.format = "jp2";
  info_.bits_per_sample = bits <= 8 ? 8 : 16;
  info_.sample_type = bits <= 8 ? SampleType::U8 : SampleType::U16;
  info_.bands = components_;

  switch (image.color_space) {
    case OPJ_CLRSPC_CMYK:
      throw Error(500, "unsupported JPEG 2000 colour space: CMYK");
    case OPJ_CLRSPC_EYCC:
      throw Error(500, "unsupported JPEG 2000 colour space: e-sYCC");
    case OPJ_CLRSPC_SYCC:
      ycc_ = true;
      break;
    case OPJ_CLRSPC_SRGB:
    case OPJ_CLRSPC_GRAY:
      break;
    default:
      // An undeclared space with subsampled second and third components is
      // YCbCr: subsampling RGB would make no sense.
      ycc_ = facts.palette_columns == 0 && image.numcomps >= 3 && image.comps[0].dx == 1 &&
             image.comps[0].dy == 1 && (image.comps[1].dx > 1 || image.comps[1].dy > 1) &&
             (image.comps[2].dx > 1 || image.comps[2].dy > 1);
      break;
  }
  cdef_ = facts.cdef;
  const int alpha = cdef_ ? std::min(facts.cdef_alpha, components_ - 1)
                          : (components_ == 2 || components_ == 4 ? 1 : 0);
  const int colour_bands = components_ - alpha;
  if (ycc_ && colour_bands != 3) throw Error(500, "corrupt JPEG 2000: sYCC without 3 components");
  info_.has_alpha = alpha > 0;
  info_.colour_space = colour_bands == 1   ? ColourSpace::Grey
                       : colour_bands == 3 ? ColourSpace::Rgb
                                           : ColourSpace::Multiband;
  info_.icc = facts.icc;
  info_.dpi_x = facts.dpi_x;
  info_.dpi_y = facts.dpi_y;

  // --- the pyramid: one level per resolution --------------------------------
  // Codestream tiles become the level's tiles where they line up with the
  // level's pixel grid and are a sensible request size; elsewhere (untiled
  // codestreams, offsets, tiny or huge tiles) fixed 256x256 virtual tiles
  // are served, which OpenJPEG decodes as areas just as cheaply.
  // OpenJPEG rewrites the image's components when it applies a palette or a
  // channel definition, which a reused decoder then trips over.
  single_tile_ = uint64_t(cstr->tw) * cstr->th == 1 && facts.palette_columns == 0 && !cdef_;
  if (single_tile_ && !decode_whole_levels_ && options_.packet_index) {
    packets_ = shared_packet_index(st, [&] {
      return Jp2PacketIndex::read(*file_, facts.codestream,
                                  raw_codestream_ ? file_->size : facts.codestream_end, header);
    });
  }
  const bool tiled =
      uint64_t(cstr->tw) * cstr->th > 1 && cstr->tx0 == 0 && cstr->ty0 == 0 && x0_ == 0 && y0_ == 0;
  for (uint32_t level = 0; level < resolutions; ++level) {
    LevelInfo li;
    li.width = uint32_t(ceil_div_pow2(x1_, int(level)) - ceil_div_pow2(x0_, int(level)));
    li.height = uint32_t(ceil_div_pow2(y1_, int(level)) - ceil_div_pow2(y0_, int(level)));
    if (li.width == 0 || li.height == 0) break;
    li.tile_width = li.tile_height = kVirtualTile;
    const uint64_t step = uint64_t{1} << level;
    if (tiled && cstr->tdx % step == 0 && cstr->tdy % step == 0) {
      const uint64_t tw = cstr->tdx / step, th = cstr->tdy / step;
      if (tw >= kVirtualTile && th >= kVirtualTile && tw <= kMaxNativeTile &&
          th <= kMaxNativeTile) {
        li.tile_width = uint32_t(tw);
        li.tile_height = uint32_t(th);
      }
    }
    info_.levels.push_back(li);
  }
  info_.width = info_.levels[0].width;
  info_.height = info_.levels[0].height;
  for (LevelInfo& li : info_.levels) {
    li.scale = level_scale(info_.width, info_.height, li.width, li.height);
  }
}

namespace {

// Codestream bytes that idle kept decoders may hold, over all sources: what
// reuse may cost in memory beyond the decodes in progress.
constexpr uint64_t kKeptDecoderBudget = uint64_t{512} << 20;
std::atomic<uint64_t> kept_decoder_bytes{0};

}  // namespace

Jp2Source::~Jp2Source() { drop_kept_decoder(); }

void Jp2Source::drop_kept_decoder() noexcept {
  if (!kept_) return;
  kept_.reset();
  kept_decoder_bytes -= file_->size;
}

void Jp2Source::keep_decoder(std::unique_ptr<Decoder> decoder, int level, int layers) noexcept {
  uint64_t held = kept_decoder_bytes.load();
  do {
    if (held + file_->size > kKeptDecoderBudget) return;
  } while (!kept_decoder_bytes.compare_exchange_weak(held, held + file_->size));
  kept_ = std::move(decoder);
  kept_level_ = level;
  kept_layers_ = layers;
}

Raster Jp2Source::tile(int level, uint32_t tx, uint32_t ty) {
  if (level < 0 || level >= int(info_.levels.size()))
    bad_request(fmt::format("no level {}", level));
  const LevelInfo& li = info_.levels[level];
  if (tx >= li.tiles_across() || ty >= li.tiles_down()) {
    bad_request(fmt::format("tile {},{} is outside level {}", tx, ty, level));
  }
  const uint32_t lx = tx * li.tile_width, ly = ty * li.tile_height;
  return decode_area(level, lx, ly, std::min(li.tile_width, li.width - lx),
                     std::min(li.tile_height, li.height - ly),
                     [&] { return fmt::format("tile {},{} of level {}", tx, ty, level); });
}

Raster Jp2Source::region(int level, uint32_t x, uint32_t y, uint32_t w, uint32_t h) {
  if (level < 0 || level >= int(info_.levels.size()))
    bad_request(fmt::format("no level {}", level));
  const LevelInfo& li = info_.levels[level];
  if (w == 0 || h == 0 || x >= li.width || y >= li.height || w > li.width - x ||
      h > li.height - y) {
    bad_request(fmt::format("region {},{},{},{} is outside level {}", x, y, w, h, level));
  }
  return decode_area(level, x, y, w, h, [&] {
    return fmt::format("region {},{},{},{} of level {}", x, y, w, h, level);
  });
}

Raster Jp2Source::decode_area(int level, uint32_t lx, uint32_t ly, uint32_t w, uint32_t h,
                              const std::function<std::string()>& where) {
  const LevelInfo& li = info_.levels[level];
  const int bands = info_.bands;
  const uint64_t pixels = uint64_t(w) * h;
  const uint64_t decoded = decode_whole_levels_ ? uint64_t(li.width) * li.height : pixels;
  const uint64_t needed = decoded * (uint64_t(components_) * 4 * 2 +
                                     uint64_t(bands) * bytes_per_sample(info_.sample_type));
  if (needed > kMaxDecodeBytes) {
    throw Error(500,
                fmt::format("JPEG 2000 {} too large to decode ({} MB)", where(), needed >> 20));
  }

  // The tile's area on the full-resolution reference grid: level pixel u
  // spans [u * 2^level, (u + 1) * 2^level).
  const uint64_t origin_x = ceil_div_pow2(x0_, level), origin_y = ceil_div_pow2(y0_, level);
  uint64_t ax0 = (origin_x + lx) << level, ay0 = (origin_y + ly) << level;
  uint64_t ax1 = std::min<uint64_t>(x1_, (origin_x + lx + w) << level);
  uint64_t ay1 = std::min<uint64_t>(y1_, (origin_y + ly + h) << level);
  if (decode_whole_levels_) ax0 = x0_, ay0 = y0_, ax1 = x1_, ay1 = y1_;

  // OpenJPEG (2.3 and later) keeps the compressed data of a single-tile
  // codestream in its codec after a decode and decodes further areas at the
  // same reduction from it, without reading the file again: the costliest
  // part of a decode. So an untiled file's decoder is kept for the next
  // decode of the same level and layers (a viewer asks many at once).
  const int layers = layers_decoded();
  const bool reusable = single_tile_ && !decode_whole_levels_ && !packets_;
  std::unique_ptr<Decoder> decoder;
  // With a packet index, OpenJPEG gets only the packets this area needs.
  Jp2PacketIndex::Sparse sparse;
  std::optional<MemoryReader> sparse_reader;
  // A sparse codestream may be the image already reduced: decoded at the
  // levels left, over the area on its own reference grid.
  int dropped = 0;
  if (packets_) {
    sparse = packets_->sparse_codestream(*file_, level, layers, ax0, ay0, ax1, ay1);
    dropped = sparse.levels_dropped;
    sparse_reader.emplace(sparse.bytes);
    decoder = std::make_unique<Decoder>(*sparse_reader, sparse.bytes.size(), true, layers,
                                        options_.threads);
    if (!opj_set_decoded_resolution_factor(decoder->codec.get(), OPJ_UINT32(level - dropped))) {
      decoder->fail(fmt::format("corrupt JPEG 2000: cannot reduce to level {}", level));
    }
  } else if (reusable && kept_ && kept_level_ == level && kept_layers_ == layers) {
    decoder = std::move(kept_);
    kept_decoder_bytes -= file_->size;
    decoder->error.clear();
  } else {
    drop_kept_decoder();
    decoder =
        std::make_unique<Decoder>(*file_, file_->size, raw_codestream_, layers, options_.threads);
    if (!opj_set_decoded_resolution_factor(decoder->codec.get(), OPJ_UINT32(level))) {
      decoder->fail(fmt::format("corrupt JPEG 2000: cannot reduce to level {}", level));
    }
  }
  Decoder& d = *decoder;
  if (!opj_set_decode_area(d.codec.get(), d.image.get(), OPJ_INT32(ax0 >> dropped),
                           OPJ_INT32(ay0 >> dropped), OPJ_INT32(ceil_div_pow2(ax1, dropped)),
                           OPJ_INT32(ceil_div_pow2(ay1, dropped)))) {
    d.fail("corrupt JPEG 2000: cannot select " + where());
  }
  // opj_end_decompress() would end the codec's use: only for decoders not kept.
  if (!opj_decode(d.codec.get(), d.stream.get(), d.image.get()) ||
      (!reusable && !opj_end_decompress(d.codec.get(), d.stream.get()))) {
    d.fail("corrupt or truncated JPEG 2000: cannot decode " + where());
  }
  const opj_image_t& image = *d.image;
  if (int(image.numcomps) != components_ || !image.comps) {
    d.fail(fmt::format("corrupt JPEG 2000: decoded {} components, expected {}", image.numcomps,
                       components_));
  }

  // Colour components first, opacity last, whatever order the file has.
  std::vector<int> order;
  for (int pass = 0; pass < 2; ++pass) {
    for (int c = 0; c < components_; ++c) {
      if ((cdef_ && image.comps[c].alpha != 0) == (pass == 1)) order.push_back(c);
    }
  }

  // Stage every band as unsigned int32 at the tile's size: subsampled
  // components are repeated, signed ones shifted to unsigned.
  std::vector<int32_t> staged(std::size_t(pixels) * bands);
  std::vector<int64_t> band_max(bands);
  std::vector<uint32_t> column(w);
  for (int b = 0; b < bands; ++b) {
    const opj_image_comp_t& comp = image.comps[order[b]];
    if (!comp.data || comp.dx == 0 || comp.dy == 0 || comp.prec < 1 || comp.prec > 31) {
      d.fail("corrupt JPEG 2000: unusable component in " + where());
    }
    const uint64_t cx0 = ceil_div_pow2(ceil_div(ax0, comp.dx), level);
    const uint64_t cy0 = ceil_div_pow2(ceil_div(ay0, comp.dy), level);
    const uint64_t cw = ceil_div_pow2(ceil_div(ax1, comp.dx), level) - cx0;
    const uint64_t ch = ceil_div_pow2(ceil_div(ay1, comp.dy), level) - cy0;
    if (cw == 0 || ch == 0 || comp.w != cw || comp.h != ch) {
      d.fail(fmt::format("corrupt JPEG 2000: decoder returned {}x{} samples for {}x{} in {}",
                         comp.w, comp.h, cw, ch, where()));
    }
    // Level pixel u lies on component sample floor(u / dx) of this level.
    for (uint32_t i = 0; i < w; ++i) {
      const uint64_t k = (origin_x + lx + i) / comp.dx;
      column[i] = uint32_t(std::min<uint64_t>(k < cx0 ? 0 : k - cx0, cw - 1));
    }
    const int64_t max = (int64_t{1} << comp.prec) - 1;
    const int64_t shift = comp.sgnd ? int64_t{1} << (comp.prec - 1) : 0;
    band_max[b] = max;
    for (uint32_t y = 0; y < h; ++y) {
      const uint64_t k = (origin_y + ly + y) / comp.dy;
      const uint64_t row = std::min<uint64_t>(k < cy0 ? 0 : k - cy0, ch - 1);
      const OPJ_INT32* src = comp.data + row * cw;
      int32_t* dst = staged.data() + std::size_t(y) * w * bands + b;
      for (uint32_t x = 0; x < w; ++x) {
        dst[std::size_t(x) * bands] = int32_t(std::clamp<int64_t>(src[column[x]] + shift, 0, max));
      }
    }
  }

  if (ycc_) {
    // ITU-R BT.601 full range, as sYCC defines it.
    const int64_t max = band_max[0];
    const double half_b = double(band_max[1] + 1) / 2, half_r = double(band_max[2] + 1) / 2;
    for (std::size_t i = 0; i < pixels; ++i) {
      int32_t* p = staged.data() + i * bands;
      const double yv = p[0], cb = p[1] - half_b, cr = p[2] - half_r;
      const double rgb[3] = {yv + 1.402 * cr, yv - 0.344136 * cb - 0.714136 * cr, yv + 1.772 * cb};
      for (int c = 0; c < 3; ++c) {
        p[c] = int32_t(std::clamp<int64_t>(std::lround(rgb[c]), 0, max));
      }
    }
    band_max[1] = band_max[2] = max;
  }

  // Full-range samples of the promised depth.
  Raster out(w, h, bands, info_.sample_type);
  const int64_t target = info_.sample_type == SampleType::U8 ? 255 : 65535;
  for (int b = 0; b < bands; ++b) {
    const int64_t max = band_max[b];
    for (uint32_t y = 0; y < h; ++y) {
      const int32_t* src = staged.data() + std::size_t(y) * w * bands + b;
      for (uint32_t x = 0; x < w; ++x) {
        const int64_t v = src[std::size_t(x) * bands];
        const int64_t scaled = max == target ? v : (v * target + max / 2) / max;
        if (info_.sample_type == SampleType::U8) {
          out.row(y)[std::size_t(x) * bands + b] = uint8_t(scaled);
        } else {
          reinterpret_cast<uint16_t*>(out.row(y))[std::size_t(x) * bands + b] = uint16_t(scaled);
        }
      }
    }
  }
  if (reusable) keep_decoder(std::move(decoder), level, layers);
  return out;
}

}  // namespace tessera
