/* The CUDA backend against the CPU backend and the reference outputs.
 *
 * Without a usable GPU (no driver, no device, or a build without CUDA) the GPU cases are
 * skipped with the reason, and what must hold on such a machine is checked: an explicit CUDA
 * request fails with CARTOON_E_DEVICE and a message, device AUTO falls back to the CPU.
 *
 * With a GPU: a synthetic network of every op (7x7 conv on 3 channels, stride-2 conv with
 * TensorFlow's asymmetric padding, 128-channel convs, a residual add fused into a conv, a
 * pointwise conv, depthwise conv, bilinear and nearest upsampling, an upsample fused with its
 * skip add, a 3-input concat, a conv to 3 channels fused with an activated add, the guided
 * filter) node by node and fused, at several sizes, in every precision and conv path; memory
 * budget and arena reuse; the real model node by node; every case of reference/index.json
 * end to end (fp32 <= 1e-3 max abs, fp16 >= 70 dB PSNR and <= 0.02 max abs; cuDNN fp16 60 dB
 * and 0.06); fp16 against fp32 at 2048x2048; the 8-bit API as the CPU's (99.9% identical).
 * The fp16 bounds come from the fp16 path computed on the CPU (bench/peer_torch.py, conv
 * operands rounded to fp16, fp32 arithmetic), at each place they are used.
 *
 * The student model (issue 14: depthwise-separable blocks, concat skips; built here with random
 * weights by tests/support/student_model.c, at widths 40 and 6 so that every channel count
 * that is not a multiple of 4 takes the scalar depthwise path), against the CPU's exact path
 * (im2col), node by node and fused (depthwise into pointwise, concats never stored): fp32
 * <= 1e-4 max abs in model space, fp16 <= 5e-3 per node and >= 70 dB PSNR; the plan the CUDA
 * backend gets; and weights/student/cartoon-student.safetensors the same way when present.
 * The cuDNN cases are skipped, with the reason, in a build without cuDNN. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "backend.h"
#include "cartoon.h"
#include "cartoon_io.h"
#include "check.h"
#include "half.h"
#include "safetensors_write.h"
#include "student_model.h"

static cartoon_model *synth;
static cartoon_model *real;
static cartoon_model *student, *student_odd;
static char why[256];
static int have_cudnn;
static char no_cudnn[256];

/* ------------------------------------------------------------------ synthetic model */

#define CONV(name, in, k, s, ci, co, act) \
    "{\"name\": \"" name "\", \"op\": \"conv2d\", \"inputs\": [\"" in "\"], \"kernel\": " #k ", \"stride\": " #s \
    ", \"in_channels\": " #ci ", \"out_channels\": " #co ", \"weight\": \"" name ".w\", \"bias\": \"" name ".b\"" act "},"
#define LEAKY ", \"activation\": \"leaky_relu\", \"alpha\": 0.2"

static const char *GRAPH =
    "{\"input\": {\"name\": \"in\", \"channels\": 3, \"color_order\": \"BGR\", \"scale\": 0.00784313725490196, \"offset\": -1},"
    " \"pad_multiple\": 2, \"output\": \"gf\", \"nodes\": ["
    CONV("c0", "in", 7, 1, 3, 32, LEAKY)
    CONV("c1", "c0", 3, 2, 32, 64, LEAKY)
    CONV("c2", "c1", 3, 1, 64, 128, LEAKY)
    CONV("c3", "c2", 3, 1, 128, 128, LEAKY)
    "{\"name\": \"a1\", \"op\": \"add\", \"inputs\": [\"c3\", \"c2\"], \"activation\": \"leaky_relu\", \"alpha\": 0.1},"
    CONV("c4", "c3", 3, 1, 128, 128, "")
    "{\"name\": \"a0\", \"op\": \"add\", \"inputs\": [\"c4\", \"a1\"]},"
    CONV("c5", "a0", 1, 1, 128, 32, LEAKY)
    "{\"name\": \"dw\", \"op\": \"depthwise_conv2d\", \"inputs\": [\"c5\"], \"kernel\": 3, \"stride\": 1, \"channels\": 32,"
    " \"weight\": \"dw.w\", \"bias\": \"dw.b\", \"activation\": \"relu\"},"
    "{\"name\": \"u0\", \"op\": \"upsample\", \"inputs\": [\"dw\"], \"factor\": 2, \"mode\": \"bilinear_tf1\"},"
    "{\"name\": \"s0\", \"op\": \"add\", \"inputs\": [\"u0\", \"c0\"]},"
    "{\"name\": \"un\", \"op\": \"upsample\", \"inputs\": [\"c1\"], \"factor\": 2, \"mode\": \"nearest\"},"
    "{\"name\": \"cat\", \"op\": \"concat\", \"inputs\": [\"s0\", \"un\", \"in\"]},"
    CONV("c6", "cat", 3, 1, 99, 3, "")
    "{\"name\": \"ad\", \"op\": \"add\", \"inputs\": [\"c6\", \"in\"], \"activation\": \"leaky_relu\", \"alpha\": 0.5},"
    "{\"name\": \"gf\", \"op\": \"guided_filter\", \"inputs\": [\"in\", \"ad\"], \"radius\": 1, \"eps\": 0.01}]}";

typedef struct { const char *name; int ndim; int64_t shape[4]; int fan_in; } wspec;
static const wspec WS[] = {
    {"c0.w", 4, {32, 7, 7, 3}, 147},    {"c0.b", 1, {32}, 0},   {"c1.w", 4, {64, 3, 3, 32}, 288},
    {"c1.b", 1, {64}, 0},               {"c2.w", 4, {128, 3, 3, 64}, 576},  {"c2.b", 1, {128}, 0},
    {"c3.w", 4, {128, 3, 3, 128}, 1152}, {"c3.b", 1, {128}, 0},  {"c4.w", 4, {128, 3, 3, 128}, 1152},
    {"c4.b", 1, {128}, 0},              {"c5.w", 4, {32, 1, 1, 128}, 128},  {"c5.b", 1, {32}, 0},
    {"dw.w", 3, {3, 3, 32}, 9},         {"dw.b", 1, {32}, 0},   {"c6.w", 4, {3, 3, 3, 99}, 891},
    {"c6.b", 1, {3}, 0},
};
#define N_WS (sizeof WS / sizeof WS[0])

