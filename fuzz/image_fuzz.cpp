// libFuzzer target: any file, opened as an image (TIFF or JPEG 2000, chosen
// by signature as the server chooses) and read as the server reads it: the
// description, a tile of every level, and a region scaled down through the
// planner and executor, which decodes parts of stored tiles. A damaged file
// must end in tessera::Error (a status and a reason), never in a crash,
// another exception or unbounded memory (libFuzzer's -rss_limit_mb and
// -malloc_limit_mb, set by scripts/fuzz.sh).

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "common/error.hpp"
#include "image/image_source.hpp"
#include "protocol/iiif.hpp"
#include "render/executor.hpp"
#include "render/planner.hpp"

namespace {

void read_like_the_server(const std::string& path) {
  const auto source = tessera::open_image(path);
  const tessera::ImageInfo& info = source->info();
  for (std::size_t level = 0; level < info.levels.size() && level < 12; ++level) {
    const tessera::LevelInfo& l = info.levels[level];
    (void)source->tile(int(level), l.tiles_across() - 1, l.tiles_down() - 1);
  }
  // The middle third of the image at 200 px wide: a region across tiles.
  const uint32_t x = info.width / 3, y = info.height / 3;
  const uint32_t w = std::max(1u, info.width / 3), h = std::max(1u, info.height / 3);
  const tessera::Query query =
      tessera::parse_iiif(fmt::format("i/{},{},{},{}/200,/0/default.jpg", x, y, w, h), 3);
  tessera::Limits limits;
  limits.max_area = 4'000'000;
  const tessera::Plan plan = tessera::plan_image(query, info, limits);
  tessera::RenderOptions options;
  options.passthrough = true;
  (void)tessera::render_image(*source, plan, options);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A file in memory, opened by name as the server opens files.
  const int fd = memfd_create("image", 0);
  if (fd < 0) return 0;
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) break;
    done += std::size_t(n);
  }
  try {
    read_like_the_server(fmt::format("/proc/self/fd/{}", fd));
  } catch (const tessera::Error&) {
    // The answer a client would get: a status and a one-line reason.
  }
  close(fd);
  return 0;
}
