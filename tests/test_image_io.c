/* Image file I/O: PNG, JPEG (with EXIF orientation) and WebP decode/encode, limits, hostile
 * input and atomic writes. All test files are generated here, with libpng/libjpeg directly
 * where the library's own encoder cannot produce the layout under test. */
#include "support/check.h"
#include "cartoon.h"
#include "cartoon_io.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <png.h>
#include <jpeglib.h>

static char g_dir[256]; /* scratch directory for file tests */

static const char *tmp_path(const char *name)
{
    static char bufs[8][512];
    static int k;
    char *b = bufs[k++ & 7];
    snprintf(b, sizeof bufs[0], "%s/%s", g_dir, name);
    return b;
}

static int channels_of(cartoon_pixel_format f)
{
    return f == CARTOON_PIXEL_RGBA || f == CARTOON_PIXEL_BGRA ? 4 : 3;
}

/* ------------------------------------------------------------------ synthetic images */

/* Smooth gradients (so lossy codecs do well) and an alpha that varies everywhere. Rows are
 * padded by pad bytes of junk, to catch codecs that assume stride == width * channels. */
static cartoon_image make_image(int w, int h, cartoon_pixel_format f, size_t pad)
{
    cartoon_image img = {0};
    int ch = channels_of(f);
    img.width = w;
    img.height = h;
    img.format = f;
    img.stride = (size_t)w * ch + pad;
    img.data = malloc(img.stride * h);
    memset(img.data, 0xA5, img.stride * h);
    int bgr = f == CARTOON_PIXEL_BGR || f == CARTOON_PIXEL_BGRA;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img.data + (size_t)y * img.stride + (size_t)x * ch;
            uint8_t r = (uint8_t)(x * 255 / (w > 1 ? w - 1 : 1));
            uint8_t g = (uint8_t)(y * 255 / (h > 1 ? h - 1 : 1));
            uint8_t b = (uint8_t)(64 + (x + y) * 128 / (w + h));
            p[0] = bgr ? b : r;
            p[1] = g;
            p[2] = bgr ? r : b;
            if (ch == 4) p[3] = (uint8_t)(x * 7 + y * 13);
        }
    return img;
}

/* Pixel as R,G,B,A whatever the layout. */
static void get_rgba(const cartoon_image *img, int x, int y, uint8_t out[4])
{
    int ch = channels_of(img->format);
    const uint8_t *p = img->data + (size_t)y * img->stride + (size_t)x * ch;
    int bgr = img->format == CARTOON_PIXEL_BGR || img->format == CARTOON_PIXEL_BGRA;
    out[0] = bgr ? p[2] : p[0];
    out[1] = p[1];
    out[2] = bgr ? p[0] : p[2];
    out[3] = ch == 4 ? p[3] : 255;
}

/* PSNR of the RGB planes; *alpha_diff gets the largest alpha difference. */
static double compare_rgb(const cartoon_image *a, const cartoon_image *b, int *alpha_diff)
{
    size_t n = (size_t)a->width * a->height * 3, k = 0;
    uint8_t *pa = malloc(n), *pb = malloc(n);
    int ad = 0;
    for (int y = 0; y < a->height; y++)
        for (int x = 0; x < a->width; x++) {
            uint8_t ca[4], cb[4];
            get_rgba(a, x, y, ca);
            get_rgba(b, x, y, cb);
            memcpy(pa + k, ca, 3);
            memcpy(pb + k, cb, 3);
            k += 3;
            int d = abs((int)ca[3] - (int)cb[3]);
            if (d > ad) ad = d;
        }
    double p = psnr_u8(pa, pb, n);
    free(pa);
    free(pb);
    if (alpha_diff) *alpha_diff = ad;
    return p;
}

static unsigned char *encode_ok(const cartoon_image *img, cartoon_file_format f, int quality,
                                int lossless, size_t *n)
{
    cartoon_write_options opt;
    cartoon_write_options_default(&opt);
    opt.quality = quality;
    opt.lossless = lossless;
    unsigned char *buf = NULL;
    char err[256] = "";
    cartoon_status st = cartoon_image_encode(img, f, &opt, &buf, n, err, sizeof err);
    CHECKF(st == CARTOON_OK && buf && *n > 0, "encode fmt %d: %s (%s)", (int)f,
           cartoon_status_name(st), err);
    return buf;
}

/* ------------------------------------------------------------------ hand-made files */

typedef struct membuf {
    unsigned char *data;
    size_t size;
} membuf;

static void membuf_put(membuf *m, const void *p, size_t n)
{
    m->data = realloc(m->data, m->size + n);
    memcpy(m->data + m->size, p, n);
    m->size += n;
}

static uint32_t crc32_bytes(uint32_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}

static void png_chunk(membuf *m, const char *type, const unsigned char *data, uint32_t len)
{
    unsigned char hdr[8];
    put_be32(hdr, len);
    memcpy(hdr + 4, type, 4);
    membuf_put(m, hdr, 8);
    if (len) membuf_put(m, data, len);
    uint32_t crc = crc32_bytes(0, (const unsigned char *)type, 4);
    crc = crc32_bytes(crc, data, len);
    unsigned char c[4];
    put_be32(c, crc);
    membuf_put(m, c, 4);
}

/* A PNG whose IHDR says width x height, with valid CRCs and a token IDAT. */
static membuf crafted_png(uint32_t width, uint32_t height, int with_rest)
{
    membuf m = {0};
    membuf_put(&m, "\x89PNG\r\n\x1a\n", 8);
    unsigned char ihdr[13] = {0};
    put_be32(ihdr, width);
    put_be32(ihdr + 4, height);
    ihdr[8] = 8;  /* depth */
    ihdr[9] = 2;  /* RGB */
    png_chunk(&m, "IHDR", ihdr, 13);
    if (with_rest) {
        static const unsigned char idat[] = {0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01};
        png_chunk(&m, "IDAT", idat, sizeof idat);
        png_chunk(&m, "IEND", NULL, 0);
    }
    return m;
}

static void png_mem_write(png_structp png, png_bytep p, size_t n)
{
    membuf_put(png_get_io_ptr(png), p, n);
}
static void png_mem_flush(png_structp png) { (void)png; }

/* Writes rows (already in the PNG's own sample layout, big-endian for 16 bits) with libpng. */
static membuf libpng_write(int w, int h, int depth, int ctype, int interlace,
                           unsigned char **rows, const png_color *pal, int npal,
                           const unsigned char *trns, int ntrns)
{
    membuf m = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        CHECK(!"libpng failed writing a test file");
        png_destroy_write_struct(&png, &info);
        return m;
    }
    png_set_write_fn(png, &m, png_mem_write, png_mem_flush);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, ctype, interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (pal) png_set_PLTE(png, info, pal, npal);
    if (trns) png_set_tRNS(png, info, trns, ntrns, NULL);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return m;
}

static unsigned char **alloc_rows(int h, size_t rowbytes)
{
    unsigned char **rows = malloc(sizeof *rows * h);
    for (int y = 0; y < h; y++) rows[y] = calloc(1, rowbytes);
    return rows;
}