static cartoon_model *build_synth(void)
{
    st_writer *w = ct_st_writer_new();
    if (!w) return NULL;
    rng_seed(42);
    for (size_t i = 0; i < N_WS; i++) {
        size_t n = 1;
        for (int d = 0; d < WS[i].ndim; d++) n *= (size_t)WS[i].shape[d];
        float *data = malloc(n * sizeof *data);
        float a = WS[i].fan_in ? sqrtf(3.f / (float)WS[i].fan_in) : 0.2f; /* variance 1 / fan_in */
        for (size_t k = 0; k < n; k++) data[k] = rng_uniform(-a, a);
        ct_st_writer_add(w, WS[i].name, ST_F32, WS[i].ndim, WS[i].shape, data);
        free(data);
    }
    ct_st_writer_meta(w, "format", "libcartoon");
    ct_st_writer_meta(w, "format_version", "1");
    ct_st_writer_meta(w, "name", "cuda-test-unet");
    ct_st_writer_meta(w, "graph", GRAPH);
    uint8_t *buf = NULL;
    size_t size = 0;
    cartoon_model *m = NULL;
    char err[256] = "";
    if (ct_st_writer_serialize(w, &buf, &size) == CARTOON_OK &&
        cartoon_model_load_memory(buf, size, NULL, &m, err, sizeof err) != CARTOON_OK)
        fprintf(stderr, "synthetic model: %s\n", err);
    free(buf);
    ct_st_writer_free(w);
    return m;
}

static float *rnd(size_t n)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = rng_uniform(-1, 1);
    return p;
}

static double max_abs(const float *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) if (fabs(a[i]) > m || a[i] != a[i]) m = fabs(a[i]);
    return m;
}

/* ------------------------------------------------------------------ node traces */

#define MAX_TRACE 64
typedef struct {
    float *data[MAX_TRACE];
    size_t count[MAX_TRACE];
    char name[MAX_TRACE][64];
    int n;
} trace;

static void observe(void *user, const cartoon_layer_info *li)
{
    trace *t = user;
    if (li->index < 0 || li->index >= MAX_TRACE) return;
    size_t n = (size_t)li->out_h * li->out_w * li->out_c;
    free(t->data[li->index]);
    t->data[li->index] = li->data ? malloc(n * sizeof(float)) : NULL;
    if (t->data[li->index]) memcpy(t->data[li->index], li->data, n * sizeof(float));
    t->count[li->index] = n;
    snprintf(t->name[li->index], sizeof t->name[0], "%s", li->name);
    if (li->index + 1 > t->n) t->n = li->index + 1;
}

static void trace_free(trace *t)
{
    for (int i = 0; i < MAX_TRACE; i++) free(t->data[i]);
    memset(t, 0, sizeof *t);
}

static cartoon_context *make_ctx(const cartoon_model *m, cartoon_device dev, cartoon_precision prec,
                                 cartoon_conv_algo conv, uint64_t budget, cartoon_status *st_out)
{
    cartoon_context_options o;
    cartoon_context_options_default(&o);
    o.device = dev;
    o.precision = prec;
    o.conv = conv;
    o.device_memory_budget = budget;
    cartoon_context *ctx = NULL;
    cartoon_status st = cartoon_context_create(m, &o, &ctx, NULL, 0);
    if (st_out) *st_out = st;
    return st == CARTOON_OK ? ctx : NULL;
}

/* Runs m on x (h x w) on the CPU (im2col) and on CUDA with the given settings, node by node
 * (observer with data: no fusion) and fused (no observer); compares every node and the
 * outputs: max abs difference <= tol * max(1, max |cpu|), and with min_psnr > 0 the outputs'
 * PSNR (model space as 8-bit levels) >= min_psnr. */
static void compare_run_psnr(const cartoon_model *m, const float *x, int h, int w, cartoon_precision prec,
                             cartoon_conv_algo conv, double tol, double min_psnr, const char *label)
{
    cartoon_status st;
    cartoon_context *cpu = make_ctx(m, CARTOON_DEVICE_CPU, CARTOON_PRECISION_FP32, CARTOON_CONV_IM2COL, 0, &st);
    cartoon_context *gpu = make_ctx(m, CARTOON_DEVICE_CUDA, prec, conv, 0, &st);
    CHECKF(cpu && gpu, "%s: context creation failed (%s)", label, cartoon_status_name(st));
    if (!cpu || !gpu) { cartoon_context_free(cpu); cartoon_context_free(gpu); return; }
    CHECK(cartoon_context_device(gpu) == CARTOON_DEVICE_CUDA);
    size_t n = (size_t)h * w * 3;
    float *yc = malloc(n * sizeof *yc), *yg = malloc(n * sizeof *yg), *yf = malloc(n * sizeof *yf);
    trace tc = {0}, tg = {0};
    CHECK(cartoon_context_set_observer(cpu, observe, &tc, 1) == CARTOON_OK);
    CHECK(cartoon_context_set_observer(gpu, observe, &tg, 1) == CARTOON_OK);
    CHECKF(cartoon_forward(cpu, x, h, w, yc) == CARTOON_OK, "%s cpu: %s", label, cartoon_context_last_error(cpu));
    st = cartoon_forward(gpu, x, h, w, yg);
    CHECKF(st == CARTOON_OK, "%s cuda: %s", label, cartoon_context_last_error(gpu));
    if (st == CARTOON_OK) {
        CHECK(tc.n == tg.n);
        double worst = 0;
        const char *worst_name = "";
        for (int i = 0; i < tc.n && i < tg.n; i++) {
            CHECKF(tc.data[i] && tg.data[i] && tc.count[i] == tg.count[i], "%s node %d: missing data", label, i);
            if (!tc.data[i] || !tg.data[i] || tc.count[i] != tg.count[i]) continue;
            double scale = fmax(1.0, max_abs(tc.data[i], tc.count[i]));
            double d = max_abs_diff(tc.data[i], tg.data[i], tc.count[i]) / scale;
            if (d > worst || d != d) { worst = d; worst_name = tc.name[i]; }
            CHECKF(d <= tol, "%s %dx%d node %d '%s': max abs diff %.3g (relative to max(1, max|cpu|) = %.3g) > %.3g",
                   label, h, w, i, tc.name[i], d * scale, scale, tol);
        }
        double d = max_abs_diff(yc, yg, n), q = psnr_model_space(yc, yg, n);
        printf("    %-34s %4dx%-4d worst node %-8s %.2e, output %.2e, %.1f dB\n", label, h, w, worst_name, worst, d, q);
        CHECKF(d <= tol, "%s %dx%d: output max abs diff %g > %g", label, h, w, d, tol);
        if (min_psnr > 0) CHECKF(q >= min_psnr, "%s %dx%d: output PSNR %.1f dB < %.1f", label, h, w, q, min_psnr);
    }
    /* fused: no observer */
    CHECK(cartoon_context_set_observer(cpu, NULL, NULL, 0) == CARTOON_OK);
    CHECK(cartoon_context_set_observer(gpu, NULL, NULL, 0) == CARTOON_OK);
    CHECK(cartoon_forward(cpu, x, h, w, yc) == CARTOON_OK);
    st = cartoon_forward(gpu, x, h, w, yf);
    CHECKF(st == CARTOON_OK, "%s cuda fused: %s", label, cartoon_context_last_error(gpu));
    if (st == CARTOON_OK) {
        double d = max_abs_diff(yc, yf, n), q = psnr_model_space(yc, yf, n);
        printf("    %-34s %4dx%-4d fused: output %.2e, %.1f dB\n", label, h, w, d, q);
        CHECKF(d <= tol, "%s %dx%d fused: output max abs diff %g > %g", label, h, w, d, tol);
        if (min_psnr > 0) CHECKF(q >= min_psnr, "%s %dx%d fused: output PSNR %.1f dB < %.1f", label, h, w, q, min_psnr);
    }
    trace_free(&tc);
    trace_free(&tg);
    free(yc); free(yg); free(yf);
    cartoon_context_free(cpu);
    cartoon_context_free(gpu);
}

