/* unet_cartoonize() semantics on the real model: pixel formats, strides, strength blending,
 * resolution, alpha, sizes from 1x1 up, context reuse, and refusals of bad arguments. */
#include <math.h>
#include <string.h>
#include "cartoon.h"
#include "cartoon_io.h"
#include "check.h"

static cartoon_model *model;
static cartoon_image portrait; /* 64x96 crop of the reference astronaut */

static cartoon_context *ctx_new(void)
{
    cartoon_context *c = NULL;
    cartoon_context_options o;
    cartoon_context_options_default(&o);
    o.device = CARTOON_DEVICE_CPU;
    CHECK(cartoon_context_create(model, &o, &c, NULL, 0) == CARTOON_OK);
    return c;
}

static uint8_t *run(cartoon_context *c, const cartoon_image *in, cartoon_pixel_format f, const cartoon_options *o,
                    int *ow, int *oh, cartoon_status *st)
{
    cartoon_output_size(o, in->width, in->height, ow, oh);
    int bpp = cartoon_pixel_size(f);
    uint8_t *buf = malloc((size_t)*ow * *oh * bpp);
    cartoon_image out = {buf, *ow, *oh, (size_t)*ow * bpp, f};
    *st = unet_cartoonize(c, in, &out, o);
    return buf;
}

/* The model's own float output for the portrait as RGB pixel values, (y + 1) * 127.5 in
 * float32 and unclipped, computed the way the original does (BGR order and v / 127.5 - 1 per
 * the spec, written out here). */
static float *cartoon_values(cartoon_context *c, const cartoon_image *im)
{
    size_t n = (size_t)im->width * im->height;
    float *x = calloc(n, 12), *y = calloc(n, 12);
    for (size_t p = 0; p < n; p++)
        for (int k = 0; k < 3; k++) x[p * 3 + k] = im->data[p * 3 + (2 - k)] / 127.5f - 1.f;
    CHECK(cartoon_forward(c, x, im->height, im->width, y) == CARTOON_OK);
    for (size_t p = 0; p < n; p++)
        for (int k = 0; k < 3; k++) x[p * 3 + k] = (y[p * 3 + (2 - k)] + 1.f) * 127.5f;
    free(y);
    return x;
}

/* The original's 8-bit conversion: np.clip(v, 0, 255).astype(np.uint8), or to nearest. */
static uint8_t to_u8(float v, int round_nearest)
{
    if (!(v > 0.f)) return 0;
    if (v >= 255.f) return 255;
    return (uint8_t)(round_nearest ? floorf(v + 0.5f) : v);
}

/* That output converted to RGB bytes: the expectation the 8-bit API has to meet. */
static uint8_t *expected_rgb(cartoon_context *c, const cartoon_image *im, int round_nearest)
{
    size_t n = (size_t)im->width * im->height * 3;
    float *v = cartoon_values(c, im);
    uint8_t *rgb = malloc(n);
    for (size_t i = 0; i < n; i++) rgb[i] = to_u8(v[i], round_nearest);
    free(v);
    return rgb;
}

