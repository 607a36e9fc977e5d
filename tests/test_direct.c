/* The direct-convolution kernels against conv2d_naive: both kernels (output channels or
 * input channels in lanes), every ISA path, odd sizes, strides 1 and 2, kernels 1..7,
 * channel counts that are not multiples of 8, every epilogue, outputs in cache and streamed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bf16_emul.h"
#include "check.h"
#include "conv_direct.h"
#include "cpu_kernels.h"

static ct_pool *pool;

static void one(int h, int w, int cin, int cout, int k, int stride, int epi, const ct_cpu_kernels *kern)
{
    ct_conv_shape s;
    ct_conv_shape_init(&s, h, w, cin, cout, k, stride);
    size_t no = (size_t)s.oh * s.ow * cout, ni = (size_t)h * w * cin, nw = (size_t)cout * k * k * cin;
    float *in = malloc(ni * 4), *wt = malloc(nw * 4), *bias = malloc((size_t)cout * 4), *res = malloc(no * 4);
    float *ref = malloc(no * 4);
    /* 64-byte aligned as the engine's arena is, so that whole vectors may be streamed */
    float *got = aligned_alloc(64, (no * 4 + 63) / 64 * 64);
    for (size_t i = 0; i < ni; i++) in[i] = rng_uniform(-1, 1);
    for (size_t i = 0; i < nw; i++) wt[i] = rng_uniform(-0.3f, 0.3f);
    for (int i = 0; i < cout; i++) bias[i] = rng_uniform(-0.5f, 0.5f);
    for (size_t i = 0; i < no; i++) res[i] = rng_uniform(-1, 1);
    /* 1, 4, 5 and 6 are the kernels' specialised epilogues (a bias; leaky ReLU or none;
       a residual or none), the others take the general one */
    ct_epilogue eps[7] = {
        {NULL, ACT_NONE, 0, NULL, ACT_NONE, 0},
        {bias, ACT_LEAKY_RELU, 0.2f, NULL, ACT_NONE, 0},
        {bias, ACT_RELU, 0, res, ACT_NONE, 0},
        {bias, ACT_NONE, 0, res, ACT_LEAKY_RELU, 0.2f},
        {bias, ACT_NONE, 0, NULL, ACT_NONE, 0},
        {bias, ACT_LEAKY_RELU, 0.3f, res, ACT_NONE, 0},
        {bias, ACT_NONE, 0, res, ACT_NONE, 0},
    };
    ct_conv2d_naive(&s, in, wt, &eps[epi], ref);
    ct_direct *d = NULL;
    CHECK(ct_direct_create(wt, cin, cout, k, &d) == CARTOON_OK);
    CHECK(ct_direct_conv(d, &s, in, &eps[epi], got, pool, kern->direct_row) == CARTOON_OK);
    double m = 1, diff = max_abs_diff(ref, got, no);
    for (size_t i = 0; i < no; i++) m = fmax(m, fabs(ref[i]));
    CHECKF(diff <= 1e-5 * m, "%dx%d %d->%d k%d s%d epi%d %s: max diff %g", h, w, cin, cout, k, stride, epi,
           kern->name, diff);
    ct_direct_free(d);
    free(in); free(wt); free(bias); free(res); free(ref); free(got);
}

