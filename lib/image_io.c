/* Image files: format detection, read/decode dispatch, encode dispatch and atomic writes.
 * The codecs themselves live in image_png.c, image_jpeg.c and image_webp.c. */
#include "image_internal.h"

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

/* Message of an errno value without strerror()'s shared buffer. */
static const char *errno_text(int errnum, char *buf, size_t size)
{
#if defined(_GNU_SOURCE)
    return strerror_r(errnum, buf, size);
#else
    if (strerror_r(errnum, buf, size) != 0) snprintf(buf, size, "error %d", errnum);
    return buf;
#endif
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

/* Reads a whole file into memory, refusing files larger than any image within the limit
 * could need. Works for non-regular files too (no reliance on st_size). */
static cartoon_status read_whole_file(const char *path, uint64_t max_pixels, unsigned char **out,
                                      size_t *out_size, ct_err *e)
{
    char ebuf[128];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ct_fail(e, CARTOON_E_IO, "cannot open %s: %s", path,
                       errno_text(errno, ebuf, sizeof ebuf));
    uint64_t max_bytes = UINT64_MAX;
    if (max_pixels <= (UINT64_MAX - IO_METADATA_SLACK) / IO_BYTES_PER_PIXEL_BOUND)
        max_bytes = max_pixels * IO_BYTES_PER_PIXEL_BOUND + IO_METADATA_SLACK;

    struct stat st;
    size_t cap = 64 * 1024;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0) {
        if ((uint64_t)st.st_size > max_bytes) {
            close(fd);
            return ct_fail(e, CARTOON_E_LIMIT, "%s: file of %lld bytes is larger than any image "
                           "within the pixel limit", path, (long long)st.st_size);
        }
        if ((uint64_t)st.st_size < SIZE_MAX) cap = (size_t)st.st_size + 1; /* +1 sees EOF at once */
    }
    unsigned char *buf = malloc(cap);
    size_t n = 0;
    cartoon_status status = CARTOON_OK;
    if (!buf) status = ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes", path, cap);
    while (status == CARTOON_OK) {
        if (n == cap) {
            size_t ncap;
            unsigned char *p = NULL;
            if (ct_mul_size(cap, 2, &ncap)) p = realloc(buf, ncap);
            if (!p) { status = ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "%s: file too large for memory", path); break; }
            buf = p;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            status = ct_fail(e, CARTOON_E_IO, "cannot read %s: %s", path,
                             errno_text(errno, ebuf, sizeof ebuf));
            break;
        }
        if (r == 0) break;
        n += (size_t)r;
        if ((uint64_t)n > max_bytes)
            status = ct_fail(e, CARTOON_E_LIMIT, "%s: file is larger than any image within the "
                             "pixel limit", path);
    }
    close(fd);
    if (status != CARTOON_OK) { free(buf); return status; }
    *out = buf;
    *out_size = n;
    return CARTOON_OK;
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
    cartoon_status st = read_whole_file(path, resolve_max_pixels(max_pixels), &data, &size, &e);
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

/* ------------------------------------------------------------------ atomic write */

/* Mode for a new file as open(..., 0666) would give it. umask() cannot be read without
 * setting it (racy across threads), so Linux's /proc view is used, 0644 failing that. */
static mode_t new_file_mode(void)
{
    mode_t mask = 022;
    FILE *f = fopen("/proc/self/status", "re");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            unsigned m;
            if (sscanf(line, "Umask: %o", &m) == 1) { mask = (mode_t)(m & 0777); break; }
        }
        fclose(f);
    }
    return (mode_t)(0666 & ~mask);
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* "DIR/.NAME.XXXXXX" next to path, so that rename() stays within one file system. */
static char *temp_template(const char *path, char **dir_out)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t dir_len = slash ? (size_t)(slash - path) : 0;
    size_t base_len = strlen(base), n;
    if (!ct_add_size(dir_len, base_len, &n) || !ct_add_size(n, 16, &n)) return NULL;
    char *tmpl = malloc(n), *dir = malloc(dir_len + 2);
    if (!tmpl || !dir) { free(tmpl); free(dir); return NULL; }
    if (slash) {
        memcpy(dir, path, dir_len);
        dir[dir_len] = '\0';
        if (dir_len == 0) strcpy(dir, "/");
        snprintf(tmpl, n, "%.*s/.%s.XXXXXX", (int)dir_len, path, base);
    } else {
        strcpy(dir, ".");
        snprintf(tmpl, n, ".%s.XXXXXX", base);
    }
    *dir_out = dir;
    return tmpl;
}

/* Makes the rename itself durable; failure here does not undo a completed write. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

static cartoon_status write_atomically(const char *path, const unsigned char *data, size_t size,
                                       ct_err *e)
{
    char ebuf[128];
    char *dir = NULL;
    char *tmp = temp_template(path, &dir);
    if (!tmp) return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "%s: cannot build a temporary name", path);

    /* Keep an existing file's permissions; otherwise behave like a plain create. */
    struct stat st;
    mode_t mode = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (st.st_mode & 07777)
                                                               : new_file_mode();
    cartoon_status status = CARTOON_OK;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        status = ct_fail(e, CARTOON_E_IO, "%s: cannot create a temporary file: %s", path,
                         errno_text(errno, ebuf, sizeof ebuf));
        goto done;
    }
    const char *step = NULL;
    if (write_all(fd, data, size) != 0) step = "write";
    else if (fchmod(fd, mode) != 0) step = "chmod";
    else if (fsync(fd) != 0) step = "fsync";
    int saved = errno;
    if (close(fd) != 0 && !step) { step = "close"; saved = errno; }
    if (!step && rename(tmp, path) != 0) { step = "rename"; saved = errno; }
    if (step) {
        unlink(tmp);
        status = ct_fail(e, CARTOON_E_IO, "%s: %s failed: %s", path, step,
                         errno_text(saved, ebuf, sizeof ebuf));
        goto done;
    }
    sync_dir(dir);
done:
    free(tmp);
    free(dir);
    return status;
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
    st = write_atomically(path, b.data, b.size, &e);
    free(b.data);
    return st;
}
