/* Every CPU op against a naive reference written here from the model specification, on
 * random data with odd sizes and channel counts that are not multiples of 8. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "cpu_kernels.h"
#include "ops.h"
#include "pad_crop.h"
#include "plan.h"
#include "threadpool.h"

static ct_pool *pool;

static float *rnd(size_t n, float lo, float hi)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = rng_uniform(lo, hi);
    return p;
}

static double max_abs(const float *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) if (fabs(a[i]) > m) m = fabs(a[i]);
    return m;
}

/* SAME padding as the spec words it, checked on the cases it spells out */
static void test_same_padding(void)
{
    ct_conv_shape s;
    ct_conv_shape_init(&s, 64, 96, 3, 32, 3, 2); /* even size, stride 2: 0 before, 1 after */
    CHECK(s.oh == 32 && s.ow == 48 && s.pad_top == 0 && s.pad_left == 0);
    ct_conv_shape_init(&s, 65, 7, 3, 32, 3, 2); /* odd: total 2 -> 1 before */
    CHECK(s.oh == 33 && s.ow == 4 && s.pad_top == 1 && s.pad_left == 1);
    ct_conv_shape_init(&s, 10, 10, 3, 32, 7, 1);
    CHECK(s.oh == 10 && s.pad_top == 3 && s.pad_left == 3);
    ct_conv_shape_init(&s, 1, 1, 3, 32, 7, 1);
    CHECK(s.oh == 1 && s.pad_top == 3);
}

static void conv_case(int h, int w, int cin, int cout, int k, int stride, int act, int with_res,
                      size_t tile)
{
    ct_conv_shape s;
    ct_conv_shape_init(&s, h, w, cin, cout, k, stride);
    size_t no = (size_t)s.oh * s.ow * cout;
    float *in = rnd((size_t)h * w * cin, -1, 1), *wt = rnd((size_t)cout * k * k * cin, -0.3f, 0.3f);
    float *bias = rnd((size_t)cout, -0.5f, 0.5f), *res = rnd(no, -1, 1);
    float *ref = malloc(no * sizeof *ref), *got = malloc(no * sizeof *got);
    ct_epilogue ep = {bias, act ? ACT_LEAKY_RELU : ACT_NONE, 0.2f, with_res ? res : NULL, ACT_NONE, 0};
    ct_conv2d_naive(&s, in, wt, &ep, ref);
    size_t sc = ct_im2col_scratch_floats(&s, tile);
    float *scratch = malloc((sc ? sc : 1) * sizeof *scratch);
    ct_conv2d_im2col(&s, in, wt, &ep, got, scratch, tile, pool);
    double d = max_abs_diff(ref, got, no);
    CHECKF(d <= 1e-5 * (1 + max_abs(ref, no)), "im2col %dx%d %d->%d k%d s%d: max diff %g", h, w, cin, cout, k, stride, d);
    /* the naive reference itself, at one pixel, from the formula */
    if (s.oh > 1 && s.ow > 1) {
        int oy = s.oh / 2, ox = s.ow / 2, co = cout - 1;
        double acc = bias[co];
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                int iy = oy * stride + ky - s.pad_top, ix = ox * stride + kx - s.pad_left;
                if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
                for (int ci = 0; ci < cin; ci++)
                    acc += (double)in[((size_t)iy * w + ix) * cin + ci] * wt[(((size_t)co * k + ky) * k + kx) * cin + ci];
            }
        if (act && acc < 0) acc *= 0.2;
        size_t o = ((size_t)oy * s.ow + ox) * cout + co;
        if (with_res) acc += res[o];
        CHECKF(fabs(acc - ref[o]) < 1e-4, "naive conv disagrees with the formula: %g vs %g", acc, ref[o]);
    }
    free(in); free(wt); free(bias); free(res); free(ref); free(got); free(scratch);
}

static void test_conv_im2col(void)
{
    conv_case(13, 17, 5, 7, 3, 1, 1, 0, 8 << 20);
    conv_case(13, 17, 5, 7, 3, 2, 1, 0, 8 << 20);
    conv_case(16, 24, 17, 33, 3, 2, 1, 0, 8 << 20);
    conv_case(9, 11, 3, 32, 7, 1, 1, 0, 8 << 20);
    conv_case(9, 11, 32, 3, 7, 1, 0, 0, 8 << 20);
    conv_case(1, 1, 3, 5, 7, 1, 0, 0, 8 << 20);
    conv_case(1, 9, 4, 4, 5, 2, 1, 1, 8 << 20);
    conv_case(10, 6, 33, 9, 1, 1, 1, 1, 8 << 20);  /* pointwise: sgemm on the input directly */
    conv_case(12, 12, 20, 20, 3, 1, 0, 1, 8 << 20);  /* residual block shape */
    conv_case(31, 9, 6, 10, 3, 1, 1, 0, 1);          /* one output row per band */
    conv_case(31, 9, 6, 10, 5, 2, 1, 1, 4000);       /* bands of a few rows */
}

