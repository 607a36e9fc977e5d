/* JPEG through libjpeg-turbo's classic API, EXIF orientation through libexif.
 * libjpeg's default error handler calls exit(); ours longjmps back into a small "run"
 * function whose allocations live in a caller-owned state struct. */
#include "image_internal.h"

#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <libexif/exif-data.h>
#include <libexif/exif-utils.h>

#ifndef JCS_EXTENSIONS
#error "libjpeg-turbo (JCS_EXT_* colour spaces) is required"
#endif

/* A progressive file may declare any number of scans, each a full pass over the coefficient
 * buffer; a few hundred bytes can then cost minutes. Real encoders use about a dozen. */
#define JPEG_MAX_SCANS 500

/* ------------------------------------------------------------------ error plumbing */

typedef struct jpeg_err_state {
    struct jpeg_error_mgr pub; /* first: libjpeg hands this pointer back as cinfo->err */
    jmp_buf jmp;
    char msg[JMSG_LENGTH_MAX + 32];
    int code; /* libjpeg's message code of the error, 0 for our own failures */
} jpeg_err_state;

static void jpeg_error_exit_cb(j_common_ptr cinfo)
{
    jpeg_err_state *s = (jpeg_err_state *)cinfo->err;
    cinfo->err->format_message(cinfo, s->msg);
    s->code = cinfo->err->msg_code;
    longjmp(s->jmp, 1);
}

/* The library never prints. */
static void jpeg_output_message_cb(j_common_ptr cinfo) { (void)cinfo; }

/* Warnings that mean the entropy-coded data is damaged or cut short. libjpeg "recovers" from
 * them by inventing grey pixels; an image library must report them instead. Other warnings
 * (odd JFIF version, extraneous bytes, bad ICC) concern metadata and are tolerated. */
static int jpeg_warning_is_corruption(int code)
{
    switch (code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_MUST_RESYNC:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION:
        return 1;
    default:
        return 0;
    }
}

static void jpeg_emit_message_cb(j_common_ptr cinfo, int level)
{
    if (level >= 0) return; /* trace messages */
    cinfo->err->num_warnings++;
    if (jpeg_warning_is_corruption(cinfo->err->msg_code)) cinfo->err->error_exit(cinfo);
}

static void jpeg_progress_cb(j_common_ptr cinfo)
{
    if (!cinfo->is_decompressor) return;
    if (((j_decompress_ptr)cinfo)->input_scan_number > JPEG_MAX_SCANS) {
        jpeg_err_state *s = (jpeg_err_state *)cinfo->err;
        snprintf(s->msg, sizeof s->msg, "more than %d scans (progressive data too complex)",
                 JPEG_MAX_SCANS);
        longjmp(s->jmp, 1);
    }
}

static void jpeg_init_err(jpeg_err_state *s)
{
    jpeg_std_error(&s->pub);
    s->pub.error_exit = jpeg_error_exit_cb;
    s->pub.output_message = jpeg_output_message_cb;
    s->pub.emit_message = jpeg_emit_message_cb;
}

/* ------------------------------------------------------------------ EXIF orientation */

static int orientation_from_app1(const JOCTET *data, unsigned len)
{
    ExifData *ed = exif_data_new();
    if (!ed) return 1;
    /* "Following the specification" makes libexif add and rewrite tags while loading: work
     * that reading one tag does not need. */
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_load_data(ed, data, len);
    int o = 1;
    ExifEntry *entry = exif_data_get_entry(ed, EXIF_TAG_ORIENTATION);
    if (entry && entry->format == EXIF_FORMAT_SHORT && entry->components >= 1 && entry->data &&
        entry->size >= 2)
        o = exif_get_short(entry->data, exif_data_get_byte_order(ed));
    exif_data_unref(ed);
    return o >= 1 && o <= 8 ? o : 1;
}

/* Orientation 1..8 of the first EXIF APP1 marker; 1 when absent or unreadable, since broken
 * metadata should not make the pixels unusable. */
static int jpeg_exif_orientation(j_decompress_ptr cinfo)
{
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && !memcmp(m->data, "Exif\0\0", 6))
            return orientation_from_app1(m->data, m->data_length);
    }
    return 1;
}

/*
 * Turns the stored pixels upright. A stored pixel (x, y) of a W x H image lands at
 *   1 (x, y)          2 (W-1-x, y)        3 (W-1-x, H-1-y)    4 (x, H-1-y)
 *   5 (y, x)          6 (H-1-y, x)        7 (H-1-y, W-1-x)    8 (y, W-1-x)
 * (5..8 swap width and height), written as origin + x * step_x + y * step_y in bytes.
 */
