/* The direct-convolution row kernels, written once over a vector type: each instantiation
 * file includes its instruction set's vector vocabulary (vec_avx2.h, vec_avx512.h,
 * vec_v16_avx2.h for the 16-lane test build, vec8_generic.h for the portable one), defines
 * NAME and includes this. VL is 8 or 16; with 16, one vector holds the 16 output channels of
 * a block and the second accumulator of each pixel is unused. Where the vocabulary has
 * VHSUM8 (eight sums in one vector: AVX2), the RGB-output kernel uses it. */
#include <string.h>
#include <stdint.h>
#include "conv_direct.h"
#include "epilogue_impl.h"
#if VL != 8 && VL != 16
#error "conv_direct_impl.h: VL must be 8 or 16"
#endif

/* Output channels in lanes: for pixel ox, channels [cb, cb + 16) (two vectors), kx over
 * [kx0, kx1) only (the window clipped to the image). */
static inline void NAME(px16)(const ct_direct *d, const ct_conv_shape *s, const float *in, int oy, int ox,
                              int cb, vf *a0, vf *a1)
{
    int k = d->k, cin = d->cin, C8 = d->cout8;
    int ix0 = ox * s->stride - s->pad_left;
    int kx0 = ix0 < 0 ? -ix0 : 0, kx1 = ix0 + k > s->w ? s->w - ix0 : k;
    for (int ky = 0; ky < k; ky++) {
        int iy = oy * s->stride + ky - s->pad_top;
        if (iy < 0 || iy >= s->h) continue;
        for (int kx = kx0; kx < kx1; kx++) {
            const float *ip = in + ((size_t)iy * s->w + ix0 + kx) * cin;
            const float *wp = d->w + ((size_t)(ky * k + kx) * cin) * C8 + cb;
            for (int ci = 0; ci < cin; ci++, wp += C8) {
                vf b = VSET1(ip[ci]);
                *a0 = VFMA(b, VLOAD(wp), *a0);
                if (a1) *a1 = VFMA(b, VLOAD(wp + 8), *a1);
            }
        }
    }
}

/* Stores n <= 2 VL channels from cb of one pixel through the epilogue: whole vectors with
 * vector arithmetic (the same operations, in the same order, as the scalar epilogue). */
static void NAME(store)(const ct_direct_job *j, int oy, int ox, int cb, int n, vf a0, vf a1)
{
    const ct_conv_shape *s = j->s;
    const ct_epilogue *ep = j->ep;
    float *out = j->out;
    size_t o = ((size_t)oy * s->ow + ox) * s->cout;
    const float *res = ep && ep->residual ? ep->residual + o : NULL;
    if (VL == 8 ? n == 16 || n == 8 : n == 16 || n == 32) { /* whole vectors (the 8-lane test kept as it was) */
        vf v[2] = {a0, a1};
        for (int q = 0; q < n / VL; q++) {
            int c = cb + VL * q;
            vf x = v[q];
            if (ep) {
                if (ep->bias) x = VADD(x, VLOAD(ep->bias + c));
                x = NAME(act)(x, ep->act, ep->alpha);
                if (res) x = NAME(act)(VADD(x, VLOAD(res + c)), ep->post_act, ep->post_alpha);
            }
            if (j->stream && !((uintptr_t)(out + o + c) % (VL * sizeof(float)))) VSTREAM(out + o + c, x);
            else VSTORE(out + o + c, x);
        }
        return;
    }
#if VL == 16
    if (n == 8 || n == 24) { /* a whole vector when 24, then 8 channels in a half one */
        const int h = n - 8;
        vf v[2] = {a0, a1};
        for (int q = 0; q < 2; q++) {
            if (!q && !h) continue;
            const int c = cb + (q ? h : 0);
            vf x = v[h ? q : 0];
            if (ep) {
                if (ep->bias) x = VADD(x, q ? VLOAD8(ep->bias + c) : VLOAD(ep->bias + c));
                x = NAME(act)(x, ep->act, ep->alpha);
                if (res) x = NAME(act)(VADD(x, q ? VLOAD8(res + c) : VLOAD(res + c)), ep->post_act, ep->post_alpha);
            }
            if (q) VSTORE8(out + o + c, x);
            else VSTORE(out + o + c, x);
        }
        return;
    }
#endif
    float tmp[2 * VL];
    VSTORE(tmp, a0);
    VSTORE(tmp + VL, a1);
    for (int i = 0; i < n; i++) out[o + cb + i] = NAME(epi)(ep, tmp[i], cb + i, res);
}

