/* Guided filter (He, Sun, Tang), as the White-box model applies it to its generator output:
 * per channel, with box means over the (2r+1)^2 window clipped to the image. Box sums are
 * separable: a horizontal pass into a temporary plane, then a vertical pass that divides by
 * the in-image count. Five planes of scratch, one channel at a time. */
#include "ops.h"

size_t ct_guided_filter_scratch_floats(int h, int w) { return 5 * (size_t)h * w; }

typedef struct {
    const float *src;  /* element (y, x) at src[(y * w + x) * stride] */
    int stride;
    const float *src2; /* if not NULL, the box is of src * src2 (same stride) */
    float *tmp, *dst;  /* h x w planes */
    int h, w, r;
} box_job;

static void box_h(void *arg, int y, int tid)
{
    const box_job *j = arg;
    const float *s = j->src + (size_t)y * j->w * j->stride;
    const float *s2 = j->src2 ? j->src2 + (size_t)y * j->w * j->stride : NULL;
    float *t = j->tmp + (size_t)y * j->w;
    for (int x = 0; x < j->w; x++) {
        int lo = x - j->r < 0 ? 0 : x - j->r, hi = x + j->r >= j->w ? j->w - 1 : x + j->r;
        float acc = 0.f;
        for (int k = lo; k <= hi; k++) {
            float v = s[(size_t)k * j->stride];
            acc += s2 ? v * s2[(size_t)k * j->stride] : v;
        }
        t[x] = acc;
    }
}

static void box_v(void *arg, int y, int tid)
{
    const box_job *j = arg;
    int lo = y - j->r < 0 ? 0 : y - j->r, hi = y + j->r >= j->h ? j->h - 1 : y + j->r;
    float *d = j->dst + (size_t)y * j->w;
    for (int x = 0; x < j->w; x++) {
        int xl = x - j->r < 0 ? 0 : x - j->r, xh = x + j->r >= j->w ? j->w - 1 : x + j->r;
        float acc = 0.f;
        for (int k = lo; k <= hi; k++) acc += j->tmp[(size_t)k * j->w + x];
        d[x] = acc / (float)((hi - lo + 1) * (xh - xl + 1));
    }
}

/* dst = box mean of src (or of src * src2); dst may alias src: the horizontal pass has read
 * every row before the vertical pass writes. */
static void box_mean(const float *src, const float *src2, int stride, float *dst, float *tmp, int h,
                     int w, int r, ct_pool *pool)
{
    box_job j = {src, stride, src2, tmp, dst, h, w, r};
    ct_pool_run(pool, h, box_h, &j);
    ct_pool_run(pool, h, box_v, &j);
}

typedef struct {
    float *mx, *my, *mxy, *mxx;
    size_t n;
    float eps;
} coef_job;

/* A = cov / (var + eps) into mxy, b = my - A * mx into my. */
static void coef_rows(void *arg, int i, int tid)
{
    const coef_job *j = arg;
    size_t lo = (size_t)i * 4096, hi = lo + 4096 < j->n ? lo + 4096 : j->n;
    for (size_t k = lo; k < hi; k++) {
        float cov = j->mxy[k] - j->mx[k] * j->my[k];
        float var = j->mxx[k] - j->mx[k] * j->mx[k];
        float A = cov / (var + j->eps);
        j->mxy[k] = A;
        j->my[k] = j->my[k] - A * j->mx[k];
    }
}

void ct_guided_filter(const float *x, const float *y, int h, int w, int c, int r, float eps,
                      float *out, float *scratch, ct_pool *pool)
{
    size_t n = (size_t)h * w;
    float *mx = scratch, *my = mx + n, *mxy = my + n, *mxx = mxy + n, *tmp = mxx + n;
    for (int ch = 0; ch < c; ch++) {
        box_mean(x + ch, NULL, c, mx, tmp, h, w, r, pool);
        box_mean(y + ch, NULL, c, my, tmp, h, w, r, pool);
        box_mean(x + ch, y + ch, c, mxy, tmp, h, w, r, pool);
        box_mean(x + ch, x + ch, c, mxx, tmp, h, w, r, pool);
        coef_job cj = {mx, my, mxy, mxx, n, eps};
        ct_pool_run(pool, (int)((n + 4095) / 4096), coef_rows, &cj);
        box_mean(mxy, NULL, 1, mx, tmp, h, w, r, pool); /* mean A */
        box_mean(my, NULL, 1, mxx, tmp, h, w, r, pool); /* mean b */
        for (size_t k = 0; k < n; k++) out[k * c + ch] = mx[k] * x[k * c + ch] + mxx[k];
    }
}
