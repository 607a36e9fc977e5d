/* The bf16 direct-convolution kernels (conv_direct.h, ct_direct_conv_bf16), written once over
 * the 16-lane vocabulary and its bf16 operands: conv_direct_avx512bf16.c instantiates them with
 * VDPBF16PS, conv_direct_bf16_v16_avx2.c with its bit-exact emulation for the tests. A task is
 * a band of output rows; the input rows it reads are converted to bf16 as they are first
 * needed, into a ring of k rows per thread (row iy in slot iy % k), so one 32-bit load is a
 * pair of consecutive input values, the operand VDPBF16PS multiplies; sums are fp32. (A
 * separate pass converting the whole input cost 4.3 ms of the 20.7 of the RGB output layer at
 * 1024 on Zen 5: the bf16 copy went to memory and back.)
 *
 * Two shapes, the two of ct_direct:
 *   - output channels in lanes (cout a multiple of 16): a window row's k * cin values taken
 *     in pairs (an odd count's last pair reads the next value, against a zero weight), each
 *     pair broadcast against 16 output channels, 6 pixels x 32 channels at a time (12 chains);
 *     weights [k][pairs][cout] of pairs. A pixel whose window the image clips takes its taps
 *     one by one (FMAs of the bf16 values), since its pairs would straddle the clipped columns;
 *   - input channels in lanes (the RGB output, cout = 3): dot products over a window row's
 *     k * cin values, 16 pairs per step (the last step masked), four (or three) pixels by
 *     three filters at a time, one horizontal sum per output; weights [cout][k][k * cin / 2
 *     pairs, padded with zero pairs to a multiple of 16].
 * Every output pixel's sum runs in one order, whichever group computes it, so a pixel's value
 * does not depend on where a tile starts (exact tiling); pixels whose window the image clips
 * take the same steps over the taps inside it. */
#include <stdint.h>
#include <string.h>
#include "bf16_emul.h"
#include "conv_direct.h"
#include "epilogue_impl.h"
#if VL != 16
#error "conv_direct_bf16_impl.h: the bf16 kernels are 16-lane"
#endif

/* Input row y converted into dst: w * cin floats -> bf16 (the slot's padding stays zero). */
static void NAME(cvt_row)(const ct_direct_job *j, int y, uint16_t *dst)
{
    const size_t n = (size_t)j->s->w * j->s->cin;
    const float *src = j->in + (size_t)y * n;
    size_t i = 0;
    for (; i + VL <= n; i += VL) BH_STORE_CVT(dst + i, VLOAD(src + i));
    for (; i < n; i++) dst[i] = ct_bf16_round(src[i]);
}

/* The pair of bf16 values at p (any alignment). */
static inline uint32_t NAME(pair)(const uint16_t *p)
{
    uint32_t u;
    memcpy(&u, p, sizeof u);
    return u;
}

/* 16 output channels from cb of pixel (oy, ox) through the epilogue. */
static inline __attribute__((always_inline)) void NAME(put16)(const ct_direct_job *j, int oy, int ox, int cb, vf x)
{
    const ct_epilogue *ep = j->ep;
    const size_t o = ((size_t)oy * j->s->ow + ox) * j->s->cout + cb;
    if (ep) {
        if (ep->bias) x = VADD(x, VLOAD(ep->bias + cb));
        x = NAME(act)(x, ep->act, ep->alpha);
        if (ep->residual) x = NAME(act)(VADD(x, VLOAD(ep->residual + o)), ep->post_act, ep->post_alpha);
    }
    if (j->stream && !((uintptr_t)(j->out + o) % 64)) VSTREAM(j->out + o, x);
    else VSTORE(j->out + o, x);
}

/* ---- output channels in lanes */

/* Six neighbouring pixels by one or two vectors of channels over nky kernel rows: the first
 * pixel's window row r starts at rows[r] + x0 (bf16 values; the next pixel's sc on), the
 * weights at wp (pairs of one output channel each; cout per step, the next kernel row ws on);
 * kc pair steps per row. Its own function so that its pointers stay in registers. */
