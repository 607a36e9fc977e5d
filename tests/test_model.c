/* The model file: a small UNet built here from every supported op loads and computes what a
 * naive composition of the ops (written here) computes; and malformed files of every kind
 * are refused with their documented code and a message, never a crash. */
#include <math.h>
#include <string.h>
#include "cartoon.h"
#include "check.h"
#include "conv.h"
#include "half.h"
#include "safetensors_write.h"

/* ---- building model files */

typedef struct { const char *name; int ndim; int64_t shape[4]; float *data; } tens;

static uint8_t *build(const char *graph, const tens *t, int nt, const char *version, size_t *size)
{
    st_writer *w = ct_st_writer_new();
    for (int i = 0; i < nt; i++) ct_st_writer_add(w, t[i].name, ST_F32, t[i].ndim, t[i].shape, t[i].data);
    ct_st_writer_meta(w, "format", "libcartoon");
    ct_st_writer_meta(w, "format_version", version ? version : "1");
    ct_st_writer_meta(w, "name", "test-unet");
    if (graph) ct_st_writer_meta(w, "graph", graph);
    uint8_t *buf = NULL;
    ct_st_writer_serialize(w, &buf, size);
    ct_st_writer_free(w);
    return buf;
}

static size_t numel(const tens *t)
{
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
    return n;
}

/* A small UNet of every op: stride-2 conv, depthwise + pointwise (separable), upsample,
 * concat skip, 3x3 conv with a residual add, guided filter. */
static const char *GRAPH =
    "{\"input\": {\"name\": \"in\", \"channels\": 3, \"color_order\": \"BGR\", \"scale\": 0.00784313725490196, \"offset\": -1},"
    " \"pad_multiple\": 2, \"output\": \"gf\", \"nodes\": ["
    "{\"name\": \"down\", \"op\": \"conv2d\", \"inputs\": [\"in\"], \"kernel\": 3, \"stride\": 2, \"in_channels\": 3, \"out_channels\": 5, \"weight\": \"down.w\", \"bias\": \"down.b\", \"activation\": \"leaky_relu\", \"alpha\": 0.2},"
    "{\"name\": \"dw\", \"op\": \"depthwise_conv2d\", \"inputs\": [\"down\"], \"kernel\": 3, \"stride\": 1, \"channels\": 5, \"weight\": \"dw.w\", \"bias\": \"dw.b\", \"activation\": \"relu\"},"
    "{\"name\": \"pw\", \"op\": \"conv2d\", \"inputs\": [\"dw\"], \"kernel\": 1, \"stride\": 1, \"in_channels\": 5, \"out_channels\": 6, \"weight\": \"pw.w\", \"bias\": \"pw.b\", \"activation\": \"leaky_relu\", \"alpha\": 0.1},"
    "{\"name\": \"up\", \"op\": \"upsample\", \"inputs\": [\"pw\"], \"factor\": 2, \"mode\": \"bilinear_tf1\"},"
    "{\"name\": \"cat\", \"op\": \"concat\", \"inputs\": [\"up\", \"in\"]},"
    "{\"name\": \"mix\", \"op\": \"conv2d\", \"inputs\": [\"cat\"], \"kernel\": 3, \"stride\": 1, \"in_channels\": 9, \"out_channels\": 3, \"weight\": \"mix.w\", \"bias\": \"mix.b\"},"
    "{\"name\": \"res\", \"op\": \"add\", \"inputs\": [\"mix\", \"in\"]},"
    "{\"name\": \"gf\", \"op\": \"guided_filter\", \"inputs\": [\"in\", \"res\"], \"radius\": 1, \"eps\": 0.01}]}";

static tens T[8];

static void make_weights(void)
{
    static const tens shapes[8] = {
        {"down.w", 4, {5, 3, 3, 3}, 0}, {"down.b", 1, {5}, 0}, {"dw.w", 3, {3, 3, 5}, 0}, {"dw.b", 1, {5}, 0},
        {"pw.w", 4, {6, 1, 1, 5}, 0},   {"pw.b", 1, {6}, 0},   {"mix.w", 4, {3, 3, 3, 9}, 0}, {"mix.b", 1, {3}, 0}};
    for (int i = 0; i < 8; i++) {
        T[i] = shapes[i];
        size_t n = numel(&T[i]);
        T[i].data = malloc(n * sizeof(float));
        for (size_t k = 0; k < n; k++) T[i].data[k] = rng_uniform(-0.5f, 0.5f);
    }
}

