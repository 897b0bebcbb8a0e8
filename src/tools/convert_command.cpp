#include "tools/convert_command.hpp"

// libvips (and glib) stay inside this file.
#include <vips/vips.h>

#include <fmt/format.h>
#include <fmt/ostream.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string_view>

#include "image/image_source.hpp"

namespace tessera {

namespace {

namespace fs = std::filesystem;

// libvips keeps its error messages in a buffer, one per line; a client of
// the command line gets them as one line.
std::string vips_reason() {
  std::string text = vips_error_buffer();
  vips_error_clear();
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text.empty() ? "libvips failed without saying why" : text;
}

void start_vips() {
  static const bool started = [] {
    if (VIPS_INIT("tessera") != 0)
      throw std::runtime_error("cannot start libvips: " + vips_reason());
    vips_cache_set_max(0);  // every operation here runs once
    // libvips also warns on stderr (glib's log) about what then fails with
    // an error; the error alone is the one line a user gets.
    g_log_set_handler(
        "VIPS", GLogLevelFlags(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO),
        [](const char*, GLogLevelFlags, const char*, void*) {}, nullptr);
    return true;
  }();
  (void)started;
}

struct Unref {
  void operator()(VipsImage* image) const { g_object_unref(image); }
};
using Image = std::unique_ptr<VipsImage, Unref>;

// Runs one libvips operation that makes a new image from `in`, as
// `op(in, &out, options...)`; a failure becomes a one-line error.
template <typename Op, typename... Args>
Image run_op(const Image& in, Op op, Args... args) {
  VipsImage* out = nullptr;
  if (op(in.get(), &out, args..., nullptr) != 0) throw std::runtime_error(vips_reason());
  return Image(out);
}

Image load(const fs::path& input, VipsAccess access) {
  // fail_on: a truncated or corrupt file stops the conversion instead of
  // leaving grey where the damage was.
  VipsImage* image = vips_image_new_from_file(input.c_str(), "access", access, "fail_on",
                                              VIPS_FAIL_ON_ERROR, nullptr);
  if (image == nullptr) {
    throw std::runtime_error(fmt::format("cannot read {}: {}", input.string(), vips_reason()));
  }
  return Image(image);
}

const char* sample_name(VipsBandFormat format) {
  switch (format) {
    case VIPS_FORMAT_UCHAR:
      return "8-bit";
    case VIPS_FORMAT_USHORT:
      return "16-bit";
    case VIPS_FORMAT_UINT:
      return "32-bit";
    case VIPS_FORMAT_FLOAT:
      return "32-bit float";
    case VIPS_FORMAT_DOUBLE:
      return "64-bit float";
    case VIPS_FORMAT_CHAR:
      return "signed 8-bit";
    case VIPS_FORMAT_SHORT:
      return "signed 16-bit";
    case VIPS_FORMAT_INT:
      return "signed 32-bit";
    default:
      return "complex";
  }
}

// What the source holds, in the form the pyramid will: upright (EXIF
// orientation applied), CMYK turned into sRGB (web clients show RGB),
// doubles narrowed to floats. Sample types Tessera does not serve are
// refused rather than silently rescaled.
Image prepare(const fs::path& input) {
  Image image = load(input, VIPS_ACCESS_SEQUENTIAL);
  if (vips_image_get_orientation(image.get()) > 1) {
    // Turning by 90 degrees reads the image out of order: open it for that.
    image = run_op(load(input, VIPS_ACCESS_RANDOM), vips_autorot);
  }
  if (vips_image_guess_interpretation(image.get()) == VIPS_INTERPRETATION_CMYK) {
    image = run_op(image, vips_colourspace, VIPS_INTERPRETATION_sRGB);
    // The CMYK profile no longer describes the pixels; untagged is sRGB.
    vips_image_remove(image.get(), VIPS_META_ICC_NAME);
  }
  const VipsBandFormat format = vips_image_get_format(image.get());
  if (format == VIPS_FORMAT_DOUBLE) {
    image = run_op(image, vips_cast, VIPS_FORMAT_FLOAT);
  } else if (format != VIPS_FORMAT_UCHAR && format != VIPS_FORMAT_USHORT &&
             format != VIPS_FORMAT_UINT && format != VIPS_FORMAT_FLOAT) {
    throw std::runtime_error(fmt::format(
        "{} has {} samples; Tessera serves unsigned 8, 16 or 32-bit and 32-bit float images",
        input.string(), sample_name(format)));
  }
  return image;
}

// The tile compressions, with what each can hold: one table for the flag's
// names, the choice `auto` makes and the refusals.
struct Compression {
  const char* flag;
  VipsForeignTiffCompression vips;
  const char* name;
  bool lossy;
  // Lossy codecs take 8-bit samples in some band counts only: bit n set for
  // n bands, and how to say it. 0: any samples, any bands.
  unsigned eight_bit_bands;
  const char* holds;
};

constexpr Compression kCompressions[] = {
    {"jpeg", VIPS_FOREIGN_TIFF_COMPRESSION_JPEG, "JPEG", true, 1u << 1 | 1u << 3,
     "8-bit grey or RGB"},
    {"webp", VIPS_FOREIGN_TIFF_COMPRESSION_WEBP, "WebP", true, 1u << 3 | 1u << 4,
     "8-bit RGB or RGBA"},
    {"deflate", VIPS_FOREIGN_TIFF_COMPRESSION_DEFLATE, "deflate", false, 0, nullptr},
    {"lzw", VIPS_FOREIGN_TIFF_COMPRESSION_LZW, "LZW", false, 0, nullptr},
    {"zstd", VIPS_FOREIGN_TIFF_COMPRESSION_ZSTD, "zstd", false, 0, nullptr},
    {"none", VIPS_FOREIGN_TIFF_COMPRESSION_NONE, "uncompressed", false, 0, nullptr},
};

const Compression& compression_named(std::string_view flag) {
  for (const Compression& c : kCompressions) {
    if (flag == c.flag) return c;
  }
  throw std::runtime_error(fmt::format("unknown compression '{}'", flag));
}

bool can_hold(const Compression& c, VipsBandFormat format, int bands) {
  return c.eight_bit_bands == 0 || (format == VIPS_FORMAT_UCHAR && bands > 0 && bands < 32 &&
                                    (c.eight_bit_bands >> bands & 1));
}

// `auto`: JPEG where it can hold the image, else lossless deflate.
const Compression& choose_compression(const std::string& asked, const Image& image) {
  const VipsBandFormat format = vips_image_get_format(image.get());
  const int bands = vips_image_get_bands(image.get());
  if (asked == "auto") {
    const Compression& jpeg = compression_named("jpeg");
    return can_hold(jpeg, format, bands) ? jpeg : compression_named("deflate");
  }
  const Compression& chosen = compression_named(asked);
  if (!can_hold(chosen, format, bands)) {
    throw std::runtime_error(fmt::format(
        "{} tiles hold {} only, and the image has {} band(s) of {} samples: use --compression "
        "deflate",
        chosen.name, chosen.holds, bands, sample_name(format)));
  }
  return chosen;
}

// A file in the output's folder that becomes the output once whole; removed
// if anything fails before that.
class TemporaryOutput {
 public:
  explicit TemporaryOutput(const fs::path& output) {
    std::string name =
        (output.parent_path() / fmt::format(".{}.XXXXXX", output.filename().string())).string();
    const int fd = mkstemp(name.data());
    if (fd < 0) {
      throw std::runtime_error(
          fmt::format("cannot write in {}: {}", output.parent_path().string(), strerror(errno)));
    }
    // mkstemp makes the file private; a pyramid is for a server (often
    // another user) to read, so it gets the mode any new file would.
    const mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    close(fd);
    path_ = name;
  }
  TemporaryOutput(const TemporaryOutput&) = delete;
  TemporaryOutput& operator=(const TemporaryOutput&) = delete;
  ~TemporaryOutput() {
    if (!path_.empty()) unlink(path_.c_str());
  }