static __attribute__((noinline)) void NAME(six)(const uint16_t *const *rows, size_t x0, size_t sc, const uint32_t *wp,
                                               size_t ws, int cout, int kc, int nky, int two, vf *acc)
{
    vf a00 = VZERO, a01 = VZERO, a10 = VZERO, a11 = VZERO, a20 = VZERO, a21 = VZERO;
    vf a30 = VZERO, a31 = VZERO, a40 = VZERO, a41 = VZERO, a50 = VZERO, a51 = VZERO;
    for (int r = 0; r < nky; r++) {
        const uint16_t *q0 = rows[r] + x0, *q1 = q0 + sc, *q2 = q1 + sc, *q3 = q2 + sc, *q4 = q3 + sc, *q5 = q4 + sc;
        const uint32_t *w = wp + (size_t)r * ws;
        if (two) {
            for (int t = 0; t < 2 * kc; t += 2, w += cout) {
                const vbh w0 = BH_LOAD(w), w1 = BH_LOAD(w + VL);
                vbh b;
                b = BH_SET1(NAME(pair)(q0 + t)); a00 = VDPBF16(a00, b, w0); a01 = VDPBF16(a01, b, w1);
                b = BH_SET1(NAME(pair)(q1 + t)); a10 = VDPBF16(a10, b, w0); a11 = VDPBF16(a11, b, w1);
                b = BH_SET1(NAME(pair)(q2 + t)); a20 = VDPBF16(a20, b, w0); a21 = VDPBF16(a21, b, w1);
                b = BH_SET1(NAME(pair)(q3 + t)); a30 = VDPBF16(a30, b, w0); a31 = VDPBF16(a31, b, w1);
                b = BH_SET1(NAME(pair)(q4 + t)); a40 = VDPBF16(a40, b, w0); a41 = VDPBF16(a41, b, w1);
                b = BH_SET1(NAME(pair)(q5 + t)); a50 = VDPBF16(a50, b, w0); a51 = VDPBF16(a51, b, w1);
            }
        } else {
            for (int t = 0; t < 2 * kc; t += 2, w += cout) {
                const vbh w0 = BH_LOAD(w);
                a00 = VDPBF16(a00, BH_SET1(NAME(pair)(q0 + t)), w0);
                a10 = VDPBF16(a10, BH_SET1(NAME(pair)(q1 + t)), w0);
                a20 = VDPBF16(a20, BH_SET1(NAME(pair)(q2 + t)), w0);
                a30 = VDPBF16(a30, BH_SET1(NAME(pair)(q3 + t)), w0);
                a40 = VDPBF16(a40, BH_SET1(NAME(pair)(q4 + t)), w0);
                a50 = VDPBF16(a50, BH_SET1(NAME(pair)(q5 + t)), w0);
            }
        }
    }
    acc[0] = a00, acc[1] = a01, acc[2] = a10, acc[3] = a11, acc[4] = a20, acc[5] = a21;
    acc[6] = a30, acc[7] = a31, acc[8] = a40, acc[9] = a41, acc[10] = a50, acc[11] = a51;
}

/* One pixel, every block of 16 channels. Its window inside the row: the steps of NAME(six),
 * in the same order. Clipped by the image: tap by tap, an FMA of the bf16 input value and
 * the bf16 weight (d->w holds them rounded) per tap. */
static void NAME(px_cout)(const ct_direct_job *j, const uint16_t *const *rows, int oy, int ox)
{
    const ct_direct *d = j->d;
    const ct_conv_shape *s = j->s;
    const int k = d->k, cin = d->cin, cout = d->cout, KP = (k * cin + 1) / 2;
    const uint32_t *wb = (const uint32_t *)(const void *)d->wb;
    const int ix0 = ox * s->stride - s->pad_left, kx0 = ix0 < 0 ? -ix0 : 0, kx1 = ix0 + k > s->w ? s->w - ix0 : k;
    const int whole = kx0 == 0 && kx1 == k;
    for (int cb = 0; cb < cout; cb += VL) {
        vf a = VZERO;
        for (int ky = 0; ky < k; ky++) {
            if (!rows[ky]) continue;
            const uint16_t *p = rows[ky] + (size_t)(ix0 + kx0) * cin;
            if (whole) {
                const uint32_t *w = wb + (size_t)ky * KP * cout + cb;
                for (int t = 0; t < 2 * KP; t += 2, w += cout) a = VDPBF16(a, BH_SET1(NAME(pair)(p + t)), BH_LOAD(w));
            } else {
                const float *w = d->w + ((size_t)(ky * k + kx0) * cin) * d->cout8 + cb;
                for (int t = 0, n = (kx1 - kx0) * cin; t < n; t++, w += d->cout8)
                    a = VFMA(VSET1(ct_bf16_value(p[t])), VLOAD(w), a);
            }
        }
        NAME(put16)(j, oy, ox, cb, a);
    }
}

