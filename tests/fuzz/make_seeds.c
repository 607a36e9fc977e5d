/* Writes the fuzzers' seed corpora into tests/fuzz/corpus/<target>/ (run by hand after a
 * change to the formats; the seeds are committed). Every seed is made here from scratch: tiny
 * synthetic libcartoon models written with the st_writer API, a hand-assembled minimal TFLite
 * flatbuffer, small PNG / JPEG (with EXIF orientation) / WebP pictures, and CLI argument
 * vectors. Nothing is derived from the shared weights.
 *
 *   build: see tests/fuzz/run.sh (it builds this as build-fuzz/make_seeds)
 *   usage: make_seeds OUTDIR            (OUTDIR normally tests/fuzz/corpus) */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jpeglib.h>
#include <png.h>

#include "cartoon.h"
#include "cartoon_io.h"
#include "half.h"
#include "safetensors_write.h"

static const char *outdir;

static void mkdir_p(const char *d)
{
    if (mkdir(d, 0777) != 0 && errno != EEXIST) { perror(d); exit(1); }
}

static void put(const char *target, const char *name, const void *data, size_t n)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", outdir, target);
    mkdir_p(p);
    snprintf(p, sizeof p, "%s/%s/%s", outdir, target, name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) { perror(p); exit(1); }
}

/* ------------------------------------------------------------------ model files */

static void add_f(st_writer *w, const char *name, st_dtype dt, int ndim, const int64_t *shape, float scale)
{
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)shape[i];
    uint8_t *b = malloc(n * 4 + 4);
    for (size_t i = 0; i < n; i++) {
        float v = scale * (float)((int)(i * 37 % 19) - 9) / 9.0f;
        if (dt == ST_F32) memcpy(b + 4 * i, &v, 4);
        else {
            uint16_t h = dt == ST_F16 ? ct_float_to_half(v) : ct_float_to_bf16(v);
            b[2 * i] = (uint8_t)h;
            b[2 * i + 1] = (uint8_t)(h >> 8);
        }
    }
    if (ct_st_writer_add(w, name, dt, ndim, shape, b)) { fprintf(stderr, "ct_st_writer_add %s\n", name); exit(1); }
    free(b);
}

/* Every op of the format once: conv2d (k3, stride 1 and 2, k1), depthwise, add, concat,
 * upsample (both modes), guided filter. */
static const char *GRAPH_FULL =
    "{\"input\": {\"name\": \"in\", \"channels\": 3, \"color_order\": \"BGR\","
    " \"scale\": 0.00784313725490196, \"offset\": -1.0},"
    " \"pad_multiple\": 4, \"output\": \"gf\", \"nodes\": ["
    "{\"name\": \"c0\", \"op\": \"conv2d\", \"inputs\": [\"in\"], \"kernel\": 3, \"stride\": 1,"
    " \"in_channels\": 3, \"out_channels\": 4, \"weight\": \"c0.w\", \"bias\": \"c0.b\","
    " \"activation\": \"leaky_relu\", \"alpha\": 0.2},"
    "{\"name\": \"dw\", \"op\": \"depthwise_conv2d\", \"inputs\": [\"c0\"], \"kernel\": 3,"
    " \"channels\": 4, \"weight\": \"dw.w\", \"activation\": \"relu\"},"
    "{\"name\": \"c1\", \"op\": \"conv2d\", \"inputs\": [\"dw\"], \"kernel\": 3, \"stride\": 2,"
    " \"in_channels\": 4, \"out_channels\": 4, \"weight\": \"c1.w\", \"bias\": \"c1.b\"},"
    "{\"name\": \"c2\", \"op\": \"conv2d\", \"inputs\": [\"c1\"], \"kernel\": 1, \"stride\": 2,"
    " \"in_channels\": 4, \"out_channels\": 4, \"weight\": \"c2.w\"},"
    "{\"name\": \"u0\", \"op\": \"upsample\", \"inputs\": [\"c2\"], \"factor\": 2, \"mode\": \"nearest\"},"
    "{\"name\": \"a0\", \"op\": \"add\", \"inputs\": [\"u0\", \"c1\"], \"activation\": \"leaky_relu\"},"
    "{\"name\": \"u1\", \"op\": \"upsample\", \"inputs\": [\"a0\"], \"factor\": 2, \"mode\": \"bilinear_tf1\"},"
    "{\"name\": \"a1\", \"op\": \"add\", \"inputs\": [\"u1\", \"c0\"]},"
    "{\"name\": \"cat\", \"op\": \"concat\", \"inputs\": [\"a1\", \"in\"]},"
    "{\"name\": \"c3\", \"op\": \"conv2d\", \"inputs\": [\"cat\"], \"kernel\": 3, \"stride\": 1,"
    " \"in_channels\": 7, \"out_channels\": 3, \"weight\": \"c3.w\", \"bias\": \"c3.b\"},"
    "{\"name\": \"gf\", \"op\": \"guided_filter\", \"inputs\": [\"in\", \"c3\"], \"radius\": 1, \"eps\": 0.005}"
    "]}";

