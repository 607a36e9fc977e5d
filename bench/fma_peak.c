/* fma_peak.h: each width's loop keeps more independent accumulators than FMA latency times FMA
 * units (4 x 2 on current x86 cores), so the loop runs at the units' throughput and touches no
 * memory. The loops are compiled for their instruction set with target attributes; which one
 * runs follows the library's choice (cartoon_cpu_isa()), so the peak is the one its kernels
 * can reach, also under CARTOON_ISA. */
#define _POSIX_C_SOURCE 200809L
#include "fma_peak.h"
#include <pthread.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define X86 1
#endif

typedef struct {
    int width; /* 16, 8, or 4 (portable) */
    long iters;
    double flops;
    float sink;
} job;

/* Named accumulators, not an array: a loop over an array index is not always unrolled (at -O2
 * it is not), and then the accumulators live in memory and the loop measures store forwarding. */
#define ACC12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define ACC16(X) ACC12(X) X(12) X(13) X(14) X(15)

#ifdef X86
__attribute__((target("avx512f"))) static float loop16(long n)
{
    const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
#define DECL(i) __m512 a##i = _mm512_set1_ps((float)i);
#define STEP(i) a##i = _mm512_fmadd_ps(a##i, x, y);
#define SUM(i) s = _mm512_add_ps(s, a##i);
    ACC16(DECL)
    for (long k = 0; k < n; k++) { ACC16(STEP) }
    __m512 s = _mm512_setzero_ps();
    ACC16(SUM)
#undef DECL
#undef STEP
#undef SUM
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float loop8(long n)
{
    const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
#define DECL(i) __m256 a##i = _mm256_set1_ps((float)i);
#define STEP(i) a##i = _mm256_fmadd_ps(a##i, x, y);
#define SUM(i) s = _mm256_add_ps(s, a##i);
    ACC12(DECL)
    for (long k = 0; k < n; k++) { ACC12(STEP) }
    __m256 s = _mm256_setzero_ps();
    ACC12(SUM)
#undef DECL
#undef STEP
#undef SUM
    float t[8];
    _mm256_storeu_ps(t, s);
    return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#endif

/* The portable kernels' width: 4-float GCC vectors, a multiply then an add (SSE on baseline
 * x86-64, NEON on Arm); 12 accumulators and the two constants fit SSE's 16 registers. */
typedef float v4 __attribute__((vector_size(16)));
static float loop4(long n)
{
    const v4 x = {0.999999f, 0.999999f, 0.999999f, 0.999999f}, y = {1e-7f, 1e-7f, 1e-7f, 1e-7f};
#define DECL(i) v4 a##i = {(float)i, (float)i, (float)i, (float)i};
#define STEP(i) a##i = a##i * x + y;
#define SUM(i) s += a##i;
    ACC12(DECL)
    for (long k = 0; k < n; k++) { ACC12(STEP) }
    v4 s = {0, 0, 0, 0};
    ACC12(SUM)
#undef DECL
#undef STEP
#undef SUM
    return s[0] + s[1] + s[2] + s[3];
}

/* Multiply-adds of one iteration of each loop. */
static long per_iter(int width) { return width == 16 ? 16 * 16 : width == 8 ? 12 * 8 : 12 * 4; }

static void *run(void *arg)
{
    job *j = arg;
#ifdef X86
    if (j->width == 16) j->sink = loop16(j->iters);
    else if (j->width == 8) j->sink = loop8(j->iters);
    else
#endif
        j->sink = loop4(j->iters);
    j->flops = 2.0 * (double)per_iter(j->width) * (double)j->iters;
    return NULL;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* GFLOP/s of one run of `threads` loops of iters iterations each; 0 on failure. */
static double once(int width, long iters, int threads)
{
    enum { MAX_THREADS = 256 };
    pthread_t tid[MAX_THREADS];
    job jobs[MAX_THREADS];
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    int started = 0;
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        jobs[i] = (job){width, iters, 0, 0};
        if (i > 0 && pthread_create(&tid[i], NULL, run, &jobs[i])) break;
        started++;
    }
    if (started == threads) run(&jobs[0]);
    for (int i = 1; i < started; i++) pthread_join(tid[i], NULL);
    double t = now_s() - t0, flops = 0;
    if (started < threads || t <= 0) return 0;
    for (int i = 0; i < threads; i++) flops += jobs[i].flops;
    return flops / t / 1e9;
}

double fma_peak_gflops(const char *isa, int threads)
{
    if (threads < 1) return 0;
    int width = 4;
#ifdef X86
    if (isa && !strncmp(isa, "avx512", 6)) width = 16;
    else if (isa && !strcmp(isa, "avx2")) width = 8;
#endif
    /* about 0.1 s per run: sized from a short single-thread run */
    long iters = 1 << 16;
    double g = once(width, iters, 1);
    if (g <= 0) return 0;
    double iter_s = 2.0 * per_iter(width) / (g * 1e9);
    iters = (long)(0.1 / iter_s);
    if (iters < 1 << 16) iters = 1 << 16;
    double best = 0;
    for (int r = 0; r < 5; r++) {
        double v = once(width, iters, threads);
        if (v > best) best = v;
    }
    return best;
}
