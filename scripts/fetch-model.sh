#!/bin/sh
# Downloads the published White-box cartoonizer model (the fp16 TFLite file the README names)
# and checks it before anything can use it:
#
#   scripts/fetch-model.sh [DEST]      DEST defaults to weights/whitebox_cartoon_gan_fp16.tflite
#
# curl downloads it to a temporary file beside DEST; its sha256 is compared with the
# published file's (below); only a match is renamed to DEST. Anything else is deleted, never
# used. Then convert it: build/cartoon-convert DEST weights/whitebox.safetensors (`make model`
# does both). A DEST already there is checked, not downloaded again.
#
# Where from: "Cartoonizer with TensorFlow Lite" (Margaret Maynard-Reid, Sayak Paul) published
# the fp16 model on TensorFlow Hub as sayakpaul/lite-model/cartoongan/fp16/1 (224x224 input,
# with metadata; tensorflow/tfhub.dev: assets/docs/sayakpaul/cartoongan/fp16/1.md). TF Hub
# addresses now redirect to Kaggle Models, where it is spsayakpaul/cartoongan/tfLite/fp16,
# version 1. The two addresses below were looked up in public documentation and code (the
# ?lite-format=tflite form is how tfjs-tflite and tf.keras.utils.get_file users load it;
# Kaggle's API serves a model version as a .tar.gz, unpacked here). They were NOT downloaded
# from the machine this script was written on, which has no internet access. The checksum is
# what makes them safe to try: whatever they return is kept only if it is that file exactly.
#
# Environment:
#   CARTOON_MODEL_URL  download from this address only (any address curl takes, file://
#                      included) instead of the published ones. The checksum cannot be changed.
#
# Exit status: 0 DEST is the verified file; 1 no address could be downloaded (offline?);
# 2 usage error, no sha256 tool, or DEST unusable; 3 what was downloaded is not the published
# file (deleted).
set -u

SHA256=7ebaaf2c3e83eb8332f19b333da507aa43752d2b418df9e67808a77d8432de02
SIZE=3057558
NAME=whitebox_cartoon_gan_fp16.tflite
TFHUB_URL='https://tfhub.dev/sayakpaul/lite-model/cartoongan/fp16/1?lite-format=tflite'
KAGGLE_URL='https://www.kaggle.com/api/v1/models/spsayakpaul/cartoongan/tfLite/fp16/1/download'
KAGGLE_PAGE='https://www.kaggle.com/models/spsayakpaul/cartoongan/tfLite/fp16/1'
NL='
'

usage() {
    echo "usage: scripts/fetch-model.sh [DEST]"
    echo "Downloads $NAME (sha256 $SHA256),"
    echo "verifies it and puts it at DEST (default: weights/$NAME in the source tree)."
}

case "${1:-}" in
-h | --help) usage; exit 0 ;;
-*) echo "fetch-model: unknown option $1" >&2; usage >&2; exit 2 ;;
esac
[ $# -le 1 ] || { usage >&2; exit 2; }
if [ $# -eq 1 ]; then
    DEST=$1
else
    DEST=$(cd "$(dirname "$0")/.." && pwd)/weights/$NAME
fi
[ -n "$DEST" ] || { usage >&2; exit 2; }
case "$DEST" in */) DEST=$DEST$NAME ;; esac
[ -d "$DEST" ] && DEST=$DEST/$NAME

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then sha256sum <"$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then shasum -a 256 <"$1" | cut -d' ' -f1
    else openssl dgst -sha256 -r <"$1" | cut -d' ' -f1
    fi
}
command -v sha256sum >/dev/null 2>&1 || command -v shasum >/dev/null 2>&1 ||
    command -v openssl >/dev/null 2>&1 || {
    echo "fetch-model: no sha256 tool (sha256sum, shasum or openssl): cannot verify a download, so none is made" >&2
    exit 2
}