static void compare_run(const cartoon_model *m, const float *x, int h, int w, cartoon_precision prec,
                        cartoon_conv_algo conv, double tol, const char *label)
{
    compare_run_psnr(m, x, h, w, prec, conv, tol, 0, label);
}

static const int SIZES[][2] = {{30, 46}, {9, 13}, {1, 1}, {130, 258}};
#define N_SIZES (sizeof SIZES / sizeof SIZES[0])

static void synth_all(cartoon_precision prec, cartoon_conv_algo conv, double tol, const char *label)
{
    rng_seed(7);
    for (size_t k = 0; k < N_SIZES; k++) {
        int h = SIZES[k][0], w = SIZES[k][1];
        float *x = rnd((size_t)h * w * 3);
        compare_run(synth, x, h, w, prec, conv, tol, label);
        free(x);
    }
}

static void with_env(const char *conv_env)
{
    if (conv_env) setenv("CARTOON_CUDA_CONV", conv_env, 1);
    else unsetenv("CARTOON_CUDA_CONV");
}

static void test_synth_fp32(void) { synth_all(CARTOON_PRECISION_FP32, CARTOON_CONV_AUTO, 1e-3, "synthetic fp32 cublas"); }
/* fp16 per node, relative to max(1, max |cpu|): the fp16 path computed on the CPU
 * (bench/peer_torch.py --trace on this model and these inputs: conv operands, random fp32
 * weights included, rounded to fp16, fp32 arithmetic) reaches at most 9.2e-4 (node c5,
 * 30x46); the output 5.7e-4. 5e-3 leaves 5x; an output column off by one level (7.8e-3;
 * the output is held to tol in absolute terms) fails it, a node's column off by its
 * neighbour's values (0.4-0.8 relative on the real model) fails it by far.
 * cuDNN fp16 (ALLOW_CONVERSION) picks its own algorithm, possibly Winograd on fp16, which the
 * precision notes measure at 2.7x direct fp16's error (F(6x6): 0.024 vs 0.009): 1e-2. */
static void test_synth_fp16(void) { synth_all(CARTOON_PRECISION_FP16, CARTOON_CONV_AUTO, 5e-3, "synthetic fp16 igemm"); }
static void test_synth_fp16_im2col(void) { synth_all(CARTOON_PRECISION_FP16, CARTOON_CONV_IM2COL, 1e-3, "synthetic fp16+im2col (fp32 cublas)"); }
static void test_synth_cudnn(void)
{
    with_env("cudnn");
    synth_all(CARTOON_PRECISION_FP32, CARTOON_CONV_AUTO, 1e-3, "synthetic fp32 cudnn");
    synth_all(CARTOON_PRECISION_FP16, CARTOON_CONV_AUTO, 1e-2, "synthetic fp16 cudnn");
    with_env(NULL);
}

/* A bad CARTOON_CUDA_CONV is refused; BF16 is a CPU option (AUTO falls back to the CPU). */
static void test_options(void)
{
    cartoon_status st;
    with_env("nonsense");
    cartoon_context *c = make_ctx(synth, CARTOON_DEVICE_CUDA, CARTOON_PRECISION_FP32, CARTOON_CONV_AUTO, 0, &st);
    CHECK(c == NULL && st == CARTOON_E_INVALID_ARGUMENT);
    with_env(NULL);
    c = make_ctx(synth, CARTOON_DEVICE_CUDA, CARTOON_PRECISION_BF16, CARTOON_CONV_AUTO, 0, &st);
    CHECK(c == NULL && st == CARTOON_E_UNSUPPORTED);
    c = make_ctx(synth, CARTOON_DEVICE_AUTO, CARTOON_PRECISION_FP16, CARTOON_CONV_AUTO, 0, &st);
    CHECK(c && cartoon_context_device(c) == CARTOON_DEVICE_CUDA);
    cartoon_context_free(c);
}

/* Budget: too small -> LIMIT with a message; just under the unlimited need -> smaller im2col
 * bands, same result; the arena is reused across sizes. */