/* One pixel, every block of 16 output channels (the window clipped to the image). */
static void NAME(px_all)(const ct_direct_job *j, int oy, int ox)
{
    const ct_conv_shape *s = j->s;
    for (int cb = 0; cb < s->cout; cb += 16) {
        int n = s->cout - cb < 16 ? s->cout - cb : 16;
        vf a0 = VZERO, a1 = VZERO;
        NAME(px16)(j->d, s, j->in, oy, ox, cb, &a0, VL == 8 && n > 8 ? &a1 : NULL);
        NAME(store)(j, oy, ox, cb, n, a0, a1);
    }
}

#if VL == 8
/* Three neighbouring pixels (windows inside the row) by the last 17-24 output channels from
 * cb, three vectors: every broadcast input feeds three FMAs. As a 16-channel block then an
 * 8-channel one, each input was broadcast twice and the second block issued 7 loads per 6
 * FMAs (the student's stem, 3 -> 24, is a full-resolution layer). Sums in the same order. */
static void NAME(trio24)(const ct_direct_job *j, int oy, int ox, int ix0, int cb)
{
    const ct_direct *d = j->d;
    const ct_conv_shape *s = j->s;
    const int k = d->k, cin = d->cin, C8 = d->cout8, kc = k * cin;
    const size_t sc = (size_t)s->stride * cin;
    vf a0 = VZERO, a1 = VZERO, a2 = VZERO, b0 = VZERO, b1 = VZERO, b2 = VZERO, c0 = VZERO, c1 = VZERO, c2 = VZERO;
    for (int ky = 0; ky < k; ky++) {
        const int iy = oy * s->stride + ky - s->pad_top;
        if (iy < 0 || iy >= s->h) continue;
        const float *p0 = j->in + ((size_t)iy * s->w + ix0) * cin;
        const float *wp = d->w + ((size_t)ky * k * cin) * C8 + cb;
        for (int t = 0; t < kc; t++, wp += C8) {
            const vf w0 = VLOAD(wp), w1 = VLOAD(wp + 8), w2 = VLOAD(wp + 16);
            vf x = VSET1(p0[t]);
            a0 = VFMA(x, w0, a0); a1 = VFMA(x, w1, a1); a2 = VFMA(x, w2, a2);
            x = VSET1(p0[sc + t]);
            b0 = VFMA(x, w0, b0); b1 = VFMA(x, w1, b1); b2 = VFMA(x, w2, b2);
            x = VSET1(p0[2 * sc + t]);
            c0 = VFMA(x, w0, c0); c1 = VFMA(x, w1, c1); c2 = VFMA(x, w2, c2);
        }
    }
    const int n = s->cout - cb - 16;
    const NAME(fast_ep) fe = NAME(fast_of)(j->ep, j->out, s->cout, j->stream);
    if (fe.on && n == 8) { /* the stem: bias, leaky ReLU, streamed (the choices made once) */
        const size_t N = (size_t)s->cout;
        float *o = j->out + ((size_t)oy * s->ow + ox) * N + cb;
        const float *r = fe.residual ? j->ep->residual + ((size_t)oy * s->ow + ox) * N + cb : NULL;
        const float *bs = j->ep->bias + cb;
        const vf bv0 = VLOAD(bs), bv1 = VLOAD(bs + 8), bv2 = VLOAD(bs + 16), va = VSET1(j->ep->alpha);
#define TRIO(p, x0, x1, x2) CT_EP_PUT((p) * N, x0, bv0) CT_EP_PUT((p) * N + 8, x1, bv1) CT_EP_PUT((p) * N + 16, x2, bv2)
        CT_EP_DISPATCH(fe, TRIO(0, a0, a1, a2) TRIO(1, b0, b1, b2) TRIO(2, c0, c1, c2))
#undef TRIO
        return;
    }
    NAME(store)(j, oy, ox, cb, 16, a0, a1);
    NAME(store)(j, oy, ox, cb + 16, n, a2, VZERO);
    NAME(store)(j, oy, ox + 1, cb, 16, b0, b1);
    NAME(store)(j, oy, ox + 1, cb + 16, n, b2, VZERO);
    NAME(store)(j, oy, ox + 2, cb, 16, c0, c1);
    NAME(store)(j, oy, ox + 2, cb + 16, n, c2, VZERO);
}
#endif