static void NAME(row_cout)(const ct_direct_job *j, const uint16_t *const *rows, int oy)
{
    const ct_direct *d = j->d;
    const ct_conv_shape *s = j->s;
    const int k = d->k, st = s->stride, cin = d->cin, cout = d->cout, KP = (k * cin + 1) / 2;
    const uint32_t *wb = (const uint32_t *)(const void *)d->wb;
    const int iy0 = oy * st - s->pad_top, ky0 = iy0 < 0 ? -iy0 : 0, ky1 = iy0 + k > s->h ? s->h - iy0 : k;
    int ox = 0;
    for (; ox < s->ow; ox++) {
        const int ix0 = ox * st - s->pad_left;
        if (ix0 >= 0 && ox + 5 < s->ow && (ox + 5) * st - s->pad_left + k <= s->w) break;
        NAME(px_cout)(j, rows, oy, ox);
    }
    for (; ox + 5 < s->ow && (ox + 5) * st - s->pad_left + k <= s->w; ox += 6) {
        const int ix0 = ox * st - s->pad_left;
        for (int cb = 0, bw; cb < cout; cb += bw) {
            bw = cout - cb >= 2 * VL ? 2 * VL : VL;
            vf acc[12];
            NAME(six)(rows + ky0, (size_t)ix0 * cin, (size_t)st * cin, wb + (size_t)ky0 * KP * cout + cb,
                      (size_t)KP * cout, cout, KP, ky1 - ky0, bw > VL, acc);
            for (int q = 0; q < 6; q++) {
                NAME(put16)(j, oy, ox + q, cb, acc[2 * q]);
                if (bw > VL) NAME(put16)(j, oy, ox + q, cb + VL, acc[2 * q + 1]);
            }
        }
    }
    for (; ox < s->ow; ox++) NAME(px_cout)(j, rows, oy, ox);
}

/* ---- input channels in lanes (cout = 3) */

static inline __attribute__((always_inline)) void NAME(put3)(const ct_direct_job *j, int oy, int ox, vf a0, vf a1,
                                                             vf a2)
{
    const size_t o = ((size_t)oy * j->s->ow + ox) * 3;
    const float *res = j->ep && j->ep->residual ? j->ep->residual + o : NULL;
    j->out[o] = NAME(epi)(j->ep, VHSUM(a0), 0, res);
    j->out[o + 1] = NAME(epi)(j->ep, VHSUM(a1), 1, res);
    j->out[o + 2] = NAME(epi)(j->ep, VHSUM(a2), 2, res);
}

/* One step of NAME(group): N pixels' inputs x by the three filters' weights at w[f] + t. */
static inline __attribute__((always_inline)) void NAME(gstep)(vf a[4][3], const vbh *x, const uint32_t *const *w,
                                                              int t, const int N)
{
#pragma GCC unroll 3
    for (int f = 0; f < 3; f++) {
        const vbh wv = BH_LOAD(w[f] + t);
#pragma GCC unroll 4
        for (int q = 0; q < N; q++) a[q][f] = VDPBF16(a[q][f], x[q], wv);
    }
}

/* N (3 or 4) neighbouring pixels (windows inside the row, sc pairs apart) by the three
 * filters, N x 3 accumulators: n pairs per window row, 16 at a time, the last m < 16 in a
 * masked step (the weights' padding makes its other lanes zero). Four pixels keep 12
 * VDPBF16PS chains going where three left 9 (conv17 at 1024 on Zen 5: MEASURED). */
static inline __attribute__((always_inline)) void NAME(group)(const ct_direct_job *j, const uint16_t *const *rows,
                                                              int oy, int ox, int ix0, int ky0, int ky1, const int N)
{
    const ct_direct *d = j->d;
    const ct_conv_shape *s = j->s;
    const int k = d->k, P = d->cin / 2, n = k * P, nv = n / VL * VL, m = n - nv, np = (n + VL - 1) / VL * VL;
    const size_t sc = (size_t)s->stride * P, kk = (size_t)k * np;
    const uint32_t *wb = (const uint32_t *)(const void *)d->wb;
    vf a[4][3];
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) a[q][0] = a[q][1] = a[q][2] = VZERO;
    for (int ky = ky0; ky < ky1; ky++) {
        const uint32_t *p0 = (const uint32_t *)(const void *)rows[ky] + (size_t)ix0 * P;
        const uint32_t *w[3] = {wb + (size_t)ky * np, wb + (size_t)ky * np + kk, wb + (size_t)ky * np + 2 * kk};
        vbh x[4];
        for (int t = 0; t < nv; t += VL) {
#pragma GCC unroll 4
            for (int q = 0; q < N; q++) x[q] = BH_LOAD(p0 + q * sc + t);
            NAME(gstep)(a, x, w, t, N);
        }
        if (m) {
#pragma GCC unroll 4
            for (int q = 0; q < N; q++) x[q] = BH_LOADN(p0 + q * sc + nv, m);
            NAME(gstep)(a, x, w, nv, N);
        }
    }
#pragma GCC unroll 4
    for (int q = 0; q < N; q++) NAME(put3)(j, oy, ox + q, a[q][0], a[q][1], a[q][2]);
}

static __attribute__((noinline)) void NAME(trio3)(const ct_direct_job *j, const uint16_t *const *rows, int oy, int ox,
                                                  int ix0, int ky0, int ky1)
{
    NAME(group)(j, rows, oy, ox, ix0, ky0, ky1, 3);
}

