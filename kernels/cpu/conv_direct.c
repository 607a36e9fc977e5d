/* Direct convolution: weight packing and the driver that runs one instruction set's row
 * kernel (conv_direct_<isa>.c) over the output rows. */
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include "bf16_emul.h"
#include "conv_direct.h"

cartoon_status ct_direct_create(const float *w, int cin, int cout, int k, ct_direct **out)
{
    if (!out) return CARTOON_E_INVALID_ARGUMENT;
    *out = NULL;
    if (!w || cin < 1 || cout < 1 || k < 1 || k % 2 == 0) return CARTOON_E_INVALID_ARGUMENT;
    ct_direct *d = calloc(1, sizeof *d);
    if (!d) return CARTOON_E_OUT_OF_MEMORY;
    d->cin = cin;
    d->cout = cout;
    d->k = k;
    d->cout8 = (cout + 7) / 8 * 8;
    d->lanes_in_cin = cout < 8 && cin >= 8;
    size_t taps = (size_t)k * k * cin;
    /* the cin-lanes kernel reads four filters at once: zero filters pad cout up to 4 */
    size_t n = d->lanes_in_cin ? taps * (cout < 4 ? 4 : cout) : taps * d->cout8;
    /* +8: a 16-lane load of the last 8-wide block. 64-byte aligned: with calloc's 16 bytes,
     * every 16-lane load of the RGB-output kernel split a cache line (1.6x its AVX2 time). */
    size_t bytes = ((n + 8) * sizeof *d->w + 63) / 64 * 64;
    d->w = aligned_alloc(64, bytes);
    if (!d->w) { free(d); return CARTOON_E_OUT_OF_MEMORY; }
    memset(d->w, 0, bytes);
    if (d->lanes_in_cin) memcpy(d->w, w, taps * cout * sizeof *w);
    else
        for (int co = 0; co < cout; co++)
            for (size_t t = 0; t < taps; t++) d->w[t * d->cout8 + co] = w[(size_t)co * taps + t];
    *out = d;
    return CARTOON_OK;
}

int ct_direct_bf16_ok(int cin, int cout, int k)
{
    if (cin < 1 || cout < 1 || k < 1 || k % 2 == 0 || k > CT_DIRECT_MAX_K) return 0;
    return cout < 8 && cin >= 8 ? cout == 3 && cin % 2 == 0 : cout % 16 == 0;
}

cartoon_status ct_direct_create_bf16(const float *w, int cin, int cout, int k, ct_direct **out)
{
    if (!out) return CARTOON_E_INVALID_ARGUMENT;
    *out = NULL;
    if (!w || !ct_direct_bf16_ok(cin, cout, k)) return CARTOON_E_INVALID_ARGUMENT;
    ct_direct *d = NULL;
    cartoon_status st = ct_direct_create(w, cin, cout, k, &d);
    if (st) return st;
    const size_t row = (size_t)k * cin, taps = (size_t)k * row; /* a window row's values; all */
    const size_t kp = (row + 1) / 2, np = (row / 2 + 15) / 16 * 16; /* pairs per window row */
    const size_t bytes = ((d->lanes_in_cin ? (size_t)cout * k * np : (size_t)k * kp * cout) * 4 + 63) / 64 * 64;
    d->wb = aligned_alloc(64, bytes);
    if (!d->wb) { ct_direct_free(d); return CARTOON_E_OUT_OF_MEMORY; }
    memset(d->wb, 0, bytes); /* the pad pairs, and the partner of an odd row's last value */
    for (int co = 0; co < cout; co++)
        for (size_t t = 0; t < taps; t++) { /* t = ky * row + r, r = kx * cin + ci */
            const uint16_t v = ct_bf16_round(w[(size_t)co * taps + t]);
            const size_t ky = t / row, r = t % row;
            if (d->lanes_in_cin) d->wb[((size_t)co * k + ky) * np * 2 + r] = v;
            else d->wb[((ky * kp + r / 2) * cout + co) * 2 + r % 2] = v;
        }
    if (!d->lanes_in_cin) /* the clipped windows' taps: the same weights, as floats */
        for (size_t i = 0; i < taps * d->cout8; i++) d->w[i] = ct_bf16_value(ct_bf16_round(d->w[i]));
    *out = d;
    return CARTOON_OK;
}