static cartoon_status jpeg_apply_orientation(cartoon_image *img, int o, ct_err *e)
{
    if (o <= 1 || o > 8) return CARTOON_OK;
    const ptrdiff_t W = img->width, H = img->height, px = 3;
    const int swap = o >= 5;
    cartoon_image t = {0};
    cartoon_status st = ct_io_alloc_image(&t, swap ? img->height : img->width,
                                          swap ? img->width : img->height, 3, e);
    if (st != CARTOON_OK) return st;
    const ptrdiff_t os = (ptrdiff_t)t.stride;
    ptrdiff_t origin = 0, sx = px, sy = os;
    switch (o) {
    case 2: origin = (W - 1) * px; sx = -px; sy = os; break;
    case 3: origin = (H - 1) * os + (W - 1) * px; sx = -px; sy = -os; break;
    case 4: origin = (H - 1) * os; sx = px; sy = -os; break;
    case 5: origin = 0; sx = os; sy = px; break;
    case 6: origin = (H - 1) * px; sx = os; sy = -px; break;
    case 7: origin = (W - 1) * os + (H - 1) * px; sx = -os; sy = -px; break;
    case 8: origin = (W - 1) * os; sx = -os; sy = px; break;
    }
    for (ptrdiff_t y = 0; y < H; y++) {
        const uint8_t *src = img->data + (size_t)y * img->stride;
        uint8_t *dst = t.data + origin + y * sy;
        for (ptrdiff_t x = 0; x < W; x++, src += px, dst += sx) memcpy(dst, src, 3);
    }
    free(img->data);
    *img = t;
    return CARTOON_OK;
}

/* ------------------------------------------------------------------ decoding */

typedef struct jpeg_dec {
    jpeg_err_state err;
    struct jpeg_decompress_struct cinfo;
    struct jpeg_progress_mgr progress;
    uint64_t max_pixels;
    cartoon_image *out;
    uint8_t *cmyk_row;
    cartoon_status status; /* meaning of a failed run */
    int orientation;
} jpeg_dec;

/* libjpeg cannot convert CMYK to RGB itself. Adobe writers store CMYK inverted (the Adobe
 * marker tells), others plainly. */
static void cmyk_to_rgb(const uint8_t *src, uint8_t *dst, int width, int inverted)
{
    for (int x = 0; x < width; x++, src += 4, dst += 3) {
        unsigned c = src[0], m = src[1], y = src[2], k = src[3];
        if (!inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
        dst[0] = (uint8_t)((c * k + 127) / 255);
        dst[1] = (uint8_t)((m * k + 127) / 255);
        dst[2] = (uint8_t)((y * k + 127) / 255);
    }
}

static int jpeg_fail_run(jpeg_dec *d, cartoon_status st)
{
    d->status = st;
    return -1;
}

static int jpeg_decode_run(jpeg_dec *d, const unsigned char *data, size_t size)
{
    j_decompress_ptr cinfo = &d->cinfo;
    if (setjmp(d->err.jmp)) return -1;
    jpeg_create_decompress(cinfo);
    jpeg_mem_src(cinfo, data, (unsigned long)size);
    jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xFFFF);
    d->progress.progress_monitor = jpeg_progress_cb;
    cinfo->progress = &d->progress;
    jpeg_read_header(cinfo, TRUE);

    ct_err dims_err = {d->err.msg, sizeof d->err.msg};
    cartoon_status st = ct_io_check_dims(cinfo->image_width, cinfo->image_height, 3,
                                         d->max_pixels, "JPEG", NULL, &dims_err);
    if (st != CARTOON_OK) return jpeg_fail_run(d, st);
    d->orientation = jpeg_exif_orientation(cinfo);

    const int cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
    cinfo->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(cinfo);
    const int w = (int)cinfo->output_width, h = (int)cinfo->output_height;
    if (cinfo->output_components != (cmyk ? 4 : 3) || cinfo->output_width != cinfo->image_width ||
        cinfo->output_height != cinfo->image_height) {
        snprintf(d->err.msg, sizeof d->err.msg, "unexpected output layout (%d components)",
                 cinfo->output_components);
        return jpeg_fail_run(d, CARTOON_E_INTERNAL);
    }
    ct_err alloc_err = {d->err.msg, sizeof d->err.msg};
    st = ct_io_alloc_image(d->out, w, h, 3, &alloc_err);
    if (st == CARTOON_OK && cmyk && !(d->cmyk_row = malloc((size_t)w * 4))) {
        snprintf(d->err.msg, sizeof d->err.msg, "cannot allocate a CMYK row of %d pixels", w);
        st = CARTOON_E_OUT_OF_MEMORY;
    }
    if (st != CARTOON_OK) return jpeg_fail_run(d, st);

    while (cinfo->output_scanline < cinfo->output_height) {
        uint8_t *dst = d->out->data + (size_t)cinfo->output_scanline * d->out->stride;
        JSAMPROW row = cmyk ? d->cmyk_row : dst;
        if (jpeg_read_scanlines(cinfo, &row, 1) != 1) {
            snprintf(d->err.msg, sizeof d->err.msg, "decoder returned no scanline");
            return -1;
        }
        if (cmyk) cmyk_to_rgb(d->cmyk_row, dst, w, cinfo->saw_Adobe_marker);
    }
    /* Reads up to EOI, so that a file cut after its last scanline is refused as well. */
    jpeg_finish_decompress(cinfo);
    return 0;
}