static void dw_naive(const ct_conv_shape *s, const float *in, const float *w, const float *bias, float *out)
{
    for (int oy = 0; oy < s->oh; oy++)
        for (int ox = 0; ox < s->ow; ox++)
            for (int c = 0; c < s->cin; c++) {
                double acc = bias[c];
                for (int ky = 0; ky < s->k; ky++)
                    for (int kx = 0; kx < s->k; kx++) {
                        int iy = oy * s->stride + ky - s->pad_top, ix = ox * s->stride + kx - s->pad_left;
                        if (iy < 0 || ix < 0 || iy >= s->h || ix >= s->w) continue;
                        acc += (double)in[((size_t)iy * s->w + ix) * s->cin + c] * w[((size_t)ky * s->k + kx) * s->cin + c];
                    }
                out[((size_t)oy * s->ow + ox) * s->cin + c] = (float)(acc > 0 ? acc : 0.2 * acc);
            }
}

static void test_depthwise(void)
{
    int cases[][5] = {{13, 17, 5, 3, 1}, {13, 17, 9, 3, 2}, {8, 8, 32, 5, 1}, {1, 1, 3, 3, 1}, {7, 5, 17, 7, 2}};
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        int h = cases[t][0], w = cases[t][1], c = cases[t][2], k = cases[t][3], st = cases[t][4];
        ct_conv_shape s;
        ct_conv_shape_init(&s, h, w, c, c, k, st);
        size_t no = (size_t)s.oh * s.ow * c;
        float *in = rnd((size_t)h * w * c, -1, 1), *wt = rnd((size_t)k * k * c, -1, 1), *b = rnd(c, -1, 1);
        float *ref = malloc(no * 4), *got = malloc(no * 4);
        dw_naive(&s, in, wt, b, ref);
        ct_epilogue ep = {b, ACT_LEAKY_RELU, 0.2f, NULL, ACT_NONE, 0};
        ct_depthwise_conv2d(&s, in, wt, &ep, got, pool);
        CHECKF(max_abs_diff(ref, got, no) < 1e-5, "depthwise case %zu: %g", t, max_abs_diff(ref, got, no));
        free(in); free(wt); free(b); free(ref); free(got);
    }
}

/* The spec's upsampling rule, literally: src = d/2, i0 = floor, i1 = min(i0+1, in-1). */
static float up_ref(const float *in, int h, int w, int c, int oy, int ox, int k)
{
    double sy = oy / 2.0, sx = ox / 2.0;
    int y0 = (int)floor(sy), x0 = (int)floor(sx);
    int y1 = y0 + 1 < h ? y0 + 1 : h - 1, x1 = x0 + 1 < w ? x0 + 1 : w - 1;
    double fy = sy - y0, fx = sx - x0;
#define AT(y, x) in[((size_t)(y) * w + (x)) * c + k]
    double top = (1 - fx) * AT(y0, x0) + fx * AT(y0, x1), bot = (1 - fx) * AT(y1, x0) + fx * AT(y1, x1);
#undef AT
    return (float)((1 - fy) * top + fy * bot);
}

static void test_upsample(void)
{
    int sizes[][3] = {{1, 1, 1}, {3, 5, 7}, {8, 6, 64}, {2, 9, 3}};
    for (size_t t = 0; t < 4; t++) {
        int h = sizes[t][0], w = sizes[t][1], c = sizes[t][2];
        size_t no = (size_t)4 * h * w * c;
        float *in = rnd((size_t)h * w * c, -1, 1), *skip = rnd(no, -1, 1);
        float *got = malloc(no * 4), *got2 = malloc(no * 4);
        ct_upsample2x(in, h, w, c, 1, NULL, got, pool);
        ct_upsample2x(in, h, w, c, 1, skip, got2, pool);
        double d = 0, d2 = 0;
        for (int oy = 0; oy < 2 * h; oy++)
            for (int ox = 0; ox < 2 * w; ox++)
                for (int k = 0; k < c; k++) {
                    size_t o = ((size_t)oy * 2 * w + ox) * c + k;
                    float r = up_ref(in, h, w, c, oy, ox, k);
                    d = fmax(d, fabs(r - got[o]));
                    d2 = fmax(d2, fabs(r + skip[o] - got2[o]));
                }
        CHECKF(d < 1e-6 && d2 < 1e-6, "upsample %dx%dx%d: %g %g", h, w, c, d, d2);
        /* even outputs copy, the last odd output copies the edge */
        CHECK(got[0] == in[0]);
        CHECK(got[((size_t)(2 * w - 1)) * c] == in[(size_t)(w - 1) * c]);
        ct_upsample2x(in, h, w, c, 0, NULL, got, pool); /* nearest */
        CHECK(got[((size_t)1 * 2 * w + 1) * c] == in[0]);
        free(in); free(skip); free(got); free(got2);
    }
}

