/* The TFLite -> libcartoon converter, the safetensors writer and the fp16/bf16 conversions. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert_whitebox.h"
#include "half.h"
#include "safetensors_write.h"
#include "support/check.h"
#include "tflite_reader.h"

#define MODEL_REL "models/whitebox_cartoon_gan_fp16.tflite"

static uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* ------------------------------------------------------------------ fp16 / bf16 */

static void test_fp16_all_values(void)
{
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = ct_half_to_float((uint16_t)h);
        uint16_t back = ct_float_to_half(f);
        int is_nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
        if (is_nan) {
            if (!isnan(f) || (back & 0x7c00) != 0x7c00 || !(back & 0x3ff)) bad++;
        } else if (back != h) {
            if (bad++ < 5) fprintf(stderr, "  half 0x%04x -> %g -> 0x%04x\n", h, (double)f, back);
        }
    }
    CHECKF(bad == 0, "%d half values do not round-trip", bad);
    /* Widening against the definition: value = (-1)^s * 2^(e-15) * (1 + m/1024), subnormals
     * 2^-14 * m/1024. */
    for (uint32_t h = 0; h < 0x7c00; h += 7) {
        int e = (int)(h >> 10), m = (int)(h & 0x3ff);
        double want = e ? ldexp(1.0 + m / 1024.0, e - 15) : ldexp(m / 1024.0, -14);
        CHECKF((double)ct_half_to_float((uint16_t)h) == want, "half 0x%04x", h);
        CHECK((double)ct_half_to_float((uint16_t)(h | 0x8000)) == -want);
    }
    CHECK(isinf(ct_half_to_float(0x7c00)) && ct_half_to_float(0x7c00) > 0);
    CHECK(isinf(ct_half_to_float(0xfc00)) && ct_half_to_float(0xfc00) < 0);
}

static void test_fp16_rounding(void)
{
    /* Every midpoint between neighbouring finite halves rounds to the even one; one float ulp
     * either side rounds to the nearer. */
    int bad = 0;
    for (uint32_t h = 0; h < 0x7bff; h++) {
        double lo = ct_half_to_float((uint16_t)h), hi = ct_half_to_float((uint16_t)(h + 1));
        float mid = (float)((lo + hi) / 2); /* exact: halves have 11 significant bits */
        uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
        if (ct_float_to_half(mid) != even) bad++;
        if (ct_float_to_half(bitsf(fbits(mid) - 1)) != h) bad++;
        if (ct_float_to_half(bitsf(fbits(mid) + 1)) != h + 1) bad++;
        if (ct_float_to_half(-mid) != (even | 0x8000)) bad++;
    }
    CHECKF(bad == 0, "%d rounding errors at midpoints", bad);
    CHECK(ct_float_to_half(1.0f) == 0x3c00);
    CHECK(ct_float_to_half(1.0f + 0x1p-11f) == 0x3c00);      /* tie -> even */
    CHECK(ct_float_to_half(1.0f + 3 * 0x1p-11f) == 0x3c02);  /* tie -> even (up) */
    CHECK(ct_float_to_half(65504.0f) == 0x7bff);
    CHECK(ct_float_to_half(65519.99f) == 0x7bff);
    CHECK(ct_float_to_half(65520.0f) == 0x7c00);             /* tie above max -> inf */
    CHECK(ct_float_to_half(1e30f) == 0x7c00);
    CHECK(ct_float_to_half(-1e30f) == 0xfc00);
    CHECK(ct_float_to_half(INFINITY) == 0x7c00);
    CHECK(ct_float_to_half(-INFINITY) == 0xfc00);
    uint16_t n = ct_float_to_half(NAN);
    CHECK((n & 0x7c00) == 0x7c00 && (n & 0x3ff));
    n = ct_float_to_half(bitsf(0x7f800001u)); /* signalling NaN with a low payload stays NaN */
    CHECK((n & 0x7c00) == 0x7c00 && (n & 0x3ff));
    CHECK(ct_float_to_half(0x1p-14f) == 0x0400);              /* smallest normal */
    CHECK(ct_float_to_half(0x1p-24f) == 0x0001);              /* smallest subnormal */
    CHECK(ct_float_to_half(0x1p-25f) == 0x0000);              /* tie -> even 0 */
    CHECK(ct_float_to_half(bitsf(fbits(0x1p-25f) + 1)) == 0x0001);
    CHECK(ct_float_to_half(3 * 0x1p-25f) == 0x0002);          /* tie 1.5 ulp -> even */
    CHECK(ct_float_to_half(1023.5f * 0x1p-24f) == 0x0400);    /* subnormal tie rounds into normal */
    CHECK(ct_float_to_half(1e-10f) == 0x0000);
    CHECK(ct_float_to_half(-0.0f) == 0x8000);
    CHECK(ct_float_to_half(bitsf(1)) == 0);                   /* float subnormal */
    CHECK(ct_float_to_half(0.005f) == 0x1d1f);                /* the TFLite eps: 0.0050011 */
    CHECK(fabs(ct_half_to_float(0x1d1f) - 0.0050011) < 1e-7);
}