static void model_seed(const char *name, st_dtype dt)
{
    st_writer *w = ct_st_writer_new();
    int64_t s0[4] = {4, 3, 3, 3}, b4[1] = {4}, sdw[3] = {3, 3, 4}, s1[4] = {4, 3, 3, 4},
            s2[4] = {4, 1, 1, 4}, s3[4] = {3, 3, 3, 7}, b3[1] = {3};
    add_f(w, "c0.w", dt, 4, s0, 0.3f);
    add_f(w, "c0.b", dt, 1, b4, 0.1f);
    add_f(w, "dw.w", dt, 3, sdw, 0.2f);
    add_f(w, "c1.w", dt, 4, s1, 0.3f);
    add_f(w, "c1.b", dt, 1, b4, 0.1f);
    add_f(w, "c2.w", dt, 4, s2, 0.5f);
    add_f(w, "c3.w", dt, 4, s3, 0.2f);
    add_f(w, "c3.b", dt, 1, b3, 0.1f);
    ct_st_writer_meta(w, "format", "libcartoon");
    ct_st_writer_meta(w, "format_version", "1");
    ct_st_writer_meta(w, "name", "fuzz-seed");
    ct_st_writer_meta(w, "source", "synthetic (tests/fuzz/make_seeds.c)");
    ct_st_writer_meta(w, "graph", GRAPH_FULL);
    uint8_t *buf;
    size_t n;
    if (ct_st_writer_serialize(w, &buf, &n)) { fprintf(stderr, "serialize\n"); exit(1); }
    put("fuzz_model_load", name, buf, n);
    free(buf);
    ct_st_writer_free(w);
}

static void model_seed_min(void)
{
    st_writer *w = ct_st_writer_new();
    int64_t s[4] = {3, 1, 1, 3};
    add_f(w, "k", ST_F32, 4, s, 1.0f);
    ct_st_writer_meta(w, "format", "libcartoon");
    ct_st_writer_meta(w, "format_version", "1");
    ct_st_writer_meta(w, "graph",
        "{\"input\": {\"name\": \"x\", \"channels\": 3, \"color_order\": \"RGB\", \"scale\": 1, \"offset\": 0},"
        " \"output\": \"y\", \"nodes\": [{\"name\": \"y\", \"op\": \"conv2d\", \"inputs\": [\"x\"],"
        " \"kernel\": 1, \"in_channels\": 3, \"out_channels\": 3, \"weight\": \"k\"}]}");
    uint8_t *buf;
    size_t n;
    if (ct_st_writer_serialize(w, &buf, &n)) exit(1);
    put("fuzz_model_load", "min_conv1x1.safetensors", buf, n);
    free(buf);
    ct_st_writer_free(w);
}

/* ------------------------------------------------------------------ a minimal TFLite file
 * A forward-only FlatBuffers builder: every table gets 8-byte field slots; a parent is
 * written before its children and its reference fields are patched afterwards (uoffsets
 * point forward). */

static uint8_t FB[1 << 17];
static size_t FN;

static size_t fb_alloc(size_t n, size_t align)
{
    while (FN % align) FB[FN++] = 0;
    size_t p = FN;
    if (FN + n > sizeof FB) { fprintf(stderr, "flatbuffer too large\n"); exit(1); }
    memset(FB + FN, 0, n);
    FN += n;
    return p;
}
static void w16(size_t p, uint16_t v) { FB[p] = (uint8_t)v; FB[p + 1] = (uint8_t)(v >> 8); }
static void w32(size_t p, uint32_t v) { for (int i = 0; i < 4; i++) FB[p + i] = (uint8_t)(v >> 8 * i); }