/* The K loop of 6 neighbouring pixels by one or two vectors of output channels, over nky
 * kernel rows: for each, the pixels' input windows from p0 (sc floats apart, the next row
 * rs floats on) and the weights from wp (C8 floats per step, the next row ws on), kc steps;
 * the sums go to acc[12] (pixel q's vectors at 2q, 2q + 1). Its own function, so that its
 * few pointers stay in registers: inlined in the row kernel, GCC kept the pixels' offsets on
 * the stack and reloaded them every step (AVX-512 stride-2 layers at 45% of the FMA peak). */
static __attribute__((noinline)) void NAME(six)(const float *p0, size_t sc, size_t rs, const float *wp, size_t ws,
                                               int C8, int kc, int nky, int two, vf *acc)
{
    vf a00 = VZERO, a01 = VZERO, a10 = VZERO, a11 = VZERO, a20 = VZERO, a21 = VZERO;
    vf a30 = VZERO, a31 = VZERO, a40 = VZERO, a41 = VZERO, a50 = VZERO, a51 = VZERO;
    for (int r = 0; r < nky; r++, p0 += rs) {
        const float *q0 = p0, *q1 = q0 + sc, *q2 = q1 + sc, *q3 = q2 + sc, *q4 = q3 + sc, *q5 = q4 + sc;
        const float *w = wp + (size_t)r * ws;
        if (two) {
            for (int t = 0; t < kc; t++, w += C8) {
                vf w0 = VLOAD(w), w1 = VLOAD(w + VL), b;
                b = VSET1(q0[t]); a00 = VFMA(b, w0, a00); a01 = VFMA(b, w1, a01);
                b = VSET1(q1[t]); a10 = VFMA(b, w0, a10); a11 = VFMA(b, w1, a11);
                b = VSET1(q2[t]); a20 = VFMA(b, w0, a20); a21 = VFMA(b, w1, a21);
                b = VSET1(q3[t]); a30 = VFMA(b, w0, a30); a31 = VFMA(b, w1, a31);
                b = VSET1(q4[t]); a40 = VFMA(b, w0, a40); a41 = VFMA(b, w1, a41);
                b = VSET1(q5[t]); a50 = VFMA(b, w0, a50); a51 = VFMA(b, w1, a51);
            }
        } else {
            for (int t = 0; t < kc; t++, w += C8) {
                vf w0 = VLOAD(w);
                a00 = VFMA(VSET1(q0[t]), w0, a00);
                a10 = VFMA(VSET1(q1[t]), w0, a10);
                a20 = VFMA(VSET1(q2[t]), w0, a20);
                a30 = VFMA(VSET1(q3[t]), w0, a30);
                a40 = VFMA(VSET1(q4[t]), w0, a40);
                a50 = VFMA(VSET1(q5[t]), w0, a50);
            }
        }
    }
    acc[0] = a00, acc[1] = a01, acc[2] = a10, acc[3] = a11, acc[4] = a20, acc[5] = a21;
    acc[6] = a30, acc[7] = a31, acc[8] = a40, acc[9] = a41, acc[10] = a50, acc[11] = a51;
}

/* Pixel groups outside, channel blocks inside: the six pixels' input windows stay in L1 for
 * every block, and each pixel's output is written whole before the next group (block by
 * block over the whole row, a cout that is not a multiple of 16 wrote every cache line of
 * the row twice: 3 -> 24 took longer than 3 -> 32). */
