/* Winograd 3x3 convolution against conv2d_naive: odd sizes, channel counts that are not
 * multiples of the vector width, the model's channel pairs, every epilogue, each ISA path
 * (forced through CARTOON_ISA), 1 and 3 threads, both tile sizes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "support/check.h"
#include "conv.h"
#include "conv_winograd.h"
#include "cpu_kernels.h"
#include "threadpool.h"

/* Relative tolerance: |diff| <= TOL * max(1, max|ref|). fp32 Winograd rounding grows with
 * the transform's coefficients; measured here (reported on stdout) it is ~1e-6 for F(4x4)
 * and ~5e-6 for F(6x6) relative on unit-scale data, so 1e-4 leaves a 20x margin for both
 * and still catches any wrong coefficient or misplaced tile (those give errors ~1e-1). */
#define TOL 1e-4

static double worst[7]; /* by tile size m */
static ct_pool *pool3;

static float *rand_buf(size_t n, float lo, float hi)
{
    float *p = malloc(n * sizeof *p + 1);
    for (size_t i = 0; i < n; i++) p[i] = rng_uniform(lo, hi);
    return p;
}

enum { EP_NONE, EP_BIAS, EP_BIAS_LEAKY, EP_RELU, EP_RESID, EP_RESID_LEAKY, EP_RESID_INPLACE, EP_COUNT };
static const char *ep_names[] = {"none", "bias", "bias+leaky", "bias+relu", "leaky+residual",
                                 "residual+post-leaky", "residual-in-place"};

static void *alloc_scratch(size_t n)
{
    if (n == 0) n = 64;
    return aligned_alloc(CT_WINOGRAD_SCRATCH_ALIGN, (n + 63) / 64 * 64);
}

/* One geometry: reference once per epilogue, then every (m, isa, threads) against it. */
static void check_shape(int h, int w, int cin, int cout, int ep_mask)
{
    ct_conv_shape s;
    ct_conv_shape_init(&s, h, w, cin, cout, 3, 1);
    size_t nin = (size_t)h * w * cin, nout = (size_t)h * w * cout, nw = (size_t)cout * 9 * cin;
    /* He-like weight scale so outputs are O(1) like the model's activations */
    float ws = sqrtf(3.f / (9.f * cin));
    float *in = rand_buf(nin, -1.f, 1.f), *wt = rand_buf(nw, -ws, ws);
    float *bias = rand_buf((size_t)cout, -0.5f, 0.5f), *res = rand_buf(nout, -1.f, 1.f);
    float *ref = malloc(nout * sizeof *ref), *out = malloc(nout * sizeof *out);
    ct_winograd *wg[2] = {NULL, NULL};
    CHECK(ct_winograd_create_tile(wt, cin, cout, 4, &wg[0]) == CARTOON_OK);
    CHECK(ct_winograd_create_tile(wt, cin, cout, 6, &wg[1]) == CARTOON_OK);
    if (!wg[0] || !wg[1]) goto done;

    for (int e = 0; e < EP_COUNT; e++) {
        if (!(ep_mask & (1 << e))) continue;
        ct_epilogue ep = {0};
        if (e == EP_BIAS || e == EP_BIAS_LEAKY || e == EP_RELU || e == EP_RESID) ep.bias = bias;
        if (e == EP_BIAS_LEAKY || e == EP_RESID) { ep.act = ACT_LEAKY_RELU; ep.alpha = 0.2f; }
        if (e == EP_RELU) ep.act = ACT_RELU;
        if (e >= EP_RESID) ep.residual = res;
        if (e == EP_RESID_LEAKY || e == EP_RESID_INPLACE) { ep.post_act = ACT_LEAKY_RELU; ep.post_alpha = 0.2f; }
        ct_conv2d_naive(&s, in, wt, &ep, ref);
        double mref = 0;
        for (size_t i = 0; i < nout; i++) mref = fmax(mref, fabs(ref[i]));
        double scale = fmax(1.0, mref);

        for (int mi = 0; mi < 2; mi++)
            for (int isa_req = 0; isa_req < 3; isa_req++) {
                setenv("CARTOON_ISA", isa_req == 0 ? "generic" : isa_req == 1 ? "avx2" : "avx512", 1);
                int isa = ct_cpu_isa();
                for (int th = 0; th < 2; th++) {
                    ct_pool *pool = th ? pool3 : NULL;
                    size_t sb = ct_winograd_scratch_bytes(wg[mi], h, w, ct_pool_size(pool));
                    void *scratch = alloc_scratch(sb);
                    ct_epilogue ep2 = ep;
                    if (e == EP_RESID_INPLACE) { memcpy(out, res, nout * sizeof *out); ep2.residual = out; }
                    else for (size_t i = 0; i < nout; i++) out[i] = NAN;
                    cartoon_status st = ct_winograd_conv(wg[mi], &s, in, &ep2, out, scratch, pool, ct_cpu_kernels_for(isa)->winograd_task);
                    CHECK(st == CARTOON_OK);
                    double err = 0;
                    for (size_t i = 0; i < nout; i++) {
                        double d = fabs((double)out[i] - ref[i]);
                        if (!(d <= err)) err = isnan(d) ? INFINITY : d;
                    }
                    double rel = err / scale;
                    int m = ct_winograd_tile(wg[mi]);
                    if (rel > worst[m]) worst[m] = rel;
                    CHECKF(rel <= TOL, "%dx%d %d->%d F%d %s isa=%s threads=%d: max err %.3g (scale %.3g)",
                           h, w, cin, cout, m, ep_names[e], ct_isa_name(isa), th ? 3 : 1, err, scale);
                    free(scratch);
                }
            }
        unsetenv("CARTOON_ISA");
    }
done:
    ct_winograd_free(wg[0]);
    ct_winograd_free(wg[1]);
    free(in); free(wt); free(bias); free(res); free(ref); free(out);
}

