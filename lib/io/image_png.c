/* PNG through libpng. libpng reports errors by longjmp; every setjmp lives in a small "run"
 * function whose allocations are kept in a caller-owned state struct, so nothing the
 * cleanup needs is a local modified after setjmp. */
#include "image_internal.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ error plumbing */

typedef struct png_err_state {
    char msg[200];
    cartoon_status status; /* what a longjmp means: BAD_IMAGE unless a callback says otherwise */
} png_err_state;

static void png_error_cb(png_structp png, png_const_charp msg)
{
    png_err_state *s = png_get_error_ptr(png);
    snprintf(s->msg, sizeof s->msg, "%s", msg ? msg : "libpng error");
    png_longjmp(png, 1);
}

/* The library never prints; warnings concern ancillary data libpng already discarded. */
static void png_warning_cb(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

/* ------------------------------------------------------------------ decoding */

typedef struct png_dec {
    png_err_state err; /* first, so that the error pointer is also the state pointer */
    const unsigned char *data;
    size_t size, pos;
    uint64_t max_pixels;
    png_structp png;
    png_infop info;
    png_bytep *rows;
    cartoon_image *out;
} png_dec;

static void png_read_cb(png_structp png, png_bytep dst, size_t n)
{
    png_dec *d = png_get_io_ptr(png);
    if (n > d->size - d->pos) png_error(png, "truncated file (unexpected end of data)");
    memcpy(dst, d->data + d->pos, n);
    d->pos += n;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Looks at IHDR before libpng does, so that a huge declared size is refused as LIMIT even
 * when the rest of the file is missing or broken. libpng validates it again properly. */
static cartoon_status png_precheck_ihdr(const unsigned char *data, size_t size,
                                        uint64_t max_pixels, ct_err *e)
{
    if (size < 8 + 8 + 13 || be32(data + 8) != 13 || memcmp(data + 12, "IHDR", 4) != 0)
        return CARTOON_OK;
    uint32_t w = be32(data + 16), h = be32(data + 20);
    if (w == 0 || h == 0) return CARTOON_OK;
    return ct_io_check_dims(w, h, 4, max_pixels, "PNG", NULL, e);
}

/* Asks libpng for 8-bit RGB or RGBA whatever the source layout. */
static void png_set_rgb8_transforms(png_structp png, png_infop info)
{
    int depth = png_get_bit_depth(png, info);
    int ctype = png_get_color_type(png, info);
    if (ctype == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (depth == 16) png_set_scale_16(png);
    if (!(ctype & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(png);
    (void)png_set_interlace_handling(png);
    png_read_update_info(png, info);
}

/* Returns 0 on success; on failure d->err holds the status and message. */
static int png_decode_run(png_dec *d)
{
    if (setjmp(png_jmpbuf(d->png))) return -1;
    png_read_info(d->png, d->info);
    png_uint_32 w = png_get_image_width(d->png, d->info);
    png_uint_32 h = png_get_image_height(d->png, d->info);
    ct_err dims_err = {d->err.msg, sizeof d->err.msg};
    cartoon_status st = ct_io_check_dims(w, h, 4, d->max_pixels, "PNG", NULL, &dims_err);
    if (st != CARTOON_OK) { d->err.status = st; return -1; }

    png_set_rgb8_transforms(d->png, d->info);
    int channels = png_get_channels(d->png, d->info);
    if (png_get_bit_depth(d->png, d->info) != 8 || (channels != 3 && channels != 4) ||
        png_get_rowbytes(d->png, d->info) != (size_t)w * (size_t)channels) {
        snprintf(d->err.msg, sizeof d->err.msg, "unexpected layout after conversion (%d channels)",
                 channels);
        d->err.status = CARTOON_E_INTERNAL;
        return -1;
    }
    ct_err alloc_err = {d->err.msg, sizeof d->err.msg};
    st = ct_io_alloc_image(d->out, (int)w, (int)h, channels, &alloc_err);
    if (st == CARTOON_OK && !(d->rows = malloc((size_t)h * sizeof *d->rows))) {
        snprintf(d->err.msg, sizeof d->err.msg, "cannot allocate %u row pointers", (unsigned)h);
        st = CARTOON_E_OUT_OF_MEMORY;
    }
    if (st != CARTOON_OK) { d->err.status = st; return -1; }
    for (png_uint_32 y = 0; y < h; y++) d->rows[y] = d->out->data + (size_t)y * d->out->stride;
    png_read_image(d->png, d->rows);
    /* Reads through IEND: checks the last CRCs and refuses a file cut after its pixels. */
    png_read_end(d->png, NULL);
    return 0;
}

cartoon_status ct_png_decode(const unsigned char *data, size_t size, uint64_t max_pixels,
                             cartoon_image *out, ct_err *e)
{
    cartoon_status st = png_precheck_ihdr(data, size, max_pixels, e);
    if (st != CARTOON_OK) return st;
    png_dec d;
    memset(&d, 0, sizeof d);
    d.err.status = CARTOON_E_BAD_IMAGE;
    d.data = data;
    d.size = size;
    d.max_pixels = max_pixels;
    d.out = out;
    d.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &d.err, png_error_cb, png_warning_cb);
    if (d.png) d.info = png_create_info_struct(d.png);
    if (!d.png || !d.info) {
        png_destroy_read_struct(&d.png, &d.info, NULL);
        return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "PNG: cannot create the libpng decoder");
    }
    /* The pixel budget, not libpng's default of 1e6 per side, decides what is too large. */
    png_set_user_limits(d.png, 0x7fffffff, 0x7fffffff);
    png_set_read_fn(d.png, &d, png_read_cb);
    int rc = png_decode_run(&d);
    png_destroy_read_struct(&d.png, &d.info, NULL);
    free(d.rows);
    if (rc != 0) {
        free(out->data);
        memset(out, 0, sizeof *out);
        return ct_fail(e, d.err.status, "PNG: %s", d.err.msg);
    }
    return CARTOON_OK;
}

/* ------------------------------------------------------------------ encoding */

typedef struct png_enc {
    png_err_state err;
    const cartoon_image *img;
    const cartoon_write_options *opt;
    ct_bytes *out;
    png_structp png;
    png_infop info;
} png_enc;

static void png_write_cb(png_structp png, png_bytep src, size_t n)
{
    png_enc *w = png_get_io_ptr(png);
    if (!ct_bytes_append(w->out, src, n)) {
        w->err.status = CARTOON_E_OUT_OF_MEMORY;
        png_error(png, "out of memory for the encoded file");
    }
}

static void png_flush_cb(png_structp png) { (void)png; }

static int png_encode_run(png_enc *w)
{
    if (setjmp(png_jmpbuf(w->png))) return -1;
    const cartoon_image *img = w->img;
    int alpha = ct_io_channels(img->format) == 4;
    png_set_IHDR(w->png, w->info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
                 alpha ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(w->png, w->opt->png_compression);
    png_write_info(w->png, w->info);
    if (ct_io_is_bgr(img->format)) png_set_bgr(w->png);
    /* libpng copies each row before transforming it, so the caller's pixels stay const. */
    for (int y = 0; y < img->height; y++) png_write_row(w->png, img->data + (size_t)y * img->stride);
    png_write_end(w->png, NULL);
    return 0;
}

cartoon_status ct_png_encode(const cartoon_image *img, const cartoon_write_options *opt,
                             ct_bytes *out, ct_err *e)
{
    png_enc w;
    memset(&w, 0, sizeof w);
    w.err.status = CARTOON_E_INTERNAL; /* valid input never makes libpng fail but for memory */
    w.img = img;
    w.opt = opt;
    w.out = out;
    w.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &w.err, png_error_cb, png_warning_cb);
    if (w.png) w.info = png_create_info_struct(w.png);
    if (!w.png || !w.info) {
        png_destroy_write_struct(&w.png, &w.info);
        return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "PNG: cannot create the libpng encoder");
    }
    png_set_user_limits(w.png, 0x7fffffff, 0x7fffffff);
    png_set_write_fn(w.png, &w, png_write_cb, png_flush_cb);
    int rc = png_encode_run(&w);
    png_destroy_write_struct(&w.png, &w.info);
    if (rc != 0) return ct_fail(e, w.err.status, "PNG: %s", w.err.msg);
    return CARTOON_OK;
}
