#!/bin/sh
# Builds and runs libcartoon's libFuzzer targets (docs/robustness.md). Called by `make fuzz`.
#
#   FUZZ_SECONDS=N    seconds per target (default 30)
#   FUZZ_TARGETS="a b" targets to run (default: all, one after the other)
#   FUZZ_BUILD=dir    build directory (default build-fuzz)
#   FUZZ_SEEDS=1      regenerate the committed seed corpora in tests/fuzz/corpus first
#   FUZZ_BUILD_ONLY=1 build, do not run
#
# The library is compiled with clang -fsanitize=address,undefined,fuzzer-no-link (no CUDA:
# the .cu files are left out and lib/cuda/backend_cuda_none.c used), each target is linked with
# -fsanitize=fuzzer,address,undefined. Each target runs on a copy of its seeds in
# $FUZZ_BUILD/corpus/<target> (the committed seeds stay as they are), with -rss_limit_mb=2048
# and -timeout=10; anything it finds is saved in $FUZZ_BUILD/artifacts/<target>/.
# Prints executions and findings per target; exits 1 when any target found something.
set -u
cd "$(dirname "$0")/../.." || exit 2

SECONDS_PER=${FUZZ_SECONDS:-30}
B=${FUZZ_BUILD:-build-fuzz}
CC=${FUZZ_CC:-clang}
ALL="fuzz_model_load fuzz_tflite fuzz_png fuzz_jpeg fuzz_webp fuzz_cli_args"
TARGETS=${FUZZ_TARGETS:-$ALL}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=c11 -O1 -g -Wall -Wextra -Wno-unused-parameter -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64 -pthread -Iinclude -Itests/support"
for d in lib/*/ kernels/*/; do CFLAGS="$CFLAGS -I${d%/}"; done
LIBS="-lopenblas -lpng -ljpeg -lwebp -lwebpdemux -lexif -lxxhash -ljansson -lm -pthread"

if ! command -v "$CC" >/dev/null 2>&1; then echo "fuzz: $CC not found" >&2; exit 2; fi
mkdir -p "$B/obj/examples" "$B/corpus" "$B/artifacts" || exit 2

# ---- library objects (rebuilt when the source or any header is newer)
newest_h=$(ls -t include/*.h lib/*/*.h kernels/*/*.h | head -n 1)
objs=""
pids=""
fail=0
for src in lib/*/*.c kernels/cpu/*.c examples/cartoonize_args.c; do
    obj="$B/obj/${src%.c}.o"
    mkdir -p "$(dirname "$obj")"
    objs="$objs $obj"
    if [ -f "$obj" ] && [ "$obj" -nt "$src" ] && [ "$obj" -nt "$newest_h" ]; then continue; fi
    extra=""
    # -Wno-psabi as the Makefile: the generic-vector kernels pass vectors between static
    # functions only, so the ABI note about them does not apply
    case "$src" in
        *_generic.c) extra="-Wno-psabi" ;;
        *_v16_avx2.c) extra="-mavx2 -mfma -mf16c -Wno-psabi" ;;
        *_avx2.c) extra="-mavx2 -mfma -mf16c" ;;
        *_avx512.c) extra="-mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma -mf16c" ;;
        *_avx512bf16.c) extra="-mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512bf16 -mfma -mf16c" ;;
    esac
    echo "CC $src"
    # two at a time: the machine is shared
    $CC $CFLAGS $SAN -fsanitize=fuzzer-no-link $extra -c "$src" -o "$obj" &
    pids="$pids $!"
    if [ "$(echo $pids | wc -w)" -ge 2 ]; then
        for p in $pids; do wait "$p" || fail=1; done
        pids=""
    fi
done
for p in $pids; do wait "$p" || fail=1; done
[ "$fail" -eq 0 ] || { echo "fuzz: library build failed" >&2; exit 2; }

# ---- targets
for t in $ALL; do
    src="tests/fuzz/$t.c"
    if [ "$B/$t" -nt "$src" ] && [ "$B/$t" -nt "$newest_h" ] && [ "$B/$t" -nt tests/fuzz/fuzz_entries.h ] && [ "$B/$t" -nt tests/fuzz/fuzz_cli_entry.h ] &&
       [ -z "$(find $objs -newer "$B/$t" 2>/dev/null | head -n 1)" ]; then continue; fi
    echo "LD $t"
    $CC $CFLAGS $SAN -fsanitize=fuzzer "$src" $objs -o "$B/$t" $LIBS || exit 2
done

# ---- seeds
if [ "${FUZZ_SEEDS:-0}" = 1 ] || [ ! -d tests/fuzz/corpus/fuzz_png ]; then
    $CC $CFLAGS $SAN tests/fuzz/make_seeds.c $(echo $objs | tr ' ' '\n' | grep -v cartoonize_args) \
        -o "$B/make_seeds" $LIBS || exit 2
    "$B/make_seeds" tests/fuzz/corpus || exit 2
fi
[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

# ---- runs, one target at a time
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export OPENBLAS_NUM_THREADS=1
summary=""
status=0
for t in $TARGETS; do
    corpus="$B/corpus/$t"
    art="$B/artifacts/$t"
    mkdir -p "$corpus" "$art"
    [ -d "tests/fuzz/corpus/$t" ] && cp -n tests/fuzz/corpus/$t/* "$corpus/" 2>/dev/null
    dict=""
    [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
    before=$(ls "$art" | wc -l)
    log="$B/$t.log"
    echo "== $t: ${SECONDS_PER} s"
    "./$B/$t" "$corpus" $dict -max_total_time="$SECONDS_PER" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$art/" >"$log" 2>&1
    rc=$?
    execs=$(grep 'stat::number_of_executed_units' "$log" | tail -n 1 | awk '{print $2}')
    secs=$(grep 'stat::average_exec_per_sec' "$log" | tail -n 1 | awk '{print $2}')
    cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    found=$(( $(ls "$art" | wc -l) - before ))
    if [ "$rc" -ne 0 ]; then
        status=1
        [ "$found" -eq 0 ] && found=1
        echo "   FOUND: exit $rc; see $log and $art/"
        grep -E 'ERROR: |runtime error|SUMMARY' "$log" | head -n 5 | sed 's/^/   /'
    fi
    line=$(printf '%-16s executions %-10s exec/s %-7s cov %-6s findings %s' "$t" "${execs:-?}" "${secs:-?}" "${cov:-?}" "$found")
    echo "   $line"
    summary="$summary$line
"
done
echo "== fuzz summary (${SECONDS_PER} s per target)"
printf '%s' "$summary"
exit $status