/* ---- the expected output, from the definitions (h, w even: pad_multiple 2) */

static void expected(const float *x, int h, int w, float *out)
{
    ct_conv_shape s;
    int h2 = h / 2, w2 = w / 2;
    float *down = malloc((size_t)h2 * w2 * 5 * 4), *dw = malloc((size_t)h2 * w2 * 5 * 4);
    float *pw = malloc((size_t)h2 * w2 * 6 * 4), *cat = malloc((size_t)h * w * 9 * 4);
    float *res = malloc((size_t)h * w * 3 * 4);
    ct_epilogue e1 = {T[1].data, ACT_LEAKY_RELU, 0.2f, NULL, ACT_NONE, 0};
    ct_conv_shape_init(&s, h, w, 3, 5, 3, 2);
    ct_conv2d_naive(&s, x, T[0].data, &e1, down);
    for (int y = 0; y < h2; y++)           /* depthwise 3x3, SAME pad 1, relu */
        for (int xx = 0; xx < w2; xx++)
            for (int c = 0; c < 5; c++) {
                double a = T[3].data[c];
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        int yy = y + dy, xq = xx + dx;
                        if (yy < 0 || xq < 0 || yy >= h2 || xq >= w2) continue;
                        a += (double)down[((size_t)yy * w2 + xq) * 5 + c] * T[2].data[((dy + 1) * 3 + dx + 1) * 5 + c];
                    }
                dw[((size_t)y * w2 + xx) * 5 + c] = a > 0 ? (float)a : 0.f;
            }
    ct_epilogue e2 = {T[5].data, ACT_LEAKY_RELU, 0.1f, NULL, ACT_NONE, 0};
    ct_conv_shape_init(&s, h2, w2, 5, 6, 1, 1);
    ct_conv2d_naive(&s, dw, T[4].data, &e2, pw);
    for (int y = 0; y < h; y++)            /* upsample (spec rule) then concat with the input */
        for (int xx = 0; xx < w; xx++) {
            int y0 = y / 2, x0 = xx / 2, y1 = (y & 1) && y0 + 1 < h2 ? y0 + 1 : y0, x1 = (xx & 1) && x0 + 1 < w2 ? x0 + 1 : x0;
            float fy = (y & 1) ? 0.5f : 0.f, fx = (xx & 1) ? 0.5f : 0.f;
            for (int c = 0; c < 6; c++) {
#define P(a, b) pw[((size_t)(a) * w2 + (b)) * 6 + c]
                float v = (1 - fy) * ((1 - fx) * P(y0, x0) + fx * P(y0, x1)) + fy * ((1 - fx) * P(y1, x0) + fx * P(y1, x1));
#undef P
                cat[((size_t)y * w + xx) * 9 + c] = v;
            }
            for (int c = 0; c < 3; c++) cat[((size_t)y * w + xx) * 9 + 6 + c] = x[((size_t)y * w + xx) * 3 + c];
        }
    ct_epilogue e3 = {T[7].data, ACT_NONE, 0, x, ACT_NONE, 0};
    ct_conv_shape_init(&s, h, w, 9, 3, 3, 1);
    ct_conv2d_naive(&s, cat, T[6].data, &e3, res);
    for (int c = 0; c < 3; c++) {          /* guided filter, r = 1, eps = 0.01, in double */
        size_t n = (size_t)h * w;
        double *A = malloc(n * 8), *B = malloc(n * 8);
        for (int pass = 0; pass < 2; pass++)
            for (int y = 0; y < h; y++)
                for (int xx = 0; xx < w; xx++) {
                    double s1 = 0, s2 = 0, s3 = 0, s4 = 0; int cnt = 0;
                    for (int dy = -1; dy <= 1; dy++)
                        for (int dx = -1; dx <= 1; dx++) {
                            int yy = y + dy, xq = xx + dx;
                            if (yy < 0 || xq < 0 || yy >= h || xq >= w) continue;
                            size_t q = (size_t)yy * w + xq;
                            if (pass == 0) {
                                double g = x[q * 3 + c], v = res[q * 3 + c];
                                s1 += g; s2 += v; s3 += g * v; s4 += g * g;
                            } else { s1 += A[q]; s2 += B[q]; }
                            cnt++;
                        }
                    size_t p = (size_t)y * w + xx;
                    if (pass == 0) {
                        double mx = s1 / cnt, my = s2 / cnt;
                        double a = (s3 / cnt - mx * my) / (s4 / cnt - mx * mx + 0.01);
                        A[p] = a; B[p] = my - a * mx;
                    } else out[p * 3 + c] = (float)(s1 / cnt * x[p * 3 + c] + s2 / cnt);
                }
        free(A); free(B);
    }
    free(down); free(dw); free(pw); free(cat); free(res);
}

