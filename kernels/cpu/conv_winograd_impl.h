/* Internal to conv_winograd*.c: the shared layout, and the kernels written once over a
 * vector type so the portable and the AVX2 file compile the same algorithm.
 *
 * Layout. Transformed weights u: [nblk][alpha^2][cin][16], cout padded with zeros to a
 * multiple of 16, so the GEMM micro-kernel reads one contiguous [cin][16] panel per
 * transform point. Per thread scratch: V [alpha^2][T][cin_pad] (transformed inputs of a
 * block of T tiles) then M [alpha^2][T][16] (products for one 16-wide block of cout). */
#ifndef CARTOON_CONV_WINOGRAD_IMPL_H
#define CARTOON_CONV_WINOGRAD_IMPL_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "conv.h"
#include "conv_winograd.h"

#define WG_NR 16 /* cout per GEMM column block */

struct ct_winograd {
    int m, alpha, cin, cout, cin_pad, nblk, tmax;
    float *u;     /* fp32 weights: [nblk][alpha^2][cin][16]; NULL in a bf16 one */
    uint16_t *ub; /* bf16 weights (ct_winograd_create_bf16): [nblk][alpha^2][kp][16][2] with
                   * kp = ceil(cin / 2) pairs of input channels, the pair of a lane adjacent as
                   * VDPBF16PS reads it; NULL in an fp32 one */
};

typedef struct wg_job {
    const ct_winograd *wg;
    const float *in;
    float *out;
    const float *bias, *residual;
    int act, post_act;
    float alpha, post_alpha;
    int h, w;
    int py, px;   /* the image's row 0 / column 0 sit at row py / column px of the first block */
    int tiles_x, ntiles, T;
    char *scratch;
    size_t per_thread, v_floats;
} wg_job;

#endif

/* ---- The kernel template: included by a .c file after defining
 *   WG_NAME(x)  a suffixed name;  vf, VL  the vector type and its float count (4, 8 or 16);
 *   VLOAD(p) VSTORE(p, v)  unaligned;  VSET1(x);  VFMA(a, b, c) = a*b + c;
 *   VMAX(a, b) = a > b ? a : b (ct_activate's exact choice);  MR  GEMM rows per micro-tile. */
#ifdef WG_TEMPLATE
#define WG_INLINE static inline __attribute__((always_inline))
#define NV (WG_NR / VL)

WG_INLINE vf WG_NAME(act)(vf v, int act, float a)
{
    if (act == ACT_RELU) return VMAX(v, VSET1(0.f));
    if (act == ACT_LEAKY_RELU) return VMAX(v, v * VSET1(a));
    return v;
}

/* B^T x for F(4x4,3x3), points 0, +-1, +-2, inf; x[i*s], in place. */
WG_INLINE void WG_NAME(bt4)(vf *x, int s)
{
    vf d0 = x[0], d1 = x[s], d2 = x[2 * s], d3 = x[3 * s], d4 = x[4 * s], d5 = x[5 * s];
    vf t1 = d4 - d2, t2 = d3 - d1;
    x[0] = (d0 - d2) * VSET1(4.f) + (d4 - d2);
    x[s] = (d3 + d4) - (d1 + d2) * VSET1(4.f);
    x[2 * s] = (d4 - d3) + (d1 - d2) * VSET1(4.f);
    x[3 * s] = t1 + t2 * VSET1(2.f);
    x[4 * s] = t1 - t2 * VSET1(2.f);
    x[5 * s] = (d1 - d3) * VSET1(4.f) + (d5 - d3);
}

/* A^T x for F(4x4,3x3): 6 -> 4. */
WG_INLINE void WG_NAME(at4)(vf *x, int s)
{
    vf m0 = x[0], m1 = x[s], m2 = x[2 * s], m3 = x[3 * s], m4 = x[4 * s], m5 = x[5 * s];
    vf a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4;
    x[0] = m0 + a + c;
    x[s] = b + d * VSET1(2.f);
    x[2 * s] = a + c * VSET1(4.f);
    x[3 * s] = b + d * VSET1(8.f) + m5;
}