static void free_rows(unsigned char **rows, int h)
{
    for (int y = 0; y < h; y++) free(rows[y]);
    free(rows);
}

static void put16(unsigned char *t, size_t *n, unsigned v, int big_endian)
{
    t[*n + (big_endian ? 0 : 1)] = (unsigned char)(v >> 8);
    t[*n + (big_endian ? 1 : 0)] = (unsigned char)v;
    *n += 2;
}

static void put32(unsigned char *t, size_t *n, unsigned long v, int big_endian)
{
    put16(t, n, (unsigned)(big_endian ? v >> 16 : v & 0xFFFF), big_endian);
    put16(t, n, (unsigned)(big_endian ? v & 0xFFFF : v >> 16), big_endian);
}

/* EXIF APP1 payload holding only IFD0 with Orientation, in either byte order. */
static size_t make_exif_orientation(unsigned char *b, int orientation, int big_endian)
{
    memcpy(b, "Exif\0\0", 6);
    unsigned char *t = b + 6;
    size_t n = 0;
    t[n++] = big_endian ? 'M' : 'I';
    t[n++] = big_endian ? 'M' : 'I';
    put16(t, &n, 42, big_endian);
    put32(t, &n, 8, big_endian);      /* IFD0 offset */
    put16(t, &n, 1, big_endian);      /* one entry */
    put16(t, &n, 0x0112, big_endian); /* Orientation */
    put16(t, &n, 3, big_endian);      /* SHORT */
    put32(t, &n, 1, big_endian);      /* count */
    put16(t, &n, (unsigned)orientation, big_endian);
    put16(t, &n, 0, big_endian);      /* value padding */
    put32(t, &n, 0, big_endian);      /* no next IFD */
    return 6 + n;
}

/* A JPEG written with libjpeg directly: optional APP1, any input colour space. */
static membuf libjpeg_write(int w, int h, int comps, J_COLOR_SPACE space, const unsigned char *pix,
                            const unsigned char *app1, size_t app1_len, int quality)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    unsigned char *out = NULL;
    unsigned long outsize = 0;
    jpeg_mem_dest(&c, &out, &outsize);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = space;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    jpeg_start_compress(&c, TRUE);
    if (app1) jpeg_write_marker(&c, JPEG_APP0 + 1, app1, (unsigned)app1_len);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(pix + (size_t)c.next_scanline * w * comps);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    membuf m = {out, outsize};
    return m;
}

/* ------------------------------------------------------------------ cases */

