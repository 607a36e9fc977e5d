/* Image files: format detection, read/decode dispatch, encode dispatch and atomic writes.
 * The codecs themselves live in image_png.c, image_jpeg.c and image_webp.c. */
#include "image_internal.h"
#include "file_io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* A compressed file is never much larger than its raw pixels (16-bit RGBA PNG stored without
 * compression is 8 bytes a pixel), plus metadata; this keeps a read of an endless or absurd
 * file (a device, a huge non-image) from exhausting memory before any decoder sees it. */
#define IO_BYTES_PER_PIXEL_BOUND 8u
#define IO_METADATA_SLACK ((uint64_t)64 << 20)

static uint64_t resolve_max_pixels(uint64_t max_pixels)
{
    return max_pixels ? max_pixels : CARTOON_DEFAULT_MAX_PIXELS;
}

/* ------------------------------------------------------------------ shared helpers */

cartoon_status ct_io_check_dims(uint64_t width, uint64_t height, int channels,
                                uint64_t max_pixels, const char *what, size_t *bytes, ct_err *e)
{
    if (width == 0 || height == 0)
        return ct_fail(e, CARTOON_E_BAD_IMAGE, "%s: image has a zero dimension (%llux%llu)", what,
                       (unsigned long long)width, (unsigned long long)height);
    /* The ratio test cannot overflow, unlike width * height. */
    if (width > max_pixels || height > max_pixels / width)
        return ct_fail(e, CARTOON_E_LIMIT, "%s: image of %llux%llu pixels exceeds the limit of %llu",
                       what, (unsigned long long)width, (unsigned long long)height,
                       (unsigned long long)max_pixels);
    if (width > INT_MAX || height > INT_MAX)
        return ct_fail(e, CARTOON_E_LIMIT, "%s: image of %llux%llu pixels has a side over %d",
                       what, (unsigned long long)width, (unsigned long long)height, INT_MAX);
    size_t row, total;
    if (!ct_mul_size((size_t)width, (size_t)channels, &row) ||
        !ct_mul_size(row, (size_t)height, &total))
        return ct_fail(e, CARTOON_E_LIMIT, "%s: image of %llux%llu pixels does not fit in memory",
                       what, (unsigned long long)width, (unsigned long long)height);
    if (bytes) *bytes = total;
    return CARTOON_OK;
}

cartoon_status ct_io_alloc_image(cartoon_image *out, int width, int height, int channels,
                                 ct_err *e)
{
    size_t row, total;
    if (width <= 0 || height <= 0 || (channels != 3 && channels != 4) ||
        !ct_mul_size((size_t)width, (size_t)channels, &row) ||
        !ct_mul_size(row, (size_t)height, &total))
        return ct_fail(e, CARTOON_E_INTERNAL, "image buffer of %dx%dx%d: bad size", width, height,
                       channels);
    uint8_t *p = malloc(total);
    if (!p)
        return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "cannot allocate %zu bytes for a %dx%d image",
                       total, width, height);
    out->data = p;
    out->width = width;
    out->height = height;
    out->stride = row;
    out->format = channels == 4 ? CARTOON_PIXEL_RGBA : CARTOON_PIXEL_RGB;
    return CARTOON_OK;
}

int ct_bytes_append(ct_bytes *b, const void *src, size_t n)
{
    size_t need;
    if (!ct_add_size(b->size, n, &need)) return 0;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < need) {
            if (!ct_mul_size(cap, 2, &cap)) { cap = need; break; }
        }
        unsigned char *p = realloc(b->data, cap);
        if (!p) return 0;
        b->data = p;
        b->cap = cap;
    }
    if (n) memcpy(b->data + b->size, src, n);
    b->size = need;
    return 1;
}

/* ------------------------------------------------------------------ format detection */

cartoon_file_format cartoon_file_format_from_path(const char *path)
{
    if (!path) return CARTOON_FILE_AUTO;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base) return CARTOON_FILE_AUTO; /* ".png" alone is a hidden file name */
    const char *ext = dot + 1;
    if (!strcasecmp(ext, "png")) return CARTOON_FILE_PNG;
    if (!strcasecmp(ext, "jpg") || !strcasecmp(ext, "jpeg")) return CARTOON_FILE_JPEG;
    if (!strcasecmp(ext, "webp")) return CARTOON_FILE_WEBP;
    return CARTOON_FILE_AUTO;
}