static void test_small_unet(void)
{
    size_t size;
    uint8_t *buf = build(GRAPH, T, 8, NULL, &size);
    cartoon_model *m = NULL;
    char err[256];
    CHECKF(cartoon_model_load_memory(buf, size, NULL, &m, err, sizeof err) == CARTOON_OK, "%s", err);
    cartoon_model_info info;
    CHECK(cartoon_model_get_info(m, &info) == CARTOON_OK);
    CHECKF(info.nodes == 9 && info.bgr == 1 && info.pad_multiple == 2 && !strcmp(info.name, "test-unet"), "%u %d %d %s", info.nodes, info.bgr, info.pad_multiple, info.name);
    CHECKF(info.parameters == 5 * 27 + 5 + 45 + 5 + 30 + 6 + 243 + 3, "%llu", (unsigned long long)info.parameters);
    CHECK(info.parameters == 5 * 27 + 5 + 45 + 5 + 30 + 6 + 243 + 3);
    int sizes[][2] = {{8, 12}, {7, 5}, {1, 1}, {30, 18}};
    for (int algo = 1; algo <= 2; algo++)
        for (int k = 0; k < 4; k++) {
            int h = sizes[k][0], w = sizes[k][1];
            int ph = (h + 1) / 2 * 2, pw_ = (w + 1) / 2 * 2;
            size_t n = (size_t)h * w * 3;
            float *x = malloc(n * 4), *got = malloc(n * 4), *xp = malloc((size_t)ph * pw_ * 12), *want = malloc((size_t)ph * pw_ * 12);
            for (size_t i = 0; i < n; i++) x[i] = rng_uniform(-1, 1);
            /* the expectation follows the documented rule: edge-pad to the multiple, crop */
            for (int y = 0; y < ph; y++)
                for (int xx = 0; xx < pw_; xx++)
                    for (int c = 0; c < 3; c++)
                        xp[((size_t)y * pw_ + xx) * 3 + c] = x[((size_t)(y < h ? y : h - 1) * w + (xx < w ? xx : w - 1)) * 3 + c];
            expected(xp, ph, pw_, want);
            cartoon_context_options o;
            cartoon_context_options_default(&o);
            o.conv = (cartoon_conv_algo)algo;
            o.threads = 2;
            cartoon_context *ctx = NULL;
            CHECK(cartoon_context_create(m, &o, &ctx, NULL, 0) == CARTOON_OK);
            CHECK(cartoon_forward(ctx, x, h, w, got) == CARTOON_OK);
            double d = 0;
            for (int y = 0; y < h; y++)
                for (int xx = 0; xx < w; xx++)
                    for (int c = 0; c < 3; c++)
                        d = fmax(d, fabs(got[((size_t)y * w + xx) * 3 + c] - want[((size_t)y * pw_ + xx) * 3 + c]));
            CHECKF(d < 1e-4, "small UNet %dx%d algo %d: max diff %g", h, w, algo, d);
            cartoon_context_free(ctx);
            free(x); free(got); free(xp); free(want);
        }
    cartoon_model_free(m);
    free(buf);
}

/* ---- refusals */

static cartoon_status load(const uint8_t *buf, size_t size, const cartoon_limits *lim, char *err, size_t n)
{
    cartoon_model *m = (cartoon_model *)&m; /* must be reset to NULL on failure */
    cartoon_status st = cartoon_model_load_memory(buf, size, lim, &m, err, n);
    if (st == CARTOON_OK) cartoon_model_free(m);
    else if (m != NULL) { check_failures_in_case++; fprintf(stderr, "  out not NULL after a failure\n"); }
    return st;
}

