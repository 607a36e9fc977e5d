/* Shared pieces of the image file codecs (image_io.c, image_png.c, image_jpeg.c, image_webp.c). */
#ifndef CARTOON_IMAGE_INTERNAL_H
#define CARTOON_IMAGE_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "cartoon_io.h"
#include "errors.h"

/* Bytes per pixel of a format, 0 when invalid. Local to the codecs so that they do not depend
 * on the rest of the library being linked. */
static inline int ct_io_channels(cartoon_pixel_format f)
{
    switch (f) {
    case CARTOON_PIXEL_RGB: case CARTOON_PIXEL_BGR: return 3;
    case CARTOON_PIXEL_RGBA: case CARTOON_PIXEL_BGRA: return 4;
    }
    return 0;
}

static inline int ct_io_is_bgr(cartoon_pixel_format f)
{
    return f == CARTOON_PIXEL_BGR || f == CARTOON_PIXEL_BGRA;
}

/*
 * Validates decoded dimensions against the pixel budget and the int fields of cartoon_image,
 * and gives the byte size of a packed buffer of that many channels. max_pixels is already
 * resolved (never 0). Fails with BAD_IMAGE for zero sizes and LIMIT for too large ones.
 */
cartoon_status ct_io_check_dims(uint64_t width, uint64_t height, int channels,
                                uint64_t max_pixels, const char *what, size_t *bytes, ct_err *e);

/* Allocates a packed RGB/RGBA image of checked dimensions into *out. */
cartoon_status ct_io_alloc_image(cartoon_image *out, int width, int height, int channels,
                                 ct_err *e);

/* Growable output buffer for the encoders; data is malloc'd so callers free() it. */
typedef struct ct_bytes {
    unsigned char *data;
    size_t size, cap;
} ct_bytes;

/* Appends n bytes; 0 when the size overflows or memory runs out (buffer left as it was). */
int ct_bytes_append(ct_bytes *b, const void *src, size_t n);

/* Codec entry points. Decoders receive a resolved max_pixels and produce packed RGB or RGBA;
 * encoders receive an image and options already validated by image_io.c. */
cartoon_status ct_png_decode(const unsigned char *data, size_t size, uint64_t max_pixels,
                             cartoon_image *out, ct_err *e);
cartoon_status ct_jpeg_decode(const unsigned char *data, size_t size, uint64_t max_pixels,
                              cartoon_image *out, ct_err *e);
cartoon_status ct_webp_decode(const unsigned char *data, size_t size, uint64_t max_pixels,
                              cartoon_image *out, ct_err *e);

cartoon_status ct_png_encode(const cartoon_image *img, const cartoon_write_options *opt,
                             ct_bytes *out, ct_err *e);
cartoon_status ct_jpeg_encode(const cartoon_image *img, const cartoon_write_options *opt,
                              ct_bytes *out, ct_err *e);
cartoon_status ct_webp_encode(const cartoon_image *img, const cartoon_write_options *opt,
                              ct_bytes *out, ct_err *e);
#endif
