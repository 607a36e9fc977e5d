/* unet_cartoonize()'s float-to-8-bit conversion (cartoon_options.quantize) on small synthetic
 * models built here, so it runs without ../shared:
 *   - exact values: a model whose output is a constant chosen so that (y + 1) * 127.5 is 12.999,
 *     13.0 exactly, 254.9, 255.7 and -0.5 gives 12, 13, 254, 255, 0 truncated (the default, as
 *     the original's np.clip(...).astype(np.uint8)) and 13, 13, 255, 255, 0 rounded;
 *   - on a varied output: at native size and strength 1 the bytes are exactly the network output
 *     of cartoon_forward() converted here the original's way, in both modes and every format;
 *   - with a strength blend the conversion happens once, on the blended float value;
 *   - quantize values out of range are refused. */
#include <math.h>
#include <string.h>
#include "cartoon.h"
#include "check.h"
#include "safetensors_write.h"

/* A one-node model: a 1x1 convolution 3 -> 3 with the given weight [out][in] and bias. */
static cartoon_model *conv1x1_model(const float w[9], const float b[3])
{
    static const char *graph =
        "{\"input\": {\"name\": \"in\", \"channels\": 3, \"color_order\": \"BGR\", "
        "\"scale\": 0.00784313725490196, \"offset\": -1}, \"pad_multiple\": 1, \"output\": \"c\", "
        "\"nodes\": [{\"name\": \"c\", \"op\": \"conv2d\", \"inputs\": [\"in\"], \"kernel\": 1, "
        "\"stride\": 1, \"in_channels\": 3, \"out_channels\": 3, \"weight\": \"c.w\", \"bias\": \"c.b\"}]}";
    const int64_t ws[4] = {3, 1, 1, 3}, bs[1] = {3};
    st_writer *wr = ct_st_writer_new();
    CHECK(wr != NULL);
    if (!wr) return NULL;
    CHECK(ct_st_writer_add(wr, "c.w", ST_F32, 4, ws, w) == CARTOON_OK);
    CHECK(ct_st_writer_add(wr, "c.b", ST_F32, 1, bs, b) == CARTOON_OK);
    ct_st_writer_meta(wr, "format", "libcartoon");
    ct_st_writer_meta(wr, "format_version", "1");
    ct_st_writer_meta(wr, "name", "quantize-test");
    ct_st_writer_meta(wr, "graph", graph);
    uint8_t *buf = NULL;
    size_t size = 0;
    CHECK(ct_st_writer_serialize(wr, &buf, &size) == CARTOON_OK);
    ct_st_writer_free(wr);
    cartoon_model *m = NULL;
    char err[256] = "";
    CHECKF(cartoon_model_load_memory(buf, size, NULL, &m, err, sizeof err) == CARTOON_OK, "%s", err);
    free(buf);
    return m;
}

static cartoon_context *cpu_context(const cartoon_model *m)
{
    cartoon_context_options o;
    cartoon_context_options_default(&o);
    o.device = CARTOON_DEVICE_CPU;
    o.threads = 2;
    cartoon_context *c = NULL;
    CHECK(m && cartoon_context_create(m, &o, &c, NULL, 0) == CARTOON_OK);
    return c;
}

/* The original's conversion of a float pixel value on the 0..255 scale:
 * np.clip(v, 0, 255).astype(np.uint8), or to nearest (halves up). */
static int quantize(float v, int round_nearest)
{
    if (!(v > 0.f)) return 0;
    if (v >= 255.f) return 255;
    return (int)(round_nearest ? floorf(v + 0.5f) : v);
}

/* (y + 1) * 127.5 in float32, as the original computes it. */
static float pix(float y) { return (y + 1.f) * 127.5f; }

/* The smallest model-space output y whose pix(y) is >= target (searched ulp by ulp). */
static float output_at_least(float target)
{
    float y = target / 127.5f - 1.f;
    for (int i = 0; i < 1000 && pix(y) >= target; i++) y = nextafterf(y, -2.f);
    for (int i = 0; i < 1000 && pix(y) < target; i++) y = nextafterf(y, 2.f);
    return y;
}