cartoon_status ct_jpeg_decode(const unsigned char *data, size_t size, uint64_t max_pixels,
                              cartoon_image *out, ct_err *e)
{
    if (size > ULONG_MAX) return ct_fail(e, CARTOON_E_LIMIT, "JPEG: %zu bytes is too large", size);
    jpeg_dec *d = calloc(1, sizeof *d); /* libjpeg structs and jmp_buf: keep them off the stack */
    if (!d) return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "JPEG: cannot allocate the decoder");
    jpeg_init_err(&d->err);
    d->cinfo.err = &d->err.pub;
    d->max_pixels = max_pixels;
    d->out = out;
    d->status = CARTOON_E_BAD_IMAGE;
    d->orientation = 1;
    int rc = jpeg_decode_run(d, data, size);
    jpeg_destroy_decompress(&d->cinfo);
    free(d->cmyk_row);
    cartoon_status st = CARTOON_OK;
    if (rc != 0 && d->err.code == JERR_OUT_OF_MEMORY) d->status = CARTOON_E_OUT_OF_MEMORY;
    if (rc != 0) st = ct_fail(e, d->status, "JPEG: %s", d->err.msg);
    else st = jpeg_apply_orientation(out, d->orientation, e);
    free(d);
    if (st != CARTOON_OK) {
        free(out->data);
        memset(out, 0, sizeof *out);
    }
    return st;
}

/* ------------------------------------------------------------------ encoding */

typedef struct jpeg_enc {
    jpeg_err_state err;
    struct jpeg_compress_struct cinfo;
    unsigned char *buf; /* malloc'd by jpeg_mem_dest and always current, also after errors */
    unsigned long size;
} jpeg_enc;

static J_COLOR_SPACE jpeg_input_space(cartoon_pixel_format f)
{
    switch (f) {
    case CARTOON_PIXEL_RGB: return JCS_EXT_RGB;
    case CARTOON_PIXEL_BGR: return JCS_EXT_BGR;
    case CARTOON_PIXEL_RGBA: return JCS_EXT_RGBX; /* the X byte (alpha) is ignored */
    case CARTOON_PIXEL_BGRA: return JCS_EXT_BGRX;
    }
    return JCS_UNKNOWN;
}

static int jpeg_encode_run(jpeg_enc *w, const cartoon_image *img, int quality)
{
    j_compress_ptr cinfo = &w->cinfo;
    if (setjmp(w->err.jmp)) return -1;
    jpeg_create_compress(cinfo);
    jpeg_mem_dest(cinfo, &w->buf, &w->size);
    cinfo->image_width = (JDIMENSION)img->width;
    cinfo->image_height = (JDIMENSION)img->height;
    cinfo->input_components = ct_io_channels(img->format);
    cinfo->in_color_space = jpeg_input_space(img->format);
    jpeg_set_defaults(cinfo);
    jpeg_set_quality(cinfo, quality, TRUE);
    jpeg_start_compress(cinfo, TRUE);
    while (cinfo->next_scanline < cinfo->image_height) {
        /* libjpeg only reads input rows; its API just lacks const. */
        JSAMPROW row = (JSAMPROW)(uintptr_t)(img->data + (size_t)cinfo->next_scanline * img->stride);
        jpeg_write_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_compress(cinfo);
    return 0;
}

cartoon_status ct_jpeg_encode(const cartoon_image *img, const cartoon_write_options *opt,
                              ct_bytes *out, ct_err *e)
{
    if (img->width > JPEG_MAX_DIMENSION || img->height > JPEG_MAX_DIMENSION)
        return ct_fail(e, CARTOON_E_LIMIT, "JPEG: %dx%d exceeds the format's %d pixels a side",
                       img->width, img->height, (int)JPEG_MAX_DIMENSION);
    jpeg_enc *w = calloc(1, sizeof *w);
    if (!w) return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "JPEG: cannot allocate the encoder");
    jpeg_init_err(&w->err);
    w->cinfo.err = &w->err.pub;
    int rc = jpeg_encode_run(w, img, opt->quality);
    jpeg_destroy_compress(&w->cinfo);
    cartoon_status st = CARTOON_OK;
    if (rc != 0) {
        /* Short of memory, a validated image never makes libjpeg fail. */
        st = ct_fail(e, w->err.code == JERR_OUT_OF_MEMORY ? CARTOON_E_OUT_OF_MEMORY
                                                          : CARTOON_E_INTERNAL,
                     "JPEG: %s", w->err.msg);
        free(w->buf);
    } else {
        out->data = w->buf;
        out->size = out->cap = w->size;
    }
    free(w);
    return st;
}
