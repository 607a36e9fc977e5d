#!/bin/sh
# Installs the Debian packages libcartoon builds against, when they are missing.
# As root it runs apt-get; otherwise it prints the command to run.
# Optional: FUZZ=1 adds clang and its sanitizer runtime for `make fuzz`.
set -e
pkgs="make gcc libopenblas-dev libpng-dev libjpeg62-turbo-dev libwebp-dev libexif-dev libjansson-dev"
[ "${FUZZ:-0}" = 1 ] && pkgs="$pkgs clang libclang-rt-dev"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "install-deps: all build dependencies are present"
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    echo "install-deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq $missing >/dev/null
    echo "install-deps: done"
else
    echo "install-deps: missing packages:$missing"
    echo "install them with:  sudo apt-get install$missing"
    exit 1
fi
