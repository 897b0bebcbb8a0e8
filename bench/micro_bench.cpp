// Micro-benchmarks of the steps a request is made of: decoding one stored
// tile, resampling, encoding, and a cache hit. They read the photograph
// pyramids that `make bench` makes (TESSERA_BENCH_IMAGES, the folder of
// photo_jpeg.tif and friends); without it they make a small pattern pyramid,
// whose smooth content makes JPEG cheaper than a photograph does.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cache/lru_cache.hpp"
#include "cache/response_cache.hpp"
#include "cache/tile_cache.hpp"
#include "encode/encoder.hpp"
#include "encode/jpeg.hpp"
#include "image/image_source.hpp"
#include "image/jpeg_entry_points.hpp"
#include "image/stored_tile.hpp"
#include "process/resample.hpp"
#include "render/executor.hpp"
#include "render/planner.hpp"
#include "serve/file_info.hpp"
#include "support/test_images.hpp"

namespace fs = std::filesystem;
using namespace tessera;

namespace {

// The folder of the benchmark images, made on first use when none is given.
const fs::path& images() {
  static const fs::path dir = [] {
    if (const char* env = std::getenv("TESSERA_BENCH_IMAGES"); env && *env) return fs::path(env);
    const fs::path tmp = testing::make_temp_dir("tessera-micro");
    testing::write_pnm(tmp / "src.ppm", testing::make_pattern(4096, 3072, 3));
    testing::make_pyramid(tmp / "src.ppm", tmp / "photo_jpeg.tif", 256,
                          {"--compression", "jpeg", "--Q", "90"});
    testing::make_pyramid(tmp / "src.ppm", tmp / "photo_deflate.tif", 256,
                          {"--compression", "deflate"});
    testing::run_command({"opj_compress", "-i", (tmp / "src.ppm").string(), "-o",
                          (tmp / "photo.jp2").string(), "-n", "6", "-r", "20,10,5,2"});
    return tmp;
  }();
  return dir;
}

// Tiles of level 0 around the middle, a different one each iteration so
// libtiff's and the CPU's caches do not flatter the decoder; `decode` makes
// the pixels of one (by default the source's own tile()).
using TileDecoder = std::function<Raster(ImageSource&, uint32_t tx, uint32_t ty)>;
void decode_tiles(benchmark::State& state, const char* file, const TileDecoder& decode = {}) {
  const fs::path path = images() / file;
  if (!fs::exists(path)) {
    state.SkipWithError(("missing " + path.string()).c_str());
    return;
  }
  std::unique_ptr<ImageSource> source = open_image(path);
  const LevelInfo& level = source->info().levels.at(0);
  const uint32_t across = level.tiles_across(), down = level.tiles_down();
  uint32_t n = 0;
  for (auto _ : state) {
    const uint32_t tx = (across / 2 + n % 8) % across, ty = (down / 2 + (n / 8) % 8) % down;
    ++n;
    Raster tile = decode ? decode(*source, tx, ty) : source->tile(0, tx, ty);
    benchmark::DoNotOptimize(tile.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_DecodeTile_JpegTiff(benchmark::State& state) { decode_tiles(state, "photo_jpeg.tif"); }
void BM_DecodeTile_DeflateTiff(benchmark::State& state) {
  decode_tiles(state, "photo_deflate.tif");
}
void BM_DecodeTile_Jp2(benchmark::State& state) { decode_tiles(state, "photo.jp2"); }

// The same JPEG-TIFF tiles, from their stored bytes through TurboJPEG rather
// than through libtiff's scanline decoder.
void BM_DecodeTile_JpegTiffStoredBytes(benchmark::State& state) {
  decode_tiles(state, "photo_jpeg.tif", [](ImageSource& source, uint32_t tx, uint32_t ty) {
    const auto stored = source.stored_tile(0, tx, ty);
    if (!stored) throw std::runtime_error("tile not stored as JPEG");
    return decode_jpeg(stored->bytes);
  });
}
// The bottom-right quarter of a tile, as the top-left tile of a region cut
// from four needs it: decoded from the stored stream (everything before the
// window Huffman-decoded), through the tile's entry points (only the
// window's MCUs), and what making the entry points costs.
void decode_corner(benchmark::State& state, bool entry_points) {
  decode_tiles(state, "photo_jpeg.tif", [&](ImageSource& source, uint32_t tx, uint32_t ty) {
    const auto stored = source.fetch_tile(0, tx, ty);
    if (!stored) throw std::runtime_error("tile not stored as JPEG");
    static std::map<std::pair<uint32_t, uint32_t>, std::shared_ptr<const JpegEntryPoints>> kept;
    std::shared_ptr<const JpegEntryPoints>& entries = kept[{tx, ty}];
    if (entry_points && !entries) entries = index_jpeg_tile(*stored);
    const uint32_t half_w = stored->stored_width / 2, half_h = stored->stored_height / 2;
    Raster out(half_w, half_h, stored->bands());
    decode_stored_tile(*stored, half_w, half_h, half_w, half_h, out.data(), out.stride(),
                       entry_points ? entries.get() : nullptr);
    return out;
  });
}
void BM_DecodeCorner_Stream(benchmark::State& state) { decode_corner(state, false); }
void BM_DecodeCorner_EntryPoints(benchmark::State& state) { decode_corner(state, true); }
void BM_IndexJpegTile(benchmark::State& state) {
  decode_tiles(state, "photo_jpeg.tif", [](ImageSource& source, uint32_t tx, uint32_t ty) {
    const auto stored = source.fetch_tile(0, tx, ty);
    if (!stored || !index_jpeg_tile(*stored)) throw std::runtime_error("no entry points");
    return Raster(1, 1, 1);
  });
}
// Making the spliced stream alone (no decode): the bottom-right quarter of
// 64 tiles whose stored bytes and entry points are in memory.
void BM_SpliceCorner(benchmark::State& state) {
  const fs::path path = images() / "photo_jpeg.tif";
  std::unique_ptr<ImageSource> source = open_image(path);
  const LevelInfo& level = source->info().levels.at(0);
  std::vector<std::pair<StoredTile, std::shared_ptr<const JpegEntryPoints>>> tiles;
  for (uint32_t n = 0; n < 64; ++n) {
    const uint32_t tx = (level.tiles_across() / 2 + n % 8) % level.tiles_across();
    const uint32_t ty = (level.tiles_down() / 2 + n / 8) % level.tiles_down();
    auto stored = source->fetch_tile(0, tx, ty);
    if (!stored) throw std::runtime_error("tile not stored as JPEG");
    auto entries = index_jpeg_tile(*stored);
    if (!entries) throw std::runtime_error("no entry points");
    tiles.emplace_back(std::move(*stored), std::move(entries));
  }
  std::size_t n = 0;
  for (auto _ : state) {
    const auto& [tile, entries] = tiles[n++ % tiles.size()];
    const uint32_t w = tile.stored_width, h = tile.stored_height;
    auto spliced = splice_jpeg_tile(tile, *entries, w / 2 + 3, h / 2 + 5, w, h);
    if (!spliced) throw std::runtime_error("no splice");
    benchmark::DoNotOptimize(spliced->bytes.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpliceCorner)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DecodeCorner_Stream)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DecodeCorner_EntryPoints)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_IndexJpegTile)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DecodeTile_JpegTiffStoredBytes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DecodeTile_JpegTiff)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DecodeTile_DeflateTiff)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DecodeTile_Jp2)->Unit(benchmark::kMillisecond);

