/* The real model against ../shared/reference: every intermediate layer of the small crop,
 * and every end-to-end case, in model space (max abs <= 1e-4 for the exact im2col path,
 * >= 50 dB PSNR and the same 1e-4 bound for the fast path) and as 8-bit pixels. */
#include <jansson.h>
#include <math.h>
#include <string.h>
#include "cartoon.h"
#include "cartoon_io.h"
#include "check.h"

static cartoon_model *model;

typedef struct { const char *node; const char *file; } layer_ref;

/* Reference layer -> node of the converted graph (docs/model-format.md; the converter names
 * convolutions conv0..conv17 in network order and fuses their activation). */
static const layer_ref layers[] = {
    {"conv0", "layers/01_x0.npy"},   {"conv2", "layers/02_x1.npy"},  {"conv4", "layers/03_x2.npy"},
    {"#add0", "layers/04_block0.npy"}, {"#add1", "layers/05_block1.npy"}, {"#add2", "layers/06_block2.npy"},
    {"#add3", "layers/07_block3.npy"}, {"conv13", "layers/08_x2b.npy"}, {"conv15", "layers/09_x3.npy"},
    {"conv16", "layers/10_x4.npy"},  {"conv17", "layers/11_gen_out.npy"}, {"#output", "layers/12_final.npy"},
};
#define N_LAYERS (sizeof layers / sizeof layers[0])

typedef struct {
    float *got[N_LAYERS];
    size_t count[N_LAYERS];
    int adds_seen, n_nodes, last_index;
} trace;

static void observe(void *user, const cartoon_layer_info *li)
{
    trace *t = user;
    char key[32] = "";
    if (!strcmp(li->op, "add") && li->out_c == 128) snprintf(key, sizeof key, "#add%d", t->adds_seen++);
    for (size_t k = 0; k < N_LAYERS; k++) {
        int match = !strcmp(layers[k].node, li->name) || (key[0] && !strcmp(layers[k].node, key)) ||
                    (!strcmp(layers[k].node, "#output") && li->index == t->n_nodes - 1);
        if (!match || !li->data) continue;
        size_t n = (size_t)li->out_h * li->out_w * li->out_c;
        free(t->got[k]);
        t->got[k] = malloc(n * sizeof(float));
        memcpy(t->got[k], li->data, n * sizeof(float));
        t->count[k] = n;
    }
}

static void layers_with(cartoon_conv_algo algo)
{
    cartoon_context_options o;
    cartoon_context_options_default(&o);
    o.device = CARTOON_DEVICE_CPU;
    o.conv = algo;
    cartoon_context *ctx = NULL;
    CHECK(cartoon_context_create(model, &o, &ctx, NULL, 0) == CARTOON_OK);
    cartoon_model_info info;
    cartoon_model_get_info(model, &info);
    trace t = {.n_nodes = (int)info.nodes};
    CHECK(cartoon_context_set_observer(ctx, observe, &t, 1) == CARTOON_OK);
    int nd;
    size_t dims[8];
    float *in = npy_read_f32(shared_path("reference/layers/00_input.npy"), &nd, dims);
    CHECK(in && nd == 3 && dims[0] == 64 && dims[1] == 96 && dims[2] == 3);
    if (!in) { cartoon_context_free(ctx); return; }
    float *out = malloc(64 * 96 * 3 * sizeof *out);
    CHECK(cartoon_forward(ctx, in, 64, 96, out) == CARTOON_OK);
    for (size_t k = 0; k < N_LAYERS; k++) {
        char rel[128];
        snprintf(rel, sizeof rel, "reference/%s", layers[k].file);
        float *ref = npy_read_f32(shared_path(rel), &nd, dims);
        size_t n = ref ? dims[0] * dims[1] * dims[2] : 0;
        CHECKF(ref && t.got[k] && t.count[k] == n, "layer %s: missing or wrong size", layers[k].file);
        if (ref && t.got[k] && t.count[k] == n) {
            double d = max_abs_diff(ref, t.got[k], n);
            printf("    layer %-22s max abs %.2e\n", layers[k].file + 7, d);
            CHECKF(d <= 1e-4, "layer %s: max abs diff %g > 1e-4", layers[k].file, d);
        }
        free(ref);
        free(t.got[k]);
    }
    CHECK(t.adds_seen == 4);
    float *fin = npy_read_f32(shared_path("reference/layers/12_final.npy"), &nd, dims);
    CHECK(fin && max_abs_diff(fin, out, 64 * 96 * 3) <= 1e-4);
    free(fin); free(in); free(out);
    cartoon_context_free(ctx);
}

static void test_layers_im2col(void) { layers_with(CARTOON_CONV_IM2COL); }
static void test_layers_fast(void) { layers_with(CARTOON_CONV_FAST); }

