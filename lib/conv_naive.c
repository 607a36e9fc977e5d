/* The direct definition of SAME-padded convolution, kept deliberately simple: every fast
 * kernel in the library is tested against it. */
#include "conv.h"

void ct_conv_shape_init(ct_conv_shape *s, int h, int w, int cin, int cout, int k, int stride)
{
    s->h = h; s->w = w; s->cin = cin; s->cout = cout; s->k = k; s->stride = stride;
    s->oh = (h + stride - 1) / stride;
    s->ow = (w + stride - 1) / stride;
    int th = (s->oh - 1) * stride + k - h, tw = (s->ow - 1) * stride + k - w;
    s->pad_top = th > 0 ? th / 2 : 0;
    s->pad_left = tw > 0 ? tw / 2 : 0;
}

void conv2d_naive(const ct_conv_shape *s, const float *in, const float *w, const ct_epilogue *ep,
                  float *out)
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