static void test_budget_and_reuse(void)
{
    cartoon_status st;
    int h = 128, w = 128;
    size_t n = (size_t)h * w * 3;
    rng_seed(9);
    float *x = rnd(n), *y0 = malloc(n * 4), *y1 = malloc(n * 4);
    cartoon_context *c = make_ctx(synth, CARTOON_DEVICE_CUDA, CARTOON_PRECISION_FP32, CARTOON_CONV_AUTO, 0, &st);
    CHECK(c != NULL);
    if (!c) { free(x); free(y0); free(y1); return; }
    CHECK(cartoon_forward(c, x, h, w, y0) == CARTOON_OK);
    uint64_t mem = cartoon_context_arena_bytes(c);
    CHECK(mem > 0);
    CHECK(cartoon_forward(c, x, 64, 64, y1) == CARTOON_OK); /* smaller: nothing reallocated */
    CHECK(cartoon_context_arena_bytes(c) == mem);
    CHECK(cartoon_forward(c, x, h, w, y1) == CARTOON_OK);
    CHECK(cartoon_context_arena_bytes(c) == mem && max_abs_diff(y0, y1, n) == 0);
    cartoon_context_free(c);

    c = make_ctx(synth, CARTOON_DEVICE_CUDA, CARTOON_PRECISION_FP32, CARTOON_CONV_AUTO, 4096, &st);
    CHECK(c != NULL);
    if (c) {
        st = cartoon_forward(c, x, h, w, y1);
        printf("    budget 4096: %s: %s\n", cartoon_status_name(st), cartoon_context_last_error(c));
        CHECK(st == CARTOON_E_LIMIT && strlen(cartoon_context_last_error(c)) > 0);
        cartoon_context_free(c);
    }
    c = make_ctx(synth, CARTOON_DEVICE_CUDA, CARTOON_PRECISION_FP32, CARTOON_CONV_AUTO, mem - 1, &st);
    CHECK(c != NULL);
    if (c) {
        st = cartoon_forward(c, x, h, w, y1);
        CHECKF(st == CARTOON_OK, "budget %llu: %s", (unsigned long long)(mem - 1), cartoon_context_last_error(c));
        CHECK(cartoon_context_arena_bytes(c) <= mem - 1);
        /* Bands change cuBLAS's GEMM shapes, so it may pick other kernels and sum in another
         * order: a few fp32 ulps at each conv, which the guided filter (eps 0.01) multiplies by
         * up to ~100; relative to the values, 1e-4 holds that with room, while a band seam off
         * by one row moves outputs by the size of the activations (~0.1-1). */
        if (st == CARTOON_OK) {
            double d = max_abs_diff(y0, y1, n), scale = fmax(1.0, max_abs(y0, n));
            printf("    budget %llu (banded im2col): max abs diff %.2e vs unbanded (max |y| %.2f)\n",
                   (unsigned long long)(mem - 1), d, scale);
            CHECKF(d <= 1e-4 * scale, "banded im2col differs by %g (> 1e-4 * %g)", d, scale);
        }
        cartoon_context_free(c);
    }
    free(x); free(y0); free(y1);
}

/* ------------------------------------------------------------------ student model */

static cartoon_model *load_student(int width)
{
    size_t size = 0;
    rng_seed(1400 + (uint64_t)width);
    uint8_t *buf = student_model_build(width, &size);
    cartoon_model *m = NULL;
    char err[256] = "";
    if (buf && cartoon_model_load_memory(buf, size, NULL, &m, err, sizeof err) != CARTOON_OK)
        fprintf(stderr, "student S%d: %s\n", width, err);
    free(buf);
    return m;
}

/* Padded to 32x48, 12x16 (quarter size 3x4), 4x4 (quarter 1x1) and 132x260 (quarter 33x65:
 * odd, and widths that are no multiple of the depthwise kernel's 4-pixel strips). */
static const int STUDENT_SIZES[][2] = {{30, 46}, {9, 13}, {1, 1}, {130, 258}};
#define N_STUDENT_SIZES (sizeof STUDENT_SIZES / sizeof STUDENT_SIZES[0])

static void student_all(const cartoon_model *m, cartoon_precision prec, cartoon_conv_algo conv, double tol,
                        double min_psnr, const char *label)
{
    rng_seed(77);
    for (size_t k = 0; k < N_STUDENT_SIZES; k++) {
        int h = STUDENT_SIZES[k][0], w = STUDENT_SIZES[k][1];
        float *x = rnd((size_t)h * w * 3);
        /* a PSNR of a few pixels says little: the 1x1 case is held to tol alone */
        compare_run_psnr(m, x, h, w, prec, conv, tol, h * w >= 64 ? min_psnr : 0, label);
        free(x);
    }
}

static void test_student_fp32(void)
{
    student_all(student, CARTOON_PRECISION_FP32, CARTOON_CONV_AUTO, 1e-4, 0, "student S40 fp32 cublas");
    student_all(student_odd, CARTOON_PRECISION_FP32, CARTOON_CONV_AUTO, 1e-4, 0, "student S6 fp32 cublas");
    student_all(student, CARTOON_PRECISION_FP16, CARTOON_CONV_IM2COL, 1e-4, 0, "student S40 fp16+im2col (fp32)");
}

static void test_student_fp16(void)
{
    student_all(student, CARTOON_PRECISION_FP16, CARTOON_CONV_AUTO, 5e-3, 70, "student S40 fp16 igemm");
    student_all(student_odd, CARTOON_PRECISION_FP16, CARTOON_CONV_AUTO, 5e-3, 70, "student S6 fp16 igemm");
}

static void test_student_cudnn(void)
{
    with_env("cudnn");
    student_all(student, CARTOON_PRECISION_FP32, CARTOON_CONV_AUTO, 1e-4, 0, "student S40 fp32 cudnn");
    student_all(student_odd, CARTOON_PRECISION_FP32, CARTOON_CONV_AUTO, 1e-4, 0, "student S6 fp32 cudnn");
    with_env(NULL);
}

/* 1024x1024: the biggest chains take their depthwise output in several bands (run_dw_pw),
 * fused only (no observer), fp32 and fp16 against one CPU exact run. */
static void test_student_bands(void)
{
    const int h = 1024, w = 1024;
    const size_t n = (size_t)h * w * 3;
    rng_seed(79);
    float *x = rnd(n), *yc = malloc(n * sizeof *yc), *yg = malloc(n * sizeof *yg);
    cartoon_status st;
    cartoon_context *cpu = make_ctx(student, CARTOON_DEVICE_CPU, CARTOON_PRECISION_FP32, CARTOON_CONV_IM2COL, 0, &st);
    CHECK(cpu && cartoon_forward(cpu, x, h, w, yc) == CARTOON_OK);
    for (int k = 0; cpu && k < 2; k++) {
        cartoon_precision prec = k ? CARTOON_PRECISION_FP16 : CARTOON_PRECISION_FP32;
        cartoon_context *gpu = make_ctx(student, CARTOON_DEVICE_CUDA, prec, CARTOON_CONV_AUTO, 0, &st);
        CHECKF(gpu != NULL, "%s", cartoon_status_name(st));
        if (!gpu) continue;
        st = cartoon_forward(gpu, x, h, w, yg);
        CHECKF(st == CARTOON_OK, "%s", cartoon_context_last_error(gpu));
        if (st == CARTOON_OK) {
            double d = max_abs_diff(yc, yg, n), q = psnr_model_space(yc, yg, n);
            printf("    student S40 %s 1024x1024 fused (banded): output %.2e, %.1f dB\n", k ? "fp16" : "fp32", d, q);
            if (k) CHECKF(d <= 5e-3 && q >= 70, "fp16: max abs %g, %.1f dB", d, q);
            else CHECKF(d <= 1e-4, "fp32: max abs %g > 1e-4", d);
        }
        cartoon_context_free(gpu);
    }
    cartoon_context_free(cpu);
    free(x); free(yc); free(yg);
}

