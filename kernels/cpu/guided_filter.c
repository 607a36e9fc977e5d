/* Guided filter (He, Sun, Tang), as the White-box model applies it to its generator output:
 * per channel, with box means over the (2r+1)^2 window clipped to the image (the sum of the
 * in-image values divided by their count). The box sums are separable, and the passes are
 * fused so each plane is read and written as few times as possible:
 *   1. rows:    horizontal window sums of x, y, x*y, x*x            -> 4 planes
 *   2. columns: vertical sums, divided by the counts, give the means; A = cov / (var + eps)
 *               and b = my - A mx                                   -> 2 planes
 *   3. rows:    horizontal sums of A and b                          -> 2 planes
 *   4. columns: vertical sums, divided by the counts: out = mean(A) x + mean(b)
 * One channel at a time, every pass split over rows. Rows are first copied into contiguous
 * per-thread buffers and the sums run over whole rows, so the loops vectorise. */
#include "ops.h"

size_t ct_guided_filter_scratch_floats(int h, int w, int nthreads)
{
    /* 6 planes, the column counts, and per thread 4 row buffers */
    return 6 * (size_t)h * w + (size_t)w + (size_t)nthreads * 4 * w;
}

typedef struct {
    const float *x, *y;    /* NHWC, c channels */
    float *out;
    float *hx, *hy, *hxy, *hxx, *A, *B; /* h x w planes */
    float *cnt_x;          /* w: in-image columns of each window */
    float *rows;           /* per thread: 4 rows of w */
    int h, w, c, ch, r;
    float eps;
} gf_job;

static inline int lo_of(int i, int r) { return i - r < 0 ? 0 : i - r; }
static inline int hi_of(int i, int r, int n) { return i + r >= n ? n - 1 : i + r; }

/* dst[i] = sum of src over [i - r, i + r] clipped to [0, w) */
static void hsum(const float *src, float *dst, int w, int r)
{
    int i = 0;
    if (r == 1 && w >= 3) {
        dst[0] = src[0] + src[1];
        for (i = 1; i < w - 1; i++) dst[i] = src[i - 1] + src[i] + src[i + 1];
        dst[w - 1] = src[w - 2] + src[w - 1];
        return;
    }
    for (; i < w; i++) {
        float s = 0;
        for (int k = lo_of(i, r), e = hi_of(i, r, w); k <= e; k++) s += src[k];
        dst[i] = s;
    }
}

/* dst[i] = sum over the rows [y0, y1] of plane at column i */
static void vsum(const float *plane, int w, int y0, int y1, float *dst)
{
    const float *r0 = plane + (size_t)y0 * w;
    for (int i = 0; i < w; i++) dst[i] = r0[i];
    for (int k = y0 + 1; k <= y1; k++) {
        const float *rk = plane + (size_t)k * w;
        for (int i = 0; i < w; i++) dst[i] += rk[i];
    }
}

static void pass1(void *arg, int yy, int tid)
{
    const gf_job *j = arg;
    int w = j->w, c = j->c;
    float *bx = j->rows + (size_t)tid * 4 * w, *by = bx + w, *bxy = by + w, *bxx = bxy + w;
    const float *x = j->x + (size_t)yy * w * c + j->ch, *y = j->y + (size_t)yy * w * c + j->ch;
    for (int i = 0; i < w; i++) {
        float a = x[(size_t)i * c], b = y[(size_t)i * c];
        bx[i] = a; by[i] = b; bxy[i] = a * b; bxx[i] = a * a;
    }
    size_t o = (size_t)yy * w;
    hsum(bx, j->hx + o, w, j->r);
    hsum(by, j->hy + o, w, j->r);
    hsum(bxy, j->hxy + o, w, j->r);
    hsum(bxx, j->hxx + o, w, j->r);
}

static void pass2(void *arg, int yy, int tid)
{
    const gf_job *j = arg;
    int w = j->w, y0 = lo_of(yy, j->r), y1 = hi_of(yy, j->r, j->h);
    float *sx = j->rows + (size_t)tid * 4 * w, *sy = sx + w, *sxy = sy + w, *sxx = sxy + w;
    vsum(j->hx, w, y0, y1, sx);
    vsum(j->hy, w, y0, y1, sy);
    vsum(j->hxy, w, y0, y1, sxy);
    vsum(j->hxx, w, y0, y1, sxx);
    float cy = (float)(y1 - y0 + 1);
    float *A = j->A + (size_t)yy * w, *B = j->B + (size_t)yy * w;
    for (int i = 0; i < w; i++) {
        float n = cy * j->cnt_x[i];
        float mx = sx[i] / n, my = sy[i] / n;
        float cov = sxy[i] / n - mx * my, var = sxx[i] / n - mx * mx;
        float a = cov / (var + j->eps);
        A[i] = a;
        B[i] = my - a * mx;
    }
}

static void pass3(void *arg, int yy, int tid)
{
    const gf_job *j = arg;
    size_t o = (size_t)yy * j->w;
    hsum(j->A + o, j->hx + o, j->w, j->r);
    hsum(j->B + o, j->hy + o, j->w, j->r);
}

static void pass4(void *arg, int yy, int tid)
{
    const gf_job *j = arg;
    int w = j->w, c = j->c, y0 = lo_of(yy, j->r), y1 = hi_of(yy, j->r, j->h);
    float *sa = j->rows + (size_t)tid * 4 * w, *sb = sa + w;
    vsum(j->hx, w, y0, y1, sa);
    vsum(j->hy, w, y0, y1, sb);
    float cy = (float)(y1 - y0 + 1);
    const float *x = j->x + (size_t)yy * w * c + j->ch;
    float *out = j->out + (size_t)yy * w * c + j->ch;
    for (int i = 0; i < w; i++) {
        float n = cy * j->cnt_x[i];
        out[(size_t)i * c] = sa[i] / n * x[(size_t)i * c] + sb[i] / n;
    }
}

void ct_guided_filter(const float *x, const float *y, int h, int w, int c, int r, float eps,
                      float *out, float *scratch, ct_pool *pool)
{
    size_t n = (size_t)h * w;
    gf_job j = {x, y, out, scratch, scratch + n, scratch + 2 * n, scratch + 3 * n, scratch + 4 * n,
                scratch + 5 * n, scratch + 6 * n, scratch + 6 * n + w, h, w, c, 0, r, eps};
    for (int i = 0; i < w; i++) j.cnt_x[i] = (float)(hi_of(i, r, w) - lo_of(i, r) + 1);
    for (j.ch = 0; j.ch < c; j.ch++) {
        ct_pool_run(pool, h, pass1, &j);
        ct_pool_run(pool, h, pass2, &j);
        ct_pool_run(pool, h, pass3, &j);
        ct_pool_run(pool, h, pass4, &j);
    }
}
