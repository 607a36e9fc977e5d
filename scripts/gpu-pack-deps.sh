#!/bin/sh
# Downloads (does not install) the Debian packages libcartoon builds against into .gpudeps/,
# for a GPU machine that has CUDA but no network and none of these libraries. Carry .gpudeps
# there; scripts/gpu-check.sh unpacks them (dpkg -x into /) before building.
set -e
cd "$(dirname "$0")/.."
mkdir -p .gpudeps
cd .gpudeps
apt-get download libopenblas-dev libopenblas-pthread-dev libopenblas0 libopenblas0-pthread libgfortran5 \
    libpng-dev libpng16-16 zlib1g-dev libjpeg62-turbo-dev libjpeg62-turbo libwebp-dev libwebp7 \
    libwebpdemux2 libwebpmux3 libexif-dev libexif12 libjansson-dev libjansson4
ls -la