static void test_exact_values(void)
{
    /* the values (13.0: the first float output at or above 13: there is no float y with
     * (y + 1) * 127.5 exactly 13, the outputs near -0.9 are 7.6e-6 apart), then 100 exactly
     * and one float step below it, 254.5 and 300 (over the top) */
    float y100 = output_at_least(100.f), ys[9];
    const float targets[9] = {12.999f, 13.f, 254.9f, 255.7f, -0.5f, 100.f, 99.f, 254.5f, 300.f};
    static const int want_trunc[9] = {12, 13, 254, 255, 0, 100, 99, 254, 255};
    static const int want_round[9] = {13, 13, 255, 255, 0, 100, 100, 255, 255};
    for (int i = 0; i < 9; i++) ys[i] = output_at_least(targets[i]);
    ys[6] = nextafterf(y100, -2.f);
    CHECKF(pix(y100) == 100.f && pix(ys[6]) < 100.f && pix(ys[6]) > 99.9999f, "%.9g %.9g",
           (double)pix(y100), (double)pix(ys[6]));
    CHECKF(pix(ys[0]) > 12.998f && pix(ys[0]) < 12.9991f && pix(ys[1]) >= 13.f && pix(ys[1]) < 13.00001f &&
           fabsf(pix(ys[2]) - 254.9f) < 1e-4f && fabsf(pix(ys[3]) - 255.7f) < 1e-4f && fabsf(pix(ys[4]) + 0.5f) < 1e-4f &&
           pix(ys[7]) >= 254.5f && pix(ys[7]) < 254.5001f,
           "%.9g %.9g %.9g %.9g %.9g %.9g", (double)pix(ys[0]), (double)pix(ys[1]), (double)pix(ys[2]),
           (double)pix(ys[3]), (double)pix(ys[4]), (double)pix(ys[7]));
    for (int t = 0; t < 9; t += 3) {
        /* B, G, R output channels: the constant bias, zero weights */
        float w[9] = {0}, b[3];
        for (int k = 0; k < 3; k++) b[k] = ys[t + k];
        cartoon_model *m = conv1x1_model(w, b);
        cartoon_context *c = cpu_context(m);
        if (!c) { cartoon_model_free(m); continue; }
        enum { W = 5, H = 3 };
        uint8_t src[W * H * 3], dst[W * H * 4];
        for (int i = 0; i < W * H * 3; i++) src[i] = (uint8_t)(i * 37);
        /* the network output really is the bias */
        float x[W * H * 3], y[W * H * 3];
        for (int i = 0; i < W * H * 3; i++) x[i] = src[i] / 127.5f - 1.f;
        CHECK(cartoon_forward(c, x, H, W, y) == CARTOON_OK);
        for (int i = 0; i < W * H * 3; i++) CHECK(y[i] == b[i % 3]);
        cartoon_image in = {src, W, H, W * 3, CARTOON_PIXEL_RGB};
        for (int mode = 0; mode < 2; mode++)
            for (int f = 0; f < 4; f++) {
                cartoon_pixel_format fmt = (cartoon_pixel_format)f;
                int bpp = cartoon_pixel_size(fmt), bgr = fmt == CARTOON_PIXEL_BGR || fmt == CARTOON_PIXEL_BGRA;
                cartoon_image out = {dst, W, H, (size_t)W * bpp, fmt};
                cartoon_options o;
                cartoon_options_default(&o);
                if (mode) o.quantize = CARTOON_QUANTIZE_ROUND;
                memset(dst, 0xA5, sizeof dst);
                CHECKF(unet_cartoonize(c, &in, &out, &o) == CARTOON_OK, "%s", cartoon_context_last_error(c));
                int bad = 0;
                for (int p = 0; p < W * H; p++)
                    for (int k = 0; k < 3; k++) { /* model channel k (B, G, R) */
                        int got = dst[p * bpp + (bgr ? k : 2 - k)];
                        int want = (mode ? want_round : want_trunc)[t + k];
                        if (got != want && bad++ == 0)
                            CHECKF(got == want, "(y+1)*127.5 = %.7f, %s, format %d: got %d, want %d",
                                   (double)pix(b[k]), mode ? "round" : "truncate", f, got, want);
                    }
                CHECK(bad == 0);
            }
        /* through a resampling (model at 2x2, result back at 16x12) the constant stays within
         * float error of itself: the values off a level or a half keep their bytes */
        cartoon_options o;
        cartoon_options_default(&o);
        o.resolution = 2;
        uint8_t big[16 * 12 * 3], bout[16 * 12 * 3];
        for (int i = 0; i < 16 * 12 * 3; i++) big[i] = (uint8_t)(i * 13);
        cartoon_image bin = {big, 16, 12, 48, CARTOON_PIXEL_RGB}, bo = {bout, 16, 12, 48, CARTOON_PIXEL_RGB};
        for (int mode = 0; mode < 2; mode++) {
            o.quantize = mode ? CARTOON_QUANTIZE_ROUND : CARTOON_QUANTIZE_TRUNCATE;
            CHECK(unet_cartoonize(c, &bin, &bo, &o) == CARTOON_OK);
            int bad = 0;
            for (int p = 0; p < 16 * 12; p++)
                for (int k = 0; k < 3; k++) {
                    float v = pix(b[k]);
                    if (v > -0.4f && v < 255.f && fabsf(v * 2.f - nearbyintf(v * 2.f)) < 1e-3f)
                        continue; /* on a level or a half: may land either side after resampling */
                    bad += bout[p * 3 + 2 - k] != (mode ? want_round : want_trunc)[t + k];
                }
            CHECKF(bad == 0, "resampled, %s: %d bytes changed level", mode ? "round" : "truncate", bad);
        }
        cartoon_context_free(c);
        cartoon_model_free(m);
    }
}