static __attribute__((noinline)) void NAME(quad3)(const ct_direct_job *j, const uint16_t *const *rows, int oy, int ox,
                                                  int ix0, int ky0, int ky1)
{
    NAME(group)(j, rows, oy, ox, ix0, ky0, ky1, 4);
}

/* One pixel: inside the row, the steps of NAME(group); clipped, the same per tap column. */
static void NAME(px_cin)(const ct_direct_job *j, const uint16_t *const *rows, int oy, int ox, int ky0, int ky1)
{
    const ct_direct *d = j->d;
    const ct_conv_shape *s = j->s;
    const int k = d->k, P = d->cin / 2, n = k * P, np = (n + VL - 1) / VL * VL;
    const size_t kk = (size_t)k * np;
    const uint32_t *wb = (const uint32_t *)(const void *)d->wb;
    const int ix0 = ox * s->stride - s->pad_left, kx0 = ix0 < 0 ? -ix0 : 0, kx1 = ix0 + k > s->w ? s->w - ix0 : k;
    /* the window row's pairs [t0, t1): all n of them when nothing is clipped */
    const int t0 = kx0 * P, t1 = kx1 * P;
    vf a0 = VZERO, a1 = VZERO, a2 = VZERO;
    for (int ky = ky0; ky < ky1; ky++) {
        const uint32_t *p = (const uint32_t *)(const void *)rows[ky] + (size_t)ix0 * P;
        const uint32_t *w0 = wb + (size_t)ky * np, *w1 = w0 + kk, *w2 = w1 + kk;
        for (int t = t0; t < t1; t += VL) {
            const int c = t1 - t < VL ? t1 - t : VL;
            const vbh x = c == VL ? BH_LOAD(p + t) : BH_LOADN(p + t, c);
            a0 = VDPBF16(a0, x, c == VL ? BH_LOAD(w0 + t) : BH_LOADN(w0 + t, c));
            a1 = VDPBF16(a1, x, c == VL ? BH_LOAD(w1 + t) : BH_LOADN(w1 + t, c));
            a2 = VDPBF16(a2, x, c == VL ? BH_LOAD(w2 + t) : BH_LOADN(w2 + t, c));
        }
    }
    NAME(put3)(j, oy, ox, a0, a1, a2);
}

static void NAME(row_cin)(const ct_direct_job *j, const uint16_t *const *rows, int oy)
{
    const ct_conv_shape *s = j->s;
    const int k = j->d->k, st = s->stride;
    const int iy0 = oy * st - s->pad_top, ky0 = iy0 < 0 ? -iy0 : 0, ky1 = iy0 + k > s->h ? s->h - iy0 : k;
    for (int ox = 0; ox < s->ow; ox++) {
        const int ix0 = ox * st - s->pad_left;
        if (ix0 >= 0 && ox + 3 < s->ow && (ox + 3) * st - s->pad_left + k <= s->w) {
            NAME(quad3)(j, rows, oy, ox, ix0, ky0, ky1);
            ox += 3;
        } else if (ix0 >= 0 && ox + 2 < s->ow && (ox + 2) * st - s->pad_left + k <= s->w) {
            NAME(trio3)(j, rows, oy, ox, ix0, ky0, ky1);
            ox += 2;
        } else NAME(px_cin)(j, rows, oy, ox, ky0, ky1);
    }
}

/* Task `band`: output rows [band * j->band, + j->band), their input rows converted into this
 * thread's ring as first needed. */
void NAME(ct_direct_rows_bf16)(void *job, int band, int tid)
{
    const ct_direct_job *j = job;
    const ct_conv_shape *s = j->s;
    const int k = j->d->k;
    char *ring = (char *)j->inb + (size_t)tid * k * j->slot_bytes;
    int held[CT_DIRECT_MAX_K];
    for (int r = 0; r < k; r++) held[r] = -1;
    const int oy1 = (band + 1) * j->band < s->oh ? (band + 1) * j->band : s->oh;
    for (int oy = band * j->band; oy < oy1; oy++) {
        const uint16_t *rows[CT_DIRECT_MAX_K];
        for (int ky = 0; ky < k; ky++) {
            const int iy = oy * s->stride + ky - s->pad_top;
            rows[ky] = NULL;
            if (iy < 0 || iy >= s->h) continue;
            uint16_t *slot = (uint16_t *)(void *)(ring + (size_t)(iy % k) * j->slot_bytes);
            if (held[iy % k] != iy) {
                NAME(cvt_row)(j, iy, slot);
                held[iy % k] = iy;
            }
            rows[ky] = slot;
        }
        if (j->d->lanes_in_cin) NAME(row_cin)(j, rows, oy);
        else NAME(row_cout)(j, rows, oy);
    }
    if (j->stream) VFENCE();
}
