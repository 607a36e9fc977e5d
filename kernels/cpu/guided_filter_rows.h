/* The guided filter streamed by row bands, instantiated per instruction set from
 * guided_filter_impl.h (guided_filter_generic.c, _avx2.c, _avx512.c and the test-only 16-lane
 * _v16_avx2.c); lib/cpu/cpu_kernels.c chooses. Every instantiation does, per value, the same
 * operations in the same order (no FMA contraction under -std=c11), so all give the same bits:
 * the vector width only changes how many columns one instruction takes. */
#ifndef CARTOON_GUIDED_FILTER_ROWS_H
#define CARTOON_GUIDED_FILTER_ROWS_H
#include <stddef.h>
#include "threadpool.h"

typedef struct ct_gf_job {
    const float *x, *y;   /* guide and source, h x w x c (NHWC) */
    float *out;
    const float *cnt_x;   /* w: in-image columns of each window */
    float *scratch;       /* per thread: ct_gf_thread_floats() */
    size_t per_thread;
    int h, w, c, r;
    int band_rows;        /* output rows per band (the last may have fewer) */
    float eps;
} ct_gf_job;

typedef void (*ct_gf_band_fn)(void *job, int band, int tid);
void ct_gf_band_generic(void *job, int band, int tid);
void ct_gf_band_avx2(void *job, int band, int tid);
void ct_gf_band_avx512(void *job, int band, int tid);
void ct_gf_band_v16_avx2(void *job, int band, int tid);

/* Floats one thread's band needs: rings of 2r + 1 rows of the box sums (4 per channel of the
 * inputs, 2 per channel of A and b) and 6 row buffers. */
size_t ct_gf_thread_floats(int w, int c, int r);

/* ct_guided_filter (ops.h: same arguments, same result) with the band kernel `band`. */
void ct_guided_filter_bands(const float *x, const float *y, int h, int w, int c, int r, float eps, float *out,
                            float *scratch, ct_pool *pool, ct_gf_band_fn band);
#endif