void BM_OpenTiff(benchmark::State& state) {
  const fs::path path = images() / "photo_jpeg.tif";
  for (auto _ : state) {
    auto source = open_image(path);
    benchmark::DoNotOptimize(source.get());
  }
}
BENCHMARK(BM_OpenTiff)->Unit(benchmark::kMicrosecond);

// A photographic raster of w x h: stored tiles pasted together.
Raster photo_raster(uint32_t w, uint32_t h) {
  std::unique_ptr<ImageSource> source = open_image(images() / "photo_jpeg.tif");
  const LevelInfo& level = source->info().levels.at(0);
  Raster out(w, h, source->info().bands);
  const uint32_t tx0 = level.tiles_across() / 3, ty0 = level.tiles_down() / 3;
  for (uint32_t y = 0; y < h; y += level.tile_height) {
    for (uint32_t x = 0; x < w; x += level.tile_width) {
      const Raster tile = source->tile(0, tx0 + x / level.tile_width, ty0 + y / level.tile_height);
      out.paste(tile, x, y);
    }
  }
  return out;
}

void resample_bench(benchmark::State& state, uint32_t in_w, uint32_t in_h, uint32_t out_w,
                    Interpolation interpolation) {
  const Raster src = photo_raster(in_w, in_h);
  const uint32_t out_h = uint32_t(uint64_t(in_h) * out_w / in_w);
  for (auto _ : state) {
    Raster out =
        resample(src, SourceWindow{0, 0, double(in_w), double(in_h)}, out_w, out_h, interpolation);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(src.size_bytes()));
}

