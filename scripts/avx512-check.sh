#!/bin/sh
# The AVX-512 / bf16 CPU kernels' check on a machine with AVX-512 F/BW/VL/DQ + AVX512_BF16
# (Zen 4/5, Sapphire Rapids and later), in one run of a few minutes with all cores:
#   the CPU flags, a CPU-only build, the kernel tests that run natively there
#   (test_winograd, test_direct, test_ops, test_backends: the avx512 rows against the naive
#   convolution and bit for bit against their v16-avx2 build; test_bf16: bf16 on every
#   reference case natively, >= 50 dB), then cartoon-bench at 1024 with the avx2, avx512 and
#   avx512-bf16 rows (CARTOON_ISA) in fp32 and avx512-bf16 in bf16, and bench/peers at 1024 when python3 has
#   numpy, onnx and onnxruntime (openvino optional).
# Usage: sh scripts/avx512-check.sh [SHARED_DIR]   (default $CARTOON_SHARED, else ./shared,
#   else ../shared). Output: $OUT/summary.txt (OUT defaults to ./avx512-check-out) and one log
#   per step beside it. Environment: BUILD (default build-avx512), JOBS (default: nproc).
set -u
OUT=${OUT:-$PWD/avx512-check-out}
mkdir -p "$OUT"
SHARED=${1:-${CARTOON_SHARED:-}}
if [ -z "$SHARED" ]; then
    if [ -d shared/reference ]; then SHARED=shared; else SHARED=../shared; fi
fi
case $SHARED in /*) ;; *) SHARED=$PWD/$SHARED ;; esac
BUILD=${BUILD:-build-avx512}
JOBS=${JOBS:-$(nproc)}
SUMMARY=$OUT/summary.txt
: > "$SUMMARY"
say() { echo "$*" | tee -a "$SUMMARY"; }

say "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
say "flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|avx512f|avx512bw|avx512vl|avx512dq|avx512_bf16|amx_bf16)$' | tr '\n' ' ')"
if ! make CUDA=0 BUILD="$BUILD" -j"$JOBS" all > "$OUT/build.log" 2>&1; then
    say "build: FAILED (see build.log)"; exit 1
fi
say "build: ok"
export CARTOON_SHARED="$SHARED" CARTOON_BUILD="$BUILD"
for t in test_backends test_winograd test_direct test_ops test_bf16; do
    make CUDA=0 BUILD="$BUILD" "$BUILD/tests/$t" >> "$OUT/build.log" 2>&1
    "$BUILD/tests/$t" > "$OUT/$t.log" 2>&1
    say "$t: $(grep -E '^TESTS' "$OUT/$t.log") $(grep -E '^(FAIL|skip)' "$OUT/$t.log" | tr '\n' ';')"
done
MODEL=$BUILD/test-model.safetensors
B=$BUILD/cartoon-bench
N=$(nproc)
for run in "avx2 fp32" "avx512 fp32" "avx512-bf16 fp32" "avx512-bf16 bf16"; do
    set -- $run
    CARTOON_ISA=$1 "$B" -m "$MODEL" --device cpu --no-io --size 1024 --reps 3 --threads "$N" --precision "$2" \
        > "$OUT/bench_$1_$2.log" 2>&1
    say "cartoon-bench 1024 $1 $2: $(grep -E 'CPU kernels|end to end, cartoon_forward' "$OUT/bench_$1_$2.log" | tr -s ' ' | tr '\n' ';')"
done
if python3 -c 'import numpy, onnx, onnxruntime' 2>/dev/null; then
    bench/peers --sizes 1024 --threads "$N" --reps 3 --no-torch --bench "$B" --model "$MODEL" --shared "$SHARED" \
        --tflite "$SHARED/models/whitebox_cartoon_gan_fp16.tflite" > "$OUT/peers.log" 2>&1
    sed -n '/^peers: .*threads for every engine/,$p' "$OUT/peers.log" >> "$SUMMARY"
else
    say "bench/peers: skipped (pip install numpy onnx onnxruntime openvino)"
fi
