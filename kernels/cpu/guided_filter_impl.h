/* The guided filter's band kernel (guided_filter_rows.h), written once over a vector type: the
 * including file defines vf, VL, VLOAD, VSTORE, VSET1 and NAME. Columns are in lanes; the last
 * w % VL columns take the scalar form of the same expression.
 *
 * A band of output rows streams through three stages per row, each keeping only the 2r + 1
 * most recent rows of its result in a ring (per thread, in cache), instead of whole planes:
 *   1. input row t:  horizontal window sums of x, y, x*y, x*x                 -> ring_in[t]
 *   2. A/b row q:    vertical sums of ring_in rows q-r..q+r, divided by the counts, give the
 *                    means; A = cov / (var + eps), b = my - A mx; their horizontal sums -> ring_ab[q]
 *   3. output row:   vertical sums of ring_ab rows, divided by the counts: mean(A) x + mean(b)
 * A band recomputes the 2r input rows and r A/b rows above it that the band before it also
 * computed, with the same operations, so bands never change a bit of the result. */
#include <string.h>
#include "guided_filter_rows.h"

static inline int NAME(lo)(int i, int r) { return i - r < 0 ? 0 : i - r; }
static inline int NAME(hi)(int i, int r, int n) { return i + r >= n ? n - 1 : i + r; }

/* d[i] = sum of s over [i - r, i + r] clipped to [0, w), in increasing index order */
static void NAME(hsum)(const float *s, float *d, int w, int r)
{
    if (r == 1 && w >= 3) {
        d[0] = s[0] + s[1];
        int i = 1;
        for (; i + VL <= w - 1; i += VL) VSTORE(d + i, VLOAD(s + i - 1) + VLOAD(s + i) + VLOAD(s + i + 1));
        for (; i < w - 1; i++) d[i] = s[i - 1] + s[i] + s[i + 1];
        d[w - 1] = s[w - 2] + s[w - 1];
        return;
    }
    for (int i = 0; i < w; i++) {
        float v = 0;
        for (int k = NAME(lo)(i, r), e = NAME(hi)(i, r, w); k <= e; k++) v += s[k];
        d[i] = v;
    }
}

/* d = the sum of rows y0..y1 (in that order) of the plane at offset `plane` of each ring slot */
static void NAME(vsum)(const float *ring, size_t slot, int R, size_t plane, int y0, int y1, int w, float *d)
{
    const float *r0 = ring + (size_t)(y0 % R) * slot + plane;
    memcpy(d, r0, (size_t)w * sizeof *d);
    for (int k = y0 + 1; k <= y1; k++) {
        const float *rk = ring + (size_t)(k % R) * slot + plane;
        int i = 0;
        for (; i + VL <= w; i += VL) VSTORE(d + i, VLOAD(d + i) + VLOAD(rk + i));
        for (; i < w; i++) d[i] += rk[i];
    }
}

