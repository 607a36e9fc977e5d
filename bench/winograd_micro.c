/* Micro-benchmark: Winograd 3x3 (F4, F6; generic and AVX2) against im2col + OpenBLAS sgemm
 * on the model's shapes. GFLOP/s are "effective": direct-conv FLOPs 2*H*W*cin*cout*9 over
 * the time, so the rows compare directly.
 * Build: cc -O2 ... bench/winograd_micro.c lib/conv_winograd.c lib/conv_winograd_avx2.c
 *        (with -mavx2 -mfma -mf16c for that one) lib/cpu_features.c lib/threadpool.c
 *        lib/conv_naive.c lib/errors.c -lopenblas -lm
 * Usage: winograd_micro [threads (2)] [repeats (5)] [shape index: only that one, AVX2 only] */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "conv.h"
#include "conv_winograd.h"
#include "cpu_kernels.h"
#include "threadpool.h"

/* CPU time of the whole process: on a shared 2-core VM the wall clock mostly measures the
 * neighbours, while CPU time / threads is what the kernel would take with the cores to
 * itself (it does not see cache contention or an idle pool, so read both). */
static int use_cpu_time;
static double now(void)
{
    struct timespec ts;
    clock_gettime(use_cpu_time ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float frand(void) { return (float)rand() / RAND_MAX * 2.f - 1.f; }

static void im2col3(const float *in, int h, int w, int c, float *col)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float *d = col + ((size_t)y * w + x) * 9 * c;
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++, d += c) {
                    int iy = y + ky - 1, ix = x + kx - 1;
                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) memset(d, 0, c * sizeof *d);
                    else memcpy(d, in + ((size_t)iy * w + ix) * c, c * sizeof *d);
                }
        }
}

int main(int argc, char **argv)
{
    int nth = argc > 1 ? atoi(argv[1]) : 2, reps = argc > 2 ? atoi(argv[2]) : 5;
    static const int shapes[][4] = {{256, 256, 128, 128}, {512, 512, 64, 64}, {512, 512, 32, 64},
                                    {256, 256, 64, 128}, {256, 256, 128, 64}, {512, 512, 64, 32},
                                    {1024, 1024, 32, 32}};
    ct_pool *pool;
    ct_pool_create(nth, &pool);
    openblas_set_num_threads(nth);
    printf("threads %d, native isa %s\n", nth, ct_isa_name(ct_cpu_isa_native()));
    printf("%-22s %10s %10s %10s %10s %10s %10s\n", "shape", "F4 avx2", "F6 avx2", "F4 gen",
           "F6 gen", "im2col+sg", "sgemm only");
    int only = argc > 3 ? atoi(argv[3]) : -1; /* one shape, Winograd AVX2 only: for profiling */
    use_cpu_time = getenv("BENCH_CPU_TIME") != NULL; /* GFLOP/s from CPU time / threads */
    double tdiv = use_cpu_time ? nth : 1;
    printf("timing: %s\n", use_cpu_time ? "process CPU time / threads" : "wall clock");
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        if (only >= 0 && (int)si != only) continue;
        int h = shapes[si][0], w = shapes[si][1], cin = shapes[si][2], cout = shapes[si][3];
        size_t nin = (size_t)h * w * cin, nout = (size_t)h * w * cout;
        double flop = 2.0 * h * w * cin * cout * 9;
        float *in = malloc(nin * 4), *out = malloc(nout * 4), *wt = malloc((size_t)cout * 9 * cin * 4);
        float *bias = malloc(cout * 4);
        for (size_t i = 0; i < nin; i++) in[i] = frand();
        for (size_t i = 0; i < (size_t)cout * 9 * cin; i++) wt[i] = frand() * 0.05f;
        for (int i = 0; i < cout; i++) bias[i] = frand();
        ct_epilogue ep = {.bias = bias, .act = ACT_LEAKY_RELU, .alpha = 0.2f};
        ct_conv_shape s;
        ct_conv_shape_init(&s, h, w, cin, cout, 3, 1);
        double gf[6];
        for (int v = 0; v < 4; v++) {
            int m = v % 2 ? 6 : 4, isa = v < 2 ? CT_ISA_AVX2 : CT_ISA_GENERIC;
            if (isa > ct_cpu_isa_native() || (only >= 0 && isa == CT_ISA_GENERIC)) { gf[v] = 0; continue; }
            ct_winograd *wg;
            ct_winograd_create_tile(wt, cin, cout, m, &wg);
            size_t sb = ct_winograd_scratch_bytes(wg, h, w, nth);
            void *scratch = aligned_alloc(64, (sb + 63) / 64 * 64);
            ct_winograd_conv(wg, &s, in, &ep, out, scratch, pool, ct_cpu_kernels_for(isa)->winograd_task); /* warm up */
            double best = 1e30;
            for (int r = 0; r < (isa == CT_ISA_GENERIC ? 1 : reps); r++) {
                double t = now();
                ct_winograd_conv(wg, &s, in, &ep, out, scratch, pool, ct_cpu_kernels_for(isa)->winograd_task);
                t = now() - t;
                if (t < best) best = t;
            }
            gf[v] = flop / (best / tdiv) * 1e-9;
            free(scratch);
            ct_winograd_free(wg);
        }
        float *col = malloc(nin * 9 * 4);
        double best = 1e30, bestg = 1e30;
        for (int r = 0; r <= (only >= 0 ? -1 : reps); r++) {
            double t = now();
            im2col3(in, h, w, cin, col);
            double t1 = now();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, h * w, cout, 9 * cin, 1.f, col,
                        9 * cin, wt, 9 * cin, 0.f, out, cout);
            double t2 = now();
            if (r && t2 - t < best) best = t2 - t;
            if (r && t2 - t1 < bestg) bestg = t2 - t1;
        }
        gf[4] = flop / (best / tdiv) * 1e-9;
        gf[5] = flop / (bestg / tdiv) * 1e-9;
        char name[64];
        snprintf(name, sizeof name, "%dx%d %d->%d", h, w, cin, cout);
        printf("%-22s %10.1f %10.1f %10.1f %10.1f %10.1f %10.1f\n", name, gf[0], gf[1], gf[2],
               gf[3], gf[4], gf[5]);
        fflush(stdout);
        free(col); free(in); free(out); free(wt); free(bias);
    }
    ct_pool_free(pool);
    return 0;
}