static void test_formats_and_strides(void)
{
    cartoon_context *c = ctx_new();
    uint8_t *want = expected_rgb(c, &portrait, 0);
    int w = portrait.width, h = portrait.height;
    size_t n = (size_t)w * h;
    /* every input format, with a padded stride, and every output format */
    for (int fi = 0; fi < 4; fi++) {
        int bpp = cartoon_pixel_size((cartoon_pixel_format)fi);
        size_t stride = (size_t)w * bpp + 13;
        uint8_t *src = malloc(stride * h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                const uint8_t *p = portrait.data + ((size_t)y * w + x) * 3;
                uint8_t *q = src + y * stride + (size_t)x * bpp;
                int bgr = fi == CARTOON_PIXEL_BGR || fi == CARTOON_PIXEL_BGRA;
                q[0] = p[bgr ? 2 : 0]; q[1] = p[1]; q[2] = p[bgr ? 0 : 2];
                if (bpp == 4) q[3] = (uint8_t)(x * 7 + y);
            }
        cartoon_image in = {src, w, h, stride, (cartoon_pixel_format)fi};
        for (int fo = 0; fo < 4; fo++) {
            int ow, oh;
            cartoon_status st;
            uint8_t *got = run(c, &in, (cartoon_pixel_format)fo, NULL, &ow, &oh, &st);
            CHECK(st == CARTOON_OK && ow == w && oh == h);
            int obpp = cartoon_pixel_size((cartoon_pixel_format)fo), obgr = fo == CARTOON_PIXEL_BGR || fo == CARTOON_PIXEL_BGRA;
            int bad = 0, bad_alpha = 0, near = 0;
            for (size_t p = 0; p < n; p++) {
                const uint8_t *q = got + p * obpp;
                uint8_t r = q[obgr ? 2 : 0], g = q[1], b = q[obgr ? 0 : 2];
                /* the library maps in and out of model space with the same float operations as
                 * the expectation, and truncates the same value: identical bytes */
                bad += abs(r - want[p * 3]) > 1 || abs(g - want[p * 3 + 1]) > 1 || abs(b - want[p * 3 + 2]) > 1;
                near += r != want[p * 3] || g != want[p * 3 + 1] || b != want[p * 3 + 2];
                if (obpp == 4) {
                    int x = (int)(p % w), y = (int)(p / w);
                    uint8_t a = bpp == 4 ? (uint8_t)(x * 7 + y) : 255;
                    bad_alpha += q[3] != a;
                }
            }
            CHECKF(bad == 0 && bad_alpha == 0 && near == 0, "in %d out %d: %d pixels off by > 1, %d by 1, %d alphas differ",
                   fi, fo, bad, near, bad_alpha);
            free(got);
        }
        free(src);
    }
    free(want);
    cartoon_context_free(c);
}

static void test_strength(void)
{
    cartoon_context *c = ctx_new();
    float *full = cartoon_values(c, &portrait);
    size_t n = (size_t)portrait.width * portrait.height * 3;
    float ss[] = {0.f, 0.3f, 0.5f, 1.f};
    for (int k = 0; k < 4; k++) {
        cartoon_options o;
        cartoon_options_default(&o);
        o.strength = ss[k];
        int ow, oh;
        cartoon_status st;
        uint8_t *got = run(c, &portrait, CARTOON_PIXEL_RGB, &o, &ow, &oh, &st);
        CHECK(st == CARTOON_OK);
        int worst = 0;
        for (size_t i = 0; i < n; i++) {
            /* the blend of the float cartoon and the input, truncated once; a value within
             * float error of a level may land on either side */
            float want = ss[k] * full[i] + (1.f - ss[k]) * portrait.data[i];
            int d = abs(got[i] - to_u8(want, 0));
            if (d && fabsf(want - nearbyintf(want)) < 1e-3f) d--;
            if (d > worst) worst = d;
        }
        CHECKF(worst == 0, "strength %g: off by %d levels", ss[k], worst);
        if (ss[k] == 0.f) CHECK(memcmp(got, portrait.data, n) == 0); /* exactly the input */
        free(got);
    }
    free(full);
    cartoon_context_free(c);
}

/* At native size and strength 1 the bytes are the network's float output converted the
 * original's way: truncated by default, rounded with CARTOON_QUANTIZE_ROUND; the two differ
 * on about half the values, never by more than one level. */
