#!/bin/bash
# Installs every Debian package and npm module Consilium needs to build,
# run and test. Idempotent: skips apt when everything is already present.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  build-essential meson ninja-build pkg-config clang lld
  libglib2.0-dev libnice-dev libsrtp2-dev libwebsockets-dev libwebsockets-evlib-glib
  libssl-dev libjansson-dev libargon2-dev libpq-dev libcurl4-openssl-dev liburing-dev
  postgresql coturn orthanc orthanc-dicomweb janus
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-nice libgstreamer1.0-dev
  libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  libopus-dev libvpx-dev
  chromium firefox-esr fonts-wqy-microhei
  openssl ca-certificates curl xxd procps iproute2 util-linux
)

# Node.js: the image may ship a newer one than Debian's; only add Debian's if none.
command -v node >/dev/null 2>&1 || PKGS+=(nodejs npm)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# PostgreSQL's initdb refuses root: tests run database servers as this user.
if [ "$(id -u)" = 0 ] && ! id consilium >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin consilium
fi

# Browser drivers for the e2e suite (no browser download: Debian's are used).
if [ -f tests/e2e/package.json ]; then
  if [ ! -d tests/e2e/node_modules ] || [ tests/e2e/package.json -nt tests/e2e/node_modules ]; then
    (cd tests/e2e && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error && touch node_modules)
  fi
fi
