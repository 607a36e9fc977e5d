/* Depthwise convolution: one k x k filter per channel; loops run innermost over channels,
 * which are contiguous in NHWC, so the compiler vectorises them. */
#include <string.h>
#include "ops.h"

typedef struct {
    const ct_conv_shape *s;
    const float *in, *w;
    const ct_epilogue *ep;
    float *out;
} dw_job;

static void dw_row(void *arg, int oy, int tid)
{
    const dw_job *j = arg;
    const ct_conv_shape *s = j->s;
    int C = s->cin;
    for (int ox = 0; ox < s->ow; ox++) {
        float *o = j->out + ((size_t)oy * s->ow + ox) * C;
        memset(o, 0, (size_t)C * sizeof *o);
        for (int ky = 0; ky < s->k; ky++) {
            int iy = oy * s->stride + ky - s->pad_top;
            if (iy < 0 || iy >= s->h) continue;
            for (int kx = 0; kx < s->k; kx++) {
                int ix = ox * s->stride + kx - s->pad_left;
                if (ix < 0 || ix >= s->w) continue;
                const float *ip = j->in + ((size_t)iy * s->w + ix) * C;
                const float *wp = j->w + ((size_t)ky * s->k + kx) * C;
                for (int c = 0; c < C; c++) o[c] += ip[c] * wp[c];
            }
        }
        const ct_epilogue *ep = j->ep;
        if (!ep) continue;
        const float *res = ep->residual ? ep->residual + ((size_t)oy * s->ow + ox) * C : NULL;
        for (int c = 0; c < C; c++) {
            float v = o[c] + (ep->bias ? ep->bias[c] : 0.f);
            v = ct_activate(v, ep->act, ep->alpha);
            if (res) v = ct_activate(v + res[c], ep->post_act, ep->post_alpha);
            o[c] = v;
        }
    }
}

void ct_depthwise_conv2d(const ct_conv_shape *s, const float *in, const float *w,
                         const ct_epilogue *ep, float *out, ct_pool *pool)
{
    dw_job j = {s, in, w, ep, out};
    ct_pool_run(pool, s->oh, dw_row, &j);
}
