/* The depthwise + pointwise kernels (dwpw.h), written once over a vector type: each
 * instantiation file includes its instruction set's vector vocabulary (vec_avx2.h,
 * vec_avx512.h, vec_v16_avx2.h for the 16-lane test build, vec8_generic.h for the portable
 * one), defines NAME and includes this. MR, the pixels of one GEMM block, is 6 with 8 lanes
 * (12 accumulators of two vectors: all but 4 of AVX2's 16 registers) and 12 with 16 lanes
 * (24 of AVX-512's 32); with 8 lanes a panel's last 17-24 channels take 4 pixels by three
 * vectors. Channels the vectors do not cover (c % VL) take the scalar form of the same
 * expression, except with 16 lanes a last 8 (24 or 40 channels: the student's width), which
 * take a vector with its high lanes zero (VLOAD8 / VSTORE8): as scalars they made the AVX-512
 * student slower than the AVX2 one. */
#include <stdint.h>
#include <string.h>
#include "dwpw.h"
#include "epilogue_impl.h"
#if VL == 8
#define MR 6
#define FOR_MR(X) X(0) X(1) X(2) X(3) X(4) X(5)
#elif VL == 16
#define MR 12
#define FOR_MR(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#else
#error "dwpw_impl.h: VL must be 8 or 16"
#endif

/* ---- the depthwise of one source into the chunk buffer */

/* N (4 or 8, a constant where this is inlined) neighbouring output pixels of a 3x3 depthwise
 * (stride st, 1 or 2, likewise constant) whose windows lie inside the row, the first starting
 * at column rx of the row arrays: channels [0, cv) of source q in whole vectors, into o (the
 * first pixel's place in the chunk buffer, at the source's first channel). The loop over
 * channels is inside the pixel group, so each input row is read as one contiguous run of
 * ((N - 1) st + 3) pixels, every input vector feeds up to three FMAs, and N accumulator chains
 * run side by side (eight hide the FMA latency that four, of nine dependent FMAs each, leave
 * exposed); products are summed row by row, column by column, as the naive kernel sums them.
 * The loops over the N pixels unroll completely, so the accumulators live in registers. */
static inline __attribute__((always_inline)) void NAME(dw3xn_v)(const ct_dwpw_job *j, const float *const *rows,
                                                                int cs, int c0, int cb, int rx, float *o,
                                                                const int st, const int n, const int half)
{
#if VL == 16
#define LD(p) (half ? VLOAD8(p) : VLOAD(p))
#else
#define LD(p) VLOAD(p)
#endif
    const size_t C = (size_t)j->dw.cin, ldb = j->ldb;
    vf a[8];
#pragma GCC unroll 8
    for (int q = 0; q < n; q++) a[q] = VZERO;
    for (int r = 0; r < 3; r++) {
        if (!rows[r]) continue;
        const float *p = rows[r] + (size_t)rx * cs + cb;
        const float *wp = j->dw_w + 3 * r * C + c0 + cb;
        const vf w0 = LD(wp), w1 = LD(wp + C), w2 = LD(wp + 2 * C);
#pragma GCC unroll 8
        for (int q = 0; q < n; q++) {
            a[q] = VFMA(LD(p + (size_t)(st * q) * cs), w0, a[q]);
            a[q] = VFMA(LD(p + (size_t)(st * q + 1) * cs), w1, a[q]);
            a[q] = VFMA(LD(p + (size_t)(st * q + 2) * cs), w2, a[q]);
        }
    }
    const vf bias = j->dw_b ? LD(j->dw_b + c0 + cb) : VZERO;
#pragma GCC unroll 8
    for (int q = 0; q < n; q++) {
        const vf v = NAME(act)(VADD(a[q], bias), j->dw_act, j->dw_alpha);
#if VL == 16
        if (half) VSTORE8(o + q * ldb + cb, v);
        else
#endif
            VSTORE(o + q * ldb + cb, v);
    }
#undef LD
}

static inline __attribute__((always_inline)) void NAME(dw3xn)(const ct_dwpw_job *j, const float *const *rows,
                                                              int cs, int c0, int cv, int rx, float *o, const int st,
                                                              const int n)
{
    for (int cb = 0; cb < cv; cb += VL) NAME(dw3xn_v)(j, rows, cs, c0, cb, rx, o, st, n, 0);
#if VL == 16
    if (cs - cv == 8) NAME(dw3xn_v)(j, rows, cs, c0, cv, rx, o, st, n, 1);
#endif
}