static void NAME(row_cout)(const ct_direct_job *j, int oy)
{
    const ct_direct *d = j->d;
    const ct_conv_shape *s = j->s;
    int k = d->k, cin = d->cin, C8 = d->cout8, st = s->stride;
    int ox = 0;
    /* 6 pixels at once where their windows lie wholly inside the row: each weight vector
     * loaded feeds 6 FMAs, and the 12 accumulators (two vectors of channels) are enough
     * independent chains to keep both FMA units busy */
    for (; ox < s->ow; ox++) {
        int ix0 = ox * st - s->pad_left;
        if (ix0 >= 0 && ox + 5 < s->ow && (ox + 5) * st - s->pad_left + k <= s->w) break;
        NAME(px_all)(j, oy, ox);
    }
    const NAME(fast_ep) fe = NAME(fast_of)(j->ep, j->out, s->cout, j->stream);
    for (; ox + 5 < s->ow && (ox + 5) * st - s->pad_left + k <= s->w; ox += 6) {
        int ix0 = ox * st - s->pad_left;
        size_t sc = (size_t)st * cin;
        /* blocks of 16 channels, and with 16 lanes of 32 where 24 or more remain: two vectors give 12
         * accumulator chains, where one left 6, too few to hide the FMA latency (the 7x7 stem
         * and the stride-2 layers at 45-55% of the FMA peak on Zen 5) */
        for (int cb = 0, bw; cb < s->cout; cb += bw) {
            bw = VL == 16 && s->cout - cb >= 24 ? 32 : 16; /* 24: the second vector half used */
#if VL == 8
            if (s->cout - cb > 16 && s->cout - cb <= 24) { /* the last 17-24 channels */
                NAME(trio24)(j, oy, ox, ix0, cb);
                NAME(trio24)(j, oy, ox + 3, ix0 + 3 * st, cb);
                break;
            }
#endif
            int n = s->cout - cb < bw ? s->cout - cb : bw;
            int two = n > VL; /* 16 lanes, 16 channels: one vector holds the block */
            /* the kernel rows inside the image; the windows lie inside the row, so for one ky
             * the (kx, ci) pairs are consecutive floats both in the input and in the packed
             * weights */
            const int iy0 = oy * st - s->pad_top, ky0 = iy0 < 0 ? -iy0 : 0, ky1 = iy0 + k > s->h ? s->h - iy0 : k;
            vf acc[12];
            NAME(six)(j->in + ((size_t)(iy0 + ky0) * s->w + ix0) * cin, sc, (size_t)s->w * cin,
                      d->w + ((size_t)ky0 * k * cin) * C8 + cb, (size_t)k * cin * C8, C8, k * cin, ky1 - ky0, two, acc);
            const vf a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3], a20 = acc[4], a21 = acc[5];
            const vf a30 = acc[6], a31 = acc[7], a40 = acc[8], a41 = acc[9], a50 = acc[10], a51 = acc[11];
            if (fe.on && (n == 16 || n == 2 * VL)) { /* bias, leaky ReLU or none, residual or none: chosen once */
                const size_t N = (size_t)s->cout;
                float *o = j->out + ((size_t)oy * s->ow + ox) * N + cb;
                const float *r = fe.residual ? j->ep->residual + ((size_t)oy * s->ow + ox) * N + cb : NULL;
                const vf bv0 = VLOAD(j->ep->bias + cb), va = VSET1(j->ep->alpha);
                const vf bv1 = two ? VLOAD(j->ep->bias + cb + VL) : VZERO; /* 16 lanes, 16 channels: one vector */
#define SIX(p, x0, x1)                                                                                            \
    CT_EP_PUT((p) * N, x0, bv0)                                                                                   \
    if (two) CT_EP_PUT((p) * N + VL, x1, bv1)
                CT_EP_DISPATCH(fe, SIX(0, a00, a01) SIX(1, a10, a11) SIX(2, a20, a21) SIX(3, a30, a31)
                                       SIX(4, a40, a41) SIX(5, a50, a51))
#undef SIX
                continue;
            }
            NAME(store)(j, oy, ox, cb, n, a00, a01);
            NAME(store)(j, oy, ox + 1, cb, n, a10, a11);
            NAME(store)(j, oy, ox + 2, cb, n, a20, a21);
            NAME(store)(j, oy, ox + 3, cb, n, a30, a31);
            NAME(store)(j, oy, ox + 4, cb, n, a40, a41);
            NAME(store)(j, oy, ox + 5, cb, n, a50, a51);
        }
    }
    for (; ox < s->ow; ox++) NAME(px_all)(j, oy, ox);
}

/* Input channels in lanes, two neighbouring output pixels whose windows lie inside the row,
 * four filters (zero-padded when cout < 4): each weight vector loaded feeds two FMAs, each
 * input vector four, and all eight accumulators stay in registers. */