static void expect_graph(const char *graph, cartoon_status want, const char *needle)
{
    size_t size;
    uint8_t *buf = build(graph, T, 8, NULL, &size);
    char err[512] = "";
    cartoon_status st = load(buf, size, NULL, err, sizeof err);
    CHECKF(st == want && strstr(err, needle), "got %s '%s', want %s containing '%s'", cartoon_status_name(st), err,
           cartoon_status_name(want), needle);
    free(buf);
}

/* GRAPH with the first occurrence of `from` replaced by `to`. */
static char *edit(const char *from, const char *to)
{
    static char out[8192];
    const char *p = strstr(GRAPH, from);
    if (!p) { check_failures_in_case++; fprintf(stderr, "  edit: '%s' not in graph\n", from); strcpy(out, GRAPH); return out; }
    snprintf(out, sizeof out, "%.*s%s%s", (int)(p - GRAPH), GRAPH, to, p + strlen(from));
    return out;
}

static void test_bad_graphs(void)
{
    expect_graph(edit("\"inputs\": [\"down\"]", "\"inputs\": [\"nope\"]"), CARTOON_E_BAD_MODEL, "'nope'");
    expect_graph(edit("\"inputs\": [\"down\"]", "\"inputs\": [\"pw\"]"), CARTOON_E_BAD_MODEL, "earlier node");
    expect_graph(edit("\"inputs\": [\"down\"]", "\"inputs\": [\"dw\"]"), CARTOON_E_BAD_MODEL, "earlier node");
    expect_graph(edit("\"op\": \"upsample\"", "\"op\": \"warp\""), CARTOON_E_UNSUPPORTED, "unknown op");
    expect_graph(edit("\"weight\": \"pw.w\"", "\"weight\": \"missing.w\""), CARTOON_E_BAD_MODEL, "missing.w");
    expect_graph(edit("\"in_channels\": 5", "\"in_channels\": 4"), CARTOON_E_BAD_MODEL, "input channels");
    expect_graph(edit("\"out_channels\": 6", "\"out_channels\": 7"), CARTOON_E_BAD_MODEL, "shape");
    expect_graph(edit("\"kernel\": 3, \"stride\": 2", "\"kernel\": 4, \"stride\": 2"), CARTOON_E_UNSUPPORTED, "even kernel");
    expect_graph(edit("\"kernel\": 3, \"stride\": 2", "\"kernel\": 3, \"stride\": 3"), CARTOON_E_BAD_MODEL, "stride");
    expect_graph(edit("\"kernel\": 3, \"stride\": 2", "\"kernel\": 100001, \"stride\": 2"), CARTOON_E_BAD_MODEL, "kernel");
    expect_graph(edit("\"inputs\": [\"up\", \"in\"]", "\"inputs\": [\"pw\", \"in\"]"), CARTOON_E_BAD_MODEL, "different sizes");
    expect_graph(edit("\"inputs\": [\"mix\", \"in\"]", "\"inputs\": [\"mix\", \"cat\"]"), CARTOON_E_BAD_MODEL, "adds");
    expect_graph(edit("\"name\": \"dw\"", "\"name\": \"down\""), CARTOON_E_BAD_MODEL, "twice");
    expect_graph(edit("\"output\": \"gf\"", "\"output\": \"ghost\""), CARTOON_E_BAD_MODEL, "ghost");
    expect_graph(edit("\"output\": \"gf\"", "\"output\": \"pw\""), CARTOON_E_BAD_MODEL, "full resolution");
    expect_graph(edit("\"pad_multiple\": 2", "\"pad_multiple\": 3"), CARTOON_E_BAD_MODEL, "pad_multiple");
    expect_graph(edit("\"color_order\": \"BGR\"", "\"color_order\": \"XYZ\""), CARTOON_E_BAD_MODEL, "color_order");
    expect_graph(edit("\"eps\": 0.01", "\"eps\": -1"), CARTOON_E_BAD_MODEL, "eps");
    expect_graph(edit("\"activation\": \"relu\"", "\"activation\": \"gelu\""), CARTOON_E_UNSUPPORTED, "gelu");
    expect_graph(edit("{\"input\"", "[{\"input\""), CARTOON_E_BAD_MODEL, "JSON");
    expect_graph("{}", CARTOON_E_BAD_MODEL, "graph needs");
    expect_graph(edit("\"factor\": 2", "\"factor\": 3"), CARTOON_E_BAD_MODEL, "factor");
    /* an upsample straight from the input would go above full resolution */
    expect_graph(edit("\"inputs\": [\"pw\"], \"factor\"", "\"inputs\": [\"in\"], \"factor\""), CARTOON_E_BAD_MODEL, "above");
}

