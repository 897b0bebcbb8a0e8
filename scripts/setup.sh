#!/usr/bin/env bash
# Installs the Debian packages listed in scripts/packages.txt that are not
# installed yet, then the viewer's npm packages (viewer/package-lock.json)
# when viewer/node_modules is missing or older than the lockfile. Quick and
# silent when everything is present, so every make target can call it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mapfile -t wanted < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/packages.txt" | tr -d ' ')

# What is installed, and what installed packages provide: a nodejs package
# from elsewhere that bundles npm provides "npm", and installing Debian's npm
# beside it would conflict.
declare -A present=()
while read -r pkg provides; do
  present[$pkg]=1
  for p in ${provides//,/ }; do
    [[ "$p" =~ ^[a-z0-9] ]] && present[$p]=1
  done
done < <(dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Provides}\n' 2>/dev/null |
         awk '$1 == "ii" { $1 = ""; print }' | sed -e 's/([^)]*)//g' -e 's/:[a-z0-9]*//')

missing=()
for pkg in "${wanted[@]}"; do
  [[ -n "${present[$pkg]:-}" ]] || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The viewer's front-end packages: OpenSeadragon (compiled into the binary)
# and playwright-core (the browser tests). npm ci leaves its own copy of the
# lockfile in node_modules; an older copy means the lockfile has changed.
viewer="$here/../viewer"
installed="$viewer/node_modules/.package-lock.json"
if [[ ! -f "$installed" || "$viewer/package-lock.json" -nt "$installed" ]]; then
  echo "setup: npm ci in viewer/"
  (cd "$viewer" && npm ci --no-audit --no-fund --loglevel=error)
fi