static void NAME(pair4)(const ct_direct_job *j, int oy, int ox, int ix0)
{
    const ct_direct *d = j->d;
    const ct_conv_shape *s = j->s;
    int k = d->k, cin = d->cin, cv = cin / VL * VL, st = s->stride;
    size_t kkc = (size_t)k * k * cin;
    vf a0 = VZERO, a1 = VZERO, a2 = VZERO, a3 = VZERO, b0 = VZERO, b1 = VZERO, b2 = VZERO, b3 = VZERO;
    float ta[4] = {0}, tb[4] = {0};
    for (int ky = 0; ky < k; ky++) {
        int iy = oy * st + ky - s->pad_top;
        if (iy < 0 || iy >= s->h) continue;
        for (int kx = 0; kx < k; kx++) {
            const float *p0 = j->in + ((size_t)iy * s->w + ix0 + kx) * cin, *p1 = p0 + (size_t)st * cin;
            const float *w0 = d->w + ((size_t)ky * k + kx) * cin, *w1 = w0 + kkc, *w2 = w1 + kkc, *w3 = w2 + kkc;
            for (int ci = 0; ci < cv; ci += VL) {
                vf x = VLOAD(p0 + ci), y = VLOAD(p1 + ci), w;
                w = VLOAD(w0 + ci); a0 = VFMA(x, w, a0); b0 = VFMA(y, w, b0);
                w = VLOAD(w1 + ci); a1 = VFMA(x, w, a1); b1 = VFMA(y, w, b1);
                w = VLOAD(w2 + ci); a2 = VFMA(x, w, a2); b2 = VFMA(y, w, b2);
                w = VLOAD(w3 + ci); a3 = VFMA(x, w, a3); b3 = VFMA(y, w, b3);
            }
            for (int ci = cv; ci < cin; ci++) {
                const float *wc[4] = {w0, w1, w2, w3};
                for (int co = 0; co < 4; co++) { ta[co] += p0[ci] * wc[co][ci]; tb[co] += p1[ci] * wc[co][ci]; }
            }
        }
    }
    float va[4] = {VHSUM(a0) + ta[0], VHSUM(a1) + ta[1], VHSUM(a2) + ta[2], VHSUM(a3) + ta[3]};
    float vb[4] = {VHSUM(b0) + tb[0], VHSUM(b1) + tb[1], VHSUM(b2) + tb[2], VHSUM(b3) + tb[3]};
    size_t o = ((size_t)oy * s->ow + ox) * s->cout;
    const float *res = j->ep && j->ep->residual ? j->ep->residual + o : NULL;
    for (int co = 0; co < s->cout; co++) {
        j->out[o + co] = NAME(epi)(j->ep, va[co], co, res);
        j->out[o + s->cout + co] = NAME(epi)(j->ep, vb[co], co, res ? res + s->cout : NULL);
    }
}

/* The common RGB-output case (cout = 3; cin a multiple of 8, or with 16 lanes k * cin a
 * multiple of 8): three neighbouring pixels by three filters, nine accumulators, every FMA
 * useful. With 16 lanes and k * cin = 8 mod 16 (the student's 5 x 5 window over 24 channels)
 * the last 8 of each row go in half vectors whose high lanes are zero: the general kernel
 * took 30 times as long on that layer. */