typedef struct { size_t pos; int nf; } tb;

/* A table with nf field slots; mask says which are present. */
static tb table(int nf, unsigned mask)
{
    size_t vt = fb_alloc(4 + 2 * (size_t)nf, 2);
    w16(vt, (uint16_t)(4 + 2 * nf));
    w16(vt + 2, (uint16_t)(4 + 8 * nf));
    for (int i = 0; i < nf; i++) w16(vt + 4 + 2 * (size_t)i, (mask >> i & 1) ? (uint16_t)(4 + 8 * i) : 0);
    size_t t = fb_alloc(4 + 8 * (size_t)nf, 4);
    w32(t, (uint32_t)(t - vt));
    return (tb){t, nf};
}
static size_t slot(tb t, int i) { return t.pos + 4 + 8 * (size_t)i; }
static void set_u32(tb t, int i, uint32_t v) { w32(slot(t, i), v); }
static void set_u8(tb t, int i, uint8_t v) { FB[slot(t, i)] = v; }
static void set_f32(tb t, int i, float v) { uint32_t u; memcpy(&u, &v, 4); w32(slot(t, i), u); }
static void set_ref(tb t, int i, size_t target) { w32(slot(t, i), (uint32_t)(target - slot(t, i))); }

static size_t vec_i32(int n, const int32_t *v)
{
    size_t p = fb_alloc(4 + 4 * (size_t)n, 4);
    w32(p, (uint32_t)n);
    for (int i = 0; i < n; i++) w32(p + 4 + 4 * (size_t)i, (uint32_t)v[i]);
    return p;
}
static size_t vec_bytes(size_t n, const uint8_t *b)
{
    size_t p = fb_alloc(4 + n, 4);
    w32(p, (uint32_t)n);
    if (n) memcpy(FB + p + 4, b, n);
    return p;
}
static size_t vec_refs(int n)
{
    size_t p = fb_alloc(4 + 4 * (size_t)n, 4);
    w32(p, (uint32_t)n);
    return p;
}
static void vec_set(size_t v, int i, size_t target)
{
    size_t at = v + 4 + 4 * (size_t)i;
    w32(at, (uint32_t)(target - at));
}
static size_t string(const char *s)
{
    size_t n = strlen(s);
    size_t p = fb_alloc(4 + n + 1, 4);
    w32(p, (uint32_t)n);
    memcpy(FB + p + 4, s, n);
    return p;
}

typedef struct { const char *name; int ndim; int32_t shape[4]; int type; int buffer; } tspec;
typedef struct { int opcode_index; int nin; int32_t in[3]; int nout; int32_t out[1]; int opt_type; float alpha; int stride; } ospec;