static void test_bf16(void)
{
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = ct_bf16_to_float((uint16_t)h);
        CHECK(fbits(f) == h << 16);
        uint16_t back = ct_float_to_bf16(f);
        if ((h & 0x7f80) == 0x7f80 && (h & 0x7f)) {
            if ((back & 0x7f80) != 0x7f80 || !(back & 0x7f)) bad++;
        } else if (back != h) bad++;
    }
    CHECKF(bad == 0, "%d bf16 values do not round-trip", bad);
    CHECK(ct_float_to_bf16(1.0f + 0x1p-8f) == 0x3f80);       /* tie -> even */
    CHECK(ct_float_to_bf16(1.0f + 3 * 0x1p-8f) == 0x3f82);   /* tie -> even (up) */
    CHECK(ct_float_to_bf16(bitsf(0x3f808001u)) == 0x3f81);   /* just above the tie */
    CHECK(ct_float_to_bf16(bitsf(0x7f7fffffu)) == 0x7f80);   /* FLT_MAX rounds to inf */
    CHECK(ct_float_to_bf16(-2.0f) == 0xc000);
    uint16_t n = ct_float_to_bf16(bitsf(0x7f800001u));       /* payload below bf16: stays NaN */
    CHECK((n & 0x7f80) == 0x7f80 && (n & 0x7f));
}

/* ------------------------------------------------------------------ minimal safetensors view */

typedef struct sview {
    json_t *hdr;
    const uint8_t *data;
    size_t data_size;
    size_t header_len;
} sview;

/* Our own check of the container: length, alignment, JSON, contiguous offsets in order. */
static int sview_open(const uint8_t *b, size_t n, sview *v)
{
    memset(v, 0, sizeof *v);
    if (n < 8) return 0;
    uint64_t h = 0;
    for (int i = 0; i < 8; i++) h |= (uint64_t)b[i] << (8 * i);
    CHECKF((8 + h) % 8 == 0, "header length %llu leaves data unaligned", (unsigned long long)h);
    if (h > n - 8) return 0;
    json_error_t je;
    v->hdr = json_loadb((const char *)b + 8, (size_t)h, 0, &je);
    if (!v->hdr) { fprintf(stderr, "  header JSON: %s\n", je.text); return 0; }
    v->data = b + 8 + h;
    v->data_size = n - 8 - (size_t)h;
    v->header_len = (size_t)h;
    const char *key;
    json_t *val;
    size_t expect = 0;
    int ok = 1;
    json_object_foreach(v->hdr, key, val) {
        if (!strcmp(key, "__metadata__")) continue;
        json_t *off = json_object_get(val, "data_offsets");
        size_t s = (size_t)json_integer_value(json_array_get(off, 0));
        size_t e = (size_t)json_integer_value(json_array_get(off, 1));
        if (s != expect || e < s || e > v->data_size) ok = 0;
        expect = e;
    }
    if (expect != v->data_size) ok = 0;
    CHECKF(ok, "data_offsets not contiguous in insertion order");
    return ok;
}

static const uint8_t *sview_tensor(const sview *v, const char *name, const char **dtype,
                                   int64_t *shape, int *ndim, size_t *bytes)
{
    json_t *t = json_object_get(v->hdr, name);
    if (!t) return NULL;
    *dtype = json_string_value(json_object_get(t, "dtype"));
    json_t *sh = json_object_get(t, "shape");
    *ndim = (int)json_array_size(sh);
    for (int i = 0; i < *ndim && i < 8; i++) shape[i] = json_integer_value(json_array_get(sh, (size_t)i));
    json_t *off = json_object_get(t, "data_offsets");
    size_t s = (size_t)json_integer_value(json_array_get(off, 0));
    *bytes = (size_t)json_integer_value(json_array_get(off, 1)) - s;
    return v->data + s;
}