advice() {
    cat >&2 <<EOF
To get the model without this script:
  1. download it by hand (a browser works) from
       $TFHUB_URL
     or from Kaggle Models: $KAGGLE_PAGE
     (a .tar.gz there: the .tflite inside is the file)
  2. check it: sha256sum FILE must print $SHA256 ($SIZE bytes)
  3. put it at $DEST and run this script again (it checks the file there),
     or use it directly: make model MODEL_TFLITE=/path/to/$NAME
EOF
}

if [ -e "$DEST" ]; then
    got=$(sha256_of "$DEST")
    if [ "$got" = "$SHA256" ]; then
        echo "fetch-model: $DEST is already there and verified (sha256 $SHA256)"
        exit 0
    fi
    echo "fetch-model: $DEST exists but is not the published file (sha256 $got," >&2
    echo "  expected $SHA256); not touching it: remove it or name another DEST" >&2
    exit 2
fi

dir=$(dirname "$DEST")
mkdir -p "$dir" || { echo "fetch-model: cannot create $dir" >&2; exit 2; }
tmp=$(mktemp "$dir/.$(basename "$DEST").part.XXXXXX") || {
    echo "fetch-model: cannot create a temporary file in $dir" >&2
    exit 2
}
trap 'rm -f "$tmp" "$tmp.x"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

if ! command -v curl >/dev/null 2>&1; then
    echo "fetch-model: curl is not installed (apt-get install curl)" >&2
    advice
    exit 1
fi

urls="$TFHUB_URL$NL$KAGGLE_URL"
[ -n "${CARTOON_MODEL_URL:-}" ] && urls=$CARTOON_MODEL_URL
mismatch=0
set -f # the addresses contain '?': no pathname expansion
IFS=$NL
for url in $urls; do
    echo "fetch-model: downloading $url"
    rc=0
    curl -fL -sS --connect-timeout 30 --max-time 900 --retry 2 -o "$tmp" "$url" || rc=$?
    if [ "$rc" -ne 0 ]; then
        case $rc in
        5 | 6 | 7 | 28 | 35 | 52 | 55 | 56) why="cannot reach it: this machine looks offline (or a proxy or firewall is in the way)" ;;
        22) why="the server answered with an error: the file may have moved" ;;
        37) why="cannot read that file" ;;
        *) why="the download failed" ;;
        esac
        echo "fetch-model: $url: $why (curl exit status $rc)" >&2
        continue
    fi
    # Kaggle serves a model version as a gzipped tar: take the .tflite inside
    if [ "$(od -An -tx1 -N2 "$tmp" | tr -d ' \n')" = 1f8b ]; then
        member=$(tar -tzf "$tmp" 2>/dev/null | grep '\.tflite$' | head -n 1)
        if [ -n "$member" ] && tar -xzOf "$tmp" "$member" >"$tmp.x" 2>/dev/null; then
            mv -f "$tmp.x" "$tmp"
        else
            echo "fetch-model: $url: a .tar.gz without a readable .tflite in it" >&2
        fi
    fi
    got=$(sha256_of "$tmp")
    if [ "$got" = "$SHA256" ]; then
        if ! { chmod 644 "$tmp" && mv -f "$tmp" "$DEST"; }; then
            echo "fetch-model: cannot rename the download to $DEST" >&2
            exit 2
        fi
        echo "fetch-model: $DEST: verified (sha256 $SHA256, $SIZE bytes)"
        exit 0
    fi
    size=$(wc -c <"$tmp" | tr -d ' ')
    rm -f "$tmp"
    echo "fetch-model: CHECKSUM MISMATCH: what $url returned is not the published model." >&2
    echo "  expected sha256 $SHA256 ($SIZE bytes)" >&2
    echo "  got      sha256 $got ($size bytes)" >&2
    mismatch=1
done
unset IFS

if [ "$mismatch" = 1 ]; then
    cat >&2 <<EOF
fetch-model: refused, and the download deleted. The published file may have changed (or
something between this machine and the server altered it): do not use it. Please report it
to the libcartoon maintainers with the address and both checksums above.
EOF
    exit 3
fi
echo "fetch-model: could not download the model from any address." >&2
advice
exit 1