static void test_null_arguments(void)
{
    cartoon_image img = {0};
    unsigned char byte = 0, *buf = NULL;
    size_t n = 0;
    char err[128];
    cartoon_image good = make_image(4, 4, CARTOON_PIXEL_RGB, 0);
    CHECK(cartoon_image_decode(NULL, 10, 0, &img, err, sizeof err) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(err[0] != '\0');
    CHECK(cartoon_image_decode(&byte, 1, 0, NULL, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_image_read(NULL, 0, &img, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_image_read("x.png", 0, NULL, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_image_encode(NULL, CARTOON_FILE_PNG, NULL, &buf, &n, NULL, 0) ==
          CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_image_encode(&good, CARTOON_FILE_PNG, NULL, NULL, &n, NULL, 0) ==
          CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_image_encode(&good, CARTOON_FILE_PNG, NULL, &buf, NULL, NULL, 0) ==
          CARTOON_E_INVALID_ARGUMENT);
    CHECK(buf == NULL);
    cartoon_image nodata = good;
    nodata.data = NULL;
    CHECK(cartoon_image_encode(&nodata, CARTOON_FILE_PNG, NULL, &buf, &n, NULL, 0) ==
          CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_image_write(NULL, &good, CARTOON_FILE_AUTO, NULL, NULL, 0) ==
          CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_image_write(tmp_path("null.png"), NULL, CARTOON_FILE_AUTO, NULL, NULL, 0) ==
          CARTOON_E_INVALID_ARGUMENT);
    CHECK(access(tmp_path("null.png"), F_OK) != 0);
    cartoon_image_free(NULL);
    cartoon_write_options_default(NULL);
    CHECK(cartoon_file_format_sniff(NULL, 10) == CARTOON_FILE_AUTO);
    CHECK(cartoon_file_format_from_path(NULL) == CARTOON_FILE_AUTO);
    free(good.data);
}

static void test_format_detection(void)
{
    CHECK(cartoon_file_format_from_path("a.png") == CARTOON_FILE_PNG);
    CHECK(cartoon_file_format_from_path("dir/A.PNG") == CARTOON_FILE_PNG);
    CHECK(cartoon_file_format_from_path("b.jpg") == CARTOON_FILE_JPEG);
    CHECK(cartoon_file_format_from_path("b.JPeG") == CARTOON_FILE_JPEG);
    CHECK(cartoon_file_format_from_path("c.webp") == CARTOON_FILE_WEBP);
    CHECK(cartoon_file_format_from_path("c.bmp") == CARTOON_FILE_AUTO);
    CHECK(cartoon_file_format_from_path("noext") == CARTOON_FILE_AUTO);
    CHECK(cartoon_file_format_from_path(".png") == CARTOON_FILE_AUTO);
    CHECK(cartoon_file_format_from_path("x.png/file") == CARTOON_FILE_AUTO);
    CHECK(cartoon_file_format_from_path("x.png.") == CARTOON_FILE_AUTO);
    CHECK(cartoon_file_format_sniff("\x89PNG\r\n\x1a\n", 8) == CARTOON_FILE_PNG);
    CHECK(cartoon_file_format_sniff("\x89PNG\r\n\x1a", 7) == CARTOON_FILE_AUTO);
    CHECK(cartoon_file_format_sniff("\xff\xd8\xff", 3) == CARTOON_FILE_JPEG);
    CHECK(cartoon_file_format_sniff("RIFF\0\0\0\0WEBP", 12) == CARTOON_FILE_WEBP);
    CHECK(cartoon_file_format_sniff("RIFF\0\0\0\0WAVE", 12) == CARTOON_FILE_AUTO);
    CHECK(cartoon_file_format_sniff("GIF89a", 6) == CARTOON_FILE_AUTO);
    cartoon_write_options o;
    cartoon_write_options_default(&o);
    CHECK(o.quality == 90 && o.lossless == 0 && o.png_compression == 4);
}

typedef struct codec_case {
    const char *name;
    cartoon_file_format fmt;
    int lossless;      /* WebP */
    double min_psnr;   /* INFINITY: exact */
    int keeps_alpha;
} codec_case;

static const codec_case codecs[] = {
    {"png", CARTOON_FILE_PNG, 0, INFINITY, 1},
    {"webp-lossless", CARTOON_FILE_WEBP, 1, INFINITY, 1},
    {"jpeg", CARTOON_FILE_JPEG, 0, 32.0, 0},
    {"webp-lossy", CARTOON_FILE_WEBP, 0, 32.0, 1},
};

/* Every codec x every pixel format x packed and padded rows. */
static void test_round_trips(void)
{
    static const cartoon_pixel_format fmts[] = {CARTOON_PIXEL_RGB, CARTOON_PIXEL_RGBA,
                                                CARTOON_PIXEL_BGR, CARTOON_PIXEL_BGRA};
    for (size_t c = 0; c < sizeof codecs / sizeof codecs[0]; c++)
        for (size_t f = 0; f < 4; f++)
            for (size_t pad = 0; pad <= 13; pad += 13) {
                const codec_case *cc = &codecs[c];
                cartoon_image src = make_image(67, 45, fmts[f], pad);
                size_t n = 0;
                unsigned char *buf = encode_ok(&src, cc->fmt, 90, cc->lossless, &n);
                if (!buf) { free(src.data); continue; }
                CHECK(cartoon_file_format_sniff(buf, n) == cc->fmt);
                cartoon_image out;
                char err[256] = "";
                cartoon_status st = cartoon_image_decode(buf, n, 0, &out, err, sizeof err);
                CHECKF(st == CARTOON_OK, "%s fmt %d pad %zu: %s", cc->name, (int)fmts[f], pad, err);
                if (st == CARTOON_OK) {
                    int alpha_in = channels_of(fmts[f]) == 4;
                    int alpha_out = alpha_in && cc->keeps_alpha;
                    CHECK(out.width == 67 && out.height == 45);
                    CHECK(out.format == (alpha_out ? CARTOON_PIXEL_RGBA : CARTOON_PIXEL_RGB));
                    CHECK(out.stride == (size_t)out.width * (alpha_out ? 4 : 3));
                    int ad = 0;
                    double p = compare_rgb(&src, &out, &ad);
                    CHECKF(p >= cc->min_psnr, "%s fmt %d pad %zu: PSNR %.2f < %.2f", cc->name,
                           (int)fmts[f], pad, p, cc->min_psnr);
                    if (alpha_out) CHECKF(ad == 0, "%s fmt %d: alpha differs by %d", cc->name, (int)fmts[f], ad);
                }
                cartoon_image_free(&out);
                CHECK(out.data == NULL && out.width == 0);
                free(buf);
                free(src.data);
            }
}

/* An image with alpha must keep exact RGB even where alpha is 0 in the lossless codecs. */
static void test_alpha_passthrough(void)
{
    cartoon_image src = make_image(32, 32, CARTOON_PIXEL_RGBA, 0);
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 32; x++) src.data[(size_t)y * src.stride + x * 4 + 3] = (x < 16) ? 0 : (uint8_t)(y * 8);
    for (int c = 0; c < 2; c++) {
        size_t n;
        unsigned char *buf = encode_ok(&src, codecs[c].fmt, 90, codecs[c].lossless, &n);
        cartoon_image out;
        CHECK(cartoon_image_decode(buf, n, 0, &out, NULL, 0) == CARTOON_OK);
        CHECK(out.format == CARTOON_PIXEL_RGBA);
        CHECKF(out.data && memcmp(out.data, src.data, 32 * 32 * 4) == 0, "%s RGBA not exact", codecs[c].name);
        cartoon_image_free(&out);
        free(buf);
    }
    free(src.data);
}

static void check_decoded_png(membuf m, int w, int h, cartoon_pixel_format want,
                              const uint8_t *expect, const char *what)
{
    cartoon_image out;
    char err[256] = "";
    cartoon_status st = cartoon_image_decode(m.data, m.size, 0, &out, err, sizeof err);
    CHECKF(st == CARTOON_OK, "%s: %s", what, err);
    if (st != CARTOON_OK) return;
    CHECKF(out.width == w && out.height == h && out.format == want, "%s: %dx%d fmt %d", what,
           out.width, out.height, (int)out.format);
    size_t n = (size_t)w * h * channels_of(want);
    if (out.width == w && out.height == h && out.format == want)
        CHECKF(memcmp(out.data, expect, n) == 0, "%s: pixels differ", what);
    cartoon_image_free(&out);
}

static void test_png_16bit(void)
{
    const int w = 19, h = 7;
    for (int alpha = 0; alpha <= 1; alpha++) {
        int ch = alpha ? 4 : 3;
        unsigned char **rows = alloc_rows(h, (size_t)w * ch * 2);
        uint8_t *expect = malloc((size_t)w * h * ch);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < ch; c++) {
                    uint8_t v = (uint8_t)(x * 13 + y * 29 + c * 71);
                    unsigned v16 = v * 257u; /* exactly representable back in 8 bits */
                    rows[y][(x * ch + c) * 2] = (unsigned char)(v16 >> 8);
                    rows[y][(x * ch + c) * 2 + 1] = (unsigned char)v16;
                    expect[((size_t)y * w + x) * ch + c] = v;
                }
        membuf m = libpng_write(w, h, 16, alpha ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
                                PNG_INTERLACE_NONE, rows, NULL, 0, NULL, 0);
        check_decoded_png(m, w, h, alpha ? CARTOON_PIXEL_RGBA : CARTOON_PIXEL_RGB, expect,
                          alpha ? "16-bit RGBA" : "16-bit RGB");
        free(m.data);
        free(expect);
        free_rows(rows, h);
    }
}

static void test_png_grey(void)
{
    const int w = 21, h = 5;
    /* 8-bit grey, grey + alpha, 16-bit grey, and 1/2/4-bit grey (scaled to 0..255). */
    static const int depths[] = {8, 16, 1, 2, 4};
    for (size_t k = 0; k < sizeof depths / sizeof depths[0]; k++) {
        int depth = depths[k];
        unsigned char **rows = alloc_rows(h, (size_t)w * 2);
        uint8_t *expect = malloc((size_t)w * h * 3);
        int maxv = (1 << (depth > 8 ? 8 : depth)) - 1;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int v = (x + y * 3) % (maxv + 1);
                uint8_t v8 = (uint8_t)(v * 255 / maxv);
                if (depth == 16) { rows[y][2 * x] = (unsigned char)v; rows[y][2 * x + 1] = (unsigned char)v; }
                else if (depth == 8) rows[y][x] = (unsigned char)v;
                else {
                    int per = 8 / depth, shift = 8 - depth * (x % per + 1);
                    rows[y][x / per] |= (unsigned char)(v << shift);
                }
                memset(expect + ((size_t)y * w + x) * 3, v8, 3);
            }
        membuf m = libpng_write(w, h, depth, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, rows, NULL, 0,
                                NULL, 0);
        char what[64];
        snprintf(what, sizeof what, "grey %d-bit", depth);
        check_decoded_png(m, w, h, CARTOON_PIXEL_RGB, expect, what);
        free(m.data);
        free(expect);
        free_rows(rows, h);
    }
    /* grey + alpha */
    unsigned char **rows = alloc_rows(h, (size_t)w * 2);
    uint8_t *expect = malloc((size_t)w * h * 4);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            rows[y][2 * x] = (unsigned char)(x * 10);
            rows[y][2 * x + 1] = (unsigned char)(y * 50);
            uint8_t *e = expect + ((size_t)y * w + x) * 4;
            e[0] = e[1] = e[2] = (uint8_t)(x * 10);
            e[3] = (uint8_t)(y * 50);
        }
    membuf m = libpng_write(w, h, 8, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_INTERLACE_NONE, rows, NULL, 0,
                            NULL, 0);
    check_decoded_png(m, w, h, CARTOON_PIXEL_RGBA, expect, "grey+alpha");
    free(m.data);
    free(expect);
    free_rows(rows, h);
}