/* B^T x for F(6x6,3x3), points 0, +-1, +-2, +-1/2, inf. */
WG_INLINE void WG_NAME(bt6)(vf *x, int s)
{
    vf d0 = x[0], d1 = x[s], d2 = x[2 * s], d3 = x[3 * s];
    vf d4 = x[4 * s], d5 = x[5 * s], d6 = x[6 * s], d7 = x[7 * s];
    x[0] = (d0 - d6) + (d4 - d2) * VSET1(5.25f);
    x[7 * s] = (d7 - d1) + (d3 - d5) * VSET1(5.25f);
    vf t1 = (d2 + d6) - d4 * VSET1(4.25f);
    vf t2 = (d1 + d5) - d3 * VSET1(4.25f);
    x[s] = t1 + t2;
    x[2 * s] = t1 - t2;
    t1 = d6 + d2 * VSET1(0.25f) - d4 * VSET1(1.25f);
    t2 = d1 * VSET1(0.5f) - d3 * VSET1(2.5f) + d5 * VSET1(2.f);
    x[3 * s] = t1 + t2;
    x[4 * s] = t1 - t2;
    t1 = d6 + (d2 - d4 * VSET1(1.25f)) * VSET1(4.f);
    t2 = d1 * VSET1(2.f) - d3 * VSET1(2.5f) + d5 * VSET1(0.5f);
    x[5 * s] = t1 + t2;
    x[6 * s] = t1 - t2;
}

/* A^T x for F(6x6,3x3): 8 -> 6. */
WG_INLINE void WG_NAME(at6)(vf *x, int s)
{
    vf m0 = x[0], m1 = x[s], m2 = x[2 * s], m3 = x[3 * s];
    vf m4 = x[4 * s], m5 = x[5 * s], m6 = x[6 * s], m7 = x[7 * s];
    vf a1 = m1 + m2, s1 = m1 - m2, a2 = m3 + m4, s2 = m3 - m4, a3 = m5 + m6, s3 = m5 - m6;
    x[0] = m0 + a1 + a2 + a3;
    x[s] = s1 + s2 * VSET1(2.f) + s3 * VSET1(0.5f);
    x[2 * s] = a1 + a2 * VSET1(4.f) + a3 * VSET1(0.25f);
    x[3 * s] = s1 + s2 * VSET1(8.f) + s3 * VSET1(0.125f);
    x[4 * s] = a1 + a2 * VSET1(16.f) + a3 * VSET1(0.0625f);
    x[5 * s] = s1 + s2 * VSET1(32.f) + s3 * VSET1(0.03125f) + m7;
}

WG_INLINE vf WG_NAME(load_part)(const float *p, int n)
{
    float t[VL] = {0};
    memcpy(t, p, (size_t)n * sizeof(float));
    return VLOAD(t);
}

/* The input rows [py0, py0 + A) x pixels [px0, px1) the next tile will read first. Each
 * channel group of a tile touches one cache line in each of A*A pixels, a pattern the
 * hardware prefetchers do not follow, so without this the loads wait on DRAM. */
typedef struct { const char *base; size_t row_bytes; int per_row, lines, next; } WG_NAME(pf);

WG_INLINE void WG_NAME(pf_init)(WG_NAME(pf) *pf, const wg_job *jb, int MC, int tile)
{
    pf->base = NULL;
    pf->row_bytes = 0;
    pf->per_row = pf->lines = pf->next = 0;
    if (tile >= jb->ntiles) return;
    const int A = MC + 2, cin = jb->wg->cin;
    const int ty = tile / jb->tiles_x, tx = tile % jb->tiles_x;
    int y0 = ty * MC - jb->py - 1, y1 = y0 + A, x0 = tx * MC - jb->px - 1, x1 = x0 + A;
    if (tx > 0) x0 = x1 - MC; /* its left columns were the current tile's right ones */
    if (y0 < 0) y0 = 0;
    if (y1 > jb->h) y1 = jb->h;
    if (x0 < 0) x0 = 0;
    if (x1 > jb->w) x1 = jb->w;
    if (y1 <= y0 || x1 <= x0) return;
    pf->row_bytes = (size_t)jb->w * cin * sizeof(float);
    pf->base = (const char *)(jb->in + ((size_t)y0 * jb->w + x0) * cin);
    pf->per_row = (int)(((size_t)(x1 - x0) * cin * sizeof(float) + 63) / 64);
    pf->lines = (y1 - y0) * pf->per_row;
}

/* Issues the next n of the prefetches, row by row. */
WG_INLINE void WG_NAME(pf_step)(WG_NAME(pf) *pf, int n)
{
    for (; n > 0 && pf->next < pf->lines; n--, pf->next++) {
        int r = pf->next / pf->per_row, l = pf->next % pf->per_row;
        __builtin_prefetch(pf->base + r * pf->row_bytes + (size_t)l * 64, 0, 3);
    }
}