cartoon_file_format cartoon_file_format_sniff(const void *data, size_t size)
{
    const unsigned char *p = data;
    if (!p) return CARTOON_FILE_AUTO;
    if (size >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8)) return CARTOON_FILE_PNG;
    if (size >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return CARTOON_FILE_JPEG;
    if (size >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4)) return CARTOON_FILE_WEBP;
    return CARTOON_FILE_AUTO;
}

/* ------------------------------------------------------------------ decoding */

static cartoon_status decode_bytes(const unsigned char *data, size_t size, uint64_t max_pixels,
                                   cartoon_image *out, ct_err *e)
{
    uint64_t limit = resolve_max_pixels(max_pixels);
    cartoon_status st;
    switch (cartoon_file_format_sniff(data, size)) {
    case CARTOON_FILE_PNG: st = ct_png_decode(data, size, limit, out, e); break;
    case CARTOON_FILE_JPEG: st = ct_jpeg_decode(data, size, limit, out, e); break;
    case CARTOON_FILE_WEBP: st = ct_webp_decode(data, size, limit, out, e); break;
    default:
        return ct_fail(e, CARTOON_E_BAD_IMAGE,
                       "unknown image type (%zu bytes; expected PNG, JPEG or WebP)", size);
    }
    if (st != CARTOON_OK) {
        free(out->data);
        memset(out, 0, sizeof *out);
    }
    return st;
}

cartoon_status cartoon_image_decode(const void *data, size_t size, uint64_t max_pixels,
                                    cartoon_image *out, char *err, size_t err_size)
{
    ct_err e = {err, err_size};
    if (err && err_size) err[0] = '\0';
    if (!out) return ct_fail(&e, CARTOON_E_INVALID_ARGUMENT, "cartoon_image_decode: out is NULL");
    memset(out, 0, sizeof *out);
    if (!data) return ct_fail(&e, CARTOON_E_INVALID_ARGUMENT, "cartoon_image_decode: data is NULL");
    return decode_bytes(data, size, max_pixels, out, &e);
}

cartoon_status cartoon_image_read(const char *path, uint64_t max_pixels, cartoon_image *out,
                                  char *err, size_t err_size)
{
    ct_err e = {err, err_size};
    if (err && err_size) err[0] = '\0';
    if (!out) return ct_fail(&e, CARTOON_E_INVALID_ARGUMENT, "cartoon_image_read: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path) return ct_fail(&e, CARTOON_E_INVALID_ARGUMENT, "cartoon_image_read: path is NULL");
    unsigned char *data = NULL;
    size_t size = 0;
    /* A compressed file is never much larger than its raw pixels (16-bit RGBA PNG stored
     * without compression is 8 bytes a pixel) plus metadata: a bound that keeps an endless
     * or absurd file from exhausting memory before any decoder sees it. */
    uint64_t px = resolve_max_pixels(max_pixels), max_bytes = UINT64_MAX;
    if (px <= (UINT64_MAX - IO_METADATA_SLACK) / IO_BYTES_PER_PIXEL_BOUND)
        max_bytes = px * IO_BYTES_PER_PIXEL_BOUND + IO_METADATA_SLACK;
    cartoon_status st = ct_read_file(path, max_bytes, &data, &size, &e);
    if (st != CARTOON_OK) return st;
    st = decode_bytes(data, size, max_pixels, out, &e);
    free(data);
    if (st != CARTOON_OK && err && err_size) {
        /* Name the file in the decoder's message. */
        char msg[512];
        snprintf(msg, sizeof msg, "%s", err);
        ct_fail(&e, st, "%s: %s", path, msg);
    }
    return st;
}

void cartoon_image_free(cartoon_image *img)
{
    if (!img) return;
    free(img->data);
    memset(img, 0, sizeof *img);
}

/* ------------------------------------------------------------------ encoding */

void cartoon_write_options_default(cartoon_write_options *opt)
{
    if (!opt) return;
    opt->quality = 90;
    opt->lossless = 0;
    /* level 4: on a 2048x2048 cartoon 2.1x faster to write than zlib's default 6, for a file
     * 3% larger (measured, see docs/performance.md) */
    opt->png_compression = 4;
}

static cartoon_status check_image(const cartoon_image *img, ct_err *e)
{
    if (!img) return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "image is NULL");
    if (!img->data) return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "image data is NULL");
    int ch = ct_io_channels(img->format);
    if (!ch) return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "image pixel format %d is invalid",
                            (int)img->format);
    if (img->width <= 0 || img->height <= 0)
        return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "image size %dx%d is not positive",
                       img->width, img->height);
    size_t row, span;
    if (!ct_mul_size((size_t)img->width, (size_t)ch, &row))
        return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "image width %d overflows", img->width);
    if (img->stride < row)
        return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "image stride %zu is below width*channels %zu",
                       img->stride, row);
    /* The last row's end must be addressable. */
    if (!ct_mul_size(img->stride, (size_t)img->height - 1, &span) || !ct_add_size(span, row, &span))
        return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "image of stride %zu x %d rows overflows",
                       img->stride, img->height);
    return CARTOON_OK;
}