/* One output pixel x of any odd k, its window clipped to the image: channels [0, cv) in whole
 * vectors. The row arrays start at image column bx. */
static void NAME(dw_px)(const ct_dwpw_job *j, const float *const *rows, int bx, int cs, int c0, int cv, int x,
                        float *o)
{
    const ct_conv_shape *s = &j->dw;
    const int k = s->k;
    const size_t C = (size_t)s->cin;
    const int ix = x * s->stride - s->pad_left;
    const int kx0 = ix < 0 ? -ix : 0, kx1 = ix + k > s->w ? s->w - ix : k;
    for (int cb = 0; cb < cv; cb += VL) {
        vf a = VZERO;
        for (int ky = 0; ky < k; ky++) {
            if (!rows[ky]) continue;
            for (int kx = kx0; kx < kx1; kx++)
                a = VFMA(VLOAD(rows[ky] + (size_t)(ix + kx - bx) * cs + cb), VLOAD(j->dw_w + (ky * k + kx) * C + c0 + cb),
                         a);
        }
        const vf bias = j->dw_b ? VLOAD(j->dw_b + c0 + cb) : VZERO;
        VSTORE(o + cb, NAME(act)(VADD(a, bias), j->dw_act, j->dw_alpha));
    }
#if VL == 16
    if (cs - cv == 8) { /* the last 8 channels, high lanes zero */
        vf a = VZERO;
        for (int ky = 0; ky < k; ky++) {
            if (!rows[ky]) continue;
            for (int kx = kx0; kx < kx1; kx++)
                a = VFMA(VLOAD8(rows[ky] + (size_t)(ix + kx - bx) * cs + cv),
                         VLOAD8(j->dw_w + (ky * k + kx) * C + c0 + cv), a);
        }
        const vf bias = j->dw_b ? VLOAD8(j->dw_b + c0 + cv) : VZERO;
        const vf v = NAME(act)(VADD(a, bias), j->dw_act, j->dw_alpha);
        VSTORE8(o + cv, v);
    }
#endif
}

/* Channels [cv, cs) of source q (fewer than a vector) for the chunk's pixels, scalar. */
static void NAME(dw_tail)(const ct_dwpw_job *j, const float *const *rows, int bx, int cs, int c0, int cv, int x0,
                          int np, float *buf)
{
    const ct_conv_shape *s = &j->dw;
    const int k = s->k;
    const size_t C = (size_t)s->cin;
    for (int x = x0; x < x0 + np; x++) {
        const int ix = x * s->stride - s->pad_left;
        const int kx0 = ix < 0 ? -ix : 0, kx1 = ix + k > s->w ? s->w - ix : k;
        for (int c = cv; c < cs; c++) {
            float a = 0.f;
            for (int ky = 0; ky < k; ky++) {
                if (!rows[ky]) continue;
                for (int kx = kx0; kx < kx1; kx++)
                    a += rows[ky][(size_t)(ix + kx - bx) * cs + c] * j->dw_w[(ky * k + kx) * C + c0 + c];
            }
            const float b = j->dw_b ? j->dw_b[c0 + c] : 0.f;
            buf[(size_t)(x - x0) * j->ldb + c0 + c] = ct_activate(a + b, j->dw_act, j->dw_alpha);
        }
    }
}

/* Source q's channels of the chunk's pixels [x0, x0 + np) of output row oy, into
 * buf[(x - x0) * ldb + c0 + c]. rows[ky] is the input row of tap row ky from image column bx,
 * NULL where it lies outside the image (SAME padding). */