static int node_index(const cartoon_model *m, const char *name)
{
    for (int i = 0; i < m->n_nodes; i++)
        if (!strcmp(m->nodes[i].name, name)) return i;
    return -1;
}

static size_t backend_scratch(void *user, const cartoon_model *m, const ct_plan *p, int i)
{
    ct_backend *be = user;
    return be->ops->scratch(be, m, p, i);
}

/* The plan the CUDA backend's fusion gives the student: every depthwise runs inside its
 * pointwise and both concats are never stored; each chain has arena scratch for a band of
 * its depthwise's output (all of it at 256x256; at 2048x2048 the full-resolution chain's
 * 1.3 GB output goes in bands). A chain's inputs, band and output are live at once, so a
 * small image's arena may exceed the unfused one by up to a band; at 2048x2048 the bands make
 * it smaller. */
static void test_student_plan(void)
{
    char msg[256] = "";
    ct_err e = {msg, sizeof msg};
    ct_backend_config cfg = {CARTOON_CONV_AUTO, CARTOON_PRECISION_FP32, NULL, 0};
    ct_backend *be = NULL;
    CHECKF(ct_backend_cuda.create(student, &cfg, &be, &e) == CARTOON_OK, "%s", msg);
    if (!be) return;
    const ct_fusion_caps caps = be->ops->fusion;
    CHECK(caps.dw_pw && caps.concat_dw && caps.conv_add);
    CHECK(be->ops->scratch != NULL);
    ct_plan p, q;
    p.t = calloc((size_t)student->n_nodes, sizeof *p.t);
    q.t = calloc((size_t)student->n_nodes, sizeof *q.t);
    const int cat = node_index(student, "u2_cat"), dw = node_index(student, "u2_dw");
    for (int size = 256; be->ops->scratch && size <= 2048; size *= 8) {
        CHECK(ct_plan_build(student, size, size, caps, backend_scratch, be, &p, &e) == CARTOON_OK);
        CHECK(ct_plan_build(student, size, size, (ct_fusion_caps){0}, backend_scratch, be, &q, &e) == CARTOON_OK);
        for (int i = 1; i < student->n_nodes; i++) {
            const ct_node *n = &student->nodes[i];
            const ct_tensor_plan *t = &p.t[i];
            if (n->op == OP_DEPTHWISE_CONV2D || n->op == OP_CONCAT)
                CHECKF(t->fused && t->bytes == 0, "node '%s' is stored (fused %d, %zu bytes)", n->name, t->fused, t->bytes);
            /* the chain's first node holds a band of the depthwise's output: whole rows */
            const int step = i > 0 && p.t[i - 1].fused;
            const ct_tensor_plan *d = n->op == OP_CONCAT ? &p.t[i + 1] : t;
            const size_t row = (size_t)d->w * d->c * sizeof(float);
            if (!step && t->fused && (n->op == OP_DEPTHWISE_CONV2D || n->op == OP_CONCAT))
                CHECKF(t->scratch_bytes && t->scratch_bytes % row == 0 && t->scratch_bytes <= row * (size_t)d->h,
                       "node '%s': %zu bytes of scratch for rows of %zu", n->name, t->scratch_bytes, row);
            else
                CHECKF(t->scratch_bytes == 0, "node '%s': %zu bytes of scratch", n->name, t->scratch_bytes);
            CHECK(q.t[i].scratch_bytes == 0);
        }
        CHECK(cat > 0 && dw == cat + 1 && p.t[cat].store == node_index(student, "u2_pw"));
        const size_t full = (size_t)p.t[dw].h * p.t[dw].w * p.t[dw].c * sizeof(float);
        printf("    student S40 at %dx%d: arena %zu bytes fused, %zu unfused; u2 band %zu of %zu bytes\n", size, size,
               p.arena_bytes, q.arena_bytes, p.t[cat].scratch_bytes, full);
        if (size == 256) CHECK(p.t[cat].scratch_bytes == full && p.arena_bytes <= q.arena_bytes + full);
        else CHECK(p.t[cat].scratch_bytes < full && p.arena_bytes < q.arena_bytes);
    }
    free(p.t);
    free(q.t);
    be->ops->destroy(be);
}

/* The committed student (weights/student/, run from the source tree), when it is there. */
static const char *STUDENT_FILE = "weights/student/cartoon-student.safetensors";

static void test_student_file(void)
{
    cartoon_model *m = NULL;
    char err[512];
    CHECKF(cartoon_model_load(STUDENT_FILE, NULL, &m, err, sizeof err) == CARTOON_OK, "%s: %s", STUDENT_FILE, err);
    if (!m) return;
    rng_seed(78);
    int h = 200, w = 302;
    float *x = rnd((size_t)h * w * 3);
    compare_run_psnr(m, x, h, w, CARTOON_PRECISION_FP32, CARTOON_CONV_AUTO, 1e-4, 0, "student file fp32");
    compare_run_psnr(m, x, h, w, CARTOON_PRECISION_FP16, CARTOON_CONV_AUTO, 5e-3, 70, "student file fp16");
    free(x);
    cartoon_model_free(m);
}

/* ------------------------------------------------------------------ real model */

static void test_real_nodes(void)
{
    int nd;
    size_t dims[8];
    float *in = npy_read_f32(shared_path("reference/layers/00_input.npy"), &nd, dims);
    CHECK(in && nd == 3 && dims[2] == 3);
    if (!in) return;
    compare_run(real, in, (int)dims[0], (int)dims[1], CARTOON_PRECISION_FP32, CARTOON_CONV_AUTO, 1e-3, "model fp32 cublas");
    /* fp16, node by node: bench/peer_torch.py --trace (the fp16 path emulated on the CPU: conv
     * operands rounded to fp16, fp32 arithmetic) gives at most 2.2e-3 relative on this input
     * (conv17, the last conv; 1.1e-3 at the output). 5e-3 holds that with 2.3x room, as the
     * student's bound; an output column off by one level (7.8e-3, held in absolute terms) fails
 * it, and one conv's column taking its neighbour's values gives 0.36-0.83 at some node. */
    compare_run(real, in, (int)dims[0], (int)dims[1], CARTOON_PRECISION_FP16, CARTOON_CONV_AUTO, 5e-3, "model fp16 igemm");
    if (have_cudnn) {
        with_env("cudnn");
        compare_run(real, in, (int)dims[0], (int)dims[1], CARTOON_PRECISION_FP32, CARTOON_CONV_AUTO, 1e-3, "model fp32 cudnn");
        with_env(NULL);
    } else {
        printf("    model fp32 cudnn: not run, %s\n", no_cudnn);
    }
    free(in);
}