static void test_shapes(void)
{
    static const int cases[][6] = {
        /* h, w, cin, cout, k, stride */
        {13, 17, 3, 32, 7, 1},  {9, 11, 32, 3, 7, 1},  {16, 24, 32, 32, 3, 2}, {15, 9, 64, 64, 3, 2},
        {1, 1, 3, 5, 7, 1},     {1, 9, 4, 4, 5, 2},    {7, 5, 17, 33, 3, 1},   {8, 8, 33, 7, 5, 1},
        {6, 13, 9, 1, 3, 2},    {5, 5, 5, 9, 1, 2},    {20, 3, 2, 17, 3, 1},   {3, 20, 24, 2, 7, 2},
        {12, 12, 8, 8, 1, 1},   {10, 31, 3, 16, 5, 1},  {7, 40, 16, 3, 5, 2},   {6, 23, 40, 3, 3, 1},
        /* 16-lane specifics: a last cout block of 8, k * cin a multiple of 16 or of 8 only */
        {11, 29, 16, 24, 3, 1}, {9, 14, 48, 3, 3, 2},  {7, 30, 8, 3, 3, 1},    {5, 19, 3, 40, 7, 2},
        /* a student's RGB output with a 5 x 5 window (train.py --out-k 5): three-pixel groups
         * and the clipped edge columns in one row */
        {9, 37, 24, 3, 5, 1},
        /* an output of CT_STREAM_MIN_BYTES or more, written with streaming stores (the student's stem) */
        {230, 231, 3, 24, 3, 1},
        /* the same with 32 channels: with 16 lanes, a two-vector block of 32, streamed */
        {200, 170, 3, 32, 3, 1},
    };
    /* every table entry the CPU runs, the 16-lane generic-vector one (v16-avx2) included */
    size_t nk;
    const ct_cpu_kernels *ks = ct_cpu_kernels_list(&nk);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int e = 0; e < 7; e++)
            for (size_t i = 0; i < nk; i++) {
                if (ks[i].isa > ct_cpu_isa_native()) continue;
                const int *x = cases[c];
                one(x[0], x[1], x[2], x[3], x[4], x[5], e, &ks[i]);
            }
}