static const char *sview_meta(const sview *v, const char *key)
{
    return json_string_value(json_object_get(json_object_get(v->hdr, "__metadata__"), key));
}

static void test_writer_roundtrip(void)
{
    st_writer *w = ct_st_writer_new();
    CHECK(w != NULL);
    if (!w) return;
    float a[6] = {1, -2, 3.5f, 0, 1e-3f, -7};
    uint16_t hb[5] = {0x3c00, 0xc000, 0x0001, 0x7bff, 0x8000};
    int64_t sa[2] = {2, 3}, sh[1] = {5}, sz[2] = {0, 4};
    CHECK(ct_st_writer_add(w, "a", ST_F32, 2, sa, a) == CARTOON_OK);
    CHECK(ct_st_writer_add(w, "half", ST_F16, 1, sh, hb) == CARTOON_OK);
    CHECK(ct_st_writer_add(w, "empty", ST_BF16, 2, sz, NULL) == CARTOON_OK);
    CHECK(ct_st_writer_add(w, "scalar", ST_F32, 0, NULL, a) == CARTOON_OK);
    CHECK(ct_st_writer_add(w, "a", ST_F32, 2, sa, a) == CARTOON_E_INVALID_ARGUMENT);        /* duplicate */
    CHECK(ct_st_writer_add(w, "__metadata__", ST_F32, 2, sa, a) == CARTOON_E_INVALID_ARGUMENT);
    int64_t neg[1] = {-1};
    CHECK(ct_st_writer_add(w, "neg", ST_F32, 1, neg, a) == CARTOON_E_INVALID_ARGUMENT);
    int64_t huge[3] = {INT64_MAX / 2, INT64_MAX / 2, 4};
    CHECK(ct_st_writer_add(w, "huge", ST_F32, 3, huge, a) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(ct_st_writer_meta(w, "format", "libcartoon") == CARTOON_OK);
    CHECK(ct_st_writer_meta(w, "x", "old") == CARTOON_OK);
    CHECK(ct_st_writer_meta(w, "x", "new \"quoted\" \xc3\xa9") == CARTOON_OK);
    uint8_t *buf = NULL;
    size_t n = 0;
    CHECK(ct_st_writer_serialize(w, &buf, &n) == CARTOON_OK);
    sview v;
    if (buf && sview_open(buf, n, &v)) {
        CHECK(n == 8 + v.header_len + 24 + 10 + 0 + 4);
        CHECK(buf[8] == '{');
        CHECK(buf[8 + v.header_len - 1] == '}' || buf[8 + v.header_len - 1] == ' ');
        /* Insertion order of the keys. */
        const char *order[] = {"__metadata__", "a", "half", "empty", "scalar"};
        int i = 0;
        const char *key;
        json_t *val;
        json_object_foreach(v.hdr, key, val) { CHECK(i < 5 && !strcmp(key, order[i])); i++; }
        CHECK(i == 5);
        const char *dt;
        int64_t shape[8];
        int nd;
        size_t bytes;
        const uint8_t *p = sview_tensor(&v, "a", &dt, shape, &nd, &bytes);
        CHECK(p && !strcmp(dt, "F32") && nd == 2 && shape[0] == 2 && shape[1] == 3 && bytes == 24);
        if (p) CHECK(memcmp(p, a, 24) == 0);
        p = sview_tensor(&v, "half", &dt, shape, &nd, &bytes);
        CHECK(p && !strcmp(dt, "F16") && nd == 1 && bytes == 10);
        if (p) CHECK(memcmp(p, hb, 10) == 0);
        p = sview_tensor(&v, "empty", &dt, shape, &nd, &bytes);
        CHECK(p && !strcmp(dt, "BF16") && nd == 2 && shape[0] == 0 && bytes == 0);
        p = sview_tensor(&v, "scalar", &dt, shape, &nd, &bytes);
        CHECK(p && nd == 0 && bytes == 4);
        CHECK(sview_meta(&v, "x") && !strcmp(sview_meta(&v, "x"), "new \"quoted\" \xc3\xa9"));
        json_decref(v.hdr);
    } else {
        CHECK(0);
    }

    /* Atomic save: same bytes on disk, no temporary left, failure leaves nothing. */
    char dir[] = "/tmp/ct_convert_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256], bad_path[256];
    snprintf(path, sizeof path, "%s/m.safetensors", dir);
    snprintf(bad_path, sizeof bad_path, "%s/missing/m.safetensors", dir);
    char msg[256] = "";
    ct_err e = {msg, sizeof msg};
    CHECK(ct_st_writer_save(w, path, &e) == CARTOON_OK);
    size_t fn = 0;
    unsigned char *fb = read_file_bytes(path, &fn);
    CHECK(fb && fn == n && buf && memcmp(fb, buf, n) == 0);
    free(fb);
    CHECK(ct_st_writer_save(w, path, &e) == CARTOON_OK); /* replaces */
    CHECK(ct_st_writer_save(w, bad_path, &e) == CARTOON_E_IO);
    CHECK(strstr(msg, "missing") != NULL);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", dir);
    CHECKF(system(cmd) == 0, "temporary files left in %s", dir);
    unlink(path);
    rmdir(dir);
    free(buf);
    ct_st_writer_free(w);
    ct_st_writer_free(NULL);
}

/* ------------------------------------------------------------------ the real model */

static unsigned char *model_bytes(size_t *n)
{
    return read_file_bytes(shared_path(MODEL_REL), n);
}

static const struct { int k, s, cin, cout; } ARCH[18] = {
    {7, 1, 3, 32},    {3, 2, 32, 32},   {3, 1, 32, 64},   {3, 2, 64, 64},   {3, 1, 64, 128},
    {3, 1, 128, 128}, {3, 1, 128, 128}, {3, 1, 128, 128}, {3, 1, 128, 128}, {3, 1, 128, 128},
    {3, 1, 128, 128}, {3, 1, 128, 128}, {3, 1, 128, 128}, {3, 1, 128, 64},  {3, 1, 64, 64},
    {3, 1, 64, 32},   {3, 1, 32, 32},   {7, 1, 32, 3},
};

static int convert(const uint8_t *b, size_t n, st_dtype dt, uint8_t **out, size_t *on,
                   ct_convert_report *rep, char *msg, size_t msz)
{
    st_writer *w = ct_st_writer_new();
    ct_err e = {msg, msz};
    cartoon_status s = ct_convert_tflite(b, n, dt, w, rep, &e);
    if (s == CARTOON_OK && out) s = ct_st_writer_serialize(w, out, on);
    ct_st_writer_free(w);
    return (int)s;
}

static double sum_tensor(const sview *v, const char *name, size_t idx, double *at)
{
    const char *dt;
    int64_t shape[8];
    int nd;
    size_t bytes;
    const uint8_t *p = sview_tensor(v, name, &dt, shape, &nd, &bytes);
    if (!p) return NAN;
    int f16 = !strcmp(dt, "F16");
    size_t cnt = bytes / (f16 ? 2 : 4);
    double s = 0;
    for (size_t i = 0; i < cnt; i++) {
        float f;
        if (f16) f = ct_half_to_float((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        else memcpy(&f, p + 4 * i, 4);
        s += f;
        if (i == idx) *at = f;
    }
    return s;
}

static void test_convert_real(void)
{
    size_t n;
    unsigned char *b = model_bytes(&n);
    if (!b) return;
    uint8_t *out = NULL;
    size_t on = 0;
    char msg[512] = "";
    ct_convert_report rep;
    int s = convert(b, n, ST_F16, &out, &on, &rep, msg, sizeof msg);
    CHECKF(s == CARTOON_OK, "%s", msg);
    CHECK(rep.convs == 18);
    CHECK(rep.parameters == 1467075ull);
    CHECK(rep.leaky_relus == 13);
    CHECK(rep.resizes == 2);
    CHECK(rep.depthwise == 7);
    CHECK(rep.radius == 1);
    CHECKF(ct_float_to_half(rep.eps_found) == 0x1d1f, "eps %.9g", (double)rep.eps_found);
    CHECK(rep.eps_written == 0.005);
    sview v;
    if (s == CARTOON_OK && sview_open(out, on, &v)) {
        uint64_t params = 0;
        for (int k = 0; k < 18; k++) {
            char name[32];
            const char *dt;
            int64_t sh[8];
            int nd;
            size_t bytes;
            snprintf(name, sizeof name, "conv%d.weight", k);
            const uint8_t *p = sview_tensor(&v, name, &dt, sh, &nd, &bytes);
            CHECKF(p && !strcmp(dt, "F16") && nd == 4 && sh[0] == ARCH[k].cout && sh[1] == ARCH[k].k &&
                   sh[2] == ARCH[k].k && sh[3] == ARCH[k].cin, "%s", name);
            params += bytes / 2;
            snprintf(name, sizeof name, "conv%d.bias", k);
            p = sview_tensor(&v, name, &dt, sh, &nd, &bytes);
            CHECKF(p && !strcmp(dt, "F16") && nd == 1 && sh[0] == ARCH[k].cout, "%s", name);
            params += bytes / 2;
        }
        CHECK(params == 1467075ull);
        /* Expected values obtained independently with numpy from the Python reader
         * shared/tools/peer_onnx.py: c = load_convs(MODEL); w = c[i]['w'].astype(np.float64);
         * w.sum(), w.flat[j]. The fp16 values are multiples of 2^-24 below 1, so these double
         * sums are exact in any order. */
        double at = 0;
        CHECK(sum_tensor(&v, "conv0.weight", 0, &at) == 2.031081736087799);
        CHECK(at == -0.00846099853515625);
        CHECK(sum_tensor(&v, "conv0.weight", 4703, &at) == 2.031081736087799 && at == 0.034637451171875);
        CHECK(sum_tensor(&v, "conv0.bias", 0, &at) == 0.8058700561523438 && at == -0.208740234375);
        CHECK(sum_tensor(&v, "conv17.weight", 0, &at) == -5.447041988372803 && at == 0.0185699462890625);
        CHECK(sum_tensor(&v, "conv17.bias", 0, &at) == -0.013702392578125 && at == -0.034454345703125);
        CHECK(sum_tensor(&v, "conv17.bias", 2, &at) == -0.013702392578125 && at == 0.0252838134765625);
        /* conv9 (block1 conv2... the tenth conv) w[5,1,2,77]: flat index ((5*3+1)*3+2)*128+77 */
        CHECK(sum_tensor(&v, "conv9.weight", ((5 * 3 + 1) * 3 + 2) * 128 + 77, &at) == -76.59232115745544);
        CHECK(at == -0.060302734375);
        {
            const char *dt;
            int64_t sh[8];
            int nd;
            size_t bytes;
            const uint8_t *p = sview_tensor(&v, "conv0.weight", &dt, sh, &nd, &bytes);
            CHECK(p && (p[0] | p[1] << 8) == 0xa055); /* the stored fp16 bits, unchanged */
        }

        CHECK(sview_meta(&v, "format") && !strcmp(sview_meta(&v, "format"), "libcartoon"));
        CHECK(sview_meta(&v, "format_version") && !strcmp(sview_meta(&v, "format_version"), "1"));
        CHECK(sview_meta(&v, "name") != NULL);
        const char *src = sview_meta(&v, "source");
        CHECK(src && strstr(src, "White-box") && strstr(src, "CC BY-NC-SA 4.0"));
        const char *gs = sview_meta(&v, "graph");
        json_error_t je;
        json_t *g = gs ? json_loads(gs, 0, &je) : NULL;
        CHECKF(g != NULL, "graph JSON does not parse");
        if (g) {
            json_t *in = json_object_get(g, "input");
            CHECK(!strcmp(json_string_value(json_object_get(in, "name")), "input"));
            CHECK(json_integer_value(json_object_get(in, "channels")) == 3);
            CHECK(!strcmp(json_string_value(json_object_get(in, "color_order")), "BGR"));
            CHECK(json_real_value(json_object_get(in, "scale")) == 1.0 / 127.5);
            CHECK(json_number_value(json_object_get(in, "offset")) == -1.0);
            CHECK(json_integer_value(json_object_get(g, "pad_multiple")) == 4);
            CHECK(!strcmp(json_string_value(json_object_get(g, "output")), "final"));
            static const char *want[][4] = {
                {"conv0", "conv2d", "input", NULL},   {"conv1", "conv2d", "conv0", NULL},
                {"conv2", "conv2d", "conv1", NULL},   {"conv3", "conv2d", "conv2", NULL},
                {"conv4", "conv2d", "conv3", NULL},   {"conv5", "conv2d", "conv4", NULL},
                {"conv6", "conv2d", "conv5", NULL},   {"block0", "add", "conv6", "conv4"},
                {"conv7", "conv2d", "block0", NULL},  {"conv8", "conv2d", "conv7", NULL},
                {"block1", "add", "conv8", "block0"}, {"conv9", "conv2d", "block1", NULL},
                {"conv10", "conv2d", "conv9", NULL},  {"block2", "add", "conv10", "block1"},
                {"conv11", "conv2d", "block2", NULL}, {"conv12", "conv2d", "conv11", NULL},
                {"block3", "add", "conv12", "block2"}, {"conv13", "conv2d", "block3", NULL},
                {"up0", "upsample", "conv13", NULL},  {"skip0", "add", "up0", "conv2"},
                {"conv14", "conv2d", "skip0", NULL},  {"conv15", "conv2d", "conv14", NULL},
                {"up1", "upsample", "conv15", NULL},  {"skip1", "add", "up1", "conv0"},
                {"conv16", "conv2d", "skip1", NULL},  {"conv17", "conv2d", "conv16", NULL},
                {"final", "guided_filter", "input", "conv17"},
            };
            json_t *nodes = json_object_get(g, "nodes");
            CHECK(json_array_size(nodes) == 27);
            int leaky = 0, conv = 0;
            for (size_t i = 0; i < 27 && i < json_array_size(nodes); i++) {
                json_t *nd = json_array_get(nodes, i);
                const char *name = json_string_value(json_object_get(nd, "name"));
                const char *op = json_string_value(json_object_get(nd, "op"));
                json_t *ins = json_object_get(nd, "inputs");
                CHECKF(name && !strcmp(name, want[i][0]), "node %zu name", i);
                CHECKF(op && !strcmp(op, want[i][1]), "node %zu op", i);
                CHECKF(json_array_size(ins) == (want[i][3] ? 2u : 1u), "node %zu inputs", i);
                CHECKF(!strcmp(json_string_value(json_array_get(ins, 0)), want[i][2]), "node %zu in0", i);
                if (want[i][3]) CHECKF(!strcmp(json_string_value(json_array_get(ins, 1)), want[i][3]), "node %zu in1", i);
                const char *act = json_string_value(json_object_get(nd, "activation"));
                if (act && !strcmp(act, "leaky_relu")) {
                    leaky++;
                    CHECK(json_real_value(json_object_get(nd, "alpha")) == 0.2);
                }
                if (!strcmp(want[i][1], "conv2d")) {
                    int k = conv++;
                    char wn[32], bn[32];
                    snprintf(wn, sizeof wn, "conv%d.weight", k);
                    snprintf(bn, sizeof bn, "conv%d.bias", k);
                    CHECK(json_integer_value(json_object_get(nd, "kernel")) == ARCH[k].k);
                    CHECK(json_integer_value(json_object_get(nd, "stride")) == ARCH[k].s);
                    CHECK(json_integer_value(json_object_get(nd, "in_channels")) == ARCH[k].cin);
                    CHECK(json_integer_value(json_object_get(nd, "out_channels")) == ARCH[k].cout);
                    CHECK(!strcmp(json_string_value(json_object_get(nd, "weight")), wn));
                    CHECK(!strcmp(json_string_value(json_object_get(nd, "bias")), bn));
                    int want_leaky = !(k == 6 || k == 8 || k == 10 || k == 12 || k == 17);
                    CHECKF(!strcmp(act, want_leaky ? "leaky_relu" : "none"), "conv%d activation", k);
                }
                if (!strcmp(want[i][1], "upsample")) {
                    CHECK(json_integer_value(json_object_get(nd, "factor")) == 2);
                    CHECK(!strcmp(json_string_value(json_object_get(nd, "mode")), "bilinear_tf1"));
                }
                if (!strcmp(want[i][1], "guided_filter")) {
                    CHECK(json_integer_value(json_object_get(nd, "radius")) == 1);
                    CHECK(json_real_value(json_object_get(nd, "eps")) == 0.005);
                }
            }
            CHECK(leaky == 13);
            CHECK(conv == 18);
            json_decref(g);
        }
        json_decref(v.hdr);
    }
    free(out);

    /* F32: every weight equals its fp16 value widened. */
    uint8_t *o32 = NULL, *o16 = NULL;
    size_t n32 = 0, n16 = 0;
    CHECK(convert(b, n, ST_F32, &o32, &n32, NULL, msg, sizeof msg) == CARTOON_OK);
    CHECK(convert(b, n, ST_F16, &o16, &n16, NULL, msg, sizeof msg) == CARTOON_OK);
    sview a, c;
    if (o32 && o16 && sview_open(o32, n32, &a) && sview_open(o16, n16, &c)) {
        CHECK(a.data_size == 2 * c.data_size);
        size_t mism = 0;
        for (int k = 0; k < 18; k++)
            for (int wb = 0; wb < 2; wb++) {
                char name[32];
                snprintf(name, sizeof name, "conv%d.%s", k, wb ? "bias" : "weight");
                const char *d1, *d2;
                int64_t s1[8], s2[8];
                int nd1, nd2;
                size_t b1, b2;
                const uint8_t *p1 = sview_tensor(&a, name, &d1, s1, &nd1, &b1);
                const uint8_t *p2 = sview_tensor(&c, name, &d2, s2, &nd2, &b2);
                CHECK(p1 && p2 && !strcmp(d1, "F32") && nd1 == nd2 && b1 == 2 * b2);
                if (!p1 || !p2 || b1 != 2 * b2) continue;
                for (size_t i = 0; i < b2 / 2; i++) {
                    float f;
                    memcpy(&f, p1 + 4 * i, 4);
                    if (fbits(f) != fbits(ct_half_to_float((uint16_t)(p2[2 * i] | p2[2 * i + 1] << 8)))) mism++;
                }
            }
        CHECKF(mism == 0, "%zu F32 values differ from the widened F16", mism);
        CHECK(!strcmp(sview_meta(&a, "graph"), sview_meta(&c, "graph")));
        json_decref(a.hdr);
        json_decref(c.hdr);
    } else {
        CHECK(0);
    }
    free(o32);
    free(o16);
    free(b);
}

/* A valid TFLite that is not this model is refused as UNSUPPORTED with a clear message. */
static void test_refuse_other_models(void)
{
    size_t n;
    unsigned char *b = model_bytes(&n);
    if (!b) return;
    char msg[512] = "";
    /* Every LeakyReluOptions.alpha 0.2f -> 0.3f. */
    unsigned char *m = malloc(n);
    memcpy(m, b, n);
    const unsigned char a02[4] = {0xcd, 0xcc, 0x4c, 0x3e}, a03[4] = {0x9a, 0x99, 0x99, 0x3e};
    int hits = 0;
    for (size_t i = 0; i + 4 <= n; i++)
        if (!memcmp(m + i, a02, 4)) { memcpy(m + i, a03, 4); hits++; }
    CHECK(hits >= 13);
    CHECK(convert(m, n, ST_F16, NULL, NULL, NULL, msg, sizeof msg) == CARTOON_E_UNSUPPORTED);
    CHECKF(strstr(msg, "LEAKY_RELU") && strstr(msg, "alpha"), "message: %s", msg);

    /* Not a TFLite file at all. */
    memcpy(m, b, n);
    memcpy(m + 4, "XXXX", 4);
    CHECK(convert(m, n, ST_F16, NULL, NULL, NULL, msg, sizeof msg) == CARTOON_E_BAD_MODEL);
    CHECK(strstr(msg, "TFL3") != NULL);

    /* The reader's view of the real file; an empty buffer; a bad dtype. */
    memcpy(m, b, n);
    tfl_model tm;
    ct_err e = {msg, sizeof msg};
    CHECK(ct_tfl_parse(m, n, &tm, &e) == CARTOON_OK);
    CHECK(tm.n_ops == 106 && tm.n_tensors == 151 && tm.n_opcodes == 9);
    ct_tfl_free(&tm);
    CHECK(convert(m, 0, ST_F16, NULL, NULL, NULL, msg, sizeof msg) == CARTOON_E_BAD_MODEL);
    CHECK(convert(m, n, (st_dtype)7, NULL, NULL, NULL, msg, sizeof msg) == CARTOON_E_INVALID_ARGUMENT);
    free(m);
    free(b);
}

/* ------------------------------------------------------------------ robustness */

static int acceptable(int s) { return s == CARTOON_OK || s == CARTOON_E_BAD_MODEL || s == CARTOON_E_UNSUPPORTED; }

static void test_truncated(void)
{
    size_t n;
    unsigned char *b = model_bytes(&n);
    if (!b) return;
    char msg[512];
    int bad = 0, ok = 0;
    for (size_t len = 0; len < n; len = len < 256 ? len + 1 : len + 1024) {
        /* A fresh copy of exactly len bytes so ASan sees any read past the end. */
        unsigned char *t = malloc(len ? len : 1);
        memcpy(t, b, len);
        msg[0] = 0;
        int s = convert(t, len, ST_F16, NULL, NULL, NULL, msg, sizeof msg);
        if (s == CARTOON_OK) ok++;
        if (s != CARTOON_E_BAD_MODEL && s != CARTOON_E_UNSUPPORTED) {
            if (bad++ < 5) fprintf(stderr, "  truncated at %zu: status %d (%s)\n", len, s, msg);
        }
        if (!msg[0]) bad++;
        free(t);
    }
    CHECKF(bad == 0, "%d truncations not refused with a message", bad);
    CHECK(ok == 0);
    free(b);
}

static void test_bit_flips(void)
{
    size_t n;
    unsigned char *b = model_bytes(&n);
    if (!b) return;
    /* In this file the flatbuffer tables sit in the first ~600 bytes and the last ~21 KB, the
     * weight data in between; aim most flips there so they exercise the reader. */
    const size_t head = 1024, edge = 24576;
    rng_seed(12345);
    char msg[512];
    int bad = 0, counts[10] = {0};
    unsigned char *m = malloc(n);
    memcpy(m, b, n);
    int quick = getenv("CARTOON_TEST_QUICK") != NULL;
    int rounds = quick ? 1500 : 4000;
    for (int r = 0; r < rounds; r++) {
        size_t pos;
        uint32_t k = rng_u32() % 4;
        if (k == 0) pos = rng_u32() % n;
        else if (k == 1 || n <= edge) pos = rng_u32() % (n < head ? n : head);
        else pos = n - 1 - rng_u32() % edge;
        size_t saved_pos = pos;
        unsigned char saved[4];
        size_t w = r % 3 == 2 && pos + 4 <= n ? 4 : 1;
        memcpy(saved, m + pos, w);
        if (w == 4) { /* a whole random word: likely a wild offset or count */
            uint32_t v = rng_u32();
            memcpy(m + pos, &v, 4);
        } else {
            m[pos] ^= (unsigned char)(1u << (rng_u32() % 8));
        }
        int s = convert(m, n, ST_F16, NULL, NULL, NULL, msg, sizeof msg);
        if (!acceptable(s)) {
            if (bad++ < 5) fprintf(stderr, "  flip at %zu: status %d (%s)\n", saved_pos, s, msg);
        }
        if (s >= 0 && s < 10) counts[s]++;
        memcpy(m + saved_pos, saved, w);
    }
    CHECKF(bad == 0, "%d flips gave another status", bad);
    printf("     bit flips: %d ok, %d bad model, %d unsupported\n", counts[CARTOON_OK],
           counts[CARTOON_E_BAD_MODEL], counts[CARTOON_E_UNSUPPORTED]);
    CHECK(memcmp(m, b, n) == 0);
    free(m);
    free(b);
}

static void test_garbage(void)
{
    rng_seed(777);
    char msg[256];
    int bad = 0;
    for (int r = 0; r < 3000; r++) {
        size_t len = rng_u32() % 4096;
        unsigned char *g = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) g[i] = (unsigned char)rng_u32();
        if (len >= 8 && (r & 1)) memcpy(g + 4, "TFL3", 4);
        /* Small offsets make the garbage land inside the buffer more often. */
        if (len >= 8 && (r & 2))
            for (size_t i = 0; i + 4 <= len; i += 4) g[i + 1] = g[i + 2] = g[i + 3] = 0;
        if (len >= 8 && (r & 2)) memcpy(g + 4, "TFL3", 4);
        int s = convert(g, len, ST_F16, NULL, NULL, NULL, msg, sizeof msg);
        if (s != CARTOON_E_BAD_MODEL && s != CARTOON_E_UNSUPPORTED) bad++;
        free(g);
    }
    CHECKF(bad == 0, "%d garbage buffers not refused", bad);
}

int main(void)
{
    run_case("fp16_all_values", test_fp16_all_values);
    run_case("fp16_rounding", test_fp16_rounding);
    run_case("bf16", test_bf16);
    run_case("safetensors_writer_roundtrip", test_writer_roundtrip);
    struct stat st;
    if (stat(shared_path(MODEL_REL), &st) != 0) {
        const char *why = "shared model " MODEL_REL " absent";
        skip_case("convert_real_model", why);
        skip_case("refuse_other_models", why);
        skip_case("tflite_truncated", why);
        skip_case("tflite_bit_flips", why);
    } else {
        run_case("convert_real_model", test_convert_real);
        run_case("refuse_other_models", test_refuse_other_models);
        run_case("tflite_truncated", test_truncated);
        run_case("tflite_bit_flips", test_bit_flips);
    }
    run_case("tflite_garbage", test_garbage);
    return check_summary();
}
