#include "resample.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Taps of one axis: output o reads count[o] consecutive sources from first[o]. */
typedef struct {
    int *first, *count;
    float *w;   /* taps weights, max_taps per output */
    int max_taps;
} axis_filter;

static void axis_free(axis_filter *f)
{
    free(f->first); free(f->count); free(f->w);
}

static int axis_build(axis_filter *f, int in, int out)
{
    double scale = (double)in / out;
    f->max_taps = out < in ? (int)ceil(scale) + 2 : 2;
    f->first = malloc((size_t)out * sizeof *f->first);
    f->count = malloc((size_t)out * sizeof *f->count);
    f->w = calloc((size_t)out * f->max_taps, sizeof *f->w);
    if (!f->first || !f->count || !f->w) return 0;
    for (int o = 0; o < out; o++) {
        float *w = f->w + (size_t)o * f->max_taps;
        if (out < in) {
            /* area: the output pixel covers [o*scale, (o+1)*scale) of the source */
            double lo = o * scale, hi = (o + 1) * scale;
            int i0 = (int)floor(lo), i1 = (int)ceil(hi);
            if (i1 > in) i1 = in;
            f->first[o] = i0;
            f->count[o] = i1 - i0;
            for (int i = i0; i < i1; i++) {
                double a = i < lo ? lo : i, b = i + 1 > hi ? hi : i + 1;
                w[i - i0] = (float)((b - a) / scale);
            }
        } else {
            double src = (o + 0.5) * scale - 0.5;
            if (src < 0) src = 0;
            int i0 = (int)floor(src);
            if (i0 > in - 1) i0 = in - 1;
            double fr = src - i0;
            f->first[o] = i0;
            f->count[o] = i0 + 1 < in ? 2 : 1;
            w[0] = (float)(1 - fr);
            if (f->count[o] == 2) w[1] = (float)fr; else w[0] = 1.f;
        }
    }
    return 1;
}

cartoon_status ct_resample(const float *in, int iw, int ih, int c, float *out, int ow, int oh)
{
    if (iw == ow && ih == oh) {
        memcpy(out, in, (size_t)iw * ih * c * sizeof *out);
        return CARTOON_OK;
    }
    axis_filter fx = {0}, fy = {0};
    float *tmp = malloc((size_t)ih * ow * c * sizeof *tmp);
    cartoon_status st = CARTOON_E_OUT_OF_MEMORY;
    if (!tmp || !axis_build(&fx, iw, ow) || !axis_build(&fy, ih, oh)) goto done;
    for (int y = 0; y < ih; y++)
        for (int x = 0; x < ow; x++) {
            float *d = tmp + ((size_t)y * ow + x) * c;
            const float *w = fx.w + (size_t)x * fx.max_taps;
            for (int k = 0; k < c; k++) d[k] = 0;
            for (int t = 0; t < fx.count[x]; t++) {
                const float *s = in + ((size_t)y * iw + fx.first[x] + t) * c;
                for (int k = 0; k < c; k++) d[k] += w[t] * s[k];
            }
        }
    for (int y = 0; y < oh; y++) {
        const float *w = fy.w + (size_t)y * fy.max_taps;
        float *d = out + (size_t)y * ow * c;
        memset(d, 0, (size_t)ow * c * sizeof *d);
        for (int t = 0; t < fy.count[y]; t++) {
            const float *s = tmp + (size_t)(fy.first[y] + t) * ow * c;
            for (size_t k = 0; k < (size_t)ow * c; k++) d[k] += w[t] * s[k];
        }
    }
    st = CARTOON_OK;
done:
    free(tmp);
    axis_free(&fx);
    axis_free(&fy);
    return st;
}
