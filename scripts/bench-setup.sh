#!/usr/bin/env bash
# Installs what `make bench` needs beyond the build: the load generator, the
# peer server and its FastCGI front, and the photograph the test images are
# made from. Quiet and quick when everything is present. `make test` never
# calls this.
set -euo pipefail

wanted=(
  wrk              # HTTP load generator with Lua scripting
  nginx-light      # FastCGI front for iipsrv, and the static-file ceiling
  spawn-fcgi       # runs iipsrv as deployed: one FastCGI process per core
  iipimage-server  # the peer: /usr/lib/iipimage-server/iipsrv.fcgi
  libvips-tools    # makes the pyramids
  libopenjp2-tools # opj_compress for the JPEG 2000 files
  mate-backgrounds # a 5640x3172 photograph of a painting (Elephants), the pixels
  python3          # the harness
  libbenchmark-dev # the micro-benchmarks
)

missing=()
for pkg in "${wanted[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "bench-setup: installing ${missing[*]}"
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# nginx-light's post-install starts the system nginx on port 80; the benchmark
# runs its own instance, so stop the system one if it came up (it would only
# take memory and a port).
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
if [[ " ${missing[*]} " == *" nginx-light "* ]]; then
  $sudo systemctl disable --now nginx >/dev/null 2>&1 || $sudo service nginx stop >/dev/null 2>&1 || true
fi