/* The guided filter exactly as the spec writes it, in double, with explicit windows. */
static void gf_ref(const float *x, const float *y, int h, int w, int c, int r, double eps, double *out)
{
    size_t n = (size_t)h * w;
    double *mx = calloc(n, 8), *my = calloc(n, 8), *A = calloc(n, 8), *b = calloc(n, 8);
    for (int ch = 0; ch < c; ch++) {
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                double sx = 0, sy = 0, sxy = 0, sxx = 0; int cnt = 0;
                for (int di = -r; di <= r; di++)
                    for (int dj = -r; dj <= r; dj++) {
                        int ii = i + di, jj = j + dj;
                        if (ii < 0 || jj < 0 || ii >= h || jj >= w) continue;
                        double a = x[((size_t)ii * w + jj) * c + ch], v = y[((size_t)ii * w + jj) * c + ch];
                        sx += a; sy += v; sxy += a * v; sxx += a * a; cnt++;
                    }
                double mxv = sx / cnt, myv = sy / cnt;
                double Av = (sxy / cnt - mxv * myv) / (sxx / cnt - mxv * mxv + eps);
                A[(size_t)i * w + j] = Av; b[(size_t)i * w + j] = myv - Av * mxv;
            }
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) {
                double sa = 0, sb = 0; int cnt = 0;
                for (int di = -r; di <= r; di++)
                    for (int dj = -r; dj <= r; dj++) {
                        int ii = i + di, jj = j + dj;
                        if (ii < 0 || jj < 0 || ii >= h || jj >= w) continue;
                        sa += A[(size_t)ii * w + jj]; sb += b[(size_t)ii * w + jj]; cnt++;
                    }
                size_t o = ((size_t)i * w + j) * c + ch;
                out[o] = sa / cnt * x[o] + sb / cnt;
            }
    }
    free(mx); free(my); free(A); free(b);
}

/* Every row of the kernel table (the ones this CPU runs, the 16-lane test row included) against
 * the double-precision spec; rows of the same table must agree bit for bit (the same operations
 * in the same order, only the width differs). Sizes cover the scalar case, widths around the
 * vector lengths (tails), several bands per thread with the 3r rows a band recomputes (h 200
 * on 3 threads: 6 bands of 34 rows at r 1), one band, r 2 and 3, and c 1 to 3. With one
 * thread too: bands must not change a bit. */
static void test_guided_filter(void)
{
    static const int cases[][4] = {{1, 1, 3, 1}, {2, 3, 3, 1}, {17, 13, 3, 1}, {9, 20, 2, 2}, {5, 4, 1, 3},
                                   {200, 37, 3, 1}, {131, 16, 3, 1}, {97, 33, 1, 2}, {400, 5, 3, 1}, {60, 47, 3, 3}};
    size_t nk;
    const ct_cpu_kernels *ks = ct_cpu_kernels_list(&nk);
    ct_pool *one = NULL;
    CHECK(ct_pool_create(1, &one) == CARTOON_OK);
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        int h = cases[t][0], w = cases[t][1], c = cases[t][2], r = cases[t][3];
        size_t n = (size_t)h * w * c;
        float *x = rnd(n, -1, 1), *y = rnd(n, -1, 1), *got = malloc(n * 4), *first = malloc(n * 4);
        double *ref = malloc(n * 8);
        float *scratch = malloc(ct_guided_filter_scratch_floats(h, w, c, r, ct_pool_size(pool)) * 4);
        gf_ref(x, y, h, w, c, r, 5e-3, ref);
        const char *first_name = NULL;
        for (size_t k = 0; k < nk; k++) {
            if (ks[k].isa > ct_cpu_isa_native()) continue;
            for (int threads = 0; threads < 2; threads++) {
                ct_pool *pl = threads ? one : pool;
                ct_guided_filter_bands(x, y, h, w, c, r, 5e-3f, got, scratch, pl, ks[k].gf_band);
                double d = 0;
                for (size_t i = 0; i < n; i++) d = fmax(d, fabs(ref[i] - got[i]));
                CHECKF(d < 2e-5, "guided filter %s %dx%dx%d r%d, %d thread(s): %g", ks[k].name, h, w, c, r,
                       ct_pool_size(pl), d);
                if (!first_name) {
                    memcpy(first, got, n * 4);
                    first_name = ks[k].name;
                } else {
                    CHECKF(!memcmp(first, got, n * 4), "guided filter %dx%dx%d r%d: %s (%d thread(s)) differs from %s",
                           h, w, c, r, ks[k].name, ct_pool_size(pl), first_name);
                }
            }
        }
        /* the ops.h entry point is the portable row */
        ct_guided_filter(x, y, h, w, c, r, 5e-3f, got, scratch, pool);
        CHECK(!memcmp(first, got, n * 4));
        free(x); free(y); free(got); free(first); free(ref); free(scratch);
    }
    ct_pool_free(one);
}

