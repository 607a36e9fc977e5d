/* The upsample row kernel (upsample_rows.h), written once over a vector type: the including
 * file defines vf, VL, VLOAD, VSTORE, VSET1 and NAME. Channels are in lanes; the last
 * c % VL channels of each pixel take the scalar form of the same expression. */
#include "upsample_rows.h"

void NAME(ct_upsample_row)(void *arg, int oy, int tid)
{
    const ct_up_job *j = arg;
    const int W = j->w, C = j->c, OW = 2 * W, cv = C / VL * VL;
    const int y0 = oy / 2, y1 = (oy & 1) && y0 + 1 < j->h ? y0 + 1 : y0;
    const float fy = (oy & 1) && j->bilinear ? 0.5f : 0.f;
    const float *r0 = j->in + (size_t)y0 * W * C, *r1 = j->in + (size_t)y1 * W * C;
    float *o = j->out + (size_t)oy * OW * C;
    const float *sk = j->skip ? j->skip + (size_t)oy * OW * C : NULL;
    const vf vfy = VSET1(fy);
    for (int ox = 0; ox < OW; ox++) {
        const int x0 = ox / 2, x1 = (ox & 1) && x0 + 1 < W ? x0 + 1 : x0;
        const float fx = (ox & 1) && j->bilinear ? 0.5f : 0.f;
        const vf vfx = VSET1(fx);
        const float *a = r0 + (size_t)x0 * C, *b = r0 + (size_t)x1 * C;
        const float *cc = r1 + (size_t)x0 * C, *d = r1 + (size_t)x1 * C;
        float *op = o + (size_t)ox * C;
        const float *sp = sk ? sk + (size_t)ox * C : NULL;
        for (int k = 0; k < cv; k += VL) {
            vf va = VLOAD(a + k), vc = VLOAD(cc + k);
            vf top = va + vfx * (VLOAD(b + k) - va);
            vf bot = vc + vfx * (VLOAD(d + k) - vc);
            vf v = top + vfy * (bot - top);
            if (sp) v = v + VLOAD(sp + k);
            VSTORE(op + k, v);
        }
        for (int k = cv; k < C; k++) {
            float top = a[k] + fx * (b[k] - a[k]);
            float bot = cc[k] + fx * (d[k] - cc[k]);
            float v = top + fy * (bot - top);
            op[k] = sp ? v + sp[k] : v;
        }
    }
}