/* Model{version 3, operator_codes, subgraphs[1], buffers} with the given tensors / ops. */
static void tflite_seed(const char *name, int n_codes, const int *codes, int n_bufs,
                        const size_t *buf_sizes, int n_t, const tspec *ts, int n_o, const ospec *os,
                        int in_t, int out_t)
{
    FN = 0;
    size_t root = fb_alloc(8, 4);
    memcpy(FB + 4, "TFL3", 4);
    tb model = table(5, 1u | 2u | 4u | 16u);
    w32(root, (uint32_t)(model.pos - root));
    set_u32(model, 0, 3);

    size_t codes_v = vec_refs(n_codes);
    set_ref(model, 1, codes_v);
    for (int i = 0; i < n_codes; i++) {
        tb c = table(4, 1u | 8u);
        set_u8(c, 0, (uint8_t)(codes[i] < 127 ? codes[i] : 127));
        set_u32(c, 3, (uint32_t)codes[i]);
        vec_set(codes_v, i, c.pos);
    }

    size_t bufs_v = vec_refs(n_bufs);
    set_ref(model, 4, bufs_v);
    for (int i = 0; i < n_bufs; i++) {
        tb b = table(3, buf_sizes[i] ? 1u : 0u);
        vec_set(bufs_v, i, b.pos);
        if (buf_sizes[i]) {
            uint8_t *d = malloc(buf_sizes[i]);
            for (size_t k = 0; k < buf_sizes[i]; k++) d[k] = (uint8_t)(k & 1 ? 0x2c : k * 7);
            if (buf_sizes[i] == 54) /* the box kernel: every tap fp16 1/9 (0x2F1C) */
                for (size_t k = 0; k < 54; k++) d[k] = k & 1 ? 0x2f : 0x1c;
            set_ref(b, 0, vec_bytes(buf_sizes[i], d));
            free(d);
        }
    }

    size_t sgs = vec_refs(1);
    set_ref(model, 2, sgs);
    tb sg = table(4, 15u);
    vec_set(sgs, 0, sg.pos);
    size_t tv = vec_refs(n_t);
    set_ref(sg, 0, tv);
    int32_t io[1] = {in_t};
    set_ref(sg, 1, vec_i32(1, io));
    io[0] = out_t;
    set_ref(sg, 2, vec_i32(1, io));
    size_t ov = vec_refs(n_o);
    set_ref(sg, 3, ov);
    for (int i = 0; i < n_t; i++) {
        tb t = table(4, 15u);
        vec_set(tv, i, t.pos);
        set_u8(t, 1, (uint8_t)ts[i].type);
        set_u32(t, 2, (uint32_t)ts[i].buffer);
        set_ref(t, 0, vec_i32(ts[i].ndim, ts[i].shape));
        set_ref(t, 3, string(ts[i].name));
    }
    for (int i = 0; i < n_o; i++) {
        tb o = table(5, os[i].opt_type ? 31u : 15u);
        vec_set(ov, i, o.pos);
        set_u32(o, 0, (uint32_t)os[i].opcode_index);
        set_u8(o, 3, (uint8_t)os[i].opt_type);
        set_ref(o, 1, vec_i32(os[i].nin, os[i].in));
        set_ref(o, 2, vec_i32(os[i].nout, os[i].out));
        if (os[i].opt_type == 1) { /* Conv2DOptions: padding SAME, stride */
            tb c = table(6, 2u | 4u);
            set_u32(c, 1, (uint32_t)os[i].stride);
            set_u32(c, 2, (uint32_t)os[i].stride);
            set_ref(o, 4, c.pos);
        } else if (os[i].opt_type == 2) { /* DepthwiseConv2DOptions: SAME, stride 1, multiplier 1 */
            tb c = table(7, 2u | 4u | 8u);
            set_u32(c, 1, 1);
            set_u32(c, 2, 1);
            set_u32(c, 3, 1);
            set_ref(o, 4, c.pos);
        } else if (os[i].opt_type == 75) { /* LeakyReluOptions */
            tb c = table(1, 1u);
            set_f32(c, 0, os[i].alpha);
            set_ref(o, 4, c.pos);
        } else if (os[i].opt_type) {
            tb c = table(4, 0u);
            set_ref(o, 4, c.pos);
        }
    }
    put("fuzz_tflite", name, FB, FN);
}

