/* The upsample row kernel (upsample_rows.h), written once over a vector type: the including
 * file defines vf, VL, VLOAD, VSTORE, VSET1 and NAME. Channels are in lanes; the last
 * c % VL channels of each pixel take the scalar form of the same expression. */
#include "upsample_rows.h"

/* One output pixel: even rows and columns copy, odd ones take half the way to the next
 * source pixel (ct_upsample2x's operations in its order); xo and yo are constants where this
 * is inlined. */
static inline __attribute__((always_inline)) void NAME(px)(const float *a, const float *b, const float *cc,
                                                           const float *d, const float *sp, float *op, int C, int cv,
                                                           const int xo, const int yo)
{
    const vf h = VSET1(0.5f);
    for (int k = 0; k < cv; k += VL) {
        vf v = VLOAD(a + k);
        if (xo) v = v + h * (VLOAD(b + k) - v);
        if (yo) {
            vf bot = VLOAD(cc + k);
            if (xo) bot = bot + h * (VLOAD(d + k) - bot);
            v = v + h * (bot - v);
        }
        if (sp) v = v + VLOAD(sp + k);
        VSTORE(op + k, v);
    }
    for (int k = cv; k < C; k++) {
        float v = xo ? a[k] + 0.5f * (b[k] - a[k]) : a[k];
        if (yo) {
            float bot = xo ? cc[k] + 0.5f * (d[k] - cc[k]) : cc[k];
            v = v + 0.5f * (bot - v);
        }
        op[k] = sp ? v + sp[k] : v;
    }
}

void NAME(ct_upsample_row)(void *arg, int oy, int tid)
{
    const ct_up_job *j = arg;
    const int W = j->w, C = j->c, OW = 2 * W, cv = C / VL * VL;
    const int y0 = oy / 2, y1 = (oy & 1) && y0 + 1 < j->h ? y0 + 1 : y0, yo = (oy & 1) && j->bilinear;
    const float *r0 = j->in + (size_t)y0 * W * C, *r1 = j->in + (size_t)y1 * W * C;
    float *o = j->out + (size_t)oy * OW * C;
    const float *sk = j->skip ? j->skip + (size_t)oy * OW * C : NULL;
    (void)tid;
    for (int ox = 0; ox < OW; ox++) {
        const int x0 = ox / 2, x1 = (ox & 1) && x0 + 1 < W ? x0 + 1 : x0, xo = (ox & 1) && j->bilinear;
        const float *a = r0 + (size_t)x0 * C, *b = r0 + (size_t)x1 * C;
        const float *cc = r1 + (size_t)x0 * C, *d = r1 + (size_t)x1 * C;
        float *op = o + (size_t)ox * C;
        const float *sp = sk ? sk + (size_t)ox * C : NULL;
        if (yo) {
            if (xo) NAME(px)(a, b, cc, d, sp, op, C, cv, 1, 1);
            else NAME(px)(a, b, cc, d, sp, op, C, cv, 0, 1);
        } else {
            if (xo) NAME(px)(a, b, cc, d, sp, op, C, cv, 1, 0);
            else NAME(px)(a, b, cc, d, sp, op, C, cv, 0, 0);
        }
    }
}
