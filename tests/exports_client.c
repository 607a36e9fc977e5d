/* A program as a user of the installed libraries writes it: built by tests/test_exports.sh with
 * nothing but `pkg-config --cflags --libs libcartoon libcartoon-io` against a `make install`
 * prefix, so it sees only the public headers and the exported symbols. It calls every function
 * declared CARTOON_API in cartoon.h, cartoon_io.h and cartoon_batch.h (the script checks that each name appears
 * here as a call) with meaningful arguments and checks the results.
 *
 * The model is one it writes itself: a safetensors file with a one-node graph, a 1x1
 * convolution whose weights are the identity, so the network output equals its input and the
 * cartoon of a picture is the picture again (exactly when rounded, at most one level below it
 * when truncated).
 *
 * usage: exports_client WORKDIR     prints "ok NAME" / "FAIL NAME" lines and "TESTS p f 0" */
#define _POSIX_C_SOURCE 200809L
#include <cartoon.h>
#include <cartoon_io.h>
#include <cartoon_batch.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed, case_failures;
static const char *workdir;

#define CHECK(cond) do { if (!(cond)) { case_failures++; \
    fprintf(stderr, "  exports_client.c:%d: CHECK(%s) failed\n", __LINE__, #cond); } } while (0)

static void run(const char *name, void (*fn)(void))
{
    case_failures = 0;
    fn();
    if (case_failures) { failed++; printf("FAIL %s\n", name); }
    else { passed++; printf("ok   %s\n", name); }
    fflush(stdout);
}

static char model_path[1024];
static unsigned char *model_bytes;
static size_t model_size;

/* ------------------------------------------------------------------ the model file */

static void put_f32(unsigned char *p, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(u >> (8 * i)); /* little-endian */
}

/* docs/model-format.md: u64 header length, JSON header (metadata strings, tensor table), data. */
static int make_model(void)
{
    const char *graph =
        "{\\\"input\\\": {\\\"name\\\": \\\"in\\\", \\\"channels\\\": 3, \\\"color_order\\\": \\\"BGR\\\", "
        "\\\"scale\\\": 0.00784313725490196, \\\"offset\\\": -1}, \\\"pad_multiple\\\": 1, \\\"output\\\": \\\"id\\\", "
        "\\\"nodes\\\": [{\\\"name\\\": \\\"id\\\", \\\"op\\\": \\\"conv2d\\\", \\\"inputs\\\": [\\\"in\\\"], "
        "\\\"kernel\\\": 1, \\\"stride\\\": 1, \\\"in_channels\\\": 3, \\\"out_channels\\\": 3, "
        "\\\"weight\\\": \\\"id.weight\\\", \\\"bias\\\": \\\"id.bias\\\"}]}";
    char header[2048];
    int n = snprintf(header, sizeof header,
                     "{\"__metadata__\": {\"format\": \"libcartoon\", \"format_version\": \"1\", "
                     "\"name\": \"exports-client\", \"graph\": \"%s\"}, "
                     "\"id.weight\": {\"dtype\": \"F32\", \"shape\": [3, 1, 1, 3], \"data_offsets\": [0, 36]}, "
                     "\"id.bias\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [36, 48]}}",
                     graph);
    if (n < 0 || (size_t)n >= sizeof header - 8) return 0;
    while (n % 8) header[n++] = ' '; /* the data section 8-byte aligned, as the converter does */
    model_size = 8 + (size_t)n + 48;
    model_bytes = calloc(1, model_size);
    if (!model_bytes) return 0;
    for (int i = 0; i < 8; i++) model_bytes[i] = (unsigned char)((uint64_t)n >> (8 * i));
    memcpy(model_bytes + 8, header, (size_t)n);
    unsigned char *d = model_bytes + 8 + n;
    for (int o = 0; o < 3; o++)
        for (int i = 0; i < 3; i++) put_f32(d + 4 * (o * 3 + i), o == i ? 1.f : 0.f);
    for (int o = 0; o < 3; o++) put_f32(d + 36 + 4 * o, 0.f);
    snprintf(model_path, sizeof model_path, "%s/identity.safetensors", workdir);
    FILE *f = fopen(model_path, "wb");
    if (!f) return 0;
    int ok = fwrite(model_bytes, 1, model_size, f) == model_size;
    return fclose(f) == 0 && ok;
}

/* ------------------------------------------------------------------ cartoon.h */

static void test_version_and_status(void)
{
    CHECK(cartoon_version_number() == CARTOON_VERSION_NUMBER);
    CHECK(strcmp(cartoon_version_string(), CARTOON_VERSION_STRING) == 0);
    const char *isa = cartoon_cpu_isa();
    CHECK(isa && (!strcmp(isa, "generic") || !strcmp(isa, "avx2") || !strcmp(isa, "avx512") ||
                  !strcmp(isa, "avx512-bf16")));
    static const char *names[] = {"CARTOON_OK", "CARTOON_E_INVALID_ARGUMENT", "CARTOON_E_OUT_OF_MEMORY",
                                  "CARTOON_E_IO", "CARTOON_E_BAD_MODEL", "CARTOON_E_UNSUPPORTED",
                                  "CARTOON_E_BAD_IMAGE", "CARTOON_E_LIMIT", "CARTOON_E_DEVICE",
                                  "CARTOON_E_INTERNAL"};
    for (int s = CARTOON_OK; s <= CARTOON_E_INTERNAL; s++) {
        CHECK(strcmp(cartoon_status_name((cartoon_status)s), names[s]) == 0);
        const char *t = cartoon_strerror((cartoon_status)s);
        CHECK(t && strlen(t) > 3);
        for (int u = 0; u < s; u++) CHECK(strcmp(t, cartoon_strerror((cartoon_status)u)) != 0);
    }
    CHECK(strcmp(cartoon_status_name((cartoon_status)42), "CARTOON_E_UNKNOWN") == 0);
    CHECK(cartoon_strerror((cartoon_status)-1) != NULL && strlen(cartoon_strerror((cartoon_status)-1)) > 0);
}

static void test_defaults(void)
{
    cartoon_limits l;
    memset(&l, 0xff, sizeof l);
    cartoon_limits_default(&l);
    CHECK(l.max_pixels == CARTOON_DEFAULT_MAX_PIXELS && l.max_model_bytes == CARTOON_DEFAULT_MAX_MODEL_BYTES &&
          l.max_tensors == CARTOON_DEFAULT_MAX_TENSORS && l.max_nodes == CARTOON_DEFAULT_MAX_NODES);
    cartoon_context_options co;
    memset(&co, 0xff, sizeof co);
    cartoon_context_options_default(&co);
    CHECK(co.device == CARTOON_DEVICE_AUTO && co.precision == CARTOON_PRECISION_FP32 &&
          co.conv == CARTOON_CONV_AUTO && co.threads == 0 && co.max_pixels == 0 &&
          co.device_memory_budget == 0 && co.verbose == 0);
    cartoon_options o;
    memset(&o, 0xff, sizeof o);
    cartoon_options_default(&o);
    CHECK(o.resolution == 0 && o.strength == 1.f && o.keep_model_size == 0 &&
          o.quantize == CARTOON_QUANTIZE_TRUNCATE);
    CHECK(cartoon_pixel_size(CARTOON_PIXEL_RGB) == 3 && cartoon_pixel_size(CARTOON_PIXEL_BGR) == 3 &&
          cartoon_pixel_size(CARTOON_PIXEL_RGBA) == 4 && cartoon_pixel_size(CARTOON_PIXEL_BGRA) == 4 &&
          cartoon_pixel_size((cartoon_pixel_format)9) == 0);
    int w = 0, h = 0;
    CHECK(cartoon_output_size(NULL, 640, 480, &w, &h) == CARTOON_OK && w == 640 && h == 480);
    o.resolution = 320;
    CHECK(cartoon_output_size(&o, 640, 480, &w, &h) == CARTOON_OK && w == 640 && h == 480);
    o.keep_model_size = 1;
    CHECK(cartoon_output_size(&o, 640, 480, &w, &h) == CARTOON_OK && w == 320 && h == 240);
    o.strength = 2.f;
    CHECK(cartoon_output_size(&o, 640, 480, &w, &h) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_output_size(NULL, 0, 480, &w, &h) == CARTOON_E_INVALID_ARGUMENT);
}

static void test_model_load_and_find(void)
{
    char err[256] = "";
    cartoon_model *m = (cartoon_model *)&m;
    CHECK(cartoon_model_load(model_path, NULL, &m, err, sizeof err) == CARTOON_OK && m != NULL);
    cartoon_model_info info;
    CHECK(cartoon_model_get_info(m, &info) == CARTOON_OK);
    CHECK(info.format_version == 1 && info.nodes == 2 && info.parameters == 12 && info.input_channels == 3 &&
          info.bgr == 1 && info.pad_multiple == 1 && info.name && strcmp(info.name, "exports-client") == 0);
    CHECK(cartoon_model_get_info(NULL, &info) == CARTOON_E_INVALID_ARGUMENT);
    cartoon_model_free(m);
    cartoon_model_free(NULL);
    /* the same bytes from memory; a limit; error paths */
    cartoon_model *m2 = NULL;
    CHECK(cartoon_model_load_memory(model_bytes, model_size, NULL, &m2, err, sizeof err) == CARTOON_OK && m2);
    cartoon_model_free(m2);
    cartoon_limits l;
    cartoon_limits_default(&l);
    l.max_model_bytes = 64;
    m2 = (cartoon_model *)&m2;
    CHECK(cartoon_model_load(model_path, &l, &m2, err, sizeof err) == CARTOON_E_LIMIT && m2 == NULL && err[0]);
    char missing[1100];
    snprintf(missing, sizeof missing, "%s/no-such-model.safetensors", workdir);
    err[0] = 0;
    CHECK(cartoon_model_load(missing, NULL, &m2, err, sizeof err) == CARTOON_E_IO && m2 == NULL && err[0]);
    static const unsigned char junk[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{'};
    CHECK(cartoon_model_load_memory(junk, sizeof junk, NULL, &m2, NULL, 0) == CARTOON_E_BAD_MODEL && m2 == NULL);
    CHECK(cartoon_model_load(NULL, NULL, &m2, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);

    /* the default model: $CARTOON_MODEL decides when set */
    char path[4096], searched[16384];
    CHECK(setenv("CARTOON_MODEL", model_path, 1) == 0);
    CHECK(cartoon_model_find_default(path, sizeof path, searched, sizeof searched) == CARTOON_OK &&
          strcmp(path, model_path) == 0 && strstr(searched, model_path) != NULL);
    CHECK(setenv("CARTOON_MODEL", missing, 1) == 0);
    CHECK(cartoon_model_find_default(path, sizeof path, NULL, 0) == CARTOON_E_IO && path[0] == 0);
    CHECK(cartoon_model_find_default(NULL, 0, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    /* with either preference: $CARTOON_MODEL still decides */
    CHECK(setenv("CARTOON_MODEL", model_path, 1) == 0);
    CHECK(cartoon_model_find(CARTOON_MODEL_PREFER_STUDENT, path, sizeof path, NULL, 0) == CARTOON_OK &&
          strcmp(path, model_path) == 0);
    CHECK(cartoon_model_find((cartoon_model_preference)7, path, sizeof path, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    unsetenv("CARTOON_MODEL");
}

static cartoon_model *model;

struct seen { int calls, conv; const float *data; };
static void observer(void *user, const cartoon_layer_info *li)
{
    struct seen *s = user;
    s->calls++;
    if (li->op && strcmp(li->op, "conv2d") == 0 && li->kernel == 1 && li->out_c == 3 && li->data) s->conv++;
}

static void test_context_and_forward(void)
{
    char err[256] = "";
    cartoon_context_options co;
    cartoon_context_options_default(&co);
    co.device = CARTOON_DEVICE_CPU;
    co.threads = 2;
    cartoon_context *c = NULL;
    CHECK(cartoon_context_create(model, &co, &c, err, sizeof err) == CARTOON_OK && c);
    if (!c) return;
    CHECK(cartoon_context_device(c) == CARTOON_DEVICE_CPU);
    CHECK(cartoon_context_last_error(c) && cartoon_context_last_error(c)[0] == 0);
    struct seen s = {0, 0, NULL};
    CHECK(cartoon_context_set_observer(c, observer, &s, 1) == CARTOON_OK);
    enum { W = 9, H = 6 };
    float x[W * H * 3], y[W * H * 3];
    for (int i = 0; i < W * H * 3; i++) x[i] = (float)((i * 29) % 255) / 127.5f - 1.f;
    CHECK(cartoon_forward(c, x, H, W, y) == CARTOON_OK);
    int same = 1;
    for (int i = 0; i < W * H * 3; i++) same &= y[i] == x[i]; /* the identity network */
    CHECK(same);
    CHECK(s.calls == 2 && s.conv == 1);
    CHECK(cartoon_context_arena_bytes(c) > 0);
    CHECK(cartoon_context_set_observer(c, NULL, NULL, 0) == CARTOON_OK);
    CHECK(cartoon_forward(c, NULL, H, W, y) == CARTOON_E_INVALID_ARGUMENT && cartoon_context_last_error(c)[0]);
    CHECK(cartoon_forward(c, x, H, W, y) == CARTOON_OK && s.calls == 2 && cartoon_context_last_error(c)[0] == 0);
    cartoon_context_free(c);
    cartoon_context_free(NULL);
    CHECK(cartoon_context_last_error(NULL) != NULL);
    co.precision = CARTOON_PRECISION_BF16;
    c = (cartoon_context *)&c;
    if (!strcmp(cartoon_cpu_isa(), "avx512-bf16")) { /* bf16 runs exactly where AVX512_BF16 kernels run */
        CHECK(cartoon_context_create(model, &co, &c, err, sizeof err) == CARTOON_OK && c != NULL);
        cartoon_context_free(c);
    } else
        CHECK(cartoon_context_create(model, &co, &c, err, sizeof err) == CARTOON_E_UNSUPPORTED && c == NULL && err[0]);
    CHECK(cartoon_context_create(NULL, NULL, &c, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
}

static void test_cartoonize(void)
{
    cartoon_context_options co;
    cartoon_context_options_default(&co);
    co.device = CARTOON_DEVICE_CPU;
    cartoon_context *c = NULL;
    CHECK(cartoon_context_create(model, &co, &c, NULL, 0) == CARTOON_OK && c);
    if (!c) return;
    enum { W = 17, H = 11 };
    uint8_t in[W * H * 4], out[W * H * 4];
    for (int i = 0; i < W * H * 4; i++) in[i] = (uint8_t)(i * 7 + i / 5);
    cartoon_image a = {in, W, H, W * 4, CARTOON_PIXEL_RGBA}, b = {out, W, H, W * 4, CARTOON_PIXEL_BGRA};
    cartoon_options o;
    cartoon_options_default(&o);
    /* the identity network: rounded, the picture itself; truncated (the default, like the
     * original program), the same or one level below, never above */
    o.quantize = CARTOON_QUANTIZE_ROUND;
    CHECK(unet_cartoonize(c, &a, &b, &o) == CARTOON_OK);
    int exact = 1, alpha = 1;
    for (int p = 0; p < W * H; p++) {
        exact &= out[p * 4] == in[p * 4 + 2] && out[p * 4 + 1] == in[p * 4 + 1] && out[p * 4 + 2] == in[p * 4];
        alpha &= out[p * 4 + 3] == in[p * 4 + 3];
    }
    CHECK(exact && alpha);
    CHECK(unet_cartoonize(c, &a, &b, NULL) == CARTOON_OK);
    int close = 1;
    for (int p = 0; p < W * H; p++)
        for (int k = 0; k < 3; k++) {
            int d = in[p * 4 + k] - out[p * 4 + 2 - k];
            close &= d == 0 || d == 1;
        }
    CHECK(close);
    /* strength 0 is the input exactly */
    o.strength = 0.f;
    o.quantize = CARTOON_QUANTIZE_TRUNCATE;
    cartoon_image rgb = {out, W, H, W * 3, CARTOON_PIXEL_RGB};
    CHECK(unet_cartoonize(c, &a, &rgb, &o) == CARTOON_OK);
    int same = 1;
    for (int p = 0; p < W * H; p++)
        for (int k = 0; k < 3; k++) same &= out[p * 3 + k] == in[p * 4 + k];
    CHECK(same);
    /* refusals, with a message */
    o.quantize = (cartoon_quantize)5;
    CHECK(unet_cartoonize(c, &a, &b, &o) == CARTOON_E_INVALID_ARGUMENT && cartoon_context_last_error(c)[0]);
    cartoon_image small = {out, 3, 3, 12, CARTOON_PIXEL_RGBA};
    CHECK(unet_cartoonize(c, &a, &small, NULL) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(unet_cartoonize(NULL, &a, &b, NULL) == CARTOON_E_INVALID_ARGUMENT);
    cartoon_context_free(c);
}

/* The cost model: an estimate before and after a calibration (no cache file involved). */
static void test_estimate_and_calibrate(void)
{
    char cache[1100];
    snprintf(cache, sizeof cache, "%s/cache", workdir);
    CHECK(setenv("CARTOON_CACHE_DIR", cache, 1) == 0); /* an empty cache of our own */
    cartoon_context_options co;
    cartoon_context_options_default(&co);
    co.device = CARTOON_DEVICE_CPU;
    co.threads = 1;
    cartoon_context *c = NULL;
    CHECK(cartoon_context_create(model, &co, &c, NULL, 0) == CARTOON_OK && c);
    if (!c) return;
    cartoon_options o;
    cartoon_options_default(&o);
    o.resolution = 50;
    cartoon_estimate e;
    memset(&e, 0, sizeof e);
    CHECK(cartoon_estimate_cost(c, 200, 100, &o, &e) == CARTOON_OK);
    /* working size 50 x 25, output at the input size; a 1x1 convolution 3 -> 3: 18 FLOPs a pixel */
    CHECK(e.width == 50 && e.height == 25 && e.padded_width == 50 && e.padded_height == 25 &&
          e.out_width == 200 && e.out_height == 100);
    CHECK(e.flops >= 18.0 * 50 * 25 && e.flops < 1e6 && e.seconds > 0 && e.arena_bytes > 0 &&
          e.host_bytes >= e.arena_bytes && e.device_bytes == 0 && e.calibrated == CARTOON_CALIBRATION_NONE);
    CHECK(cartoon_estimate_cost(c, 0, 100, &o, &e) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_context_calibrate(c, 0x80u) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_context_calibrate(c, CARTOON_CALIBRATE_NO_CACHE) == CARTOON_OK);
    CHECK(cartoon_estimate_cost(c, 200, 100, &o, &e) == CARTOON_OK && e.seconds > 0 &&
          e.calibrated == CARTOON_CALIBRATION_MEASURED);
    /* resolution auto: generous budgets keep the native size; a memory budget below the
     * native prediction picks a smaller one that fits it */
    cartoon_options a = o, r;
    char why[256];
    a.resolution = CARTOON_RESOLUTION_AUTO;
    a.time_budget = 1e6;
    a.memory_budget = 1ull << 40;
    CHECK(cartoon_resolve_options(c, 200, 100, &a, &r, why, sizeof why) == CARTOON_OK && r.resolution == 0 &&
          strstr(why, "resolution auto") != NULL);
    cartoon_options native = o;
    native.resolution = 0;
    CHECK(cartoon_estimate_cost(c, 200, 100, &native, &e) == CARTOON_OK);
    a.memory_budget = e.host_bytes - 1;
    CHECK(cartoon_resolve_options(c, 200, 100, &a, &r, NULL, 0) == CARTOON_OK && r.resolution > 0 &&
          r.resolution < 200);
    CHECK(cartoon_estimate_cost(c, 200, 100, &r, &e) == CARTOON_OK && e.host_bytes <= a.memory_budget);
    CHECK(cartoon_resolve_options(NULL, 200, 100, &a, &r, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    cartoon_context_free(c);
    unsetenv("CARTOON_CACHE_DIR");
}

/* ------------------------------------------------------------------ cartoon_io.h */

/* The article's table: preview 512/0.5/JPEG, social 1024/0.7/WebP, print 2048/0.9/PNG,
 * low-end 512/0.6/JPEG; the quick ones (preview, low-end) prefer the built-in student. */
static void test_presets(void)
{
    static const struct { const char *name, *format; int resolution; float strength; int student; } want[] = {
        {"preview", "jpg", 512, 0.5f, 1}, {"social", "webp", 1024, 0.7f, 0},
        {"print", "png", 2048, 0.9f, 0}, {"low-end", "jpg", 512, 0.6f, 1}};
    int n = -1;
    const cartoon_preset *all = cartoon_presets(&n);
    CHECK(all && n == 4);
    for (int i = 0; i < 4; i++) {
        const cartoon_preset *p = cartoon_preset_find(want[i].name);
        CHECK(p && p == &all[i] && !strcmp(p->format, want[i].format) && p->resolution == want[i].resolution &&
              p->strength == want[i].strength && p->quality >= 1 && p->quality <= 100 && p->use && *p->use &&
              p->prefer_student == want[i].student);
    }
    CHECK(cartoon_preset_find("Preview") == NULL && cartoon_preset_find("") == NULL && cartoon_preset_find(NULL) == NULL);
    CHECK(cartoon_presets(NULL) == all);
}

static void test_image_io(void)
{
    char err[256] = "";
    CHECK(cartoon_file_format_from_path("a/b.png") == CARTOON_FILE_PNG);
    CHECK(cartoon_file_format_from_path("B.JPG") == CARTOON_FILE_JPEG);
    CHECK(cartoon_file_format_from_path("c.jpeg") == CARTOON_FILE_JPEG);
    CHECK(cartoon_file_format_from_path("d.webp") == CARTOON_FILE_WEBP);
    CHECK(cartoon_file_format_from_path("e.bmp") == CARTOON_FILE_AUTO);
    cartoon_write_options wo;
    memset(&wo, 0xff, sizeof wo);
    cartoon_write_options_default(&wo);
    CHECK(wo.quality == 90 && wo.lossless == 0 && wo.png_compression == 4);

    enum { W = 13, H = 7 };
    uint8_t px[W * H * 4];
    for (int i = 0; i < W * H * 4; i++) px[i] = (uint8_t)(i * 11 + (i % 4 == 3 ? 100 : 0));
    cartoon_image img = {px, W, H, W * 4, CARTOON_PIXEL_RGBA};
    const cartoon_file_format fmts[] = {CARTOON_FILE_PNG, CARTOON_FILE_WEBP, CARTOON_FILE_JPEG};
    for (int f = 0; f < 3; f++) {
        unsigned char *enc = NULL;
        size_t n = 0;
        cartoon_write_options o;
        cartoon_write_options_default(&o);
        o.lossless = 1;
        CHECK(cartoon_image_encode(&img, fmts[f], &o, &enc, &n, err, sizeof err) == CARTOON_OK && enc && n > 0);
        CHECK(cartoon_file_format_sniff(enc, n) == fmts[f]);
        cartoon_image dec;
        CHECK(cartoon_image_decode(enc, n, 0, &dec, err, sizeof err) == CARTOON_OK);
        CHECK(dec.width == W && dec.height == H);
        if (fmts[f] != CARTOON_FILE_JPEG) { /* lossless with alpha: the same pixels */
            CHECK(dec.format == CARTOON_PIXEL_RGBA && dec.stride == W * 4 && dec.data &&
                  memcmp(dec.data, px, sizeof px) == 0);
        } else {
            CHECK(dec.format == CARTOON_PIXEL_RGB); /* JPEG drops alpha */
        }
        cartoon_image_free(&dec);
        CHECK(dec.data == NULL);
        CHECK(cartoon_image_decode(enc, n / 3, 0, &dec, err, sizeof err) == CARTOON_E_BAD_IMAGE && err[0]);
        CHECK(cartoon_image_decode(enc, n, 10, &dec, NULL, 0) == CARTOON_E_LIMIT);
        free(enc);
    }
    CHECK(cartoon_file_format_sniff("hello", 5) == CARTOON_FILE_AUTO);
    unsigned char *enc = NULL;
    size_t n = 0;
    CHECK(cartoon_image_encode(&img, CARTOON_FILE_AUTO, NULL, &enc, &n, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);

    /* files: write, read back, refuse an unknown extension, a missing file */
    char path[1100];
    snprintf(path, sizeof path, "%s/picture.png", workdir);
    CHECK(cartoon_image_write(path, &img, CARTOON_FILE_AUTO, NULL, err, sizeof err) == CARTOON_OK);
    cartoon_image back;
    CHECK(cartoon_image_read(path, 0, &back, err, sizeof err) == CARTOON_OK);
    CHECK(back.width == W && back.height == H && back.format == CARTOON_PIXEL_RGBA && back.data &&
          memcmp(back.data, px, sizeof px) == 0);
    cartoon_image_free(&back);
    cartoon_image_free(NULL);
    snprintf(path, sizeof path, "%s/picture.bmp", workdir);
    CHECK(cartoon_image_write(path, &img, CARTOON_FILE_AUTO, NULL, err, sizeof err) == CARTOON_E_INVALID_ARGUMENT);
    snprintf(path, sizeof path, "%s/missing.png", workdir);
    CHECK(cartoon_image_read(path, 0, &back, err, sizeof err) == CARTOON_E_IO && back.data == NULL);
}

/* The batch runner: three inputs (the second corrupt), one result to a file, one handed back
 * as bytes; events in item order; the identity network rounded gives the pictures back. */
struct batch_seen {
    size_t order[4], n;
    int outcome[4];
    unsigned char *bytes;
    size_t size;
};
static void batch_event(void *user, const cartoon_batch_event *ev)
{
    struct batch_seen *s = user;
    if (s->n < 4) {
        s->order[s->n] = ev->index;
        s->outcome[s->n++] = ev->outcome;
    }
    if (ev->data && (s->bytes = malloc(ev->size))) {
        memcpy(s->bytes, ev->data, ev->size);
        s->size = ev->size;
    }
}
static int empty_source(void *user, cartoon_batch_item *item)
{
    (void)user;
    (void)item;
    return 0;
}
static void test_batch(void)
{
    cartoon_context *c = NULL;
    CHECK(cartoon_context_create(model, NULL, &c, NULL, 0) == CARTOON_OK && c);
    if (!c) return;
    enum { W = 13, H = 9 };
    uint8_t px[W * H * 3];
    for (int i = 0; i < W * H * 3; i++) px[i] = (uint8_t)(i * 5 + 3);
    cartoon_image img = {px, W, H, W * 3, CARTOON_PIXEL_RGB};
    char in0[1100], in1[1100], out0[1100], out1[1100];
    snprintf(in0, sizeof in0, "%s/batch_in0.png", workdir);
    snprintf(in1, sizeof in1, "%s/batch_in1.png", workdir);
    snprintf(out0, sizeof out0, "%s/batch_out0.png", workdir);
    snprintf(out1, sizeof out1, "%s/batch_out1.png", workdir);
    CHECK(cartoon_image_write(in0, &img, CARTOON_FILE_AUTO, NULL, NULL, 0) == CARTOON_OK);
    FILE *f = fopen(in1, "wb");
    if (f) { fputs("not a picture", f); fclose(f); }
    cartoon_batch_item items[3] = {{.input = in0, .output = out0, .format = CARTOON_FILE_AUTO},
                                   {.input = in1, .output = out1, .format = CARTOON_FILE_AUTO},
                                   {.input = in0, .output = NULL, .format = CARTOON_FILE_PNG}};
    cartoon_batch_options bo;
    cartoon_batch_options_default(&bo);
    bo.opt.quantize = CARTOON_QUANTIZE_ROUND;
    struct batch_seen seen = {0};
    bo.on_item = batch_event;
    bo.user = &seen;
    size_t sum[3];
    char err[256];
    CHECK(cartoon_batch_run(&c, 1, items, 3, &bo, sum, err, sizeof err) == CARTOON_OK);
    CHECK(sum[0] == 2 && sum[1] == 1 && sum[2] == 0);
    CHECK(seen.n == 3 && seen.order[0] == 0 && seen.order[1] == 1 && seen.order[2] == 2);
    CHECK(seen.outcome[0] == CARTOON_BATCH_DONE && seen.outcome[1] == CARTOON_BATCH_FAILED &&
          seen.outcome[2] == CARTOON_BATCH_DONE);
    cartoon_image a = {0}, b = {0};
    CHECK(cartoon_image_read(out0, 0, &a, NULL, 0) == CARTOON_OK && a.width == W && a.height == H &&
          !memcmp(a.data, px, sizeof px));
    CHECK(seen.bytes && cartoon_image_decode(seen.bytes, seen.size, 0, &b, NULL, 0) == CARTOON_OK &&
          b.width == W && !memcmp(b.data, px, sizeof px));
    FILE *g = fopen(out1, "rb");
    CHECK(g == NULL); /* the failed item wrote nothing */
    if (g) fclose(g);
    cartoon_image_free(&a);
    cartoon_image_free(&b);
    free(seen.bytes);
    CHECK(cartoon_batch_run(NULL, 1, items, 3, NULL, NULL, err, sizeof err) == CARTOON_E_INVALID_ARGUMENT && err[0]);
    /* the result cache: the second run of the same input is a hit, with the same bytes */
    char cdir[1100];
    snprintf(cdir, sizeof cdir, "%s/result-cache", workdir);
    cartoon_result_cache *rc = NULL;
    CHECK(cartoon_result_cache_open(cdir, model_path, 0, 0, &rc, err, sizeof err) == CARTOON_OK && rc);
    bo.cache = rc;
    for (int rep = 0; rep < 2; rep++) {
        memset(&seen, 0, sizeof seen);
        CHECK(cartoon_batch_run(&c, 1, items + 2, 1, &bo, sum, NULL, 0) == CARTOON_OK && sum[0] == 1);
        CHECK(seen.bytes && cartoon_image_decode(seen.bytes, seen.size, 0, &b, NULL, 0) == CARTOON_OK &&
              !memcmp(b.data, px, sizeof px));
        cartoon_image_free(&b);
        free(seen.bytes);
    }
    uint64_t cst[6];
    cartoon_result_cache_stats(rc, cst);
    CHECK(cst[0] == 1 && cst[2] == 1 && cst[3] == 1);
    cartoon_result_cache_close(rc);
    /* the stream form: no source is refused; an empty source is an empty run */
    CHECK(cartoon_batch_run_stream(&c, 1, NULL, NULL, NULL, NULL, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_batch_run_stream(&c, 1, empty_source, NULL, NULL, sum, NULL, 0) == CARTOON_OK && sum[0] == 0);
    cartoon_context_free(c);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: exports_client WORKDIR\n");
        return 2;
    }
    workdir = argv[1];
    run("version_status_names", test_version_and_status);
    run("defaults_sizes", test_defaults);
    run("presets", test_presets);
    if (!make_model()) {
        printf("FAIL write_model: cannot write %s\n", model_path);
        failed++;
    } else {
        run("model_load_and_find", test_model_load_and_find);
        char err[256] = "";
        if (cartoon_model_load(model_path, NULL, &model, err, sizeof err) != CARTOON_OK) {
            printf("FAIL load_model: %s\n", err);
            failed++;
        } else {
            run("context_observer_forward", test_context_and_forward);
            run("unet_cartoonize", test_cartoonize);
            run("estimate_and_calibrate", test_estimate_and_calibrate);
            run("batch_run", test_batch);
            cartoon_model_free(model);
        }
    }
    run("image_io", test_image_io);
    free(model_bytes);
    printf("TESTS %d %d 0\n", passed, failed);
    return failed != 0;
}