/* Transforms the input tile whose top-left (padded) corner is (y0, x0) into
 * V[p * vps + c .. + VL) for every point p, for all channels; prefetches for the tile after. */
WG_INLINE void WG_NAME(in_tile)(const wg_job *jb, int MC, int y0, int x0, float *V, size_t vps,
                                int next_tile)
{
    const int A = MC + 2, cin = jb->wg->cin, h = jb->h, w = jb->w;
    const int interior = y0 >= 0 && x0 >= 0 && y0 + A <= h && x0 + A <= w;
    vf d[64];
    WG_NAME(pf) pf;
    WG_NAME(pf_init)(&pf, jb, MC, next_tile);
    const int ngroups = (cin + VL - 1) / VL, pf_per_group = (pf.lines + ngroups - 1) / ngroups;
    for (int c = 0; c < cin; c += VL) {
        WG_NAME(pf_step)(&pf, pf_per_group);
        const int nc = cin - c < VL ? cin - c : VL;
        if (interior && nc == VL) {
            const float *p0 = jb->in + ((size_t)y0 * w + x0) * cin + c;
            for (int i = 0; i < A; i++)
                for (int j = 0; j < A; j++) d[i * A + j] = VLOAD(p0 + ((size_t)i * w + j) * cin);
        } else {
            for (int i = 0; i < A; i++) {
                const int y = y0 + i;
                for (int j = 0; j < A; j++) {
                    const int x = x0 + j;
                    if (y < 0 || y >= h || x < 0 || x >= w) { d[i * A + j] = VSET1(0.f); continue; }
                    const float *p = jb->in + ((size_t)y * w + x) * cin + c;
                    d[i * A + j] = nc == VL ? VLOAD(p) : WG_NAME(load_part)(p, nc);
                }
            }
        }
        if (MC == 4) {
            for (int j = 0; j < A; j++) WG_NAME(bt4)(d + j, A);
            for (int i = 0; i < A; i++) WG_NAME(bt4)(d + i * A, 1);
        } else {
            for (int j = 0; j < A; j++) WG_NAME(bt6)(d + j, A);
            for (int i = 0; i < A; i++) WG_NAME(bt6)(d + i * A, 1);
        }
        for (int p = 0; p < A * A; p++) VSTORE(V + p * vps + c, d[p]);
    }
}

/* C[r][0..16) = sum_k A[r*lda + k] * B[k*16 + 0..16) for r < ROWS (a compile-time constant
 * after inlining, so the accumulators live in registers: the unroll counts must cover MR, or
 * GCC keeps acc[] on the stack; with 8 the AVX-512 kernel's 12 rows did, and ran slower than
 * the AVX2 one on Zen 5). */
WG_INLINE void WG_NAME(kern)(const int ROWS, int K, const float *A, size_t lda, const float *B,
                             float *C)
{
    vf acc[MR][NV];
#pragma GCC unroll 12
    for (int r = 0; r < ROWS; r++)
#pragma GCC unroll 12
        for (int v = 0; v < NV; v++) acc[r][v] = VSET1(0.f);
    for (int k = 0; k < K; k++) {
        vf b[NV];
#pragma GCC unroll 12
        for (int v = 0; v < NV; v++) b[v] = VLOAD(B + (size_t)k * WG_NR + v * VL);
#pragma GCC unroll 12
        for (int r = 0; r < ROWS; r++) {
            vf a = VSET1(A[(size_t)r * lda + k]);
#pragma GCC unroll 12
            for (int v = 0; v < NV; v++) acc[r][v] = VFMA(a, b[v], acc[r][v]);
        }
    }
#pragma GCC unroll 12
    for (int r = 0; r < ROWS; r++)
#pragma GCC unroll 12
        for (int v = 0; v < NV; v++) VSTORE(C + r * WG_NR + v * VL, acc[r][v]);
}

