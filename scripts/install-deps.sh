#!/bin/sh
# Installs the Debian packages libcartoon builds against, when they are missing.
# As root it runs apt-get; otherwise it prints the command to run.
# Optional: FUZZ=1 adds clang and its sanitizer runtime for `make fuzz`.
# Optional: WEB=1 adds headless Chromium, its driver and python3-selenium for `make test-web`.
# Optional: DEMO=1 adds python3-skimage, whose sample photo `make demo` uses without ../shared.
# Optional: DISTILL=1 adds PyTorch, NumPy and Pillow for tests/test_distill.py (the student's
#   training code; weights/distill/README.md lists what training itself needs).
set -e
pkgs="make gcc libopenblas-dev libpng-dev libjpeg62-turbo-dev libwebp-dev libexif-dev libjansson-dev"
# cartoon-serve: libmicrohttpd (HTTP), xxhash (its cache keys), xxd (embeds its page);
# python3 runs its HTTP tests.
pkgs="$pkgs libmicrohttpd-dev libxxhash-dev xxd python3"
# cartoonize: xxhash (result cache keys, in libcartoon-io); FFmpeg's libraries for video
# (cartoonize only); the ffmpeg program makes and checks the video tests' clips.
pkgs="$pkgs libxxhash-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev ffmpeg"
[ "${FUZZ:-0}" = 1 ] && pkgs="$pkgs clang libclang-rt-dev"
[ "${WEB:-0}" = 1 ] && pkgs="$pkgs chromium chromium-driver python3-selenium"
# DEMO=1 (make demo without ../shared): the public-domain astronaut photo of scikit-image's data.
[ "${DEMO:-0}" = 1 ] && pkgs="$pkgs python3-skimage"
[ "${DISTILL:-0}" = 1 ] && pkgs="$pkgs python3-torch python3-numpy python3-pil"
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