static void test_png_palette(void)
{
    const int w = 16, h = 9;
    png_color pal[4] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}};
    unsigned char trns[3] = {0, 128, 255}; /* entry 3 has no tRNS entry: opaque */
    for (int with_trns = 0; with_trns <= 1; with_trns++)
        for (int depth = 2; depth <= 8; depth += 6) {
            unsigned char **rows = alloc_rows(h, (size_t)w);
            int ch = with_trns ? 4 : 3;
            uint8_t *expect = malloc((size_t)w * h * ch);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    int idx = (x + y) % 4;
                    if (depth == 8) rows[y][x] = (unsigned char)idx;
                    else rows[y][x / 4] |= (unsigned char)(idx << (6 - 2 * (x % 4)));
                    uint8_t *e = expect + ((size_t)y * w + x) * ch;
                    e[0] = pal[idx].red; e[1] = pal[idx].green; e[2] = pal[idx].blue;
                    if (with_trns) e[3] = idx < 3 ? trns[idx] : 255;
                }
            membuf m = libpng_write(w, h, depth, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, rows,
                                    pal, 4, with_trns ? trns : NULL, 3);
            char what[64];
            snprintf(what, sizeof what, "palette %d-bit%s", depth, with_trns ? " + tRNS" : "");
            check_decoded_png(m, w, h, with_trns ? CARTOON_PIXEL_RGBA : CARTOON_PIXEL_RGB, expect, what);
            free(m.data);
            free(expect);
            free_rows(rows, h);
        }
    /* tRNS on an RGB image: one colour becomes transparent. */
    unsigned char **rows = alloc_rows(h, (size_t)w * 3);
    uint8_t *expect = malloc((size_t)w * h * 4);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t v = (x % 2) ? 200 : 100;
            memset(rows[y] + x * 3, v, 3);
            uint8_t *e = expect + ((size_t)y * w + x) * 4;
            memset(e, v, 3);
            e[3] = v == 100 ? 0 : 255;
        }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    membuf m = {0};
    png_set_write_fn(png, &m, png_mem_write, png_mem_flush);
    png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_color_16 key = {0, 100, 100, 100, 0};
    png_set_tRNS(png, info, NULL, 0, &key);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    check_decoded_png(m, w, h, CARTOON_PIXEL_RGBA, expect, "RGB + tRNS key");
    free(m.data);
    free(expect);
    free_rows(rows, h);
}

static void test_png_interlaced(void)
{
    const int w = 37, h = 23;
    unsigned char **rows = alloc_rows(h, (size_t)w * 4);
    uint8_t *expect = malloc((size_t)w * h * 4);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 4; c++) {
                uint8_t v = (uint8_t)(x * 31 + y * 17 + c * 60);
                rows[y][x * 4 + c] = v;
                expect[((size_t)y * w + x) * 4 + c] = v;
            }
    membuf m = libpng_write(w, h, 8, PNG_COLOR_TYPE_RGB_ALPHA, PNG_INTERLACE_ADAM7, rows, NULL, 0,
                            NULL, 0);
    check_decoded_png(m, w, h, CARTOON_PIXEL_RGBA, expect, "Adam7 RGBA");
    free(m.data);
    free(expect);
    free_rows(rows, h);
}

/* Stored quadrant colours: TL red, TR green, BL blue, BR yellow. */
static const uint8_t quad_colour[4][3] = {{230, 20, 20}, {20, 230, 20}, {20, 20, 230}, {230, 230, 20}};

/* Where the stored TL, TR, BL, BR quadrants are shown (0 TL, 1 TR, 2 BL, 3 BR), per the
 * EXIF table of what the 0th row and 0th column become. */
static const int orientation_dest[9][4] = {
    {0, 0, 0, 0},
    {0, 1, 2, 3}, /* 1 as stored */
    {1, 0, 3, 2}, /* 2 mirrored left-right */
    {3, 2, 1, 0}, /* 3 rotated 180 */
    {2, 3, 0, 1}, /* 4 mirrored top-bottom */
    {0, 2, 1, 3}, /* 5 transposed */
    {1, 3, 0, 2}, /* 6 rotated 90 clockwise */
    {3, 1, 2, 0}, /* 7 transversed */
    {2, 0, 3, 1}, /* 8 rotated 90 counter-clockwise */
};

static void test_jpeg_exif_orientation(void)
{
    const int w = 64, h = 32; /* not square, so rotations show in the size */
    unsigned char *pix = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) memcpy(pix + ((size_t)y * w + x) * 3, quad_colour[(y >= h / 2) * 2 + (x >= w / 2)], 3);
    for (int be = 0; be <= 1; be++)
        for (int o = 1; o <= 8; o++) {
            unsigned char app1[64];
            size_t len = make_exif_orientation(app1, o, be);
            membuf m = libjpeg_write(w, h, 3, JCS_RGB, pix, app1, len, 95);
            cartoon_image out;
            char err[256] = "";
            cartoon_status st = cartoon_image_decode(m.data, m.size, 0, &out, err, sizeof err);
            CHECKF(st == CARTOON_OK, "orientation %d: %s", o, err);
            free(m.data);
            if (st != CARTOON_OK) continue;
            int ow = o >= 5 ? h : w, oh = o >= 5 ? w : h;
            CHECKF(out.width == ow && out.height == oh, "orientation %d (%s): %dx%d, want %dx%d", o,
                   be ? "MM" : "II", out.width, out.height, ow, oh);
            if (out.width == ow && out.height == oh)
                for (int q = 0; q < 4; q++) {
                    int d = orientation_dest[o][q];
                    int cx = (d & 1) ? ow * 3 / 4 : ow / 4, cy = (d & 2) ? oh * 3 / 4 : oh / 4;
                    uint8_t c[4];
                    get_rgba(&out, cx, cy, c);
                    int ok = 1;
                    for (int k = 0; k < 3; k++) ok &= abs((int)c[k] - quad_colour[q][k]) <= 24;
                    CHECKF(ok, "orientation %d (%s): stored quadrant %d not at %d (got %d,%d,%d)", o,
                           be ? "MM" : "II", q, d, c[0], c[1], c[2]);
                }
            cartoon_image_free(&out);
        }
    /* Unreadable EXIF and an out-of-range value leave the image as stored. */
    unsigned char bad[40] = "Exif\0\0garbage-not-a-tiff-header";
    unsigned char app1[64];
    size_t len = make_exif_orientation(app1, 9, 0);
    for (int k = 0; k < 2; k++) {
        membuf m = k ? libjpeg_write(w, h, 3, JCS_RGB, pix, app1, len, 95)
                     : libjpeg_write(w, h, 3, JCS_RGB, pix, bad, sizeof bad, 95);
        cartoon_image out;
        CHECK(cartoon_image_decode(m.data, m.size, 0, &out, NULL, 0) == CARTOON_OK);
        CHECK(out.width == w && out.height == h);
        cartoon_image_free(&out);
        free(m.data);
    }
    free(pix);
}

