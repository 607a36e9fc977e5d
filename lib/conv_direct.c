/* Direct convolution: weight packing, dispatch, and the portable instantiation of the row
 * kernels in conv_direct_impl.h (8-float GCC vectors, which baseline x86-64 runs as SSE). */
#include <stdlib.h>
#include <string.h>
#include "cpu_features.h"

/* 8-lane vectors keep the kernels' layout identical to the AVX2 build; the values only pass
 * between static functions of this file, so GCC's ABI note about them does not apply (the
 * Makefile builds this file with -Wno-psabi). */
typedef float vf __attribute__((vector_size(32)));
static inline vf vload(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
static inline void vstore(float *p, vf v) { memcpy(p, &v, sizeof v); }
static inline vf vset1(float x) { return (vf){x, x, x, x, x, x, x, x}; }
static inline float vhsum(vf v) { return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7])); }
#define VLOAD(p) vload(p)
#define VSTORE(p, v) vstore((p), (v))
#define VSET1(x) vset1(x)
static inline vf vmax(vf a, vf b)
{
    vf r;
    for (int i = 0; i < 8; i++) r[i] = a[i] > b[i] ? a[i] : b[i];
    return r;
}
#define VFMA(a, b, c) ((a) * (b) + (c))
#define VADD(a, b) ((a) + (b))
#define VMUL(a, b) ((a) * (b))
#define VMAX(a, b) vmax((a), (b))
#define VZERO ((vf){0})
#define VHSUM(v) vhsum(v)
#define NAME(x) x##_generic
#include "conv_direct_impl.h"

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
    d->w = calloc(n + 8, sizeof *d->w); /* +8: a 16-lane load of the last 8-wide block */
    if (!d->w) { free(d); return CARTOON_E_OUT_OF_MEMORY; }
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
                              const ct_epilogue *ep, float *out, ct_pool *pool, int isa)
{
    if (!d || !s || !in || !out || s->cin != d->cin || s->cout != d->cout || s->k != d->k)
        return CARTOON_E_INVALID_ARGUMENT;
    ct_direct_job j = {d, s, in, ep, out};
#if defined(__x86_64__)
    if (isa >= CT_ISA_AVX2) { ct_pool_run(pool, s->oh, ct_direct_row_avx2, &j); return CARTOON_OK; }
#endif
    ct_pool_run(pool, s->oh, ct_direct_row_generic, &j);
    return CARTOON_OK;
}
