#!/bin/sh
# The installed library as a user sees it. Run by tests/run_tests.sh like the C test programs
# (prints "ok NAME" / "FAIL NAME" lines and ends with "TESTS <passed> <failed> <skipped>").
#   - `make install PREFIX=<tmp>` from the already built $CARTOON_BUILD: it compiles nothing
#     but the objects that embed PREFIX, and a second install builds nothing at all
#   - the pkg-config files name the right prefix, Libs, Requires and private libraries
#   - tests/exports_client.c, compiled and linked only through
#     `pkg-config --cflags --libs libcartoon libcartoon-io` (shared libraries, rpath to the
#     prefix), calls every CARTOON_API function and passes
#   - libcartoon.so exports exactly the functions declared CARTOON_API in cartoon.h, and
#     libcartoon-io.so exactly those of cartoon_io.h and cartoon_batch.h; neither has undefined symbols
#   - the static libraries define no global symbol outside cartoon_, unet_ and ct_
# Environment: CARTOON_BUILD (build directory, default build), CUDA, CC, EXTRA_CFLAGS and
# EXTRA_LDFLAGS (passed on as make and the C test programs get them).
set -u
BUILD=${CARTOON_BUILD:-build}
CC=${CC:-cc}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2

pass=0; fail=0; skip=0
ok()   { pass=$((pass + 1)); echo "ok   $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL $1"; shift; for l in "$@"; do echo "  $l"; done; }
skip() { skip=$((skip + 1)); echo "skip $1: $2"; }
finish() {
    # the build directory back to the caller's PREFIX (its .pc files, and the objects that
    # embed PREFIX when the install recompiled them for ours)
    mk -s all >/dev/null 2>&1
    rm -rf "$TMP"
    echo "TESTS $pass $fail $skip"
    [ "$fail" -eq 0 ]
    exit $?
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/cartoon-exports-XXXXXX") || { echo "TESTS 0 1 0"; exit 1; }
trap 'rm -rf "$TMP"' INT TERM
PREFIX=$TMP/prefix
LIB=$PREFIX/lib
# make on the caller's build directory, with the caller's CUDA choice (make CUDA=0 test
# exports it) so that install sees the same build.
mk() {
    if [ -n "${CUDA+x}" ]; then make BUILD="$BUILD" CUDA="$CUDA" "$@"; else make BUILD="$BUILD" "$@"; fi
}

# ---------------------------------------------------------------- install
# `make test` has built `all` already; bring it up to date anyway when run by hand. Installing
# must then only copy files, except for what embeds PREFIX: the objects below (the installed
# model's directory is compiled into model_find.c), recompiled when PREFIX changes, and the
# libraries and programs relinked with them. Nothing else may be compiled (no CUDA kernels).
PREFIX_SRC="lib/core/model_find.c"
if ! mk -s all >"$TMP/all.log" 2>&1; then
    bad make_all "make all failed:" "$(tail -n 20 "$TMP/all.log")"
    finish
fi
compiles() { # the sources a make dry run would compile, one per line
    grep -E '(^|[[:space:]])-c[[:space:]]' "$1" | grep -oE '[^[:space:]]+\.(c|cu|cc|cpp)([[:space:]]|$)' | tr -d ' ' | sort -u
}
mk -n PREFIX="$PREFIX" install >"$TMP/dry.log" 2>&1
other=$(compiles "$TMP/dry.log" | grep -vxF "$(printf '%s\n' $PREFIX_SRC)")
if [ -z "$other" ]; then ok install_compiles_only_prefix_objects
else bad install_compiles_only_prefix_objects "make install PREFIX=... would compile:" "$other"; fi

if mk PREFIX="$PREFIX" install >"$TMP/install.log" 2>&1; then
    ok make_install
else
    bad make_install "make PREFIX=$PREFIX install failed:" "$(tail -n 20 "$TMP/install.log")"
    finish
fi
# the same install again: nothing at all to build (run for real: a dry run takes the
# always-run stamp rules as changes)
mk PREFIX="$PREFIX" install >"$TMP/install2.log" 2>&1
again=$(grep -E '(^|[[:space:]])(-c|-shared|ar[[:space:]]+rcs|-o)[[:space:]]' "$TMP/install2.log")
if [ -z "$again" ]; then ok install_again_rebuilds_nothing
else bad install_again_rebuilds_nothing "$again"; fi
missing=""
for f in include/cartoon.h include/cartoon_io.h include/cartoon_batch.h lib/libcartoon.a lib/libcartoon-io.a \
         lib/libcartoon.so lib/libcartoon.so.0 lib/libcartoon-io.so lib/libcartoon-io.so.0 \
         lib/pkgconfig/libcartoon.pc lib/pkgconfig/libcartoon-io.pc bin/cartoonize bin/cartoon-convert; do
    [ -e "$PREFIX/$f" ] || missing="$missing $f"
done
# the committed student model (the fallback the programs find there) and its licence notice
if [ -f weights/student/cartoon-student.safetensors ]; then
    for f in share/libcartoon/cartoon-student.safetensors share/libcartoon/cartoon-student-NOTICE.md; do
        [ -e "$PREFIX/$f" ] || missing="$missing $f"
    done
    cmp -s weights/student/cartoon-student.safetensors "$PREFIX/share/libcartoon/cartoon-student.safetensors" ||
        missing="$missing share/libcartoon/cartoon-student.safetensors(differs)"
fi
extra=$(find "$PREFIX" -name 'libcartoon-convert*' -o -name '*.o' | sed "s|$PREFIX/||")
if [ -z "$missing" ] && [ -z "$extra" ]; then ok installed_files
else bad installed_files "missing:${missing:- none}" "not to be installed: ${extra:-none}"; fi

# ---------------------------------------------------------------- pkg-config
PC="env PKG_CONFIG_PATH=$LIB/pkgconfig PKG_CONFIG_LIBDIR=$LIB/pkgconfig pkg-config"
if ! command -v pkg-config >/dev/null 2>&1; then
    skip pkg_config "pkg-config is not installed"
    skip exports_client "pkg-config is not installed"
else
    errs=""
    # shellcheck disable=SC2086,SC2116 # word splitting drops pkg-config's trailing blanks
    want() { [ "$(echo $2)" = "$3" ] || errs="$errs
$1: got '$2', want '$3'"; }
    has() { case " $2 " in *" $3 "*) ;; *) errs="$errs
$1: '$2' lacks '$3'";; esac; }
    want "version" "$($PC --modversion libcartoon 2>&1)" "$(sed -n 's/^#define CARTOON_VERSION_STRING "\(.*\)"/\1/p' include/cartoon.h)"
    want "prefix" "$($PC --variable=prefix libcartoon 2>&1)" "$PREFIX"
    want "cflags" "$($PC --cflags libcartoon 2>&1)" "-I$PREFIX/include"
    want "libs libcartoon" "$($PC --libs libcartoon 2>&1)" "-L$LIB -lcartoon"
    want "libs libcartoon-io" "$($PC --libs libcartoon-io 2>&1)" "-L$LIB -lcartoon-io -lcartoon"
    want "requires libcartoon-io" "$($PC --print-requires libcartoon-io 2>&1)" "libcartoon"
    want "requires libcartoon" "$($PC --print-requires libcartoon 2>&1)" ""
    # static linking needs the system libraries each library uses
    sl=$($PC --static --libs libcartoon 2>&1)
    for l in -lcartoon -lopenblas -ljansson -lm; do has "static libs libcartoon" "$sl" "$l"; done
    sl=$($PC --static --libs libcartoon-io 2>&1)
    for l in -lcartoon-io -lcartoon -lpng -ljpeg -lwebp -lwebpdemux -lexif -lopenblas; do
        has "static libs libcartoon-io" "$sl" "$l"; done
    # shellcheck disable=SC2016 # the .pc files' own ${libdir}
    grep -q '^Libs: -L${libdir} -lcartoon$' "$LIB/pkgconfig/libcartoon.pc" || errs="$errs
libcartoon.pc: no 'Libs: -L\${libdir} -lcartoon' line"
    # shellcheck disable=SC2016
    grep -q '^Libs: -L${libdir} -lcartoon-io$' "$LIB/pkgconfig/libcartoon-io.pc" || errs="$errs
libcartoon-io.pc: no 'Libs: -L\${libdir} -lcartoon-io' line"
    grep -q '^Requires: libcartoon$' "$LIB/pkgconfig/libcartoon-io.pc" || errs="$errs
libcartoon-io.pc: no 'Requires: libcartoon' line"
    if [ -z "$errs" ]; then ok pkg_config_files
    else bad pkg_config_files "$errs"; fi

    # ------------------------------------------------------------ the client program
    flags=$($PC --cflags --libs libcartoon libcartoon-io)
    # shellcheck disable=SC2086 # flags are words
    if $CC -std=c11 -Wall -Wextra -Werror ${EXTRA_CFLAGS:-} -o "$TMP/client" tests/exports_client.c \
           $flags -Wl,-rpath,"$LIB" ${EXTRA_LDFLAGS:-} >"$TMP/cc.log" 2>&1; then
        ok exports_client_builds
        # it must run on the installed libraries, not on the build directory's
        wrong=$(ldd "$TMP/client" | grep 'libcartoon' | grep -v "=> $LIB/")
        if [ -z "$wrong" ]; then ok exports_client_uses_prefix
        else bad exports_client_uses_prefix "$wrong"; fi
        mkdir -p "$TMP/work"
        "$TMP/client" "$TMP/work" >"$TMP/client.log" 2>&1; rc=$?
        grep -v '^TESTS ' "$TMP/client.log" | sed 's/^/  client: /'
        line=$(grep '^TESTS ' "$TMP/client.log" | tail -n 1)
        if [ -n "$line" ] && [ "$rc" -eq 0 ]; then ok "exports_client_runs ($(echo "$line" | cut -d' ' -f2) cases)"
        else bad exports_client_runs "exit status $rc, summary '${line:-none}'"; fi
    else
        bad exports_client_builds "$(cat "$TMP/cc.log")"
    fi
fi

# ---------------------------------------------------------------- exported symbols
# Function names declared CARTOON_API in an installed header (the identifier before the first
# '(' of each declaration line starting with CARTOON_API).
declared() {
    sed -n 's/^CARTOON_API[^(]*[^A-Za-z0-9_]\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*(.*/\1/p' "$1" | sort -u
}
# (sanitizer builds, make check-asan, may add their runtime's bookkeeping symbols: not ours)
exported() {
    nm -D --defined-only "$1" | awk 'NF == 3 && $3 !~ /^__(odr_asan|asan|ubsan|tsan|lsan)/ { print $3 }' | sort -u
}
# (libcartoon-io exports the functions of two headers: the image files and the batch runner)
for pair in cartoon.h:libcartoon.so cartoon_io.h+cartoon_batch.h:libcartoon-io.so; do
    h=${pair%%:*}; so=${pair#*:}
    hs=$(printf '%s' "$h" | tr '+' ' ')
    for one in $hs; do declared "$PREFIX/include/$one"; done | sort -u >"$TMP/decl"
    lines=$(for one in $hs; do grep '^CARTOON_API' "$PREFIX/include/$one"; done | wc -l)
    if [ "$lines" -ne "$(wc -l <"$TMP/decl")" ] || [ "$lines" -eq 0 ]; then
        bad "declared_$h" "$lines CARTOON_API lines but $(wc -l <"$TMP/decl") names parsed (one declaration per line, name before '(')"
    fi
    exported "$LIB/$so" >"$TMP/exp"
    only_decl=$(comm -23 "$TMP/decl" "$TMP/exp" | tr '\n' ' ')
    only_exp=$(comm -13 "$TMP/decl" "$TMP/exp" | tr '\n' ' ')
    if [ -z "$only_decl$only_exp" ]; then ok "exports_$so ($(wc -l <"$TMP/decl") functions)"
    else bad "exports_$so" "declared in $h but not exported: ${only_decl:-none}" "exported but not declared CARTOON_API in $h: ${only_exp:-none}"; fi
    # every public function is exercised by the client
    uncalled=""
    while read -r f; do
        grep -Eq "(^|[^A-Za-z0-9_])${f}[[:space:]]*\(" tests/exports_client.c || uncalled="$uncalled $f"
    done <"$TMP/decl"
    if [ -z "$uncalled" ]; then ok "client_calls_all_of_$h"
    else bad "client_calls_all_of_$h" "tests/exports_client.c never calls:$uncalled"; fi
    # no undefined symbols, every needed library found
    undef=$(ldd -r "$LIB/$so" 2>&1 | grep -E 'undefined symbol|not found')
    if [ -z "$undef" ]; then ok "resolves_$so"
    else bad "resolves_$so" "$undef"; fi
done

# ---------------------------------------------------------------- static libraries
# Strong global definitions must carry a project prefix; weak C++ ones (_Z..., from inline
# functions and templates of C++/CUDA headers, merged by the linker) are not ours to name.
# The CUDA objects are C++: a ct_ function there is mangled (_Z<length>ct_...), and nvcc
# gives anonymous-namespace functions (and their kernel stubs) external names that carry a
# per-file hash (_GLOBAL__N__<hash>_<file>), which cannot meet another object's names.
offenders=$(for a in "$LIB/libcartoon.a" "$LIB/libcartoon-io.a" "$BUILD/libcartoon-convert.a"; do
    nm -g --defined-only "$a" 2>/dev/null | awk -v lib="${a##*/}" 'NF == 3 {
        if ($2 ~ /^[WVu]$/ && $3 ~ /^_Z/) next
        if ($3 ~ /^_Z[0-9]+ct_/ || $3 ~ /_GLOBAL__N__[0-9a-f]+_/ || $3 == "DW.ref.__gxx_personality_v0") next
        if ($3 ~ /^__odr_asan[._]/) next # AddressSanitizer instrumentation of our own globals
        if ($3 !~ /^(cartoon_|unet_|ct_)/) print lib ": " $3 " (" $2 ")" }'
done | sort -u)
if [ -z "$offenders" ]; then ok static_symbols_prefixed
else bad static_symbols_prefixed "global symbols without a cartoon_/unet_/ct_ prefix:" "$offenders"; fi

finish