static void WG_NAME(gemm)(int rows, int K, const float *A, size_t lda, const float *B, float *C)
{
    int r = 0;
    for (; r + MR <= rows; r += MR) WG_NAME(kern)(MR, K, A + r * lda, lda, B, C + r * WG_NR);
#if MR > 6
    /* block sizes are multiples of 6 (WG_TMUL): a 6-row step leaves tails of < 6 rows */
    if (rows - r >= 6) { WG_NAME(kern)(6, K, A + r * lda, lda, B, C + r * WG_NR); r += 6; }
#endif
#if MR > 12
#error "conv_winograd_impl.h: MR up to 12"
#endif
    switch (rows - r) {
    case 0: break;
#if MR > 5
    case 5: WG_NAME(kern)(5, K, A + r * lda, lda, B, C + r * WG_NR); break;
    case 4: WG_NAME(kern)(4, K, A + r * lda, lda, B, C + r * WG_NR); break;
    case 3: WG_NAME(kern)(3, K, A + r * lda, lda, B, C + r * WG_NR); break;
#endif
#if MR > 2
    case 2: WG_NAME(kern)(2, K, A + r * lda, lda, B, C + r * WG_NR); break;
#endif
    default: /* 1 row at a time keeps the remainder cases few */
        for (; r < rows; r++) WG_NAME(kern)(1, K, A + r * lda, lda, B, C + r * WG_NR);
    }
}

/* Output transform of tile (ty, tx) for the channels [co0, co0 + ncv) of one 16-wide block,
 * M[p * mps + 0..16): transform, epilogue, store the pixels inside the image. */
WG_INLINE void WG_NAME(out_tile)(const wg_job *jb, int MC, int ty, int tx, const float *M,
                                 size_t mps, int co0, int ncv, const vf *bias)
{
    const int A = MC + 2, cout = jb->wg->cout, h = jb->h, w = jb->w;
    const int oy0 = ty * MC - jb->py, ox0 = tx * MC - jb->px;
    const int ny = h - oy0 < MC ? h - oy0 : MC, nx = w - ox0 < MC ? w - ox0 : MC;
    const int iy0 = oy0 < 0 ? -oy0 : 0, ix0 = ox0 < 0 ? -ox0 : 0; /* rows / columns before the image */
    vf m[64];
    for (int v = 0; v * VL < ncv; v++) {
        const int nc = ncv - v * VL < VL ? ncv - v * VL : VL;
        for (int p = 0; p < A * A; p++) m[p] = VLOAD(M + p * mps + v * VL);
        /* columns: rows 0..MC-1 of each column hold A^T m; then rows of those */
        if (MC == 4) {
            for (int j = 0; j < A; j++) WG_NAME(at4)(m + j, A);
            for (int i = 0; i < MC; i++) WG_NAME(at4)(m + i * A, 1);
        } else {
            for (int j = 0; j < A; j++) WG_NAME(at6)(m + j, A);
            for (int i = 0; i < MC; i++) WG_NAME(at6)(m + i * A, 1);
        }
        const int c = co0 + v * VL;
        for (int i = iy0; i < ny; i++)
            for (int j = ix0; j < nx; j++) {
                const size_t o = ((size_t)(oy0 + i) * w + (ox0 + j)) * cout + c;
                vf x = m[i * A + j] + bias[v];
                x = WG_NAME(act)(x, jb->act, jb->alpha);
                if (nc == VL) {
                    if (jb->residual) x = WG_NAME(act)(x + VLOAD(jb->residual + o), jb->post_act, jb->post_alpha);
                    VSTORE(jb->out + o, x);
                } else {
                    if (jb->residual) x = WG_NAME(act)(x + WG_NAME(load_part)(jb->residual + o, nc), jb->post_act, jb->post_alpha);
                    float t[VL];
                    VSTORE(t, x);
                    memcpy(jb->out + o, t, (size_t)nc * sizeof(float));
                }
            }
    }
}