/* fp32: max abs <= 1e-3 (the spec's fp32 tolerance is 1e-4; cuBLAS sums in another order).
 * Lower precision: PSNR >= min_psnr and max abs <= max_diff, both in model space. */
static void end_to_end(cartoon_precision prec, const char *conv_env, double max_diff, double min_psnr,
                       const char *label)
{
    size_t n;
    char *idx = (char *)read_file_bytes(shared_path("reference/index.json"), &n);
    CHECK(idx != NULL);
    if (!idx) return;
    json_t *root = json_loadb(idx, n, 0, NULL);
    free(idx);
    json_t *cases = json_object_get(root, "cases");
    CHECK(json_array_size(cases) >= 5);
    with_env(conv_env);
    cartoon_status st;
    cartoon_context *ctx = make_ctx(real, CARTOON_DEVICE_CUDA, prec, CARTOON_CONV_AUTO, 0, &st);
    with_env(NULL);
    CHECKF(ctx != NULL, "%s: %s", label, cartoon_status_name(st));
    for (size_t i = 0; ctx && i < json_array_size(cases); i++) {
        json_t *c = json_array_get(cases, i);
        const char *name = json_string_value(json_object_get(c, "name"));
        char rel[256], err[256];
        snprintf(rel, sizeof rel, "reference/%s", json_string_value(json_object_get(c, "input")));
        cartoon_image im;
        if (cartoon_image_read(shared_path(rel), 0, &im, err, sizeof err) != CARTOON_OK) {
            CHECKF(0, "%s: %s", rel, err);
            continue;
        }
        int h = im.height, w = im.width;
        float *x = rgb_to_model_space(&im), *y = malloc((size_t)w * h * 3 * sizeof *y);
        st = cartoon_forward(ctx, x, h, w, y);
        CHECKF(st == CARTOON_OK, "%s %s: %s", label, name, cartoon_context_last_error(ctx));
        snprintf(rel, sizeof rel, "reference/%s", json_string_value(json_object_get(c, "output_float")));
        int nd;
        size_t dims[8];
        float *ref = npy_read_f32(shared_path(rel), &nd, dims);
        CHECK(ref && nd == 3 && (int)dims[0] == h && (int)dims[1] == w && dims[2] == 3);
        if (ref && st == CARTOON_OK) {
            size_t cnt = (size_t)w * h * 3;
            double d = max_abs_diff(ref, y, cnt), p = psnr_model_space(ref, y, cnt);
            printf("    %-22s %-12s max abs %.2e, PSNR %.1f dB\n", name, label, d, p);
            if (prec == CARTOON_PRECISION_FP32) {
                CHECKF(d <= 1e-3, "%s %s: max abs %g > 1e-3", label, name, d);
            } else {
                CHECKF(p >= min_psnr, "%s %s: PSNR %.1f dB < %.0f dB", label, name, p, min_psnr);
                CHECKF(d <= max_diff, "%s %s: max abs %g > %g", label, name, d, max_diff);
            }
        }
        free(ref); free(x); free(y);
        cartoon_image_free(&im);
    }
    cartoon_context_free(ctx);
    json_decref(root);
}

/* fp16 (implicit GEMM: fp16 operands, fp32 accumulation and epilogue, everything else fp32):
 * the spec expects about 83 dB; bench/peer_torch.py computing exactly so on the CPU gives
 * 83.9-87.7 dB on the reference cases with max abs 1.1e-3-8.2e-3 (worst: astronaut 512; the
 * teacher's weights are fp16 already, so only the activations' rounding is emulated, as the
 * GPU rounds them). 70 dB leaves 14 dB and fails one output column (3 channels) off by 2
 * levels at width 512 (69 dB); max abs 0.02 (2.4x the emulated worst, 2.6 levels) fails
 * what PSNR averages away, e.g. one border pixel off by 3 levels.
 * cuDNN fp16 (ALLOW_CONVERSION) may pick any algorithm, Winograd on fp16 included, which the
 * precision notes measure down to 66 dB and max abs 0.024 for F(6x6) on the 3x3 convs alone:
 * 60 dB and 0.06, still failing a column off by 10 levels (52-55 dB, 0.078). */
static void test_e2e_fp32(void) { end_to_end(CARTOON_PRECISION_FP32, NULL, 0, 0, "fp32 cublas"); }
static void test_e2e_fp16(void) { end_to_end(CARTOON_PRECISION_FP16, NULL, 0.02, 70, "fp16 igemm"); }
static void test_e2e_cudnn(void)
{
    end_to_end(CARTOON_PRECISION_FP32, "cudnn", 0, 0, "fp32 cudnn");
    end_to_end(CARTOON_PRECISION_FP16, "cudnn", 0.06, 60, "fp16 cudnn");
}

/* 2048x2048, the size the benchmarks are quoted at: GPU fp16 against GPU fp32 on the real
 * model, input astronaut_512x512 tiled 4 x 4 (a natural image: on noise the guided filter
 * would see no flat regions). Bands, grid sizes and tile edges that small images never reach
 * show here. bench/peer_torch.py's emulation of the fp16 path on the CPU gives 84.0 dB and
 * max abs 8.2e-3 on this input (as on the 512x512 case: the tiles repeat its worst pixel), so
 * the reference cases' bounds apply (70 dB, max abs 0.02). About 1 TFLOP per run: well under
 * a second on an H100/H200. */