static cartoon_status check_options(const cartoon_write_options *opt, ct_err *e)
{
    if (opt->quality < 1 || opt->quality > 100)
        return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "quality %d is outside 1..100", opt->quality);
    if (opt->png_compression < 0 || opt->png_compression > 9)
        return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "png_compression %d is outside 0..9",
                       opt->png_compression);
    return CARTOON_OK;
}

static cartoon_status encode_to(const cartoon_image *img, cartoon_file_format fmt,
                                const cartoon_write_options *opt, ct_bytes *out, ct_err *e)
{
    cartoon_write_options defaults;
    if (!opt) {
        cartoon_write_options_default(&defaults);
        opt = &defaults;
    }
    cartoon_status st = check_image(img, e);
    if (st == CARTOON_OK) st = check_options(opt, e);
    if (st != CARTOON_OK) return st;
    switch (fmt) {
    case CARTOON_FILE_PNG: st = ct_png_encode(img, opt, out, e); break;
    case CARTOON_FILE_JPEG: st = ct_jpeg_encode(img, opt, out, e); break;
    case CARTOON_FILE_WEBP: st = ct_webp_encode(img, opt, out, e); break;
    default:
        return ct_fail(e, CARTOON_E_INVALID_ARGUMENT, "file format %d is not one to encode",
                       (int)fmt);
    }
    if (st != CARTOON_OK) {
        free(out->data);
        memset(out, 0, sizeof *out);
    }
    return st;
}

cartoon_status cartoon_image_encode(const cartoon_image *img, cartoon_file_format fmt,
                                    const cartoon_write_options *opt, unsigned char **out,
                                    size_t *out_size, char *err, size_t err_size)
{
    ct_err e = {err, err_size};
    if (err && err_size) err[0] = '\0';
    if (out) *out = NULL;
    if (out_size) *out_size = 0;
    if (!out || !out_size)
        return ct_fail(&e, CARTOON_E_INVALID_ARGUMENT, "cartoon_image_encode: out or out_size is NULL");
    ct_bytes b = {0};
    cartoon_status st = encode_to(img, fmt, opt, &b, &e);
    if (st != CARTOON_OK) return st;
    *out = b.data;
    *out_size = b.size;
    return CARTOON_OK;
}

cartoon_status cartoon_image_write(const char *path, const cartoon_image *img,
                                   cartoon_file_format fmt, const cartoon_write_options *opt,
                                   char *err, size_t err_size)
{
    ct_err e = {err, err_size};
    if (err && err_size) err[0] = '\0';
    if (!path || !*path)
        return ct_fail(&e, CARTOON_E_INVALID_ARGUMENT, "cartoon_image_write: path is NULL or empty");
    const char *slash = strrchr(path, '/');
    if (slash && slash[1] == '\0')
        return ct_fail(&e, CARTOON_E_INVALID_ARGUMENT, "%s: path names a directory", path);
    if (fmt == CARTOON_FILE_AUTO) {
        fmt = cartoon_file_format_from_path(path);
        if (fmt == CARTOON_FILE_AUTO)
            return ct_fail(&e, CARTOON_E_INVALID_ARGUMENT,
                           "%s: unknown extension (use .png, .jpg, .jpeg or .webp)", path);
    }
    ct_bytes b = {0};
    cartoon_status st = encode_to(img, fmt, opt, &b, &e);
    if (st != CARTOON_OK) return st;
    st = ct_write_file_atomic(path, b.data, b.size, &e);
    free(b.data);
    return st;
}