static void test_quantize_modes(void)
{
    cartoon_context *c = ctx_new();
    size_t n = (size_t)portrait.width * portrait.height * 3;
    uint8_t *got[2];
    for (int mode = 0; mode < 2; mode++) {
        uint8_t *want = expected_rgb(c, &portrait, mode);
        cartoon_options o;
        cartoon_options_default(&o);
        o.quantize = mode ? CARTOON_QUANTIZE_ROUND : CARTOON_QUANTIZE_TRUNCATE;
        int ow, oh;
        cartoon_status st;
        got[mode] = run(c, &portrait, CARTOON_PIXEL_RGB, &o, &ow, &oh, &st);
        CHECK(st == CARTOON_OK);
        size_t bad = 0;
        for (size_t i = 0; i < n; i++) bad += got[mode][i] != want[i];
        CHECKF(bad == 0, "%s: %zu bytes differ from the converted float output", mode ? "round" : "truncate", bad);
        free(want);
    }
    size_t differ = 0, wrong = 0;
    for (size_t i = 0; i < n; i++) {
        differ += got[0][i] != got[1][i];
        wrong += got[1][i] < got[0][i] || got[1][i] > got[0][i] + 1;
    }
    printf("    round and truncate differ on %.1f%% of the bytes\n", 100.0 * differ / n);
    CHECK(wrong == 0 && differ > n / 4 && differ < 3 * n / 4);
    free(got[0]); free(got[1]);
    cartoon_context_free(c);
}

static void test_resolution(void)
{
    cartoon_context *c = ctx_new();
    cartoon_options o;
    cartoon_options_default(&o);
    o.resolution = 48; /* 96x64 -> 48x32 */
    int ow, oh;
    CHECK(cartoon_output_size(&o, 96, 64, &ow, &oh) == CARTOON_OK && ow == 96 && oh == 64);
    o.keep_model_size = 1;
    CHECK(cartoon_output_size(&o, 96, 64, &ow, &oh) == CARTOON_OK && ow == 48 && oh == 32);
    CHECK(cartoon_output_size(&o, 64, 96, &ow, &oh) == CARTOON_OK && ow == 32 && oh == 48);
    CHECK(cartoon_output_size(&o, 1000, 3, &ow, &oh) == CARTOON_OK && ow == 48 && oh == 1);
    /* model-size output equals running natively on the area-downscaled input (2x2 means) */
    cartoon_status st;
    uint8_t *small = run(c, &portrait, CARTOON_PIXEL_RGB, &o, &ow, &oh, &st);
    CHECK(st == CARTOON_OK && ow == 48 && oh == 32);
    uint8_t *down = malloc(48 * 32 * 3);
    float *downf = malloc(48 * 32 * 3 * sizeof *downf);
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 48; x++)
            for (int k = 0; k < 3; k++) {
                int s = 0;
                for (int dy = 0; dy < 2; dy++)
                    for (int dx = 0; dx < 2; dx++) s += portrait.data[((size_t)(2 * y + dy) * 96 + 2 * x + dx) * 3 + k];
                downf[((size_t)y * 48 + x) * 3 + k] = s / 4.f;
            }
    /* run the float model on exactly those means */
    float *xin = malloc(48 * 32 * 12), *yout = malloc(48 * 32 * 12);
    for (size_t p = 0; p < 48 * 32; p++)
        for (int k = 0; k < 3; k++) xin[p * 3 + k] = downf[p * 3 + (2 - k)] / 127.5f - 1.f;
    CHECK(cartoon_forward(c, xin, 32, 48, yout) == CARTOON_OK);
    int worst = 0;
    for (size_t p = 0; p < 48 * 32; p++)
        for (int k = 0; k < 3; k++) {
            /* truncated; the library's resampled means may differ from these in the last bit,
             * so a value within 1e-3 of a level may land on either side */
            float v = (yout[p * 3 + (2 - k)] + 1.f) * 127.5f;
            int d = abs(small[p * 3 + k] - to_u8(v, 0));
            if (d && fabsf(v - nearbyintf(v)) < 1e-3f) d--;
            if (d > worst) worst = d;
        }
    CHECKF(worst <= 0, "resolution 48: off by %d", worst);
    /* strength 0 at model size gives the area-downscaled input itself, truncated (the 2x2
     * means are quarters, exact in float) */
    o.strength = 0.f;
    uint8_t *plain = run(c, &portrait, CARTOON_PIXEL_RGB, &o, &ow, &oh, &st);
    CHECK(st == CARTOON_OK && ow == 48 && oh == 32);
    int worst0 = 0;
    for (size_t q = 0; q < 48 * 32 * 3; q++) {
        int d = abs(plain[q] - to_u8(downf[q], 0));
        if (d > worst0) worst0 = d;
    }
    CHECKF(worst0 <= 0, "strength 0 at model size: off by %d", worst0);
    free(plain);
    o.strength = 1.f;
    /* and brought back to the input size by default */
    o.keep_model_size = 0;
    uint8_t *back = run(c, &portrait, CARTOON_PIXEL_RGB, &o, &ow, &oh, &st);
    CHECK(st == CARTOON_OK && ow == 96 && oh == 64);
    /* upscaled 2x bilinearly from the 48x32 result: interior pixel (2y+1, 2x+1) is 3/4 of
     * (y, x) and 1/4 of the next in each axis; check it stays close to the small result */
    double se = 0;
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 48; x++)
            for (int k = 0; k < 3; k++) {
                double d = back[((size_t)(2 * y) * 96 + 2 * x) * 3 + k] - small[((size_t)y * 48 + x) * 3 + k];
                se += d * d;
            }
    double psnr = 10 * log10(255.0 * 255.0 / (se / (48 * 32 * 3)));
    CHECKF(psnr > 25, "upscaled result far from the model-size result: %.1f dB", psnr);
    free(small); free(down); free(downf); free(xin); free(yout); free(back);
    cartoon_context_free(c);
}