static void test_bad_metadata(void)
{
    size_t size;
    char err[512];
    uint8_t *buf = build(GRAPH, T, 8, "2", &size);
    CHECK(load(buf, size, NULL, err, sizeof err) == CARTOON_E_UNSUPPORTED && strstr(err, "newer"));
    free(buf);
    buf = build(GRAPH, T, 8, "one", &size);
    CHECK(load(buf, size, NULL, err, sizeof err) == CARTOON_E_BAD_MODEL && strstr(err, "format_version"));
    free(buf);
    buf = build(NULL, T, 8, NULL, &size);
    CHECK(load(buf, size, NULL, err, sizeof err) == CARTOON_E_BAD_MODEL && strstr(err, "graph is missing"));
    free(buf);
    /* non-finite weights */
    T[7].data[1] = NAN;
    buf = build(GRAPH, T, 8, NULL, &size);
    CHECK(load(buf, size, NULL, err, sizeof err) == CARTOON_E_BAD_MODEL && strstr(err, "non-finite"));
    T[7].data[1] = 0.25f;
    free(buf);
    /* limits */
    buf = build(GRAPH, T, 8, NULL, &size);
    cartoon_limits lim = {0};
    lim.max_tensors = 7;
    CHECK(load(buf, size, &lim, err, sizeof err) == CARTOON_E_LIMIT && strstr(err, "tensors"));
    lim.max_tensors = 0; lim.max_nodes = 5;
    CHECK(load(buf, size, &lim, err, sizeof err) == CARTOON_E_LIMIT && strstr(err, "nodes"));
    lim.max_nodes = 0; lim.max_model_bytes = 100;
    CHECK(load(buf, size, &lim, err, sizeof err) == CARTOON_E_LIMIT);
    free(buf);
}

/* Hand-written containers: a tiny valid one and its corruptions. */
static cartoon_status raw(const char *header, size_t data_bytes, char *err, size_t n)
{
    size_t hl = strlen(header), size = 8 + hl + data_bytes;
    uint8_t *buf = calloc(1, size);
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(buf + 8, header, hl);
    cartoon_status st = load(buf, size, NULL, err, n);
    free(buf);
    return st;
}

static void test_bad_containers(void)
{
    char err[512];
    CHECK(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, err, sizeof err) == CARTOON_E_BAD_MODEL &&
          strstr(err, "libcartoon")); /* a valid container without our metadata */
    CHECK(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8, err, sizeof err) == CARTOON_E_BAD_MODEL &&
          strstr(err, "outside"));
    CHECK(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, err, sizeof err) == CARTOON_E_BAD_MODEL &&
          strstr(err, "need"));
    CHECK(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1000000000000,1000000000000],\"data_offsets\":[0,8]}}", 8, err, sizeof err) ==
          CARTOON_E_BAD_MODEL);
    CHECK(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}}", 8, err, sizeof err) ==
          CARTOON_E_BAD_MODEL && strstr(err, "overflow"));
    CHECK(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, err, sizeof err) == CARTOON_E_BAD_MODEL);
    CHECK(raw("{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, err, sizeof err) == CARTOON_E_UNSUPPORTED &&
          strstr(err, "dtype"));
    CHECK(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
              8, err, sizeof err) == CARTOON_E_BAD_MODEL && strstr(err, "overlap"));
    CHECK(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, err, sizeof err) == CARTOON_E_BAD_MODEL);
    CHECK(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
              8, err, sizeof err) == CARTOON_E_BAD_MODEL);
    CHECK(raw("not json at all", 8, err, sizeof err) == CARTOON_E_BAD_MODEL && strstr(err, "JSON"));
    CHECK(raw("{\"__metadata__\": 5}", 0, err, sizeof err) == CARTOON_E_BAD_MODEL);
    uint8_t small[7] = {0};
    CHECK(load(small, sizeof small, NULL, err, sizeof err) == CARTOON_E_BAD_MODEL);
    uint8_t huge[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    CHECK(load(huge, sizeof huge, NULL, err, sizeof err) == CARTOON_E_BAD_MODEL && strstr(err, "header length"));
}