static void test_add_concat_pad_crop(void)
{
    size_t n = 1000003;
    float *a = rnd(n, -1, 1), *b = rnd(n, -1, 1), *o = malloc(n * 4);
    ct_add(a, b, o, n, ACT_LEAKY_RELU, 0.2f, pool);
    int bad = 0;
    for (size_t i = 0; i < n; i++) { float s = a[i] + b[i]; if (o[i] != (s > 0 ? s : 0.2f * s)) bad++; }
    CHECK(bad == 0);
    float x[] = {1, 2, 3, 4}, y[] = {5, 6, 7, 8, 9, 10}, out[10];
    const float *ins[] = {x, y};
    int cs[] = {2, 3};
    ct_concat(ins, cs, 2, 2, out);
    float want[] = {1, 2, 5, 6, 7, 3, 4, 8, 9, 10};
    CHECK(memcmp(out, want, sizeof want) == 0);
    /* 2x3 image of 1 channel padded to 4x4 by edge replication, then cropped back */
    float img[] = {1, 2, 3, 4, 5, 6}, pad[16], back[6];
    ct_pad_edge(img, 2, 3, 1, pad, 4, 4);
    float wpad[] = {1, 2, 3, 3, 4, 5, 6, 6, 4, 5, 6, 6, 4, 5, 6, 6};
    CHECK(memcmp(pad, wpad, sizeof wpad) == 0);
    ct_crop(pad, 4, 1, back, 2, 3);
    CHECK(memcmp(back, img, sizeof img) == 0);
    free(a); free(b); free(o);
}

