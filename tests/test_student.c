/* The committed student model (weights/student/): the engine runs it as it was trained. The
 * expected output is PyTorch's forward pass of the same fp16 weights (weights/distill/student.py,
 * written by export.py), on a synthetic 70x50 input that both sides compute from one formula;
 * 70x50 is not a multiple of 4, so the pad-and-crop rule is exercised too. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cartoon.h"
#include "check.h"

#define STUDENT "weights/student/cartoon-student.safetensors"
#define GOLDEN "weights/student/golden-70x50.npy"
#define GW 70
#define GH 50

static cartoon_model *model;
static float *golden;

/* export.py's golden_input(), in model space (B, G, R; v / 127.5 - 1). */
static float *golden_input(void)
{
    float *x = malloc(sizeof(float) * GW * GH * 3);
    if (!x) return NULL;
    for (int y = 0; y < GH; y++)
        for (int xx = 0; xx < GW; xx++)
            for (int c = 0; c < 3; c++) {
                int v = (xx * 7 + y * 13 + c * 50 + (xx * y) % 23 * 5) % 256; /* RGB channel c */
                x[((size_t)y * GW + xx) * 3 + (2 - c)] = (float)v / 127.5f - 1.f;
            }
    return x;
}

static char load_err[256];
static void student_loads(void)
{
    CHECKF(model != NULL, "%s", load_err);
}

static double run(cartoon_conv_algo algo, int threads)
{
    cartoon_context_options o;
    cartoon_context_options_default(&o);
    o.device = CARTOON_DEVICE_CPU;
    o.conv = algo;
    o.threads = threads;
    cartoon_context *ctx = NULL;
    char err[256] = "";
    if (cartoon_context_create(model, &o, &ctx, err, sizeof err) != CARTOON_OK) {
        fprintf(stderr, "context: %s\n", err);
        return INFINITY;
    }
    float *x = golden_input(), *y = malloc(sizeof(float) * GW * GH * 3);
    double d = INFINITY;
    if (x && y && cartoon_forward(ctx, x, GH, GW, y) == CARTOON_OK) d = max_abs_diff(y, golden, (size_t)GW * GH * 3);
    free(x);
    free(y);
    cartoon_context_free(ctx);
    return d;
}

static void student_exact_path(void)
{
    double d = run(CARTOON_CONV_IM2COL, 1);
    CHECKF(d <= 1e-4, "im2col vs PyTorch: max abs %.3g", d);
}

static void student_fast_path(void)
{
    double d1 = run(CARTOON_CONV_FAST, 1), d2 = run(CARTOON_CONV_FAST, 3);
    CHECKF(d1 <= 1e-4, "fast path, 1 thread, vs PyTorch: max abs %.3g", d1);
    CHECKF(d2 <= 1e-4, "fast path, 3 threads, vs PyTorch: max abs %.3g", d2);
}

static void student_is_small_and_named(void)
{
    cartoon_model_info info;
    cartoon_model_get_info(model, &info);
    CHECKF(strstr(info.name, "student") != NULL, "name '%s'", info.name);
    /* widths w/2w/4w (student.py) with a k x k RGB output layer have 178 w^2 + 568 w + 3 w k^2
     * + 3 parameters (the pointwise and depthwise weights and biases of each block, counted by
     * hand: 308,603 at w = 40, k = 3); the committed student is S24 with k = 5 (train.py
     * --out-k 5): 117,963 */
    const unsigned long long w = 24, k = 5;
    CHECKF(info.parameters == 178 * w * w + 568 * w + 3 * w * k * k + 3, "%llu parameters",
           (unsigned long long)info.parameters);
}

int main(void)
{
    /* the student is committed: a missing file is a failure, not a skip */
    cartoon_model_load(STUDENT, NULL, &model, load_err, sizeof load_err);
    run_case("student_loads", student_loads);
    if (!model) return check_summary();
    int nd = 0;
    size_t dims[8];
    golden = npy_read_f32(GOLDEN, &nd, dims);
    if (!golden || nd != 3 || dims[0] != GH || dims[1] != GW || dims[2] != 3) {
        fprintf(stderr, "bad or missing %s\n", GOLDEN);
        return 1;
    }
    run_case("student_is_small_and_named", student_is_small_and_named);
    run_case("student_exact_path", student_exact_path);
    run_case("student_fast_path", student_fast_path);
    free(golden);
    cartoon_model_free(model);
    return check_summary();
}