static void end_to_end(cartoon_conv_algo algo)
{
    size_t n;
    char *idx = (char *)read_file_bytes(shared_path("reference/index.json"), &n);
    CHECK(idx != NULL);
    if (!idx) return;
    json_t *root = json_loadb(idx, n, 0, NULL);
    free(idx);
    json_t *cases = json_object_get(root, "cases");
    CHECK(json_array_size(cases) >= 5);
    cartoon_context_options o;
    cartoon_context_options_default(&o);
    o.device = CARTOON_DEVICE_CPU;
    o.conv = algo;
    cartoon_context *ctx = NULL;
    CHECK(cartoon_context_create(model, &o, &ctx, NULL, 0) == CARTOON_OK);
    for (size_t i = 0; i < json_array_size(cases); i++) {
        json_t *c = json_array_get(cases, i);
        const char *name = json_string_value(json_object_get(c, "name"));
        char rel[256];
        snprintf(rel, sizeof rel, "reference/%s", json_string_value(json_object_get(c, "input")));
        cartoon_image im;
        char err[256];
        CHECKF(cartoon_image_read(shared_path(rel), 0, &im, err, sizeof err) == CARTOON_OK, "%s: %s", rel, err);
        int h = (int)json_integer_value(json_object_get(c, "height")), w = (int)json_integer_value(json_object_get(c, "width"));
        CHECK(im.width == w && im.height == h && im.format == CARTOON_PIXEL_RGB);
        float *x = rgb_to_model_space(&im), *y = malloc((size_t)w * h * 3 * sizeof *y);
        CHECK(cartoon_forward(ctx, x, h, w, y) == CARTOON_OK);
        snprintf(rel, sizeof rel, "reference/%s", json_string_value(json_object_get(c, "output_float")));
        int nd;
        size_t dims[8];
        float *ref = npy_read_f32(shared_path(rel), &nd, dims);
        CHECK(ref && nd == 3 && (int)dims[0] == h && (int)dims[1] == w && dims[2] == 3);
        if (ref) {
            size_t cnt = (size_t)w * h * 3;
            double d = max_abs_diff(ref, y, cnt), p = psnr_model_space(ref, y, cnt);
            printf("    %-22s %s: max abs %.2e, PSNR %.1f dB (8-bit of the float output)\n", name,
                   algo == CARTOON_CONV_IM2COL ? "im2col" : "fast  ", d, p);
            CHECKF(d <= 1e-4, "%s: max abs %g > 1e-4", name, d);
            CHECKF(p >= 50, "%s: PSNR %g < 50 dB", name, p);
        }
        free(ref); free(x); free(y);
        cartoon_image_free(&im);
    }
    cartoon_context_free(ctx);
    json_decref(root);
}

static void test_e2e_im2col(void) { end_to_end(CARTOON_CONV_IM2COL); }
static void test_e2e_fast(void) { end_to_end(CARTOON_CONV_FAST); }

/* The 8-bit API at native resolution against the reference float output and PNG. */
static void test_api_u8(void)
{
    const char *names[] = {"astronaut_512x512", "chelsea_300x451_odd", "astronaut_64x96_crop"};
    cartoon_context *ctx = NULL;
    CHECK(cartoon_context_create(model, NULL, &ctx, NULL, 0) == CARTOON_OK);
    for (int i = 0; i < 3; i++) {
        char rel[256], err[256];
        cartoon_image im, refpng;
        snprintf(rel, sizeof rel, "reference/%s.in.png", names[i]);
        CHECK(cartoon_image_read(shared_path(rel), 0, &im, err, sizeof err) == CARTOON_OK);
        snprintf(rel, sizeof rel, "reference/%s.out.png", names[i]);
        CHECK(cartoon_image_read(shared_path(rel), 0, &refpng, err, sizeof err) == CARTOON_OK);
        snprintf(rel, sizeof rel, "reference/%s.out.npy", names[i]);
        int nd;
        size_t dims[8];
        float *ref = npy_read_f32(shared_path(rel), &nd, dims);
        size_t n = (size_t)im.width * im.height * 3;
        uint8_t *buf = malloc(n), *want = malloc(n);
        cartoon_image out = {buf, im.width, im.height, (size_t)im.width * 3, CARTOON_PIXEL_RGB};
        CHECK(unet_cartoonize(ctx, &im, &out, NULL) == CARTOON_OK);
        /* expected pixels straight from the float reference: BGR -> RGB, rounded */
        for (size_t p = 0; p < n / 3; p++)
            for (int c = 0; c < 3; c++) {
                double v = (ref[p * 3 + (2 - c)] + 1.0) * 127.5;
                want[p * 3 + c] = v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)(v + 0.5);
            }
        double p1 = psnr_u8(buf, want, n), p2 = psnr_u8(buf, refpng.data, n);
        int maxd = 0;
        for (size_t k = 0; k < n; k++) { int d = abs((int)buf[k] - refpng.data[k]); if (d > maxd) maxd = d; }
        printf("    %-22s 8-bit: %.1f dB vs float reference, %.1f dB vs reference PNG (max diff %d level)\n",
               names[i], p1, p2, maxd);
        CHECK(p1 >= 50 && p2 >= 50 && maxd <= 1);
        free(buf); free(want); free(ref);
        cartoon_image_free(&im);
        cartoon_image_free(&refpng);
    }
    cartoon_context_free(ctx);
}

static void fail_load(void) { CHECK(!"the converted model loads"); }

int main(void)
{
    const char *path = test_model_path();
    char err[512];
    if (!path || cartoon_model_load(path, NULL, &model, err, sizeof err) != CARTOON_OK) {
        if (!path) {
            skip_case("reference", "../shared/models not found (set CARTOON_SHARED)");
            return check_summary();
        }
        printf("cannot load %s: %s\n", path, err);
        run_case("load_model", fail_load);
        return check_summary();
    }
    run_case("layers_im2col", test_layers_im2col);
    run_case("layers_fast", test_layers_fast);
    run_case("end_to_end_im2col", test_e2e_im2col);
    run_case("end_to_end_fast", test_e2e_fast);
    run_case("unet_cartoonize_u8_native", test_api_u8);
    cartoon_model_free(model);
    return check_summary();
}
