#!/bin/sh
# The CUDA backend's check on a GPU machine, in one run of about 5-8 minutes:
#   nvidia-smi, a build for the GPU's architecture, tests/test_cuda (every op and path against
#   the CPU, the reference cases end to end), cartoon-bench at 1024 and 2048 (fp32 and fp16),
#   then compute-sanitizer over the synthetic-model cases if time allows.
# Usage: sh scripts/gpu-check.sh [SHARED_DIR]
#   SHARED_DIR  a copy of the shared data (models/, reference/) inside the tree, e.g. gpu-shared;
#               default $CARTOON_SHARED, else ./shared, else ../shared.
# Logs: $OUT/summary.txt and $OUT/gpu-check-logs.tar.gz (one file per step inside); OUT defaults to ./gpu-check-out.
# Environment: CUDA_ARCHS (default: the GPU's own, from nvidia-smi), JOBS (default 16),
#   BUILD (default build-gpu), SKIP_SANITIZER=1.
set -u
START=$(date +%s)
# The device tool returns at most 8 files from $OUT: every log is written to a work folder
# that is packed into $OUT/gpu-check-logs.tar.gz at exit, beside $OUT/summary.txt.
FINAL_OUT=${OUT:-$PWD/gpu-check-out}
mkdir -p "$FINAL_OUT"
OUT=$(mktemp -d)
trap 'cp "$OUT/summary.txt" "$FINAL_OUT/" 2>/dev/null; tar -C "$OUT" -czf "$FINAL_OUT/gpu-check-logs.tar.gz" . 2>/dev/null' EXIT
SHARED=${1:-${CARTOON_SHARED:-}}
if [ -z "$SHARED" ]; then
    if [ -d shared/reference ]; then SHARED=shared; else SHARED=../shared; fi