static void test_jpeg_grey_and_cmyk(void)
{
    const int w = 24, h = 16;
    unsigned char *grey = malloc((size_t)w * h);
    for (int i = 0; i < w * h; i++) grey[i] = (unsigned char)(i % w * 10);
    membuf m = libjpeg_write(w, h, 1, JCS_GRAYSCALE, grey, NULL, 0, 95);
    cartoon_image out;
    CHECK(cartoon_image_decode(m.data, m.size, 0, &out, NULL, 0) == CARTOON_OK);
    CHECK(out.format == CARTOON_PIXEL_RGB && out.width == w && out.height == h);
    if (out.data) {
        int maxd = 0, grey_ok = 1;
        for (int i = 0; i < w * h; i++) {
            const uint8_t *p = out.data + (size_t)i * 3;
            grey_ok &= p[0] == p[1] && p[1] == p[2];
            int d = abs((int)p[0] - grey[i]);
            if (d > maxd) maxd = d;
        }
        CHECK(grey_ok);
        CHECKF(maxd <= 12, "grey error %d", maxd);
    }
    cartoon_image_free(&out);
    free(m.data);
    free(grey);

    /* Adobe-style (inverted) CMYK; libjpeg writes the Adobe marker for CMYK input. */
    unsigned char *cmyk = malloc((size_t)w * h * 4);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *p = cmyk + ((size_t)y * w + x) * 4;
            /* left half red (ink M+Y), right half 50% grey (ink K) */
            unsigned char ink[4] = {0, 255, 255, 0};
            if (x >= w / 2) { ink[1] = ink[2] = 0; ink[3] = 128; }
            for (int k = 0; k < 4; k++) p[k] = (unsigned char)(255 - ink[k]);
        }
    m = libjpeg_write(w, h, 4, JCS_CMYK, cmyk, NULL, 0, 95);
    CHECK(cartoon_image_decode(m.data, m.size, 0, &out, NULL, 0) == CARTOON_OK);
    CHECK(out.format == CARTOON_PIXEL_RGB && out.width == w && out.height == h);
    if (out.data) {
        uint8_t c[4];
        get_rgba(&out, w / 4, h / 2, c);
        CHECKF(c[0] > 220 && c[1] < 35 && c[2] < 35, "CMYK red decoded as %d,%d,%d", c[0], c[1], c[2]);
        get_rgba(&out, w * 3 / 4, h / 2, c);
        CHECKF(abs(c[0] - 127) < 12 && abs(c[1] - 127) < 12 && abs(c[2] - 127) < 12,
               "CMYK grey decoded as %d,%d,%d", c[0], c[1], c[2]);
    }
    cartoon_image_free(&out);
    free(m.data);
    free(cmyk);
}

static void test_jpeg_quality_option(void)
{
    cartoon_image src = make_image(64, 64, CARTOON_PIXEL_RGB, 0);
    for (int i = 0; i < 64 * 64 * 3; i += 7) src.data[i] ^= 0x3F; /* detail for the quantiser */
    size_t n_lo, n_hi;
    unsigned char *lo = encode_ok(&src, CARTOON_FILE_JPEG, 20, 0, &n_lo);
    unsigned char *hi = encode_ok(&src, CARTOON_FILE_JPEG, 98, 0, &n_hi);
    CHECKF(n_lo < n_hi, "q20 %zu bytes, q98 %zu bytes", n_lo, n_hi);
    cartoon_image a, b;
    CHECK(cartoon_image_decode(lo, n_lo, 0, &a, NULL, 0) == CARTOON_OK);
    CHECK(cartoon_image_decode(hi, n_hi, 0, &b, NULL, 0) == CARTOON_OK);
    if (a.data && b.data) CHECK(compare_rgb(&src, &a, NULL) < compare_rgb(&src, &b, NULL));
    cartoon_image_free(&a);
    cartoon_image_free(&b);
    free(lo);
    free(hi);
    free(src.data);
}

/* Encoded samples of each format for the hostile-input cases: noisy enough that the files
 * span several KB (several PNG IDAT chunks, many JPEG MCUs). */
#define N_SAMPLES 5
static unsigned char *sample_file(int which, size_t *n)
{
    const int w = 64, h = 48;
    cartoon_image src = make_image(w, h, which == 1 || which == 4 ? CARTOON_PIXEL_RGB : CARTOON_PIXEL_RGBA, 0);
    uint32_t seed = 12345;
    for (size_t i = 0; i < src.stride * h; i++) {
        seed = seed * 1103515245u + 12345u;
        src.data[i] ^= (uint8_t)(seed >> 27);
    }
    unsigned char *buf = NULL;
    if (which == 4) {
        /* Progressive JPEG (the library's encoder writes baseline only). */
        struct jpeg_compress_struct c;
        struct jpeg_error_mgr jerr;
        unsigned long size = 0;
        c.err = jpeg_std_error(&jerr);
        jpeg_create_compress(&c);
        jpeg_mem_dest(&c, &buf, &size);
        c.image_width = w;
        c.image_height = h;
        c.input_components = 3;
        c.in_color_space = JCS_RGB;
        jpeg_set_defaults(&c);
        jpeg_simple_progression(&c);
        jpeg_start_compress(&c, TRUE);
        while (c.next_scanline < c.image_height) {
            JSAMPROW row = src.data + (size_t)c.next_scanline * src.stride;
            jpeg_write_scanlines(&c, &row, 1);
        }
        jpeg_finish_compress(&c);
        jpeg_destroy_compress(&c);
        *n = size;
    } else {
        static const cartoon_file_format f[] = {CARTOON_FILE_PNG, CARTOON_FILE_JPEG,
                                                CARTOON_FILE_WEBP, CARTOON_FILE_WEBP};
        buf = encode_ok(&src, f[which], 80, which == 3, n);
    }
    free(src.data);
    return buf;
}
static const char *const sample_name[N_SAMPLES] = {"png", "jpeg", "webp-lossy", "webp-lossless",
                                                   "jpeg-progressive"};

static void test_truncated(void)
{
    for (int which = 0; which < N_SAMPLES; which++) {
        size_t n;
        unsigned char *full = sample_file(which, &n);
        if (!full) continue;
        int bad = 0;
        /* Every cut length: files are a few KB, and the end is where codecs get lax. */
        for (size_t cut = 0; cut < n; cut++) {
            unsigned char *part = malloc(cut ? cut : 1); /* exact size: ASan sees overreads */
            memcpy(part, full, cut);
            cartoon_image out;
            char err[256] = "";
            cartoon_status st = cartoon_image_decode(part, cut, 0, &out, err, sizeof err);
            if (st != CARTOON_E_BAD_IMAGE) {
                if (bad++ < 5)
                    fprintf(stderr, "  %s cut at %zu of %zu: %s %s\n", sample_name[which], cut, n,
                            cartoon_status_name(st), err);
            } else if (!err[0] || out.data || out.width) {
                bad++;
            }
            cartoon_image_free(&out);
            free(part);
        }
        CHECKF(bad == 0, "%s: %d of %zu truncations not refused as BAD_IMAGE", sample_name[which],
               bad, n);
        free(full);
    }
}