static void tflite_seeds(void)
{
    /* conv0 of the generator: input -> DEQUANTIZE'd fp16 weight/bias -> CONV_2D -> LEAKY_RELU */
    int codes[] = {6 /* DEQUANTIZE */, 3 /* CONV_2D */, 98 /* LEAKY_RELU */};
    size_t bufs[] = {0, 32 * 7 * 7 * 3 * 2, 32 * 2};
    tspec ts[] = {
        {"input", 4, {1, 8, 8, 3}, 0, 0},   {"w16", 4, {32, 7, 7, 3}, 1, 1},
        {"w", 4, {32, 7, 7, 3}, 0, 0},      {"b16", 1, {32}, 1, 2},
        {"b", 1, {32}, 0, 0},               {"conv", 4, {1, 8, 8, 32}, 0, 0},
        {"act", 4, {1, 8, 8, 32}, 0, 0},
    };
    ospec os[] = {
        {0, 1, {1}, 1, {2}, 0, 0, 0},
        {0, 1, {3}, 1, {4}, 0, 0, 0},
        {1, 3, {0, 2, 4}, 1, {5}, 1, 0, 1},
        {2, 1, {5}, 1, {6}, 75, 0.2f, 0},
    };
    tflite_seed("conv0_leaky.tflite", 3, codes, 3, bufs, 7, ts, 4, os, 0, 6);

    /* a guided-filter fragment: box DEPTHWISE_CONV_2D (fp16 1/9 taps), MUL, SUB, ADD eps, DIV */
    int codes2[] = {4 /* DEPTHWISE */, 18 /* MUL */, 41 /* SUB */, 0 /* ADD */, 42 /* DIV */, 23 /* RESIZE */};
    size_t bufs2[] = {0, 3 * 3 * 3 * 2, 2, 8};
    tspec ts2[] = {
        {"x", 4, {1, 4, 4, 3}, 0, 0},   {"box", 4, {1, 3, 3, 3}, 1, 1},
        {"mean", 4, {1, 4, 4, 3}, 0, 0}, {"sq", 4, {1, 4, 4, 3}, 0, 0},
        {"var", 4, {1, 4, 4, 3}, 0, 0},  {"eps", 0, {0}, 1, 2},
        {"ve", 4, {1, 4, 4, 3}, 0, 0},   {"q", 4, {1, 4, 4, 3}, 0, 0},
        {"size", 1, {2}, 2, 3},          {"up", 4, {1, 8, 8, 3}, 0, 0},
    };
    ospec os2[] = {
        {0, 2, {0, 1}, 1, {2}, 2, 0, 0},
        {1, 2, {2, 2}, 1, {3}, 21, 0, 0},
        {2, 2, {3, 2}, 1, {4}, 28, 0, 0},
        {3, 2, {4, 5}, 1, {6}, 11, 0, 0},
        {4, 2, {0, 6}, 1, {7}, 29, 0, 0},
        {5, 2, {7, 8}, 1, {9}, 15, 0, 0},
    };
    tflite_seed("guided_filter_ops.tflite", 6, codes2, 4, bufs2, 10, ts2, 6, os2, 0, 9);

    /* the smallest valid file: one subgraph, one tensor, no operators */
    tspec ts3[] = {{"input", 4, {1, 2, 2, 3}, 0, 0}};
    size_t bufs3[] = {0};
    tflite_seed("empty_graph.tflite", 0, NULL, 1, bufs3, 1, ts3, 0, NULL, 0, 0);
}

/* ------------------------------------------------------------------ images */

static void pattern(uint8_t *p, int w, int h, int ch)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ch; c++)
                p[((size_t)y * w + x) * ch + c] = (uint8_t)(x * 40 + y * 25 + c * 70);
}

static void encode_seed(const char *target, const char *name, int w, int h, cartoon_pixel_format f,
                        cartoon_file_format ff, int quality, int lossless)
{
    int ch = cartoon_pixel_size(f);
    uint8_t *px = malloc((size_t)w * h * ch);
    pattern(px, w, h, ch);
    cartoon_image img = {px, w, h, (size_t)w * ch, f};
    cartoon_write_options o;
    cartoon_write_options_default(&o);
    o.quality = quality;
    o.lossless = lossless;
    unsigned char *buf;
    size_t n;
    char err[256];
    if (cartoon_image_encode(&img, ff, &o, &buf, &n, err, sizeof err)) { fprintf(stderr, "%s\n", err); exit(1); }
    put(target, name, buf, n);
    free(buf);
    free(px);
}

/* PNG layouts cartoon_image_encode does not write: palette (+tRNS), grey 1/8/16-bit, grey+alpha,
 * 16-bit RGB, Adam7 interlace. */
typedef struct { unsigned char *d; size_t n; } membuf;
static void png_mem_write(png_structp p, png_bytep b, size_t n)
{
    membuf *m = png_get_io_ptr(p);
    m->d = realloc(m->d, m->n + n);
    memcpy(m->d + m->n, b, n);
    m->n += n;
}
static void png_mem_flush(png_structp p) { (void)p; }

static void png_seed(const char *name, int w, int h, int ctype, int depth, int interlace)
{
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(p);
    membuf m = {0};
    if (setjmp(png_jmpbuf(p))) { fprintf(stderr, "libpng failed for %s\n", name); exit(1); }
    png_set_write_fn(p, &m, png_mem_write, png_mem_flush);
    png_set_IHDR(p, info, (png_uint_32)w, (png_uint_32)h, depth, ctype, interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (ctype == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[4] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {200, 200, 50}};
        png_set_PLTE(p, info, pal, 4);
        png_byte tr[2] = {0, 128};
        png_set_tRNS(p, info, tr, 2, NULL);
    }
    png_write_info(p, info);
    int ch = ctype == PNG_COLOR_TYPE_RGB ? 3 : ctype == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 :
             ctype == PNG_COLOR_TYPE_RGB_ALPHA ? 4 : 1;
    size_t rowbytes = ((size_t)w * ch * depth + 7) / 8;
    unsigned char *row = malloc(rowbytes);
    int passes = png_set_interlace_handling(p);
    for (int pass = 0; pass < passes; pass++)
        for (int y = 0; y < h; y++) {
            for (size_t i = 0; i < rowbytes; i++) row[i] = (unsigned char)(y * 31 + i * 17);
            if (ctype == PNG_COLOR_TYPE_PALETTE && depth == 8)
                for (size_t i = 0; i < rowbytes; i++) row[i] &= 3;
            png_write_row(p, row);
        }
    png_write_end(p, NULL);
    png_destroy_write_struct(&p, &info);
    free(row);
    put("fuzz_png", name, m.d, m.n);
    free(m.d);
}