/* A varied output: random weights on a random picture, outputs spread over about [-1.3, 1.3]. */
static cartoon_model *random_model(void)
{
    float w[9], b[3];
    for (int i = 0; i < 9; i++) w[i] = rng_uniform(-0.9f, 0.9f);
    for (int i = 0; i < 3; i++) b[i] = rng_uniform(-0.2f, 0.2f);
    return conv1x1_model(w, b);
}

/* The network's float output for an RGB picture, converted here: pixel values (y + 1) * 127.5
 * in R, G, B order, unclipped, exactly as the original computes them in float32. */
static float *pixel_values(cartoon_context *c, const uint8_t *rgb, int w, int h)
{
    size_t n = (size_t)w * h;
    float *x = calloc(n * 3, sizeof *x), *y = malloc(n * 12), *v = malloc(n * 12); /* calloc: GCC -O1 sees n = 0 */
    if (!x || !y || !v) {
        free(x); free(y); free(v);
        return NULL;
    }
    for (size_t p = 0; p < n; p++)
        for (int k = 0; k < 3; k++) x[p * 3 + k] = rgb[p * 3 + 2 - k] / 127.5f - 1.f; /* BGR */
    CHECK(cartoon_forward(c, x, h, w, y) == CARTOON_OK);
    for (size_t p = 0; p < n; p++)
        for (int k = 0; k < 3; k++) v[p * 3 + k] = (y[p * 3 + 2 - k] + 1.f) * 127.5f;
    free(x); free(y);
    return v;
}

static void test_native_matches_forward(void)
{
    rng_seed(11);
    cartoon_model *m = random_model();
    cartoon_context *c = cpu_context(m);
    if (!c) { cartoon_model_free(m); return; }
    enum { W = 61, H = 37 };
    size_t n = (size_t)W * H;
    uint8_t *src = malloc(n * 3), *dst = malloc(n * 4);
    for (size_t i = 0; i < n * 3; i++) src[i] = (uint8_t)rng_u32();
    float *v = pixel_values(c, src, W, H);
    CHECK(v != NULL);
    if (!v) return; /* out of memory: the check above failed */
    size_t below = 0, above = 0, differ = 0;
    for (size_t i = 0; i < n * 3; i++) {
        below += v[i] < 0; above += v[i] > 255;
        differ += quantize(v[i], 0) != quantize(v[i], 1);
    }
    CHECKF(below > 100 && above > 100, "outputs should leave 0..255 both ways (%zu, %zu)", below, above);
    CHECKF(differ > n, "rounding and truncation differ on %zu of %zu values only", differ, n * 3);
    cartoon_image in = {src, W, H, W * 3, CARTOON_PIXEL_RGB};
    for (int mode = 0; mode < 2; mode++)
        for (int f = 0; f < 4; f++) {
            cartoon_pixel_format fmt = (cartoon_pixel_format)f;
            int bpp = cartoon_pixel_size(fmt), bgr = fmt == CARTOON_PIXEL_BGR || fmt == CARTOON_PIXEL_BGRA;
            cartoon_image out = {dst, W, H, (size_t)W * bpp, fmt};
            cartoon_options o;
            cartoon_options_default(&o);
            o.quantize = mode ? CARTOON_QUANTIZE_ROUND : CARTOON_QUANTIZE_TRUNCATE;
            CHECK(unet_cartoonize(c, &in, &out, &o) == CARTOON_OK);
            size_t bad = 0;
            for (size_t p = 0; p < n; p++)
                for (int k = 0; k < 3; k++) /* k: R, G, B */
                    bad += dst[p * bpp + (bgr ? 2 - k : k)] != quantize(v[p * 3 + k], mode);
            CHECKF(bad == 0, "%s, format %d: %zu bytes differ from the network output converted the original's way",
                   mode ? "round" : "truncate", f, bad);
        }
    /* NULL options are the defaults: truncation */
    cartoon_image out = {dst, W, H, W * 3, CARTOON_PIXEL_RGB};
    CHECK(unet_cartoonize(c, &in, &out, NULL) == CARTOON_OK);
    size_t bad = 0;
    for (size_t i = 0; i < n * 3; i++) bad += dst[i] != quantize(v[i], 0);
    CHECK(bad == 0);
    free(v); free(src); free(dst);
    cartoon_context_free(c);
    cartoon_model_free(m);
}