void BM_Resample_1024_to_512_Bilinear(benchmark::State& state) {
  resample_bench(state, 1024, 1024, 512, Interpolation::Bilinear);
}
void BM_Resample_1024_to_512_Lanczos3(benchmark::State& state) {
  resample_bench(state, 1024, 1024, 512, Interpolation::Lanczos3);
}
void BM_Resample_1250_to_1000_Bilinear(benchmark::State& state) {
  resample_bench(state, 1250, 937, 1000, Interpolation::Bilinear);
}
BENCHMARK(BM_Resample_1024_to_512_Bilinear)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Resample_1024_to_512_Lanczos3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Resample_1250_to_1000_Bilinear)->Unit(benchmark::kMillisecond);

void encode_bench(benchmark::State& state, Format format) {
  const Raster tile = photo_raster(256, 256);
  EncodeOptions options;
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string out = encode_image(tile, format, options);
    bytes = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["out_bytes"] = double(bytes);
  state.SetItemsProcessed(state.iterations());
}

void BM_Encode256_Jpeg(benchmark::State& state) { encode_bench(state, Format::Jpeg); }
void BM_Encode256_Png(benchmark::State& state) { encode_bench(state, Format::Png); }
void BM_Encode256_Webp(benchmark::State& state) { encode_bench(state, Format::Webp); }
BENCHMARK(BM_Encode256_Jpeg)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Encode256_Png)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Encode256_Webp)->Unit(benchmark::kMicrosecond);

// One whole stored JPEG tile of level 0 as a client asks for it (a viewer's
// tile URL, JPEG out): its stored bytes with the tables spliced in
// (CODEC_PASSTHROUGH), against decoding it and encoding it again.
void tile_response(benchmark::State& state, bool passthrough) {
  std::unique_ptr<ImageSource> source = open_image(images() / "photo_jpeg.tif");
  const LevelInfo& level = source->info().levels.at(0);
  const uint32_t across = level.tiles_across(), down = level.tiles_down();
  RenderOptions options;
  options.passthrough = passthrough;
  std::vector<Plan> plans;
  for (uint32_t n = 0; n < 64; ++n) {
    // Inner tiles: those of the right and bottom edges may be cut.
    const uint32_t tx = (across / 2 + n % 8) % std::max(1u, across - 1);
    const uint32_t ty = (down / 2 + n / 8) % std::max(1u, down - 1);
    Query query;
    query.region = {RegionSpec::Kind::Pixels, double(tx * level.tile_width),
                    double(ty * level.tile_height), double(level.tile_width),
                    double(level.tile_height)};
    plans.push_back(plan_image(query, source->info(), {}));
    const bool stored = plan_stored_tile(plans.back(), source->info()) &&
                        source->stored_tile(0, tx, ty).has_value();
    if (passthrough && !stored) {
      state.SkipWithError("a tile of photo_jpeg.tif does not pass through");
      return;
    }
  }
  std::size_t bytes = 0, n = 0;
  for (auto _ : state) {
    std::string out = render_image(*source, plans[n++ % plans.size()], options);
    bytes = out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["out_bytes"] = double(bytes);
  state.SetItemsProcessed(state.iterations());
}

void BM_JpegTile_Passthrough(benchmark::State& state) { tile_response(state, true); }
void BM_JpegTile_DecodeEncode(benchmark::State& state) { tile_response(state, false); }
BENCHMARK(BM_JpegTile_Passthrough)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_JpegTile_DecodeEncode)->Unit(benchmark::kMicrosecond);