static void test_fp16_2048(void)
{
    cartoon_image im = {0};
    char err[256];
    CHECKF(cartoon_image_read(shared_path("reference/astronaut_512x512.in.png"), 0, &im, err, sizeof err) == CARTOON_OK,
           "%s", err);
    if (!im.data) return;
    const int S = 2048, tw = im.width, th = im.height;
    const size_t n = (size_t)S * S * 3;
    float *tile = rgb_to_model_space(&im), *x = malloc(n * sizeof *x), *y32 = malloc(n * sizeof *y32),
          *y16 = malloc(n * sizeof *y16);
    cartoon_image_free(&im);
    CHECK(tile && x && y32 && y16);
    for (int r = 0; tile && x && r < S; r++)
        for (int c = 0; c < S; c++)
            memcpy(x + ((size_t)r * S + c) * 3, tile + ((size_t)(r % th) * tw + c % tw) * 3, 3 * sizeof *x);
    cartoon_status st;
    cartoon_context *c32 = make_ctx(real, CARTOON_DEVICE_CUDA, CARTOON_PRECISION_FP32, CARTOON_CONV_AUTO, 0, &st);
    CHECKF(c32 != NULL, "fp32 context: %s", cartoon_status_name(st));
    cartoon_context *c16 = make_ctx(real, CARTOON_DEVICE_CUDA, CARTOON_PRECISION_FP16, CARTOON_CONV_AUTO, 0, &st);
    CHECKF(c16 != NULL, "fp16 context: %s", cartoon_status_name(st));
    if (c32 && c16 && tile && x && y32 && y16) {
        st = cartoon_forward(c32, x, S, S, y32);
        CHECKF(st == CARTOON_OK, "fp32 2048: %s", cartoon_context_last_error(c32));
        cartoon_status st16 = cartoon_forward(c16, x, S, S, y16);
        CHECKF(st16 == CARTOON_OK, "fp16 2048: %s", cartoon_context_last_error(c16));
        if (st == CARTOON_OK && st16 == CARTOON_OK) {
            double d = max_abs_diff(y32, y16, n), q = psnr_model_space(y32, y16, n);
            printf("    2048x2048 fp16 vs fp32 on CUDA: max abs %.2e, %.1f dB (arenas %.0f / %.0f MiB)\n", d, q,
                   cartoon_context_arena_bytes(c32) / 1048576.0, cartoon_context_arena_bytes(c16) / 1048576.0);
            CHECKF(q >= 70 && d <= 0.02, "2048x2048 fp16 vs fp32: %.1f dB (< 70?), max abs %g (> 0.02?)", q, d);
        }
    }
    cartoon_context_free(c32);
    cartoon_context_free(c16);
    free(tile); free(x); free(y32); free(y16);
}

/* The 8-bit API on the GPU (device AUTO picks it, in the default FP32) against the reference
 * PNG, held to what tests/test_reference.c asks of the CPU: pixels may differ only where the
 * float output lies within the engine's error of a level boundary, so at least 99.9% of them
 * are identical and none by more than one level. (fp32 differs from the reference by ~1e-5 in
 * model space, ~1e-3 of a level: a few pixels in 10^4 straddle a boundary. A PSNR bound would
 * pass one wrong column at width 512, 0.2% of the pixels.) */
static void test_u8_auto(void)
{
    cartoon_context *ctx = NULL;
    CHECK(cartoon_context_create(real, NULL, &ctx, NULL, 0) == CARTOON_OK);
    if (!ctx) return;
    CHECK(cartoon_context_device(ctx) == CARTOON_DEVICE_CUDA);
    cartoon_image im = {0}, ref = {0};
    char err[256];
    CHECKF(cartoon_image_read(shared_path("reference/astronaut_512x512.in.png"), 0, &im, err, sizeof err) == CARTOON_OK,
           "%s", err);
    CHECKF(cartoon_image_read(shared_path("reference/astronaut_512x512.out.png"), 0, &ref, err, sizeof err) == CARTOON_OK,
           "%s", err);
    const int ok = im.data && ref.data && ref.width == im.width && ref.height == im.height && ref.format == CARTOON_PIXEL_RGB;
    CHECK(ok);
    size_t px = ok ? (size_t)im.width * im.height : 0, n = px * 3;
    uint8_t *buf = ok ? malloc(n) : NULL;
    cartoon_image out = {buf, im.width, im.height, (size_t)im.width * 3, CARTOON_PIXEL_RGB};
    if (buf && unet_cartoonize(ctx, &im, &out, NULL) == CARTOON_OK) {
        size_t same = 0;
        int maxd = 0;
        for (size_t p = 0; p < px; p++) {
            int eq = 1;
            for (size_t k = p * 3; k < p * 3 + 3; k++) {
                int d = abs((int)buf[k] - ref.data[k]);
                eq &= d == 0;
                if (d > maxd) maxd = d;
            }
            same += eq;
        }
        double f = 100.0 * same / px;
        printf("    astronaut_512x512 8-bit on CUDA: %.4f%% of pixels identical to the reference PNG (max diff %d), %.1f dB\n",
               f, maxd, psnr_u8(buf, ref.data, n));
        CHECKF(f >= 99.9 && maxd <= 1, "%.4f%% of pixels identical (< 99.9%%), max diff %d", f, maxd);
    } else {
        CHECKF(0, "unet_cartoonize: %s", cartoon_context_last_error(ctx));
    }
    free(buf);
    cartoon_image_free(&im);
    cartoon_image_free(&ref);
    cartoon_context_free(ctx);
}

/* ------------------------------------------------------------------ without a GPU */

static void test_explicit_cuda_fails(void)
{
    cartoon_context *ctx = (cartoon_context *)&ctx;
    cartoon_context_options o;
    cartoon_context_options_default(&o);
    o.device = CARTOON_DEVICE_CUDA;
    CHECK(cartoon_context_create(synth, &o, &ctx, NULL, 0) == CARTOON_E_DEVICE && ctx == NULL);
    o.precision = CARTOON_PRECISION_FP16;
    ctx = (cartoon_context *)&ctx;
    CHECK(cartoon_context_create(synth, &o, &ctx, NULL, 0) == CARTOON_E_DEVICE && ctx == NULL);
    /* the message behind it (the context is gone, so ask the backend itself) */
    char msg[512] = "";
    ct_err e = {msg, sizeof msg};
    ct_backend_config cfg = {CARTOON_CONV_AUTO, CARTOON_PRECISION_FP32, NULL, 0};
    ct_backend *be = (ct_backend *)&be;
    CHECK(ct_backend_cuda.create(synth, &cfg, &be, &e) == CARTOON_E_DEVICE && be == NULL);
    printf("    explicit CUDA: %s\n", msg);
    CHECK(strlen(msg) > 10);
    char w2[256] = "";
    CHECK(ct_backend_cuda.available(w2, sizeof w2) == 0 && strlen(w2) > 0);
}