fi
case $SHARED in /*) ;; *) SHARED=$PWD/$SHARED ;; esac
BUILD=${BUILD:-build-gpu}
JOBS=${JOBS:-16}
SUMMARY=$OUT/summary.txt
: > "$SUMMARY"
say() { echo "$*" | tee -a "$SUMMARY"; }
elapsed() { echo $(( $(date +%s) - START )); }
export PATH="$PATH:/usr/local/cuda/bin"

say "gpu-check: $(date -u +%Y-%m-%dT%H:%M:%SZ), shared=$SHARED, build=$BUILD"

# Build dependencies brought along by scripts/gpu-pack-deps.sh (the GPU machine has no network).
if ls .gpudeps/*.deb > /dev/null 2>&1; then
    for f in .gpudeps/*.deb; do dpkg -x "$f" / 2>> "$OUT/deps.log" || say "could not unpack $f"; done
    ldconfig 2>/dev/null
    say "unpacked $(ls .gpudeps/*.deb | wc -l) packages from .gpudeps"
fi

# ---- 1. the machine
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || say "nvidia-smi failed (see nvidia-smi.txt)"
nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv >> "$OUT/nvidia-smi.txt" 2>&1
(nvcc --version; ls /usr/local/cuda/lib64 | grep -E 'cudnn|cublas' ) > "$OUT/toolchain.txt" 2>&1
if [ -z "${CUDA_ARCHS:-}" ]; then
    cc_=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .')
    CUDA_ARCHS=${cc_:-90}
fi
say "GPU: $(nvidia-smi --query-gpu=name,compute_cap --format=csv,noheader 2>/dev/null | head -n 1), CUDA_ARCHS=$CUDA_ARCHS"

# ---- 2. build (library, programs, the CUDA test); -k so that a program failing to link does
# not stop the rest. The C dependencies must already be installed (no network there).
for h in cblas.h png.h jpeglib.h webp/decode.h libexif/exif-data.h jansson.h cudnn.h cublas_v2.h; do
    if ! printf '#include <%s>\n' "$h" | cc -E -I/usr/local/cuda/include -x c - > /dev/null 2>&1; then
        say "missing header: $h (install its -dev package)"
    fi
done
t0=$(date +%s)
make -k -j"$JOBS" BUILD="$BUILD" CUDA_ARCHS="$CUDA_ARCHS" all "$BUILD/tests/test_cuda" > "$OUT/build.log" 2>&1
rc=$?
say "build: rc=$rc in $(( $(date +%s) - t0 )) s; warnings: $(grep -ci 'warning' "$OUT/build.log")"
if [ ! -x "$BUILD/tests/test_cuda" ] || [ ! -f "$BUILD/libcartoon.a" ]; then
    say "build failed: tail of build.log:"; tail -n 40 "$OUT/build.log" | tee -a "$SUMMARY"; exit 1
fi

# ---- 3. the CUDA test (converts the model into $BUILD/test-model.safetensors on first use)
export CARTOON_SHARED="$SHARED" CARTOON_BUILD="$BUILD"
if [ ! -f "$BUILD/cartoon-convert" ]; then say "note: $BUILD/cartoon-convert missing: model cases will skip"; fi
t0=$(date +%s)
timeout 240 "$BUILD/tests/test_cuda" > "$OUT/test_cuda.log" 2>&1
rc=$?
say "test_cuda: rc=$rc in $(( $(date +%s) - t0 )) s: $(grep '^TESTS' "$OUT/test_cuda.log" | tail -n 1)"
grep -E '^(ok|FAIL|skip)' "$OUT/test_cuda.log" | tee -a "$SUMMARY"
grep -E 'CHECK' "$OUT/test_cuda.log" | head -n 20 | tee -a "$SUMMARY"

# ---- 4. benchmark: 1024 and 2048, fp32 (cuBLAS) and fp16 (tensor cores), plus cuDNN fp32
MODEL="$BUILD/test-model.safetensors"
if [ ! -f "$MODEL" ] && [ -f "$BUILD/cartoon-convert" ]; then
    "$BUILD/cartoon-convert" "$SHARED/models/whitebox_cartoon_gan_fp16.tflite" "$MODEL" > "$OUT/convert.log" 2>&1
fi
if [ -f "$MODEL" ]; then
    if [ -x "$BUILD/cartoon-bench" ]; then
        for prec in fp32 fp16; do
            t0=$(date +%s)
            timeout 150 "$BUILD/cartoon-bench" -m "$MODEL" --size 1024 2048 --device cuda --precision "$prec" \
                --reps 5 --warmup 2 --no-io --json > "$OUT/bench_$prec.json" 2> "$OUT/bench_$prec.log"
            say "bench $prec: rc=$? in $(( $(date +%s) - t0 )) s (bench_$prec.json, bench_$prec.log)"
        done
        t0=$(date +%s)
        CARTOON_CUDA_CONV=cudnn timeout 90 "$BUILD/cartoon-bench" -m "$MODEL" --size 1024 2048 --device cuda \
            --precision fp32 --reps 3 --warmup 1 --no-io --json > "$OUT/bench_fp32_cudnn.json" 2> "$OUT/bench_fp32_cudnn.log"
        say "bench fp32 cudnn: rc=$? in $(( $(date +%s) - t0 )) s"
    fi
    # Our own end-to-end timer too (cartoon_forward wall time, no observer), so there is a
    # number even when cartoon-bench is missing or fails.
    cat > "$OUT/gpu_timer.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cartoon.h"
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
int main(int argc, char **argv)
{
    if (argc < 2) return 2;
    cartoon_model *m = NULL;
    char err[512];
    if (cartoon_model_load(argv[1], NULL, &m, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    const int sizes[] = {1024, 2048};
    const char *pn[] = {"fp32", "fp16"};
    const cartoon_precision pv[] = {CARTOON_PRECISION_FP32, CARTOON_PRECISION_FP16};
    for (int p = 0; p < 2; p++) {
        cartoon_context_options o;
        cartoon_context_options_default(&o);
        o.device = CARTOON_DEVICE_CUDA;
        o.precision = pv[p];
        cartoon_context *ctx = NULL;
        cartoon_status st = cartoon_context_create(m, &o, &ctx, err, sizeof err);
        if (st) { printf("{\"precision\":\"%s\",\"error\":\"%s\"}\n", pn[p], cartoon_status_name(st)); continue; }
        for (int s = 0; s < 2; s++) {
            int n = sizes[s];
            size_t cnt = (size_t)n * n * 3;
            float *x = malloc(cnt * 4), *y = malloc(cnt * 4);
            srand(1);
            for (size_t i = 0; i < cnt; i++) x[i] = rand() / (float)RAND_MAX * 2 - 1;
            double t[7];
            st = cartoon_forward(ctx, x, n, n, y); /* warm-up: plans, allocates, uploads weights */
            for (int r = 0; r < 7 && !st; r++) { double a = now(); st = cartoon_forward(ctx, x, n, n, y); t[r] = now() - a; }
            if (st) printf("{\"precision\":\"%s\",\"size\":%d,\"error\":\"%s\"}\n", pn[p], n, cartoon_context_last_error(ctx));
            else {
                qsort(t, 7, sizeof t[0], cmp);
                printf("{\"precision\":\"%s\",\"size\":%d,\"median_ms\":%.3f,\"min_ms\":%.3f,\"device_bytes\":%llu}\n", pn[p], n,
                       t[3] * 1e3, t[0] * 1e3, (unsigned long long)cartoon_context_arena_bytes(ctx));
            }
            fflush(stdout);
            free(x); free(y);
        }
        cartoon_context_free(ctx);
    }
    cartoon_model_free(m);
    return 0;
}
EOF
    libs=$(sed -n 's/^Libs.private: //p' "$BUILD/libcartoon.pc" 2>/dev/null)
    [ -n "$libs" ] || libs="-lopenblas -lpng -ljpeg -lwebp -lwebpdemux -lexif -ljansson -lm -pthread -L/usr/local/cuda/lib64 -Wl,-rpath,/usr/local/cuda/lib64 -lcudnn -lcublas -lcudart -lstdc++"
    if cc -O2 -Iinclude -o "$OUT/gpu_timer" "$OUT/gpu_timer.c" "$BUILD/libcartoon.a" $libs > "$OUT/gpu_timer_build.log" 2>&1; then
        timeout 120 "$OUT/gpu_timer" "$MODEL" > "$OUT/gpu_timer.json" 2>&1
        say "gpu_timer: rc=$?"; tee -a "$SUMMARY" < "$OUT/gpu_timer.json"
    else
        say "gpu_timer did not build (gpu_timer_build.log)"
    fi
else
    say "no model ($MODEL): benchmarks skipped"
fi

# ---- 5. compute-sanitizer over the synthetic cases (out-of-bounds, races), if time is left
if [ "${SKIP_SANITIZER:-0}" != 1 ] && command -v compute-sanitizer > /dev/null 2>&1 && [ "$(elapsed)" -lt 330 ]; then
    left=$(( 450 - $(elapsed) ))
    t0=$(date +%s)
    CARTOON_CUDA_TEST_SYNTH_ONLY=1 timeout "$left" compute-sanitizer --tool memcheck --error-exitcode 99 \
        "$BUILD/tests/test_cuda" > "$OUT/memcheck.log" 2>&1
    say "memcheck (synthetic cases): rc=$? in $(( $(date +%s) - t0 )) s: $(grep -E 'ERROR SUMMARY' "$OUT/memcheck.log" | tail -n 1)"
fi
say "total $(elapsed) s"