/* Every cut of a valid file, flipped bits and garbage: no crash, never OK for a cut. */
static void test_truncated_flipped_garbage(void)
{
    size_t size;
    uint8_t *buf = build(GRAPH, T, 8, NULL, &size);
    char err[512];
    int bad = 0;
    for (size_t cut = 0; cut < size; cut += (cut < 4096 ? 1 : 7)) {
        cartoon_status st = load(buf, cut, NULL, err, sizeof err);
        if (st == CARTOON_OK || !err[0]) bad++;
    }
    CHECKF(bad == 0, "%d truncations accepted or silent", bad);
    uint8_t *copy = malloc(size > 4096 ? size : 4096);
    int ok = 0;
    for (int i = 0; i < 3000; i++) {
        memcpy(copy, buf, size);
        for (int f = 0; f < 1 + i % 4; f++) { size_t at = rng_u32() % size; copy[at] ^= (uint8_t)(1u << (rng_u32() % 8)); }
        ok += load(copy, size, NULL, err, sizeof err) == CARTOON_OK;
    }
    printf("    3000 bit-flipped files: %d still loaded (flips in weight bytes or whitespace)\n", ok);
    for (int i = 0; i < 500; i++) {
        size_t n = rng_u32() % 4096;
        for (size_t k = 0; k < n; k++) copy[k] = (uint8_t)rng_u32();
        if (n >= 8 && i % 2) { uint64_t hl = rng_u32() % (n - 7); for (int b = 0; b < 8; b++) copy[b] = (uint8_t)(hl >> (8 * b)); }
        CHECK(load(copy, n, NULL, err, sizeof err) != CARTOON_OK);
    }
    free(copy);
    free(buf);
}

static void test_api_arguments(void)
{
    char err[256];
    cartoon_model *m = (cartoon_model *)&err;
    CHECK(cartoon_model_load(NULL, NULL, &m, err, sizeof err) == CARTOON_E_INVALID_ARGUMENT && m == NULL);
    CHECK(cartoon_model_load("x", NULL, NULL, err, sizeof err) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_model_load("/nonexistent/model.safetensors", NULL, &m, err, sizeof err) == CARTOON_E_IO &&
          strstr(err, "/nonexistent/model.safetensors"));
    CHECK(cartoon_model_load("/", NULL, &m, err, sizeof err) != CARTOON_OK); /* a directory */
    CHECK(cartoon_model_load_memory(NULL, 10, NULL, &m, err, sizeof err) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_model_load_memory("x", 1, NULL, &m, NULL, 0) == CARTOON_E_BAD_MODEL); /* NULL err is fine */
    cartoon_model_free(NULL);
    cartoon_model_info info;
    CHECK(cartoon_model_get_info(NULL, &info) == CARTOON_E_INVALID_ARGUMENT);
    for (int s = 0; s <= 9; s++) {
        CHECK(strlen(cartoon_strerror((cartoon_status)s)) > 3);
        CHECK(!strncmp(cartoon_status_name((cartoon_status)s), "CARTOON_", 8));
    }
    CHECK(!strcmp(cartoon_status_name((cartoon_status)77), "CARTOON_E_UNKNOWN"));
    CHECK(cartoon_version_number() == CARTOON_VERSION_NUMBER && !strcmp(cartoon_version_string(), CARTOON_VERSION_STRING));
    cartoon_limits lim;
    cartoon_limits_default(&lim);
    CHECK(lim.max_pixels == 100000000ull && lim.max_nodes == 1024);
}

int main(void)
{
    rng_seed(7);
    make_weights();
    run_case("small_unet_all_ops_vs_definitions", test_small_unet);
    run_case("bad_graphs_refused", test_bad_graphs);
    run_case("bad_metadata_and_limits", test_bad_metadata);
    run_case("bad_containers_refused", test_bad_containers);
    run_case("truncated_flipped_garbage", test_truncated_flipped_garbage);
    run_case("model_api_arguments", test_api_arguments);
    for (int i = 0; i < 8; i++) free(T[i].data);
    return check_summary();
}
