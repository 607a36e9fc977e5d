/* WebP through libwebp's advanced API, which reports status codes, decodes straight into our
 * buffer and lets the encoder keep exact RGB under transparent pixels when lossless. */
#include "image_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>
#include <webp/encode.h>

static const char *webp_status_text(VP8StatusCode s)
{
    switch (s) {
    case VP8_STATUS_OK: return "ok";
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "corrupt bitstream";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_SUSPENDED: return "decoding suspended";
    case VP8_STATUS_USER_ABORT: return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "truncated file (not enough data)";
    }
    return "unknown error";
}

static cartoon_status webp_status(VP8StatusCode s)
{
    return s == VP8_STATUS_OUT_OF_MEMORY ? CARTOON_E_OUT_OF_MEMORY : CARTOON_E_BAD_IMAGE;
}

cartoon_status ct_webp_decode(const unsigned char *data, size_t size, uint64_t max_pixels,
                              cartoon_image *out, ct_err *e)
{
    WebPDecoderConfig cfg;
    if (!WebPInitDecoderConfig(&cfg))
        return ct_fail(e, CARTOON_E_INTERNAL, "WebP: libwebp version mismatch");
    VP8StatusCode s = WebPGetFeatures(data, size, &cfg.input);
    if (s != VP8_STATUS_OK)
        return ct_fail(e, webp_status(s), "WebP: %s", webp_status_text(s));
    if (cfg.input.has_animation)
        return ct_fail(e, CARTOON_E_BAD_IMAGE, "WebP: animated files are not supported");
    const int channels = cfg.input.has_alpha ? 4 : 3;
    size_t bytes;
    cartoon_status st = ct_io_check_dims(cfg.input.width > 0 ? (uint64_t)cfg.input.width : 0,
                                         cfg.input.height > 0 ? (uint64_t)cfg.input.height : 0,
                                         channels, max_pixels, "WebP", &bytes, e);
    if (st == CARTOON_OK) st = ct_io_alloc_image(out, cfg.input.width, cfg.input.height, channels, e);
    if (st != CARTOON_OK) return st;

    cfg.output.colorspace = channels == 4 ? MODE_RGBA : MODE_RGB;
    cfg.output.is_external_memory = 1;
    cfg.output.u.RGBA.rgba = out->data;
    cfg.output.u.RGBA.stride = (int)out->stride; /* <= 16383 * 4 by the format */
    cfg.output.u.RGBA.size = bytes;
    s = WebPDecode(data, size, &cfg);
    WebPFreeDecBuffer(&cfg.output);
    if (s != VP8_STATUS_OK) {
        free(out->data);
        memset(out, 0, sizeof *out);
        return ct_fail(e, webp_status(s), "WebP: %s", webp_status_text(s));
    }
    return CARTOON_OK;
}

/* ------------------------------------------------------------------ encoding */

static const char *webp_enc_error_text(WebPEncodingError err)
{
    switch (err) {
    case VP8_ENC_OK: return "ok";
    case VP8_ENC_ERROR_OUT_OF_MEMORY: return "out of memory";
    case VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY: return "out of memory for the bitstream";
    case VP8_ENC_ERROR_NULL_PARAMETER: return "null parameter";
    case VP8_ENC_ERROR_INVALID_CONFIGURATION: return "invalid configuration";
    case VP8_ENC_ERROR_BAD_DIMENSION: return "bad dimension";
    case VP8_ENC_ERROR_PARTITION0_OVERFLOW: return "partition 0 overflow";
    case VP8_ENC_ERROR_PARTITION_OVERFLOW: return "partition overflow";
    case VP8_ENC_ERROR_BAD_WRITE: return "write failed (out of memory)";
    case VP8_ENC_ERROR_FILE_TOO_BIG: return "file too big";
    case VP8_ENC_ERROR_USER_ABORT: return "aborted";
    case VP8_ENC_ERROR_LAST: break;
    }
    return "unknown error";
}

static int webp_write_cb(const uint8_t *data, size_t size, const WebPPicture *pic)
{
    return ct_bytes_append(pic->custom_ptr, data, size);
}

static int webp_import(WebPPicture *pic, const cartoon_image *img)
{
    const int stride = (int)img->stride;
    switch (img->format) {
    case CARTOON_PIXEL_RGB: return WebPPictureImportRGB(pic, img->data, stride);
    case CARTOON_PIXEL_BGR: return WebPPictureImportBGR(pic, img->data, stride);
    case CARTOON_PIXEL_RGBA: return WebPPictureImportRGBA(pic, img->data, stride);
    case CARTOON_PIXEL_BGRA: return WebPPictureImportBGRA(pic, img->data, stride);
    }
    return 0;
}

static cartoon_status webp_config(WebPConfig *cfg, const cartoon_write_options *opt, ct_err *e)
{
    if (!WebPConfigInit(cfg)) return ct_fail(e, CARTOON_E_INTERNAL, "WebP: libwebp version mismatch");
    if (opt->lossless) {
        cfg->lossless = 1;
        cfg->exact = 1; /* lossless means every byte back, RGB under alpha 0 included */
    } else {
        cfg->quality = (float)opt->quality;
    }
    if (!WebPValidateConfig(cfg)) return ct_fail(e, CARTOON_E_INTERNAL, "WebP: invalid configuration");
    return CARTOON_OK;
}

cartoon_status ct_webp_encode(const cartoon_image *img, const cartoon_write_options *opt,
                              ct_bytes *out, ct_err *e)
{
    if (img->width > WEBP_MAX_DIMENSION || img->height > WEBP_MAX_DIMENSION)
        return ct_fail(e, CARTOON_E_LIMIT, "WebP: %dx%d exceeds the format's %d pixels a side",
                       img->width, img->height, WEBP_MAX_DIMENSION);
    if (img->stride > INT_MAX)
        return ct_fail(e, CARTOON_E_LIMIT, "WebP: stride %zu is too large for libwebp", img->stride);
    WebPConfig cfg;
    cartoon_status st = webp_config(&cfg, opt, e);
    if (st != CARTOON_OK) return st;
    WebPPicture pic;
    if (!WebPPictureInit(&pic)) return ct_fail(e, CARTOON_E_INTERNAL, "WebP: libwebp version mismatch");
    pic.width = img->width;
    pic.height = img->height;
    pic.use_argb = cfg.lossless; /* lossless works on ARGB, lossy on YUV: avoid a conversion */
    pic.writer = webp_write_cb;
    pic.custom_ptr = out;
    if (!webp_import(&pic, img)) {
        WebPPictureFree(&pic);
        return ct_fail(e, CARTOON_E_OUT_OF_MEMORY, "WebP: cannot import the picture");
    }
    int ok = WebPEncode(&cfg, &pic);
    WebPEncodingError err = pic.error_code;
    WebPPictureFree(&pic);
    if (!ok) {
        int oom = err == VP8_ENC_ERROR_OUT_OF_MEMORY || err == VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY ||
                  err == VP8_ENC_ERROR_BAD_WRITE;
        return ct_fail(e, oom ? CARTOON_E_OUT_OF_MEMORY : CARTOON_E_INTERNAL, "WebP: %s",
                       webp_enc_error_text(err));
    }
    return CARTOON_OK;
}