static void test_bad_args(void)
{
    float w[27] = {0};
    ct_direct *d = NULL;
    CHECK(ct_direct_create(w, 3, 1, 2, &d) == CARTOON_E_INVALID_ARGUMENT && d == NULL);
    CHECK(ct_direct_create(NULL, 3, 1, 3, &d) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(ct_direct_create(w, 3, 1, 3, &d) == CARTOON_OK);
    ct_conv_shape s;
    ct_conv_shape_init(&s, 4, 4, 2, 1, 3, 1);
    float in[32], out[16];
    CHECK(ct_direct_conv(d, &s, in, NULL, out, NULL, ct_cpu_kernels_for(CT_ISA_GENERIC)->direct_row) == CARTOON_E_INVALID_ARGUMENT);
    ct_direct_free(d);
    ct_direct_free(NULL);
}

/* The shape of case row x ({h, w, cin, cout, k, stride}) into *s, a random input, weights and
 * bias for it (the caller frees them); returns the output's float count. */
static size_t random_case(const int *x, ct_conv_shape *s, float **in, float **wt, float **bias)
{
    ct_conv_shape_init(s, x[0], x[1], x[2], x[3], x[4], x[5]);
    size_t ni = (size_t)s->h * s->w * s->cin, nw = (size_t)s->cout * s->k * s->k * s->cin;
    *in = malloc(ni * 4), *wt = malloc(nw * 4), *bias = malloc((size_t)s->cout * 4);
    for (size_t i = 0; i < ni; i++) (*in)[i] = rng_uniform(-1, 1);
    for (size_t i = 0; i < nw; i++) (*wt)[i] = rng_uniform(-0.3f, 0.3f);
    for (int i = 0; i < s->cout; i++) (*bias)[i] = rng_uniform(-0.5f, 0.5f);
    return (size_t)s->oh * s->ow * s->cout;
}

/* On a CPU with AVX-512, the native 16-lane kernels and their generic-vector build do the
 * same operations in the same order: bit-identical outputs on every path. */
static void test_v16_matches_avx512(void)
{
    static const int cases[][6] = {{13, 31, 3, 32, 7, 1}, {17, 40, 32, 3, 7, 1}, {16, 24, 32, 64, 3, 2},
                                   {9, 22, 40, 2, 3, 1}, {11, 29, 16, 24, 3, 1}, {9, 37, 24, 3, 5, 1}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ct_conv_shape s;
        float *in, *wt, *bias;
        size_t no = random_case(cases[c], &s, &in, &wt, &bias);
        float *a = malloc(no * 4), *b = malloc(no * 4);
        ct_epilogue ep = {bias, ACT_LEAKY_RELU, 0.2f, NULL, ACT_NONE, 0};
        ct_direct *d = NULL;
        CHECK(ct_direct_create(wt, s.cin, s.cout, s.k, &d) == CARTOON_OK);
        CHECK(ct_direct_conv(d, &s, in, &ep, a, pool, ct_direct_row_avx512) == CARTOON_OK);
        CHECK(ct_direct_conv(d, &s, in, &ep, b, pool, ct_direct_row_v16_avx2) == CARTOON_OK);
        CHECKF(!memcmp(a, b, no * 4), "case %zu: avx512 and v16-avx2 differ (max %g)", c, max_abs_diff(a, b, no));
        ct_direct_free(d);
        free(in); free(wt); free(bias); free(a); free(b);
    }
}

/* ---- bf16 operands (ct_direct_conv_bf16) */

static const int bf16_cases[][6] = {
    /* h, w, cin, cout, k, stride. Output channels in lanes: an odd window row (3 x 7 = 21
     * values: the last pair's partner weight is zero), odd cin, 48 = 32 + 16 channels, every
     * window clipped (1 x 1), stride 2, a 1 x 1 kernel, and an output streamed (>= 4 MiB) */
    {13, 17, 3, 32, 7, 1}, {16, 24, 32, 32, 3, 2}, {15, 9, 64, 64, 3, 2}, {10, 31, 3, 16, 5, 1},
    {7, 5, 17, 48, 3, 1}, {5, 19, 3, 32, 7, 2}, {1, 1, 3, 16, 7, 1}, {6, 7, 5, 16, 1, 1},
    {200, 170, 3, 32, 3, 1},
    /* input channels in lanes (cout 3): a window row of 112 pairs (7 whole steps), of 60 (3 and
     * a masked 12), of 12 (only a masked step), stride 2 */
    {17, 40, 32, 3, 7, 1}, {9, 37, 24, 3, 5, 1}, {6, 23, 40, 3, 3, 1}, {9, 14, 48, 3, 3, 2}, {7, 30, 8, 3, 3, 1},
};

static float bf16_of(float x) { return ct_bf16_value(ct_bf16_round(x)); }

/* Each bf16 kernel the CPU runs against the naive convolution (double sums) of the input and
 * weights rounded to bf16: what the kernels must compute, up to fp32 summation. */
static void test_bf16_vs_rounded_naive(void)
{
    size_t nk;
    const ct_cpu_kernels *ks = ct_cpu_kernels_list(&nk);
    int rows = 0;
    for (size_t c = 0; c < sizeof bf16_cases / sizeof bf16_cases[0]; c++) {
        const int *x = bf16_cases[c];
        ct_conv_shape s;
        ct_conv_shape_init(&s, x[0], x[1], x[2], x[3], x[4], x[5]);
        size_t no = (size_t)s.oh * s.ow * s.cout, ni = (size_t)s.h * s.w * s.cin, nw = (size_t)s.cout * s.k * s.k * s.cin;
        float *in = malloc(ni * 4), *wt = malloc(nw * 4), *inr = malloc(ni * 4), *wr = malloc(nw * 4);
        float *bias = malloc((size_t)s.cout * 4), *res = malloc(no * 4), *ref = malloc(no * 4), *ref32 = malloc(no * 4);
        float *got = aligned_alloc(64, (no * 4 + 63) / 64 * 64);
        for (size_t i = 0; i < ni; i++) inr[i] = bf16_of(in[i] = rng_uniform(-1, 1));
        for (size_t i = 0; i < nw; i++) wr[i] = bf16_of(wt[i] = rng_uniform(-0.3f, 0.3f));
        for (int i = 0; i < s.cout; i++) bias[i] = rng_uniform(-0.5f, 0.5f);
        for (size_t i = 0; i < no; i++) res[i] = rng_uniform(-1, 1);
        ct_epilogue eps[3] = {{NULL, ACT_NONE, 0, NULL, ACT_NONE, 0},
                              {bias, ACT_LEAKY_RELU, 0.2f, NULL, ACT_NONE, 0},
                              {bias, ACT_NONE, 0, res, ACT_LEAKY_RELU, 0.2f}};
        ct_direct *d = NULL;
        CHECK(ct_direct_create_bf16(wt, s.cin, s.cout, s.k, &d) == CARTOON_OK);
        void *scratch = aligned_alloc(64, ct_direct_bf16_scratch_bytes(d, s.w, ct_pool_size(pool)));
        for (int e = 0; e < 3; e++) {
            ct_conv2d_naive(&s, inr, wr, &eps[e], ref);
            double m = 1;
            for (size_t i = 0; i < no; i++) m = fmax(m, fabs(ref[i]));
            if (e == 0) { /* the rounding shows: the test can tell bf16 operands from fp32 ones */
                ct_conv2d_naive(&s, in, wt, &eps[e], ref32);
                CHECKF(max_abs_diff(ref, ref32, no) > 1e-4 * m, "case %zu: bf16 rounding not visible", c);
            }
            for (size_t i = 0; i < nk; i++) {
                if (!ks[i].direct_rows_bf16 || ks[i].isa > ct_cpu_isa_native()) continue;
                rows += c == 0 && e == 0;
                for (size_t q = 0; q < no; q++) got[q] = NAN;
                CHECK(ct_direct_conv_bf16(d, &s, in, &eps[e], got, scratch, pool, ks[i].direct_rows_bf16) ==
                      CARTOON_OK);
                double diff = max_abs_diff(ref, got, no);
                CHECKF(diff <= 1e-5 * m, "%dx%d %d->%d k%d s%d epi%d %s: max diff %g", s.h, s.w, s.cin, s.cout, s.k,
                       s.stride, e, ks[i].name, diff);
            }
        }
        ct_direct_free(d);
        free(scratch);
        free(in); free(wt); free(inr); free(wr); free(bias); free(res); free(ref); free(ref32); free(got);
    }
    printf("# bf16 direct kernels run: %d\n", rows);
    CHECK(rows >= 1);
}

/* With AVX512_BF16, the native kernels and their emulation agree bit for bit. */
static void test_bf16_native_matches_emulated(void)
{
    for (size_t c = 0; c < sizeof bf16_cases / sizeof bf16_cases[0]; c++) {
        ct_conv_shape s;
        float *in, *wt, *bias;
        size_t no = random_case(bf16_cases[c], &s, &in, &wt, &bias);
        float *a = aligned_alloc(64, (no * 4 + 63) / 64 * 64), *b = aligned_alloc(64, (no * 4 + 63) / 64 * 64);
        ct_epilogue ep = {bias, ACT_LEAKY_RELU, 0.2f, NULL, ACT_NONE, 0};
        ct_direct *d = NULL;
        CHECK(ct_direct_create_bf16(wt, s.cin, s.cout, s.k, &d) == CARTOON_OK);
        void *scratch = aligned_alloc(64, ct_direct_bf16_scratch_bytes(d, s.w, ct_pool_size(pool)));
        CHECK(ct_direct_conv_bf16(d, &s, in, &ep, a, scratch, pool, ct_direct_rows_bf16_avx512bf16) == CARTOON_OK);
        CHECK(ct_direct_conv_bf16(d, &s, in, &ep, b, scratch, pool, ct_direct_rows_bf16_v16_avx2) == CARTOON_OK);
        CHECKF(!memcmp(a, b, no * 4), "case %zu: native and emulated bf16 differ (max %g)", c, max_abs_diff(a, b, no));
        ct_direct_free(d);
        free(scratch);
        free(in); free(wt); free(bias); free(a); free(b);
    }
}

static void test_bf16_bad_args(void)
{
    float w[16 * 9 * 4] = {0}, in[64] = {0}, out[256];
    ct_direct *d = NULL;
    /* 24 output channels (neither a multiple of 16 nor the RGB output), an odd cin into 3
     * outputs, an even k: refused */
    CHECK(!ct_direct_bf16_ok(4, 24, 3) && !ct_direct_bf16_ok(9, 3, 3) && !ct_direct_bf16_ok(4, 16, 2));
    CHECK(ct_direct_bf16_ok(3, 32, 7) && ct_direct_bf16_ok(32, 3, 7));
    CHECK(ct_direct_create_bf16(w, 4, 24, 3, &d) == CARTOON_E_INVALID_ARGUMENT && !d);
    CHECK(ct_direct_create_bf16(w, 9, 3, 3, &d) == CARTOON_E_INVALID_ARGUMENT && !d);
    CHECK(ct_direct_create_bf16(NULL, 4, 16, 3, &d) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(ct_direct_create_bf16(w, 4, 16, 3, NULL) == CARTOON_E_INVALID_ARGUMENT);
    ct_direct *f = NULL;
    CHECK(ct_direct_create(w, 4, 16, 3, &f) == CARTOON_OK);
    CHECK(!ct_direct_is_bf16(f) && ct_direct_bf16_scratch_bytes(f, 4, 2) == 0);
    CHECK(ct_direct_create_bf16(w, 4, 16, 3, &d) == CARTOON_OK && ct_direct_is_bf16(d));
    ct_direct *big = NULL;
    CHECK(ct_direct_create_bf16(w, 4, 16, CT_DIRECT_MAX_K + 2, &big) == CARTOON_E_INVALID_ARGUMENT && !big);
    ct_conv_shape s;
    ct_conv_shape_init(&s, 4, 4, 4, 16, 3, 1);
    /* k rows of 4 x 4 bf16 and the zero padding, per thread */
    size_t sb = ct_direct_bf16_scratch_bytes(d, 4, 2);
    CHECK(sb >= 2 * 3 * (4 * 4 * 2 + CT_DIRECT_BF16_PAD) && sb % 64 == 0);
    CHECK(ct_direct_bf16_scratch_bytes(d, 4, 1) * 2 == sb);
    char *scratch = aligned_alloc(64, sb + 64);
    ct_direct_row_fn rows = ct_direct_rows_bf16_v16_avx2;
    CHECK(ct_direct_conv_bf16(f, &s, in, NULL, out, scratch, NULL, rows) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(ct_direct_conv_bf16(d, &s, in, NULL, out, NULL, NULL, rows) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(ct_direct_conv_bf16(d, &s, in, NULL, out, scratch + 4, NULL, rows) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(ct_direct_conv_bf16(d, &s, in, NULL, out, scratch, NULL, NULL) == CARTOON_E_INVALID_ARGUMENT);
    ct_conv_shape_init(&s, 4, 4, 4, 32, 3, 1);
    CHECK(ct_direct_conv_bf16(d, &s, in, NULL, out, scratch, NULL, rows) == CARTOON_E_INVALID_ARGUMENT);
    free(scratch);
    ct_direct_free(d);
    ct_direct_free(f);
}

int main(void)
{
    rng_seed(11);
    ct_pool_create(3, &pool);
    run_case("direct_vs_naive_all_paths", test_shapes);
    run_case("direct_bad_args", test_bad_args);
    if (ct_cpu_isa_native() >= CT_ISA_AVX512) run_case("direct_v16_matches_avx512", test_v16_matches_avx512);
    else skip_case("direct_v16_matches_avx512", "no AVX-512 F/BW/VL/DQ on this CPU: the 16-lane "
                   "template ran as v16-avx2 (generic vectors) instead of natively");
#if defined(__x86_64__)
    run_case("direct_bf16_bad_args", test_bf16_bad_args);
    if (ct_cpu_isa_native() >= CT_ISA_AVX2) run_case("direct_bf16_vs_rounded_naive", test_bf16_vs_rounded_naive);
    else skip_case("direct_bf16_vs_rounded_naive", "no AVX2: neither the bf16 kernels nor their emulation run here");
    if (ct_cpu_isa_native() >= CT_ISA_AVX512_BF16)
        run_case("direct_bf16_native_matches_emulated", test_bf16_native_matches_emulated);
    else skip_case("direct_bf16_native_matches_emulated", "no AVX512_BF16 on this CPU: the bf16 kernels ran as "
                   "their emulation only");
#endif
    ct_pool_free(pool);
    return check_summary();
}