static void test_auto_falls_back(void)
{
    cartoon_status st;
    cartoon_context *a = make_ctx(synth, CARTOON_DEVICE_AUTO, CARTOON_PRECISION_FP32, CARTOON_CONV_AUTO, 0, &st);
    cartoon_context *c = make_ctx(synth, CARTOON_DEVICE_CPU, CARTOON_PRECISION_FP32, CARTOON_CONV_AUTO, 0, NULL);
    CHECK(a && c && st == CARTOON_OK);
    if (a && c) {
        CHECK(cartoon_context_device(a) == CARTOON_DEVICE_CPU);
        int h = 9, w = 13;
        size_t n = (size_t)h * w * 3;
        rng_seed(3);
        float *x = rnd(n), *ya = malloc(n * 4), *yc = malloc(n * 4);
        CHECK(cartoon_forward(a, x, h, w, ya) == CARTOON_OK);
        CHECK(cartoon_forward(c, x, h, w, yc) == CARTOON_OK);
        CHECK(max_abs_diff(ya, yc, n) == 0);
        free(x); free(ya); free(yc);
    }
    cartoon_context_free(a);
    cartoon_context_free(c);
    /* fp16 exists only on CUDA: without it, AUTO refuses rather than silently running fp32 */
    a = make_ctx(synth, CARTOON_DEVICE_AUTO, CARTOON_PRECISION_FP16, CARTOON_CONV_AUTO, 0, &st);
    CHECK(a == NULL && st == CARTOON_E_UNSUPPORTED);
}

static void fail_synth(void) { CHECK(!"the synthetic model loads"); }
static void fail_student(void) { CHECK(!"the student models load"); }

/* Whether this build has cuDNN: a CUDA context asked to use it is refused as UNSUPPORTED
 * (with the reason in why) in a build without it. */
static int cudnn_built(char *why_not, size_t size)
{
    with_env("cudnn");
    char err[256] = "";
    cartoon_context_options o;
    cartoon_context_options_default(&o);
    o.device = CARTOON_DEVICE_CUDA;
    cartoon_context *ctx = NULL;
    cartoon_status st = cartoon_context_create(synth, &o, &ctx, err, sizeof err);
    with_env(NULL);
    cartoon_context_free(ctx);
    snprintf(why_not, size, "%s", st == CARTOON_E_UNSUPPORTED ? err : "");
    return st != CARTOON_E_UNSUPPORTED;
}

int main(void)
{
    synth = build_synth();
    if (!synth) {
        run_case("synthetic_model", fail_synth);
        return check_summary();
    }
    int gpu = ct_backend_cuda.available(why, sizeof why);
    if (!gpu) {
        printf("no GPU: %s\n", why);
        run_case("explicit_cuda_fails_with_device_error", test_explicit_cuda_fails);
        run_case("auto_falls_back_to_cpu", test_auto_falls_back);
        static const char *const gpu_cases[] = {"synthetic_fp32", "synthetic_fp16", "synthetic_fp16_im2col",
                                                "synthetic_cudnn", "options", "budget_and_reuse", "student_fp32",
                                                "student_fp16", "student_cudnn", "student_plan", "student_bands",
                                                "student_file", "model_nodes", "end_to_end_fp32",
                                                "end_to_end_fp16", "fp16_vs_fp32_2048", "end_to_end_cudnn", "u8_auto"};
        for (size_t i = 0; i < sizeof gpu_cases / sizeof gpu_cases[0]; i++) skip_case(gpu_cases[i], why);
        cartoon_model_free(synth);
        return check_summary();
    }
    with_env(NULL);
    have_cudnn = cudnn_built(no_cudnn, sizeof no_cudnn);
    run_case("synthetic_fp32", test_synth_fp32);
    run_case("synthetic_fp16", test_synth_fp16);
    run_case("synthetic_fp16_im2col", test_synth_fp16_im2col);
    if (have_cudnn) run_case("synthetic_cudnn", test_synth_cudnn);
    else skip_case("synthetic_cudnn", no_cudnn);
    run_case("options", test_options);
    run_case("budget_and_reuse", test_budget_and_reuse);

    student = load_student(40);
    student_odd = load_student(6);
    if (!student || !student_odd) {
        run_case("student_model", fail_student);
    } else {
        run_case("student_fp32", test_student_fp32);
        run_case("student_fp16", test_student_fp16);
        if (have_cudnn) run_case("student_cudnn", test_student_cudnn);
        else skip_case("student_cudnn", no_cudnn);
        run_case("student_plan", test_student_plan);
        run_case("student_bands", test_student_bands);
    }
    FILE *sf = fopen(STUDENT_FILE, "rb");
    if (sf) {
        fclose(sf);
        run_case("student_file", test_student_file);
    } else {
        skip_case("student_file", "weights/student/cartoon-student.safetensors not found (run from the source tree)");
    }
    cartoon_model_free(student);
    cartoon_model_free(student_odd);

    const char *synth_only = getenv("CARTOON_CUDA_TEST_SYNTH_ONLY"); /* for compute-sanitizer */
    const char *path = synth_only && *synth_only ? NULL : test_model_path();
    char err[512];
    if (!path || cartoon_model_load(path, NULL, &real, err, sizeof err) != CARTOON_OK) {
        const char *reason = path ? err : synth_only && *synth_only ? "CARTOON_CUDA_TEST_SYNTH_ONLY is set"
                                                                    : "the shared model was not found (set CARTOON_SHARED)";
        static const char *const real_cases[] = {"model_nodes", "end_to_end_fp32", "end_to_end_fp16", "fp16_vs_fp32_2048",
                                                 "end_to_end_cudnn", "u8_auto"};
        for (size_t i = 0; i < sizeof real_cases / sizeof real_cases[0]; i++) skip_case(real_cases[i], reason);
    } else {
        run_case("model_nodes", test_real_nodes);
        run_case("end_to_end_fp32", test_e2e_fp32);
        run_case("end_to_end_fp16", test_e2e_fp16);
        run_case("fp16_vs_fp32_2048", test_fp16_2048);
        if (have_cudnn) run_case("end_to_end_cudnn", test_e2e_cudnn);
        else skip_case("end_to_end_cudnn", no_cudnn);
        run_case("u8_auto", test_u8_auto);
        cartoon_model_free(real);
    }
    cartoon_model_free(synth);
    return check_summary();
}