static int hits[10007];
static void count_hit(void *arg, int i, int tid)
{
    __atomic_fetch_add(&hits[i], 1, __ATOMIC_RELAXED);
    int *max_tid = arg;
    int m = __atomic_load_n(max_tid, __ATOMIC_RELAXED);
    while (tid > m && !__atomic_compare_exchange_n(max_tid, &m, tid, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
}

static void test_threadpool(void)
{
    for (int t = 1; t <= 5; t++) {
        ct_pool *p = NULL;
        CHECK(ct_pool_create(t, &p) == CARTOON_OK);
        CHECK(ct_pool_size(p) == t);
        memset(hits, 0, sizeof hits);
        int max_tid = 0;
        for (int rep = 0; rep < 20; rep++) ct_pool_run(p, 10007, count_hit, &max_tid);
        int bad = 0;
        for (int i = 0; i < 10007; i++) bad += hits[i] != 20;
        CHECKF(bad == 0, "pool of %d: %d items not run exactly 20 times", t, bad);
        CHECK(max_tid < t);
        ct_pool_free(p);
    }
    ct_pool *none = (ct_pool *)1;
    CHECK(ct_pool_create(0, &none) == CARTOON_E_INVALID_ARGUMENT);
}

/* Every upsample row kernel of the CPU table that this CPU runs (the 16-lane generic-vector
 * one included) gives exactly ct_upsample2x's bits (tested against the spec above): channel
 * counts with tails for 4, 8 and 16 lanes, odd sizes, both modes, with and without skip. */
static void test_upsample_rows(void)
{
    static const int shp[][3] = {{5, 7, 3}, {4, 3, 8}, {3, 6, 17}, {6, 5, 32}, {2, 9, 64}, {1, 1, 40}};
    size_t nk;
    const ct_cpu_kernels *ks = ct_cpu_kernels_list(&nk);
    for (size_t s = 0; s < sizeof shp / sizeof shp[0]; s++) {
        int h = shp[s][0], w = shp[s][1], c = shp[s][2];
        size_t ni = (size_t)h * w * c, no = 4 * ni;
        float *in = malloc(ni * 4), *skip = malloc(no * 4), *want = malloc(no * 4), *got = malloc(no * 4);
        for (size_t i = 0; i < ni; i++) in[i] = rng_uniform(-2, 2);
        for (size_t i = 0; i < no; i++) skip[i] = rng_uniform(-1, 1);
        for (int mode = 0; mode < 4; mode++) {
            const float *sk = mode & 2 ? skip : NULL;
            ct_upsample2x(in, h, w, c, mode & 1, sk, want, NULL);
            for (size_t k = 0; k < nk; k++) {
                if (ks[k].isa > ct_cpu_isa_native()) continue;
                memset(got, 0xff, no * 4);
                ct_upsample2x_rows(in, h, w, c, mode & 1, sk, got, pool, ks[k].upsample_row);
                CHECKF(!memcmp(got, want, no * 4), "%dx%dx%d mode %d kernels %s: differs from ct_upsample2x",
                       h, w, c, mode, ks[k].name);
            }
        }
        free(in); free(skip); free(want); free(got);
    }
}

/* Even output rows and columns are copies of the source pixel, exactly: -0 stays -0 and an
 * infinity stays infinite (a + 0 x (b - a) would give +0 and NaN), in ct_upsample2x and in
 * every row kernel; nearest copies everywhere. An odd output next to a NaN is a NaN. */
static void test_upsample_copies(void)
{
    const int h = 3, w = 4, c = 19; /* 19: whole vectors and a scalar tail at 8 and 16 lanes */
    const size_t ni = (size_t)h * w * c, no = 4 * ni;
    float *in = malloc(ni * 4), *got = malloc(no * 4);
    const float special[] = {-0.0f, INFINITY, -INFINITY, NAN, 3e38f, -1e-40f /* subnormal */};
    for (size_t i = 0; i < ni; i++) in[i] = rng_uniform(-2, 2);
    for (int k = 0; k < c; k++) {
        in[(size_t)(0 * w + 1) * c + k] = special[k % 6];       /* source (0, 1) */
        in[(size_t)(2 * w + 2) * c + k] = special[(k + 3) % 6]; /* source (2, 2) */
    }
    size_t nk;
    const ct_cpu_kernels *ks = ct_cpu_kernels_list(&nk);
    for (int mode = 0; mode < 2; mode++)
        for (size_t r = 0; r <= nk; r++) { /* r == nk: ct_upsample2x itself */
            if (r < nk && ks[r].isa > ct_cpu_isa_native()) continue;
            memset(got, 0x55, no * 4);
            if (r == nk) ct_upsample2x(in, h, w, c, mode, NULL, got, pool);
            else ct_upsample2x_rows(in, h, w, c, mode, NULL, got, pool, ks[r].upsample_row);
            int bad = 0;
            for (int oy = 0; oy < 2 * h; oy++)
                for (int ox = 0; ox < 2 * w; ox++)
                    for (int k = 0; k < c; k++) {
                        const float *src = in + ((size_t)(oy / 2) * w + ox / 2) * c + k;
                        const float v = got[((size_t)oy * 2 * w + ox) * c + k];
                        if ((!(oy & 1) && !(ox & 1)) || !mode) {
                            if (isnan(*src) ? !isnan(v) : memcmp(&v, src, 4) != 0) bad++;
                        } else if (!(oy & 1) && ox / 2 + 1 < w && (isnan(*src) || isnan(src[c]))) {
                            if (!isnan(v)) bad++; /* between two sources of a row, one a NaN */
                        }
                    }
            CHECKF(!bad, "upsample mode %d %s: %d outputs are not the exact copies or NaNs expected", mode,
                   r == nk ? "ct_upsample2x" : ks[r].name, bad);
        }
    free(in); free(got);
}

int main(void)
{
    rng_seed(42);
    ct_pool_create(3, &pool);
    run_case("same_padding", test_same_padding);
    run_case("conv_im2col_vs_naive", test_conv_im2col);
    run_case("depthwise_vs_naive", test_depthwise);
    run_case("upsample_tf1_vs_spec", test_upsample);
    run_case("upsample_rows_every_isa", test_upsample_rows);
    run_case("upsample_even_outputs_copy_exactly", test_upsample_copies);
    run_case("guided_filter_vs_spec", test_guided_filter);
    run_case("add_concat_pad_crop", test_add_concat_pad_crop);
    run_case("threadpool_runs_each_item_once", test_threadpool);
    ct_pool_free(pool);
    return check_summary();
}