/* An EXIF APP1 payload ("Exif\0\0" + little-endian TIFF, IFD0 with Orientation). */
static size_t exif_app1(uint8_t *b, int orientation, int big_endian)
{
    size_t n = 0;
    memcpy(b, "Exif\0\0", 6);
    n = 6;
    uint8_t *t = b + n;
    if (big_endian) { t[0] = 'M'; t[1] = 'M'; t[2] = 0; t[3] = 42; t[4] = 0; t[5] = 0; t[6] = 0; t[7] = 8; }
    else { t[0] = 'I'; t[1] = 'I'; t[2] = 42; t[3] = 0; t[4] = 8; t[5] = 0; t[6] = 0; t[7] = 0; }
    uint8_t *ifd = t + 8;
#define PUT16(p, v) do { if (big_endian) { (p)[0] = (uint8_t)((v) >> 8); (p)[1] = (uint8_t)(v); } \
                         else { (p)[0] = (uint8_t)(v); (p)[1] = (uint8_t)((v) >> 8); } } while (0)
    PUT16(ifd, 1);                 /* one entry */
    PUT16(ifd + 2, 0x0112);        /* Orientation */
    PUT16(ifd + 4, 3);             /* SHORT */
    memset(ifd + 6, 0, 4);
    if (big_endian) ifd[9] = 1; else ifd[6] = 1; /* count 1 */
    memset(ifd + 10, 0, 4);
    PUT16(ifd + 10, orientation);
    memset(ifd + 14, 0, 4);        /* no next IFD */
#undef PUT16
    return 6 + 8 + 18;
}

typedef struct { struct jpeg_error_mgr pub; jmp_buf jb; } jerr;
static void jerr_exit(j_common_ptr c) { longjmp(((jerr *)c->err)->jb, 1); }

static void jpeg_seed(const char *name, int w, int h, int comps, J_COLOR_SPACE cs, int progressive,
                      int orientation, int big_endian)
{
    struct jpeg_compress_struct c;
    jerr je;
    c.err = jpeg_std_error(&je.pub);
    je.pub.error_exit = jerr_exit;
    unsigned char *out = NULL;
    unsigned long n = 0;
    if (setjmp(je.jb)) { fprintf(stderr, "libjpeg failed for %s\n", name); exit(1); }
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &out, &n);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = cs;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 50, TRUE);
    if (progressive) jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    if (orientation) {
        uint8_t app1[64];
        size_t an = exif_app1(app1, orientation, big_endian);
        jpeg_write_marker(&c, JPEG_APP0 + 1, app1, (unsigned)an);
    }
    unsigned char *row = malloc((size_t)w * comps);
    while (c.next_scanline < c.image_height) {
        for (int i = 0; i < w * comps; i++) row[i] = (unsigned char)(c.next_scanline * 29 + i * 13);
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    put("fuzz_jpeg", name, out, n);
    free(out);
}

/* ------------------------------------------------------------------ CLI argument vectors
 * The fuzzer splits its input at NUL bytes into argv[1..]. */