static void test_sizes_and_reuse(void)
{
    cartoon_context *c = ctx_new();
    int sizes[][2] = {{1, 1}, {1, 7}, {5, 1}, {3, 3}, {13, 9}, {96, 64}, {2, 2}, {96, 64}};
    uint8_t *first = NULL;
    for (int k = 0; k < 8; k++) {
        int w = sizes[k][0], h = sizes[k][1];
        cartoon_image in = {portrait.data, w, h, portrait.stride, CARTOON_PIXEL_RGB};
        int ow, oh;
        cartoon_status st;
        uint8_t *got = run(c, &in, CARTOON_PIXEL_RGB, NULL, &ow, &oh, &st);
        CHECKF(st == CARTOON_OK && ow == w && oh == h, "%dx%d: %s", w, h, cartoon_context_last_error(c));
        if (k == 5) first = got;
        else {
            if (k == 7) CHECK(memcmp(first, got, (size_t)w * h * 3) == 0); /* same size again, same bytes */
            free(got);
        }
    }
    free(first);
    CHECK(cartoon_context_arena_bytes(c) > 0);
    cartoon_context_free(c);
}

static void test_bad_arguments(void)
{
    cartoon_context *c = ctx_new();
    uint8_t buf[64 * 96 * 4];
    cartoon_image out = {buf, 96, 64, 96 * 3, CARTOON_PIXEL_RGB};
    CHECK(unet_cartoonize(NULL, &portrait, &out, NULL) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(unet_cartoonize(c, NULL, &out, NULL) == CARTOON_E_INVALID_ARGUMENT && strlen(cartoon_context_last_error(c)) > 0);
    CHECK(unet_cartoonize(c, &portrait, NULL, NULL) == CARTOON_E_INVALID_ARGUMENT);
    cartoon_image in = portrait;
    in.format = (cartoon_pixel_format)9;
    CHECK(unet_cartoonize(c, &in, &out, NULL) == CARTOON_E_INVALID_ARGUMENT && strstr(cartoon_context_last_error(c), "format"));
    in = portrait; in.stride = 10;
    CHECK(unet_cartoonize(c, &in, &out, NULL) == CARTOON_E_INVALID_ARGUMENT && strstr(cartoon_context_last_error(c), "stride"));
    in = portrait; in.width = 0;
    CHECK(unet_cartoonize(c, &in, &out, NULL) == CARTOON_E_INVALID_ARGUMENT);
    in = portrait; in.height = -5;
    CHECK(unet_cartoonize(c, &in, &out, NULL) == CARTOON_E_INVALID_ARGUMENT);
    in = portrait; in.data = NULL;
    CHECK(unet_cartoonize(c, &in, &out, NULL) == CARTOON_E_INVALID_ARGUMENT);
    cartoon_image small = {buf, 10, 10, 30, CARTOON_PIXEL_RGB};
    CHECK(unet_cartoonize(c, &portrait, &small, NULL) == CARTOON_E_INVALID_ARGUMENT &&
          strstr(cartoon_context_last_error(c), "must be 96x64"));
    cartoon_options o;
    cartoon_options_default(&o);
    o.strength = 1.5f;
    CHECK(unet_cartoonize(c, &portrait, &out, &o) == CARTOON_E_INVALID_ARGUMENT);
    o.strength = NAN;
    CHECK(unet_cartoonize(c, &portrait, &out, &o) == CARTOON_E_INVALID_ARGUMENT);
    o.strength = 1; o.resolution = -3;
    CHECK(unet_cartoonize(c, &portrait, &out, &o) == CARTOON_E_INVALID_ARGUMENT);
    o.resolution = 0; o.quantize = (cartoon_quantize)2;
    CHECK(unet_cartoonize(c, &portrait, &out, &o) == CARTOON_E_INVALID_ARGUMENT &&
          strstr(cartoon_context_last_error(c), "quantize"));
    o.quantize = (cartoon_quantize)-1;
    CHECK(unet_cartoonize(c, &portrait, &out, &o) == CARTOON_E_INVALID_ARGUMENT);
    cartoon_image alias = {portrait.data, 96, 64, 96 * 3, CARTOON_PIXEL_RGB};
    CHECK(unet_cartoonize(c, &portrait, &alias, NULL) == CARTOON_E_INVALID_ARGUMENT && strstr(cartoon_context_last_error(c), "overlap"));
    /* the context still works after all that */
    CHECK(unet_cartoonize(c, &portrait, &out, NULL) == CARTOON_OK && cartoon_context_last_error(c)[0] == 0);
    float f[3];
    CHECK(cartoon_forward(c, NULL, 1, 1, f) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_forward(c, f, 0, 1, f) == CARTOON_E_INVALID_ARGUMENT);
    cartoon_context_free(c);

    /* the pixel limit, configurable per context */
    cartoon_context_options co;
    cartoon_context_options_default(&co);
    co.max_pixels = 1000;
    CHECK(cartoon_context_create(model, &co, &c, NULL, 0) == CARTOON_OK);
    CHECK(unet_cartoonize(c, &portrait, &out, NULL) == CARTOON_E_LIMIT && strstr(cartoon_context_last_error(c), "limit"));
    CHECK(cartoon_forward(c, (float *)buf, 40, 40, (float *)buf) == CARTOON_E_LIMIT);
    cartoon_context_free(c);
    cartoon_context_options_default(&co);
    CHECK(cartoon_context_create(model, &co, &c, NULL, 0) == CARTOON_OK);
    /* 100 megapixels is the default limit: a 20000 x 6000 image is refused before any work */
    cartoon_image huge = {buf, 20000, 6000, 20000 * 3, CARTOON_PIXEL_RGB};
    CHECK(unet_cartoonize(c, &huge, &huge, NULL) == CARTOON_E_LIMIT);
    cartoon_context_free(c);
    char why[256];
    co.device = CARTOON_DEVICE_CPU;
    co.precision = CARTOON_PRECISION_BF16;
    if (strcmp(cartoon_cpu_isa(), "avx512-bf16")) { /* no AVX512_BF16 kernels here: refused, saying why */
        CHECK(cartoon_context_create(model, &co, &c, why, sizeof why) == CARTOON_E_UNSUPPORTED && c == NULL &&
              strstr(why, "bf16") && strstr(why, "AVX512_BF16"));
    } else {
        CHECK(cartoon_context_create(model, &co, &c, why, sizeof why) == CARTOON_OK && c);
        cartoon_context_free(c);
        c = NULL;
    }
    /* CARTOON_ISA=avx2 lowers the kernels, and with them bf16, on any machine */
    setenv("CARTOON_ISA", "avx2", 1);
    CHECK(strncmp(cartoon_cpu_isa(), "avx512", 6) != 0);
    CHECK(cartoon_context_create(model, &co, &c, why, sizeof why) == CARTOON_E_UNSUPPORTED && c == NULL &&
          strstr(why, "AVX512_BF16"));
    unsetenv("CARTOON_ISA");
    co.precision = CARTOON_PRECISION_FP16;
    CHECK(cartoon_context_create(model, &co, &c, why, sizeof why) == CARTOON_E_UNSUPPORTED && strstr(why, "CUDA"));
    co.precision = CARTOON_PRECISION_FP32;
    co.device = (cartoon_device)7;
    CHECK(cartoon_context_create(model, &co, &c, NULL, 0) == CARTOON_E_INVALID_ARGUMENT && c == NULL);
    CHECK(cartoon_context_create(NULL, NULL, &c, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_context_create(model, NULL, NULL, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    cartoon_context_free(NULL);
    CHECK(cartoon_context_last_error(NULL) != NULL);
    CHECK(cartoon_pixel_size(CARTOON_PIXEL_RGBA) == 4 && cartoon_pixel_size((cartoon_pixel_format)-1) == 0);
}

struct obs_acc { int calls, last; double flops; };
static void cb(void *u, const cartoon_layer_info *li)
{
    struct obs_acc *a = u;
    a->calls++;
    if (li->index == a->last + 1) a->last = li->index;
    if (!strcmp(li->op, "conv2d")) a->flops += li->flops;
}

static void test_observer_totals(void)
{
    /* the observer sees every node once, in order, with FLOPs matching the spec's cost table */
    cartoon_context *c = ctx_new();
    struct obs_acc acc = {0, -1, 0};
    CHECK(cartoon_context_set_observer(c, cb, &acc, 0) == CARTOON_OK);
    float *x = calloc(256 * 256 * 3, sizeof *x), *y = malloc(256 * 256 * 3 * sizeof *y);
    CHECK(cartoon_forward(c, x, 256, 256, y) == CARTOON_OK);
    cartoon_model_info info;
    cartoon_model_get_info(model, &info);
    CHECK(acc.calls == (int)info.nodes && acc.last == (int)info.nodes - 1);
    /* model-spec: 16.3 GFLOP at 256x256 (convolutions; the rest is negligible) */
    CHECKF(fabs(acc.flops / 1e9 - 16.3) < 0.1, "%.2f GFLOP", acc.flops / 1e9);
    free(x); free(y);
    cartoon_context_free(c);
}

int main(void)
{
    const char *path = test_model_path();
    char err[256];
    if (!path) {
        skip_case("api", "the shared model is not available");
        return check_summary();
    }
    if (cartoon_model_load(path, NULL, &model, err, sizeof err) != CARTOON_OK ||
        cartoon_image_read(shared_path("reference/astronaut_64x96_crop.in.png"), 0, &portrait, err, sizeof err) != CARTOON_OK) {
        printf("setup failed: %s\n", err);
        return 1;
    }
    run_case("formats_strides_alpha", test_formats_and_strides);
    run_case("strength_blend", test_strength);
    run_case("quantize_truncate_and_round", test_quantize_modes);
    run_case("resolution_area_resample", test_resolution);
    run_case("sizes_1x1_up_and_context_reuse", test_sizes_and_reuse);
    run_case("bad_arguments_and_limits", test_bad_arguments);
    run_case("observer_sees_every_node", test_observer_totals);
    cartoon_image_free(&portrait);
    cartoon_model_free(model);
    return check_summary();
}