static void test_corrupted(void)
{
    rng_seed(1234);
    for (int which = 0; which < N_SAMPLES; which++) {
        size_t n;
        unsigned char *full = sample_file(which, &n);
        if (!full) continue;
        int bad = 0, refused = 0;
        unsigned char *copy = malloc(n);
        for (int trial = 0; trial < 400; trial++) {
            memcpy(copy, full, n);
            int flips = 1 + (int)(rng_u32() % 8);
            for (int k = 0; k < flips; k++) {
                size_t pos = rng_u32() % n;
                if (trial % 2) copy[pos] = (unsigned char)rng_u32();      /* garbage byte */
                else copy[pos] ^= (unsigned char)(1u << (rng_u32() % 8)); /* bit flip */
            }
            cartoon_image out;
            cartoon_status st = cartoon_image_decode(copy, n, 0, &out, NULL, 0);
            /* Entropy-coded damage can decode to wrong pixels without any detectable error;
             * what must hold is: no crash, and a result that is either valid or refused. */
            if (st == CARTOON_OK) {
                if (!out.data || out.width <= 0 || out.height <= 0) bad++;
            } else if (st == CARTOON_E_BAD_IMAGE || st == CARTOON_E_LIMIT) {
                refused++;
                if (out.data) bad++;
            } else {
                bad++;
            }
            cartoon_image_free(&out);
        }
        CHECKF(bad == 0, "%s: %d corrupted files gave an unexpected result", sample_name[which], bad);
        if (which == 0) CHECKF(refused > 300, "png: only %d of 400 corruptions refused", refused);
        /* Random bytes behind a valid signature. */
        for (int trial = 0; trial < 200; trial++) {
            size_t keep = which == 0 ? 8 : which == 1 || which == 4 ? 3 : 12;
            size_t len = keep + rng_u32() % 600;
            unsigned char *g = malloc(len);
            memcpy(g, full, keep);
            for (size_t i = keep; i < len; i++) g[i] = (unsigned char)rng_u32();
            cartoon_image out;
            cartoon_status st = cartoon_image_decode(g, len, 0, &out, NULL, 0);
            CHECKF(st == CARTOON_E_BAD_IMAGE || st == CARTOON_E_LIMIT, "%s garbage: %s",
                   sample_name[which], cartoon_status_name(st));
            cartoon_image_free(&out);
            free(g);
        }
        free(copy);
        free(full);
    }
    unsigned char junk[64];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)(i * 37 + 5);
    cartoon_image out;
    char err[128] = "";
    CHECK(cartoon_image_decode(junk, sizeof junk, 0, &out, err, sizeof err) == CARTOON_E_BAD_IMAGE);
    CHECK(err[0] != '\0');
    CHECK(cartoon_image_decode(junk, 0, 0, &out, NULL, 0) == CARTOON_E_BAD_IMAGE);
}

/* Offset of a JPEG's SOF0 marker, or 0. */
static size_t find_sof(const unsigned char *p, size_t n)
{
    for (size_t i = 2; i + 9 < n; i++)
        if (p[i] == 0xFF && p[i + 1] == 0xC0) return i;
    return 0;
}

static void test_zero_dimensions(void)
{
    for (int k = 0; k < 2; k++) {
        membuf m = crafted_png(k ? 10 : 0, k ? 0 : 10, 1);
        cartoon_image out;
        CHECK(cartoon_image_decode(m.data, m.size, 0, &out, NULL, 0) == CARTOON_E_BAD_IMAGE);
        CHECK(out.data == NULL);
        free(m.data);
    }
    size_t n;
    unsigned char *jpg = sample_file(1, &n);
    size_t sof = jpg ? find_sof(jpg, n) : 0;
    CHECK(sof > 0);
    if (sof) {
        jpg[sof + 7] = jpg[sof + 8] = 0; /* width 0 */
        cartoon_image out;
        CHECK(cartoon_image_decode(jpg, n, 0, &out, NULL, 0) == CARTOON_E_BAD_IMAGE);
    }
    free(jpg);
    cartoon_image img = make_image(4, 4, CARTOON_PIXEL_RGB, 0);
    unsigned char *buf;
    for (int k = 0; k < 3; k++) {
        cartoon_image z = img;
        if (k == 0) z.width = 0;
        if (k == 1) z.height = 0;
        if (k == 2) z.width = -3;
        CHECK(cartoon_image_encode(&z, CARTOON_FILE_PNG, NULL, &buf, &n, NULL, 0) ==
              CARTOON_E_INVALID_ARGUMENT);
    }
    free(img.data);
}

static void test_limits(void)
{
    char err[256] = "";
    cartoon_image out;
    /* 100000 x 100000 with valid CRCs: refused before anything of that size is allocated. */
    for (int rest = 0; rest <= 1; rest++) {
        membuf m = crafted_png(100000, 100000, rest);
        CHECKF(cartoon_image_decode(m.data, m.size, 0, &out, err, sizeof err) == CARTOON_E_LIMIT,
               "huge PNG: %s", err);
        CHECK(out.data == NULL);
        free(m.data);
    }
    /* A side beyond int even with an unlimited pixel budget. */
    membuf m = crafted_png(0x7FFFFFFFu, 1, 1);
    CHECK(cartoon_image_decode(m.data, m.size, 1, &out, NULL, 0) == CARTOON_E_LIMIT);
    free(m.data);

    /* Huge JPEG SOF. */
    size_t n;
    unsigned char *jpg = sample_file(1, &n);
    size_t sof = jpg ? find_sof(jpg, n) : 0;
    if (sof) {
        jpg[sof + 5] = jpg[sof + 7] = 0xEA; /* 60000 x 60000 */
        jpg[sof + 6] = jpg[sof + 8] = 0x60;
        CHECKF(cartoon_image_decode(jpg, n, 0, &out, err, sizeof err) == CARTOON_E_LIMIT,
               "huge JPEG: %s", err);
    }
    free(jpg);

    /* Huge lossless WebP header (16384 x 16384 > 1e8 pixels). */
    unsigned char *webp = sample_file(3, &n);
    if (webp && n > 25 && !memcmp(webp + 12, "VP8L", 4)) {
        uint32_t v = webp[21] | (uint32_t)webp[22] << 8 | (uint32_t)webp[23] << 16 | (uint32_t)webp[24] << 24;
        v = (v & ~0x0FFFFFFFu) | 16383u | 16383u << 14;
        for (int k = 0; k < 4; k++) webp[21 + k] = (unsigned char)(v >> (8 * k));
        CHECKF(cartoon_image_decode(webp, n, 0, &out, err, sizeof err) == CARTOON_E_LIMIT,
               "huge WebP: %s", err);
    } else {
        CHECK(!"lossless WebP sample is not a simple VP8L file");
    }
    free(webp);

    /* max_pixels: 64 x 48 = 3072 pixels. */
    for (int which = 0; which < N_SAMPLES; which++) {
        unsigned char *f = sample_file(which, &n);
        if (!f) continue;
        CHECKF(cartoon_image_decode(f, n, 3071, &out, NULL, 0) == CARTOON_E_LIMIT, "%s", sample_name[which]);
        CHECK(out.data == NULL);
        CHECKF(cartoon_image_decode(f, n, 3072, &out, NULL, 0) == CARTOON_OK, "%s", sample_name[which]);
        cartoon_image_free(&out);
        free(f);
    }

    /* The formats' own size limits on encoding. */
    cartoon_image wide = make_image(70000, 1, CARTOON_PIXEL_RGB, 0);
    unsigned char *buf;
    CHECK(cartoon_image_encode(&wide, CARTOON_FILE_JPEG, NULL, &buf, &n, NULL, 0) == CARTOON_E_LIMIT);
    CHECK(cartoon_image_encode(&wide, CARTOON_FILE_WEBP, NULL, &buf, &n, NULL, 0) == CARTOON_E_LIMIT);
    CHECK(cartoon_image_encode(&wide, CARTOON_FILE_PNG, NULL, &buf, &n, NULL, 0) == CARTOON_OK);
    free(buf);
    free(wide.data);
}