static void NAME(dw)(const ct_dwpw_job *j, int q, int c0, int x0, int np, float *buf, const float *const *rows,
                     int bx)
{
    const ct_conv_shape *s = &j->dw;
    const int cs = j->src_c[q], cv = cs / VL * VL, st = s->stride;
    for (int x = x0; x < x0 + np;) {
        const int ix = x * st - s->pad_left;
        float *o = buf + (size_t)(x - x0) * j->ldb + c0;
        if (s->k == 3 && (st == 1 || st == 2) && ix >= 0 && x + 8 <= x0 + np && ix + 7 * st + 3 <= s->w) {
            if (st == 1) NAME(dw3xn)(j, rows, cs, c0, cv, ix - bx, o, 1, 8);
            else NAME(dw3xn)(j, rows, cs, c0, cv, ix - bx, o, 2, 8);
            x += 8;
        } else if (s->k == 3 && (st == 1 || st == 2) && ix >= 0 && x + 4 <= x0 + np && ix + 3 * st + 3 <= s->w) {
            if (st == 1) NAME(dw3xn)(j, rows, cs, c0, cv, ix - bx, o, 1, 4);
            else NAME(dw3xn)(j, rows, cs, c0, cv, ix - bx, o, 2, 4);
            x += 4;
        } else {
            NAME(dw_px)(j, rows, bx, cs, c0, cv, x, o);
            x++;
        }
    }
    if (cv < cs && !(VL == 16 && cs - cv == 8)) NAME(dw_tail)(j, rows, bx, cs, c0, cv, x0, np, buf);
}

/* One upsampled pixel from its source pixels a (b: the next column, c: the next row, d: both):
 * even outputs copy (xo, yo = 0), odd ones take half the way to the neighbour, horizontally
 * first, as ct_upsample2x does it, so the same bits. Copying instead of adding 0 x (b - a)
 * skips a quarter to three quarters of the arithmetic. */
/* One vector of it from the four source vectors (those the offsets do not use are dead). */
static inline __attribute__((always_inline)) vf NAME(upv)(vf t, vf b, vf u, vf d, const int xo, const int yo)
{
    const vf h = VSET1(0.5f);
    if (xo) t = VADD(t, VMUL(h, VSUB(b, t)));
    if (yo) {
        if (xo) u = VADD(u, VMUL(h, VSUB(d, u)));
        t = VADD(t, VMUL(h, VSUB(u, t)));
    }
    return t;
}

static inline __attribute__((always_inline)) void NAME(uppx)(const float *a, const float *b, const float *c,
                                                             const float *d, float *dst, int cs, int cv, const int xo,
                                                             const int yo)
{
    for (int k = 0; k < cv; k += VL)
        VSTORE(dst + k, NAME(upv)(VLOAD(a + k), VLOAD(b + k), VLOAD(c + k), VLOAD(d + k), xo, yo));
#if VL == 16
    if (cs - cv == 8) { /* the same arithmetic as the scalar tail, lane by lane */
        const vf t = NAME(upv)(VLOAD8(a + cv), VLOAD8(b + cv), VLOAD8(c + cv), VLOAD8(d + cv), xo, yo);
        VSTORE8(dst + cv, t);
        return;
    }
#endif
    for (int k = cv; k < cs; k++) {
        float t = a[k];
        if (xo) t = t + 0.5f * (b[k] - t);
        if (yo) {
            float u = c[k];
            if (xo) u = u + 0.5f * (d[k] - u);
            t = t + 0.5f * (u - t);
        }
        dst[k] = t;
    }
}

/* Row iy, columns [xa, xb), of the 2x upsampling of source q (h/2 x w/2) into dst (cs floats
 * per column): per value the operations of ct_upsample2x, in its order. */
static void NAME(uprow)(const ct_dwpw_job *j, int q, int iy, int xa, int xb, float *dst)
{
    const int cs = j->src_c[q], cv = cs / VL * VL, h2 = j->dw.h / 2, w2 = j->dw.w / 2;
    const int bil = j->src_up[q] == CT_DWPW_UP_BILINEAR;
    const int y0 = iy / 2, y1 = (iy & 1) && y0 + 1 < h2 ? y0 + 1 : y0, yo = bil && (iy & 1);
    const float *r0 = j->src[q] + (size_t)y0 * w2 * cs, *r1 = j->src[q] + (size_t)y1 * w2 * cs;
    for (int x = xa; x < xb; x++, dst += cs) {
        const int x0 = x / 2, x1 = (x & 1) && x0 + 1 < w2 ? x0 + 1 : x0, xo = bil && (x & 1);
        const float *a = r0 + (size_t)x0 * cs, *b = r0 + (size_t)x1 * cs;
        const float *c = r1 + (size_t)x0 * cs, *d = r1 + (size_t)x1 * cs;
        if (yo) {
            if (xo) NAME(uppx)(a, b, c, d, dst, cs, cv, 1, 1);
            else NAME(uppx)(a, b, c, d, dst, cs, cv, 0, 1);
        } else {
            if (xo) NAME(uppx)(a, b, c, d, dst, cs, cv, 1, 0);
            else NAME(uppx)(a, b, c, d, dst, cs, cv, 0, 0);
        }
    }
}