// A whole request's rendering, uncached: a 1024x1024 region of level 0 scaled
// to 512 wide (the HTTP benchmark's "regions": the tiles of level 1 it
// needs, decoded in parallel and only in part, then encoded), and the whole
// image scaled to 1000 wide (what "whole" costs before its response is
// cached). Wall time: the region's tiles decode on every core (run with
// `taskset -c 0` to see the cost on one).
// With `cached`, through the server's tile cache (its default 5 MB share):
// after the first round its tiles' entry points are kept.
void render_request(benchmark::State& state, bool whole, bool cached = false) {
  std::unique_ptr<ImageSource> file = open_image(images() / "photo_jpeg.tif");
  TileCache tiles(cached ? 5 << 20 : 0);
  CachingSource caching(*file, file_identity(images() / "photo_jpeg.tif"), tiles);
  ImageSource* source = cached ? static_cast<ImageSource*>(&caching) : file.get();
  const ImageInfo& info = source->info();
  if (info.width < 2048 || info.height < 2048) {
    state.SkipWithError("photo_jpeg.tif is too small for 1024 px regions");
    return;
  }
  std::vector<Plan> plans;
  for (uint32_t n = 0; n < (whole ? 1u : 64u); ++n) {
    Query query;
    if (!whole) {
      // Spread over the image, at odd offsets so tiles are cut.
      const double x = double((n * 7919u + 37u) % (info.width - 1024));
      const double y = double((n * 104729u + 91u) % (info.height - 1024));
      query.region = {RegionSpec::Kind::Pixels, x, y, 1024, 1024};
    }
    query.size.kind = SizeSpec::Kind::Width;
    query.size.w = whole ? 1000 : 512;
    plans.push_back(plan_image(query, info, {}));
  }
  const RenderOptions options;
  // One round before timing, so that the cached variant measures requests
  // whose tiles' entry points are kept (the steady state of a server).
  if (cached) {
    for (const Plan& plan : plans) benchmark::DoNotOptimize(render_image(*source, plan, options));
  }
  std::size_t n = 0;
  for (auto _ : state) {
    std::string out = render_image(*source, plans[n++ % plans.size()], options);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Render_Region1024To512(benchmark::State& state) { render_request(state, false); }
void BM_Render_WholeTo1000(benchmark::State& state) { render_request(state, true); }
void BM_Render_Region1024To512_Cached(benchmark::State& state) {
  render_request(state, false, true);
}
BENCHMARK(BM_Render_Region1024To512)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Render_Region1024To512_Cached)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Render_WholeTo1000)->Unit(benchmark::kMillisecond)->UseRealTime();

// A response-cache hit from several threads at once: the cost the hot tile
// will pay per request once the cache is wired in.
void BM_ResponseCacheHit(benchmark::State& state) {
  static ResponseCache* cache = [] {
    auto* c = new ResponseCache(ResponseCache::budget_from_megabytes(10));
    for (int i = 0; i < 256; ++i) {
      auto r = std::make_shared<CachedResponse>();
      r->body = std::string(20000, 'x');
      c->put("iiif3/photo_jpeg.tif/" + std::to_string(i), FileIdentity{1, 2, 3, 4}, r);
    }
    return c;
  }();
  int i = int(state.thread_index()) * 37;
  for (auto _ : state) {
    auto hit =
        cache->get("iiif3/photo_jpeg.tif/" + std::to_string(i++ % 256), FileIdentity{1, 2, 3, 4});
    benchmark::DoNotOptimize(hit.get());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ResponseCacheHit)->ThreadRange(1, 4)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
