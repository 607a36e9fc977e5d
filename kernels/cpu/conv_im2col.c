/* Convolution as im2col + sgemm. A whole-image im2col of the 7x7x32 layer at 2048x2048 would
 * take 26 GB, so the matrix is built for bands of output rows that fit a fixed budget. */
#include <cblas.h>
#include <string.h>
#include "ops.h"

static size_t band_rows(const ct_conv_shape *s, size_t tile_bytes)
{
    size_t row = (size_t)s->ow * s->k * s->k * s->cin * sizeof(float);
    size_t rows = row ? tile_bytes / row : 1;
    if (rows < 1) rows = 1;
    if (rows > (size_t)s->oh) rows = (size_t)s->oh;
    return rows;
}

size_t ct_im2col_scratch_floats(const ct_conv_shape *s, size_t tile_bytes)
{
    if (s->k == 1 && s->stride == 1) return 0; /* the input already is the matrix */
    return band_rows(s, tile_bytes) * s->ow * s->k * s->k * s->cin;
}

typedef struct {
    const ct_conv_shape *s;
    const float *in;
    float *col;
    int y0;
} im2col_job;

/* One output row of the band: for each output pixel, the k*k*cin window in (ky, kx, ci)
 * order, which matches the OHWI weight layout; zeros where the window leaves the image. */
static void im2col_row(void *arg, int r, int tid)
{
    const im2col_job *j = arg;
    const ct_conv_shape *s = j->s;
    int oy = j->y0 + r;
    size_t K = (size_t)s->k * s->k * s->cin;
    float *dst = j->col + (size_t)r * s->ow * K;
    for (int ox = 0; ox < s->ow; ox++, dst += K) {
        float *d = dst;
        for (int ky = 0; ky < s->k; ky++) {
            int iy = oy * s->stride + ky - s->pad_top;
            int ix0 = ox * s->stride - s->pad_left;
            if (iy < 0 || iy >= s->h) {
                memset(d, 0, (size_t)s->k * s->cin * sizeof *d);
                d += (size_t)s->k * s->cin;
                continue;
            }
            const float *src = j->in + (size_t)iy * s->w * s->cin;
            int kx = 0;
            for (; kx < s->k && ix0 + kx < 0; kx++, d += s->cin) memset(d, 0, (size_t)s->cin * sizeof *d);
            int inside = s->k - kx;
            if (ix0 + kx + inside > s->w) inside = s->w - (ix0 + kx);
            if (inside > 0) {
                memcpy(d, src + (size_t)(ix0 + kx) * s->cin, (size_t)inside * s->cin * sizeof *d);
                d += (size_t)inside * s->cin;
                kx += inside;
            }
            for (; kx < s->k; kx++, d += s->cin) memset(d, 0, (size_t)s->cin * sizeof *d);
        }
    }
}

typedef struct {
    const ct_conv_shape *s;
    const ct_epilogue *ep;
    float *out;     /* first pixel of the band */
    size_t pix0;    /* its index in the image, for the residual */
    int ow;
} epi_job;

static void epilogue_row(void *arg, int r, int tid)
{
    const epi_job *j = arg;
    const ct_epilogue *ep = j->ep;
    int C = j->s->cout;
    float *o = j->out + (size_t)r * j->ow * C;
    const float *res = ep->residual ? ep->residual + (j->pix0 + (size_t)r * j->ow) * C : NULL;
    for (int x = 0; x < j->ow; x++, o += C) {
        for (int c = 0; c < C; c++) {
            float v = o[c];
            if (ep->bias) v += ep->bias[c];
            v = ct_activate(v, ep->act, ep->alpha);
            if (res) v = ct_activate(v + res[(size_t)x * C + c], ep->post_act, ep->post_alpha);
            o[c] = v;
        }
    }
}

void ct_conv2d_im2col(const ct_conv_shape *s, const float *in, const float *w, const ct_epilogue *ep,
                      float *out, float *scratch, size_t tile_bytes, ct_pool *pool)
{
    int K = s->k * s->k * s->cin;
    int direct = s->k == 1 && s->stride == 1;
    int rows = direct ? s->oh : (int)band_rows(s, tile_bytes);
    for (int y0 = 0; y0 < s->oh; y0 += rows) {
        int nr = s->oh - y0 < rows ? s->oh - y0 : rows;
        const float *a = in + (size_t)y0 * s->w * s->cin;
        if (!direct) {
            im2col_job j = {s, in, scratch, y0};
            ct_pool_run(pool, nr, im2col_row, &j);
            a = scratch;
        }
        float *c = out + (size_t)y0 * s->ow * s->cout;
        /* C[pixels x cout] = A[pixels x K] * W^T, W being [cout x K] (OHWI) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nr * s->ow, s->cout, K, 1.0f, a, K, w, K,
                    0.0f, c, s->cout);
        if (ep && (ep->bias || ep->act || ep->residual)) {
            epi_job ej = {s, ep, c, (size_t)y0 * s->ow, s->ow};
            ct_pool_run(pool, nr, epilogue_row, &ej);
        }
    }
}
