/* The direct definition of SAME-padded convolution, kept deliberately simple: every fast
 * kernel in the library is tested against it. */
#include "conv.h"

void ct_conv2d_naive(const ct_conv_shape *s, const float *in, const float *w,
                     const ct_epilogue *ep, float *out)
{
    for (int oy = 0; oy < s->oh; oy++)
        for (int ox = 0; ox < s->ow; ox++)
            for (int co = 0; co < s->cout; co++) {
                double acc = 0;
                for (int ky = 0; ky < s->k; ky++) {
                    int iy = oy * s->stride + ky - s->pad_top;
                    if (iy < 0 || iy >= s->h) continue;
                    for (int kx = 0; kx < s->k; kx++) {
                        int ix = ox * s->stride + kx - s->pad_left;
                        if (ix < 0 || ix >= s->w) continue;
                        const float *ip = in + ((size_t)iy * s->w + ix) * s->cin;
                        const float *wp = w + (((size_t)co * s->k + ky) * s->k + kx) * s->cin;
                        for (int ci = 0; ci < s->cin; ci++) acc += (double)ip[ci] * wp[ci];
                    }
                }
                float v = (float)acc;
                size_t o = ((size_t)oy * s->ow + ox) * s->cout + co;
                if (ep) {
                    if (ep->bias) v += ep->bias[co];
                    v = ct_activate(v, ep->act, ep->alpha);
                    if (ep->residual) v = ct_activate(v + ep->residual[o], ep->post_act, ep->post_alpha);
                }
                out[o] = v;
            }
}
