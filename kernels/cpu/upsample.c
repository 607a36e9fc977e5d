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
    int y0 = oy / 2, y1 = (oy & 1) && y0 + 1 < j->h ? y0 + 1 : y0;
    float fy = (oy & 1) && j->bilinear ? 0.5f : 0.f;
    const float *r0 = j->in + (size_t)y0 * W * C, *r1 = j->in + (size_t)y1 * W * C;
    float *o = j->out + (size_t)oy * OW * C;
    const float *sk = j->skip ? j->skip + (size_t)oy * OW * C : NULL;
    for (int ox = 0; ox < OW; ox++) {
        int x0 = ox / 2, x1 = (ox & 1) && x0 + 1 < W ? x0 + 1 : x0;
        float fx = (ox & 1) && j->bilinear ? 0.5f : 0.f;
        const float *a = r0 + (size_t)x0 * C, *b = r0 + (size_t)x1 * C;
        const float *cc = r1 + (size_t)x0 * C, *d = r1 + (size_t)x1 * C;
        float *op = o + (size_t)ox * C;
        for (int k = 0; k < C; k++) {
            float top = a[k] + fx * (b[k] - a[k]);
            float bot = cc[k] + fx * (d[k] - cc[k]);
            float v = top + fy * (bot - top);
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
