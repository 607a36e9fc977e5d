/* 2x upsampling as TF1's resize_bilinear with align_corners = half_pixel_centers = false:
 * source coordinate d/2, so even outputs copy a source pixel, odd ones average two, and
 * the last odd row/column copies the edge. */
#include "ops.h"

typedef struct {
    const float *in, *skip;
    float *out;
    int h, w, c, bilinear;
} up_job;

static void up_row(void *arg, int oy, int tid)
{
    const up_job *j = arg;
    int W = j->w, C = j->c, OW = 2 * W;
    int y0 = oy / 2, y1 = (oy & 1) && y0 + 1 < j->h ? y0 + 1 : y0, yo = (oy & 1) && j->bilinear;
    const float *r0 = j->in + (size_t)y0 * W * C, *r1 = j->in + (size_t)y1 * W * C;
    float *o = j->out + (size_t)oy * OW * C;
    const float *sk = j->skip ? j->skip + (size_t)oy * OW * C : NULL;
    for (int ox = 0; ox < OW; ox++) {
        int x0 = ox / 2, x1 = (ox & 1) && x0 + 1 < W ? x0 + 1 : x0, xo = (ox & 1) && j->bilinear;
        const float *a = r0 + (size_t)x0 * C, *b = r0 + (size_t)x1 * C;
        const float *cc = r1 + (size_t)x0 * C, *d = r1 + (size_t)x1 * C;
        float *op = o + (size_t)ox * C;
        for (int k = 0; k < C; k++) {
            /* even rows and columns copy (not a + 0 x (b - a), which differs for -0, inf, NaN) */
            float v = xo ? a[k] + 0.5f * (b[k] - a[k]) : a[k];
            if (yo) {
                float bot = xo ? cc[k] + 0.5f * (d[k] - cc[k]) : cc[k];
                v = v + 0.5f * (bot - v);
            }
            op[k] = sk ? v + sk[(size_t)ox * C + k] : v;
        }
    }
}

void ct_upsample2x(const float *in, int h, int w, int c, int bilinear, const float *skip, float *out,
                   ct_pool *pool)
{
    up_job j = {in, skip, out, h, w, c, bilinear};
    ct_pool_run(pool, 2 * h, up_row, &j);
}