void NAME(ct_gf_band)(void *arg, int band, int tid)
{
    const ct_gf_job *j = arg;
    const int h = j->h, w = j->w, c = j->c, r = j->r, R = 2 * r + 1;
    const size_t W = (size_t)w, in_slot = 4 * (size_t)c * W, ab_slot = 2 * (size_t)c * W;
    float *ring_in = j->scratch + (size_t)tid * j->per_thread, *ring_ab = ring_in + R * in_slot;
    float *t0 = ring_ab + R * ab_slot, *t1 = t0 + W, *t2 = t1 + W, *t3 = t2 + W, *t4 = t3 + W, *t5 = t4 + W;
    const int ya = band * j->band_rows, yb = ya + j->band_rows < h ? ya + j->band_rows : h;
    const vf veps = VSET1(j->eps);
    int in_next = NAME(lo)(ya, 2 * r), ab_next = NAME(lo)(ya, r);
    for (int yy = ya; yy < yb; yy++) {
        for (int ab_need = NAME(hi)(yy, r, h); ab_next <= ab_need; ab_next++) {
            const int q = ab_next;
            for (int in_need = NAME(hi)(q, r, h); in_next <= in_need; in_next++) { /* stage 1 */
                const int t = in_next;
                float *slot = ring_in + (size_t)(t % R) * in_slot;
                const float *x = j->x + (size_t)t * W * c, *y = j->y + (size_t)t * W * c;
                for (int ch = 0; ch < c; ch++) {
                    for (int i = 0; i < w; i++) { t0[i] = x[(size_t)i * c + ch]; t1[i] = y[(size_t)i * c + ch]; }
                    int i = 0;
                    for (; i + VL <= w; i += VL) {
                        vf a = VLOAD(t0 + i), b = VLOAD(t1 + i);
                        VSTORE(t2 + i, a * b);
                        VSTORE(t3 + i, a * a);
                    }
                    for (; i < w; i++) { t2[i] = t0[i] * t1[i]; t3[i] = t0[i] * t0[i]; }
                    float *s = slot + 4 * (size_t)ch * W;
                    NAME(hsum)(t0, s, w, r);
                    NAME(hsum)(t1, s + W, w, r);
                    NAME(hsum)(t2, s + 2 * W, w, r);
                    NAME(hsum)(t3, s + 3 * W, w, r);
                }
            }
            /* stage 2: A and b of row q, and their horizontal sums */
            const int y0 = NAME(lo)(q, r), y1 = NAME(hi)(q, r, h);
            const float cy = (float)(y1 - y0 + 1);
            const vf vcy = VSET1(cy);
            float *slot = ring_ab + (size_t)(q % R) * ab_slot;
            for (int ch = 0; ch < c; ch++) {
                size_t pl = 4 * (size_t)ch * W;
                NAME(vsum)(ring_in, in_slot, R, pl, y0, y1, w, t0);
                NAME(vsum)(ring_in, in_slot, R, pl + W, y0, y1, w, t1);
                NAME(vsum)(ring_in, in_slot, R, pl + 2 * W, y0, y1, w, t2);
                NAME(vsum)(ring_in, in_slot, R, pl + 3 * W, y0, y1, w, t3);
                int i = 0;
                for (; i + VL <= w; i += VL) {
                    vf n = vcy * VLOAD(j->cnt_x + i);
                    vf mx = VLOAD(t0 + i) / n, my = VLOAD(t1 + i) / n;
                    vf cov = VLOAD(t2 + i) / n - mx * my, var = VLOAD(t3 + i) / n - mx * mx;
                    vf a = cov / (var + veps);
                    VSTORE(t4 + i, a);
                    VSTORE(t5 + i, my - a * mx);
                }
                for (; i < w; i++) {
                    float n = cy * j->cnt_x[i];
                    float mx = t0[i] / n, my = t1[i] / n;
                    float cov = t2[i] / n - mx * my, var = t3[i] / n - mx * mx;
                    float a = cov / (var + j->eps);
                    t4[i] = a;
                    t5[i] = my - a * mx;
                }
                NAME(hsum)(t4, slot + 2 * (size_t)ch * W, w, r);
                NAME(hsum)(t5, slot + (2 * (size_t)ch + 1) * W, w, r);
            }
        }
        /* stage 3: output row yy */
        const int y0 = NAME(lo)(yy, r), y1 = NAME(hi)(yy, r, h);
        const float cy = (float)(y1 - y0 + 1);
        const vf vcy = VSET1(cy);
        const float *x = j->x + (size_t)yy * W * c;
        float *out = j->out + (size_t)yy * W * c;
        for (int ch = 0; ch < c; ch++) {
            NAME(vsum)(ring_ab, ab_slot, R, 2 * (size_t)ch * W, y0, y1, w, t0);
            NAME(vsum)(ring_ab, ab_slot, R, (2 * (size_t)ch + 1) * W, y0, y1, w, t1);
            for (int i = 0; i < w; i++) t2[i] = x[(size_t)i * c + ch];
            int i = 0;
            for (; i + VL <= w; i += VL) {
                vf n = vcy * VLOAD(j->cnt_x + i);
                VSTORE(t3 + i, VLOAD(t0 + i) / n * VLOAD(t2 + i) + VLOAD(t1 + i) / n);
            }
            for (; i < w; i++) {
                float n = cy * j->cnt_x[i];
                t3[i] = t0[i] / n * t2[i] + t1[i] / n;
            }
            for (i = 0; i < w; i++) out[(size_t)i * c + ch] = t3[i];
        }
    }
}
