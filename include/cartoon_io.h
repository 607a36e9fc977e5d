/*
 * libcartoon image files: PNG (libpng), JPEG (libjpeg-turbo, EXIF orientation applied through
 * libexif) and WebP (libwebp), decoded to and encoded from 8-bit cartoon_image buffers.
 *
 * Decoded images are RGB or RGBA (RGBA when the file has alpha: PNG alpha or tRNS, WebP alpha).
 * 16-bit PNG samples are reduced to 8 bits; grey and palette images are expanded to RGB(A).
 * Every decoder checks sizes against max_pixels before allocating, and refuses truncated or
 * corrupt data with CARTOON_E_BAD_IMAGE and a message; nothing here prints or exits.
 * All calls are thread-safe (no shared state).
 */
#ifndef CARTOON_IO_H
#define CARTOON_IO_H

#include "cartoon.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cartoon_file_format {
    CARTOON_FILE_AUTO = 0, /* reading: sniff the bytes; writing: from the path's extension */
    CARTOON_FILE_PNG = 1,
    CARTOON_FILE_JPEG = 2,
    CARTOON_FILE_WEBP = 3
} cartoon_file_format;

/* Format named by a path's extension (.png, .jpg/.jpeg, .webp; case-insensitive), or AUTO
 * when unknown. */
CARTOON_API cartoon_file_format cartoon_file_format_from_path(const char *path);
/* Format of encoded bytes by their signature, or AUTO when unknown. */
CARTOON_API cartoon_file_format cartoon_file_format_sniff(const void *data, size_t size);

/*
 * Decodes an image file / buffer into a new buffer.
 *   max_pixels  0 = CARTOON_DEFAULT_MAX_PIXELS; larger images give CARTOON_E_LIMIT before any
 *               pixel buffer is allocated.
 *   out         on success data is malloc'd (free with cartoon_image_free), format RGB or RGBA,
 *               stride = width * channels. Zeroed on failure.
 *   err         optional buffer for the detailed message.
 * JPEG EXIF orientation (1..8) is applied, so the result is upright.
 * Errors: INVALID_ARGUMENT, IO (cannot open/read), BAD_IMAGE (unknown type, truncated,
 * corrupt), LIMIT, OUT_OF_MEMORY.
 */
CARTOON_API cartoon_status cartoon_image_read(const char *path, uint64_t max_pixels,
                                              cartoon_image *out, char *err, size_t err_size);
CARTOON_API cartoon_status cartoon_image_decode(const void *data, size_t size, uint64_t max_pixels,
                                                cartoon_image *out, char *err, size_t err_size);

/* Frees data of an image from cartoon_image_read/decode and zeroes it. NULL is a no-op. */
CARTOON_API void cartoon_image_free(cartoon_image *img);

typedef struct cartoon_write_options {
    int quality;  /* JPEG and lossy WebP, 1..100; default 90 */
    int lossless; /* WebP: 1 = lossless; default 0 */
    int png_compression; /* zlib level 0..9; default 4 */
} cartoon_write_options;

CARTOON_API void cartoon_write_options_default(cartoon_write_options *opt);

/*
 * Encodes img (any cartoon_pixel_format) into a malloc'd buffer *out of *out_size bytes
 * (free with free()). JPEG has no alpha: alpha is dropped. fmt may not be AUTO.
 */
CARTOON_API cartoon_status cartoon_image_encode(const cartoon_image *img, cartoon_file_format fmt,
                                                const cartoon_write_options *opt,
                                                unsigned char **out, size_t *out_size,
                                                char *err, size_t err_size);

/*
 * Writes img to path atomically: encodes to memory, writes a temporary file in the same
 * directory, fsyncs it and renames it over path. On any failure path is left untouched (an
 * existing file keeps its content) and the temporary file is removed.
 * fmt AUTO = from the extension (unknown extension: INVALID_ARGUMENT). opt NULL = defaults.
 */
CARTOON_API cartoon_status cartoon_image_write(const char *path, const cartoon_image *img,
                                               cartoon_file_format fmt,
                                               const cartoon_write_options *opt,
                                               char *err, size_t err_size);

#ifdef __cplusplus
}
#endif
#endif /* CARTOON_IO_H */
