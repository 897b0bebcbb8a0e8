#!/usr/bin/env bash
# Makes a demo pyramidal TIFF in the given folder (default images/) unless it
# already holds an image: an 8192x6144 relief map drawn from Perlin noise with
# a graticule, made with the vips CLI, turned into a tiled JPEG pyramid by
# `tessera convert` (the binary is the second argument, default build/tessera).
set -euo pipefail

dir="${1:-images}"
tessera="${2:-build/tessera}"
mkdir -p "$dir"
if find "$dir" -maxdepth 3 -type f \( -iname '*.tif' -o -iname '*.tiff' -o -iname '*.ptif' \
     -o -iname '*.jp2' \) | grep -q .; then
  exit 0
fi

width=8192
height=6144
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "demo: making $dir/demo.tif (${width}x${height}, a few seconds)"

# Height field: three octaves of Perlin noise, from continents to hills.
vips perlin "$work/a.v" $width $height --cell-size 1024 --seed 7
vips perlin "$work/b.v" $width $height --cell-size 256 --seed 11
vips perlin "$work/c.v" $width $height --cell-size 48 --seed 13
vips linear "$work/a.v" "$work/a2.v" 0.62 0
vips linear "$work/b.v" "$work/b2.v" 0.28 0
vips linear "$work/c.v" "$work/c2.v" 0.10 0
vips add "$work/a2.v" "$work/b2.v" "$work/ab.v"
vips add "$work/ab.v" "$work/c2.v" "$work/h.v"
vips linear "$work/h.v" "$work/height.v" 180 128 --uchar

# Colours by height: deep water, shallows, beach, lowland, hills, rock, snow.
cat > "$work/palette.mat" <<'PALETTE'
4 9
0 10 30 90
90 30 90 170
118 90 160 200
124 220 210 160
132 60 140 60
165 110 150 70
195 140 110 70
225 180 170 160
255 250 250 250
PALETTE
vips buildlut "$work/palette.mat" "$work/lut.v"
vips maplut "$work/height.v" "$work/colour.v" "$work/lut.v"
vips cast "$work/colour.v" "$work/map.v" uchar

# A graticule every 512 px (bold every 2048), so misplaced tiles show.
for ((x = 512; x < width; x += 512)); do
  w=2; ((x % 2048 == 0)) && w=6
  vips draw_rect "$work/map.v" "40 40 40" $((x - w / 2)) 0 $w $height --fill
done
for ((y = 512; y < height; y += 512)); do
  w=2; ((y % 2048 == 0)) && w=6
  vips draw_rect "$work/map.v" "40 40 40" 0 $((y - w / 2)) $width $w --fill
done

"$tessera" convert "$work/map.v" "$dir/demo.tif" --quality 85