/* Whether a panel whose last rem channels remain runs them as 4 x 24 blocks (NAME(block3)). */
static inline int NAME(tail3)(int rem) { return VL == 8 && rem > 2 * VL && rem <= 3 * VL; }

/* ---- prefetching what the next output row of a tile reads */

/* Byte ranges to prefetch while the GEMM of a chunk row runs: the input rows the next output
 * row reads that this one did not (k - stride... k - 1 of each source), its residual and its
 * output (stores read their lines first). The GEMM is long enough (tens of microseconds) to
 * bring them from memory, where the depthwise, with little arithmetic per byte, would
 * otherwise wait for them. Each GEMM block issues its share one by one inside its K loop:
 * issued all at once, prefetches wait for free miss buffers and stall the core. */
#define PF_MAX (2 * CT_DWPW_MAX_SRC + 2)
#define PF_LINES 32 /* most lines one block issues */
typedef struct {
    const char *p[PF_MAX], *end[PF_MAX];
    int n, cur;
    int per_block; /* lines each GEMM block takes: all of them by the last one */
} NAME(pf);

static inline void NAME(pf_add)(NAME(pf) *f, const float *p, size_t floats)
{
    if (f->n < PF_MAX && floats) {
        f->p[f->n] = (const char *)((uintptr_t)p & ~(uintptr_t)63);
        f->end[f->n++] = (const char *)(p + floats);
    }
}

/* The next (at most max) line addresses, into lines[]; returns how many. */
static inline int NAME(pf_take)(NAME(pf) *f, const char **lines, int max)
{
    int n = 0;
    while (f && n < max && f->cur < f->n) {
        lines[n++] = f->p[f->cur];
        f->p[f->cur] += 64;
        if (f->p[f->cur] >= f->end[f->cur]) f->cur++;
    }
    return n;
}

/* What output row oy + 1 of the chunk [x0, x0 + np) will read that row oy did not. */
static void NAME(pf_next_row)(const ct_dwpw_job *j, int oy, int x0, int np, NAME(pf) *f)
{
    const ct_conv_shape *s = &j->dw;
    f->n = f->cur = 0;
    int ixa = x0 * s->stride - s->pad_left, ixb = (x0 + np - 1) * s->stride - s->pad_left + s->k;
    if (ixa < 0) ixa = 0;
    if (ixb > s->w) ixb = s->w;
    for (int q = 0; q < j->n_src; q++)
        for (int ky = s->k - s->stride; ky < s->k; ky++) {
            int iy = (oy + 1) * s->stride + ky - s->pad_top;
            if (ky < 0 || iy < 0 || iy >= s->h || ixb <= ixa) continue;
            const size_t cs = (size_t)j->src_c[q];
            if (j->src_up[q] == CT_DWPW_PLAIN)
                NAME(pf_add)(f, j->src[q] + ((size_t)iy * s->w + ixa) * cs, (size_t)(ixb - ixa) * cs);
            else { /* the last half-size row upsampled row iy reads (row iy - 1 read the one before) */
                const int h2 = s->h / 2, w2 = s->w / 2;
                const int y = (iy + 1) / 2 < h2 ? (iy + 1) / 2 : h2 - 1, xe = (ixb + 1) / 2 < w2 ? (ixb + 1) / 2 : w2;
                NAME(pf_add)(f, j->src[q] + ((size_t)y * w2 + ixa / 2) * cs, (size_t)(xe - ixa / 2) * cs);
            }
        }
    const size_t o = ((size_t)(oy + 1) * s->ow + x0) * j->pw->cout, n = (size_t)np * j->pw->cout;
    if (j->ep && j->ep->residual) NAME(pf_add)(f, j->ep->residual + o, n);
    if (!j->stream) NAME(pf_add)(f, j->out + o, n); /* streamed lines are never read */
    size_t lines = 0;
    for (int r = 0; r < f->n; r++) lines += (size_t)(f->end[r] - f->p[r] + 63) / 64;
    size_t blocks = 0; /* the GEMM blocks of the chunk, as NAME(gemm) runs them */
    for (int co = 0; co < j->pw->cout; co += CT_PW_PANEL) {
        const int rem = j->pw->cout - co < CT_PW_PANEL ? j->pw->cout - co : CT_PW_PANEL;
        if (NAME(tail3)(rem)) blocks += (size_t)(np + 3) / 4;
        else blocks += (size_t)((rem + 2 * VL - 1) / (2 * VL)) * (size_t)((np + MR - 1) / MR);
    }
    f->per_block = (int)((lines + blocks - 1) / blocks);
    if (f->per_block > PF_LINES) f->per_block = PF_LINES;
}