WG_INLINE void WG_NAME(task_m)(const wg_job *jb, int i, int tid, const int MC)
{
    const ct_winograd *wg = jb->wg;
    const int AA = (MC + 2) * (MC + 2), T = jb->T, cin = wg->cin, cin_pad = wg->cin_pad;
    const int t0 = i * T, nt = jb->ntiles - t0 < T ? jb->ntiles - t0 : T;
    float *V = (float *)(void *)(jb->scratch + (size_t)tid * jb->per_thread);
    float *M = V + jb->v_floats;
    const size_t vps = (size_t)T * cin_pad, mps = (size_t)T * WG_NR;

    for (int t = 0; t < nt; t++) {
        const int tile = t0 + t, ty = tile / jb->tiles_x, tx = tile % jb->tiles_x;
        WG_NAME(in_tile)(jb, MC, ty * MC - jb->py - 1, tx * MC - jb->px - 1, V + (size_t)t * cin_pad, vps, tile + 1);
    }
    for (int jblk = 0; jblk < wg->nblk; jblk++) {
        const float *U = wg->u + (size_t)jblk * AA * cin * WG_NR;
        for (int p = 0; p < AA; p++)
            WG_NAME(gemm)(nt, cin, V + p * vps, (size_t)cin_pad, U + (size_t)p * cin * WG_NR, M + p * mps);
        const int co0 = jblk * WG_NR;
        const int ncv = wg->cout - co0 < WG_NR ? wg->cout - co0 : WG_NR;
        vf bias[NV];
        for (int v = 0; v < NV; v++) {
            float t[VL] = {0};
            for (int l = 0; l < VL; l++)
                if (jb->bias && v * VL + l < ncv) t[l] = jb->bias[co0 + v * VL + l];
            bias[v] = VLOAD(t);
        }
        for (int t = 0; t < nt; t++) {
            const int tile = t0 + t, ty = tile / jb->tiles_x, tx = tile % jb->tiles_x;
            WG_NAME(out_tile)(jb, MC, ty, tx, M + (size_t)t * WG_NR, mps, co0, ncv, bias);
        }
    }
}

void WG_NAME(ct_wg_task)(void *arg, int i, int tid)
{
    const wg_job *jb = arg;
    if (jb->wg->m == 4) WG_NAME(task_m)(jb, i, tid, 4);
    else WG_NAME(task_m)(jb, i, tid, 6);
}

#ifdef WG_BF16
/* ---- bf16 operands (F(4x4,3x3) only: docs/precision-notes.md, F(6x6) in bf16 falls under
 * 50 dB). The input transform runs in fp32 and its result is rounded to bf16 as it is
 * stored; the products are summed in fp32 by VDPBF16PS, two input channels per step; the
 * output transform and epilogue are the fp32 ones. VL is 16. Extra macros: vbh (16 x 32-bit
 * lanes, each a pair of bf16), BH_LOAD(p) (32 bf16), BH_SET1(u32), VDPBF16(acc, a, b),
 * BH_STORE_CVT(p, v) (16 floats rounded to bf16, stored). */
#if VL != 16
#error "the bf16 Winograd kernels are 16-lane"
#endif

WG_INLINE void WG_NAME(in_tile_bf16)(const wg_job *jb, int y0, int x0, uint16_t *V, size_t vps,
                                     int next_tile)
{
    const int A = 6, cin = jb->wg->cin, h = jb->h, w = jb->w;
    const int interior = y0 >= 0 && x0 >= 0 && y0 + A <= h && x0 + A <= w;
    vf d[36];
    WG_NAME(pf) pf;
    WG_NAME(pf_init)(&pf, jb, 4, next_tile);
    const int ngroups = (cin + VL - 1) / VL, pf_per_group = (pf.lines + ngroups - 1) / ngroups;
    for (int c = 0; c < cin; c += VL) {
        WG_NAME(pf_step)(&pf, pf_per_group);
        const int nc = cin - c < VL ? cin - c : VL;
        if (interior && nc == VL) {
            const float *p0 = jb->in + ((size_t)y0 * w + x0) * cin + c;
            for (int i = 0; i < A; i++)
                for (int j = 0; j < A; j++) d[i * A + j] = VLOAD(p0 + ((size_t)i * w + j) * cin);
        } else
            for (int i = 0; i < A; i++) {
                const int y = y0 + i;
                for (int j = 0; j < A; j++) {
                    const int x = x0 + j;
                    if (!interior && (y < 0 || y >= h || x < 0 || x >= w)) { d[i * A + j] = VSET1(0.f); continue; }
                    const float *p = jb->in + ((size_t)y * w + x) * cin + c;
                    d[i * A + j] = nc == VL ? VLOAD(p) : WG_NAME(load_part)(p, nc);
                }
            }
        for (int j = 0; j < A; j++) WG_NAME(bt4)(d + j, A);
        for (int i = 0; i < A; i++) WG_NAME(bt4)(d + i * A, 1);
        /* cin_pad is a multiple of 16, so a partial group's zero lanes land in the padding:
         * an odd cin's last pair reads a zero */
        for (int p = 0; p < A * A; p++) BH_STORE_CVT(V + p * vps + c, d[p]);
    }
}

