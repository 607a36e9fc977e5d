/* Depthwise + pointwise: weight packing, scratch sizing and the drivers that run one
 * instruction set's kernels (dwpw_<isa>.c) over output rows or pixel chunks. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "dwpw.h"

/* The depthwise buffer of one chunk is kept near 16 KiB, half of a 32 KiB L1, so that it and
 * the pointwise sub-panel streaming past it (K x 16 or K x 32 floats) mostly stay in L1;
 * pixels come in multiples of 12, a whole number of GEMM blocks at 8 and 16 lanes. */
#define CHUNK_FLOATS 4096
#define CHUNK_STEP 12
/* Output rows per fused tile: its (band x stride + k - 1) input rows are read from memory
 * once, and each serves up to k output rows from cache. */
#define BAND 16

static size_t ldb_of(int cin) { return ((size_t)cin + 15) / 16 * 16; }

static int chunk_of(int cin)
{
    size_t c = CHUNK_FLOATS / ldb_of(cin) / CHUNK_STEP * CHUNK_STEP;
    return c < CHUNK_STEP ? CHUNK_STEP : (int)c;
}

cartoon_status ct_pointwise_create(const float *w, int cin, int cout, ct_pointwise **out)
{
    if (!out) return CARTOON_E_INVALID_ARGUMENT;
    *out = NULL;
    if (!w || cin < 1 || cout < 1) return CARTOON_E_INVALID_ARGUMENT;
    ct_pointwise *p = calloc(1, sizeof *p);
    if (!p) return CARTOON_E_OUT_OF_MEMORY;
    p->cin = cin;
    p->cout = cout;
    p->panels = (cout + CT_PW_PANEL - 1) / CT_PW_PANEL;
    p->w = aligned_alloc(64, (size_t)p->panels * cin * CT_PW_PANEL * sizeof *p->w);
    if (!p->w) { free(p); return CARTOON_E_OUT_OF_MEMORY; }
    memset(p->w, 0, (size_t)p->panels * cin * CT_PW_PANEL * sizeof *p->w);
    for (int co = 0; co < cout; co++)
        for (int ci = 0; ci < cin; ci++)
            p->w[((size_t)(co / CT_PW_PANEL) * cin + ci) * CT_PW_PANEL + co % CT_PW_PANEL] = w[(size_t)co * cin + ci];
    *out = p;
    return CARTOON_OK;
}

void ct_pointwise_free(ct_pointwise *p)
{
    if (!p) return;
    free(p->w);
    free(p);
}

/* Columns of one ring row: what a chunk of output columns reads. */
static int ring_cols_of(const ct_conv_shape *s, int chunk) { return (chunk - 1) * s->stride + s->k; }

/* One thread's share: the chunk buffer, then the ring rows of the upsampled sources. */
static size_t thread_floats(const ct_dwpw_src *src, int n_src, const ct_conv_shape *s)
{
    const int chunk = chunk_of(s->cin);
    size_t r = 0;
    for (int q = 0; q < n_src; q++)
        if (src[q].up != CT_DWPW_PLAIN) r += (size_t)s->k * ring_cols_of(s, chunk) * src[q].c;
    r = (r + 15) / 16 * 16; /* each thread's share stays 64-byte aligned */
    return (size_t)chunk * ldb_of(s->cin) + r;
}

size_t ct_dwpw_scratch_bytes(const ct_dwpw_src *src, int n_src, const ct_conv_shape *s, int nthreads)
{
    if (!src || !s || s->cin < 1 || nthreads < 1 || n_src < 1 || n_src > CT_DWPW_MAX_SRC) return 0;
    return (size_t)nthreads * thread_floats(src, n_src, s) * sizeof(float);
}

cartoon_status ct_dwpw_run(const ct_dwpw_src *src, int n_src, const ct_conv_shape *s, const float *dw_w,
                           const float *dw_b, ct_act dw_act, float dw_alpha, const ct_pointwise *pw,
                           const ct_epilogue *ep, float *out, void *scratch, ct_pool *pool, ct_dwpw_fn tile)
{
    if (!tile || !src || !s || !dw_w || !pw || !out || !scratch || n_src < 1 || n_src > CT_DWPW_MAX_SRC ||
        s->k < 1 || s->k > CT_DWPW_MAX_K || s->k % 2 == 0 || s->cin != pw->cin || s->cout != s->cin)
        return CARTOON_E_INVALID_ARGUMENT;
    ct_dwpw_job j;
    memset(&j, 0, sizeof j);
    j.chunk = chunk_of(s->cin);
    j.ldb = ldb_of(s->cin);
    j.ring_cols = ring_cols_of(s, j.chunk);
    size_t per_thread = thread_floats(src, n_src, s), off = 0;
    int c = 0;
    for (int q = 0; q < n_src; q++) {
        if (!src[q].data || src[q].c < 1 || src[q].up < CT_DWPW_PLAIN || src[q].up > CT_DWPW_UP_NEAREST ||
            (src[q].up != CT_DWPW_PLAIN && (s->h % 2 || s->w % 2)))
            return CARTOON_E_INVALID_ARGUMENT;
        j.src[q] = src[q].data;
        j.src_c[q] = src[q].c;
        j.src_up[q] = src[q].up;
        if (src[q].up != CT_DWPW_PLAIN) {
            j.ring_off[q] = off;
            off += (size_t)s->k * j.ring_cols * src[q].c;
        }
        c += src[q].c;
    }
    if (c != s->cin) return CARTOON_E_INVALID_ARGUMENT;
    j.n_src = n_src;
    j.dw = *s;
    j.dw_w = dw_w;
    j.dw_b = dw_b;
    j.dw_act = dw_act;
    j.dw_alpha = dw_alpha;
    j.pw = pw;
    j.ep = ep;
    j.out = out;
    j.stream = ct_stream_output((size_t)s->oh * s->ow * pw->cout);
    j.buf = scratch;
    j.share = per_thread;
    j.band = BAND;
    j.col_chunks = (s->ow + j.chunk - 1) / j.chunk;
    long long tiles = (long long)j.col_chunks * ((s->oh + BAND - 1) / BAND);
    if (tiles > INT_MAX) return CARTOON_E_INVALID_ARGUMENT;
    ct_pool_run(pool, (int)tiles, tile, &j);
    return CARTOON_OK;
}

cartoon_status ct_pointwise_run(const ct_pointwise *pw, const float *in, size_t pixels, const ct_epilogue *ep,
                                float *out, ct_pool *pool, ct_dwpw_fn chunk)
{
    if (!chunk || !pw || !in || !out) return CARTOON_E_INVALID_ARGUMENT;
    ct_dwpw_job j;
    memset(&j, 0, sizeof j);
    j.src[0] = in;
    j.src_c[0] = pw->cin;
    j.pw = pw;
    j.ep = ep;
    j.out = out;
    j.pixels = pixels;
    j.stream = ct_stream_output(pixels * pw->cout);
    /* the same L1-sized chunks, larger only where their count would not fit an int */
    size_t ch = (size_t)chunk_of(pw->cin);
    while ((pixels + ch - 1) / ch > INT_MAX) ch *= 2;
    if (ch > INT_MAX) return CARTOON_E_INVALID_ARGUMENT;
    j.chunk = (int)ch;
    ct_pool_run(pool, (int)((pixels + ch - 1) / ch), chunk, &j);
    return CARTOON_OK;
}