#define ALL_EP ((1 << EP_COUNT) - 1)

static void test_odd_sizes(void)
{
    static const int sz[][2] = {{1, 1}, {1, 7}, {7, 1}, {5, 3}, {13, 17}, {31, 9}, {6, 6}, {8, 8}, {12, 25}};
    for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++)
        check_shape(sz[i][0], sz[i][1], 5, 3, ALL_EP);
}

static void test_odd_channels(void)
{
    static const int ch[][2] = {{1, 1}, {3, 5}, {5, 3}, {17, 33}, {33, 17}, {1, 17}, {9, 16}, {16, 9}};
    for (size_t i = 0; i < sizeof ch / sizeof ch[0]; i++) {
        check_shape(13, 17, ch[i][0], ch[i][1], ALL_EP);
        check_shape(5, 3, ch[i][0], ch[i][1], 1 << EP_RESID_LEAKY);
    }
}

static void test_model_channels(void)
{
    static const int ch[][2] = {{32, 64}, {64, 64}, {64, 128}, {128, 128}, {128, 64}, {64, 32}, {32, 32}};
    for (size_t i = 0; i < sizeof ch / sizeof ch[0]; i++)
        check_shape(31, 9, ch[i][0], ch[i][1], (1 << EP_BIAS_LEAKY) | (1 << EP_RESID) | (1 << EP_RESID_INPLACE));
}

static void test_64x64(void)
{
    /* many blocks per thread, interior and edge tiles of both sizes */
    check_shape(64, 64, 128, 128, (1 << EP_RESID));
    check_shape(64, 64, 33, 17, (1 << EP_BIAS_LEAKY));
    check_shape(64, 64, 64, 32, (1 << EP_BIAS_LEAKY));
}

static void test_bad_args(void)
{
    float wt[9 * 4 * 2] = {0};
    ct_winograd *wg = NULL;
    CHECK(ct_winograd_create_tile(wt, 4, 2, 5, &wg) == CARTOON_E_INVALID_ARGUMENT && !wg);
    CHECK(ct_winograd_create(wt, 0, 2, &wg) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(ct_winograd_create(wt, 4, 2, &wg) == CARTOON_OK);
    ct_conv_shape s;
    ct_conv_shape_init(&s, 8, 8, 4, 2, 3, 2); /* stride 2 is not this kernel's */
    float in[8 * 8 * 4] = {0}, out[8 * 8 * 2];
    void *scratch = alloc_scratch(ct_winograd_scratch_bytes(wg, 8, 8, 1));
    CHECK(ct_winograd_conv(wg, &s, in, NULL, out, scratch, NULL, ct_cpu_kernels_for(CT_ISA_GENERIC)->winograd_task) == CARTOON_E_INVALID_ARGUMENT);
    ct_conv_shape_init(&s, 8, 8, 3, 2, 3, 1); /* cin mismatch */
    CHECK(ct_winograd_conv(wg, &s, in, NULL, out, scratch, NULL, ct_cpu_kernels_for(CT_ISA_GENERIC)->winograd_task) == CARTOON_E_INVALID_ARGUMENT);
    ct_conv_shape_init(&s, 8, 8, 4, 2, 3, 1);
    CHECK(ct_winograd_conv(wg, &s, in, NULL, out, scratch, NULL, ct_cpu_kernels_for(CT_ISA_GENERIC)->winograd_task) == CARTOON_OK);
    free(scratch);
    ct_winograd_free(wg);
}

static void test_isa_override(void)
{
    int native = ct_cpu_isa_native();
    setenv("CARTOON_ISA", "generic", 1);
    CHECK(ct_cpu_isa() == CT_ISA_GENERIC);
    setenv("CARTOON_ISA", "avx2", 1);
    CHECK(ct_cpu_isa() == (native < CT_ISA_AVX2 ? native : CT_ISA_AVX2));
    setenv("CARTOON_ISA", "avx512", 1);
    CHECK(ct_cpu_isa() == native);
    setenv("CARTOON_ISA", "bogus", 1);
    CHECK(ct_cpu_isa() == native);
    unsetenv("CARTOON_ISA");
    CHECK(ct_cpu_isa() == native);
}

int main(void)
{
    rng_seed(12345);
    if (ct_pool_create(3, &pool3) != CARTOON_OK) { fprintf(stderr, "no pool\n"); return 1; }
    printf("# native isa: %s\n", ct_isa_name(ct_cpu_isa_native()));
    run_case("winograd_isa_override", test_isa_override);
    run_case("winograd_bad_args", test_bad_args);
    run_case("winograd_odd_sizes", test_odd_sizes);
    run_case("winograd_odd_channels", test_odd_channels);
    run_case("winograd_model_channels", test_model_channels);
    if (getenv("CARTOON_TEST_QUICK")) skip_case("winograd_64x64", "CARTOON_TEST_QUICK");
    else run_case("winograd_64x64", test_64x64);
    printf("# worst relative error: F4 %.3g, F6 %.3g\n", worst[4], worst[6]);
    ct_pool_free(pool3);
    return check_summary();
}