static void test_invalid_encode_arguments(void)
{
    cartoon_image img = make_image(8, 8, CARTOON_PIXEL_RGBA, 0);
    unsigned char *buf = (unsigned char *)1;
    size_t n = 99;
    cartoon_write_options opt;
    cartoon_write_options_default(&opt);
    char err[256];
    CHECK(cartoon_image_encode(&img, CARTOON_FILE_AUTO, NULL, &buf, &n, err, sizeof err) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(buf == NULL && n == 0);
    CHECK(cartoon_image_encode(&img, (cartoon_file_format)42, NULL, &buf, &n, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    opt.quality = 0;
    CHECK(cartoon_image_encode(&img, CARTOON_FILE_JPEG, &opt, &buf, &n, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    opt.quality = 101;
    CHECK(cartoon_image_encode(&img, CARTOON_FILE_WEBP, &opt, &buf, &n, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    cartoon_write_options_default(&opt);
    opt.png_compression = 10;
    CHECK(cartoon_image_encode(&img, CARTOON_FILE_PNG, &opt, &buf, &n, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    cartoon_image bad = img;
    bad.stride = 8 * 4 - 1;
    CHECK(cartoon_image_encode(&bad, CARTOON_FILE_PNG, NULL, &buf, &n, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    bad = img;
    bad.format = (cartoon_pixel_format)7;
    CHECK(cartoon_image_encode(&bad, CARTOON_FILE_PNG, NULL, &buf, &n, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    bad = img;
    bad.stride = SIZE_MAX / 2;
    CHECK(cartoon_image_encode(&bad, CARTOON_FILE_PNG, NULL, &buf, &n, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    /* Every compression level works. */
    for (int level = 0; level <= 9; level++) {
        cartoon_write_options_default(&opt);
        opt.png_compression = level;
        CHECK(cartoon_image_encode(&img, CARTOON_FILE_PNG, &opt, &buf, &n, NULL, 0) == CARTOON_OK);
        free(buf);
    }
    free(img.data);
}

static int count_dir_entries(const char *prefix_dot)
{
    DIR *d = opendir(g_dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (!prefix_dot || de->d_name[0] == '.') n++;
    }
    if (d) closedir(d);
    return n;
}

static void test_write_and_read_files(void)
{
    cartoon_image src = make_image(33, 17, CARTOON_PIXEL_BGRA, 5);
    static const char *const names[] = {"out.png", "out.JPG", "out.jpeg", "out.webp"};
    for (int k = 0; k < 4; k++) {
        char err[256] = "";
        const char *p = tmp_path(names[k]);
        CHECKF(cartoon_image_write(p, &src, CARTOON_FILE_AUTO, NULL, err, sizeof err) == CARTOON_OK,
               "%s: %s", names[k], err);
        cartoon_image out;
        CHECKF(cartoon_image_read(p, 0, &out, err, sizeof err) == CARTOON_OK, "%s: %s", names[k], err);
        CHECK(out.width == 33 && out.height == 17);
        if (out.data) CHECK(compare_rgb(&src, &out, NULL) > 30.0);
        cartoon_image_free(&out);
    }
    /* Explicit format overrides the extension. */
    const char *p = tmp_path("explicit.dat");
    CHECK(cartoon_image_write(p, &src, CARTOON_FILE_WEBP, NULL, NULL, 0) == CARTOON_OK);
    size_t n;
    unsigned char *b = read_file_bytes(p, &n);
    CHECK(b && cartoon_file_format_sniff(b, n) == CARTOON_FILE_WEBP);
    free(b);
    /* New files get the usual permissions (0666 & ~umask), not mkstemp's 0600. */
    mode_t mask = umask(022);
    umask(mask);
    struct stat st;
    CHECK(stat(tmp_path("out.png"), &st) == 0 && (st.st_mode & 0777) == (0666 & ~mask));
    /* Unknown extension: nothing written. */
    char err[256] = "";
    CHECK(cartoon_image_write(tmp_path("out.bmp"), &src, CARTOON_FILE_AUTO, NULL, err, sizeof err) ==
          CARTOON_E_INVALID_ARGUMENT);
    CHECK(err[0] != '\0');
    CHECK(access(tmp_path("out.bmp"), F_OK) != 0);
    CHECK(cartoon_image_write(tmp_path("noext"), &src, CARTOON_FILE_AUTO, NULL, NULL, 0) ==
          CARTOON_E_INVALID_ARGUMENT);
    CHECK(count_dir_entries(".") == 0);
    free(src.data);
}

static void test_atomic_write(void)
{
    const char *p = tmp_path("keep.png");
    const char old[] = "old content that must survive";
    CHECK(write_file_bytes(p, old, sizeof old) == 0);
    CHECK(chmod(p, 0640) == 0);
    cartoon_image img = make_image(8, 8, CARTOON_PIXEL_RGB, 0);
    cartoon_image bad = img;
    bad.stride = 3; /* below width * channels */
    int before = count_dir_entries(NULL);
    CHECK(cartoon_image_write(p, &bad, CARTOON_FILE_AUTO, NULL, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(cartoon_image_write(p, NULL, CARTOON_FILE_AUTO, NULL, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    cartoon_write_options opt;
    cartoon_write_options_default(&opt);
    opt.quality = 500;
    CHECK(cartoon_image_write(p, &img, CARTOON_FILE_JPEG, &opt, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    size_t n;
    unsigned char *b = read_file_bytes(p, &n);
    CHECK(b && n == sizeof old && memcmp(b, old, n) == 0);
    free(b);
    CHECK(count_dir_entries(NULL) == before);

    /* A successful overwrite replaces the content and keeps the file's permissions. */
    CHECK(cartoon_image_write(p, &img, CARTOON_FILE_AUTO, NULL, NULL, 0) == CARTOON_OK);
    b = read_file_bytes(p, &n);
    CHECK(b && cartoon_file_format_sniff(b, n) == CARTOON_FILE_PNG);
    free(b);
    struct stat st;
    CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0640);

    /* Failures after the temp file exists: the destination is a directory. */
    const char *dir = tmp_path("adir.png");
    CHECK(mkdir(dir, 0755) == 0);
    char err[256] = "";
    CHECK(cartoon_image_write(dir, &img, CARTOON_FILE_AUTO, NULL, err, sizeof err) == CARTOON_E_IO);
    CHECK(err[0] != '\0');
    rmdir(dir);
    /* Missing directory, trailing slash. */
    CHECK(cartoon_image_write(tmp_path("missing/x.png"), &img, CARTOON_FILE_AUTO, NULL, NULL, 0) == CARTOON_E_IO);
    CHECK(cartoon_image_write(tmp_path("sub/"), &img, CARTOON_FILE_PNG, NULL, NULL, 0) == CARTOON_E_INVALID_ARGUMENT);
    CHECK(count_dir_entries(".") == 0);
    CHECK(count_dir_entries(NULL) == before);
    free(img.data);
}

static void test_read_errors(void)
{
    cartoon_image out;
    char err[256] = "";
    CHECK(cartoon_image_read(tmp_path("does-not-exist.png"), 0, &out, err, sizeof err) == CARTOON_E_IO);
    CHECK(strstr(err, "does-not-exist") != NULL);
    CHECK(cartoon_image_read(g_dir, 0, &out, NULL, 0) == CARTOON_E_IO);
    const char *empty = tmp_path("empty.png");
    CHECK(write_file_bytes(empty, "", 0) == 0);
    CHECK(cartoon_image_read(empty, 0, &out, NULL, 0) == CARTOON_E_BAD_IMAGE);
    const char *text = tmp_path("text.png");
    CHECK(write_file_bytes(text, "not an image at all", 19) == 0);
    err[0] = '\0';
    CHECK(cartoon_image_read(text, 0, &out, err, sizeof err) == CARTOON_E_BAD_IMAGE);
    CHECK(strstr(err, "text.png") != NULL);
    CHECK(out.data == NULL && out.width == 0 && out.height == 0);
    /* A file larger than any image of the pixel budget is not even read in. */
    const char *big = tmp_path("big.png");
    CHECK(write_file_bytes(big, "\x89PNG\r\n\x1a\n", 8) == 0);
    CHECK(truncate(big, (64 << 20) + 1000) == 0); /* sparse: costs no disk */
    CHECK(cartoon_image_read(big, 100, &out, NULL, 0) == CARTOON_E_LIMIT);
    unlink(big);
    unlink(empty);
    unlink(text);
}

static void test_shared_images(void)
{
    const char *astro = shared_path("images/astronaut.png");
    const char *rocket = shared_path("images/rocket.jpg");
    cartoon_image out;
    char err[256] = "";
    CHECKF(cartoon_image_read(astro, 0, &out, err, sizeof err) == CARTOON_OK, "%s", err);
    CHECK(out.width == 512 && out.height == 512 && out.format == CARTOON_PIXEL_RGB && out.stride == 512 * 3);
    /* A natural photo through the lossy codecs. */
    for (int c = 2; c < 4 && out.data; c++) {
        size_t n;
        unsigned char *buf = encode_ok(&out, codecs[c].fmt, 90, 0, &n);
        cartoon_image back;
        CHECK(cartoon_image_decode(buf, n, 0, &back, NULL, 0) == CARTOON_OK);
        if (back.data) {
            double p = compare_rgb(&out, &back, NULL);
            CHECKF(p > 30.0, "astronaut %s PSNR %.2f", codecs[c].name, p);
        }
        cartoon_image_free(&back);
        free(buf);
    }
    cartoon_image_free(&out);
    CHECKF(cartoon_image_read(rocket, 0, &out, err, sizeof err) == CARTOON_OK, "%s", err);
    CHECK(out.width == 640 && out.height == 427 && out.format == CARTOON_PIXEL_RGB);
    cartoon_image_free(&out);
}

static void *thread_body(void *arg)
{
    int *failures = arg;
    cartoon_image src = make_image(50, 40, CARTOON_PIXEL_RGBA, 3);
    for (int i = 0; i < 10; i++)
        for (int c = 0; c < 4; c++) {
            cartoon_write_options opt;
            cartoon_write_options_default(&opt);
            opt.lossless = codecs[c].lossless;
            unsigned char *buf;
            size_t n;
            cartoon_image out;
            if (cartoon_image_encode(&src, codecs[c].fmt, &opt, &buf, &n, NULL, 0) != CARTOON_OK) {
                (*failures)++;
                continue;
            }
            if (cartoon_image_decode(buf, n, 0, &out, NULL, 0) != CARTOON_OK ||
                compare_rgb(&src, &out, NULL) < codecs[c].min_psnr)
                (*failures)++;
            cartoon_image_free(&out);
            free(buf);
        }
    free(src.data);
    return NULL;
}

static void test_threads(void)
{
    pthread_t t[4];
    int failures[4] = {0};
    for (int i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, thread_body, &failures[i]) == 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(failures[i] == 0);
    }
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/cartoon_io_test_XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    run_case("image_io/null_arguments", test_null_arguments);
    run_case("image_io/format_detection", test_format_detection);
    run_case("image_io/round_trips", test_round_trips);
    run_case("image_io/alpha_passthrough", test_alpha_passthrough);
    run_case("image_io/png_16bit", test_png_16bit);
    run_case("image_io/png_grey", test_png_grey);
    run_case("image_io/png_palette_trns", test_png_palette);
    run_case("image_io/png_interlaced", test_png_interlaced);
    run_case("image_io/jpeg_exif_orientation", test_jpeg_exif_orientation);
    run_case("image_io/jpeg_grey_cmyk", test_jpeg_grey_and_cmyk);
    run_case("image_io/jpeg_quality", test_jpeg_quality_option);
    run_case("image_io/truncated", test_truncated);
    run_case("image_io/corrupted", test_corrupted);
    run_case("image_io/zero_dimensions", test_zero_dimensions);
    run_case("image_io/limits", test_limits);
    run_case("image_io/invalid_encode_arguments", test_invalid_encode_arguments);
    run_case("image_io/write_read_files", test_write_and_read_files);
    run_case("image_io/atomic_write", test_atomic_write);
    run_case("image_io/read_errors", test_read_errors);
    /* like the other suites, the cases on ../shared data are skipped, with the reason, when
     * that folder is not there (a clone outside the project's layout) */
    if (access(shared_path("images/astronaut.png"), R_OK) != 0 || access(shared_path("images/rocket.jpg"), R_OK) != 0)
        skip_case("image_io/shared_images", "../shared/images not found (set CARTOON_SHARED)");
    else
        run_case("image_io/shared_images", test_shared_images);
    run_case("image_io/threads", test_threads);

    /* Remove what the cases left (their own files; the library leaves no temp files). */
    DIR *d = opendir(g_dir);
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) unlink(tmp_path(de->d_name));
    if (d) closedir(d);
    rmdir(g_dir);
    return check_summary();
}