/* With strength s the float cartoon value is blended with the input pixel and that float is
 * converted, once: s * v + (1 - s) * g, then clip and truncate (or round). */
static void test_blend_quantised_once(void)
{
    rng_seed(12);
    cartoon_model *m = random_model();
    cartoon_context *c = cpu_context(m);
    if (!c) { cartoon_model_free(m); return; }
    enum { W = 40, H = 29 };
    size_t n = (size_t)W * H;
    uint8_t *src = malloc(n * 3), *dst = malloc(n * 3);
    for (size_t i = 0; i < n * 3; i++) src[i] = (uint8_t)rng_u32();
    float *v = pixel_values(c, src, W, H);
    CHECK(v != NULL);
    if (!v) return; /* out of memory: the check above failed */
    cartoon_image in = {src, W, H, W * 3, CARTOON_PIXEL_RGB}, out = {dst, W, H, W * 3, CARTOON_PIXEL_RGB};
    const float ss[] = {0.9f, 0.37f, 0.f};
    for (int si = 0; si < 3; si++)
        for (int mode = 0; mode < 2; mode++) {
            cartoon_options o;
            cartoon_options_default(&o);
            o.strength = ss[si];
            o.quantize = mode ? CARTOON_QUANTIZE_ROUND : CARTOON_QUANTIZE_TRUNCATE;
            CHECK(unet_cartoonize(c, &in, &out, &o) == CARTOON_OK);
            size_t bad = 0, twice = 0;
            for (size_t i = 0; i < n * 3; i++) {
                float s = ss[si], b = s * v[i] + (1.f - s) * src[i];
                int want = quantize(b, mode);
                /* a blend of the already-quantised cartoon: what converting twice would give */
                twice += quantize(s * quantize(v[i], mode) + (1.f - s) * src[i], mode) != want;
                /* a float on a level boundary may land either side of it */
                if (dst[i] != want && !(fabsf(b - nearbyintf(b)) < 1e-3f && abs(dst[i] - want) <= 1)) bad++;
            }
            CHECKF(bad == 0, "strength %g, %s: %zu bytes differ from the blended float converted once",
                   (double)ss[si], mode ? "round" : "truncate", bad);
            if (ss[si] == 0.f) CHECK(memcmp(dst, src, n * 3) == 0);
            else CHECKF(twice > 0, "strength %g: the test cannot tell single from double conversion", (double)ss[si]);
        }
    free(v); free(src); free(dst);
    cartoon_context_free(c);
    cartoon_model_free(m);
}

static void test_bad_quantize(void)
{
    cartoon_options o;
    cartoon_options_default(&o);
    CHECK(o.quantize == CARTOON_QUANTIZE_TRUNCATE && CARTOON_QUANTIZE_TRUNCATE == 0 && CARTOON_QUANTIZE_ROUND == 1);
    int ow, oh;
    o.quantize = (cartoon_quantize)2;
    CHECK(cartoon_output_size(&o, 4, 4, &ow, &oh) == CARTOON_E_INVALID_ARGUMENT);
    float w[9] = {0}, b[3] = {0};
    cartoon_model *m = conv1x1_model(w, b);
    cartoon_context *c = cpu_context(m);
    if (!c) { cartoon_model_free(m); return; }
    uint8_t src[12] = {0}, dst[12];
    cartoon_image in = {src, 2, 2, 6, CARTOON_PIXEL_RGB}, out = {dst, 2, 2, 6, CARTOON_PIXEL_RGB};
    CHECK(unet_cartoonize(c, &in, &out, &o) == CARTOON_E_INVALID_ARGUMENT &&
          strstr(cartoon_context_last_error(c), "quantize"));
    o.quantize = (cartoon_quantize)-1;
    CHECK(unet_cartoonize(c, &in, &out, &o) == CARTOON_E_INVALID_ARGUMENT);
    o.quantize = CARTOON_QUANTIZE_ROUND;
    CHECK(unet_cartoonize(c, &in, &out, &o) == CARTOON_OK);
    /* y = 0 is 127.5: 127 truncated, 128 rounded */
    CHECK(dst[0] == 128);
    o.quantize = CARTOON_QUANTIZE_TRUNCATE;
    CHECK(unet_cartoonize(c, &in, &out, &o) == CARTOON_OK && dst[0] == 127);
    cartoon_context_free(c);
    cartoon_model_free(m);
}

int main(void)
{
    run_case("quantize_exact_values", test_exact_values);
    run_case("quantize_native_equals_forward_converted", test_native_matches_forward);
    run_case("quantize_blend_converted_once", test_blend_quantised_once);
    run_case("quantize_bad_values", test_bad_quantize);
    return check_summary();
}