static void NAME(trio3)(const ct_direct_job *j, int oy, int ox, int ix0)
{
    const ct_direct *d = j->d;
    const ct_conv_shape *s = j->s;
    int k = d->k, cin = d->cin, st = s->stride;
    size_t kkc = (size_t)k * k * cin, sc = (size_t)st * cin;
    vf a0 = VZERO, a1 = VZERO, a2 = VZERO, b0 = VZERO, b1 = VZERO, b2 = VZERO, c0 = VZERO, c1 = VZERO, c2 = VZERO;
    for (int ky = 0; ky < k; ky++) {
        int iy = oy * st + ky - s->pad_top;
        if (iy < 0 || iy >= s->h) continue;
        /* the window rows are contiguous: (kx, ci) runs over k * cin consecutive floats */
        const float *p0 = j->in + ((size_t)iy * s->w + ix0) * cin, *p1 = p0 + sc, *p2 = p1 + sc;
        const float *w0 = d->w + (size_t)ky * k * cin, *w1 = w0 + kkc, *w2 = w1 + kkc;
        const int n = k * cin;
        int t = 0;
        for (; t + VL <= n; t += VL) {
            vf x = VLOAD(p0 + t), y = VLOAD(p1 + t), z = VLOAD(p2 + t), w;
            w = VLOAD(w0 + t); a0 = VFMA(x, w, a0); b0 = VFMA(y, w, b0); c0 = VFMA(z, w, c0);
            w = VLOAD(w1 + t); a1 = VFMA(x, w, a1); b1 = VFMA(y, w, b1); c1 = VFMA(z, w, c1);
            w = VLOAD(w2 + t); a2 = VFMA(x, w, a2); b2 = VFMA(y, w, b2); c2 = VFMA(z, w, c2);
        }
#if VL == 16
        if (t < n) { /* n % 16 == 8 */
            vf x = VLOAD8(p0 + t), y = VLOAD8(p1 + t), z = VLOAD8(p2 + t), w;
            w = VLOAD8(w0 + t); a0 = VFMA(x, w, a0); b0 = VFMA(y, w, b0); c0 = VFMA(z, w, c0);
            w = VLOAD8(w1 + t); a1 = VFMA(x, w, a1); b1 = VFMA(y, w, b1); c1 = VFMA(z, w, c1);
            w = VLOAD8(w2 + t); a2 = VFMA(x, w, a2); b2 = VFMA(y, w, b2); c2 = VFMA(z, w, c2);
        }
#endif
    }
    size_t o = ((size_t)oy * s->ow + ox) * 3;
    const ct_epilogue *ep = j->ep;
    const float *res = ep && ep->residual ? ep->residual + o : NULL;
#ifdef VHSUM8
    /* The nine results lie contiguous in the output (3 pixels x 3 channels): the first eight
     * are reduced and finished as one vector (the scalar epilogue's operations, lane by lane),
     * the ninth alone. The reductions and scalar epilogue were 40% of this layer's time. */
    vf v = VHSUM8(a0, a1, a2, b0, b1, b2, c0, c1);
    if (ep) {
        if (ep->bias) {
            const float *b = ep->bias;
            float bp[8] = {b[0], b[1], b[2], b[0], b[1], b[2], b[0], b[1]};
            v = VADD(v, VLOAD(bp));
        }
        v = NAME(act)(v, ep->act, ep->alpha);
        if (res) v = NAME(act)(VADD(v, VLOAD(res)), ep->post_act, ep->post_alpha);
    }
    VSTORE(j->out + o, v);
    j->out[o + 8] = NAME(epi)(ep, VHSUM(c2), 2, res ? res + 6 : NULL);
#else
    float v[9] = {VHSUM(a0), VHSUM(a1), VHSUM(a2), VHSUM(b0), VHSUM(b1), VHSUM(b2), VHSUM(c0), VHSUM(c1), VHSUM(c2)};
    for (int q = 0; q < 9; q++) j->out[o + q] = NAME(epi)(ep, v[q], q % 3, res ? res + q / 3 * 3 : NULL);
#endif
}

#if VL == 16
/* Four neighbouring pixels by the three filters (16 lanes: 12 accumulators, 4 input and 1
 * weight vector of 32 registers), the same steps per output as NAME(trio3), so the same bits;
 * 12 FMA chains where three pixels kept 9 (the RGB-output 7x7 at 1024 on Zen 5: MEASURED). */
/* One step of NAME(quad3): 16 values (half: 8, the high lanes zero) of the four pixels'
 * window rows (p0, sc floats apart) by the three filters' (w[f]) at t. */
static inline __attribute__((always_inline)) void NAME(qstep)(vf a[4][3], const float *p0, size_t sc,
                                                              const float *const *w, int t, const int half)
{
    vf x[4];
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) x[q] = half ? VLOAD8(p0 + q * sc + t) : VLOAD(p0 + q * sc + t);
#pragma GCC unroll 3
    for (int f = 0; f < 3; f++) {
        const vf wv = half ? VLOAD8(w[f] + t) : VLOAD(w[f] + t);
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) a[q][f] = VFMA(x[q], wv, a[q][f]);
    }
}