  const fs::path& path() const { return path_; }

  void rename_to(const fs::path& output) {
    if (std::rename(path_.c_str(), output.c_str()) != 0) {
      throw std::runtime_error(
          fmt::format("cannot write {}: {}", output.string(), strerror(errno)));
    }
    path_.clear();
  }

 private:
  fs::path path_;
};

// A large scan takes minutes: on a terminal, say how far the conversion is
// (on stderr, overwriting one line). Called by libvips from its threads.
struct Progress {
  std::string name;
  int shown = -1;
};

void show(Progress& state, int percent) {
  if (percent == state.shown) return;
  state.shown = percent;
  fmt::print(stderr, "\r{}: {}%", state.name, percent);
  std::fflush(stderr);
}

void on_eval(VipsImage*, VipsProgress* progress, void* data) {
  show(*static_cast<Progress*>(data), progress->percent);
}

// The last "eval" may come before every row is written.
void on_posteval(VipsImage*, VipsProgress*, void* data) {
  show(*static_cast<Progress*>(data), 100);
}

void report_progress(const Image& image, Progress& state) {
  if (!isatty(STDERR_FILENO)) return;
  vips_image_set_progress(image.get(), TRUE);
  g_signal_connect(image.get(), "eval", reinterpret_cast<GCallback>(on_eval), &state);
  g_signal_connect(image.get(), "posteval", reinterpret_cast<GCallback>(on_posteval), &state);
}

void check_paths(const ConvertOptions& options) {
  std::error_code ec;
  if (!fs::exists(options.input, ec)) {
    throw std::runtime_error(fmt::format("no such file: {}", options.input.string()));
  }
  if (!fs::is_regular_file(options.input, ec)) {
    throw std::runtime_error(fmt::format("{} is not a file", options.input.string()));
  }
  const fs::path folder = options.output.parent_path().empty() ? "." : options.output.parent_path();
  if (!fs::is_directory(folder, ec)) {
    throw std::runtime_error(fmt::format("no such folder: {}", folder.string()));
  }
  if (fs::exists(options.output, ec)) {
    if (fs::is_directory(options.output, ec)) {
      throw std::runtime_error(fmt::format("{} is a folder", options.output.string()));
    }
    if (fs::equivalent(options.input, options.output, ec)) {
      throw std::runtime_error("the output would replace the input: give another name");
    }
  }
}

}  // namespace

std::vector<std::string> convert_compressions() {
  std::vector<std::string> flags{"auto"};
  for (const Compression& c : kCompressions) flags.emplace_back(c.flag);
  return flags;
}

int run_convert_command(const ConvertOptions& options, std::ostream& out) {
  check_paths(options);
  start_vips();
  const Image image = prepare(options.input);
  const Compression& compression = choose_compression(options.compression, image);

  // Classic TIFF ends at 4 GiB. Compressed sizes are not known ahead, so the
  // uncompressed size of all levels (4/3 of the first) decides.
  const double bytes = double(vips_image_get_width(image.get())) *
                       vips_image_get_height(image.get()) * vips_image_get_bands(image.get()) *
                       vips_format_sizeof(vips_image_get_format(image.get())) * 4.0 / 3.0;
  const bool bigtiff = bytes >= 4.0e9;
  const VipsForeignTiffPredictor predictor = vips_image_get_format(image.get()) == VIPS_FORMAT_FLOAT
                                                 ? VIPS_FOREIGN_TIFF_PREDICTOR_FLOAT
                                                 : VIPS_FOREIGN_TIFF_PREDICTOR_HORIZONTAL;

  const fs::path output =
      options.output.parent_path().empty() ? fs::path(".") / options.output : options.output;
  TemporaryOutput temporary(output);
  Progress progress{options.input.filename().string()};
  report_progress(image, progress);
  const int saved = vips_tiffsave(
      image.get(), temporary.path().c_str(), "tile", TRUE, "tile_width", options.tile_size,
      "tile_height", options.tile_size, "pyramid", TRUE, "compression", compression.vips, "Q",
      options.quality, "predictor", predictor, "bigtiff", bigtiff ? TRUE : FALSE, nullptr);
  if (progress.shown >= 0) fmt::print(stderr, "\n");
  if (saved != 0) {
    throw std::runtime_error(
        fmt::format("cannot convert {}: {}", options.input.string(), vips_reason()));
  }

  // What is renamed into place is what Tessera itself reads back.
  const auto source = open_image(temporary.path());
  const ImageInfo& info = source->info();
  const auto size = fs::file_size(temporary.path());
  temporary.rename_to(options.output);

  fmt::print(out, "{}: {}x{}, {} band(s) of {} samples, {} levels, {}x{} {} tiles{}, {:.1f} MB\n",
             options.output.string(), info.width, info.height, info.bands,
             sample_name(vips_image_get_format(image.get())), info.levels.size(), options.tile_size,
             options.tile_size, compression.name,
             compression.lossy ? fmt::format(" (quality {})", options.quality) : std::string(),
             double(size) / 1e6);
  return 0;
}

}  // namespace tessera
