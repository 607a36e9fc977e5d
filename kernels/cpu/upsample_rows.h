/* 2x upsampling (+ skip add) by output row, instantiated per instruction set from
 * upsample_impl.h (upsample_generic.c, upsample_avx2.c, upsample_avx512.c, and the test-only
 * 16-lane generic-vector upsample_v16_avx2.c); lib/cpu/cpu_kernels.c chooses. Every row
 * kernel does, per value, the operations of ct_upsample2x (ops.h) in the same order, so all
 * give the same bits: the vector width only changes how many channels one instruction
 * takes. */
#ifndef CARTOON_UPSAMPLE_ROWS_H
#define CARTOON_UPSAMPLE_ROWS_H
#include "threadpool.h"

typedef struct ct_up_job {
    const float *in, *skip;
    float *out;
    int h, w, c, bilinear;
} ct_up_job;

typedef void (*ct_upsample_row_fn)(void *job, int oy, int tid);
void ct_upsample_row_generic(void *job, int oy, int tid);
void ct_upsample_row_avx2(void *job, int oy, int tid);
void ct_upsample_row_avx512(void *job, int oy, int tid);
void ct_upsample_row_v16_avx2(void *job, int oy, int tid);

/* ct_upsample2x (ops.h: same arguments, same result) with the row kernel `row`. */
void ct_upsample2x_rows(const float *in, int h, int w, int c, int bilinear, const float *skip,
                        float *out, ct_pool *pool, ct_upsample_row_fn row);
#endif