int ct_direct_is_bf16(const ct_direct *d) { return d && d->wb; }

static size_t slot_bytes(const ct_direct *d, int w)
{
    return ((size_t)w * d->cin * sizeof(uint16_t) + CT_DIRECT_BF16_PAD + 63) / 64 * 64;
}

size_t ct_direct_bf16_scratch_bytes(const ct_direct *d, int w, int nthreads)
{
    if (!ct_direct_is_bf16(d) || w < 1) return 0;
    return (size_t)(nthreads < 1 ? 1 : nthreads) * d->k * slot_bytes(d, w);
}

void ct_direct_free(ct_direct *d)
{
    if (!d) return;
    free(d->wb);
    free(d->w);
    free(d);
}

/* Output rows per task: bands of consecutive rows, so a thread's next row reads the k - stride
 * input rows its last one did, still in its L2 (the bf16 kernels convert those only once);
 * about four bands per thread, so the pool's shared counter evens out the last ones. */
static int band_rows(int oh, int nthreads)
{
    const int b = (oh + 4 * nthreads - 1) / (4 * nthreads);
    return b < 1 ? 1 : b;
}

typedef struct {
    ct_direct_row_fn row;
    ct_direct_job *j;
    int band, oh;
} band_job;

static void run_band(void *arg, int b, int tid)
{
    const band_job *bj = arg;
    for (int oy = b * bj->band; oy < (b + 1) * bj->band && oy < bj->oh; oy++) bj->row(bj->j, oy, tid);
}

cartoon_status ct_direct_conv(const ct_direct *d, const ct_conv_shape *s, const float *in,
                              const ct_epilogue *ep, float *out, ct_pool *pool, ct_direct_row_fn row)
{
    if (!row || !d || !s || !in || !out || s->cin != d->cin || s->cout != d->cout || s->k != d->k)
        return CARTOON_E_INVALID_ARGUMENT;
    ct_direct_job j = {d, s, in, ep, out, ct_stream_output((size_t)s->oh * s->ow * s->cout), NULL, 0, 0};
    band_job b = {row, &j, band_rows(s->oh, ct_pool_size(pool)), s->oh};
    ct_pool_run(pool, (s->oh + b.band - 1) / b.band, run_band, &b);
    return CARTOON_OK;
}

cartoon_status ct_direct_conv_bf16(const ct_direct *d, const ct_conv_shape *s, const float *in,
                                   const ct_epilogue *ep, float *out, void *scratch, ct_pool *pool,
                                   ct_direct_row_fn rows)
{
    if (!rows || !ct_direct_is_bf16(d) || !s || !in || !out || !scratch || (uintptr_t)scratch % 64 ||
        s->cin != d->cin || s->cout != d->cout || s->k != d->k)
        return CARTOON_E_INVALID_ARGUMENT;
    const int nth = ct_pool_size(pool);
    ct_direct_job j = {d, s, in, ep, out, ct_stream_output((size_t)s->oh * s->ow * s->cout), scratch,
                       slot_bytes(d, s->w), band_rows(s->oh, nth)};
    /* each slot's padding zero, once: the rows are converted into the bytes before it */
    for (int t = 0; t < nth * d->k; t++)
        memset((char *)scratch + (size_t)t * j.slot_bytes + (size_t)s->w * d->cin * sizeof(uint16_t), 0,
               j.slot_bytes - (size_t)s->w * d->cin * sizeof(uint16_t));
    ct_pool_run(pool, (s->oh + j.band - 1) / j.band, rows, &j);
    return CARTOON_OK;
}
