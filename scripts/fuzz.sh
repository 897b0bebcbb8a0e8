#!/usr/bin/env bash
# Runs the libFuzzer targets of fuzz/ (built in the folder given, by `make
# fuzz`) for a fixed number of inputs from a fixed seed (below: how far
# that repeats a run): the service over a folder of real images with the request
# seeds of fuzz/corpus/service, and the image reader over small images of
# each kind Tessera reads (and fuzz/corpus/image: inputs that once failed).
# The images are made once, with the vips CLI and opj_compress.
set -euo pipefail

build="${1:?usage: scripts/fuzz.sh BUILD_DIR [RUNS]}"
runs="${2:-20000}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
images="$build/fuzz-images"   # served by service_fuzz
seeds="$build/fuzz-seeds"     # small files for image_fuzz

make_images() {
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  rm -rf "$images" "$seeds"
  mkdir -p "$images" "$seeds"
  # Three bands of Perlin noise: content that JPEG and deflate must work on.
  for s in 1 2 3; do
    vips perlin "$work/n$s.v" 600 400 --cell-size 64 --seed $s
    vips linear "$work/n$s.v" "$work/b$s.v" 120 128 --uchar
  done
  vips bandjoin "$work/b1.v $work/b2.v $work/b3.v" "$work/rgb.v"
  vips copy "$work/rgb.v" "$work/rgb.ppm"
  vips extract_band "$work/rgb.v" "$work/grey.v" 0
  vips cast "$work/grey.v" "$work/grey16.v" ushort --shift
  vips bandjoin "$work/rgb.v $work/b1.v" "$work/rgba.v"

  local pyramid=(--tile --pyramid --tile-width 256 --tile-height 256)
  vips tiffsave "$work/rgb.v" "$images/p.tif" "${pyramid[@]}" --compression jpeg --Q 85
  vips tiffsave "$work/rgb.v" "$images/d.tif" "${pyramid[@]}" --compression deflate --predictor horizontal
  vips tiffsave "$work/grey16.v" "$images/g16.tif" "${pyramid[@]}" --compression deflate
  vips tiffsave "$work/rgba.v" "$images/a.tif" "${pyramid[@]}" --compression lzw
  vips tiffsave "$work/rgb.v" "$images/s.tif" "${pyramid[@]}" --compression webp --subifd
  vips tiffsave "$work/rgb.v" "$images/strip.tif"
  opj_compress -i "$work/rgb.ppm" -o "$images/j.jp2" -n 3 -PLT -r 20 > /dev/null
  opj_compress -i "$work/rgb.ppm" -o "$images/t.jp2" -n 3 -t 128,128 -r 20 > /dev/null
  mkdir -p "$images/sub"
  cp "$images/p.tif" "$images/sub/q.tif"
  # An IIP image sequence (FILENAME_PATTERN's default _pyr_): FIF=seq.
  cp "$images/p.tif" "$images/seq_pyr_000_090.tif"
  cp "$images/d.tif" "$images/seq_pyr_010_090.tif"
  cp "$images/p.tif" "$images/seq_pyr_000_080.tif"

  # Small versions (a few tiles of 64 px) as seeds of the image reader.
  vips crop "$work/rgb.v" "$work/small.v" 0 0 160 120
  vips copy "$work/small.v" "$work/small.ppm"
  vips extract_band "$work/small.v" "$work/small_grey.v" 0
  vips cast "$work/small_grey.v" "$work/small16.v" ushort --shift
  local small=(--tile --pyramid --tile-width 64 --tile-height 64)
  vips tiffsave "$work/small.v" "$seeds/jpeg.tif" "${small[@]}" --compression jpeg --Q 75
  vips tiffsave "$work/small.v" "$seeds/deflate.tif" "${small[@]}" --compression deflate --predictor horizontal
  vips tiffsave "$work/small16.v" "$seeds/grey16.tif" "${small[@]}" --compression lzw
  vips tiffsave "$work/small.v" "$seeds/subifd.tif" "${small[@]}" --compression webp --subifd
  vips tiffsave "$work/small.v" "$seeds/strip.tif" --compression packbits
  opj_compress -i "$work/small.ppm" -o "$seeds/plt.jp2" -n 3 -PLT -r 10 > /dev/null
  opj_compress -i "$work/small.ppm" -o "$seeds/tiled.j2k" -n 2 -t 64,64 -r 10 > /dev/null
  touch "$images/.made-v2"
}

[[ -f "$images/.made-v2" ]] || make_images

# libFuzzer adds what it finds to the first folder: a scratch one, so the
# committed seeds stay as they are.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
# What fails is kept in $build/fuzz-crashes, to rerun: `TARGET FILE`.
mkdir -p "$build/fuzz-crashes"
# A run is repeatable up to the files' dates (they change the answers to
# If-Modified-Since, and so the path of the search); -max_total_time bounds
# its length whatever path it takes.
common=(-seed=1 "-runs=$runs" -max_total_time=150 -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=1024
        -print_funcs=0 "-artifact_prefix=$build/fuzz-crashes/")

echo "fuzz: service_fuzz, $runs requests"
mkdir -p "$scratch/service"
TESSERA_FUZZ_IMAGES="$images" "$build/service_fuzz" "${common[@]}" -max_len=1024 \
  "$scratch/service" "$repo/fuzz/corpus/service"

echo "fuzz: image_fuzz, $runs files"
mkdir -p "$scratch/image"
"$build/image_fuzz" "${common[@]}" -max_len=65536 "$scratch/image" "$seeds" "$repo/fuzz/corpus/image"
