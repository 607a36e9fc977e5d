/* Guided filter (He, Sun, Tang), as the White-box model applies it to its generator output:
 * per channel, with box means over the (2r+1)^2 window clipped to the image (the sum of the
 * in-image values divided by their count). The box sums are separable, and the four passes
 * are fused so each plane is read and written as few times as possible:
 *   1. rows:    horizontal window sums of x, y, x*y, x*x            -> 4 planes
 *   2. columns: vertical sums, divided by the counts, give the means; A = cov / (var + eps)
 *               and b = my - A mx                                   -> 2 planes
 *   3. rows:    horizontal sums of A and b                          -> 2 planes
 *   4. columns: vertical sums, divided by the counts: out = mean(A) x + mean(b)
 * Six planes of scratch, one channel at a time; every pass is split over rows. */
#include "ops.h"

size_t ct_guided_filter_scratch_floats(int h, int w) { return 6 * (size_t)h * w; }

typedef struct {
    const float *x, *y;    /* NHWC, c channels */
    float *out;
    float *hx, *hy, *hxy, *hxx, *A, *B; /* h x w planes */
    int h, w, c, ch, r;
    float eps;
} gf_job;

static inline int lo_of(int i, int r) { return i - r < 0 ? 0 : i - r; }
static inline int hi_of(int i, int r, int n) { return i + r >= n ? n - 1 : i + r; }

static void pass1(void *arg, int yy, int tid)
{
    const gf_job *j = arg;
    int w = j->w, c = j->c;
    const float *x = j->x + (size_t)yy * w * c + j->ch, *y = j->y + (size_t)yy * w * c + j->ch;
    size_t o = (size_t)yy * w;
    for (int i = 0; i < w; i++) {
        float sx = 0, sy = 0, sxy = 0, sxx = 0;
        for (int k = lo_of(i, j->r), e = hi_of(i, j->r, w); k <= e; k++) {
            float a = x[(size_t)k * c], b = y[(size_t)k * c];
            sx += a; sy += b; sxy += a * b; sxx += a * a;
        }
        j->hx[o + i] = sx; j->hy[o + i] = sy; j->hxy[o + i] = sxy; j->hxx[o + i] = sxx;
    }
}

static void pass2(void *arg, int yy, int tid)
{
    const gf_job *j = arg;
    int w = j->w, y0 = lo_of(yy, j->r), y1 = hi_of(yy, j->r, j->h);
    size_t o = (size_t)yy * w;
    for (int i = 0; i < w; i++) {
        float sx = 0, sy = 0, sxy = 0, sxx = 0;
        for (int k = y0; k <= y1; k++) {
            size_t q = (size_t)k * w + i;
            sx += j->hx[q]; sy += j->hy[q]; sxy += j->hxy[q]; sxx += j->hxx[q];
        }
        float n = (float)((y1 - y0 + 1) * (hi_of(i, j->r, w) - lo_of(i, j->r) + 1));
        float mx = sx / n, my = sy / n;
        float cov = sxy / n - mx * my, var = sxx / n - mx * mx;
        float a = cov / (var + j->eps);
        j->A[o + i] = a;
        j->B[o + i] = my - a * mx;
    }
}

static void pass3(void *arg, int yy, int tid)
{
    const gf_job *j = arg;
    int w = j->w;
    size_t o = (size_t)yy * w;
    for (int i = 0; i < w; i++) {
        float sa = 0, sb = 0;
        for (int k = lo_of(i, j->r), e = hi_of(i, j->r, w); k <= e; k++) { sa += j->A[o + k]; sb += j->B[o + k]; }
        j->hx[o + i] = sa;
        j->hy[o + i] = sb;
    }
}

static void pass4(void *arg, int yy, int tid)
{
    const gf_job *j = arg;
    int w = j->w, c = j->c, y0 = lo_of(yy, j->r), y1 = hi_of(yy, j->r, j->h);
    const float *x = j->x + (size_t)yy * w * c + j->ch;
    float *out = j->out + (size_t)yy * w * c + j->ch;
    for (int i = 0; i < w; i++) {
        float sa = 0, sb = 0;
        for (int k = y0; k <= y1; k++) { sa += j->hx[(size_t)k * w + i]; sb += j->hy[(size_t)k * w + i]; }
        float n = (float)((y1 - y0 + 1) * (hi_of(i, j->r, w) - lo_of(i, j->r) + 1));
        out[(size_t)i * c] = sa / n * x[(size_t)i * c] + sb / n;
    }
}

void ct_guided_filter(const float *x, const float *y, int h, int w, int c, int r, float eps,
                      float *out, float *scratch, ct_pool *pool)
{
    size_t n = (size_t)h * w;
    gf_job j = {x, y, out, scratch, scratch + n, scratch + 2 * n, scratch + 3 * n, scratch + 4 * n,
                scratch + 5 * n, h, w, c, 0, r, eps};
    for (j.ch = 0; j.ch < c; j.ch++) {
        ct_pool_run(pool, h, pass1, &j);
        ct_pool_run(pool, h, pass2, &j);
        ct_pool_run(pool, h, pass3, &j);
        ct_pool_run(pool, h, pass4, &j);
    }
}
