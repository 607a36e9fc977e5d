/* Depthwise-separable layers (the student model's blocks) on the CPU:
 *   - ct_dwpw_run: a depthwise convolution (any odd k, stride 1 or 2, bias, activation)
 *     fused with the pointwise (1x1) convolution that consumes it. Each job is a tile of a
 *     few output rows by a chunk of columns; row by row, the depthwise is computed for the
 *     chunk's pixels into a per-thread buffer that stays in L1 (NHWC: all channels of a pixel
 *     contiguous), then the pointwise runs over the chunk as a register-blocked GEMM whose
 *     epilogue applies bias, activation and the residual add (ct_epilogue). The depthwise
 *     output never reaches memory, and the tile's input rows, each read by up to three
 *     output rows, stay in cache between them.
 *     Its input may be several tensors (the inputs of a concat, channel ranges in order):
 *     the depthwise is per channel, so each range is read from its own tensor into its own
 *     channels of the buffer, and the concatenation exists only chunk by chunk in cache. A
 *     source may also be the 2x upsampling of a half-size tensor (the UNet's decoder): the
 *     upsampled rows the tile needs are computed into a small per-thread ring of rows, so the
 *     upsampled tensor is never stored either.
 *   - ct_pointwise_run: a plain 1x1 stride-1 convolution as the same GEMM straight from its
 *     input tensor (no im2col, no sgemm call, the epilogue fused).
 * The pointwise weights are packed once per model (ct_pointwise_create, kept by
 * lib/cpu/cpu_weights.c); the depthwise weights are used as the model stores them,
 * [k][k][c], which already has the channels contiguous. The row / chunk kernels are
 * instantiated per instruction set from dwpw_impl.h (dwpw_generic.c, dwpw_avx2.c,
 * dwpw_avx512.c, the test-only dwpw_v16_avx2.c); lib/cpu/cpu_kernels.c chooses. Arithmetic is
 * fp32 throughout; only the summation order differs from the naive kernels. */
#ifndef CARTOON_DWPW_H
#define CARTOON_DWPW_H
#include <stddef.h>
#include "cartoon.h"
#include "conv.h"
#include "threadpool.h"

/* Output channels per packed weight panel: two 16-lane vectors, four 8-lane ones. */
#define CT_PW_PANEL 32
/* Input sources of one fused depthwise (the inputs of a concat), and its largest kernel. */
#define CT_DWPW_MAX_SRC 8
#define CT_DWPW_MAX_K 15

/* Packed pointwise weights: panel p holds output channels [32p, 32p + 32) as [cin][32],
 * zero beyond cout. Read-only after creation, shareable. */
typedef struct ct_pointwise {
    int cin, cout;
    int panels;  /* ceil(cout / 32) */
    float *w;    /* panels * cin * 32 floats */
} ct_pointwise;

/* w_oi is [cout][cin] (a 1x1 OHWI weight); copied and packed. */
cartoon_status ct_pointwise_create(const float *w_oi, int cin, int cout, ct_pointwise **out);
void ct_pointwise_free(ct_pointwise *p);

/* How a depthwise source is read: as stored, or 2x upsampled on the fly (as ct_upsample2x
 * computes it, TF1 bilinear or nearest, the same operations so the same bits). */
typedef enum { CT_DWPW_PLAIN = 0, CT_DWPW_UP_BILINEAR = 1, CT_DWPW_UP_NEAREST = 2 } ct_dwpw_up;

/* One source of the depthwise: c channels of an h x w tensor (the depthwise's input size), or
 * of an h/2 x w/2 one when up is not CT_DWPW_PLAIN. */
typedef struct ct_dwpw_src {
    const float *data;
    int c;
    ct_dwpw_up up;
} ct_dwpw_src;

/* One job of either kernel; the drivers below fill it. */
typedef struct ct_dwpw_job {
    /* the depthwise (n_src = 0: none, the pointwise reads src[0] directly) */
    int n_src;
    const float *src[CT_DWPW_MAX_SRC];
    int src_c[CT_DWPW_MAX_SRC];  /* channels of each source; their sum is the pointwise cin */
    ct_dwpw_up src_up[CT_DWPW_MAX_SRC];
    size_t ring_off[CT_DWPW_MAX_SRC]; /* an upsampled source's rows in a thread's ring */
    int ring_cols;               /* columns of one ring row: the tile's input columns */
    ct_conv_shape dw;            /* h, w, k, stride, padding, oh, ow of the depthwise */
    const float *dw_w, *dw_b;    /* [k][k][cin], [cin] or NULL */
    ct_act dw_act;
    float dw_alpha;
    /* the pointwise */
    const ct_pointwise *pw;
    const ct_epilogue *ep;
    float *out;                  /* pixels x pw->cout */
    size_t pixels;               /* ct_pointwise_run: pixels of src[0] and out */
    int chunk;                   /* pixels per GEMM chunk (a multiple of 12) */
    int band, col_chunks;        /* ct_dwpw_run: output rows per tile, chunks per row */
    size_t ldb;                  /* floats per pixel in the depthwise buffer (cin rounded to 16) */
    float *buf;                  /* scratch: per thread a share of `share` floats, a chunk x ldb
                                    buffer then k ring rows per upsampled source */
    size_t share;
    int stream;                  /* 1: whole output vectors go out with streaming stores */
} ct_dwpw_job;

/* Runs item i of a job (a fused tile, or a chunk of pointwise pixels) on thread tid. */
typedef void (*ct_dwpw_fn)(void *job, int i, int tid);
void ct_dwpw_tile_generic(void *job, int i, int tid);
void ct_dwpw_tile_avx2(void *job, int i, int tid);
void ct_dwpw_tile_avx512(void *job, int i, int tid);
void ct_dwpw_tile_v16_avx2(void *job, int i, int tid);
void ct_pw_chunk_generic(void *job, int i, int tid);
void ct_pw_chunk_avx2(void *job, int i, int tid);
void ct_pw_chunk_avx512(void *job, int i, int tid);
void ct_pw_chunk_v16_avx2(void *job, int i, int tid);

/* Scratch bytes of ct_dwpw_run for these sources and depthwise shape on a pool of nthreads. */
size_t ct_dwpw_scratch_bytes(const ct_dwpw_src *src, int n_src, const ct_conv_shape *s, int nthreads);

/* out = pw_epilogue(pw(dw_act(dw(concat(src)) + dw_b))). s is the depthwise's shape with
 * s->cin = s->cout = the sum of the sources' channels = pw->cin (s->h and s->w even when a
 * source is upsampled). scratch holds ct_dwpw_scratch_bytes(src, n_src, s,
 * ct_pool_size(pool)) bytes, 64-byte aligned. ep (may be NULL) is the pointwise's epilogue;
 * its residual is NHWC like out. Errors: INVALID_ARGUMENT when the shapes disagree. */
cartoon_status ct_dwpw_run(const ct_dwpw_src *src, int n_src, const ct_conv_shape *s, const float *dw_w,
                           const float *dw_b, ct_act dw_act, float dw_alpha, const ct_pointwise *pw,
                           const ct_epilogue *ep, float *out, void *scratch, ct_pool *pool, ct_dwpw_fn tile);

/* out = epilogue(in * W^T) for `pixels` pixels of pw->cin channels: a 1x1 stride-1
 * convolution. No scratch. Errors: INVALID_ARGUMENT. */
cartoon_status ct_pointwise_run(const ct_pointwise *pw, const float *in, size_t pixels, const ct_epilogue *ep,
                                float *out, ct_pool *pool, ct_dwpw_fn chunk);
#endif