/* ---- the pointwise GEMM with its epilogue */

/* Stores n <= 2 VL output channels from co of pixel px through the epilogue: whole vectors
 * with vector arithmetic (the same operations, in the same order, as the scalar epilogue). */
static inline __attribute__((always_inline)) void NAME(store)(const ct_dwpw_job *j, size_t px, int co, int n, vf a0,
                                                              vf a1)
{
    const ct_epilogue *ep = j->ep;
    const int N = j->pw->cout;
    float *o = j->out + px * N + co;
    const float *res = ep && ep->residual ? ep->residual + px * N + co : NULL;
    if (n == VL || n == 2 * VL) {
        vf v[2] = {a0, a1};
        for (int q = 0; q < n / VL; q++) {
            vf x = v[q];
            if (ep) {
                if (ep->bias) x = VADD(x, VLOAD(ep->bias + co + VL * q));
                x = NAME(act)(x, ep->act, ep->alpha);
                if (res) x = NAME(act)(VADD(x, VLOAD(res + VL * q)), ep->post_act, ep->post_alpha);
            }
            if (j->stream && !((uintptr_t)(o + VL * q) % (VL * sizeof(float)))) VSTREAM(o + VL * q, x);
            else VSTORE(o + VL * q, x);
        }
        return;
    }
#if VL == 16
    if (n == 8 || n == 24) { /* a whole vector when 24, then 8 channels in a half one */
        const int h = n - 8;
        if (h) {
            vf y = a0;
            if (ep) {
                if (ep->bias) y = VADD(y, VLOAD(ep->bias + co));
                y = NAME(act)(y, ep->act, ep->alpha);
                if (res) y = NAME(act)(VADD(y, VLOAD(res)), ep->post_act, ep->post_alpha);
            }
            VSTORE(o, y);
        }
        vf x = h ? a1 : a0;
        if (ep) {
            if (ep->bias) x = VADD(x, VLOAD8(ep->bias + co + h));
            x = NAME(act)(x, ep->act, ep->alpha);
            if (res) x = NAME(act)(VADD(x, VLOAD8(res + h)), ep->post_act, ep->post_alpha);
        }
        VSTORE8(o + h, x);
        return;
    }
#endif
    float t[2 * VL];
    VSTORE(t, a0);
    VSTORE(t + VL, a1);
    for (int c = 0; c < n; c++) {
        float v = t[c];
        if (ep) {
            if (ep->bias) v += ep->bias[co + c];
            v = ct_activate(v, ep->act, ep->alpha);
            if (res) v = ct_activate(v + res[c], ep->post_act, ep->post_alpha);
        }
        o[c] = v;
    }
}

#define DECL(p) vf c##p##a = VZERO, c##p##b = VZERO;
#define STEP2(p)                                                                                                  \
    {                                                                                                             \
        vf x_ = VSET1(a[(size_t)(p) * lda + k]);                                                                  \
        c##p##a = VFMA(x_, w0, c##p##a);                                                                          \
        c##p##b = VFMA(x_, w1, c##p##b);                                                                          \
    }
#define STEP1(p) { c##p##a = VFMA(VSET1(a[(size_t)(p) * lda + k]), w0, c##p##a); }
#define STORE(p) if ((p) < m) NAME(store)(j, px + (p), co, n, c##p##a, c##p##b);