static void NAME(quad3)(const ct_direct_job *j, int oy, int ox, int ix0)
{
    const ct_direct *d = j->d;
    const ct_conv_shape *s = j->s;
    const int k = d->k, cin = d->cin, st = s->stride, n = k * cin;
    const size_t kkc = (size_t)k * k * cin, sc = (size_t)st * cin;
    vf a[4][3];
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) a[q][0] = a[q][1] = a[q][2] = VZERO;
    for (int ky = 0; ky < k; ky++) {
        const int iy = oy * st + ky - s->pad_top;
        if (iy < 0 || iy >= s->h) continue;
        const float *p0 = j->in + ((size_t)iy * s->w + ix0) * cin;
        const float *w[3] = {d->w + (size_t)ky * n, d->w + (size_t)ky * n + kkc, d->w + (size_t)ky * n + 2 * kkc};
        int t = 0;
        for (; t + VL <= n; t += VL) NAME(qstep)(a, p0, sc, w, t, 0);
        if (t < n) NAME(qstep)(a, p0, sc, w, t, 1); /* n % 16 == 8 */
    }
    const size_t o = ((size_t)oy * s->ow + ox) * 3;
    const ct_epilogue *ep = j->ep;
    const float *res = ep && ep->residual ? ep->residual + o : NULL;
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++)
#pragma GCC unroll 3
        for (int f = 0; f < 3; f++)
            j->out[o + 3 * q + f] = NAME(epi)(ep, VHSUM(a[q][f]), f, res ? res + 3 * q : NULL);
}
#endif

/* Input channels in lanes (cout < 8): one dot product of the window with each filter. */
static void NAME(row_cin)(const ct_direct_job *j, int oy)
{
    const ct_direct *d = j->d;
    const ct_conv_shape *s = j->s;
    int k = d->k, cin = d->cin, cv = cin / VL * VL;
    for (int ox = 0; ox < s->ow; ox++) {
        int ix0 = ox * s->stride - s->pad_left;
#if VL == 16
        if (d->cout == 3 && (k * cin) % 8 == 0 && ix0 >= 0 && ox + 3 < s->ow &&
            (ox + 3) * s->stride - s->pad_left + k <= s->w) {
            NAME(quad3)(j, oy, ox, ix0);
            ox += 3;
            continue;
        }
#endif
        if (d->cout == 3 && (VL == 8 ? cin % 8 == 0 : (k * cin) % 8 == 0) && ix0 >= 0 && ox + 2 < s->ow &&
            (ox + 2) * s->stride - s->pad_left + k <= s->w) {
            NAME(trio3)(j, oy, ox, ix0);
            ox += 2;
            continue;
        }
        if (d->cout <= 4 && ix0 >= 0 && ox + 1 < s->ow && (ox + 1) * s->stride - s->pad_left + k <= s->w) {
            NAME(pair4)(j, oy, ox, ix0);
            ox++;
            continue;
        }
        int kx0 = ix0 < 0 ? -ix0 : 0, kx1 = ix0 + k > s->w ? s->w - ix0 : k;
        vf acc[8];
        float tail[8] = {0};
        for (int co = 0; co < s->cout; co++) acc[co] = VZERO;
        for (int ky = 0; ky < k; ky++) {
            int iy = oy * s->stride + ky - s->pad_top;
            if (iy < 0 || iy >= s->h) continue;
            for (int kx = kx0; kx < kx1; kx++) {
                const float *ip = j->in + ((size_t)iy * s->w + ix0 + kx) * cin;
                for (int co = 0; co < s->cout; co++) {
                    const float *wp = d->w + (((size_t)co * k + ky) * k + kx) * cin;
                    vf a = acc[co];
                    for (int ci = 0; ci < cv; ci += VL) a = VFMA(VLOAD(ip + ci), VLOAD(wp + ci), a);
                    acc[co] = a;
                    for (int ci = cv; ci < cin; ci++) tail[co] += ip[ci] * wp[ci];
                }
            }
        }
        size_t o = ((size_t)oy * s->ow + ox) * s->cout;
        const float *res = j->ep && j->ep->residual ? j->ep->residual + o : NULL;
        for (int co = 0; co < s->cout; co++) j->out[o + co] = NAME(epi)(j->ep, VHSUM(acc[co]) + tail[co], co, res);
    }
}

void NAME(ct_direct_row)(void *job, int oy, int tid)
{
    const ct_direct_job *j = job;
    if (j->d->lanes_in_cin) NAME(row_cin)(j, oy);
    else NAME(row_cout)(j, oy);
    if (j->stream) VFENCE(); /* the streamed stores reach memory before the pool's barrier */
}