static void args_seed(const char *name, const char *const *args, int n)
{
    unsigned char b[1024];
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(args[i]);
        memcpy(b + k, args[i], l);
        k += l;
        if (i + 1 < n) b[k++] = 0;
    }
    put("fuzz_cli_args", name, b, k);
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: make_seeds OUTDIR\n"); return 2; }
    outdir = argv[1];
    mkdir_p(outdir);

    model_seed("full_f32.safetensors", ST_F32);
    model_seed("full_f16.safetensors", ST_F16);
    model_seed("full_bf16.safetensors", ST_BF16);
    model_seed_min();

    tflite_seeds();

    encode_seed("fuzz_png", "rgb_7x5.png", 7, 5, CARTOON_PIXEL_RGB, CARTOON_FILE_PNG, 90, 0);
    encode_seed("fuzz_png", "rgba_6x4.png", 6, 4, CARTOON_PIXEL_RGBA, CARTOON_FILE_PNG, 90, 0);
    png_seed("palette_trns_8x6.png", 8, 6, PNG_COLOR_TYPE_PALETTE, 8, PNG_INTERLACE_NONE);
    png_seed("palette2_9x5.png", 9, 5, PNG_COLOR_TYPE_PALETTE, 2, PNG_INTERLACE_NONE);
    png_seed("grey1_13x3.png", 13, 3, PNG_COLOR_TYPE_GRAY, 1, PNG_INTERLACE_NONE);
    png_seed("grey16_5x5.png", 5, 5, PNG_COLOR_TYPE_GRAY, 16, PNG_INTERLACE_NONE);
    png_seed("greyalpha_4x4.png", 4, 4, PNG_COLOR_TYPE_GRAY_ALPHA, 8, PNG_INTERLACE_NONE);
    png_seed("rgb16_adam7_9x9.png", 9, 9, PNG_COLOR_TYPE_RGB, 16, PNG_INTERLACE_ADAM7);
    png_seed("rgba_adam7_8x8.png", 8, 8, PNG_COLOR_TYPE_RGB_ALPHA, 8, PNG_INTERLACE_ADAM7);

    jpeg_seed("rgb_9x7.jpg", 9, 7, 3, JCS_RGB, 0, 0, 0);
    for (int o = 1; o <= 8; o++) {
        char nm[64];
        snprintf(nm, sizeof nm, "exif_orient%d_%s_11x6.jpg", o, o & 1 ? "le" : "be");
        jpeg_seed(nm, 11, 6, 3, JCS_RGB, 0, o, !(o & 1));
    }
    jpeg_seed("exif_orient6_progressive_10x7.jpg", 10, 7, 3, JCS_RGB, 1, 6, 0);
    jpeg_seed("grey_8x8.jpg", 8, 8, 1, JCS_GRAYSCALE, 0, 0, 0);
    jpeg_seed("cmyk_8x5.jpg", 8, 5, 4, JCS_CMYK, 0, 3, 0);

    encode_seed("fuzz_webp", "lossy_rgb_9x7.webp", 9, 7, CARTOON_PIXEL_RGB, CARTOON_FILE_WEBP, 60, 0);
    encode_seed("fuzz_webp", "lossy_rgba_8x8.webp", 8, 8, CARTOON_PIXEL_RGBA, CARTOON_FILE_WEBP, 60, 0);
    encode_seed("fuzz_webp", "lossless_rgb_7x3.webp", 7, 3, CARTOON_PIXEL_RGB, CARTOON_FILE_WEBP, 90, 1);
    encode_seed("fuzz_webp", "lossless_bgra_5x6.webp", 5, 6, CARTOON_PIXEL_BGRA, CARTOON_FILE_WEBP, 90, 1);

    static const char *const a1[] = {"-m", "model.safetensors", "in.png", "-o", "out.png"};
    static const char *const a2[] = {"--model=m", "-r", "512", "--keep-size", "-s", "0.5", "-q", "80",
                                     "--lossless", "-f", "webp", "-o", "dir/", "a.jpg", "b.webp"};
    static const char *const a3[] = {"-mmodel", "-ocartoon.jpg", "-d", "cpu", "-t", "4", "--conv",
                                     "fast", "--precision", "bf16", "-v", "--", "-in.png"};
    static const char *const a4[] = {"--resolution", "native", "--device=cuda", "--conv=im2col",
                                     "--precision=fp16", "--strength=1", "--quality", "100", "x"};
    static const char *const a5[] = {"-h"};
    static const char *const a6[] = {"--version"};
    static const char *const a7[] = {"-m", "-x", "-r", "0", "--thr", "9", "-q"};
    args_seed("basic", a1, 5);
    args_seed("batch_dir", a2, 15);
    args_seed("joined", a3, 13);
    args_seed("long_eq", a4, 9);
    args_seed("help", a5, 1);
    args_seed("version", a6, 1);
    args_seed("errors", a7, 7);
    return 0;
}