/* MR pixels (rows of a, lda floats apart) by n <= 2 VL output channels from co: the weights
 * w are the panel's [K][CT_PW_PANEL] from the sub-panel's first channel. Every weight vector
 * loaded feeds MR FMAs and every broadcast input one or two; the accumulators stay in
 * registers for the whole K loop. Only the first m <= MR pixels are stored (all MR rows of a
 * must be readable). */
static __attribute__((noinline)) void NAME(block)(const ct_dwpw_job *j, const float *a, size_t lda, const float *w,
                                                  int K, size_t px, int co, int n, int m, const char *const *pl,
                                                  int npl)
{
    FOR_MR(DECL)
    /* one prefetch every other k, from a loop of two k steps while there are lines left, then
       a loop with no test in it: a test of the prefetch count in every step of one loop
       cost a fifth of the block's speed (Zen 3, L1-resident microbenchmark) */
    int next = 0, k = 0;
#define K2(...) /* the body: one k step, which advances k and w */                                              \
    while (k + 1 < K && next < npl) {                                                                             \
        __builtin_prefetch(pl[next++]);                                                                           \
        __VA_ARGS__ __VA_ARGS__                                                                                   \
    }                                                                                                             \
    while (k < K) { __VA_ARGS__ }
    if (n > VL) {
        K2({
            const vf w0 = VLOAD(w), w1 = VLOAD(w + VL);
            FOR_MR(STEP2)
            k++, w += CT_PW_PANEL;
        })
    } else {
        K2({
            const vf w0 = VLOAD(w);
            FOR_MR(STEP1)
            k++, w += CT_PW_PANEL;
        })
    }
    while (next < npl) __builtin_prefetch(pl[next++]);
    const NAME(fast_ep) fe = NAME(fast_of)(j->ep, j->out, j->pw->cout, j->stream);
    if (fe.on && n == 2 * VL) {
        const size_t N = (size_t)j->pw->cout;
        float *o = j->out + px * N + co;
        const float *r = fe.residual ? j->ep->residual + px * N + co : NULL;
        const vf b0 = VLOAD(j->ep->bias + co), b1 = VLOAD(j->ep->bias + co + VL), va = VSET1(j->ep->alpha);
#define FASTPX(p)                                                                                                 \
    if ((p) < m) {                                                                                                \
        CT_EP_PUT((p) * N, c##p##a, b0) CT_EP_PUT((p) * N + VL, c##p##b, b1)                                      \
    }
        CT_EP_DISPATCH(fe, FOR_MR(FASTPX))
#undef FASTPX
        return;
    }
    FOR_MR(STORE)
}

#if VL == 8
/* 4 pixels by 3 vectors (17-24 output channels, the rest of a panel): the same K loop with
 * three weight vectors per broadcast, 12 accumulators. A 6 x 16 block then a 6 x 8 one would
 * broadcast every input twice and the second would issue 7 loads per 6 FMAs. */
#define DECL3(p) vf c##p##a = VZERO, c##p##b = VZERO, c##p##c = VZERO;
#define STEP3(p)                                                                                                  \
    {                                                                                                             \
        vf x_ = VSET1(a[(size_t)(p) * lda + k]);                                                                  \
        c##p##a = VFMA(x_, w0, c##p##a);                                                                          \
        c##p##b = VFMA(x_, w1, c##p##b);                                                                          \
        c##p##c = VFMA(x_, w2, c##p##c);                                                                          \
    }
#define STORE3(p)                                                                                                 \
    if ((p) < m) {                                                                                                \
        NAME(store)(j, px + (p), co, 2 * VL, c##p##a, c##p##b);                                                   \
        NAME(store)(j, px + (p), co + 2 * VL, n - 2 * VL, c##p##c, VZERO);                                        \
    }
static void NAME(block3)(const ct_dwpw_job *j, const float *a, size_t lda, const float *w, int K, size_t px, int co,
                         int n, int m, const char *const *pl, int npl)
{
    DECL3(0) DECL3(1) DECL3(2) DECL3(3)
    int next = 0;
    for (int k = 0; k < K; k++, w += CT_PW_PANEL) {
        if (!(k & 1) && next < npl) __builtin_prefetch(pl[next++]);
        const vf w0 = VLOAD(w), w1 = VLOAD(w + VL), w2 = VLOAD(w + 2 * VL);
        STEP3(0) STEP3(1) STEP3(2) STEP3(3)
    }
    while (next < npl) __builtin_prefetch(pl[next++]);
    const NAME(fast_ep) fe = NAME(fast_of)(j->ep, j->out, j->pw->cout, j->stream);
    if (fe.on && n == 3 * VL) {
        const size_t N = (size_t)j->pw->cout;
        float *o = j->out + px * N + co;
        const float *r = fe.residual ? j->ep->residual + px * N + co : NULL;
        const vf b0 = VLOAD(j->ep->bias + co), b1 = VLOAD(j->ep->bias + co + VL), b2 = VLOAD(j->ep->bias + co + 2 * VL);
        const vf va = VSET1(j->ep->alpha);
#define FASTPX(p)                                                                                                 \
    if ((p) < m) {                                                                                                \
        CT_EP_PUT((p) * N, c##p##a, b0) CT_EP_PUT((p) * N + VL, c##p##b, b1) CT_EP_PUT((p) * N + 2 * VL, c##p##c, b2) \
    }
        CT_EP_DISPATCH(fe, FASTPX(0) FASTPX(1) FASTPX(2) FASTPX(3))
#undef FASTPX
        return;
    }
    STORE3(0) STORE3(1) STORE3(2) STORE3(3)
}
#undef DECL3
#undef STEP3
#undef STORE3
#endif

/* Fewer than MR pixels at the end of a tensor: one at a time. */
static void NAME(block_tail)(const ct_dwpw_job *j, const float *a, size_t lda, const float *w, int K, size_t px,
                             int co, int n, int m)
{
    for (int p = 0; p < m; p++) {
        vf s0 = VZERO, s1 = VZERO;
        const float *ap = a + (size_t)p * lda, *wp = w;
        for (int k = 0; k < K; k++, wp += CT_PW_PANEL) {
            vf x = VSET1(ap[k]);
            s0 = VFMA(x, VLOAD(wp), s0);
            if (n > VL) s1 = VFMA(x, VLOAD(wp + VL), s1);
        }
        NAME(store)(j, px + p, co, n, s0, s1);
    }
}

/* out[px0 + p] for the np pixels p of a (lda floats apart, rows readable: rows >= np; a
 * last partial block computes whole when it may read MR rows, which costs what a full block
 * costs, far less than pixels one at a time). The loop runs over sub-panels of 2 VL output
 * channels outside the pixel blocks, so a sub-panel's weights (K x 2 VL floats) stay in L1
 * while the chunk's pixels stream past them. */
static void NAME(gemm)(const ct_dwpw_job *j, const float *a, size_t lda, int np, size_t rows, size_t px0, NAME(pf) *f)
{
    const ct_pointwise *pw = j->pw;
    const int K = pw->cin, N = pw->cout;
    for (int pn = 0; pn < pw->panels; pn++)
        for (int sub = 0; sub < CT_PW_PANEL; sub += 2 * VL) {
            const int co = pn * CT_PW_PANEL + sub;
            if (co >= N) break;
#if VL == 8
            if (sub == 0 && NAME(tail3)(N - co)) { /* the panel's last 17-24 channels */
                const int n3 = N - co;
                const float *w3 = pw->w + (size_t)pn * K * CT_PW_PANEL;
                int p = 0;
                for (; p < np && (size_t)p + 4 <= rows; p += 4) {
                    const char *pl[PF_LINES];
                    const int npl = f ? NAME(pf_take)(f, pl, f->per_block) : 0;
                    NAME(block3)(j, a + (size_t)p * lda, lda, w3, K, px0 + p, co, n3, np - p < 4 ? np - p : 4, pl, npl);
                }
                if (p < np) {
                    NAME(block_tail)(j, a + (size_t)p * lda, lda, w3, K, px0 + p, co, 2 * VL, np - p);
                    NAME(block_tail)(j, a + (size_t)p * lda, lda, w3 + 2 * VL, K, px0 + p, co + 2 * VL, n3 - 2 * VL, np - p);
                }
                break;
            }
#endif
            const int n = N - co < 2 * VL ? N - co : 2 * VL;
            const float *w = pw->w + (size_t)pn * K * CT_PW_PANEL + sub;
            int p = 0;
            for (; p < np && (size_t)p + MR <= rows; p += MR) {
                const char *pl[PF_LINES];
                const int npl = f ? NAME(pf_take)(f, pl, f->per_block) : 0;
                NAME(block)(j, a + (size_t)p * lda, lda, w, K, px0 + p, co, n, np - p < MR ? np - p : MR, pl, npl);
            }
            if (p < np) NAME(block_tail)(j, a + (size_t)p * lda, lda, w, K, px0 + p, co, n, np - p);
        }
}

#undef DECL
#undef STEP2
#undef STEP1
#undef K2
#undef STORE

void NAME(ct_dwpw_tile)(void *arg, int i, int tid)
{
    const ct_dwpw_job *j = arg;
    const ct_conv_shape *s = &j->dw;
    float *buf = j->buf + (size_t)tid * j->share, *ring = buf + (size_t)j->chunk * j->ldb;
    const int x0 = i % j->col_chunks * j->chunk, y0 = i / j->col_chunks * j->band;
    const int np = s->ow - x0 < j->chunk ? s->ow - x0 : j->chunk, y1 = s->oh - y0 < j->band ? s->oh : y0 + j->band;
    /* the image columns the chunk reads */
    int ixa = x0 * s->stride - s->pad_left, ixb = (x0 + np - 1) * s->stride - s->pad_left + s->k;
    if (ixa < 0) ixa = 0;
    if (ixb > s->w) ixb = s->w;
    /* which upsampled row each ring slot holds (row iy in slot iy % k), for this tile */
    int held[CT_DWPW_MAX_SRC][CT_DWPW_MAX_K];
    for (int q = 0; q < j->n_src; q++)
        for (int r = 0; r < s->k; r++) held[q][r] = -1;
    NAME(pf) f;
    for (int oy = y0; oy < y1; oy++) {
        for (int q = 0, c0 = 0; q < j->n_src; c0 += j->src_c[q], q++) {
            const float *rows[CT_DWPW_MAX_K];
            const size_t cs = (size_t)j->src_c[q];
            for (int ky = 0; ky < s->k; ky++) {
                const int iy = oy * s->stride + ky - s->pad_top;
                if (iy < 0 || iy >= s->h) rows[ky] = NULL;
                else if (j->src_up[q] == CT_DWPW_PLAIN) rows[ky] = j->src[q] + (size_t)iy * s->w * cs;
                else {
                    float *slot = ring + j->ring_off[q] + (size_t)(iy % s->k) * j->ring_cols * cs;
                    if (held[q][iy % s->k] != iy) {
                        NAME(uprow)(j, q, iy, ixa, ixb, slot);
                        held[q][iy % s->k] = iy;
                    }
                    rows[ky] = slot;
                }
            }
            NAME(dw)(j, q, c0, x0, np, buf, rows, j->src_up[q] == CT_DWPW_PLAIN ? 0 : ixa);
        }
        if (oy + 1 < y1) NAME(pf_next_row)(j, oy, x0, np, &f);
        else f.n = f.cur = f.per_block = 0;
        NAME(gemm)(j, buf, j->ldb, np, (size_t)j->chunk, (size_t)oy * s->ow + x0, &f);
        const char *pl[PF_LINES]; /* whatever the blocks did not take */
        for (int n; (n = NAME(pf_take)(&f, pl, PF_LINES)) > 0;)
            for (int l = 0; l < n; l++) __builtin_prefetch(pl[l]);
    }
    if (j->stream) VFENCE(); /* the streamed stores reach memory before the pool's barrier */
}

void NAME(ct_pw_chunk)(void *arg, int i, int tid)
{
    const ct_dwpw_job *j = arg;
    const size_t p0 = (size_t)i * j->chunk;
    const int np = j->pixels - p0 < (size_t)j->chunk ? (int)(j->pixels - p0) : j->chunk;
    NAME(gemm)(j, j->src[0] + p0 * j->pw->cin, (size_t)j->pw->cin, np, j->pixels - p0, p0, NULL);
    if (j->stream) VFENCE();
}
#undef MR
#undef FOR_MR
#undef PF_MAX
#undef PF_LINES
