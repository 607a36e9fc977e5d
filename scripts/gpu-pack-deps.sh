#!/bin/sh
# Downloads (does not install) the Debian 12 packages that the GPU check's build links, into
# .gpudeps/debs/ (git-ignored), for a GPU machine that has CUDA but no network and none of
# these libraries. Carry that folder there (the device tool's carry: [".gpudeps/debs"]);
# scripts/gpu-check.sh unpacks the packages into a private root, .gpudeps/root (never into /),
# and points the build at it with -isystem/-L/-rpath.
#
# What is packed: what libcartoon.a, cartoon-convert, cartoon-bench and tests/test_cuda link
# (the Makefile's CORE_LIBS and IO_LIBS): OpenBLAS (pthread) + libgfortran5/libquadmath0,
# jansson, libpng (+ zlib headers), libjpeg62-turbo, libwebp (+demux, mux), libexif, xxhash.
# Not packed: FFmpeg (cartoonize's video mode: its dependency closure is about 130 MiB of
# packages, far over the 64 MiB carry limit) and libmicrohttpd (cartoon-serve); gpu-check.sh
# therefore builds only the targets the GPU check needs, not `make all`.
set -e
cd "$(dirname "$0")/.."
PKGS="libopenblas-dev libopenblas-pthread-dev libopenblas0 libopenblas0-pthread libgfortran5 libquadmath0
      libjansson-dev libjansson4
      libpng-dev libpng16-16 zlib1g-dev
      libjpeg62-turbo-dev libjpeg62-turbo
      libwebp-dev libwebp7 libwebpdemux2 libwebpmux3
      libexif-dev libexif12
      libxxhash-dev libxxhash0"
# .gpudeps/root and .gpudeps/cudnn are what gpu-check.sh makes (112 MiB unpacked): not carried.
rm -rf .gpudeps/debs .gpudeps/root .gpudeps/cudnn
mkdir -p .gpudeps/debs
# A few stale .deb files from the old layout (.gpudeps/*.deb) would otherwise travel too.
rm -f .gpudeps/*.deb
cd .gpudeps/debs
# shellcheck disable=SC2086
apt-get download $PKGS
# shellcheck disable=SC2012
n=$(ls ./*.deb | wc -l)
echo "gpu-pack-deps: $n packages in .gpudeps/debs ($(du -sh . | cut -f1)); carry \".gpudeps/debs\""
