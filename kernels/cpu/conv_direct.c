/* Direct convolution: weight packing and the driver that runs one instruction set's row
 * kernel (conv_direct_<isa>.c) over the output rows. */
#include <stdlib.h>
#include <string.h>
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

void ct_direct_free(ct_direct *d)
{
    if (!d) return;
    free(d->w);
    free(d);
}

cartoon_status ct_direct_conv(const ct_direct *d, const ct_conv_shape *s, const float *in,
                              const ct_epilogue *ep, float *out, ct_pool *pool, ct_direct_row_fn row)
{
    if (!row || !d || !s || !in || !out || s->cin != d->cin || s->cout != d->cout || s->k != d->k)
        return CARTOON_E_INVALID_ARGUMENT;
    ct_direct_job j = {d, s, in, ep, out, ct_stream_output((size_t)s->oh * s->ow * s->cout)};
    ct_pool_run(pool, s->oh, row, &j);
    return CARTOON_OK;
}