/* C[r][0..16) = sum over pairs k2 of A[r*lda + 2k2 .. +2) . B[k2][0..16)[2], r < ROWS. */
WG_INLINE void WG_NAME(kern_bf16)(const int ROWS, int K2, const uint16_t *A, size_t lda,
                                  const uint16_t *B, float *C)
{
    vf acc[MR];
#pragma GCC unroll 12
    for (int r = 0; r < ROWS; r++) acc[r] = VSET1(0.f);
    for (int k = 0; k < K2; k++) {
        vbh b = BH_LOAD(B + (size_t)k * 2 * WG_NR);
#pragma GCC unroll 12
        for (int r = 0; r < ROWS; r++) {
            uint32_t pair;
            memcpy(&pair, A + (size_t)r * lda + 2 * k, sizeof pair);
            acc[r] = VDPBF16(acc[r], BH_SET1(pair), b);
        }
    }
#pragma GCC unroll 12
    for (int r = 0; r < ROWS; r++) VSTORE(C + r * WG_NR, acc[r]);
}

static void WG_NAME(gemm_bf16)(int rows, int K2, const uint16_t *A, size_t lda, const uint16_t *B, float *C)
{
    int r = 0;
    for (; r + MR <= rows; r += MR) WG_NAME(kern_bf16)(MR, K2, A + r * lda, lda, B, C + r * WG_NR);
    if (rows - r >= 6) { WG_NAME(kern_bf16)(6, K2, A + r * lda, lda, B, C + r * WG_NR); r += 6; }
    switch (rows - r) {
    case 0: break;
    case 5: WG_NAME(kern_bf16)(5, K2, A + r * lda, lda, B, C + r * WG_NR); break;
    case 4: WG_NAME(kern_bf16)(4, K2, A + r * lda, lda, B, C + r * WG_NR); break;
    case 3: WG_NAME(kern_bf16)(3, K2, A + r * lda, lda, B, C + r * WG_NR); break;
    case 2: WG_NAME(kern_bf16)(2, K2, A + r * lda, lda, B, C + r * WG_NR); break;
    default: WG_NAME(kern_bf16)(1, K2, A + r * lda, lda, B, C + r * WG_NR);
    }
}

void WG_NAME(ct_wg_task_bf16)(void *arg, int i, int tid)
{
    const wg_job *jb = arg;
    const ct_winograd *wg = jb->wg;
    const int AA = 36, T = jb->T, cin_pad = wg->cin_pad, kp = (wg->cin + 1) / 2;
    const int t0 = i * T, nt = jb->ntiles - t0 < T ? jb->ntiles - t0 : T;
    /* V in bf16 takes the first half of the fp32 V region the scratch is sized for */
    uint16_t *V = (uint16_t *)(void *)(jb->scratch + (size_t)tid * jb->per_thread);
    float *M = (float *)(void *)(jb->scratch + (size_t)tid * jb->per_thread) + jb->v_floats;
    const size_t vps = (size_t)T * cin_pad, mps = (size_t)T * WG_NR;

    for (int t = 0; t < nt; t++) {
        const int tile = t0 + t, ty = tile / jb->tiles_x, tx = tile % jb->tiles_x;
        WG_NAME(in_tile_bf16)(jb, ty * 4 - jb->py - 1, tx * 4 - jb->px - 1, V + (size_t)t * cin_pad, vps, tile + 1);
    }
    for (int jblk = 0; jblk < wg->nblk; jblk++) {
        const uint16_t *U = wg->ub + (size_t)jblk * AA * kp * 2 * WG_NR;
        for (int p = 0; p < AA; p++)
            WG_NAME(gemm_bf16)(nt, kp, V + p * vps, (size_t)cin_pad, U + (size_t)p * kp * 2 * WG_NR, M + p * mps);
        const int co0 = jblk * WG_NR;
        const int ncv = wg->cout - co0 < WG_NR ? wg->cout - co0 : WG_NR;
        vf bias[1];
        float tb[VL] = {0};
        for (int l = 0; l < ncv; l++)
            if (jb->bias) tb[l] = jb->bias[co0 + l];
        bias[0] = VLOAD(tb);
        for (int t = 0; t < nt; t++) {
            const int tile = t0 + t, ty = tile / jb->tiles_x, tx = tile % jb->tiles_x;
            WG_NAME(out_tile)(jb, 4, ty, tx, M + (size_t)t * WG_NR, mps, co0, ncv, bias);
        }
    }
}
#endif
#undef NV
#undef WG_INLINE
#endif
